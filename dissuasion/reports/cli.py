"""`flask report weekly` and `flask feedback` (SPEC "Fixed points"): the same report dict as the page and API."""
from __future__ import annotations

import datetime as dt
import json
import sys

import click
from flask.cli import AppGroup

from ..extensions import db
from .operations import export_feedback, export_report, export_summary
from .queries import compute_report, precinct_by_code, report_target
from .summary import draft_text, summary_figures
from .weeks import WeekError, days_period

report_cli = AppGroup("report", help="Weekly reports.")


@report_cli.command("weekly")
@click.option("--week", help="ISO week, e.g. 2026-W47 (default: the last complete week).")
@click.option("--precinct", "code", help="Precinct code (default: the county).")
@click.option("--format", "fmt", type=click.Choice(["json", "xlsx"]), default="json", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="File to write (default: stdout; required for xlsx).")
def report_weekly(week: str | None, code: str | None, fmt: str, out: str | None) -> None:
    """Compute a week's report for the county or a precinct and print or write it."""
    try:
        week, precinct = report_target(week, code)
    except WeekError as exc:
        raise click.BadParameter(str(exc), param_hint="--week") from exc
    except LookupError as exc:
        raise click.BadParameter(str(exc), param_hint="--precinct") from exc
    report = compute_report(week, precinct)
    if fmt == "json":
        text = json.dumps(report, ensure_ascii=False, indent=2) + "\n"
        _write(out, text.encode("utf-8"))
        return
    if not out:
        raise click.UsageError("--format xlsx 需要 --out 文件。")
    _write(out, export_report(report))
    db.session.commit()
    click.echo(f"已写入 {out}。")


@report_cli.command("summary")
@click.option("--from", "first", required=True, help="First day, e.g. 2026-11-16 (Asia/Shanghai).")
@click.option("--to", "last", required=True, help="Last day, included.")
@click.option("--precinct", "code", help="Precinct code (default: the county).")
@click.option("--format", "fmt", type=click.Choice(["docx", "txt"]), default="docx", show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The file to write.")
def report_summary(first: str, last: str, code: str | None, fmt: str, out: str) -> None:
    """The 工作总结 drafted from the data for a span of days (a week, a month, any range), as .docx or text."""
    try:
        first_day, last_day = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
        days_period(first_day, last_day)
    except (ValueError, WeekError) as exc:
        raise click.BadParameter(f"日期应为 2026-11-16 格式，结束不早于开始：{exc}") from exc
    precinct = precinct_by_code(code)
    if code and precinct is None:
        raise click.BadParameter(f"派出所代码 {code} 不在目录中。", param_hint="--precinct")
    figures = summary_figures(first_day, last_day, precinct)
    _write(out, export_summary(draft_text(figures), figures, fmt))
    db.session.commit()
    click.echo(f"已写入 {out}。")


@click.command("feedback")
@click.option("--from", "first", required=True, help="First day, e.g. 2026-11-16 (Asia/Shanghai).")
@click.option("--to", "last", required=True, help="Last day, included.")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The .xlsx file to write.")
def feedback(first: str, last: str, out: str) -> None:
    """Feedback to the center: one row per warning pushed in the period, as .xlsx."""
    try:
        period = days_period(dt.date.fromisoformat(first), dt.date.fromisoformat(last))
    except (ValueError, WeekError) as exc:
        raise click.BadParameter(f"日期应为 2026-11-16 格式，结束不早于开始：{exc}") from exc
    data, rows = export_feedback(period)
    _write(out, data)
    db.session.commit()
    click.echo(f"已写入 {out}：{rows} 条预警。")


def _write(out: str | None, data: bytes) -> None:
    if out:
        with open(out, "wb") as f:
            f.write(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


def init_app(app) -> None:
    for command in (report_cli, feedback):
        app.cli.add_command(command)
