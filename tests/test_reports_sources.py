"""The weekly report and the feedback file count warnings by source and 退回 apart (issue 21)."""
import openpyxl
import pytest

from dissuasion.cases import returns
from dissuasion.cases.entry import enter_warning, parse_entry
from dissuasion.extensions import db
from dissuasion.reports.queries import compute_report, feedback_rows
from dissuasion.reports.tables import metric_rows
from dissuasion.reports.weeks import week_period
from tests.test_reports import WEEK, at


@pytest.fixture
def week_with_sources(make_case, make_user, make_precinct, clock):
    """In the week: 2 pushed (PCS01), a 银行阻截 and a 110 entered by the lead; a 外县 group of 2 sent back."""
    clock(at("2026-11-17 10:00"))
    lead, center = make_user("lead", precinct="PCS01"), make_user("center")
    make_case(precinct="PCS01", name="甲")
    make_case(precinct="PCS01", name="乙")
    for source, phone in (("bank", "13800000001"), ("police_110", "13800000002")):
        enter_warning(parse_entry({"source": source, "tier": "high", "name": source, "phone": phone,
                                   "reported_at": "2026-11-17 09:30"}, lead), lead)
    make_case(precinct=None, name="外1", precinct_text="邻县城关派出所")
    make_case(precinct=None, name="外2", precinct_text="邻县城关派出所")
    db.session.commit()
    returns.return_group(center, "邻县城关派出所", "户籍和现住址均在邻县", limit=100)
    db.session.commit()
    return center


def test_the_report_counts_warnings_by_source_and_returns_apart(week_with_sources, make_precinct):
    m = compute_report(WEEK)["metrics"]
    assert m["warnings_received"] == 4 and m["warnings_returned"] == 2
    assert m["warnings_by_source"] == {"push": 2, "bank": 1, "hotline_96110": 0, "police_110": 1, "relative": 0,
                                       "walk_in": 0, "other": 0}
    precinct = compute_report(WEEK, make_precinct("PCS01"))["metrics"]
    assert precinct["warnings_by_source"]["bank"] == 1 and precinct["warnings_returned"] == 0
    rows = {r.key: r.current for r in metric_rows(compute_report(WEEK))}
    assert rows["warnings_by_source.bank"] == 1 and rows["warnings_returned"] == 2


def test_the_feedback_file_lists_returned_warnings_with_their_status_and_reason(week_with_sources, runner, tmp_path):
    out = tmp_path / "f.xlsx"
    result = runner.invoke(args=["feedback", "--from", "2026-11-16", "--to", "2026-11-22", "--out", str(out)])
    assert result.exit_code == 0, result.output
    sheet = list(openpyxl.load_workbook(out).worksheets[0].iter_rows(values_only=True))
    header = sheet[0]
    rows = [dict(zip(header, r, strict=True)) for r in sheet[1:]]
    assert len(rows) == 6
    back = [r for r in rows if r["状态"] == "已退回"]
    assert len(back) == 2 and {r["退回原因"] for r in back} == {"户籍和现住址均在邻县"}
    assert sorted(r["来源"] for r in rows) == ["110", "推送", "推送", "推送", "推送", "银行阻截"]


def test_a_lead_gets_no_returned_rows(week_with_sources, make_user):
    lead = make_user("lead", precinct="PCS01")
    rows = feedback_rows(week_period(WEEK), lead)
    assert len(rows) == 4 and all(r["status"] != "returned" for r in rows)
