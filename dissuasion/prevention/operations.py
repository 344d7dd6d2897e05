"""Writes of prevention work: record and change an activity, set an APP registration target. Audited; never
commits (the page, the API or the CLI commits once)."""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _
from sqlalchemy import select

from ..core.auditlog import record
from ..core.enums import ActivityCount, Role
from ..core.timeutil import now
from ..directory.models import Community
from ..extensions import db
from .models import Activity, AppTarget
from .validation import ActivityInput

MAX_TARGET = 1_000_000


class PreventionError(ValueError):
    """An action this user may not take on this activity, said in Chinese."""


def may_record(user) -> bool:
    """Officers and leads record their own precinct's work."""
    return user.role in (Role.OFFICER, Role.LEAD) and user.precinct_id is not None


def may_edit(user, activity: Activity, at: dt.datetime | None = None) -> bool:
    """Within 7 days of recording it: its author, or a lead of its precinct."""
    if (at or now()) > activity.editable_until():
        return False
    if user.role == Role.LEAD:
        return user.precinct_id == activity.precinct_id
    return user.role == Role.OFFICER and activity.created_by_id == user.id


def _fields(data: ActivityInput) -> dict:
    return {"kind": data.kind, "held_on": data.held_on, "community_id": data.community.id if data.community else None,
            "place": data.place, "participants": data.participants, "note": data.note,
            **{which.value: data.counts.get(which, 0) for which in ActivityCount}}


def _shown(value):
    return value.isoformat() if isinstance(value, dt.date) else getattr(value, "value", value)


def record_activity(data: ActivityInput, user) -> Activity:
    """登记宣传工作: a new activity of the user's precinct."""
    if not may_record(user):
        raise PreventionError(_("只有派出所民警和所领导可以登记宣传工作。"))
    activity = Activity(precinct_id=user.precinct_id, created_by_id=user.id, **_fields(data))
    db.session.add(activity)
    db.session.flush()
    record("activity_create", "activity", activity.id, user=user,
           **{k: _shown(v) for k, v in _fields(data).items() if k != "note"})
    return activity


def update_activity(activity: Activity, data: ActivityInput, user) -> dict:
    """Change an activity within its 7 days (author or lead); the audit keeps each changed field before and
    after. Returns the changes."""
    if not may_edit(user, activity):
        raise PreventionError(_("登记满 7 天后不能再修改；7 天内只有登记人和所领导可以修改。"))
    changes = {}
    for key, value in _fields(data).items():
        if getattr(activity, key) != value:
            changes[key] = [_shown(getattr(activity, key)), _shown(value)]
            setattr(activity, key, value)
    if changes:
        db.session.flush()
        record("activity_update", "activity", activity.id, user=user, changes=changes)
    return changes


def delete_activity(activity: Activity, user) -> None:
    """Remove an activity recorded by mistake (twice, or in the wrong precinct's name) within its 7 days, as its
    author or a lead; the audit keeps what it said (its note aside, like the record of its creation)."""
    if not may_edit(user, activity):
        raise PreventionError(_("登记满 7 天后不能再删除；7 天内只有登记人和所领导可以删除。"))
    kept = {k: _shown(v) for k, v in _fields_of(activity).items() if k != "note"}
    record("activity_delete", "activity", activity.id, user=user, **kept)
    db.session.delete(activity)
    db.session.flush()


def _fields_of(activity: Activity) -> dict:
    return {"kind": activity.kind, "held_on": activity.held_on, "community_id": activity.community_id,
            "place": activity.place, "participants": activity.participants,
            **{which.value: activity.count(which) for which in ActivityCount}}


def set_app_target(community: Community, target: int, since: dt.date, user) -> AppTarget:
    """An admin sets (or changes) a community's APP registration target; audited."""
    if user.role != Role.ADMIN:
        raise PreventionError(_("只有系统管理员可以设置注册目标。"))
    if not 0 <= target <= MAX_TARGET:
        raise PreventionError(_("目标人数须为 0 到 %(max)s 的整数。", max=f"{MAX_TARGET:,}"))
    row = db.session.scalar(select(AppTarget).filter_by(community_id=community.id))
    before = (row.target, row.since.isoformat()) if row else None
    if row is None:
        row = AppTarget(community_id=community.id, target=target, since=since)
        db.session.add(row)
    row.target, row.since, row.set_by_id = target, since, user.id
    db.session.flush()
    record("app_target_set", "community", community.id, user=user, community=community.name, target=target,
           since=since.isoformat(), before=list(before) if before else None)
    return row
