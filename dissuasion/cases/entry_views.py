"""录入预警 and 退回 pages: the hand-entry form (center and leads), the center's 退回 page, a lead's request to send a
case back. Thin: read the form, call one operation, commit, flash, redirect."""
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..core.decorators import roles_required
from ..core.enums import FraudType, Role, Tier, WarningSource
from ..core.timeutil import local, now
from ..directory.models import Precinct
from ..extensions import db
from . import queries, returns
from .entry import EntryError, enter_warning, in_reach, open_cases_of, parse_entry
from .models import EarlyWarning
from .scoping import case_or_404
from .views import NO_STORE

bp = Blueprint("entry", __name__)
ENTRY_ROLES = (Role.CENTER, Role.LEAD)


def _choices() -> dict:
    precincts = (list(db.session.scalars(select(Precinct).filter_by(active=True).order_by(Precinct.code)))
                 if current_user.role == Role.CENTER else [current_user.precinct])
    return {"source": [(s.value, s.label) for s in WarningSource.hand_entry()],
            "tier": [(t.value, t.label) for t in Tier], "fraud_type": FraudType.choices(),
            "precincts": [p for p in precincts if p is not None]}


@bp.route("/warnings/new", methods=["GET", "POST"])
@roles_required(*ENTRY_ROLES)
def new():
    """录入预警: 查找 shows the person's open case (masked, in reach) before saving; 保存 enters it."""
    values = dict(request.form) if request.method == "POST" else {
        "reported_at": local(now()).strftime("%Y-%m-%dT%H:%M")}
    errors, message, found = {}, None, None
    if request.method == "POST" and request.form.get("action") == "check":
        found = open_cases_of(current_user, values.get("id_number", ""), values.get("phone", ""),
                              values.get("name", "").strip())
        db.session.commit()  # the look is audited
    elif request.method == "POST":
        try:
            result = enter_warning(parse_entry(request.form, current_user), current_user)
            db.session.commit()
        except EntryError as exc:
            db.session.rollback()
            errors, message = exc.fields, str(exc)
        else:
            number, case = result.warning.warning_no, result.case
            flash(_("已录入预警 %(no)s，新建任务。", no=number) if result.case_created
                  else _("已录入预警 %(no)s，并入此人已有的任务。", no=number), "success")
            return redirect(url_for("cases.detail", case_id=case.id) if in_reach(current_user, case)
                            else url_for("entry.new"))
    return render_template("cases/entry.html", values=values, errors=errors, message=message, found=found,
                           choices=_choices()), 400 if message else 200, NO_STORE


@bp.post("/warnings/lookup")
@roles_required(*ENTRY_ROLES)
def lookup():
    """The form's check as it is typed (entry-form.js): the person's open cases in reach, as the form shows them."""
    found = open_cases_of(current_user, request.form.get("id_number", ""), request.form.get("phone", ""),
                          request.form.get("name", "").strip())
    db.session.commit()  # the look is audited
    return render_template("cases/_found.html", found=found), 200, NO_STORE


@bp.get("/warnings/returns")
@roles_required(Role.CENTER)
def returns_page():
    """The center's 退回 page: queue groups to mark 非本辖区, leads' requests, and what was sent back (undoable)."""
    return render_template("cases/returns.html", groups=queries.unrouted_groups(current_user),
                           requests=returns.return_requests(current_user),
                           returned=returns.returned_warnings(current_user),
                           returned_total=returns.returned_count(current_user))


def _to_returns():
    return redirect(url_for("entry.returns_page"))


@bp.post("/warnings/returns/group")
@roles_required(Role.CENTER)
def return_group():
    """Mark a whole group of the routing queue 非本辖区 (退回) with a reason."""
    text = request.form.get("precinct_text", "")
    try:
        sent, left = returns.return_group(current_user, text, request.form.get("reason", ""),
                                          current_app.config["ROUTE_AT_ONCE"])
        db.session.commit()
    except returns.ReturnError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _to_returns()
    message = _("已退回 %(n)d 件（非本辖区）。", n=sent)
    if left:
        message += _("还有 %(n)d 件未退回（已有劝阻记录的不能退回，或一次处理不完，请再点一次）。", n=left)
    flash(message, "success" if sent else "warning")
    return _to_returns()


@bp.post("/cases/<int:case_id>/return")
@roles_required(Role.CENTER)
def return_case(case_id: int):
    """退回 one case: from the queue, or one a lead asked to send back."""
    case = case_or_404(current_user, case_id)
    try:
        returns.return_cases([case], request.form.get("reason", ""), current_user)
        db.session.commit()
    except returns.ReturnError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for("cases.detail", case_id=case_id))
    flash(_("已退回（非本辖区），不再作为任务。"), "success")
    return _to_returns()


@bp.post("/warnings/<int:warning_id>/undo-return")
@roles_required(Role.CENTER)
def undo_return(warning_id: int):
    """Take a 退回 back: the warning goes to the routing queue again (or the person's open case)."""
    warning = db.get_or_404(EarlyWarning, warning_id)
    try:
        returns.undo_return(warning, current_user)
        db.session.commit()
    except returns.ReturnError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _to_returns()
    flash(_("已撤销退回：预警 %(no)s 回到待分派队列。", no=warning.warning_no), "success")
    return _to_returns()


@bp.post("/cases/<int:case_id>/request-return")
@roles_required(Role.LEAD)
def request_return(case_id: int):
    """A lead asks the center to take a case back (not their precinct's)."""
    case = case_or_404(current_user, case_id)
    try:
        returns.request_return(case, request.form.get("reason", ""), current_user)
        db.session.commit()
    except returns.ReturnError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(_("已申请退回中心；中心决定改派或退回前，任务仍由本所处理。"), "success")
    return redirect(url_for("cases.detail", case_id=case_id))
