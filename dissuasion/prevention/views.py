"""The publicity log (宣传工作登记): the list with filters and its .xlsx, the phone-first form, and the admin's
APP registration targets. Thin: read through the scoping function, check, call one operation, commit."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.database import writes_on_get
from ..core.decorators import roles_required
from ..core.enums import ActivityCount, ActivityKind, Role
from ..core.formdata import choice, whole
from ..core.timeutil import local, now, typed_day
from ..extensions import db
from . import queries
from .exports import export_activities
from .operations import (
    MAX_TARGET,
    PreventionError,
    delete_activity,
    may_edit,
    may_record,
    record_activity,
    set_app_target,
    update_activity,
)
from .validation import ActivityError, parse_activity, whole_number

bp = Blueprint("prevention", __name__, url_prefix="/prevention")
READERS = (Role.OFFICER, Role.LEAD, Role.CENTER)
WRITERS = (Role.OFFICER, Role.LEAD)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _day(text: str | None) -> dt.date | None:
    try:
        return typed_day(text) if text else None
    except ValueError:
        return None


def _filters(args) -> queries.ActivityFilter:
    """The list's filters from the query string; a value that cannot be read is no filter."""
    kind = choice(args, "kind", ActivityKind, {})
    precinct_id = args.get("precinct", type=whole) if current_user.role == Role.CENTER else None
    return queries.ActivityFilter(kind=kind, precinct_id=precinct_id, community_id=args.get("community", type=whole),
                                  first=_day(args.get("from")), last=_day(args.get("to")))


def _communities():
    if current_user.precinct_id is not None:
        return queries.precinct_communities(current_user.precinct_id)
    return []


@bp.route("/")
@roles_required(*READERS)
def index():
    """The precinct's publicity work, newest first, with filters, the export and the APP registration progress."""
    args = {k: v for k, v in request.args.items() if k in ("kind", "precinct", "community", "from", "to") and v}
    page = request.args.get("page", 1, type=whole)
    filters = _filters(request.args)
    if filters.first and filters.last and filters.last < filters.first:
        flash(_("筛选的结束日期早于开始日期，没有符合的记录：请改一下日期。"), "warning")
    pagination = queries.activity_page(current_user, filters, page=page)
    return render_template("prevention/index.html", pagination=pagination, args=args, kinds=ActivityKind,
                           communities=_communities(), counts=ActivityCount, may_record=may_record(current_user),
                           may_edit=may_edit, precincts=queries.all_precincts() if current_user.role == Role.CENTER
                           else [])


@bp.route("/activities.xlsx")
@roles_required(*READERS)
@writes_on_get
def export():
    """The list as filtered, as .xlsx (audited)."""
    data = export_activities(queries.activity_rows(current_user, _filters(request.args)), current_user)
    db.session.commit()
    name = f"activities-{local(now()):%Y%m%d}.xlsx"
    return Response(data, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={name}"})


def _form(activity=None, values=None, errors=None, status=200):
    values = values if values is not None else {"held_on": local(now()).date().isoformat()}
    return render_template("prevention/form.html", activity=activity, values=values, errors=errors or {},
                           kinds=ActivityKind, counts=ActivityCount, communities=_communities()), status


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new():
    """登记宣传工作: the form; bad input comes back as typed, with what to fix beside each field."""
    if not may_record(current_user):
        abort(403)
    if request.method == "GET":
        return _form()
    try:
        record_activity(parse_activity(request.form, current_user.precinct), current_user)
    except ActivityError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _form(values=dict(request.form), errors=exc.fields, status=400)
    db.session.commit()
    flash(_("已登记宣传工作。"), "success")
    return redirect(url_for("prevention.index"))


def _values(activity) -> dict:
    return {"kind": activity.kind.value, "held_on": activity.held_on.isoformat(),
            "community": activity.community.name if activity.community else "", "place": activity.place,
            "participants": activity.participants, "note": activity.note,
            **{c.value: str(activity.count(c)) if activity.count(c) else "" for c in ActivityCount}}


@bp.route("/<int:activity_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def edit(activity_id: int):
    """Change an activity within 7 days (its author or a lead); every change is audited."""
    activity = queries.activity_or_404(current_user, activity_id)
    if not may_edit(current_user, activity):
        flash(_("登记满 7 天后不能再修改；7 天内只有登记人和所领导可以修改。"), "error")
        return redirect(url_for("prevention.index"))
    if request.method == "GET":
        return _form(activity, _values(activity))
    try:
        update_activity(activity, parse_activity(request.form, activity.precinct), current_user)
    except ActivityError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _form(activity, dict(request.form), exc.fields, 400)
    except PreventionError as exc:
        db.session.rollback()
        return _to_list(str(exc), "error")
    db.session.commit()
    return _to_list(_("已保存修改。"), "success")


@bp.post("/<int:activity_id>/delete")
@roles_required(*WRITERS)
def delete(activity_id: int):
    """Remove an activity recorded by mistake, within its 7 days (its author or a lead); audited."""
    activity = queries.activity_or_404(current_user, activity_id)
    try:
        delete_activity(activity, current_user)
    except PreventionError as exc:
        db.session.rollback()
        return _to_list(str(exc), "error")
    db.session.commit()
    return _to_list(_("已删除这条宣传工作登记。"), "success")


def _to_list(message: str, category: str):
    """Back to the list, saying what happened."""
    flash(message, category)
    return redirect(url_for("prevention.index"))


@bp.route("/targets", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def targets():
    """The admin sets each community's APP registration target; the page shows progress against each."""
    errors: dict[str, str] = {}
    if request.method == "POST":
        community = db.session.get(queries.Community, request.form.get("community", type=whole) or 0)
        if community is None:
            errors["community"] = _("请选择社区。")
        target = whole_number({"target": request.form.get("target", "")}, _Target, errors)
        since = _day(request.form.get("since"))
        if since is None:
            errors["since"] = _("请填写起算日期（如 2026-11-01）。")
        if not errors:
            try:
                set_app_target(community, target, since, current_user)
            except PreventionError as exc:
                errors["target"] = str(exc)
            else:
                db.session.commit()
                flash(_("已设置 %(c)s 的注册目标。", c=community.name), "success")
                return redirect(url_for("prevention.targets"))
        db.session.rollback()
    return render_template("prevention/targets.html", progress=queries.app_progress(), errors=errors,
                           values=request.form, precincts=queries.all_precincts(),
                           today=local(now()).date().isoformat()), 400 if errors else 200


class _TargetField:
    """The target field read like a count: a whole number, 0 to the largest target."""

    value = "target"
    maximum = MAX_TARGET

    @property
    def label(self) -> str:
        return _("目标人数")


_Target = _TargetField()


def init_app(app) -> None:
    """Boards of other parts show APP registration progress through this template global, without importing it."""

    @app.context_processor
    def _progress():
        return {"app_progress_for": _progress_for}


def _progress_for(user):
    """The APP registration progress a board shows: a lead or officer their precinct's communities, the center
    and the admin (who sets the targets) all; each as a Progress row."""
    if not user.is_authenticated:
        return []
    if user.role in (Role.CENTER, Role.ADMIN):
        return queries.app_progress()
    return queries.app_progress(user.precinct_id) if user.precinct_id is not None else []
