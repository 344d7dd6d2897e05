"""工作总结 drafted from the data (issue 24): amounts in 万元 as precincts write them, the text's numbers equal to
the weekly report's JSON, the comparison with the previous period, and the .docx from the CLI and from the page
after an edit."""
import datetime as dt
import io
import re
from decimal import Decimal

import docx
import pytest
from sqlalchemy import select

from dissuasion.contacts.models import Contact
from dissuasion.core.auditlog import AuditEvent
from dissuasion.core.enums import AppStatus, CaseStatus, Method, Outcome, Reached
from dissuasion.core.timeutil import from_local
from dissuasion.extensions import db
from dissuasion.prevention.operations import record_activity
from dissuasion.prevention.validation import parse_activity
from dissuasion.reports.queries import compute_report
from dissuasion.reports.summary import draft_text, summary_figures, wan

WEEK, MONDAY, SUNDAY = "2026-W47", "2026-11-16", "2026-11-22"


def at(local: str) -> dt.datetime:
    return from_local(dt.datetime.fromisoformat(local))


@pytest.mark.parametrize(("amount", "text"), [
    ("803456.00", "80余万元"), ("800000.00", "80万元"), ("1234567.89", "123余万元"), ("100000.00", "10万元"),
    ("35600.00", "3.5余万元"), ("35000.00", "3.5万元"), ("30000.00", "3万元"), ("10000.00", "1万元"),
    ("5000.00", "0.5万元"), ("5234.00", "0.52余万元"), ("9999.99", "0.99余万元"), ("50.00", "50元"),
    ("0.00", "0元"),
])
def test_amounts_are_written_in_wan_rounded_down_with_yu(amount, text):
    assert wan(Decimal(amount)) == text


def _docx_text(data: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(data)).paragraphs)


@pytest.fixture
def week(make_case, make_user, clock):
    """Week 2026-W47 of PCS01: two cases closed 及时劝阻 (803,456.00 kept), one 已被骗, one case's APP registered
    in a contact, a 讲座 with 120 人次, 300 份, 15 APP registrations; and the week before, one case dissuaded."""
    officer = make_user("officer")

    def closed(when: str, outcome: Outcome, **amounts):
        clock(at(when))
        case = make_case(community="东门社区")
        case.status, case.closed_at, case.outcome, case.due_at = CaseStatus.CLOSED, at(when), outcome, None
        for name, value in amounts.items():
            setattr(case, name, Decimal(value))
        db.session.commit()
        return case

    closed("2026-11-10 10:00", Outcome.DISSUADED, amount_dissuaded="2000.00")
    case = closed("2026-11-17 10:00", Outcome.DISSUADED, amount_dissuaded="800000.00")
    db.session.add(Contact(case_id=case.id, method=Method.VISIT, reached=Reached.SELF, contacted_at=at(
        "2026-11-17 09:00"), app_status=AppStatus.REGISTERED_NOW))
    closed("2026-11-18 10:00", Outcome.DISSUADED, amount_dissuaded="3456.00")
    closed("2026-11-19 10:00", Outcome.DEFRAUDED, amount_defrauded="1200.50")
    clock(at("2026-11-23 08:00"))
    record_activity(parse_activity({"kind": "lecture", "held_on": "2026-11-18", "community": "东门社区",
                                    "people": "120", "materials": "300", "app_registrations": "15"},
                                   officer.precinct), officer)
    db.session.commit()
    return officer


def test_the_texts_numbers_are_the_weekly_reports(week):
    report = compute_report(WEEK)
    m, p = report["metrics"], report["prevention"]["current"]
    text = draft_text(summary_figures(dt.date(2026, 11, 16), dt.date(2026, 11, 22)))
    assert f"共接收反诈预警{m['warnings_received']}条（其中中心推送{m['warnings_received']}条）" in text
    assert f"精准劝阻{m['outcomes']['dissuaded']}人" in text and m["outcomes"]["dissuaded"] == 2
    assert f"避免事主经济损失共计{wan(m['amount_dissuaded'])}（803,456.00元）" in text
    assert "80余万元" in text and m["amount_dissuaded"] == "803456.00"
    assert f"预警后被骗{m['outcomes']['defrauded']}人" in text and m["outcomes"]["defrauded"] == 1
    assert f"开展宣传活动{p['activities']}次（讲座/报告会1次）" in text
    assert f"受教群众{p['people']}人次" in text and f"发放宣传资料{p['materials']}份" in text
    assert f"注册国家反诈中心APP合计{p['app']['total']}人次" in text and p["app"]["total"] == 16
    assert "精准劝阻2人（上期1人，增加1人）" in text and "劝阻金额80余万元（上期0.2万元）" in text


def test_a_precinct_summary_names_the_precinct_and_counts_only_it(week, make_precinct):
    make_precinct("PCS02")
    figures = summary_figures(dt.date(2026, 11, 16), dt.date(2026, 11, 22), week.precinct)
    text = draft_text(figures)
    assert text.startswith("PCS01派出所反诈工作总结（2026年11月16日至2026年11月22日）")
    other = draft_text(summary_figures(dt.date(2026, 11, 16), dt.date(2026, 11, 22),
                                       make_precinct("PCS02")))
    assert "精准劝阻0人" in other and "本期未登记宣传活动" in other


def test_a_month_compares_with_the_month_before(week):
    figures = summary_figures(dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert (figures["previous"]["from"], figures["previous"]["to"]) == ("2026-10-01", "2026-10-31")
    span = summary_figures(dt.date(2026, 11, 5), dt.date(2026, 11, 24))  # any other span: the same days before
    assert (span["previous"]["from"], span["previous"]["to"]) == ("2026-10-16", "2026-11-04")
    assert "精准劝阻3人" in draft_text(figures)


def test_the_cli_writes_the_docx_with_the_reports_amount_and_the_activity_counts(week, runner, tmp_path):
    out = tmp_path / "summary.docx"
    result = runner.invoke(args=["report", "summary", "--from", MONDAY, "--to", SUNDAY, "--format", "docx",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = _docx_text(out.read_bytes())
    assert wan(compute_report(WEEK)["metrics"]["amount_dissuaded"]) in text
    for words in ("80余万元", "受教群众120人次", "发放宣传资料300份", "宣传活动中注册国家反诈中心APP15人次"):
        assert words in text
    txt = tmp_path / "summary.txt"
    runner.invoke(args=["report", "summary", "--from", MONDAY, "--to", SUNDAY, "--precinct", "PCS01", "--format",
                        "txt", "--out", str(txt)])
    assert txt.read_text(encoding="utf-8").startswith("PCS01派出所反诈工作总结")
    bad = runner.invoke(args=["report", "summary", "--from", SUNDAY, "--to", MONDAY, "--out", str(out)])
    assert bad.exit_code != 0 and "结束不早于开始" in bad.output


def test_the_page_exports_the_text_as_edited(week, client, auth, make_user):
    lead = make_user("lead")
    auth.login(lead)
    page = client.get(f"/reports/summary?from={MONDAY}&to={SUNDAY}").get_data(as_text=True)
    draft = re.search(r'<textarea id="summary-text" name="text" rows="18">(.*?)</textarea>', page, re.S).group(1)
    assert "80余万元" in draft and "受教群众120人次" in draft
    edited = draft.replace("精准劝阻2人", "精准劝阻2人（其中老年人1人）")
    response = client.post("/reports/summary.docx", data={"from": MONDAY, "to": SUNDAY, "text": edited})
    assert response.mimetype.endswith("wordprocessingml.document")
    text = _docx_text(response.data)
    assert "精准劝阻2人（其中老年人1人）" in text and "80余万元" in text and "受教群众120人次" in text
    event = db.session.scalar(select(AuditEvent).filter_by(action="export", object_type="work_summary"))
    assert event.username == lead.username and event.detail["period"] == f"{MONDAY}..{SUNDAY}"


@pytest.mark.parametrize(("role", "query", "status"), [
    ("officer", "", 403), ("lead", "?precinct=PCS02", 404), ("lead", "", 200), ("center", "?precinct=PCS02", 200),
])
def test_who_may_draft_which_summary(client, auth, make_user, make_precinct, role, query, status):
    make_precinct("PCS02")
    auth.login(make_user(role, precinct=None if role == "center" else "PCS01"))
    assert client.get(f"/reports/summary{query}").status_code == status


def test_the_draft_stays_chinese_on_an_english_page(week, client, auth, make_user):
    auth.login(make_user("lead"))
    client.post("/lang/en")
    page = client.get(f"/reports/summary?from={MONDAY}&to={SUNDAY}").get_data(as_text=True)
    draft = re.search(r'<textarea id="summary-text" name="text" rows="18">(.*?)</textarea>', page, re.S).group(1)
    assert "（讲座/报告会1次）" in draft and "Lecture" not in draft and "Center push" not in draft
