"""The bell and the notifications page: the unread count, newest first, links only to cases still in reach."""
import sqlite3
import time

import pytest

from dissuasion.extensions import db
from dissuasion.notifications.models import Notification
from dissuasion.notifications.operations import notify


def test_the_bell_counts_unread_and_the_page_marks_them_read(client, auth, make_user, make_case):
    me = make_user("officer", precinct="PCS01")
    mine = make_case(assignee=me, name="我的人")
    theirs = make_case(precinct="PCS02", name="外所的人")
    first = notify(me.id, "assigned", "新指派任务：我的人", case_id=mine.id)
    notify(me.id, "assigned", "旧任务已移交", case_id=theirs.id)
    notify(make_user("officer", precinct="PCS01").id, "assigned", "别人的通知")
    db.session.commit()
    auth.login(me)
    home = client.get("/cases/").get_data(as_text=True)
    assert '<span class="badge">2</span>' in home
    page = client.get("/notifications").get_data(as_text=True)
    assert page.index("旧任务已移交") < page.index("新指派任务")  # newest first
    assert f'href="/notifications/{first.id}/open"' in page and f'/cases/{theirs.id}"' not in page
    assert page.count("/open") == 1  # the case handed elsewhere is not linked at all
    assert "别人的通知" not in page
    assert client.post("/notifications/read", data={"id": str(first.id)}).status_code == 302
    assert '<span class="badge">1</span>' in client.get("/cases/").get_data(as_text=True)
    client.post("/notifications/read")
    assert 'class="badge">' not in client.get("/notifications").get_data(as_text=True).split("<main")[0]
    assert db.session.scalar(db.select(db.func.count()).select_from(Notification)
                             .where(Notification.read_at.is_(None))) == 1  # the other officer's


def test_one_cannot_mark_anothers_notification(client, auth, make_user):
    other = make_user("officer", precinct="PCS01")
    note = notify(other.id, "assigned", "x")
    db.session.commit()
    auth.login(make_user("officer", precinct="PCS01"))
    client.post("/notifications/read", data={"id": str(note.id)})
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is None


#: What a browser sends with a link followed from one of our pages.
OUR_PAGE = {"Sec-Fetch-Site": "same-origin"}


def _unread(user_id):
    return db.session.scalar(db.select(db.func.count()).select_from(Notification)
                             .where(Notification.user_id == user_id, Notification.read_at.is_(None)))


def test_following_a_notice_opens_its_case_and_marks_it_read(client, auth, make_user, make_case):
    me = make_user("officer", precinct="PCS01")
    mine = make_case(assignee=me, name="我的人")
    note = notify(me.id, "assigned", "新指派任务：我的人", case_id=mine.id)
    other = notify(me.id, "assigned", "新指派任务：另一人", case_id=make_case(assignee=me, name="另一人").id)
    db.session.commit()
    auth.login(me)
    page = client.get("/notifications").get_data(as_text=True)
    assert f'href="/notifications/{note.id}/open"' in page  # unread: through the mark-read step
    answer = client.get(f"/notifications/{note.id}/open", headers=OUR_PAGE)
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/cases/{mine.id}")
    assert '<span class="badge">1</span>' in client.get(answer.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is not None
    assert db.session.get(Notification, other.id).read_at is None
    page = client.get("/notifications").get_data(as_text=True)
    assert f'href="/cases/{mine.id}"' in page and f"/notifications/{note.id}/open" not in page  # read: straight there


@pytest.mark.parametrize(("method", "headers", "marked"), [
    ("GET", {"Sec-Fetch-Site": "cross-site"}, False),  # a link on another site
    ("GET", {"Sec-Fetch-Site": "same-site"}, False),  # a sibling host is not us either
    ("GET", {"Sec-Fetch-Site": "none"}, True),  # typed or bookmarked
    ("GET", {"Referer": "http://localhost/notifications"}, True),  # a browser without Sec-Fetch-Site, from our page
    ("GET", {"Referer": "http://evil.example/x"}, False),
    ("GET", {}, False),  # neither: nothing says it came from us
    ("HEAD", OUR_PAGE, False),  # a link checker's look
])
def test_only_a_notice_followed_from_our_own_pages_is_marked_read(client, auth, make_user, make_case, method,
                                                                    headers, marked):
    me = make_user("officer", precinct="PCS01")
    case = make_case(assignee=me)
    note = notify(me.id, "assigned", "新指派任务", case_id=case.id)
    db.session.commit()
    auth.login(me)
    answer = client.open(f"/notifications/{note.id}/open", method=method, headers=headers)
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/cases/{case.id}")
    assert _unread(me.id) == (0 if marked else 1)


def test_following_a_notice_during_an_import_goes_to_the_case_at_once(app, client, auth, make_user, make_case):
    """An import holds SQLite's write lock for seconds: the notice's case opens at once, the notice stays unread."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's write lock (PostgreSQL's row lock: tests/test_busy_rows.py)")
    me = make_user("officer", precinct="PCS01")
    case = make_case(assignee=me)
    note = notify(me.id, "assigned", "新指派任务", case_id=case.id)
    db.session.commit()
    auth.login(me)
    follow, case_page, me_id = f"/notifications/{note.id}/open", f"/cases/{case.id}", me.id
    db.session.remove()  # (this test's own session must not be the one waiting for the lock)
    importing = sqlite3.connect(db.engine.url.database, isolation_level=None)
    importing.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        answer = client.get(follow, headers=OUR_PAGE)
        waited = time.monotonic() - started
    finally:
        importing.execute("ROLLBACK")
        importing.close()
    assert answer.status_code == 302 and answer.headers["Location"].endswith(case_page)
    assert waited < 3  # not the 10 s a writer waits for the lock
    assert _unread(me_id) == 1
    client.get(follow, headers=OUR_PAGE)  # the import done: marked this time
    assert _unread(me_id) == 0


def test_anothers_notice_cannot_be_followed(client, auth, make_user, make_case):
    other = make_user("officer", precinct="PCS01")
    note = notify(other.id, "assigned", "新指派任务", case_id=make_case(assignee=other).id)
    db.session.commit()
    auth.login(make_user("officer", precinct="PCS01"))
    assert client.get(f"/notifications/{note.id}/open").status_code == 404
    assert _unread(other.id) == 1


def test_a_notice_whose_case_went_elsewhere_is_marked_read_and_leads_back_to_the_list(client, auth, make_user,
                                                                                       make_case):
    me = make_user("officer", precinct="PCS01")
    gone = make_case(precinct="PCS02", name="外所的人")
    note = notify(me.id, "assigned", "旧任务已移交", case_id=gone.id)
    db.session.commit()
    auth.login(me)
    assert "/open" not in client.get("/notifications").get_data(as_text=True)  # nothing to follow on the page
    answer = client.get(f"/notifications/{note.id}/open", headers=OUR_PAGE)  # an old bookmark
    assert answer.headers["Location"].endswith("/notifications")
    assert _unread(me.id) == 0
