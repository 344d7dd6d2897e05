"""The 工作总结 page: the draft made from the data for a week, a month or any span, edited on the page, then
exported as .docx (the edited text) or printed. Center: the county and every precinct; lead: own precinct."""
from __future__ import annotations

import datetime as dt

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.decorators import roles_required
from ..core.enums import Role
from ..core.timeutil import local, now, typed_day
from ..extensions import db
from .operations import export_summary
from .queries import may_read_report, precinct_by_code, reportable_precincts
from .summary import draft_text, summary_figures
from .views import READERS, bp

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
#: The longest text the export takes (a summary is one or two pages).
MAX_TEXT = 20_000
MAX_DAYS = 366


def _spans() -> dict[str, tuple[dt.date, dt.date]]:
    """The quick choices: last week, this month so far, last month."""
    today = local(now()).date()
    monday = today - dt.timedelta(days=today.weekday())
    first_of_month = today.replace(day=1)
    last_month_end = first_of_month - dt.timedelta(days=1)
    return {"last_week": (monday - dt.timedelta(days=7), monday - dt.timedelta(days=1)),
            "this_month": (first_of_month, today), "last_month": (last_month_end.replace(day=1), last_month_end)}


def _target(source) -> tuple[dt.date, dt.date, object]:
    """The days and the precinct asked for; 404 for a precinct out of reach, a flash for days that cannot be read."""
    code = source.get("precinct") or (None if current_user.role == Role.CENTER else current_user.precinct.code)
    precinct = precinct_by_code(code)
    if (code and precinct is None) or not may_read_report(current_user, precinct):
        abort(404)
    first, last = _spans()["last_week"]
    if source.get("from") or source.get("to"):
        try:
            first, last = typed_day(source.get("from", "")), typed_day(source.get("to", ""))
        except ValueError:
            flash(_("请填写开始和结束日期（如 2026-11-16）。"), "error")
        else:
            if last < first or (last - first).days >= MAX_DAYS:
                flash(_("结束日期不能早于开始日期，期间最长一年。"), "error")
                first, last = _spans()["last_week"]
    return first, last, precinct


@bp.route("/summary")
@roles_required(*READERS)
def summary():
    """The draft of the 工作总结 for the period, beside the figures it was made from."""
    first, last, precinct = _target(request.args)
    figures = summary_figures(first, last, precinct, user=current_user)
    return render_template("reports/summary.html", figures=figures, text=draft_text(figures), first=first,
                           last=last, precinct=precinct, precincts=reportable_precincts(current_user),
                           spans=_spans())


@bp.post("/summary.docx")
@roles_required(*READERS)
def summary_export():
    """The text as the user left it on the page, as .docx; audited."""
    first, last, precinct = _target(request.form)
    text = request.form.get("text", "").strip()
    if not text or len(text) > MAX_TEXT:
        flash(_("总结正文不能为空，最多 %(n)d 字。", n=MAX_TEXT), "error")
        return redirect(url_for("reports.summary", **{"from": first.isoformat(), "to": last.isoformat(),
                                                      "precinct": precinct.code if precinct else ""}))
    figures = summary_figures(first, last, precinct, user=current_user)
    data = export_summary(text, figures, "docx", by=current_user)
    db.session.commit()
    name = f"summary-{first.isoformat()}-{last.isoformat()}-{precinct.code if precinct else 'county'}.docx"
    return Response(data, mimetype=DOCX, headers={"Content-Disposition": f"attachment; filename={name}"})
