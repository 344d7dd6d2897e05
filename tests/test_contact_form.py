"""The contact form over HTTP: saving, refusing with Chinese messages, and two officers saving the same case."""
import datetime as dt

from dissuasion.cases.models import Case
from dissuasion.contacts.models import Contact
from dissuasion.core.enums import CaseStatus
from dissuasion.core.timeutil import UTC
from dissuasion.extensions import db

T0 = dt.datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


def _form(case, **fields):
    return {"method": "phone", "reached": "self", "contacted_at": "2026-11-16T09:10", "version": str(case.version),
            **fields}


def test_officer_logs_a_contact_and_the_case_moves(client, auth, make_user, make_case, clock):
    clock(T0)
    me = make_user("officer")
    case = make_case(tier="medium", assignee=me)
    clock(T0 + dt.timedelta(minutes=20))
    auth.login(me)
    assert "再次联系" in client.get(f"/cases/{case.id}/contact").get_data(as_text=True)
    response = client.post(f"/cases/{case.id}/contact", data=_form(case, action="again"))
    assert response.status_code == 302
    case = db.session.get(Case, case.id)
    assert case.status == CaseStatus.IN_PROGRESS
    assert case.first_attempt_at == dt.datetime(2026, 11, 16, 1, 10, tzinfo=UTC)  # 09:10 Shanghai


def test_closing_without_a_required_field_saves_nothing(client, auth, make_user, make_case, clock):
    clock(T0)
    me = make_user("officer")
    case = make_case(tier="medium", assignee=me)
    auth.login(me)
    response = client.post(f"/cases/{case.id}/contact", data=_form(
        case, action="close", outcome="defrauded", amount_defrauded="-3", note="我填的备注",
        contacted_at="2026-11-16T09:00"))
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "金额不能为负数" in page and "已被骗须填写受骗时间" in page and "我填的备注" in page
    assert db.session.scalar(db.select(db.func.count(Contact.id))) == 0
    assert db.session.get(Case, case.id).status == CaseStatus.NEW


def test_times_in_the_future_and_three_decimals_are_refused(client, auth, make_user, make_case, clock):
    clock(T0)
    me = make_user("officer")
    case = make_case(tier="medium", assignee=me)
    auth.login(me)
    page = client.post(f"/cases/{case.id}/contact", data=_form(
        case, action="close", outcome="dissuaded", amount_dissuaded="12.345", contacted_at="2026-11-17T09:00")
    ).get_data(as_text=True)
    assert "时间不能晚于现在" in page and "金额最多两位小数" in page


def test_second_officer_is_told_what_changed_and_nothing_is_overwritten(client, auth, make_user, make_case, clock):
    clock(T0)
    lead, me = make_user("lead"), make_user("officer", display_name="王警官")
    case = make_case(tier="medium", assignee=me)
    stale = _form(case, action="again", note="第二位的记录", contacted_at="2026-11-16T09:00")
    auth.login(me)
    assert client.post(f"/cases/{case.id}/contact", data=_form(case, action="again", contacted_at="2026-11-16T09:00")
                       ).status_code == 302
    auth.logout()
    auth.login(lead)
    response = client.post(f"/cases/{case.id}/contact", data=stale)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "任务已被 王警官 于 09:00 更新：劝阻记录" in page and "第二位的记录" in page
    assert db.session.scalar(db.select(db.func.count(Contact.id))) == 1


def test_lead_closes_with_an_outcome_from_the_case_page(client, auth, make_user, make_case, clock):
    clock(T0)
    lead = make_user("lead")
    case = make_case(tier="low")
    auth.login(lead)
    response = client.post(f"/cases/{case.id}/close", data={"outcome": "false_alarm", "reason": "中心撤回",
                                                            "version": case.version})
    assert response.status_code == 302
    assert db.session.get(Case, case.id).status == CaseStatus.CLOSED


def test_closing_as_defrauded_or_dissuaded_needs_the_contact_that_recorded_it(client, auth, make_user, make_case,
                                                                               clock):
    clock(T0)
    officer = make_user("officer")
    case = make_case(tier="low", assignee=officer)
    auth.login(officer)
    for outcome in ("defrauded", "dissuaded", "self_protected"):
        page = client.post(f"/cases/{case.id}/close", data={"outcome": outcome, "version": case.version},
                           follow_redirects=True).get_data(as_text=True)
        assert "须先在“登记劝阻记录”中登记" in page
    db.session.expire_all()
    assert db.session.get(Case, case.id).status != CaseStatus.CLOSED
    client.post(f"/cases/{case.id}/contact", data={
        "method": "phone", "reached": "self", "outcome": "self_protected", "contacted_at": "",
        "version": case.version, "action": "save"})
    db.session.expire_all()
    case = db.session.get(Case, case.id)
    assert [c.outcome.value for c in case.contacts] == ["self_protected"]
    client.post(f"/cases/{case.id}/close", data={"outcome": "self_protected", "version": case.version})
    db.session.expire_all()
    assert db.session.get(Case, case.id).status == CaseStatus.CLOSED
