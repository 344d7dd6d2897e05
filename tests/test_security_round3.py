"""Security, third round: each finding of this round's attack on main, replayed, is refused.

Finding 1 (an .xlsx whose far cell was written another way) is in tests/test_upload_bounds.py.
"""
import datetime as dt
import io

import openpyxl
import pytest

from dissuasion.core.timeutil import UTC
from dissuasion.core.urls import local_path
from dissuasion.extensions import db
from tests.conftest import PASSWORD, Auth

T0 = dt.datetime(2026, 11, 16, 1, 0, tzinfo=UTC)


# --- finding 6: `next` after a form may not lead off the site -------------------------------------------------------

@pytest.mark.parametrize("target", ["//evil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example",
                                    "/\\evil.example", "https://evil.example/", "evil.example", "", None,
                                    "/ /evil.example/\t"])
def test_a_next_that_a_browser_would_read_as_another_host_is_refused(target):
    assert local_path(target) is None


@pytest.mark.parametrize("target", ["/cases/", "/cases/?status=open&page=2", "/watch/3#meetings"])
def test_a_next_on_this_site_is_kept(target):
    assert local_path(target) == target


def test_saving_a_contact_with_a_next_holding_a_tab_goes_back_to_the_case(client, auth, make_user, make_case, clock):
    clock(T0)
    me = make_user("officer")
    case = make_case(tier="medium", assignee=me)
    clock(T0 + dt.timedelta(minutes=20))
    auth.login(me)
    response = client.post(f"/cases/{case.id}/contact", data={
        "method": "phone", "reached": "self", "contacted_at": "2026-11-16T09:10", "version": str(case.version),
        "action": "again", "next": "/\t/evil.example"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/cases/{case.id}"


# --- finding 7: a changed role ends the account's sessions and tokens ---------------------------------------------

def test_a_lead_made_center_staff_is_logged_out_loses_its_tokens_and_must_pass_the_second_factor(app, make_user,
                                                                                              bearer):
    lead = make_user("lead")
    headers = bearer(lead)
    lead_client = app.test_client()
    Auth(lead_client).login(lead)
    assert lead_client.get("/cases/county").status_code == 403
    admin_client = app.test_client()
    Auth(admin_client).login(make_user("admin"))

    admin_client.post(f"/admin/users/{lead.id}", data={"display_name": lead.display_name, "role": "center",
                                                       "precinct": "", "active": "y"})

    assert lead_client.get("/cases/county").headers["Location"].startswith("/login")
    assert app.test_client().get("/api/v1/cases", headers=headers).status_code == 401
    fresh = app.test_client()
    step = fresh.post("/login", data={"username": lead.username, "password": PASSWORD})
    assert step.status_code == 302 and step.headers["Location"] == "/login/totp/setup"
    assert fresh.get("/cases/county").headers["Location"].startswith("/login")  # the password alone opens nothing


# --- findings 2 and 3: a lead reaches no person of another precinct through the watch list or a hand entry --------

ELSEWHERE_ID = "110101199003077774"


@pytest.fixture
def elsewhere(make_case, make_user, clock):
    """A person whose open case is in PCS02, and PCS01's lead."""
    clock(T0)
    case = make_case(precinct="PCS02", community="西屏村", name="董红兰", id_number=ELSEWHERE_ID, phone="15069806990")
    return {"case": case, "person": case.person, "lead": make_user("lead", precinct="PCS01"),
            "officer": make_user("officer", precinct="PCS01")}


def test_a_lead_cannot_put_another_precincts_person_on_the_watch_list(elsewhere, client, auth):
    from dissuasion.watch.models import WatchEntry
    from dissuasion.watch.operations import kind_by_code
    auth.login(elsewhere["lead"])
    response = client.post("/watch/new", data={
        "name": "某某", "id_number": ELSEWHERE_ID, "kind": kind_by_code("returnee").id,
        "precinct": elsewhere["lead"].precinct_id, "officer": elsewhere["officer"].id, "interval_days": 7})
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "请联系中心民警建立" in page
    assert "董红兰" not in page and db.session.scalar(db.select(WatchEntry)) is None


def test_a_leads_hand_entry_joins_another_precincts_case_without_renaming_the_person_or_naming_the_case(
        elsewhere, client, bearer):
    from dissuasion.cases.models import Case, Person
    person_id, case_id = elsewhere["person"].id, elsewhere["case"].id
    response = client.post("/api/v1/warnings", headers=bearer(elsewhere["lead"]), json={
        "source": "walk_in", "name": "随便", "id_number": ELSEWHERE_ID, "phone": "13600000001", "tier": "extra_high",
        "reason": "x", "reported_at": "2026-11-16T08:50:00+08:00"})
    assert response.status_code == 201, response.json
    assert response.json["attached"] is True and response.json["case_id"] is None
    db.session.expire_all()
    person = db.session.get(Person, person_id)
    assert (person.name, person.phone) == ("董红兰", "15069806990")
    assert len(db.session.get(Case, case_id).warnings) == 2  # the warning still reaches the person's open case


def test_a_leads_hand_entry_about_a_person_of_their_own_precinct_still_brings_the_new_phone(make_case, make_user,
                                                                                             client, bearer, clock):
    from dissuasion.cases.models import Person
    clock(T0)
    case = make_case(precinct="PCS01", name="王五", id_number=ELSEWHERE_ID, phone="15069806990")
    response = client.post("/api/v1/warnings", headers=bearer(make_user("lead", precinct="PCS01")), json={
        "source": "walk_in", "name": "王五", "id_number": ELSEWHERE_ID, "phone": "13600000001", "tier": "high",
        "reason": "x", "reported_at": "2026-11-16T08:50:00+08:00"})
    assert response.status_code == 201 and response.json["case_id"] == case.id
    db.session.expire_all()
    assert db.session.get(Person, case.person_id).phone == "13600000001"


# --- findings 4 and 5: numbers typed into a watch note, a meeting or 报告人 are stored encrypted, shown masked ------

def test_numbers_in_a_watch_meeting_are_encrypted_masked_on_page_api_and_register_and_revealed_with_audit(
        make_case, make_user, client, auth, bearer, clock):
    from sqlalchemy import Text, type_coerce

    from dissuasion.core.auditlog import AuditEvent
    from dissuasion.watch.models import WatchMeeting
    from dissuasion.watch.operations import record_meeting, watch_from_case
    clock(T0)
    officer = make_user("officer", precinct="PCS01")
    case = make_case(precinct="PCS01", assignee=officer)
    entry = watch_from_case(case, make_user("lead", precinct="PCS01"), officer_id=officer.id)
    record_meeting(entry, officer, T0, "officer", "visit", "", "本人已换号，新号码 13912340000", ["new_number"])
    db.session.commit()
    stored = db.session.scalar(db.select(type_coerce(WatchMeeting.observed, Text)))
    assert "13912340000" not in stored
    auth.login(officer)
    page = client.get(f"/watch/{entry.id}").get_data(as_text=True)
    assert "13912340000" not in page and "139****0000" in page
    assert "13912340000" not in client.get(f"/api/v1/watch/{entry.id}", headers=bearer(officer)).get_data(as_text=True)
    book = openpyxl.load_workbook(io.BytesIO(client.get("/watch/register.xlsx").get_data()))
    cells = [str(c.value) for row in book.active.iter_rows() for c in row if c.value is not None]
    assert any("139****0000" in c for c in cells) and not any("13912340000" in c for c in cells)
    revealed = client.post(f"/watch/{entry.id}/reveal/notes").get_data(as_text=True)
    assert "13912340000" in revealed
    assert db.session.scalar(db.select(AuditEvent).filter_by(action="reveal_notes", object_id=str(entry.id)))


def test_a_reporters_number_is_stored_encrypted_and_shown_masked_until_revealed(make_user, make_precinct, client,
                                                                                 auth, bearer, clock):
    from sqlalchemy import Text, type_coerce

    from dissuasion.cases.models import EarlyWarning
    clock(T0)
    make_precinct("PCS01")
    lead = make_user("lead", precinct="PCS01")
    response = client.post("/api/v1/warnings", headers=bearer(lead), json={
        "source": "relative", "name": "王六", "phone": "13800138000", "tier": "high", "reason": "x",
        "reported_by": "女儿 王某 13912345678", "reported_at": "2026-11-16T08:50:00+08:00"})
    case_id = response.json["case_id"]
    assert "13912345678" not in db.session.scalar(db.select(type_coerce(EarlyWarning.reported_by, Text)))
    auth.login(lead)
    page = client.get(f"/cases/{case_id}").get_data(as_text=True)
    assert "13912345678" not in page and "139****5678" in page
    assert "13912345678" in client.post(f"/cases/{case_id}/reveal/notes").get_data(as_text=True)
