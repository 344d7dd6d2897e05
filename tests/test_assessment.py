"""The monthly 考评 (issue 25): the table built from known cases, contacts, follow-ups, meetings, publicity
activities and APP targets equals the one computed by hand here, with the admin's weights applied; the page, the
.xlsx and the API show it."""
import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest

from dissuasion.contacts.models import Contact
from dissuasion.core.enums import (
    ActivityKind,
    AppStatus,
    CaseStatus,
    FollowUpKind,
    FollowUpStatus,
    Method,
    Outcome,
    Reached,
)
from dissuasion.core.timeutil import from_local
from dissuasion.extensions import db
from dissuasion.followups.rules import schedule
from dissuasion.prevention.models import Activity, AppTarget
from dissuasion.watch.assessment import assess, month_period, set_weights
from dissuasion.watch.operations import (
    EntryInput,
    WatchError,
    create_entry,
    find_or_create_person,
    kind_by_code,
    record_meeting,
)


def at(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return from_local(dt.datetime(2026, month, day, hour, minute))


def _case(make_case, clock, when, tier, community, precinct="PCS01", **fields):
    clock(when)
    case = make_case(tier=tier, precinct=precinct, community=community, phone=None)
    for name, value in fields.items():
        setattr(case, name, value)
    db.session.commit()
    return case


def _visit(case, when, app_status=None):
    db.session.add(Contact(case=case, method=Method.VISIT, reached=Reached.SELF, contacted_at=when,
                           app_status=app_status))


def _activity(community, day: dt.date, kind=ActivityKind.LECTURE, app=0, precinct=None):
    db.session.add(Activity(precinct_id=community.precinct_id if community else precinct.id,
                            community_id=community.id if community else None, kind=kind, held_on=day,
                            people=50, app_registrations=app))


def _revisit(case, due, done):
    f = schedule(case, FollowUpKind.REVISIT, Method.PHONE, due)
    f.status, f.done_at = FollowUpStatus.DONE, done


@pytest.fixture
def november(make_case, make_user, clock):
    """Known work in November 2026 (comments give what each case adds), and one October case that must not count.

    东门社区 (PCS01): a1 high, signed and reached on time, seen at home, closed 及时劝阻 1,000.00, two 回访 (one on
    time, one late); a2 medium, signed late, not reached past its limit; a watch entry met on time, met late, then
    missed. 西门社区 (PCS01): b1 extra high, signed and reached on time, never seen, closed 已被骗. 南关社区 (PCS02):
    c1 low, on time, closed 及时劝阻 500.00.

    Publicity held in November: 东门 2 (a lecture with 4 APP registrations, a banner), 西门 1, PCS01 at a market
    outside any community 1 (its 未定社区 row), 南关 3 (a lecture with 5 registrations before its target's day, one
    with 3 after, a banner); 东门's October lecture (3 registrations) and December ones (5) are not November's.
    APP targets: 东门 20 from 10-01: 3 + 4 activities' + a1's 本次注册 at the visit = 8 by November's end, 40.0%;
    南关 2 from 11-15: 3 + c1's 本次注册 = 4, capped at 2, 100.0%; 西门 10 from 12-01: not yet, not counted."""
    a1 = _case(make_case, clock, at(11, 10), "high", "东门社区", status=CaseStatus.CLOSED,
               sign_deadline=at(11, 10, 10, 30), signed_at=at(11, 10, 10, 20), contact_deadline=at(11, 10, 14),
               first_reached_at=at(11, 10, 12), outcome=Outcome.DISSUADED, closed_at=at(11, 12),
               amount_dissuaded=Decimal("1000.00"))
    _visit(a1, at(11, 10, 12), AppStatus.REGISTERED_NOW)
    _revisit(a1, at(11, 15), at(11, 15, 9))
    _revisit(a1, at(11, 20), at(11, 21))
    _case(make_case, clock, at(11, 11), "medium", "东门社区", status=CaseStatus.SIGNED,
          sign_deadline=at(11, 11, 12), signed_at=at(11, 11, 13), contact_deadline=at(11, 12), first_reached_at=None)
    _case(make_case, clock, at(11, 5), "extra_high", "西门社区", status=CaseStatus.CLOSED,
          sign_deadline=at(11, 5, 10, 30), signed_at=at(11, 5, 10, 5), contact_deadline=at(11, 5, 11),
          first_reached_at=at(11, 5, 10, 40), outcome=Outcome.DEFRAUDED, closed_at=at(11, 8),
          amount_dissuaded=Decimal("300.00"))  # an amount left from another outcome is not money kept
    c1 = _case(make_case, clock, at(11, 20), "low", "南关社区", precinct="PCS02", status=CaseStatus.CLOSED,
               sign_deadline=at(11, 21), signed_at=at(11, 20, 11), contact_deadline=at(11, 22),
               first_reached_at=at(11, 20, 12), outcome=Outcome.DISSUADED, closed_at=at(11, 25),
               amount_dissuaded=Decimal("500.00"))
    db.session.add(Contact(case=c1, method=Method.PHONE, reached=Reached.SELF, contacted_at=at(11, 20, 12),
                           app_status=AppStatus.REGISTERED_NOW))
    _case(make_case, clock, at(10, 20), "high", "东门社区", status=CaseStatus.CLOSED,  # October: not counted
          sign_deadline=at(10, 20, 10, 30), signed_at=at(10, 20, 11), contact_deadline=at(10, 20, 14),
          outcome=Outcome.DISSUADED, closed_at=at(10, 25), amount_dissuaded=Decimal("9999.00"))
    clock(at(10, 31))
    lead = make_user("lead", precinct="PCS01")
    officer = make_user("officer", precinct="PCS01")
    community = next(c for c in lead.precinct.communities if c.name == "东门社区")
    west = next(c for c in lead.precinct.communities if c.name == "西门社区")
    south = c1.community
    day = dt.date
    _activity(community, day(2026, 10, 28), app=3)  # October: registrations count for the target, not publicity
    _activity(community, day(2026, 11, 3), app=4)
    _activity(community, day(2026, 11, 18), kind=ActivityKind.BANNER)
    _activity(community, day(2026, 12, 1), app=5)  # December: neither
    _activity(west, day(2026, 11, 30))
    _activity(None, day(2026, 11, 20), precinct=lead.precinct)  # at the market: PCS01's 未定社区
    _activity(south, day(2026, 11, 10), app=5)  # before 南关's target's day: publicity only
    _activity(south, day(2026, 11, 25), app=3)
    _activity(south, day(2026, 11, 26), kind=ActivityKind.BANNER)
    db.session.add_all([AppTarget(community_id=community.id, target=20, since=day(2026, 10, 1)),
                        AppTarget(community_id=south.id, target=2, since=day(2026, 11, 15)),
                        AppTarget(community_id=west.id, target=10, since=day(2026, 12, 1))])
    entry = create_entry(find_or_create_person("回流人员", phone="13600000001"), EntryInput(
        kind_id=kind_by_code("returnee").id, precinct_id=lead.precinct_id, officer_id=officer.id,
        community_id=community.id), lead)  # first meeting due by the end of 11-06
    clock(at(11, 5))
    # on time; next due by the end of 11-11
    record_meeting(entry, officer, at(11, 5), "officer", "visit", observed="在家")
    clock(at(11, 13))
    # late; next due by the end of 11-19: missed
    record_meeting(entry, officer, at(11, 13), "officer", "visit", observed="在家")
    db.session.commit()
    clock(at(12, 5))
    # the admin's weights: 预警数 and 预警后被骗 changed, the others left at their defaults
    set_weights({"warnings": Decimal("10"), "defrauded": Decimal("20")}, make_user("admin", precinct=None))
    db.session.commit()
    return lead


def _table(rows):
    return {r.name: (r.values, r.score, r.rank) for r in rows}


def test_the_months_table_equals_the_one_computed_by_hand(november, make_user):
    table = assess(month_period("2026-11"), make_user("center", precinct=None))
    # weights: warnings 10, visited 20, signed 10, reached 15, revisits 10, amount 10, defrauded 20, meetings 5,
    # publicity 10, APP 10 (the admin's two, the defaults for the rest)
    communities = _table(table.communities)
    assert set(communities) == {"东门社区", "西门社区", "南关社区", "未定社区"}
    assert communities["东门社区"][0] == {
        "warnings": 2, "visited_high_pct": 100.0, "signed_on_time_pct": 50.0, "reached_on_time_pct": 50.0,
        "revisits_on_time_pct": 50.0, "amount_dissuaded": Decimal("1000.00"), "defrauded": 0,
        "meetings_on_time_pct": 33.3, "publicity": 2, "app_target_pct": 40.0}
    assert communities["西门社区"][0] == {
        "warnings": 1, "visited_high_pct": 0.0, "signed_on_time_pct": 100.0, "reached_on_time_pct": 100.0,
        "revisits_on_time_pct": None, "amount_dissuaded": Decimal("0.00"), "defrauded": 1,
        "meetings_on_time_pct": None, "publicity": 1, "app_target_pct": None}
    assert communities["南关社区"][0] == {
        "warnings": 1, "visited_high_pct": None, "signed_on_time_pct": 100.0, "reached_on_time_pct": 100.0,
        "revisits_on_time_pct": None, "amount_dissuaded": Decimal("500.00"), "defrauded": 0,
        "meetings_on_time_pct": None, "publicity": 3, "app_target_pct": 100.0}
    assert communities["未定社区"][0] == {
        "warnings": 0, "visited_high_pct": None, "signed_on_time_pct": None, "reached_on_time_pct": None,
        "revisits_on_time_pct": None, "amount_dissuaded": Decimal("0.00"), "defrauded": 0,
        "meetings_on_time_pct": None, "publicity": 1, "app_target_pct": None}
    # publicity scores its share of 南关's 3; warnings of 东门's 2; 劝阻金额 of 东门's 1,000.00
    # 东门: (10×100 + 20×100 + 10×50 + 15×50 + 10×50 + 10×100 + 20×100 + 5×33.3 + 10×66.67 + 10×40) / 120
    #       = 8983.17 / 120 = 74.86
    # 西门: (10×50 + 20×0 + 10×100 + 15×100 + 10×0 + 20×0 + 10×33.33) / 95 = 3333.33 / 95 = 35.09
    #       (no 回访, no meetings, no target this month)
    # 南关: (10×50 + 10×100 + 15×100 + 10×50 + 20×100 + 10×100 + 10×100) / 85 = 7500 / 85 = 88.24
    # 未定社区: no warning and no case that month, so 劝阻金额 and 预警后被骗 say nothing of it (its "nobody defrauded"
    # once put it above 西门): (10×0 + 10×33.33) / 20 = 16.67
    assert {name: (score, rank) for name, (_v, score, rank) in communities.items()} == {
        "东门社区": (Decimal("74.9"), 2), "西门社区": (Decimal("35.1"), 3), "南关社区": (Decimal("88.2"), 1),
        "未定社区": (Decimal("16.7"), 4)}
    precincts = _table(table.precincts)
    assert precincts["PCS01派出所"][0] == {
        "warnings": 3, "visited_high_pct": 50.0, "signed_on_time_pct": 66.7, "reached_on_time_pct": 66.7,
        "revisits_on_time_pct": 50.0, "amount_dissuaded": Decimal("1000.00"), "defrauded": 1,
        "meetings_on_time_pct": 33.3, "publicity": 4, "app_target_pct": 40.0}
    assert precincts["PCS02派出所"][0]["publicity"] == 3 and precincts["PCS02派出所"][0]["app_target_pct"] == 100.0
    # PCS01: (10×100 + 20×50 + 10×66.7 + 15×66.7 + 10×50 + 10×100 + 20×0 + 5×33.3 + 10×100 + 10×40) / 120
    #        = 6734 / 120 = 56.12
    # PCS02: (10×33.33 + 10×100 + 15×100 + 10×50 + 20×100 + 10×75 + 10×100) / 85 = 7083.33 / 85 = 83.33
    assert {name: (score, rank) for name, (_v, score, rank) in precincts.items()} == {
        "PCS01派出所": (Decimal("56.1"), 2), "PCS02派出所": (Decimal("83.3"), 1)}


def test_a_lead_reads_their_precincts_rows_with_their_county_rank(november):
    table = assess(month_period("2026-11"), november)
    assert [(r.name, r.rank) for r in table.communities] == [("东门社区", 2), ("西门社区", 3), ("未定社区", 4)]
    assert [r.name for r in table.precincts] == ["PCS01派出所"]


def test_the_page_and_the_xlsx_show_the_table_and_its_definitions(november, client, auth):
    auth.login(november)
    page = client.get("/watch/assessment?month=2026-11").get_data(as_text=True)
    assert "74.9" in page and "35.1" in page and "南关社区" not in page
    assert "当月新建的特高危、高风险任务中" in page  # every indicator's definition is on the page
    assert "宣传工作登记场次" in page and "按累计完成率计" in page  # publicity and the APP target's, too
    assert "暂不计入" not in page
    book = openpyxl.load_workbook(io.BytesIO(client.get("/watch/assessment.xlsx?month=2026-11").data))
    rows = list(book.worksheets[0].iter_rows(values_only=True))
    assert rows[0][-3:] == ("宣传工作", "APP注册完成率", "得分")
    assert rows[1][0] == 2 and rows[1][2] == "东门社区" and rows[1][-3:] == (2, 0.4, pytest.approx(74.9))
    assert book.worksheets[0].cell(2, len(rows[0]) - 1).number_format == "0.0%"  # APP注册完成率 reads 40.0%


def test_the_api_gives_the_same_table(november, client, bearer):
    body = client.get("/api/v1/assessment?month=2026-11", headers=bearer(november)).get_json()
    assert [(r["name"], r["score"], r["rank"]) for r in body["communities"]] == [
        ("东门社区", "74.9", 2), ("西门社区", "35.1", 3), ("未定社区", "16.7", 4)]
    assert body["communities"][0]["values"]["app_target_pct"] == 40.0
    assert Decimal(body["weights"]["defrauded"]) == 20
    assert client.get("/api/v1/assessment?month=2026-13", headers=bearer(november)).status_code == 400


def test_weights_must_make_sense(make_user):
    admin = make_user("admin", precinct=None)
    with pytest.raises(WatchError):
        set_weights({"warnings": Decimal("-1")}, admin)
    with pytest.raises(WatchError):
        set_weights({k: Decimal(0) for k in ("warnings", "visited_high_pct")} | {"signed_on_time_pct": Decimal(0),
                    "reached_on_time_pct": Decimal(0), "revisits_on_time_pct": Decimal(0),
                    "amount_dissuaded": Decimal(0), "defrauded": Decimal(0), "meetings_on_time_pct": Decimal(0),
                    "publicity": Decimal(0), "app_target_pct": Decimal(0)},
                    admin)
