"""The weekly report's 宣传防范 section: the publicity work of the week by precinct with the week before beside
it, and APP registrations from both sources (cases and activities). Its own functions, its own template block
(reports/_prevention.html) and its own sheets; the JSON carries it under the `prevention` key."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..core.enums import ActivityCount, ActivityKind
from ..directory.models import Precinct
from ..extensions import db
from ..prevention.queries import add_totals, app_registrations, empty_totals, local_days, totals_by_precinct
from .weeks import Period


def prevention_figures(period: Period, precinct_id: int | None = None, user=None) -> dict:
    """The totals of one period (whole local days): activities, by type, each count, and APP registrations
    {"cases", "activities", "total"}; for one precinct or the county, within the user's reach."""
    first, last = local_days(period.start, period.end)
    totals = add_totals(totals_by_precinct(first, last, user, precinct_id).values())
    return {**totals, "app": app_registrations(first, last, user, precinct_id)}


def _with_app(totals: dict, cases: int) -> dict:
    """Totals with APP registrations from both sources: the cases' (the report's own app_registrations) and the
    activities' (their app_registrations count)."""
    return {**totals, "app": {"cases": cases, "activities": totals["app_registrations"],
                              "total": cases + totals["app_registrations"]}}


def prevention_section(period: Period, previous: Period, precinct: Precinct | None = None, user=None,
                       case_app: tuple[int, int] = (0, 0)) -> dict:
    """The `prevention` key of the weekly report: this week, the week before, and each precinct's counts of both
    (the county's precincts, or the one precinct). `case_app` is the report's app_registrations of each week
    (metrics.app_registrations, counted once), which the APP totals add to the activities'."""
    precinct_id = precinct.id if precinct else None
    by_precinct = []
    weeks = [totals_by_precinct(*local_days(p.start, p.end), user, precinct_id) for p in (period, previous)]
    ids = set(weeks[0]) | set(weeks[1])
    if ids:
        names = {p.id: (p.code, p.name) for p in db.session.scalars(db.select(Precinct).where(Precinct.id.in_(ids)))}
        for pid in sorted(ids, key=lambda i: names[i][0]):
            by_precinct.append({"precinct": names[pid][0], "name": names[pid][1],
                                "current": weeks[0].get(pid, empty_totals()),
                                "previous": weeks[1].get(pid, empty_totals())})
    return {"current": _with_app(add_totals(weeks[0].values()), case_app[0]),
            "previous": _with_app(add_totals(weeks[1].values()), case_app[1]), "by_precinct": by_precinct}


def prevention_layout() -> list[tuple[str, str]]:
    """(key path, label) of the section's rows, in the order the page and the .xlsx show them."""
    rows = [("activities", str(_l("宣传活动（次）")))]
    rows += [(f"by_kind.{k.value}", f"{_l('宣传活动')} · {k.label}") for k in ActivityKind]
    rows += [(c.value, c.label) for c in ActivityCount]
    rows += [("app.cases", str(_l("注册反诈APP · 预警案件（人）"))),
             ("app.activities", str(_l("注册反诈APP · 宣传活动（人次）"))),
             ("app.total", str(_l("注册反诈APP · 合计")))]
    return rows


def _get(data: dict, path: str) -> int:
    for part in path.split("."):
        data = data[part]
    return data


def prevention_rows(report: dict) -> list[list]:
    """The section's rows: label, this week, the week before, the change."""
    section = report.get("prevention")
    if not section:
        return []
    rows = []
    for key, label in prevention_layout():
        now_, before = _get(section["current"], key), _get(section["previous"], key)
        rows.append([label, now_, before, now_ - before])
    return rows


def precinct_header() -> list[str]:
    cols = [str(_l("派出所")), str(_l("宣传活动（次）"))] + [c.label for c in ActivityCount]
    return [cols[0]] + [f"{c} {w}" for c in cols[1:] for w in (_l("本周"), _l("上周"))]


def precinct_rows(report: dict) -> list[list]:
    """Each precinct: every count this week and the week before, side by side."""
    keys = ["activities"] + [c.value for c in ActivityCount]
    return [[row["name"]] + [row[w][k] for k in keys for w in ("current", "previous")]
            for row in (report.get("prevention") or {}).get("by_precinct", [])]


def prevention_sheets(report: dict) -> list[tuple[str, list[str], list[list]]]:
    """The .xlsx sheets of the section (none for a stored report made before it existed)."""
    if not report.get("prevention"):
        return []
    header = [str(_l("宣传防范")), str(_l("本周")), str(_l("上周")), str(_l("变化"))]
    return [(str(_l("宣传防范")), header, prevention_rows(report)),
            (str(_l("宣传防范·各所")), precinct_header(), precinct_rows(report))]
