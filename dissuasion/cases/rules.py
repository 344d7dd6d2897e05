"""The tier rules (SPEC "Rules") as data: defaults here, the admin's changes in rule_settings.

A case copies what it needs (method, deadlines) when it is created or its tier rises, so a
rule change applies to new cases only.
"""
import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _

from ..core.auditlog import record
from ..core.enums import Method, Tier
from ..extensions import db
from .models import RuleSetting


def _method(tier: Tier) -> Method:
    """A tier's default method: a visit where the tier needs one (Tier.needs_visit), else a phone call."""
    return Method.VISIT if tier.needs_visit else Method.PHONE


#: SPEC defaults. escalation: what follows the failed tries, in order.
DEFAULT_RULES = {
    Tier.EXTRA_HIGH: dict(method=_method(Tier.EXTRA_HIGH), call_at_once=True, sign_minutes=10, contact_minutes=30,
                          retry_minutes=None, max_tries=1, escalation=["relatives", "visit"],
                          followup_days=[1, 3, 7], watch_days=30, away_method=Method.PHONE, away_relatives=True),
    Tier.HIGH: dict(method=_method(Tier.HIGH), call_at_once=False, sign_minutes=30, contact_minutes=120,
                    retry_minutes=30, max_tries=2, escalation=["relatives", "visit"],
                    followup_days=[3, 7], watch_days=30, away_method=Method.PHONE, away_relatives=True),
    Tier.MEDIUM: dict(method=_method(Tier.MEDIUM), call_at_once=False, sign_minutes=240, contact_minutes=1440,
                      retry_minutes=120, max_tries=3, escalation=["visit"], followup_days=[7], watch_days=14,
                      away_method=Method.PHONE, away_relatives=False),
    Tier.LOW: dict(method=_method(Tier.LOW), call_at_once=False, sign_minutes=1440, contact_minutes=4320,
                   retry_minutes=1440, max_tries=3, escalation=["unreachable"], followup_days=[], watch_days=7,
                   away_method=Method.PHONE, away_relatives=False),
}
#: Days after closing within which a new warning reopens the case as a repeat (SPEC "Words").
REOPEN_WITHIN_DAYS = 30
#: What may follow the failed tries: a method, or giving up (无法联系).
ESCALATION_STEPS = frozenset({m.value for m in Method} | {"unreachable"})
#: Upper bounds an admin may set, so a typo (minutes for days) cannot park a case for years.
MAX_MINUTES = 30 * 24 * 60
MAX_DAYS = 365


@dataclass(frozen=True)
class Plan:
    """What a new (or newly raised) case must do, and by when."""

    method: Method
    sign_deadline: dt.datetime
    contact_deadline: dt.datetime
    #: 外出务工 at a high tier: relatives are asked as well as the phone call.
    ask_relatives: bool


class RuleError(ValueError):
    """A rule change was refused; the message says which value to fix, in Chinese."""


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


def rule_for(tier: Tier) -> RuleSetting:
    """The rule in force for one tier, as rules_by_tier gives it: its row read by its key (none read when this
    transaction has it already), else the default. Read on every use, so an admin's change applies at once, in
    every worker."""
    return db.session.get(RuleSetting, tier) or RuleSetting(tier=tier, **DEFAULT_RULES[tier])


def plan(rule: RuleSetting, away_from_home: bool, start: dt.datetime) -> Plan:
    """Method and deadlines for a case of this rule's tier, starting now (SPEC "Rules", 外出务工)."""
    return Plan(method=rule.away_method if away_from_home else rule.method,
                sign_deadline=start + dt.timedelta(minutes=rule.sign_minutes),
                contact_deadline=start + dt.timedelta(minutes=rule.contact_minutes),
                ask_relatives=away_from_home and bool(rule.away_relatives))


def rule_problems(values: dict) -> list[str]:
    """What is wrong with a tier's new values, each message saying what to fix; [] when they are fine."""
    return list(rule_field_problems(values).values())


def rule_field_problems(values: dict) -> dict[str, str]:
    """rule_problems by the field each belongs to (a form shows each beside its field). A value given as None (a
    field the form could not read as a number, which says so itself) is not judged again."""
    problems: dict[str, str] = {}
    sign, contact, retry = values.get("sign_minutes"), values.get("contact_minutes"), values.get("retry_minutes")
    if sign is not None and not 1 <= sign <= MAX_MINUTES:
        problems["sign_minutes"] = _("签收时限须在 1 到 %(n)d 分钟之间。", n=MAX_MINUTES)
    if contact is not None and not 1 <= contact <= MAX_MINUTES:
        problems["contact_minutes"] = _("首次联系时限须在 1 到 %(n)d 分钟之间。", n=MAX_MINUTES)
    elif contact is not None and sign is not None and contact < sign:
        problems["contact_minutes"] = _("首次联系时限不能短于签收时限。")
    if retry is not None and not 1 <= retry <= MAX_MINUTES:
        problems["retry_minutes"] = _("重拨间隔须在 1 到 %(n)d 分钟之间，或留空。", n=MAX_MINUTES)
    if values.get("max_tries") is not None and not 1 <= values["max_tries"] <= 10:
        problems["max_tries"] = _("联系次数须在 1 到 10 之间。")
    if bad := [s for s in values.get("escalation", []) if s not in ESCALATION_STEPS]:
        problems["escalation"] = _("升级步骤无法识别：%(s)s。", s="、".join(bad))
    days = values.get("followup_days") or []
    if any(not 1 <= d <= MAX_DAYS for d in days) or days != sorted(set(days)):
        problems["followup_days"] = _("回访日须是 1 到 %(n)d 之间、从小到大且不重复的天数。", n=MAX_DAYS)
    watch = values.get("watch_days")
    if watch is not None and not 0 <= watch <= MAX_DAYS:
        problems["watch_days"] = _("关注期须在 0 到 %(n)d 天之间。", n=MAX_DAYS)
    elif watch is not None and days and days[-1] > watch:
        problems["watch_days"] = _("最后一次回访（第 %(d)d 天）不能晚于关注期。", d=days[-1])
    return problems


def update_rule(tier: Tier, values: dict, by=None) -> RuleSetting:
    """Change one tier's rule after validating it; cases already created keep their deadlines."""
    if problems := rule_problems(values):
        raise RuleError(" ".join(problems))
    rule = db.session.get(RuleSetting, tier)
    if rule is None:
        rule = RuleSetting(tier=tier, **DEFAULT_RULES[tier])
        db.session.add(rule)
    before = {key: _plain(getattr(rule, key)) for key in values}
    for key, value in values.items():
        setattr(rule, key, value)
    rule.updated_by_id = by.id if by is not None else None
    db.session.flush()
    changed = {k: [before[k], _plain(v)] for k, v in values.items() if before[k] != _plain(v)}
    record("rule_update", "rule", tier.value, user=by, changed=changed)
    return rule


def _plain(value):
    """A value as it goes into the audit record's JSON."""
    return value.value if isinstance(value, Method) else value
