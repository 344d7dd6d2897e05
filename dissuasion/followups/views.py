"""Officers add a follow-up to a case and move a pending one, from the case page. Thin views."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from ..cases.lifecycle import LifecycleError
from ..cases.scoping import case_or_404
from ..cases.views import CASE_ROLES, send_back
from ..core.decorators import roles_required
from ..core.enums import Method
from ..core.formdata import choice
from ..core.timeutil import typed_time
from ..extensions import db
from .models import FollowUp
from .operations import add_followup, move_followup

bp = Blueprint("followups", __name__, url_prefix="/cases")


@bp.app_template_global()
def followup_methods() -> list[tuple[str, str]]:
    """The methods the case page offers for a follow-up."""
    return Method.choices()


def _due_at(errors: dict) -> dt.datetime | None:
    """The time as typed on the case page (Asia/Shanghai, 2026-11-16T09:30)."""
    try:
        return typed_time(request.form.get("due_at", ""))
    except ValueError:
        errors["due_at"] = _("请填写回访时间，如 2026-11-16 09:30。")
        return None


def _attempt(case, form: str, operation, *args, done: str):
    try:
        operation(*args, current_user, version=request.form.get("version"))
        db.session.commit()
    except (LifecycleError, StaleDataError) as exc:
        db.session.rollback()
        return send_back(case, form, {"": _("任务刚被他人更新，请查看最新情况后再提交。")
                                      if isinstance(exc, StaleDataError) else str(exc)})
    flash(done, "success")
    return redirect(url_for("cases.detail", case_id=case.id))


@bp.post("/<int:case_id>/followups")
@roles_required(*CASE_ROLES)
def add(case_id: int):
    """Schedule a follow-up (自定回访) at a local time, by a method, with a note."""
    case = case_or_404(current_user, case_id)
    errors: dict[str, str] = {}
    due_at = _due_at(errors)
    method = choice(request.form, "method", Method, errors, _("请选择回访方式。"))
    if errors:
        return send_back(case, "followup", errors)
    return _attempt(case, "followup", add_followup, case, due_at, method, request.form.get("note", ""),
                    done=_("已安排回访。"))


@bp.post("/<int:case_id>/followups/<int:followup_id>/move")
@roles_required(*CASE_ROLES)
def move(case_id: int, followup_id: int):
    """Move a pending follow-up to another time."""
    case = case_or_404(current_user, case_id)
    followup = db.session.get(FollowUp, followup_id)
    if followup is None or followup.case_id != case.id:
        abort(404)
    errors: dict[str, str] = {}
    due_at = _due_at(errors)
    if errors:
        return send_back(case, f"move-{followup.id}", errors)
    return _attempt(case, f"move-{followup.id}", move_followup, followup, due_at, done=_("已调整回访时间。"))
