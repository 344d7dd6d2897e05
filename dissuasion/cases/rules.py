"""The tier rules (SPEC "Rules") as data: defaults here, the admin's changes in rule_settings.

A case copies what it needs (method, deadlines) when it is created or its tier rises, so a
rule change applies to new cases only.
"""
import datetime as dt
from dataclasses import dataclass

from ..enums import Method, Tier
from ..extensions import db
from .models import RuleSetting

#: SPEC defaults. escalation: what follows the failed tries, in order.
DEFAULT_RULES = {
    Tier.EXTRA_HIGH: dict(method=Method.VISIT, call_at_once=True, sign_minutes=10, contact_minutes=30,
                          retry_minutes=None, max_tries=1, escalation=["relatives", "visit"],
                          followup_days=[1, 3, 7], watch_days=30),
    Tier.HIGH: dict(method=Method.VISIT, call_at_once=False, sign_minutes=30, contact_minutes=120,
                    retry_minutes=30, max_tries=2, escalation=["relatives", "visit"],
                    followup_days=[3, 7], watch_days=30),
    Tier.MEDIUM: dict(method=Method.PHONE, call_at_once=False, sign_minutes=240, contact_minutes=1440,
                      retry_minutes=120, max_tries=3, escalation=["visit"], followup_days=[7], watch_days=14),
    Tier.LOW: dict(method=Method.PHONE, call_at_once=False, sign_minutes=1440, contact_minutes=4320,
                   retry_minutes=1440, max_tries=3, escalation=["unreachable"], followup_days=[], watch_days=7),
}
#: Days after closing within which a new warning reopens the case as a repeat (SPEC "Words").
REOPEN_WITHIN_DAYS = 30


@dataclass(frozen=True)
class Plan:
    """What a new (or newly raised) case must do, and by when."""

    method: Method
    sign_deadline: dt.datetime
    contact_deadline: dt.datetime
    #: 外出务工 at a high tier: relatives are asked as well as the phone call.
    ask_relatives: bool


def ensure_default_rules() -> int:
    """Insert the SPEC defaults for tiers that have no rule yet; returns how many were added."""
    have = set(db.session.scalars(db.select(RuleSetting.tier)))
    added = 0
    for tier, values in DEFAULT_RULES.items():
        if tier not in have:
            db.session.add(RuleSetting(tier=tier, **values))
            added += 1
    db.session.flush()
    return added


def rules_by_tier() -> dict[Tier, RuleSetting]:
    """The rules in force, one per tier (defaults for any tier the admin never saved)."""
    rules = {r.tier: r for r in db.session.scalars(db.select(RuleSetting))}
    for tier, values in DEFAULT_RULES.items():
        rules.setdefault(tier, RuleSetting(tier=tier, **values))
    return rules


def plan(rule: RuleSetting, away_from_home: bool, start: dt.datetime) -> Plan:
    """Method and deadlines for a case of this rule's tier, starting now (SPEC "Rules", 外出务工)."""
    method = Method.PHONE if away_from_home else rule.method
    return Plan(method=method,
                sign_deadline=start + dt.timedelta(minutes=rule.sign_minutes),
                contact_deadline=start + dt.timedelta(minutes=rule.contact_minutes),
                ask_relatives=away_from_home and rule.tier in (Tier.EXTRA_HIGH, Tier.HIGH))
