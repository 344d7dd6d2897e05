"""录入预警 (issue 21): warnings entered by hand go through the importer's checks and the same merge as a pushed row,
under their own SD- number; 退回 of what is not this county's, and a lead's request to send a case back."""
import datetime as dt
import re
import threading

import pytest
from sqlalchemy import func, select

from dissuasion.cases import returns
from dissuasion.cases.entry import EntryError, enter_warning, next_number, open_cases_of, parse_entry
from dissuasion.cases.models import Case, EarlyWarning
from dissuasion.core.auditlog import AuditEvent
from dissuasion.core.enums import CaseStatus, Method, Tier, WarningSource
from dissuasion.core.timeutil import UTC
from dissuasion.extensions import db

VALID_ID = "110101199003077774"  # check digit 4 is right
BAD_CHECK = "110101199003077775"
AT = dt.datetime(2026, 11, 18, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


def entry(**overrides) -> dict:
    data = {"source": "bank", "reported_by": "工行城东支行 王柜员 0571-88886666", "reported_at": "2026-11-18 09:40",
            "name": "李四", "id_number": VALID_ID, "phone": "138 0013 8000", "address": "城东街道 1 号",
            "tier": "high", "fraud_type": "虚假投资理财", "reason": "柜面拦截：拟向陌生账户转账",
            "amount_at_risk": "50000", "away_from_home": "否"}
    return data | overrides


def enter(user, **overrides):
    result = enter_warning(parse_entry(entry(**overrides), user), user)
    db.session.commit()
    return result


@pytest.fixture
def lead(make_user, clock):
    clock(AT)
    return make_user("lead", precinct="PCS01")


@pytest.fixture
def center(make_user, make_precinct, clock):
    clock(AT)
    make_precinct("PCS02")
    return make_user("center")


def test_a_lead_enters_a_bank_stop_for_a_new_person_and_gets_a_high_case_in_their_precinct(lead):
    result = enter(lead)
    case, warning = result.case, result.warning
    assert result.case_created and case.precinct.code == "PCS01" and case.tier == Tier.HIGH
    assert case.method == Method.VISIT and case.status == CaseStatus.NEW
    assert re.fullmatch(r"SD-PCS01-20261118-0001", warning.warning_no)
    assert warning.source == WarningSource.BANK and warning.reported_by.startswith("工行城东支行")
    reported = dt.datetime(2026, 11, 18, 1, 40, tzinfo=UTC)
    assert warning.pushed_at == reported
    assert case.sign_deadline == reported + dt.timedelta(minutes=30)  # 高: sign for within 30 min of the call
    assert case.contact_deadline == reported + dt.timedelta(hours=2)
    assert str(warning.amount_at_risk) == "50000.00" and case.person.phone == "13800138000"


def test_the_same_person_again_is_attached_and_no_second_case_is_made(lead):
    first = enter(lead)
    again = enter(lead, id_number="", source="relative", tier="extra_high")  # name + phone: the same person
    assert again.case.id == first.case.id and not again.case_created and again.case_escalated
    assert again.warning.warning_no.endswith("-0002")
    assert db.session.scalar(select(func.count(Case.id))) == 1
    assert again.case.tier == Tier.EXTRA_HIGH


def test_a_person_whose_case_closed_days_ago_is_reopened_as_a_repeat(lead, clock):
    first = enter(lead)
    first.case.status, first.case.closed_at = CaseStatus.CLOSED, AT + dt.timedelta(hours=1)
    db.session.commit()
    clock(AT + dt.timedelta(days=3))
    again = enter(lead, reported_at="")
    assert again.case.id == first.case.id and again.case.is_repeat and again.case.status == CaseStatus.NEW


@pytest.mark.parametrize(("overrides", "field", "words"), [
    ({"id_number": BAD_CHECK}, "id_number", "校验位不对"),
    ({"id_number": "110101209903077774"}, "id_number", "出生日期无效"),
    ({"phone": "1380013800"}, "phone", "手机号“1380013800”格式不对"),  # said back as typed
    ({"tier": ""}, "tier", "请选择风险等级"),
    ({"tier": "很高"}, "tier", "无法识别"),
    ({"source": "fax"}, "source", "预警来源"),
    ({"name": "", "id_number": ""}, "name", "姓名和身份证号都为空"),
    ({"id_number": "", "phone": "", "address": ""}, "phone", "没有任何联系方式"),
    ({"amount_at_risk": "五万"}, "amount_at_risk", "不是有效金额"),
    ({"reported_at": "2026-11-19 09:00"}, "reported_at", "不能晚于现在"),
    ({"reported_at": "昨天"}, "reported_at", "无法识别"),
    ({"away_from_home": "也许"}, "away_from_home", "是"),
])
def test_bad_input_says_in_chinese_what_to_fix(lead, overrides, field, words):
    with pytest.raises(EntryError) as caught:
        parse_entry(entry(**overrides), lead)
    assert words in caught.value.fields[field]
    assert VALID_ID not in str(caught.value.fields) and BAD_CHECK not in str(caught.value.fields)  # masked


def test_a_lead_may_not_enter_for_another_precinct_and_the_center_chooses_or_routes_later(lead, center):
    with pytest.raises(EntryError) as caught:
        parse_entry(entry(precinct_code="PCS02"), lead)
    assert "本所" in caught.value.fields["precinct_code"]
    routed = enter(center, precinct_code="PCS02", community="东门社区")
    assert routed.case.precinct.code == "PCS02" and routed.case.community.name == "东门社区"
    assert routed.warning.warning_no.startswith("SD-PCS02-20261118-")
    later = enter(center, id_number="", phone="13900139000", name="王五")
    assert later.case.precinct_id is None and later.warning.warning_no == "SD-ZX-20261118-0001"


def test_every_entry_is_audited(lead):
    result = enter(lead)
    event = db.session.scalar(select(AuditEvent).filter_by(action="warning_enter"))
    assert event.object_id == str(result.case.id) and event.detail["warning"] == result.warning.warning_no


def test_the_form_finds_the_persons_open_case_in_reach_only_and_audits_the_look(lead, make_user, make_case):
    mine = enter(lead).case
    other_lead = make_user("lead", precinct="PCS02")
    assert [c.id for c in open_cases_of(lead, id_number=VALID_ID)] == [mine.id]
    assert [c.id for c in open_cases_of(lead, phone="13800138000", name="李四")] == [mine.id]
    assert open_cases_of(lead, phone="13800138000", name="别人") == []
    assert open_cases_of(other_lead, id_number=VALID_ID) == []
    assert open_cases_of(lead, id_number=BAD_CHECK) == []
    assert db.session.scalar(select(func.count(AuditEvent.id)).filter_by(action="entry_lookup")) == 2


def test_pushed_rows_keep_their_deadlines_from_the_import(make_case, clock):
    clock(AT)
    case = make_case(tier="high")
    assert case.sign_deadline == AT + dt.timedelta(minutes=30)


def _enter_in_thread(app, user_id: int, numbers: list, errors: list, start: threading.Barrier):
    from dissuasion.auth.models import User
    with app.app_context():
        try:
            user = db.session.get(User, user_id)
            data = parse_entry(entry(name=f"甲{user_id}", id_number="", phone=f"1390000{len(numbers):04d}"), user)
            db.session.rollback()  # end the read: on SQLite it holds the write lock (BEGIN IMMEDIATE)
            start.wait(timeout=10)
            numbers.append(enter_warning(data, user).warning.warning_no)
            db.session.commit()
        except Exception as exc:  # noqa: BLE001 (reported by the test)
            errors.append(exc)
        finally:
            db.session.remove()


def test_two_entries_at_once_get_two_numbers(app, make_user, make_precinct, clock):
    make_precinct("PCS01")
    clock(AT)
    users = [make_user("lead", precinct="PCS01").id, make_user("lead", precinct="PCS01").id]
    numbers, errors, start = [], [], threading.Barrier(2)
    db.session.commit()  # the test's own transaction would hold SQLite's write lock
    threads = [threading.Thread(target=_enter_in_thread, args=(app, u, numbers, errors, start)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert sorted(numbers) == ["SD-PCS01-20261118-0001", "SD-PCS01-20261118-0002"]


def test_the_counter_is_per_precinct_and_day(make_precinct, clock):
    clock(AT)
    p1, p2 = make_precinct("PCS01"), make_precinct("PCS02")
    assert [next_number(p1), next_number(p1), next_number(p2), next_number(None)] == [
        "SD-PCS01-20261118-0001", "SD-PCS01-20261118-0002", "SD-PCS02-20261118-0001", "SD-ZX-20261118-0001"]
    clock(AT + dt.timedelta(hours=16))  # 02:00 the next day in Shanghai
    assert next_number(p1) == "SD-PCS01-20261119-0001"


# --- 退回 -------------------------------------------------------------------------------------------------------

def _queued(make_case, text: str, n: int) -> list[Case]:
    cases = [make_case(precinct=None, name=f"外{i}", precinct_text=text) for i in range(n)]
    return cases


def test_a_queued_group_marked_not_ours_leaves_the_queue_and_makes_no_case(center, make_case):
    _queued(make_case, "邻县城关派出所", 3)
    kept = _queued(make_case, "城东所", 1)[0]
    sent, left = returns.return_group(center, "邻县城关派出所", "户籍和现住址均在邻县", limit=100)
    db.session.commit()
    assert (sent, left) == (3, 0)
    from dissuasion.cases import queries
    assert [c.id for c in queries.unrouted(center)] == [kept.id]
    assert db.session.scalar(select(func.count(Case.id))) == 1
    back = returns.returned_warnings(center)
    assert len(back) == 3 and {w.return_reason for w in back} == {"户籍和现住址均在邻县"}
    assert all(w.case_id is None for w in back)
    assert db.session.scalar(select(func.count(AuditEvent.id)).filter_by(action="warnings_return")) == 3


def test_a_return_needs_a_reason_and_only_the_center_may(center, lead, make_case):
    case = _queued(make_case, "外县", 1)[0]
    with pytest.raises(returns.ReturnError, match="退回原因"):
        returns.return_cases([case], " ", center)
    with pytest.raises(returns.ReturnError, match="反诈中心"):
        returns.return_cases([case], "外县", lead)


def test_the_center_undoes_a_return_and_the_warning_is_queued_again(center, make_case):
    case = _queued(make_case, "外县", 1)[0]
    number = case.warnings[0].warning_no
    returns.return_cases([case], "外县", center)
    db.session.commit()
    warning = db.session.scalar(select(EarlyWarning).filter_by(warning_no=number))
    back = returns.undo_return(warning, center)
    db.session.commit()
    assert back.precinct_id is None and back.is_open and warning.returned_at is None and warning.case_id == back.id
    from dissuasion.cases import queries
    assert [c.id for c in queries.unrouted(center)] == [back.id]


def test_a_lead_asks_to_send_a_case_back_and_the_center_returns_it(lead, center, make_case):
    case = make_case(precinct="PCS01")
    returns.request_return(case, "此人住在邻县", lead)
    db.session.commit()
    assert [c.id for c in returns.return_requests(center)] == [case.id]
    assert case.precinct_id == lead.precinct_id  # still the precinct's until the center decides
    with pytest.raises(returns.ReturnError, match="已申请"):
        returns.request_return(case, "再次", lead)
    returns.return_cases([case], "此人住在邻县", center)
    db.session.commit()
    assert returns.return_requests(center) == [] and db.session.get(Case, case.id) is None
    from dissuasion.notifications.models import Notification
    told = db.session.scalar(select(Notification).filter_by(user_id=lead.id, kind="returned"))
    assert "中心已退回" in told.text and told.case_id is None


def test_a_case_already_worked_on_cannot_be_returned(lead, center, make_case):
    from dissuasion.contacts.operations import log_contact
    from dissuasion.contacts.validation import parse_contact
    case = make_case(precinct="PCS01")
    log_contact(case, parse_contact({"method": "phone", "reached": "self"}, False), lead)
    returns.request_return(case, "邻县", lead)
    db.session.commit()
    with pytest.raises(returns.ReturnError, match="已有劝阻记录"):
        returns.return_cases([case], "邻县", center)
