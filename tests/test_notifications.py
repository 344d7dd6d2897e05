"""The bell and the notifications page: the unread count, newest first, links only to cases still in reach."""
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
    answer = client.get(f"/notifications/{note.id}/open")
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/cases/{mine.id}")
    assert '<span class="badge">1</span>' in client.get(answer.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is not None
    assert db.session.get(Notification, other.id).read_at is None
    page = client.get("/notifications").get_data(as_text=True)
    assert f'href="/cases/{mine.id}"' in page and f"/notifications/{note.id}/open" not in page  # read: straight there


def test_a_notice_followed_from_another_site_stays_unread(client, auth, make_user, make_case):
    me = make_user("officer", precinct="PCS01")
    note = notify(me.id, "assigned", "新指派任务", case_id=make_case(assignee=me).id)
    db.session.commit()
    auth.login(me)
    answer = client.get(f"/notifications/{note.id}/open", headers={"Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 302
    assert _unread(me.id) == 1


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
    answer = client.get(f"/notifications/{note.id}/open")  # an old bookmark
    assert answer.headers["Location"].endswith("/notifications")
    assert _unread(me.id) == 0
