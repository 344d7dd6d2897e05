"""The watch list's pages: the 台账 (list, filters, .xlsx, print), a new entry, the case page's one action, an
entry with its meetings, and the 考评 table; the admin's kinds and weights. Thin: load through scope_entries,
call one operation, commit, flash, redirect."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..auth.models import User
from ..cases.scoping import case_or_404
from ..core.auditlog import record
from ..core.database import writes_on_get
from ..core.decorators import roles_required
from ..core.enums import Role, WatchStatus
from ..core.exports import write_xlsx
from ..core.formdata import id_of, whole
from ..core.timeutil import from_local, local, now, within_years
from ..core.urls import local_path
from ..directory.models import Precinct
from ..extensions import db
from . import assessment as assess
from .forms import ANY, EditForm, EndForm, EntryForm, KindForm, MeetingForm, RegisterFilterForm
from .models import WatchKind
from .operations import (
    EntryInput,
    WatchError,
    add_kind,
    create_entry,
    end_entry,
    entry_problems,
    export_register,
    find_or_create_person,
    may_manage,
    notes_hidden,
    record_meeting,
    reveal_number,
    update_entry,
    watch_from_case,
)
from .queries import RegisterFilter, entry_or_404, register

bp = Blueprint("watch", __name__, url_prefix="/watch")
READERS = (Role.OFFICER, Role.LEAD, Role.CENTER)
MANAGERS = (Role.LEAD, Role.CENTER)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
NO_STORE = {"Cache-Control": "no-store"}


def _precincts() -> list[Precinct]:
    """The precincts this user may pick: the center all active ones, a lead or officer their own."""
    if current_user.role == Role.CENTER:
        return list(db.session.scalars(select(Precinct).where(Precinct.active.is_(True)).order_by(Precinct.code)))
    return [current_user.precinct] if current_user.precinct else []


def _register_filter() -> tuple[RegisterFilterForm, RegisterFilter, dict]:
    form = RegisterFilterForm(request.args)
    precincts = _precincts()
    form.precinct.choices = (ANY if current_user.role == Role.CENTER else []) + [(str(p.id), p.name)
                                                                                for p in precincts]
    chosen = id_of(form.precinct.data) if current_user.role == Role.CENTER else current_user.precinct_id
    communities = [c for p in precincts if chosen in (None, p.id) for c in p.communities]
    form.community.choices = ANY + [(str(c.id), c.name if chosen else f"{c.precinct.name} · {c.name}")
                                    for c in communities]
    form.kind.choices = ANY + [(str(k.id), k.label) for k in db.session.scalars(select(WatchKind)
                                                                                 .order_by(WatchKind.id))]
    form.status.choices = [("", _("全部")), *WatchStatus.choices()]
    status = form.status.data if "status" in request.args else WatchStatus.ACTIVE.value
    form.status.data = status
    f = RegisterFilter(precinct_id=chosen if current_user.role == Role.CENTER else None,
                       community_id=id_of(form.community.data), kind_id=id_of(form.kind.data),
                       status=WatchStatus(status) if status in WatchStatus._value2member_map_ else None,
                       overdue=bool(form.overdue.data))
    args = {k: v for k, v in request.args.items() if k in form._fields and v}
    return form, f, args


@bp.route("/", endpoint="register")
@roles_required(*READERS)
def register_page():
    """台账: the people on the list within reach, one row each, with the last meeting and the next due."""
    form, f, args = _register_filter()
    return render_template("watch/register.html", entries=register(current_user, f), form=form, args=args,
                           at=now(), may_create=current_user.role in MANAGERS), 200, NO_STORE


@bp.get("/register.xlsx")
@roles_required(*READERS)
@writes_on_get
def register_export():
    """The 台账 as a register workbook: exactly the rows the page shows for the same filters."""
    _form, f, args = _register_filter()
    data = export_register(register(current_user, f), current_user, **args)
    db.session.commit()
    name = f"watch-register-{local(now()):%Y%m%d}.xlsx"
    return Response(data, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={name}"})


def _entry_choices(form: EntryForm, precinct_id: int | None) -> None:
    precincts = _precincts()
    form.precinct.choices = [(str(p.id), p.name) for p in precincts]
    form.kind.choices = [(str(k.id), k.label) for k in db.session.scalars(
        select(WatchKind).where(WatchKind.active.is_(True)).order_by(WatchKind.id))]
    form.community.choices = [("", _("请选择…"))] + [(str(c.id), f"{p.name} · {c.name}" if len(precincts) > 1
                                                      else c.name) for p in precincts for c in p.communities]
    officers = db.session.scalars(select(User).where(
        User.active.is_(True), User.role.in_((Role.OFFICER, Role.LEAD)),
        User.precinct_id.in_([p.id for p in precincts])).order_by(User.precinct_id, User.username))
    form.officer.choices = [("", _("请选择…"))] + [
        (str(u.id), f"{u.precinct.name} · {u.label}" if len(precincts) > 1 else u.label) for u in officers]


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def new():
    """A person put on the list by hand: matched to a known person by ID number, or name and phone."""
    form = EntryForm()
    _entry_choices(form, current_user.precinct_id)
    errors: dict[str, str] = {}
    if form.validate_on_submit():
        data = _entry_input(form)
        try:
            person = find_or_create_person(form.name.data, form.id_number.data, form.phone.data,
                                           current_user)
            entry = create_entry(person, data, current_user)
        except WatchError as exc:
            db.session.rollback()
            errors = {**entry_problems(data, current_user), **exc.errors}  # the person's and the entry's at once
        else:
            db.session.commit()
            flash(_("已列入重点关注：%(name)s。", name=person.name), "success")
            return redirect(url_for("watch.entry", entry_id=entry.id))
    elif request.method == "POST":  # a field the form could not read (an empty interval, a date): said with the rest
        errors = {name: "；".join(str(e) for e in field.errors) for name, field in form._fields.items() if field.errors}
        try:
            find_or_create_person(form.name.data, form.id_number.data, form.phone.data, current_user)
        except WatchError as exc:
            errors = {**exc.errors, **errors}
        db.session.rollback()  # (a new person it made is not kept)
        errors = {**entry_problems(_entry_input(form), current_user), **errors}
    for name, message in errors.items():
        if name in form._fields:
            form[name].errors = [message]
    status = 400 if request.method == "POST" else 200
    return render_template("watch/new.html", form=form, form_error=errors.get("", "")), status, NO_STORE


def _entry_input(form: EntryForm) -> EntryInput:
    return EntryInput(
        kind_id=id_of(form.kind.data), precinct_id=id_of(form.precinct.data) or current_user.precinct_id,
        officer_id=id_of(form.officer.data), community_id=id_of(form.community.data),
        cadre_name=form.cadre_name.data or "", cadre_phone=form.cadre_phone.data or "",
        interval_days=form.interval_days.data, starts_on=form.starts_on.data, ends_on=form.ends_on.data,
        note=form.note.data or "")


@bp.post("/from-case/<int:case_id>")
@roles_required(*MANAGERS)
def from_case(case_id: int):
    """The case page's one action: this case's (repeat-warned) person on the list, met weekly."""
    case = case_or_404(current_user, case_id)
    try:
        entry = watch_from_case(case, current_user)
    except WatchError as exc:
        db.session.rollback()
        for message in exc.errors.values():
            flash(message, "error")
        return redirect(url_for("cases.detail", case_id=case.id))
    db.session.commit()
    flash(_("已列入重点关注，首次见面最迟在 %(day)s。", day=entry.last_day.strftime("%m-%d")),
          "success")
    return redirect(url_for("watch.entry", entry_id=entry.id))


def _may_meet(entry) -> bool:
    return entry.is_active and (current_user.id == entry.officer_id or may_manage(current_user, entry.precinct_id))


def _edit_form(entry, formdata=None) -> EditForm:
    form = EditForm(formdata=formdata, community=str(entry.community_id or ""), officer=str(entry.officer_id),
                    cadre_name=entry.cadre_name, cadre_phone=entry.cadre_phone, interval_days=entry.interval_days,
                    ends_on=entry.ends_on)
    form.community.choices = [("", _("请选择…"))] + [(str(c.id), c.name) for c in entry.precinct.communities]
    officers = db.session.scalars(select(User).where(User.active.is_(True), User.precinct_id == entry.precinct_id,
                                                     User.role.in_((Role.OFFICER, Role.LEAD)))
                                  .order_by(User.username))
    form.officer.choices = [(str(u.id), u.label) for u in officers]
    return form


def _render_entry(entry, meeting_form: MeetingForm | None = None, status: int = 200, revealed: dict | None = None,
                  form_error: str = "", edit_form: EditForm | None = None):
    if meeting_form is None:
        meeting_form = MeetingForm(formdata=None, met_at=local(now()).replace(tzinfo=None, second=0, microsecond=0))
    may_edit = entry.is_active and may_manage(current_user, entry.precinct_id)
    return render_template("watch/entry.html", entry=entry, meeting_form=meeting_form, end_form=EndForm(),
                           edit_form=edit_form or (_edit_form(entry) if may_edit else None), may_edit=may_edit,
                           may_meet=_may_meet(entry), may_end=entry.is_active and may_manage(
                               current_user, entry.precinct_id), revealed=revealed or {}, at=now(),
                           form_error=form_error, notes_hidden=notes_hidden(entry)), status, NO_STORE


@bp.get("/<int:entry_id>")
@roles_required(*READERS)
def entry(entry_id: int):
    return _render_entry(entry_or_404(current_user, entry_id))


@bp.post("/<int:entry_id>/meetings")
@roles_required(*READERS)
def meet(entry_id: int):
    """登记见面: the meeting recorded, the next one falls due an interval later."""
    entry = entry_or_404(current_user, entry_id)
    if not _may_meet(entry):
        abort(403)
    form = MeetingForm()
    valid = form.validate_on_submit()
    if valid and form.met_at.data:
        try:
            within_years(form.met_at.data)
        except ValueError:
            form.met_at.errors = [_("见面时间的年份不对，请核对。")]
            valid = False
    if not valid:
        return _render_entry(entry, form, 400)
    met_at = from_local(form.met_at.data)
    try:
        meeting = record_meeting(entry, current_user, met_at, form.met_by.data, form.method.data, form.place.data,
                                 form.observed.data, form.flags.data)
    except WatchError as exc:
        db.session.rollback()
        for name, message in exc.errors.items():
            if name in form._fields:
                form[name].errors = [message]
        return _render_entry(entry, form, 400, form_error=exc.errors.get("", ""))
    db.session.commit()
    flash(_("见面已登记。") + (_("已通知所领导和中心。") if meeting.alarm else ""),
          "warning" if meeting.alarm else "success")
    return redirect(local_path(request.args.get("next")) or url_for("watch.entry", entry_id=entry.id))


@bp.post("/<int:entry_id>/edit")
@roles_required(*MANAGERS)
def edit(entry_id: int):
    """修改: the responsible people, community, interval or end of an entry (leads of its precinct, the center)."""
    entry = entry_or_404(current_user, entry_id)
    if not may_manage(current_user, entry.precinct_id):
        abort(403)
    form = _edit_form(entry, request.form)
    if not form.validate_on_submit():
        return _render_entry(entry, status=400, edit_form=form)
    try:
        update_entry(entry, EntryInput(kind_id=entry.kind_id, precinct_id=entry.precinct_id,
                                       officer_id=id_of(form.officer.data), community_id=id_of(form.community.data),
                                       cadre_name=form.cadre_name.data or "", cadre_phone=form.cadre_phone.data or "",
                                       interval_days=form.interval_days.data, ends_on=form.ends_on.data),
                     current_user)
    except WatchError as exc:
        db.session.rollback()
        for name, message in exc.errors.items():
            if name in form._fields:
                form[name].errors = [message]
        return _render_entry(db.session.get(type(entry), entry_id), status=400, edit_form=form,
                             form_error=exc.errors.get("", ""))
    db.session.commit()
    flash(_("已保存修改。"), "success")
    return redirect(url_for("watch.entry", entry_id=entry.id))


@bp.post("/<int:entry_id>/end")
@roles_required(*MANAGERS)
def end(entry_id: int):
    entry = entry_or_404(current_user, entry_id)
    if not may_manage(current_user, entry.precinct_id):
        abort(403)
    try:
        end_entry(entry, current_user, request.form.get("reason", ""))
    except WatchError as exc:
        db.session.rollback()
        for message in exc.errors.values():
            flash(message, "error")
        return redirect(url_for("watch.entry", entry_id=entry.id))
    db.session.commit()
    flash(_("已结束关注。"), "success")
    return redirect(url_for("watch.register"))


@bp.post("/<int:entry_id>/reveal/<field>")
@roles_required(*READERS)
def reveal(entry_id: int, field: str):
    """显示完整号码 on an entry; the look is audited."""
    entry = entry_or_404(current_user, entry_id)
    if field not in ("id", "phone", "notes"):
        abort(404)
    number = reveal_number(entry, field, current_user)
    db.session.commit()
    if request.accept_mimetypes.best == "application/json":
        return jsonify(number=number or None)
    return _render_entry(entry, revealed={field: number})


def _assessment():
    if not assess.may_read(current_user):
        abort(403)
    try:  # the page opens on this month to date (the API's default is the last full month)
        month = assess.month_period(request.args.get("month") or f"{local(now()):%Y-%m}")
    except assess.MonthError:
        abort(404)
    return assess.assess(month, current_user)


def _recent_months(n: int = 12) -> list[str]:
    day = local(now()).date().replace(day=1)
    months = []
    for _i in range(n):
        months.append(f"{day:%Y-%m}")
        day = (day - dt.timedelta(days=1)).replace(day=1)
    return months


@bp.get("/assessment")
@roles_required(*MANAGERS)
def assessment():
    """考评: the month's table per community and per precinct, with the weights and every definition."""
    table = _assessment()
    months = _recent_months()
    return render_template("watch/assessment.html", table=table, indicators=assess.INDICATORS,
                           months=months if table.month.label in months else [table.month.label, *months])


@bp.get("/assessment.xlsx")
@roles_required(*MANAGERS)
@writes_on_get
def assessment_export():
    table = _assessment()
    labels = [str(i.label) for i in assess.INDICATORS]
    head = [_("排名"), _("派出所")]
    sheets = [(_("社区考评"), head + [_("社区（村）")] + labels + [_("得分")],
               assess.table_rows(table.communities, True)),
              (_("派出所考评"), head + labels + [_("得分")], assess.table_rows(table.precincts, False)),
              (_("指标与权重"), [_("指标"), _("权重"), _("定义")],
               [[str(i.label), table.weights[i.key], str(i.definition)] for i in assess.INDICATORS])]
    record("export", "assessment", table.month.label, user=current_user._get_current_object())
    db.session.commit()
    return Response(write_xlsx(sheets), mimetype=XLSX,
                    headers={"Content-Disposition": f"attachment; filename=assessment-{table.month.label}.xlsx"})


@bp.route("/settings", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def settings():
    """The admin's kinds of watch and the 考评 weights (data, not code)."""
    kind_form = KindForm()
    errors: dict[str, str] = {}
    if request.method == "POST" and kind_form.validate_on_submit():
        try:
            if request.form.get("action") == "kind":
                add_kind(kind_form.name.data, current_user)
                message = _("已新增关注类别。")
            elif request.form.get("action") == "toggle":
                kind = db.session.get(WatchKind, request.form.get("kind", type=whole)) or abort(404)
                kind.active = not kind.active
                message = _("已更新关注类别。")
            else:
                values = {}
                for indicator in assess.INDICATORS:
                    if indicator.key not in request.form:
                        continue  # not sent: kept as it is
                    raw = request.form[indicator.key].strip()
                    try:
                        values[indicator.key] = Decimal(raw) if raw else None
                    except InvalidOperation:
                        values[indicator.key] = None
                assess.set_weights(values, current_user)
                message = _("考评权重已保存。")
        except WatchError as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            flash(message, "success")
            return redirect(url_for("watch.settings"))
    return render_template("watch/settings.html", kind_form=kind_form, errors=errors,
                           kinds=db.session.scalars(select(WatchKind).order_by(WatchKind.id)).all(),
                           indicators=assess.INDICATORS, weights=assess.weights(),
                           typed=request.form if errors else {}), 400 if errors else 200

