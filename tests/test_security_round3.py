"""Security, third round: each finding of this round's attack on main, replayed, is refused.

Finding 1 (an .xlsx whose far cell was written another way) is in tests/test_upload_bounds.py.
"""
import datetime as dt

import pytest

from dissuasion.core.timeutil import UTC
from dissuasion.core.urls import local_path
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
