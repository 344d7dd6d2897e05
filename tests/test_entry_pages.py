"""The 录入预警 page, the 退回 page and a lead's request, over HTTP (issue 21); the operations are tested in
test_entry.py."""
import datetime as dt
import html

import pytest
from sqlalchemy import func, select

from dissuasion.cases.models import Case, EarlyWarning
from dissuasion.core.auditlog import AuditEvent
from dissuasion.core.timeutil import UTC
from dissuasion.extensions import db

AT = dt.datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
FORM = {"source": "bank", "tier": "high", "phone": "13800138000", "name": "李四", "id_number": "110101199003077774",
        "reported_at": "2026-11-18T09:40", "reported_by": "工行城东支行", "action": "save"}


@pytest.fixture
def lead(make_user, clock):
    clock(AT)
    return make_user("lead", precinct="PCS01")


@pytest.mark.parametrize(("role", "status"), [("lead", 200), ("center", 200), ("officer", 403), ("admin", 403)])
def test_who_may_open_the_entry_page(client, auth, make_user, role, status):
    auth.login(make_user(role))
    assert client.get("/warnings/new").status_code == status


@pytest.mark.parametrize(("role", "status"), [("center", 200), ("lead", 403), ("officer", 403)])
def test_only_the_center_opens_the_returns_page(client, auth, make_user, role, status):
    auth.login(make_user(role))
    assert client.get("/warnings/returns").status_code == status


def test_a_lead_saves_an_entry_and_lands_on_the_new_case(client, auth, lead):
    auth.login(lead)
    response = client.post("/warnings/new", data=FORM)
    case = db.session.scalar(select(Case))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/cases/{case.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "SD-PCS01-20261118-0001" in page


def test_a_fraud_type_left_undetermined_reads_so_on_the_case_not_as_other(client, auth, lead):
    auth.login(lead)
    undetermined = client.post("/warnings/new", data=FORM).headers["Location"]  # the form's 未确定: no value
    other = client.post("/warnings/new", data=FORM | {"id_number": "", "name": "王五", "phone": "13900139000",
                                                       "fraud_type": "other"}).headers["Location"]
    assert "其他（未确定）" in client.get(undetermined).get_data(as_text=True)
    page = client.get(other).get_data(as_text=True)
    assert "其他" in page and "未确定" not in page


def test_bad_input_is_shown_beside_its_field_and_what_was_typed_is_kept(client, auth, lead):
    auth.login(lead)
    response = client.post("/warnings/new", data=FORM | {"id_number": "110101199003077775", "tier": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "校验位不对" in page and "请选择风险等级" in page
    assert 'value="13800138000"' in page and db.session.scalar(select(func.count(Case.id))) == 0


def test_looking_up_the_person_shows_their_open_case_masked_and_audits_it(client, auth, lead):
    auth.login(lead)
    client.post("/warnings/new", data=FORM)
    page = client.post("/warnings/new", data={"phone": "13800138000", "name": "李四", "action": "check"}).get_data(
        as_text=True)
    assert "此人已有在办任务" in page and "138****8000" in page and "1101**********7774" in page
    assert db.session.scalar(select(func.count(AuditEvent.id)).filter_by(action="entry_lookup")) == 1


def test_the_center_returns_a_queue_group_and_undoes_one(client, auth, make_user, make_case, clock):
    clock(AT)
    center = make_user("center")
    for i in range(2):
        make_case(precinct=None, name=f"外{i}", precinct_text="邻县城关派出所")
    auth.login(center)
    assert "邻县城关派出所" in client.get("/warnings/returns").get_data(as_text=True)
    client.post("/warnings/returns/group", data={"precinct_text": "邻县城关派出所", "reason": "住在邻县"})
    assert db.session.scalar(select(func.count(Case.id))) == 0
    page = client.get("/warnings/returns").get_data(as_text=True)
    assert "住在邻县" in page and "撤销退回" in page
    warning = db.session.scalar(select(EarlyWarning).order_by(EarlyWarning.id))
    client.post(f"/warnings/{warning.id}/undo-return")
    db.session.refresh(warning)
    assert warning.case_id is not None and warning.returned_at is None


def test_a_lead_asks_for_a_case_to_go_back_from_its_page(client, auth, lead, make_case, make_user):
    case = make_case(precinct="PCS01")
    auth.login(lead)
    client.post(f"/cases/{case.id}/request-return", data={"reason": "此人户籍在邻县"})
    db.session.refresh(case)
    assert case.return_requested_at is not None
    auth.logout()
    auth.login(make_user("center"))
    assert "此人户籍在邻县" in client.get("/warnings/returns").get_data(as_text=True)


def test_the_lookup_as_typed_answers_the_fragment_the_form_shows(client, auth, lead, make_user):
    auth.login(lead)
    client.post("/warnings/new", data=FORM)
    fragment = client.post("/warnings/lookup", data={"phone": "138-0013-8000"}).get_data(as_text=True)
    assert "此人已有在办任务" in fragment and "138****8000" in fragment and "13800138000" not in fragment
    auth.logout()
    auth.login(make_user("lead", precinct="PCS02"))
    other = client.post("/warnings/lookup", data={"phone": "13800138000"}).get_data(as_text=True)
    assert "本人没有您可见的在办任务" in other and "李四" not in other


def test_the_center_returns_one_queued_case_from_its_page(client, auth, make_user, make_case, clock):
    clock(AT)
    case_id = make_case(precinct=None, name="外县甲", precinct_text="邻县").id
    auth.login(make_user("center"))
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "退回（非本辖区）" in page
    refused = client.post(f"/cases/{case_id}/return", data={"reason": ""}, follow_redirects=True)
    assert "请填写退回原因" in refused.get_data(as_text=True)
    response = client.post(f"/cases/{case_id}/return", data={"reason": "邻县人员"})
    assert response.headers["Location"].endswith("/warnings/returns")
    assert db.session.scalar(select(func.count(Case.id)).where(Case.id == case_id)) == 0


def test_an_english_user_reads_the_entrys_problems_in_english(client, auth, lead):
    auth.login(lead)
    client.post("/lang/en")
    response = client.post("/warnings/new", data=FORM | {"id_number": "110101199003077775", "amount_at_risk": "很多",
                                                         "tier": "最高"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert 'ID number "1101**********7775" fails its check digit and may be mistyped; please check it' in page
    assert 'Amount "很多" is not a valid amount' in page and 'Risk tier "最高" is not recognised' in page
    assert "校验位不对" not in page and "不是有效金额" not in page and "无法识别" not in page
