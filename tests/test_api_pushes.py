"""POST /api/v1/pushes (issue 3 item 5) and the OpenAPI document."""
import io
import re

import pytest

from dissuasion.cases.models import Case, EarlyWarning
from dissuasion.extensions import db
from dissuasion.imports.models import Push

CSV = ("预警编号,推送时间,姓名,手机号,风险等级,所属派出所,所属社区\n"
       "W0001,2026-11-16 09:00,张三,13800138000,高,PCS01派出所,东门社区\n"
       "W0002,2026-11-16 09:05,李四,13800138001,中,PCS01派出所,东门社区\n"
       "W0003,2026-11-16 09:10,王五,13800138002,不知道,PCS01派出所,东门社区\n").encode()
ROWS = [{"warning_id": "J0001", "pushed_at": "2026-11-16 10:00", "name": "赵六", "phone": "13900139000",
         "tier": "extra_high", "precinct": "PCS01派出所", "community": "东门社区"}]


@pytest.fixture
def center(make_user, make_precinct, bearer):
    make_precinct("PCS01", communities=("东门社区",))
    return bearer(make_user("center"))


def upload(client, headers, data=CSV, name="list.csv"):
    return client.post("/api/v1/pushes", headers=headers, data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_a_csv_upload_is_imported_and_the_same_file_again_changes_nothing(client, center):
    response = upload(client, center)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "committed" and (body["imported"], body["rejected"]) == (2, 1)
    assert body["errors"][0]["row"] == 4 and body["errors"][0]["column"] == "风险等级"
    assert db.session.scalar(db.select(db.func.count()).select_from(Case)) == 2
    again = upload(client, center, name="renamed.csv")
    assert again.status_code == 200 and again.get_json()["status"] == "duplicate_file"
    assert db.session.scalar(db.select(db.func.count()).select_from(Push)) == 1


@pytest.mark.parametrize("body", [{"rows": ROWS}, ROWS])
def test_json_rows_are_imported(client, center, body):
    response = client.post("/api/v1/pushes", headers=center, json=body)
    assert response.status_code == 201 and response.get_json()["cases_created"] == 1
    warning = db.session.scalar(db.select(EarlyWarning))
    assert warning.warning_no == "J0001" and warning.source.value == "api"


@pytest.mark.parametrize("data,name", [(b"", "empty.csv"), (b"\x00\x01garbage" * 10, "list.xlsx"),
                                       ("标题\n甲,乙\n1,2\n".encode(), "other.csv")])
def test_a_refused_file_is_400_and_writes_nothing(client, center, data, name):
    response = upload(client, center, data, name)
    assert response.status_code == 400 and response.get_json()["error"]["code"] == "refused"
    assert response.get_json()["error"]["message"]
    assert db.session.scalar(db.select(db.func.count()).select_from(Push)) == 0


def test_bad_json_rows_are_refused(client, center):
    for body in ({"rows": []}, {"rows": "x"}, {}):
        response = client.post("/api/v1/pushes", headers=center, json=body)
        assert response.status_code == 400 and response.get_json()["error"]["code"] == "refused"


def test_a_multipart_request_without_a_file_is_400(client, center):
    response = client.post("/api/v1/pushes", headers=center, data={"other": "x"}, content_type="multipart/form-data")
    assert response.status_code == 400 and "file" in response.get_json()["error"]["fields"]


@pytest.mark.parametrize("role", ["officer", "lead", "admin"])
def test_only_center_tokens_may_push(client, make_user, bearer, role):
    response = client.post("/api/v1/pushes", headers=bearer(make_user(role, precinct="PCS01")), json=ROWS)
    assert response.status_code == 403 and response.get_json()["error"]["code"] == "forbidden"
    assert db.session.scalar(db.select(db.func.count()).select_from(Push)) == 0


def test_a_body_over_the_limit_is_413_json(app, client, center):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = upload(client, center, CSV * 20)
    assert response.status_code == 413 and response.get_json()["error"]["code"] == "too_large"
    assert db.session.scalar(db.select(db.func.count()).select_from(Push)) == 0


def test_openapi_documents_every_api_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.") and doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule.removeprefix("/api/v1"))
            assert path in doc["paths"], path
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in doc["paths"][path], (path, method)
    assert "Error" in doc["components"]["schemas"]


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_or_infinity_in_json_is_refused_not_read_as_no_value(client, center, constant):
    body = ('{"rows": [{"warning_id": "YJ1", "tier": "高", "name": "张三", "phone": "13800138000", '
            f'"id_number": {constant}}}]}}')
    response = client.post("/api/v1/pushes", headers={**center, "Content-Type": "application/json"}, data=body)
    assert response.status_code == 400 and constant.lstrip("-") in response.get_json()["error"]["message"]
    assert db.session.scalar(db.select(db.func.count()).select_from(EarlyWarning)) == 0


def test_a_body_that_is_not_json_is_400(client, center):
    response = client.post("/api/v1/pushes", headers={**center, "Content-Type": "application/json"}, data=b"{rows")
    assert response.status_code == 400


def test_a_body_that_is_not_json_says_where_or_which_encoding(client, center):
    headers = {**center, "Content-Type": "application/json"}
    trailing_comma = client.post("/api/v1/pushes", headers=headers,
                                 data='{"rows": [{"warning_id": "A1", "tier": "高"},]}'.encode())
    assert trailing_comma.status_code == 400
    assert "不是有效的 JSON：第 1 行第" in trailing_comma.get_json()["error"]["message"]
    gbk = client.post("/api/v1/pushes", headers=headers,
                      data='{"rows": [{"warning_id": "A1", "tier": "高"}]}'.encode("gbk"))
    assert gbk.status_code == 400 and "UTF-8" in gbk.get_json()["error"]["message"]


def test_half_an_emoji_cut_by_the_client_is_stored_as_a_replacement_character(client, center):
    body = ('{"rows": [{"warning_id": "Z2", "tier": "高", "name": "乙", "phone": "13800138000", '
            '"notes": "表情\\ud83d", "reason": "笑\\ud83d\\ude00"}]}')
    response = client.post("/api/v1/pushes", headers={**center, "Content-Type": "application/json"}, data=body)
    assert response.status_code == 201, response.get_json()
    warning = db.session.scalar(db.select(EarlyWarning))
    assert (warning.notes, warning.reason) == ("表情\ufffd", "笑😀")
