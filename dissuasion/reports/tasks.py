"""Scheduled job: the Monday weekly reports (SPEC: generated every Monday 08:00, Asia/Shanghai)."""
from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from ..core.timeutil import now
from ..directory.models import Precinct
from ..extensions import db
from .operations import store_report
from .weeks import last_complete_week

log = logging.getLogger(__name__)
#: The Monday report waits until 08:00 local, so late Sunday work and the night's imports are in it.
GENERATE_AFTER_MONDAY = dt.timedelta(hours=8)


def due_week(at: dt.datetime) -> str:
    """The week whose Monday report is due at `at`: the last complete week from Monday 08:00 on, the week before
    it until then (already stored, unless the scheduler was down then: a late run catches up)."""
    return last_complete_week(at - GENERATE_AFTER_MONDAY)


def generate_weekly_reports() -> int:
    """Store the previous week's report for the county and each active precinct, once; safe to run twice or in
    two processes (the unique scheduled_key). Runs any time on or after Monday 08:00; returns how many it stored."""
    week = due_week(now())
    stored = 0
    precincts = db.session.scalars(select(Precinct).where(Precinct.active).order_by(Precinct.code))
    for precinct in [None, *precincts]:
        if store_report(week, precinct, scheduled=True) is not None:
            stored += 1
    db.session.commit()
    log.info("weekly reports for %s: %d stored", week, stored)
    return stored
