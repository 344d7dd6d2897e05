"""The watch list's and the 考评's endpoints: the 台账 as JSON, one entry with its meetings, record a meeting, and the
month's assessment. Same scoping and operations as the pages."""
from __future__ import annotations

import datetime as dt

from flask import g, request
from flask_babel import gettext as _

from ..core.database import writes_on_get
from ..core.enums import Role, WatchStatus
from ..core.formdata import whole
from ..core.timeutil import within_years
from ..privacy.freetext import mask_numbers
from ..watch import assessment as assess
from ..watch.operations import WatchError, may_manage, record_meeting
from ..watch.queries import RegisterFilter, entry_or_404, register
from .errors import ApiError
from .routes import bp, iso, json_object, money, respond, roles

READERS = (Role.OFFICER, Role.LEAD, Role.CENTER)


def entry_json(entry, meetings: bool = False) -> dict:
    last = entry.last_meeting
    body = {
        "id": entry.id, "kind": entry.kind.name, "status": entry.status.value,
        "person": {"name": entry.person.name, "id_number_masked": entry.person.id_number_masked,
                   "phone_masked": entry.person.phone_masked},
        "precinct": entry.precinct.code, "community": entry.community.name if entry.community else None,
        "officer": {"id": entry.officer.id, "username": entry.officer.username, "name": entry.officer.label},
        "cadre": {"name": entry.cadre_name, "phone": entry.cadre_phone},
        "interval_days": entry.interval_days, "starts_on": entry.starts_on.isoformat(),
        "ends_on": entry.ends_on.isoformat() if entry.ends_on else None, "next_due_at": iso(entry.next_due_at),
        "overdue": entry.is_overdue(), "last_met_at": iso(last.met_at) if last else None, "case_id": entry.case_id,
    }
    if meetings:
        body["meetings"] = [meeting_json(m) for m in entry.meetings]
    return body


def meeting_json(m) -> dict:
    return {"id": m.id, "met_at": iso(m.met_at), "met_by": m.met_by.value, "method": m.method.value,
            "place": m.place, "observed": mask_numbers(m.observed), "flags": list(m.flags or []),
            "due_at": iso(m.due_at), "on_time": m.on_time,
            "recorded_by": m.recorded_by.username if m.recorded_by else None}


def _int_arg(args, name: str, fields: dict) -> int | None:
    raw = args.get(name, "")
    if raw == "":
        return None
    try:
        return whole(raw)
    except ValueError:
        fields[name] = _("%(name)s 须为整数。", name=name)
        return None


@bp.get("/watch")
@writes_on_get
@roles(*READERS)
def list_watch():
    """The 台账 within the token user's reach (officer: their entries; lead: the precinct; center: all)."""
    fields: dict[str, str] = {}
    f = RegisterFilter(precinct_id=_int_arg(request.args, "precinct_id", fields),
                       community_id=_int_arg(request.args, "community_id", fields),
                       kind_id=_int_arg(request.args, "kind_id", fields))
    status = request.args.get("status", "active")
    if status not in ("", "all", *WatchStatus._value2member_map_):
        fields["status"] = _("status 只能是 active、ended 或 all。")
    f.status = WatchStatus(status) if status in WatchStatus._value2member_map_ else None
    overdue = request.args.get("overdue", "")
    if overdue not in ("", "true", "false"):
        fields["overdue"] = _("overdue 只能是 true 或 false。")
    f.overdue = overdue == "true"
    if fields:
        raise ApiError(400, _("查询参数有误。"), fields)
    items = [entry_json(e) for e in register(g.api_user, f)]
    return respond({"items": items, "total": len(items)})


@bp.get("/watch/<int:entry_id>")
@writes_on_get
@roles(*READERS)
def get_watch(entry_id: int):
    """One entry with its meetings (numbers masked); another precinct's: 404."""
    return respond(entry_json(entry_or_404(g.api_user, entry_id), meetings=True))


@bp.post("/watch/<int:entry_id>/meetings")
@roles(*READERS)
def post_meeting(entry_id: int):
    """Record a meeting (the responsible officer, the precinct's leads, the center)."""
    entry = entry_or_404(g.api_user, entry_id)
    if g.api_user.id != entry.officer_id and not may_manage(g.api_user, entry.precinct_id):
        raise ApiError(403, _("只有责任民警或本所领导可以登记见面。"))
    body = json_object()
    try:
        met_at = within_years(dt.datetime.fromisoformat(body["met_at"])) if body.get("met_at") else None
        if met_at is not None and met_at.tzinfo is None:
            raise ValueError
    except (TypeError, ValueError) as exc:
        raise ApiError(400, _("见面时间须为带时区的 ISO 8601 时间，如 2026-11-20T10:00:00+08:00。"),
                       {"met_at": _("时间格式有误。")}) from exc
    flags = body.get("flags") or []
    if not isinstance(flags, list):
        raise ApiError(400, _("flags 须为数组。"), {"flags": _("flags 须为数组。")})
    try:
        meeting = record_meeting(entry, g.api_user, met_at, str(body.get("met_by") or ""),
                                 str(body.get("method") or ""), str(body.get("place") or ""),
                                 str(body.get("observed") or ""), [str(f) for f in flags])
    except WatchError as exc:
        raise ApiError(400, _("见面记录有误。"), {k or "_": v for k, v in exc.errors.items()}) from exc
    return respond({"meeting": meeting_json(meeting), "entry": entry_json(entry)}, 201)


@bp.get("/assessment")
@writes_on_get
@roles(Role.LEAD, Role.CENTER)
def get_assessment():
    """The 考评 table of a month (?month=2026-11; default last month): per community and per precinct."""
    try:
        month = assess.month_period(request.args.get("month"))
    except assess.MonthError as exc:
        raise ApiError(400, str(exc), {"month": str(exc)}) from exc
    table = assess.assess(month, g.api_user)

    def row(r) -> dict:
        values = {k: (money(v) if k == "amount_dissuaded" else v) for k, v in r.values.items()}
        return {"precinct_id": r.precinct_id, "precinct": r.precinct_name, "community_id": r.community_id,
                "name": r.name, "values": values, "parts": {k: (str(v) if v is not None else None)
                                                             for k, v in r.parts.items()},
                "score": str(r.score) if r.score is not None else None, "rank": r.rank}

    return respond({"month": month.label, "weights": {k: str(v) for k, v in table.weights.items()},
                    "indicators": [{"key": i.key, "label": str(i.label), "definition": str(i.definition),
                                    "scoring": i.scoring} for i in assess.INDICATORS],
                    "communities": [row(r) for r in table.communities],
                    "precincts": [row(r) for r in table.precincts]})
