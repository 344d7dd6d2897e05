"""Tier rules are data: an admin changes them with validation, and only new cases follow the change."""
import datetime as dt
import re

import pytest

from dissuasion.cases.models import RuleSetting
from dissuasion.cases.rules import DEFAULT_RULES, RuleError, plan, rules_by_tier, update_rule
from dissuasion.core.auditlog import AuditEvent
from dissuasion.core.enums import Method, Tier
from dissuasion.core.timeutil import UTC
from dissuasion.extensions import db

T0 = dt.datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


def _values(tier: Tier, **changes) -> dict:
    values = {k: v for k, v in DEFAULT_RULES[tier].items()}
    return values | changes


@pytest.mark.parametrize("tier,asks", [("extra_high", True), ("high", True), ("medium", False), ("low", False)])
def test_away_from_home_calls_and_high_tiers_also_ask_relatives(app, tier, asks):
    rule = rules_by_tier()[Tier(tier)]
    away = plan(rule, True, T0)
    assert away.method == Method.PHONE and away.ask_relatives is asks
    assert plan(rule, False, T0).ask_relatives is False


def test_changed_rule_applies_to_new_cases_only(make_case, clock):
    clock(T0)
    before = make_case(tier="high")
    update_rule(Tier.HIGH, _values(Tier.HIGH, method=Method.PHONE, sign_minutes=15, contact_minutes=60))
    db.session.commit()
    after = make_case(tier="high")
    db.session.refresh(before)
    assert (before.method, before.sign_deadline) == (Method.VISIT, T0 + dt.timedelta(minutes=30))
    assert (after.method, after.sign_deadline) == (Method.PHONE, T0 + dt.timedelta(minutes=15))
    assert after.contact_deadline == T0 + dt.timedelta(minutes=60)


def test_rule_change_is_audited(app, make_user):
    admin = make_user("admin")
    update_rule(Tier.LOW, _values(Tier.LOW, watch_days=10), by=admin)
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="rule_update"))
    assert event.user_id == admin.id and event.detail["changed"] == {"watch_days": [7, 10]}


@pytest.mark.parametrize("changes,words", [
    (dict(sign_minutes=0), "签收时限"),
    (dict(sign_minutes=60, contact_minutes=30), "不能短于签收时限"),
    (dict(escalation=["fly"]), "fly"),
    (dict(followup_days=[7, 3]), "从小到大"),
    (dict(followup_days=[3, 40], watch_days=30), "不能晚于关注期"),
    (dict(max_tries=0), "联系次数"),
])
def test_invalid_rule_is_refused_with_what_to_fix(app, changes, words):
    with pytest.raises(RuleError, match=words):
        update_rule(Tier.HIGH, _values(Tier.HIGH, **changes))
    assert db.session.get(RuleSetting, Tier.HIGH).sign_minutes == 30


def _form(tier: str, **changes) -> dict:
    data = {"method": "visit", "sign_minutes": "30", "contact_minutes": "120", "retry_minutes": "30",
            "max_tries": "2", "escalation": "经亲友、面见", "followup_days": "3、7", "watch_days": "30",
            "away_method": "phone", "away_relatives": "y"} | changes
    return {f"{tier}-{k}": v for k, v in data.items()}


def test_admin_edits_a_rule_on_the_rules_page(client, auth, make_user):
    auth.login(make_user("admin"))
    assert "特高危" in client.get("/admin/rules").get_data(as_text=True)
    response = client.post("/admin/rules/high", data=_form("high", sign_minutes="20", escalation="经亲友，无法联系"))
    assert response.status_code == 302
    rule = db.session.get(RuleSetting, Tier.HIGH)
    assert rule.sign_minutes == 20 and rule.escalation == ["relatives", "unreachable"]


def test_in_english_a_rule_saves_as_the_page_shows_it(client, auth, make_user):
    """The escalation field shows "Through relatives、Visit" in English: it was split at the spaces and refused."""
    auth.login(make_user("admin"))
    client.post("/lang/en")
    page = client.get("/admin/rules").get_data(as_text=True)
    shown = re.search(r'name="high-escalation"[^>]*value="([^"]*)"', page) or re.search(
        r'value="([^"]*)"[^>]*name="high-escalation"', page)
    assert shown.group(1) == "Through relatives、Visit"
    response = client.post("/admin/rules/high", data=_form("high", sign_minutes="25", escalation=shown.group(1)))
    assert response.status_code == 302
    rule = db.session.get(RuleSetting, Tier.HIGH)
    assert rule.sign_minutes == 25 and rule.escalation == ["relatives", "visit"]
    client.post("/admin/rules/high", data=_form("high", escalation="经亲友 面见"))  # spaces still part Chinese words
    assert db.session.get(RuleSetting, Tier.HIGH).escalation == ["relatives", "visit"]


def test_rules_page_says_what_to_fix(client, auth, make_user):
    auth.login(make_user("admin"))
    response = client.post("/admin/rules/high", data=_form("high", contact_minutes="10"))
    assert response.status_code == 400
    assert "首次联系时限不能短于签收时限" in response.get_data(as_text=True)
    assert db.session.get(RuleSetting, Tier.HIGH).contact_minutes == 120


def test_the_rules_form_says_every_problem_at_once_beside_its_field(client, auth, make_user):
    """-5 minutes, an escalation step nobody knows and days that are no numbers: all three are said together."""
    auth.login(make_user("admin"))
    response = client.post("/admin/rules/high", data=_form("high", sign_minutes="-5", escalation="飞鸽传书",
                                                           followup_days="abc"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for words in ("签收时限须在 1 到", "升级步骤无法识别：飞鸽传书", "回访日请填写天数", "高风险的规则未保存"):
        assert words in page, words
    assert db.session.get(RuleSetting, Tier.HIGH).sign_minutes != -5


@pytest.mark.parametrize("role", ["officer", "lead", "center"])
def test_only_admins_edit_rules(client, auth, make_user, role):
    auth.login(make_user(role))
    assert client.get("/admin/rules").status_code == 403
    assert client.post("/admin/rules/high", data=_form("high")).status_code == 403
