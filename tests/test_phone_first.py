"""The officer's case page phone first, 拨打 on the contact form and for relatives (audited), and a closed case's
contact form saying plainly what happened and what can still be done."""
from dissuasion.cases.lifecycle import close_without_contact
from dissuasion.contacts.operations import log_contact
from dissuasion.contacts.validation import parse_contact
from dissuasion.core.auditlog import AuditEvent
from dissuasion.core.enums import Outcome
from dissuasion.extensions import db

PHONE, RELATIVE = "13912345678", "13688887777"


def _audited(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(db.select(AuditEvent).filter_by(action=action)))


def test_the_person_the_number_the_call_and_the_address_come_before_everything_else(make_case, make_user, client,
                                                                                   auth):
    officer = make_user("officer")
    case = make_case(tier="high", assignee=officer, phone=PHONE)
    auth.login(officer)
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    order = [html.index(part) for part in (
        "<h1>", "139****5678", f'action="/cases/{case.id}/call"', "清河县某镇某村1号", ">登记劝阻记录</a>",
        "处置时间线", "身份证号", "<summary class=\"button\">安排回访</summary>",
        "<summary class=\"button\">办结</summary>")]
    assert order == sorted(order), order
    assert PHONE not in html  # masked until 拨打 or 显示完整号码, both audited


def test_the_contact_form_has_the_call_button(make_case, make_user, client, auth):
    officer = make_user("officer")
    case = make_case(assignee=officer, phone=PHONE)
    auth.login(officer)
    html = client.get(f"/cases/{case.id}/contact").get_data(as_text=True)
    form = html.split(f'action="/cases/{case.id}/call"')[1].split("</form>")[0]
    assert "拨打 139****5678" in form


def test_a_relatives_number_is_called_from_the_case_page_and_the_look_is_audited(make_case, make_user, client,
                                                                                auth):
    officer = make_user("officer")
    case = make_case(tier="medium", assignee=officer, phone=PHONE)
    data = {"method": "relatives", "reached": "relative", "relative_relation": "女儿", "relative_phone": RELATIVE}
    contact = log_contact(case, parse_contact(data, False), officer)
    db.session.commit()
    auth.login(officer)
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "女儿" in html and "136****7777" in html and RELATIVE not in html
    response = client.post(f"/cases/{case.id}/call", data={"relative": contact.id})
    assert response.status_code == 303 and response.headers["Location"] == f"tel:{RELATIVE}"
    [event] = _audited("reveal_relative_phone")
    assert event.object_id == str(case.id) and event.detail["contact"] == contact.id
    other = make_case(tier="medium", assignee=officer)  # a contact of another case gives no number here
    response = client.post(f"/cases/{other.id}/call", data={"relative": contact.id})
    assert response.headers["Location"].endswith(f"/cases/{other.id}")


def test_a_closed_cases_form_says_it_is_closed_and_what_can_still_be_done(make_case, make_user, client, auth):
    officer = make_user("officer")
    case = make_case(tier="low", assignee=officer, phone=PHONE)
    close_without_contact(case, Outcome.FALSE_ALARM, officer, "中心通知误报")
    db.session.commit()
    auth.login(officer)
    page = client.get(f"/cases/{case.id}/contact").get_data(as_text=True)
    assert "办结（误报），不能再登记劝阻记录或办结" in page and "30天内再有预警会自动重新启用" in page
    assert 'id="contact-form"' not in page
    response = client.post(f"/cases/{case.id}/contact", data={"action": "close", "method": "phone",
                                                              "reached": "self", "outcome": "dissuaded"})
    text = response.get_data(as_text=True)
    assert response.status_code == 400 and "办结（误报）" in text and "请修改标出的内容" not in text


def test_an_unreachable_case_points_to_the_leads_reopen(make_case, make_user, client, auth):
    officer = make_user("officer")
    case = make_case(tier="low", assignee=officer, phone=PHONE)
    close_without_contact(case, Outcome.UNREACHABLE, officer, "")
    db.session.commit()
    auth.login(officer)
    assert "请所领导在任务页“重新启用”" in client.get(f"/cases/{case.id}/contact").get_data(as_text=True)
