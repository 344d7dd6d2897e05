"""A name like <script>alert(1)</script> shows as text on every page that shows names."""
import pytest

EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def evil_case(make_case, make_user):
    officer = make_user("officer", precinct="PCS01", display_name=EVIL)
    case = make_case(precinct="PCS01", name=EVIL, assignee=officer, notes=EVIL, reason=EVIL)
    return case, officer


@pytest.mark.parametrize("role,url", [
    ("officer", "/cases/"), ("officer", "/cases/{id}"), ("lead", "/cases/board"), ("lead", "/cases/{id}"),
    ("center", "/cases/{id}"), ("center", "/cases/county"),
    ("admin", "/admin/users"),
])
def test_a_script_in_a_name_is_shown_as_text(client, auth, make_user, evil_case, role, url):
    case, officer = evil_case
    me = officer if role == "officer" else make_user(role, precinct="PCS01")
    auth.login(me)
    page = client.get(url.format(id=case.id)).get_data(as_text=True)
    assert EVIL not in page
    if url != "/cases/county":  # the county board shows counts, no names
        assert ESCAPED in page


def test_a_script_as_a_login_name_is_text_in_the_audit_trail(client, auth, make_user):
    client.post("/login", data={"username": EVIL, "password": "whatever-it-is"})
    auth.login(make_user("admin"))
    page = client.get("/admin/audit").get_data(as_text=True)
    assert EVIL not in page and ESCAPED in page
