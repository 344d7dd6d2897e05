"""POST /api/v1/warnings (issue 21): 201 with the SD- number, 422 with a Chinese message per field, two at once get
two numbers; the roles that may enter."""
import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from dissuasion.cases.models import Case
from dissuasion.core.timeutil import UTC
from dissuasion.extensions import db

AT = dt.datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
BODY = {"source": "hotline_96110", "reported_by": "96110 转来，来电 0571-12345678",
        "reported_at": "2026-11-18T09:50:00+08:00",
        "name": "赵六", "id_number": "110101199003077774", "phone": "13800138000", "address": "城西路 3 号",
        "tier": "high", "fraud_type": "romance", "reason": "正在向对方转账", "amount_at_risk": "20000.00",
        "away_from_home": False, "precinct_code": "PCS01", "community": "东门社区"}


@pytest.fixture
def center(make_user, make_precinct, clock):
    clock(AT)
    make_precinct("PCS01")
    return make_user("center")


def test_a_valid_entry_is_201_with_its_number_case_and_whether_it_attached(client, center, bearer):
    headers = bearer(center)
    response = client.post("/api/v1/warnings", json=BODY, headers=headers)
    assert response.status_code == 201, response.json
    body = response.json
    assert body["warning_number"] == "SD-PCS01-20261118-0001" and body["attached"] is False
    case = db.session.get(Case, body["case_id"])
    assert case.precinct.code == "PCS01" and case.sign_deadline == dt.datetime(2026, 11, 18, 2, 20, tzinfo=UTC)
    again = client.post("/api/v1/warnings", json=BODY | {"source": "relative"}, headers=headers).json
    assert again["case_id"] == body["case_id"] and again["attached"] is True
    assert again["warning_number"] == "SD-PCS01-20261118-0002"


def test_a_bad_id_check_digit_and_a_missing_tier_are_422_with_a_chinese_message_each(client, center, bearer):
    body = BODY | {"id_number": "110101199003077775"}
    body.pop("tier")
    response = client.post("/api/v1/warnings", json=body, headers=bearer(center))
    assert response.status_code == 422
    fields = response.json["error"]["fields"]
    assert set(fields) == {"id_number", "tier"}
    assert "校验位不对" in fields["id_number"] and "请选择风险等级" in fields["tier"]
    assert "110101199003077775" not in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Case.id))) == 0


@pytest.mark.parametrize(("role", "status"), [("center", 201), ("lead", 201), ("officer", 403), ("admin", 403)])
def test_who_may_enter_a_warning(client, make_user, make_precinct, bearer, clock, role, status):
    clock(AT)
    make_precinct("PCS01")
    response = client.post("/api/v1/warnings", json=BODY, headers=bearer(make_user(role, precinct="PCS01")))
    assert response.status_code == status


def test_two_entries_sent_at_once_get_two_numbers(app, center, bearer):
    headers = bearer(center)
    db.session.commit()  # the test's own transaction would hold SQLite's write lock
    answers, start = [], threading.Barrier(2)

    def send(phone: str):
        with app.app_context(), app.test_client() as client:
            start.wait(timeout=10)
            answers.append(client.post("/api/v1/warnings", json=BODY | {"id_number": "", "phone": phone,
                                                                          "name": phone}, headers=headers))
            db.session.remove()

    threads = [threading.Thread(target=send, args=(p,)) for p in ("13900000001", "13900000002")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [a.status_code for a in answers] == [201, 201]
    assert sorted(a.json["warning_number"] for a in answers) == ["SD-PCS01-20261118-0001", "SD-PCS01-20261118-0002"]


def test_the_openapi_document_describes_the_entry(client):
    doc = client.get("/api/v1/openapi.json").json
    post = doc["paths"]["/warnings"]["post"]
    assert {"201", "422"} <= set(post["responses"])
    schema = doc["components"]["schemas"]["WarningInput"]["properties"]
    assert set(schema) == {"source", "reported_by", "reported_at", "name", "id_number", "phone", "address", "tier",
                           "fraud_type", "reason", "amount_at_risk", "away_from_home", "precinct_code", "community"}
