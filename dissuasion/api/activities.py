"""The publicity log's endpoints: GET /api/v1/activities (scoped like the pages) and POST /api/v1/activities
(officers and leads, for their precinct). The same checks and operations as the form."""
from __future__ import annotations

import datetime as dt

from flask import g, request
from flask_babel import gettext as _

from ..core.enums import ActivityKind, Role
from ..core.formdata import choice
from ..core.timeutil import typed_day
from ..directory.models import Precinct
from ..extensions import db
from ..prevention.operations import PreventionError, record_activity
from ..prevention.queries import ActivityFilter, activity_rows
from ..prevention.validation import ActivityError, parse_activity
from .errors import ApiError
from .routes import bp, json_object, respond, roles
from .serialize import activity_json


def _day(args, key: str, fields: dict) -> dt.date | None:
    text = args.get(key, "")
    if not text:
        return None
    try:
        return typed_day(text)
    except ValueError:
        fields[key] = _("日期应为 2026-11-16 格式。")
        return None


@bp.get("/activities")
@roles(Role.OFFICER, Role.LEAD, Role.CENTER)
def list_activities():
    """GET /api/v1/activities?kind=lecture&from=2026-11-16&to=2026-11-22&precinct=PCS01: newest day first."""
    fields: dict[str, str] = {}
    kind = choice(request.args, "kind", ActivityKind, fields)
    first, last = _day(request.args, "from", fields), _day(request.args, "to", fields)
    precinct_id = None
    if code := request.args.get("precinct"):
        precinct = db.session.scalar(db.select(Precinct).filter_by(code=code))
        if precinct is None:
            fields["precinct"] = _("派出所代码 %(c)s 不在目录中。", c=code[:32])
        else:
            precinct_id = precinct.id
    if fields:
        raise ApiError(400, _("查询参数有误。"), fields)
    rows = activity_rows(g.api_user, ActivityFilter(kind=kind, precinct_id=precinct_id, first=first, last=last))
    return respond({"items": [activity_json(a) for a in rows], "total": len(rows)})


@bp.post("/activities")
@roles(Role.OFFICER, Role.LEAD)
def create_activity():
    """POST /api/v1/activities: record an activity of the token user's precinct → 201 with it; 422 per field."""
    body = json_object()
    if g.api_user.precinct is None:
        raise ApiError(403, _("此账号不属于任何派出所。"))
    try:
        activity = record_activity(parse_activity(body, g.api_user.precinct), g.api_user)
    except ActivityError as exc:
        raise ApiError(422, str(exc), exc.fields, code="invalid") from exc
    except PreventionError as exc:
        raise ApiError(403, str(exc)) from exc
    return respond(activity_json(activity), 201)
