"""宣传工作登记 (issue 24): the counts each type records and their bounds, scoping by precinct, editing within 7
days, the audit, the list and its export, the API, APP registrations from both sources and the targets."""
import datetime as dt
import io

import openpyxl
import pytest
from sqlalchemy import select

from dissuasion.contacts.models import Contact
from dissuasion.core.auditlog import AuditEvent
from dissuasion.core.enums import ActivityCount, AppStatus, Method, Reached
from dissuasion.core.timeutil import from_local
from dissuasion.extensions import db
from dissuasion.prevention.operations import PreventionError, record_activity, set_app_target, update_activity
from dissuasion.prevention.queries import ActivityFilter, activity_rows, app_progress, app_registrations
from dissuasion.prevention.validation import ActivityError, parse_activity
from dissuasion.reports.queries import compute_report
from dissuasion.reports.tables import report_sheets

NOW = "2026-11-23 08:00"  # Monday morning after week 2026-W47 (2026-11-16..22)
LECTURE = {"kind": "lecture", "held_on": "2026-11-18", "community": "东门社区", "participants": "王警官、李辅警",
           "people": "120", "materials": "300", "app_registrations": "15", "note": "东门社区老年活动中心"}


def at(local: str) -> dt.datetime:
    return from_local(dt.datetime.fromisoformat(local))


@pytest.fixture
def now(clock):
    return clock(at(NOW))


@pytest.fixture
def record(now, make_user):
    """record(user, **fields) -> Activity recorded through the form's checks and the operation."""
    def make(user, **fields):
        activity = record_activity(parse_activity({**LECTURE, **fields}, user.precinct), user)
        db.session.commit()
        return activity
    return make


def errors_of(precinct, **fields) -> dict:
    with pytest.raises(ActivityError) as info:
        parse_activity({**LECTURE, **fields}, precinct)
    return info.value.fields


def test_a_lecture_keeps_its_counts_where_and_who_and_is_audited(record, make_user):
    officer = make_user("officer")
    activity = record(officer)
    assert (activity.people, activity.materials, activity.app_registrations, activity.households) == (120, 300, 15, 0)
    assert activity.community.name == "东门社区" and activity.precinct_id == officer.precinct_id
    assert activity.participants == "王警官、李辅警" and activity.held_on == dt.date(2026, 11, 18)
    event = db.session.scalar(select(AuditEvent).filter_by(action="activity_create"))
    assert event.object_id == str(activity.id) and event.detail["people"] == 120 and event.username == officer.username


@pytest.mark.parametrize(("field", "value", "message"), [
    ("people", "-1", "不能为负数"),
    ("people", "1.5", "须为整数"),
    ("materials", "三百", "须为整数"),
    ("people", "100001", "最多填 100,000"),
    ("app_registrations", "50001", "最多填 50,000"),
    ("households", "5", "“讲座/报告会”不登记入户走访（户）"),
])
def test_counts_are_whole_numbers_within_their_bounds_and_fit_the_type(now, make_precinct, field, value, message):
    assert message in errors_of(make_precinct(), **{field: value})[field]


def test_the_largest_allowed_counts_are_taken(now, make_precinct):
    data = parse_activity({**LECTURE, "people": "100000", "materials": "200,000"}, make_precinct())
    assert data.counts[ActivityCount.PEOPLE] == 100_000 and data.counts[ActivityCount.MATERIALS] == 200_000


@pytest.mark.parametrize(("fields", "field", "message"), [
    ({"kind": ""}, "kind", "请选择宣传类型"),
    ({"held_on": "2026-11-24"}, "held_on", "不能晚于今天"),
    ({"held_on": "18/11/2026"}, "held_on", "2026-11-16"),
    ({"community": "", "place": ""}, "community", "请选择社区，或填写地点"),
    ({"community": "北门社区"}, "community", "不是本所目录中的社区"),
    ({"people": "", "materials": "", "app_registrations": ""}, "people", "请至少填写一项数量"),
])
def test_what_to_fix_is_said_beside_the_field(now, make_precinct, fields, field, message):
    assert message in errors_of(make_precinct(), **fields)[field]


def test_a_place_without_a_community_is_enough(now, make_precinct):
    data = parse_activity({**LECTURE, "community": "", "place": "城东农贸市场"}, make_precinct())
    assert data.community is None and data.place == "城东农贸市场"


@pytest.mark.parametrize(("role", "precinct", "sees"), [
    ("officer", "PCS01", {"东门"}), ("lead", "PCS01", {"东门"}), ("lead", "PCS02", {"南关"}),
    ("center", None, {"东门", "南关"}), ("admin", None, set()),
])
def test_each_user_sees_the_activities_of_their_precinct_only(record, make_user, make_precinct, role, precinct, sees):
    make_precinct("PCS02", communities=("南关社区",))
    record(make_user("officer", precinct="PCS01"), community="东门社区")
    record(make_user("officer", precinct="PCS02"), community="南关社区")
    rows = activity_rows(make_user(role, precinct=precinct), ActivityFilter())
    assert {a.community.name[:2] for a in rows} == sees


def test_the_author_or_a_lead_may_change_it_within_7_days_and_every_change_is_audited(record, make_user, clock):
    author, colleague, lead = make_user("officer"), make_user("officer"), make_user("lead")
    activity = record(author)
    changed = parse_activity({**LECTURE, "people": "130"}, author.precinct)
    with pytest.raises(PreventionError):
        update_activity(activity, changed, colleague)
    assert update_activity(activity, changed, author) == {"people": [120, 130]}
    clock(at("2026-11-29 23:00"))
    update_activity(activity, parse_activity({**LECTURE, "people": "140"}, author.precinct), lead)
    db.session.commit()
    audit = db.session.scalars(select(AuditEvent).filter_by(action="activity_update").order_by(AuditEvent.id)).all()
    assert [(e.username, e.detail["changes"]["people"]) for e in audit] == [(author.username, [120, 130]),
                                                                          (lead.username, [130, 140])]
    clock(at("2026-11-30 08:01"))  # 7 days after it was recorded
    with pytest.raises(PreventionError):
        update_activity(activity, parse_activity({**LECTURE, "people": "150"}, author.precinct), lead)


def _registered_case(make_case, officer, contacted: str):
    case = make_case(community="东门社区")
    db.session.add(Contact(case_id=case.id, method=Method.VISIT, reached=Reached.SELF, contacted_at=at(contacted),
                           app_status=AppStatus.REGISTERED_NOW))
    db.session.commit()
    return case


def test_the_weekly_report_counts_prevention_with_last_week_and_app_from_both_sources(record, make_user, make_case,
                                                                                      make_precinct, clock):
    officer = make_user("officer")
    make_precinct("PCS02", communities=("南关社区",))
    record(officer)
    record(officer, kind="banner", held_on="2026-11-22", community="", place="城东路口", people="", materials="",
           app_registrations="", banners="14")
    record(officer, kind="community_visit", held_on="2026-11-12", people="40", households="25", materials="",
           app_registrations="3")  # the week before
    record(make_user("officer", precinct="PCS02"), community="南关社区", people="50", materials="",
           app_registrations="")
    clock(at("2026-11-16 09:00"))
    _registered_case(make_case, officer, "2026-11-16 10:00")
    clock(at(NOW))
    report = compute_report("2026-W47")
    p = report["prevention"]
    assert (p["current"]["activities"], p["current"]["people"], p["current"]["materials"],
            p["current"]["banners"]) == (3, 170, 300, 14)
    assert p["current"]["by_kind"]["lecture"] == 2 and p["current"]["by_kind"]["banner"] == 1
    assert p["current"]["app"] == {"cases": 1, "activities": 15, "total": 16}
    assert p["current"]["app"]["cases"] == report["metrics"]["app_registrations"]
    assert (p["previous"]["activities"], p["previous"]["households"], p["previous"]["app"]["total"]) == (1, 25, 3)
    by = {r["precinct"]: r for r in p["by_precinct"]}
    assert by["PCS01"]["current"]["people"] == 120 and by["PCS01"]["previous"]["households"] == 25
    assert by["PCS02"]["current"]["people"] == 50
    one = compute_report("2026-W47", officer.precinct)["prevention"]
    assert one["current"]["people"] == 120 and [r["precinct"] for r in one["by_precinct"]] == ["PCS01"]
    sheets = {name: rows for name, _, rows in report_sheets(report)}
    rows = {r[0]: r[1:] for r in sheets["宣传防范"]}
    assert rows["受教群众（人次）"] == [170, 40, 130] and rows["注册反诈APP · 合计"] == [16, 3, 13]


def test_app_progress_against_a_community_target(record, make_user, make_case, clock):
    officer, admin = make_user("officer"), make_user("admin", precinct=None)
    community = next(c for c in officer.precinct.communities if c.name == "东门社区")
    set_app_target(community, 100, dt.date(2026, 11, 1), admin)
    record(officer)
    clock(at("2026-11-16 09:00"))
    _registered_case(make_case, officer, "2026-11-16 10:00")
    clock(at(NOW))
    (progress,) = app_progress()
    assert (progress.cases, progress.activities, progress.total, progress.pct) == (1, 15, 16, 16)
    assert app_registrations(dt.date(2026, 11, 16), dt.date(2026, 11, 22)) == {"cases": 1, "activities": 15,
                                                                               "total": 16}
    with pytest.raises(PreventionError):
        set_app_target(community, 5, dt.date(2026, 11, 1), officer)


# --- HTTP --------------------------------------------------------------------------------------------------------

def test_an_officer_records_an_activity_through_the_form(client, auth, now, make_user):
    officer = make_user("officer")
    auth.login(officer)
    assert "东门社区" in client.get("/prevention/new").get_data(as_text=True)
    response = client.post("/prevention/new", data={**LECTURE, "people": "1000000"})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "最多填 100,000" in page and "王警官、李辅警" in page
    assert client.post("/prevention/new", data=LECTURE).status_code == 302
    listing = client.get("/prevention/").get_data(as_text=True)
    assert "讲座/报告会" in listing and "<b>120</b>" in listing and "东门社区" in listing


def test_a_lead_cannot_open_another_precincts_activity(client, auth, record, make_user, make_precinct):
    make_precinct("PCS02", communities=("南关社区",))
    theirs = record(make_user("officer", precinct="PCS02"), community="南关社区")
    auth.login(make_user("lead", precinct="PCS01"))
    assert client.get(f"/prevention/{theirs.id}/edit").status_code == 404
    assert "南关社区" not in client.get("/prevention/").get_data(as_text=True)


@pytest.mark.parametrize(("role", "path", "status"), [
    ("officer", "/prevention/", 200), ("lead", "/prevention/", 200), ("center", "/prevention/", 200),
    ("admin", "/prevention/", 403), ("center", "/prevention/new", 403), ("admin", "/prevention/targets", 200),
    ("lead", "/prevention/targets", 403),
])
def test_who_may_open_which_page(client, auth, now, make_user, role, path, status):
    auth.login(make_user(role, precinct=None if role in ("center", "admin") else "PCS01"))
    assert client.get(path).status_code == status


def test_the_list_exports_as_xlsx_and_the_export_is_audited(client, auth, record, make_user):
    lead = make_user("lead")
    record(make_user("officer"))
    auth.login(lead)
    response = client.get("/prevention/activities.xlsx?kind=lecture")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][2] == "宣传类型" and rows[1][2] == "讲座/报告会" and rows[1][3] == "东门社区" and 120 in rows[1]
    assert db.session.scalar(select(AuditEvent).filter_by(action="export", object_type="activity")) is not None


def test_the_admin_sets_a_target_and_the_lead_board_shows_progress(client, auth, record, make_user):
    officer, lead = make_user("officer"), make_user("lead")
    record(officer)
    community = next(c for c in officer.precinct.communities if c.name == "东门社区")
    auth.login(make_user("admin", precinct=None))
    bad = client.post("/prevention/targets", data={"community": community.id, "target": "-3", "since": "2026-11-01"})
    assert bad.status_code == 400 and "不能为负数" in bad.get_data(as_text=True)
    client.post("/prevention/targets", data={"community": community.id, "target": "60", "since": "2026-11-01"})
    auth.logout()
    auth.login(lead)
    board = client.get("/cases/board").get_data(as_text=True)
    assert "反诈APP注册目标" in board and "15 / 60" in board


def test_the_api_records_and_lists_activities(client, bearer, now, make_user, make_precinct):
    officer = make_user("officer")
    headers = bearer(officer)
    body = {"kind": "lecture", "held_on": "2026-11-18", "community": "东门社区", "people": 120, "materials": 300,
            "app_registrations": 15}
    created = client.post("/api/v1/activities", json=body, headers=headers)
    assert created.status_code == 201 and created.json["people"] == 120 and created.json["precinct"] == "PCS01"
    refused = client.post("/api/v1/activities", json={**body, "households": 3, "people": 2.5}, headers=headers)
    assert refused.status_code == 422
    assert set(refused.json["error"]["fields"]) == {"households", "people"}
    listed = client.get("/api/v1/activities?from=2026-11-16&to=2026-11-22", headers=headers).json
    assert listed["total"] == 1 and listed["items"][0]["community"] == "东门社区"
    make_precinct("PCS02")
    other = client.get("/api/v1/activities", headers=bearer(make_user("lead", precinct="PCS02"))).json
    assert other["total"] == 0
    document = client.get("/api/v1/openapi.json").json
    assert {"get", "post"} <= set(document["paths"]["/activities"])
    assert client.post("/api/v1/activities", json=body, headers=bearer(make_user("center", precinct=None))
                       ).status_code == 403


def test_the_author_changes_an_activity_through_the_form_and_a_colleague_cannot(client, auth, record, make_user):
    author, colleague = make_user("officer"), make_user("officer")
    activity = record(author)
    auth.login(colleague)
    refused = client.get(f"/prevention/{activity.id}/edit", follow_redirects=True).get_data(as_text=True)
    assert "只有登记人和所领导可以修改" in refused
    auth.logout()
    auth.login(author)
    form = client.get(f"/prevention/{activity.id}/edit").get_data(as_text=True)
    assert 'value="120"' in form and "可修改至 2026-11-30" in form
    assert client.post(f"/prevention/{activity.id}/edit", data={**LECTURE, "people": "125"}).status_code == 302
    db.session.refresh(activity)
    assert activity.people == 125
    event = db.session.scalar(select(AuditEvent).filter_by(action="activity_update"))
    assert event.detail["changes"] == {"people": [120, 125]} and event.username == author.username


def test_the_list_filters_by_type_and_days(client, auth, record, make_user):
    officer = make_user("officer")
    record(officer)
    record(officer, kind="social_media", held_on="2026-11-10", community="", place="抖音", people="", materials="",
           app_registrations="", posts="8")
    auth.login(officer)
    week = client.get("/prevention/?from=2026-11-16&to=2026-11-22").get_data(as_text=True)
    assert "共 1 次活动" in week and "<b>120</b>" in week and "抖音" not in week
    posts = client.get("/prevention/?kind=social_media").get_data(as_text=True)
    assert "共 1 次活动" in posts and "抖音" in posts and "<b>8</b>" in posts and "<b>120</b>" not in posts


def test_the_weekly_report_api_carries_the_prevention_key(client, bearer, record, make_user):
    lead = make_user("lead")
    record(make_user("officer"))
    body = client.get("/api/v1/reports/weekly?week=2026-W47&precinct=PCS01", headers=bearer(lead)).json
    assert body["prevention"]["current"]["people"] == 120 and body["prevention"]["current"]["app"]["total"] == 15


def test_an_activity_recorded_twice_is_deleted_within_its_7_days_by_its_author_and_audited(client, auth, record,
                                                                                          make_user, clock):
    from dissuasion.prevention.models import Activity
    author, colleague = make_user("officer"), make_user("officer")
    twice = record(author).id
    auth.login(colleague)
    client.post(f"/prevention/{twice}/delete")
    assert db.session.get(Activity, twice) is not None  # not the colleague's to delete
    auth.logout()
    auth.login(author)
    assert "删除这条登记" in client.get(f"/prevention/{twice}/edit").get_data(as_text=True)
    assert client.post(f"/prevention/{twice}/delete").status_code == 302
    db.session.expire_all()
    assert db.session.get(Activity, twice) is None
    event = db.session.scalar(select(AuditEvent).filter_by(action="activity_delete"))
    assert event.username == author.username and event.detail["people"] == 120 and "note" not in event.detail
    late = record(author).id
    clock(at("2026-11-30 08:01"))
    client.post(f"/prevention/{late}/delete")
    assert db.session.get(Activity, late) is not None


def test_a_filter_matching_nothing_says_so_and_dates_the_wrong_way_round_are_pointed_out(client, auth, record,
                                                                                          make_user):
    officer = make_user("officer")
    record(officer)
    auth.login(officer)
    page = client.get("/prevention/?kind=street").get_data(as_text=True)
    assert "没有符合筛选条件的宣传工作" in page and "还没有登记的宣传工作" not in page
    page = client.get("/prevention/?from=2026-11-20&to=2026-11-01").get_data(as_text=True)
    assert "结束日期早于开始日期" in page
