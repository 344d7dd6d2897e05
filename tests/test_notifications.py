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
    assert f'href="/cases/{mine.id}"' in page and f'/cases/{theirs.id}"' not in page
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
