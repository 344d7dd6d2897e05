"""The report's outputs: CLI, API, page and .xlsx give the same numbers; who may read which report; the Monday
job; the archive; feedback to the center."""
import hashlib
import io
import json
import re

import openpyxl
import pytest

from dissuasion.auth.models import ApiToken
from dissuasion.extensions import db
from dissuasion.reports.models import WeeklyReport
from dissuasion.reports.queries import compute_report
from dissuasion.reports.tables import metric_rows
from dissuasion.reports.tasks import generate_weekly_reports
from tests import test_reports
from tests.test_reports import REPORT_TIME, WEEK, at

# The known week's fixtures, shared with the metrics tests.
known_week = test_reports.known_week
new_case = test_reports.new_case


def api_token(user) -> str:
    token = f"tok-{user.username}"
    db.session.add(ApiToken(name="t", user_id=user.id, token_hash=hashlib.sha256(token.encode()).hexdigest()))
    db.session.commit()
    return token


def page_report(html: str) -> dict:
    block = re.search(r"<div id=\"report-data\" hidden data-report='(.*?)'", html, re.S)
    return json.loads(block.group(1))["report"]


def xlsx_values(data: bytes) -> dict:
    """label -> (this week, the week before) as Excel shows them: a cell formatted as a percentage, in percent."""
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]

    def shown(cell):
        percent = cell.value is not None and cell.number_format.endswith("%")
        return round(cell.value * 100, 1) if percent else cell.value
    return {row[0].value: (shown(row[1]), shown(row[2])) for row in sheet.iter_rows(min_row=2)}


def test_a_rate_opens_in_excel_as_a_percentage_and_its_change_in_percentage_points(known_week, client, auth,
                                                                                    make_user):
    auth.login(make_user("lead", precinct="PCS01"))
    sheet = openpyxl.load_workbook(io.BytesIO(client.get("/reports/weekly.xlsx", query_string={"week": WEEK}).data)
                                   ).worksheets[0]
    rows = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    report = compute_report(WEEK, known_week["c1"].precinct)
    rate = next(r for r in metric_rows(report) if r.unit == "%" and r.current is not None and r.previous is not None)
    label, current, previous, change = rows[rate.label]
    assert current.number_format == "0.0%" and current.value == pytest.approx(rate.current / 100)
    assert previous.value == pytest.approx(rate.previous / 100)
    assert change.value == pytest.approx(rate.change) and "个百分点" in change.number_format
    count = rows["接收预警"]
    assert count[1].number_format == "General" and count[1].value == report["metrics"]["warnings_received"]


def test_cli_api_page_and_xlsx_give_the_same_numbers(known_week, runner, client, auth, make_user, tmp_path):
    cli = json.loads(runner.invoke(args=["report", "weekly", "--week", WEEK, "--precinct", "PCS01"]).output)
    assert cli == json.loads(json.dumps(compute_report(WEEK, known_week["c1"].precinct)))
    lead = make_user("lead", precinct="PCS01")
    response = client.get("/api/v1/reports/weekly", query_string={"week": WEEK, "precinct": "PCS01"},
                          headers={"Authorization": f"Bearer {api_token(lead)}"})
    assert response.status_code == 200 and response.get_json() == cli
    auth.login(lead)
    page = client.get("/reports/weekly", query_string={"week": WEEK})
    assert page.status_code == 200 and page_report(page.get_data(as_text=True)) == cli
    assert "5,000.00" in page.get_data(as_text=True)
    out = tmp_path / "r.xlsx"
    assert runner.invoke(args=["report", "weekly", "--week", WEEK, "--precinct", "PCS01", "--format", "xlsx",
                               "--out", str(out)]).exit_code == 0
    web_xlsx = client.get("/reports/weekly.xlsx", query_string={"week": WEEK})
    for data in (out.read_bytes(), web_xlsx.data):
        cells = xlsx_values(data)
        for row in metric_rows(cli):
            expected = tuple(None if v is None else float(v) for v in (row.current, row.previous))
            assert cells[row.label] == expected, row.key
        title = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]["A1"].value
        assert title == f"{WEEK} {known_week['c1'].precinct.name}"  # the precinct as people name it, not PCS01


def test_a_lead_reads_only_their_own_precinct(known_week, client, auth, make_user, make_precinct):
    make_precinct("PCS02")
    lead = make_user("lead", precinct="PCS01")
    auth.login(lead)
    assert client.get("/reports/weekly", query_string={"precinct": "PCS02"}).status_code == 404
    assert client.get("/reports/weekly.xlsx", query_string={"precinct": "PCS02"}).status_code == 404
    token = {"Authorization": f"Bearer {api_token(lead)}"}
    assert client.get("/api/v1/reports/weekly", headers=token).status_code == 404  # the county
    assert client.get("/api/v1/reports/weekly?precinct=PCS02", headers=token).status_code == 404


def test_the_center_reads_the_county_and_each_precinct(known_week, client, auth, make_user):
    auth.login(make_user("center"))
    county = client.get("/reports/weekly", query_string={"week": WEEK})
    assert page_report(county.get_data(as_text=True))["metrics"]["warnings_received"] == 5
    pcs02 = client.get("/reports/weekly", query_string={"week": WEEK, "precinct": "PCS02"})
    assert page_report(pcs02.get_data(as_text=True))["metrics"]["warnings_received"] == 1


def test_the_api_refuses_missing_and_revoked_tokens(app, client, make_user):
    response = client.get("/api/v1/reports/weekly")
    assert response.status_code == 401 and response.get_json()["error"]["code"] == "unauthorized"
    user = make_user("center")
    token = api_token(user)
    db.session.scalar(db.select(ApiToken).filter_by(user_id=user.id)).revoked = True
    db.session.commit()
    assert client.get("/api/v1/feedback", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/api/v1/reports/weekly?week=2026-47",
                      headers={"Authorization": "Bearer nope"}).status_code == 401


def test_monday_job_stores_each_report_once(known_week, clock, make_precinct):
    make_precinct("PCS02")
    clock(at("2026-11-23 07:59"))
    assert generate_weekly_reports() == 3  # not yet due: it catches up the week before (W46), once
    assert {r.week for r in db.session.scalars(db.select(WeeklyReport))} == {"2026-W46"}
    clock(at(REPORT_TIME))
    assert generate_weekly_reports() == 3  # the county, PCS01, PCS02
    assert generate_weekly_reports() == 0
    stored = db.session.scalars(db.select(WeeklyReport).filter_by(week=WEEK)).all()
    county = next(r for r in stored if r.precinct_id is None)
    assert county.data == json.loads(json.dumps(compute_report(WEEK))) and county.scheduled
    assert county.generated_at == at(REPORT_TIME)


def test_on_demand_report_is_archived_and_shown_as_stored(known_week, client, auth, make_user, clock, new_case):
    auth.login(make_user("lead", precinct="PCS01"))
    response = client.post("/reports/weekly/generate", data={"week": WEEK, "precinct": "PCS01"})
    assert response.status_code == 302
    stored = db.session.scalar(db.select(WeeklyReport))
    assert not stored.scheduled and stored.generated_by_id is not None
    new_case("2026-11-18 09:00")  # a late change does not alter the snapshot
    clock(at(REPORT_TIME))
    page = client.get(response.headers["Location"])
    assert page_report(page.get_data(as_text=True)) == stored.data
    assert WEEK in client.get("/reports/archive").get_data(as_text=True)


def test_feedback_one_row_per_warning_in_the_period(known_week, runner, client, make_user, tmp_path):
    out = tmp_path / "f.xlsx"
    result = runner.invoke(args=["feedback", "--from", "2026-11-16", "--to", "2026-11-22", "--out", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(openpyxl.load_workbook(out).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "预警编号" and len(rows) == 1 + 5
    token = {"Authorization": f"Bearer {api_token(make_user('lead', precinct='PCS01'))}"}
    items = client.get("/api/v1/feedback?from=2026-11-16&to=2026-11-22", headers=token).get_json()["items"]
    assert len(items) == 3  # the lead's precinct only: c1, c5, c2
    first = items[0]
    assert first["precinct"] == "PCS01" and first["method"] == "visit" and first["reached"] == "self"
    assert first["outcome"] == "dissuaded" and first["amount_dissuaded"] == "5000.00"
    assert first["signed_at"] == "2026-11-16T09:10:00+08:00" and first["closed_at"] == "2026-11-17T10:00:00+08:00"
    bad = client.get("/api/v1/feedback?from=2026-11-16", headers=token)
    assert bad.status_code == 400 and "to" in bad.get_json()["error"]["fields"]


@pytest.mark.parametrize("role", ("officer", "admin"))
def test_officers_and_admins_get_no_report_by_api(app, client, make_user, role):
    token = {"Authorization": f"Bearer {api_token(make_user(role, precinct='PCS01'))}"}
    assert client.get("/api/v1/reports/weekly?precinct=PCS01", headers=token).status_code == 404
    assert client.get("/api/v1/feedback?from=2026-11-16&to=2026-11-22", headers=token).status_code == 403


def test_one_unanswered_call_on_an_extra_high_case_is_an_attempt_not_a_contact(make_case, make_user, clock, client,
                                                                              auth):
    from dissuasion.contacts.operations import log_contact
    from dissuasion.contacts.validation import parse_contact

    clock(at("2026-11-17 09:00"))
    officer = make_user("officer", precinct="PCS01")
    case = make_case(tier="extra_high", precinct="PCS01", assignee=officer)
    clock(at("2026-11-17 09:10"))  # within its 30 minutes, nobody answers
    log_contact(case, parse_contact({"method": "phone", "reached": "none", "failure_reason": "no_answer"}, False),
                officer)
    db.session.commit()
    assert case.first_attempt_at == at("2026-11-17 09:10") and case.first_reached_at is None
    assert case.due_at == case.contact_deadline  # the deadline still binds: a call did not meet it
    clock(at(REPORT_TIME))
    assert case.is_overdue()
    m = compute_report(WEEK)["metrics"]
    assert m["first_attempt_within_limit_pct"]["extra_high"] == 100.0
    assert m["first_reach_within_limit_pct"]["extra_high"] == 0.0
    assert m["median_minutes_to_first_reach"]["extra_high"] is None
    auth.login(make_user("lead", precinct="PCS01"))
    html = client.get("/reports/weekly", query_string={"week": WEEK}).get_data(as_text=True)
    table = re.search(r'<table class="first-contact">(.*?)</table>', html, re.S).group(1)
    cells = re.findall(r"<td[^>]*>(.*?)</td>", re.search(r"<tr><td>特高危</td>.*?</tr>", table, re.S).group(0))
    assert cells[:3] == ["特高危", "100.0%", "0.0%"]  # 首次尝试 beside 首次联系上
    assert "首次尝试" in table and "首次联系上" in table
    values = xlsx_values(client.get("/reports/weekly.xlsx", query_string={"week": WEEK}).data)
    assert values["按时首次尝试率 · 特高危"][0] == 100.0 and values["按时首次联系上率 · 特高危"][0] == 0.0
    labels = list(values)
    assert labels.index("按时首次联系上率 · 特高危") == labels.index("按时首次尝试率 · 特高危") + 1  # side by side


def test_the_page_opens_on_the_current_week_to_date_with_last_week_beside_it(new_case, make_user, client, auth,
                                                                            clock):
    new_case("2026-11-16 10:00", tier="medium")  # last week (W47)
    new_case("2026-11-23 09:00", tier="medium")  # this Monday morning (W48)
    new_case("2026-11-23 09:30", tier="high")
    clock(at("2026-11-23 11:00"))
    auth.login(make_user("lead", precinct="PCS01"))
    html = client.get("/reports/weekly").get_data(as_text=True)
    report = page_report(html)
    assert report["week"] == "2026-W48" and "本周至今（截至 2026-11-23 11:00）" in html
    assert report["metrics"]["cases_new"] == 2 and report["previous"]["cases_new"] == 1
    assert 'data-confirm="这一周还没有结束' in html  # archiving a week not over asks first
    stored = client.post("/reports/weekly/generate", data={"week": "2026-W48", "precinct": "PCS01"})
    snapshot = client.get(stored.headers["Location"]).get_data(as_text=True)
    assert "生成时这一周尚未结束：数字只算到生成的那一刻" in snapshot


def test_an_empty_chart_says_no_data(make_user, client, auth, clock):
    clock(at(REPORT_TIME))
    auth.login(make_user("lead", precinct="PCS01"))
    html = client.get("/reports/weekly", query_string={"week": WEEK}).get_data(as_text=True)
    assert html.count("暂无数据") == 3 and "<canvas" not in html


def test_a_chart_with_data_is_drawn(known_week, make_user, client, auth):
    auth.login(make_user("lead", precinct="PCS01"))
    html = client.get("/reports/weekly", query_string={"week": WEEK}).get_data(as_text=True)
    assert 'id="chart-outcomes"' in html and 'id="chart-first-reach"' in html and "暂无数据" not in html


def test_the_county_xlsx_has_a_sheet_per_precinct(known_week, make_user, make_precinct, client, auth):
    make_precinct("PCS02")
    auth.login(make_user("center"))
    book = openpyxl.load_workbook(io.BytesIO(client.get("/reports/weekly.xlsx", query_string={"week": WEEK}).data))
    names = book.sheetnames
    precinct_sheets = [name for name in names if name.startswith("PCS")]
    assert names[:2] == ["周报", "诈骗类型"] and precinct_sheets == ["PCS01 PCS01派出所", "PCS02 PCS02派出所"]
    assert names[-2:] == precinct_sheets  # after the county's own sheets (周报, 诈骗类型, 宣传防范)
    per = {name: {r[0]: r[1] for r in book[name].iter_rows(min_row=2, values_only=True)} for name in precinct_sheets}
    county = {r[0]: r[1] for r in book["周报"].iter_rows(min_row=2, values_only=True)}
    pcs01 = compute_report(WEEK, known_week["c1"].precinct)["metrics"]
    assert per["PCS01 PCS01派出所"]["接收预警"] == pcs01["warnings_received"]
    assert per["PCS01 PCS01派出所"]["接收预警"] + per["PCS02 PCS02派出所"]["接收预警"] <= county["接收预警"]
    lead_book = openpyxl.load_workbook(io.BytesIO(client.get("/reports/weekly.xlsx", query_string={
        "week": WEEK, "precinct": "PCS01"}).data))
    assert lead_book.sheetnames[:2] == ["周报", "诈骗类型"]
    assert not any(name.startswith("PCS") for name in lead_book.sheetnames)  # a precinct's own: no per-precinct sheets


def test_the_api_gives_the_first_attempt_and_the_first_reach(make_case, make_user, clock, client, bearer):
    from dissuasion.contacts.operations import log_contact
    from dissuasion.contacts.validation import parse_contact

    clock(at("2026-11-17 09:00"))
    officer = make_user("officer", precinct="PCS01")
    case = make_case(tier="high", precinct="PCS01", assignee=officer)
    log_contact(case, parse_contact({"method": "phone", "reached": "none", "failure_reason": "no_answer"}, False),
                officer)
    db.session.commit()
    body = client.get(f"/api/v1/cases/{case.id}", headers=bearer(officer)).get_json()
    assert body["first_attempt_at"] == "2026-11-17T09:00:00+08:00" and body["first_reached_at"] is None
    assert "first_contact_at" not in body
