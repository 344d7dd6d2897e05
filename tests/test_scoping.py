"""Who may see which case: one scoping function, tested over every case URL and every role."""
import pytest

from dissuasion.cases.scoping import scope_cases
from dissuasion.extensions import db

#: Every page that shows or changes one case. Later features add theirs here.
CASE_URLS = [("GET", "/cases/{id}"), ("POST", "/cases/{id}/sign"), ("POST", "/cases/{id}/assign"),
             ("POST", "/cases/{id}/transfer"), ("POST", "/cases/{id}/route"), ("POST", "/cases/{id}/reveal/id"),
             ("POST", "/cases/{id}/reveal/phone"), ("POST", "/cases/{id}/call"), ("GET", "/cases/{id}/contact"),
             ("POST", "/cases/{id}/contact"), ("POST", "/cases/{id}/close"), ("POST", "/cases/{id}/approve-close"),
             ("POST", "/cases/{id}/reopen"), ("POST", "/cases/{id}/followups"),
             ("POST", "/cases/{id}/followups/1/move")]


@pytest.fixture
def other_precinct_case(make_case, make_user):
    """A case in PCS01, assigned to one of PCS01's officers."""
    return make_case(tier="high", precinct="PCS01", assignee=make_user("officer", precinct="PCS01"))


@pytest.mark.parametrize("method,url", CASE_URLS)
@pytest.mark.parametrize("role", ["officer", "lead"])
def test_user_of_another_precinct_gets_404(client, auth, make_user, other_precinct_case, method, url, role):
    auth.login(make_user(role, precinct="PCS02"))
    response = client.open(url.format(id=other_precinct_case.id), method=method)
    assert response.status_code == 404


@pytest.mark.parametrize("method,url", CASE_URLS)
def test_officer_does_not_see_a_colleagues_case(client, auth, make_user, other_precinct_case, method, url):
    auth.login(make_user("officer", precinct="PCS01"))
    assert client.open(url.format(id=other_precinct_case.id), method=method).status_code == 404


@pytest.mark.parametrize("method,url", CASE_URLS)
def test_admin_sees_no_case_content(client, auth, make_user, other_precinct_case, method, url):
    auth.login(make_user("admin"))
    assert client.open(url.format(id=other_precinct_case.id), method=method).status_code == 403


@pytest.mark.parametrize("role,precinct,assigned_to_me,expected", [
    ("officer", "PCS01", True, 200),
    ("officer", "PCS01", False, 404),
    ("lead", "PCS01", False, 200),
    ("center", None, False, 200),
])
def test_who_may_open_a_case(client, auth, make_user, make_case, role, precinct, assigned_to_me, expected):
    me = make_user(role, precinct=precinct)
    owner = me if assigned_to_me else make_user("officer", precinct="PCS01")
    case = make_case(precinct="PCS01", assignee=owner)
    auth.login(me)
    assert client.get(f"/cases/{case.id}").status_code == expected


def test_officer_sees_own_cases_and_precinct_pool_only(make_user, make_case):
    me = make_user("officer", precinct="PCS01")
    colleague = make_user("officer", precinct="PCS01")
    mine = make_case(precinct="PCS01", assignee=me)
    pool = make_case(precinct="PCS01", community="无民警社区")
    make_case(precinct="PCS01", assignee=colleague)
    make_case(precinct="PCS02")
    make_case(precinct=None)  # unrouted: the center's queue
    seen = set(db.session.scalars(scope_cases(me)).all())
    assert seen == {mine, pool}


def test_lead_sees_own_precinct_and_center_sees_all(make_user, make_case):
    lead = make_user("lead", precinct="PCS01")
    center = make_user("center")
    a, b, c = make_case(precinct="PCS01"), make_case(precinct="PCS02"), make_case(precinct=None)
    assert set(db.session.scalars(scope_cases(lead))) == {a}
    assert set(db.session.scalars(scope_cases(center))) == {a, b, c}
    assert list(db.session.scalars(scope_cases(make_user("admin")))) == []


def test_worklist_lists_only_reachable_cases(client, auth, make_user, make_case):
    me = make_user("officer", precinct="PCS01")
    make_case(precinct="PCS01", assignee=me, name="我的人")
    make_case(precinct="PCS02", name="外所的人")
    auth.login(me)
    page = client.get("/cases/").get_data(as_text=True)
    assert "我的人" in page
    assert "外所的人" not in page
