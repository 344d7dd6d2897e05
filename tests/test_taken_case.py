"""A pool case another officer has just taken: 409 saying who took it and when, not 404 (page and API)."""
import pytest

from dissuasion.cases.dispatch import assign, sign_for
from dissuasion.extensions import db
from tests.test_reports import at


@pytest.fixture
def taken(make_case, make_user, clock):
    clock(at("2026-11-20 09:00"))
    first, second = make_user("officer", precinct="PCS01"), make_user("officer", precinct="PCS01")
    case = make_case(tier="high", precinct="PCS01", community="无民警社区")
    assert case.assignee_id is None  # in the pool: both officers see it
    clock(at("2026-11-20 09:05"))
    sign_for(case, second)
    db.session.commit()
    return first, second, case


@pytest.mark.parametrize("path", ["/cases/{id}", "/cases/{id}/contact"])
def test_the_page_says_who_took_it_and_leads_back_to_the_worklist(taken, client, auth, path):
    first, second, case = taken
    auth.login(first)
    response = client.get(path.format(id=case.id))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert second.label in html and "2026-11-20 09:05" in html and 'href="/cases/"' in html


def test_posting_a_contact_on_it_says_so_too(taken, client, auth):
    first, second, case = taken
    auth.login(first)
    response = client.post(f"/cases/{case.id}/sign")
    assert response.status_code == 409 and second.label in response.get_data(as_text=True)


def test_the_api_answers_409_with_who_and_when(taken, client, bearer):
    first, second, case = taken
    response = client.get(f"/api/v1/cases/{case.id}", headers=bearer(first))
    assert response.status_code == 409
    error = response.get_json()["error"]
    assert error["code"] == "conflict" and second.label in error["message"]
    assert error["fields"] == {"taken_by": second.label, "taken_at": "2026-11-20T01:05:00+00:00"}


@pytest.mark.parametrize("who", ["other_precinct_officer", "never_in_the_pool"])
def test_others_still_get_404(make_case, make_user, client, auth, who, clock):
    clock(at("2026-11-20 09:00"))
    officer, holder = make_user("officer", precinct="PCS01"), make_user("officer", precinct="PCS01")
    if who == "other_precinct_officer":
        case = make_case(tier="high", precinct="PCS01", community="无民警社区")
        sign_for(case, holder)
        officer = make_user("officer", precinct="PCS02")
    else:  # given to its holder when it came in: this officer never saw it
        case = make_case(tier="high", precinct="PCS01", assignee=holder)
    db.session.commit()
    auth.login(officer)
    assert client.get(f"/cases/{case.id}").status_code == 404


def test_a_lead_moving_it_to_a_colleague_is_named_as_well(taken, make_user, client, auth):
    first, second, case = taken
    third = make_user("officer", precinct="PCS01")
    assign(case, third, make_user("lead", precinct="PCS01"))
    db.session.commit()
    auth.login(first)
    assert third.label in client.get(f"/cases/{case.id}").get_data(as_text=True)
