"""Watch lists (issue 25): put on the list from the case page, weekly meetings on the worklist, missed ones overdue on
the lead's board, alarms to the lead and the center, the 台账 and its scoping, the meeting form's refusals."""
import datetime as dt
import io
import re

import openpyxl
import pytest

from dissuasion.cases.queries import WorklistFilter, tasks
from dissuasion.core.auditlog import AuditEvent
from dissuasion.core.timeutil import from_local, now
from dissuasion.extensions import db
from dissuasion.notifications.models import Notification
from dissuasion.scheduler import run_once
from dissuasion.watch.assessment import weights
from dissuasion.watch.models import WatchEntry, WatchMeeting
from dissuasion.watch.operations import (
    EntryInput,
    WatchError,
    create_entry,
    find_or_create_person,
    kind_by_code,
    record_meeting,
)
from dissuasion.watch.tasks import notify_due_meetings, notify_missed_meetings

MONDAY = from_local(dt.datetime(2026, 11, 16, 9, 0))


def local_at(day: int, hour: int = 10, month: int = 11) -> dt.datetime:
    return from_local(dt.datetime(2026, month, day, hour, 0))


@pytest.fixture
def people(make_user, make_case, clock):
    """PCS01 with its lead, the officer holding a repeat-warned case, and a colleague; PCS02's officer; the center."""
    clock(MONDAY)
    officer = make_user("officer", precinct="PCS01", username="officer_a")
    case = make_case(precinct="PCS01", assignee=officer, name="王重复", phone="13900000001")
    make_case(precinct="PCS01", assignee=officer, name="王重复", phone="13900000001")  # warned again: same case
    return {"officer": officer, "case": case, "lead": make_user("lead", precinct="PCS01", username="lead_a"),
            "colleague": make_user("officer", precinct="PCS01", username="officer_b"),
            "other": make_user("officer", precinct="PCS02", username="officer_z"),
            "other_lead": make_user("lead", precinct="PCS02", username="lead_z"),
            "center": make_user("center", precinct=None, username="center_a")}


def _put_on_list(client, auth, people) -> WatchEntry:
    auth.login(people["lead"])
    page = client.get(f"/cases/{people['case'].id}").get_data(as_text=True)
    assert "列入重点关注（每周见面）" in page
    response = client.post(f"/watch/from-case/{people['case'].id}")
    assert response.status_code == 302
    auth.logout()
    return db.session.scalar(db.select(WatchEntry))


def _officer_records_meeting(client, auth, people, data: dict):
    """(entry, response): the case's person put on the list by the lead, then a meeting posted by the officer."""
    entry = _put_on_list(client, auth, people)
    auth.login(people["officer"])
    return entry, client.post(f"/watch/{entry.id}/meetings", data=data)


def _watch_rows(user):
    return [t.watch for t in tasks(user).items if t.watch is not None]


def test_put_on_the_list_from_the_case_page_gets_weekly_meetings_on_the_officers_worklist(people, client, auth,
                                                                                           clock):
    entry = _put_on_list(client, auth, people)
    assert (entry.person_id, entry.officer_id, entry.interval_days) == (
        people["case"].person_id, people["officer"].id, 7)
    assert entry.kind.name == "重复预警关注" and entry.case_id == people["case"].id
    assert _watch_rows(people["officer"]) == []  # due by the end of the week, not today
    clock(local_at(22, 9))  # Sunday: the last day of the first week
    assert _watch_rows(people["officer"]) == [entry]
    assert _watch_rows(people["colleague"]) == []  # another officer's person
    auth.login(people["officer"])
    page = client.get("/cases/").get_data(as_text=True)
    assert "重点关注见面" in page and "王重复" in page and f"/watch/{entry.id}" in page
    record_meeting(entry, people["officer"], now(), "both", "visit", "家中", "在家务农", [])
    db.session.commit()
    assert _watch_rows(people["officer"]) == []
    assert entry.next_due_at == local_at(29, 0)  # a week after the meeting: by the end of next Saturday
    clock(local_at(28, 12))
    assert _watch_rows(people["officer"]) == [entry]


def test_a_missed_meeting_is_overdue_on_the_leads_board_and_the_lead_hears_once(people, client, auth, clock, app):
    entry = _put_on_list(client, auth, people)
    clock(local_at(23, 10))  # Monday after: the Sunday meeting was missed
    row = next(t for t in tasks(people["lead"], filters=WorklistFilter(overdue=True)).items if t.watch)
    assert row.watch.id == entry.id
    auth.login(people["lead"])
    board = client.get("/cases/board").get_data(as_text=True)
    assert re.search(r'class="board-row task-watch is-overdue"[\s\S]*?王重复', board)
    assert notify_missed_meetings() == 1
    assert notify_missed_meetings() == 0
    run_once(app)
    told = db.session.scalars(db.select(Notification).filter_by(kind="watch_missed")).all()
    assert sorted(n.user_id for n in told) == sorted([people["lead"].id, people["officer"].id])
    page = client.get("/notifications").get_data(as_text=True)  # the lead's: one tap to the entry, its day as listed
    link = r'<a href="(/notifications/\d+/open)">重点关注见面已逾期：王重复[^<]*应在 2026-11-22 当天或之前见面'
    followed = client.get(re.search(link, page).group(1), headers={"Sec-Fetch-Site": "same-origin"})
    assert followed.headers["Location"].endswith(f"/watch/{entry.id}")
    client.post("/lang/en")  # the kind in the reader's language, as the list shows it
    assert "(Repeat warnings), was to be met on or before 2026-11-22" in client.get("/notifications").get_data(
        as_text=True)


def test_left_the_country_again_tells_the_lead_and_the_center_within_a_minute_of_the_scheduler(people, client,
                                                                                             auth, clock, app):
    entry = _put_on_list(client, auth, people)
    clock(local_at(20, 15))
    meeting = record_meeting(entry, people["officer"], now(), "officer", "phone", "", "家人称其已去缅甸",
                             ["left_country"])
    meeting.alerted_at = None  # as if the page's own notice had not gone out: the job must send it
    db.session.query(Notification).delete()
    db.session.commit()
    started = now()
    run_once(app)
    run_once(app)  # safe twice
    alarms = db.session.scalars(db.select(Notification).filter_by(kind="watch_alarm")).all()
    assert sorted(n.user_id for n in alarms) == sorted([people["lead"].id, people["center"].id])
    assert all(n.created_at - started < dt.timedelta(minutes=1) for n in alarms)
    assert "疑似再次出境" in alarms[0].text and "王重复" in alarms[0].text
    assert db.session.get(WatchMeeting, meeting.id).alerted_at is not None


def test_recording_the_flag_on_the_page_tells_them_at_once(people, client, auth, clock):
    _entry, response = _officer_records_meeting(client, auth, people, {
        "met_at": "2026-11-16T08:30", "met_by": "officer", "method": "phone", "flags": ["lost"],
        "observed": "电话已停机，家人不知去向"})
    assert response.status_code == 302
    assert {n.user_id for n in db.session.scalars(db.select(Notification).filter_by(kind="watch_alarm"))} == {
        people["lead"].id, people["center"].id}


def test_a_plain_meeting_tells_nobody(people, client, auth):
    entry = _put_on_list(client, auth, people)
    record_meeting(entry, people["officer"], now(), "officer", "visit", "", "已换新号", ["new_number"])
    db.session.commit()
    assert db.session.scalars(db.select(Notification).filter_by(kind="watch_alarm")).all() == []


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"met_by": "officer", "method": "visit"}, "met_at", "请填写见面时间"),
    ({"met_at": "2026-12-30T10:00", "met_by": "officer", "method": "visit"}, "met_at", "不能晚于现在"),
    ({"met_at": "2026-11-16T08:00", "met_by": "officer", "method": "visit", "flags": ["lost"], "observed": "x"},
     "flags", "面见了本人就不是失联"),
    ({"met_at": "2026-11-16T08:00", "met_by": "officer", "method": "visit"}, "observed", "请填写见面情况"),
])
def test_a_meeting_with_problems_says_what_to_fix(people, client, auth, data, field, message):
    _entry, response = _officer_records_meeting(client, auth, people, data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalars(db.select(WatchMeeting)).all() == []


def test_one_person_is_not_put_on_twice_for_the_same_kind(people):
    person = people["case"].person
    data = EntryInput(kind_id=kind_by_code("returnee").id, precinct_id=people["case"].precinct_id,
                      officer_id=people["officer"].id, cadre_name="李干部", cadre_phone="13800001111")
    create_entry(person, data, people["lead"])
    with pytest.raises(WatchError, match="已在"):
        create_entry(person, data, people["lead"])


def test_a_lead_cannot_put_someone_on_another_precincts_list(people):
    with pytest.raises(WatchError) as caught:
        create_entry(people["case"].person, EntryInput(kind_id=kind_by_code("returnee").id,
                                                       precinct_id=people["other"].precinct_id,
                                                       officer_id=people["other"].id), people["lead"])
    assert "precinct" in caught.value.errors


def test_the_person_is_matched_as_warnings_match_them(people):
    assert find_or_create_person("王重复", phone="139 0000 0001").id == people["case"].person_id
    assert find_or_create_person("另一个人", phone="13900000099").id != people["case"].person_id


def _entries(people):
    """Two entries in PCS01 (one the colleague's), one in PCS02."""
    returnee = kind_by_code("returnee").id
    mine = create_entry(find_or_create_person("回流甲", phone="13700000001"), EntryInput(
        kind_id=returnee, precinct_id=people["lead"].precinct_id, officer_id=people["officer"].id,
        cadre_name="张书记", cadre_phone="13800000001"), people["lead"])
    colleague = create_entry(find_or_create_person("回流乙", phone="13700000002"), EntryInput(
        kind_id=returnee, precinct_id=people["lead"].precinct_id, officer_id=people["colleague"].id),
        people["lead"])
    theirs = create_entry(find_or_create_person("外所回流", phone="13700000003"), EntryInput(
        kind_id=returnee, precinct_id=people["other"].precinct_id, officer_id=people["other"].id),
        people["center"])
    db.session.commit()
    return mine, colleague, theirs


def test_the_register_xlsx_lists_exactly_the_precincts_entries(people, client, auth):
    mine, colleague, _theirs = _entries(people)
    record_meeting(mine, people["officer"], now(), "both", "visit", "村委会", "情绪稳定", [])
    db.session.commit()
    auth.login(people["lead"])
    response = client.get("/watch/register.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert {r[header.index("姓名")] for r in body} == {"回流甲", "回流乙"}
    first = next(r for r in body if r[header.index("姓名")] == "回流甲")
    assert first[header.index("责任民警")] == people["officer"].label
    assert first[header.index("责任干部")] == "张书记"
    assert first[header.index("手机号")] == "137****0001"  # a register is printed: numbers masked
    assert first[header.index("最近见面方式")] == "面见"
    assert first[header.index("下次应见面")] is not None
    assert db.session.scalar(db.select(AuditEvent).filter_by(action="export", object_type="watch_register"))


@pytest.mark.parametrize(("who", "sees"), [
    ("officer", True), ("lead", True), ("center", True),
    ("colleague", False), ("other", False), ("other_lead", False),
])
@pytest.mark.parametrize("via", ["page", "api"])
def test_only_those_within_reach_open_an_entry(people, client, auth, bearer, who, sees, via):
    mine, _colleague, _theirs = _entries(people)
    if via == "page":
        auth.login(people[who])
        status = client.get(f"/watch/{mine.id}").status_code
    else:
        status = client.get(f"/api/v1/watch/{mine.id}", headers=bearer(people[who])).status_code
    assert status == (200 if sees else 404)


def test_the_api_lists_the_register_and_records_a_meeting(people, client, bearer):
    mine, _colleague, _theirs = _entries(people)
    headers = bearer(people["officer"])
    listed = client.get("/api/v1/watch", headers=headers).get_json()
    assert [e["person"]["name"] for e in listed["items"]] == ["回流甲"]
    response = client.post(f"/api/v1/watch/{mine.id}/meetings", headers=headers, json={
        "met_at": "2026-11-16T08:30:00+08:00", "met_by": "cadre", "method": "video", "flags": ["new_number"],
        "observed": "视频中本人在家，已换新号"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["meeting"]["on_time"] is True and body["entry"]["next_due_at"].startswith("2026-11-23T00:00")
    bad = client.post(f"/api/v1/watch/{mine.id}/meetings", headers=headers, json={
        "met_at": "2026-11-16T08:30:00+08:00", "met_by": "cadre", "method": "letter"})
    assert bad.status_code == 400 and "method" in bad.get_json()["error"]["fields"]


def test_revealing_a_watched_persons_number_is_audited(people, client, auth):
    mine, _colleague, _theirs = _entries(people)
    auth.login(people["officer"])
    page = client.post(f"/watch/{mine.id}/reveal/phone").get_data(as_text=True)
    assert "13700000001" in page
    event = db.session.scalar(db.select(AuditEvent).filter_by(action="reveal_phone", object_type="watch_entry"))
    assert event is not None and event.object_id == str(mine.id)


def test_a_lead_puts_someone_on_the_list_by_hand_and_bad_input_says_what_to_fix(people, client, auth):
    auth.login(people["lead"])
    assert client.get("/watch/new").status_code == 200
    kind = kind_by_code("returnee").id
    base = {"name": "回流丙", "kind": kind, "precinct": people["lead"].precinct_id,
            "officer": people["officer"].id, "interval_days": 7, "cadre_name": "赵主任"}
    refused = client.post("/watch/new", data={**base, "phone": "12345"})
    assert refused.status_code == 400 and "手机号码有误" in refused.get_data(as_text=True)
    refused = client.post("/watch/new", data={**base, "phone": "13700000009", "interval_days": 0})
    assert refused.status_code == 400 and "见面间隔须为 1 到 90 天" in refused.get_data(as_text=True)
    response = client.post("/watch/new", data={**base, "phone": "13700000009"})
    assert response.status_code == 302
    entry = db.session.scalar(db.select(WatchEntry))
    assert (entry.person.name, entry.cadre_name, entry.kind.name) == ("回流丙", "赵主任", "涉诈回流人员")
    assert db.session.scalar(db.select(AuditEvent).filter_by(action="watch_create", object_id=str(entry.id)))


def test_the_register_filters_overdue_entries(people, client, auth, clock):
    mine, colleague, _theirs = _entries(people)
    clock(local_at(24))  # both first meetings missed
    record_meeting(colleague, people["colleague"], now(), "officer", "visit", observed="在家")
    db.session.commit()
    auth.login(people["lead"])
    page = client.get("/watch/?overdue=y").get_data(as_text=True)
    assert "回流甲" in page and "回流乙" not in page
    assert "外所回流" not in client.get("/watch/?status=").get_data(as_text=True)


def test_the_admin_adds_a_kind_and_sets_the_weights(make_user, client, auth):
    auth.login(make_user("admin", precinct=None))
    assert client.post("/watch/settings", data={"action": "kind", "name": "涉诈前科人员"}).status_code == 302
    assert client.post("/watch/settings", data={"action": "kind", "name": "涉诈前科人员"}).status_code == 400
    refused = client.post("/watch/settings", data={"action": "weights", "warnings": "abc"})
    assert refused.status_code == 400 and "权重须为 0 到 100 之间的数" in refused.get_data(as_text=True)
    assert client.post("/watch/settings", data={"action": "weights", "warnings": "5"}).status_code == 302
    assert weights()["warnings"] == 5


def test_the_lead_fills_in_the_cadre_and_a_new_interval_moves_the_next_meeting(people, client, auth):
    entry = _put_on_list(client, auth, people)  # started Monday 11-16, weekly: due by the end of 11-22
    assert entry.cadre_name == ""
    auth.login(people["officer"])
    assert client.post(f"/watch/{entry.id}/edit", data={"officer": people["officer"].id}).status_code == 403
    auth.logout()
    auth.login(people["lead"])
    form = {"officer": people["colleague"].id, "cadre_name": "刘主任", "cadre_phone": "0571-8888 1234",
            "interval_days": 14}
    refused = client.post(f"/watch/{entry.id}/edit", data={**form, "cadre_phone": "电话"})
    assert refused.status_code == 400 and "干部电话有误" in refused.get_data(as_text=True)
    assert client.post(f"/watch/{entry.id}/edit", data=form).status_code == 302
    db.session.refresh(entry)
    assert (entry.officer_id, entry.cadre_name, entry.cadre_phone) == (people["colleague"].id, "刘主任", "057188881234")
    assert entry.next_due_at == local_at(30, 0)  # two weeks from the start: by the end of 11-29
    assert db.session.scalar(db.select(AuditEvent).filter_by(action="watch_update", object_id=str(entry.id)))


def test_the_officer_hears_once_on_the_day_a_meeting_falls_due(people, client, auth, clock):
    entry = _put_on_list(client, auth, people)
    assert notify_due_meetings() == 0  # not due this week's Monday
    clock(local_at(22, 8))
    assert notify_due_meetings() == 1
    assert notify_due_meetings() == 0
    told = db.session.scalars(db.select(Notification).filter_by(kind="watch_due")).all()
    assert [n.user_id for n in told] == [entry.officer_id]


def test_an_entry_past_its_end_date_ends_and_leaves_the_worklist(people, clock, app):
    entry = create_entry(people["case"].person, EntryInput(
        kind_id=kind_by_code("returnee").id, precinct_id=people["case"].precinct_id, officer_id=people["officer"].id,
        starts_on=dt.date(2026, 11, 16), ends_on=dt.date(2026, 11, 25)), people["lead"])
    db.session.commit()
    clock(local_at(25, 23))
    run_once(app)
    assert db.session.get(WatchEntry, entry.id).is_active  # its last day
    db.session.commit()  # end the read: the jobs write from their own sessions
    clock(local_at(26, 0))
    run_once(app)
    run_once(app)
    entry = db.session.get(WatchEntry, entry.id)
    assert not entry.is_active and entry.next_due_at is None
    assert _watch_rows(people["officer"]) == []


def test_a_meeting_recorded_late_moves_nothing_back(people, client, auth, clock):
    entry = _put_on_list(client, auth, people)
    clock(local_at(20, 15))
    record_meeting(entry, people["officer"], local_at(20, 10), "officer", "visit", observed="在家")
    # Tuesday's, written down later
    record_meeting(entry, people["officer"], local_at(17, 10), "cadre", "phone", observed="通话正常")
    assert entry.next_due_at == local_at(27, 0)  # still a week after Friday's meeting


def test_a_visit_that_finds_nobody_is_recorded_as_such_with_out_of_contact(people, client, auth):
    entry, response = _officer_records_meeting(client, auth, people, {
        "met_at": "2026-11-16T08:30", "met_by": "officer", "method": "door", "flags": ["lost"],
        "observed": "上门两次无人，邻居称已搬走"})
    assert response.status_code == 302
    meeting = db.session.scalar(db.select(WatchMeeting))
    assert meeting.method.value == "door" and meeting.flags == ["lost"] and meeting.alarm
    assert "上门未见" in client.get(f"/watch/{entry.id}").get_data(as_text=True)
    # nobody was met: the meeting is still owed, and the entry says nobody has been met yet
    due = entry.next_due_at
    db.session.refresh(entry)
    assert entry.next_due_at == due and entry.last_meeting is None


def test_a_new_entry_with_several_problems_names_them_all_at_once(people, client, auth):
    from dissuasion.watch.operations import kind_by_code
    auth.login(people["lead"])
    response = client.post("/watch/new", data={
        "name": "回流乙", "id_number": "110101199003077775", "kind": kind_by_code("returnee").id,
        "precinct": people["lead"].precinct_id, "officer": "", "cadre_phone": "12345", "interval_days": 7})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "身份证号码有误" in page and "请选择本所的一名责任民警" in page and "干部电话有误" in page
    blank = client.post("/watch/new", data={  # an interval left empty: the form cannot read it, the rest is said too
        "name": "回流乙", "id_number": "110101199003077775", "kind": kind_by_code("returnee").id,
        "precinct": people["lead"].precinct_id, "officer": "", "cadre_phone": "12345", "interval_days": ""})
    page = blank.get_data(as_text=True)
    assert blank.status_code == 400 and "身份证号码有误" in page and "请选择本所的一名责任民警" in page


def test_the_products_watch_kinds_read_in_english_an_admins_as_typed(people, client, auth):
    entry = _put_on_list(client, auth, people)
    auth.login(people["lead"])
    client.post("/lang/en")
    page = client.get(f"/watch/{entry.id}").get_data(as_text=True)
    assert "Repeat warnings" in page and "重复预警关注" not in page
