"""Follow-ups as tasks on 我的任务 and the lead's board; the boards at volume: paging with totals, filters,
"all matching", one action for the selection; the county queue's action bar."""
import re

import pytest

from dissuasion.cases.models import Case
from dissuasion.cases.queries import WorklistFilter, matching_ids, tasks
from dissuasion.contacts.operations import log_contact
from dissuasion.contacts.validation import parse_contact
from dissuasion.core.enums import CaseStatus, FollowUpKind, FollowUpStatus, Method, Tier, WarningSource
from dissuasion.extensions import db
from dissuasion.followups.models import FollowUp
from dissuasion.followups.rules import schedule
from tests.test_reports import at


def _dissuaded_and_closed(case, officer, when: str):
    """A case 办结 as 及时劝阻 at `when`: its 回访 (day 1, 3, 7 for 特高危) are scheduled, the case is in its watch."""
    log_contact(case, parse_contact({"method": "visit", "reached": "self", "outcome": "dissuaded",
                                     "amount_dissuaded": "100", "contacted_at": when}, True), officer, close=True)
    db.session.commit()


@pytest.fixture
def revisit_due(make_case, make_user, clock):
    clock(at("2026-11-20 09:00"))
    officer = make_user("officer", precinct="PCS01")
    case = make_case(tier="extra_high", precinct="PCS01", assignee=officer, name="回访对象")
    clock(at("2026-11-20 09:30"))
    _dissuaded_and_closed(case, officer, "2026-11-20T09:30")
    clock(at("2026-11-21 08:00"))  # the day-1 回访 is due at 09:30 today
    return officer, case


def test_a_revisit_due_today_is_a_row_of_its_own_sorted_with_the_cases(revisit_due, make_case, clock):
    officer, case = revisit_due
    assert case.status == CaseStatus.CLOSED  # not on the worklist as a case any more
    later = make_case(tier="low", precinct="PCS01", assignee=officer, name="低风险")  # due in days
    page = tasks(officer)
    rows = [(t.case.id, t.followup.kind if t.followup else None) for t in page.items]
    assert rows == [(case.id, FollowUpKind.REVISIT), (later.id, None)]
    assert page.total == 2 and page.cases_total == 1
    clock(at("2026-11-21 10:00"))  # overdue now: before any case still inside its time
    assert tasks(officer).items[0].followup is not None


def test_a_revisit_due_tomorrow_is_not_a_task_yet(revisit_due, clock):
    officer, case = revisit_due
    clock(at("2026-11-20 10:00"))
    assert [t.followup for t in tasks(officer).items] == []


def test_recording_it_from_my_tasks_marks_that_followup_done_and_comes_back(revisit_due, client, auth):
    officer, case = revisit_due
    auth.login(officer)
    page = client.get("/cases/").get_data(as_text=True)
    link = re.search(r'href="(/cases/\d+/contact\?followup=(\d+)[^"]*)">登记回访', page)
    assert link, page
    followup_id = int(link.group(2))
    form = client.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "拨打" in form and "回访" in form
    response = client.post(f"/cases/{case.id}/contact", data={
        "followup": followup_id, "next": "/cases/", "method": "phone", "reached": "self",
        "contacted_at": "2026-11-21T08:00", "action": "again", "version": case.version})
    assert response.status_code == 302 and response.headers["Location"] == "/cases/"
    done = db.session.get(FollowUp, followup_id)
    assert done.status == FollowUpStatus.DONE and done.contact_id is not None  # done although 90 minutes early
    after = client.get("/cases/").get_data(as_text=True)
    assert "已登记回访" in after and "回访到期" not in after  # the task is gone from 我的任务


def test_the_leads_board_shows_the_revisit_too(revisit_due, make_user, client, auth):
    officer, case = revisit_due
    auth.login(make_user("lead", precinct="PCS01"))
    page = client.get("/cases/board").get_data(as_text=True)
    assert "回访对象" in page and "回访到期" in page


@pytest.fixture
def push(make_case, make_user, make_precinct, clock):
    """60 new cases in PCS01's pool: 30 高 in 东门社区, 20 中 in 西门社区 (hand-entered), 10 低 overdue."""
    clock(at("2026-11-20 09:00"))
    make_precinct("PCS01", communities=("东门社区", "西门社区"))
    old = [make_case(tier="low", community="西门社区", name=f"旧{i}") for i in range(10)]
    clock(at("2026-11-23 09:00"))  # the 低 cases' 24 h to sign have passed
    high = [make_case(tier="high", community="东门社区", name=f"高{i}") for i in range(30)]
    medium = [make_case(tier="medium", community="西门社区", name=f"中{i}", source=WarningSource.MANUAL)
              for i in range(20)]
    return {"high": high, "medium": medium, "low": old}


def test_the_board_pages_with_totals(push, make_user, client, auth):
    auth.login(make_user("lead", precinct="PCS01"))
    html = client.get("/cases/board").get_data(as_text=True)
    assert "共 60 件任务" in html and "第 1 / 3 页" in html
    assert html.count('name="case_ids"') == 25
    assert html.index("旧0") < html.index("高0")  # overdue first
    assert client.get("/cases/board?page=3").get_data(as_text=True).count('name="case_ids"') == 10


@pytest.mark.parametrize("query, expected", [
    ({"tier": "high"}, 30), ({"community": "西门社区"}, 30), ({"overdue": "y"}, 10), ({"source": "manual"}, 20),
    ({"status": "new"}, 60), ({"status": "closed"}, 0), ({"pool": "y", "tier": "medium"}, 20)])
def test_the_board_filters(push, make_user, query, expected):
    lead = make_user("lead", precinct="PCS01")
    case = push["high"][0]
    community = next(c for c in case.precinct.communities if c.name == query.get("community"))\
        if "community" in query else None
    f = WorklistFilter(tier=Tier(query["tier"]) if "tier" in query else None,
                       status=CaseStatus(query["status"]) if "status" in query else None,
                       overdue="overdue" in query, pool="pool" in query,
                       community_id=community.id if community else None,
                       source=WarningSource(query["source"]) if "source" in query else None)
    assert len(matching_ids(lead, f)) == expected
    assert tasks(lead, per_page=25, filters=f).cases_total == expected


def test_all_matching_is_assigned_in_one_action(push, make_user, client, auth):
    lead, officer = make_user("lead", precinct="PCS01"), make_user("officer", precinct="PCS01")
    auth.login(lead)
    page = client.get("/cases/board?tier=high").get_data(as_text=True)
    assert "全部 30 件符合条件的任务" in page and 'action="/cases/assign?tier=high"' in page
    response = client.post("/cases/assign?tier=high", data={"all_matching": "y", "officer": officer.id,
                                                             "action": "assign"})
    assert response.status_code == 302 and "tier=high" in response.headers["Location"]
    held = db.session.scalars(db.select(Case.tier).where(Case.assignee_id == officer.id)).all()
    assert len(held) == 30 and set(held) == {Tier.HIGH}
    assert "已指派 30 件任务" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_ticked_cases_are_signed_in_one_action(push, make_user, client, auth):
    lead = make_user("lead", precinct="PCS01")
    auth.login(lead)
    ids = [c.id for c in push["medium"][:3]]
    client.post("/cases/assign", data={"case_ids": ids, "action": "sign", "officer": ""})
    assert {db.session.get(Case, i).status for i in ids} == {CaseStatus.SIGNED}
    assert db.session.get(Case, push["medium"][3].id).status == CaseStatus.NEW


def test_nothing_chosen_says_what_to_do(push, make_user, client, auth):
    auth.login(make_user("lead", precinct="PCS01"))
    response = client.post("/cases/assign", data={"officer": "", "action": "assign"}, follow_redirects=True)
    assert "请先勾选任务" in response.get_data(as_text=True)


def test_the_county_queue_pages_and_routes_all_matching_with_one_select(make_case, make_user, make_precinct, client,
                                                                        auth):
    pcs02 = make_precinct("PCS02")
    for i in range(30):
        make_case(precinct=None, tier="high" if i % 2 else "low", name=f"待分派{i}", precinct_text="新城派出所")
    auth.login(make_user("center"))
    html = client.get("/cases/county").get_data(as_text=True)
    assert "共 30 件任务" in html and html.count('name="case_ids"') == 25
    assert html.count("<select") == 4  # the group's, the bar's, the filter's tier and source (was one per case)
    response = client.post("/cases/route-selected?tier=high", data={"all_matching": "y",
                                                                    "destination": f"p:{pcs02.id}"})
    assert response.status_code == 302
    routed = db.session.scalars(db.select(Case.tier).where(Case.precinct_id == pcs02.id)).all()
    assert len(routed) == 15 and set(routed) == {Tier.HIGH}


def test_a_planned_followup_is_a_task_for_the_holder(make_case, make_user, clock):
    clock(at("2026-11-20 09:00"))
    officer = make_user("officer", precinct="PCS01")
    case = make_case(tier="medium", assignee=officer)
    schedule(case, FollowUpKind.MANUAL, Method.PHONE, at("2026-11-20 18:00"), by=officer)
    db.session.commit()
    assert [t.followup.kind for t in tasks(officer).items if t.followup] == [FollowUpKind.MANUAL]
    assert tasks(make_user("officer", precinct="PCS01")).total == 0  # not a colleague's task
