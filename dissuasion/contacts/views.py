"""The contact form (劝阻记录) and the case's outcome actions: close, a lead's approval, reopen. Thin views."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from ..cases.lifecycle import LifecycleError, StaleCase, approve_close, check_version, close_without_contact
from ..cases.models import Case
from ..cases.scoping import case_or_404
from ..cases.views import CASE_ROLES, NO_STORE, send_back
from ..core.decorators import roles_required
from ..core.enums import AppStatus, CaseStatus, FailureReason, FollowUpStatus, FraudType, Method, Outcome, Reached
from ..core.filters import fmt_time
from ..core.formdata import choice, whole
from ..core.timeutil import local, now
from ..core.urls import local_path
from ..extensions import db
from .operations import log_contact, reopen
from .validation import InputError, parse_contact

bp = Blueprint("contacts", __name__, url_prefix="/cases")
STALE = _("任务刚被他人更新，请查看最新情况后再提交。")
CHOICES = {"method": Method, "reached": Reached, "failure_reason": FailureReason, "outcome": Outcome,
           "app": AppStatus, "fraud_type": FraudType}


def _to_case(case_id: int):
    return redirect(url_for("cases.detail", case_id=case_id))


@bp.route("/<int:case_id>/contact", methods=["GET", "POST"])
@roles_required(*CASE_ROLES)
def contact(case_id: int):
    """Log a contact: 再次联系 keeps the case open, 办结 closes it with the outcome; errors keep what was typed."""
    loads = (joinedload(Case.person), joinedload(Case.rule)) if request.method == "POST" else (joinedload(Case.person),)
    case = case_or_404(current_user, case_id, *loads)  # (a contact applies its tier's rule: read with the case)
    followup = _followup(case, request.values.get("followup", type=whole))
    values = dict(request.form) if request.method == "POST" else {
        "method": (followup or case).method.value, "contacted_at": local(now()).strftime("%Y-%m-%dT%H:%M"),
        "version": case.version}
    errors, message = {}, None
    closed = closed_notice(case)
    if request.method == "POST" and closed and (request.form.get("action") == "close" or not case.in_watch()):
        message = closed  # say plainly what happened to it, not "fix the marked fields"
    elif request.method == "POST":
        closing = request.form.get("action") == "close"
        try:
            log_contact(case, parse_contact(request.form, closing), current_user, close=closing,
                        version=request.form.get("version"), followup=followup)
            db.session.commit()
        except InputError as exc:
            db.session.rollback()
            errors, message = exc.fields, str(exc)
        except (LifecycleError, StaleDataError) as exc:
            db.session.rollback()
            message = STALE if isinstance(exc, StaleDataError) else str(exc)
            if isinstance(exc, StaleCase | StaleDataError):
                values["version"] = case.version  # they have now seen what changed; a resubmit may go through
        else:
            flash(_("已办结。") if closing else (_("已登记回访。") if followup else _("已保存劝阻记录。")), "success")
            target = request.form.get("next")  # back to 我的任务 when the 回访 was recorded from there
            if path := local_path(target):
                return redirect(path)
            return _to_case(case_id)  # (case.id would reload it)
    return render_template("contacts/form.html", case=case, values=values, errors=errors, message=message,
                           closed=closed, followup=followup, next=request.values.get("next", ""),
                           choices={k: e.choices() for k, e in CHOICES.items()}), 400 if message else 200, NO_STORE


def _followup(case, followup_id: int | None):
    """The pending follow-up this contact is recorded against (登记回访 from 我的任务 or the case page)."""
    if followup_id is None:
        return None
    return next((f for f in case.followups if f.id == followup_id and f.status == FollowUpStatus.PENDING), None)


def closed_notice(case) -> str | None:
    """For a case no longer open: that it is closed, and what can still be done with it."""
    if case.is_open:
        return None
    when = fmt_time(case.closed_at) if case.closed_at else ""
    if case.status == CaseStatus.UNREACHABLE:
        return _("此任务已于 %(at)s 以“无法联系”结束，不能再登记劝阻记录或办结。"
                 "找到新的联系方式时，请所领导在任务页“重新启用”。", at=when)
    if case.status == CaseStatus.TRANSFERRED:
        return _("此任务已移交其他派出所，由接收派出所继续办理，这里不能再登记。")
    if case.in_watch():
        return _("此任务已于 %(at)s 办结（%(outcome)s），不能再办结；关注期内（至 %(until)s）仍可在此登记回访。",
                 at=when, outcome=case.outcome.label if case.outcome else "", until=fmt_time(case.watch_until))
    return _("此任务已于 %(at)s 办结（%(outcome)s），不能再登记劝阻记录或办结。此人30天内再有预警会自动重新启用；"
             "如需补充情况，请联系所领导。", at=when, outcome=case.outcome.label if case.outcome else "")


def _attempt(case, form: str, operation, *args, done: str):
    try:
        check_version(case, request.form.get("version"))
        operation(*args)
        db.session.commit()
    except (LifecycleError, StaleDataError) as exc:
        db.session.rollback()
        return send_back(case, form, {"": STALE if isinstance(exc, StaleDataError) else str(exc)})
    flash(done, "success")
    return _to_case(case.id)


@bp.post("/<int:case_id>/close")
@roles_required(*CASE_ROLES)
def close(case_id: int):
    """办结 without a new contact (e.g. 误报 found out from the center), with an outcome and a reason."""
    case = case_or_404(current_user, case_id)
    outcome = choice(request.form, "outcome", Outcome, errors := {}, _("请选择处置结果。"))
    if errors:
        return send_back(case, "close", errors)
    return _attempt(case, "close", close_without_contact, case, outcome, current_user, request.form.get("reason", ""),
                    done=_("已办结。"))


@bp.post("/<int:case_id>/approve-close")
@roles_required(*CASE_ROLES)
def approve(case_id: int):
    """A lead approves closing a 特高危/高 case without a 面见 contact, with a reason."""
    case = case_or_404(current_user, case_id)
    return _attempt(case, "approve", approve_close, case, request.form.get("reason", ""), current_user,
                    done=_("已批准未面见办结。"))


@bp.post("/<int:case_id>/reopen")
@roles_required(*CASE_ROLES)
def reopen_case(case_id: int):
    """A lead reopens a case given up as 无法联系."""
    case = case_or_404(current_user, case_id)
    return _attempt(case, "reopen", reopen, case, request.form.get("reason", ""), current_user, done=_("已重新启用。"))
