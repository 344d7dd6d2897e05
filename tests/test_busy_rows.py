"""A case a push is writing (PostgreSQL holds its row until the push commits): an officer's change to it waits at
most WEB_LOCK_TIMEOUT_MS, then is answered "busy, send it again in a moment" (503 and Retry-After), with nothing
saved and the web worker free; the page offers the same form again, filled in. Reads never wait."""
import datetime as dt
import threading
import time

import pytest
from sqlalchemy import text

from dissuasion.cases.merge import MERGE_LOCK
from dissuasion.contacts.models import Contact
from dissuasion.core.database import advisory_key
from dissuasion.extensions import db
from dissuasion.notifications.operations import notify
from tests.test_api import call_payload
from tests.test_api_pushes import ROWS
from tests.test_contact_form import T0, _form


@pytest.fixture
def hold(app):
    """hold(sql, **params) -> the transaction of another connection that ran `sql` (a lock, as a push's write holds
    it until its commit); rolled back at the end. PostgreSQL only; requests here wait 200 ms at most."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite writers take turns for the whole database)")
    app.config["WEB_LOCK_TIMEOUT_MS"] = 200
    held = []

    def run(sql: str, **params):
        connection = db.engine.connect()
        transaction = connection.begin()
        connection.execute(text(sql), params)
        held.append((connection, transaction))
        return transaction
    yield run
    for connection, transaction in held:
        if transaction.is_active:
            transaction.rollback()
        connection.close()


@pytest.fixture
def held(hold, make_user, make_case, clock):
    """(officer, case, commit): the case's row locked by another transaction, as a push's write holds it until
    `commit()`."""
    clock(T0)
    officer = make_user("officer")
    case = make_case(tier="medium", assignee=officer)
    clock(T0 + dt.timedelta(minutes=20))  # (the form's contact was at 09:10)
    return officer, case, hold("SELECT id FROM cases WHERE id = :id FOR UPDATE", id=case.id).commit


@pytest.fixture
def center(make_user, make_precinct, bearer) -> dict:
    make_precinct("PCS01", communities=("东门社区",))
    return bearer(make_user("center"))


def test_the_contact_form_answers_busy_and_offers_to_send_it_again(held, client, auth):
    officer, case, _commit = held
    auth.login(officer)
    assert client.get(f"/cases/{case.id}").status_code == 200  # reading waits for nothing
    start = time.monotonic()
    response = client.post(f"/cases/{case.id}/contact", data=_form(case, action="again", note="邻居说他在上班"))
    assert time.monotonic() - start < 3
    page = response.get_data(as_text=True)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert "一批导入正在写入" in page and "没有保存" in page and "再提交一次" in page
    assert f'action="/cases/{case.id}/contact"' in page
    assert 'name="note" value="邻居说他在上班"' in page and f'name="version" value="{case.version}"' in page
    assert db.session.scalar(db.select(db.func.count(Contact.id))) == 0


def test_the_api_answers_busy_with_retry_after(held, client, bearer):
    officer, case, _commit = held
    response = client.post(f"/api/v1/cases/{case.id}/contacts", headers=bearer(officer),
                           json=call_payload(case.version))
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.get_json()["error"]["code"] == "busy"
    assert "没有保存" in response.get_json()["error"]["message"]
    assert db.session.scalar(db.select(db.func.count(Contact.id))) == 0


def test_sent_again_once_the_push_has_committed_it_is_saved_once(held, client, auth):
    officer, case, commit = held
    auth.login(officer)
    form = _form(case, action="again", note="第二次")
    assert client.post(f"/cases/{case.id}/contact", data=form).status_code == 503
    commit()
    assert client.post(f"/cases/{case.id}/contact", data=form).status_code == 302  # the page's 再提交一次
    assert db.session.scalar(db.select(Contact.note)) == "第二次"
    assert db.session.scalar(db.select(db.func.count(Contact.id))) == 1


def test_a_push_through_the_api_waits_its_turn_at_the_merge_lock(hold, client, center):
    """Only a row lock is cut short: a small push sent to the API while another push writes waits for it, as
    before (the center's system would otherwise have to send it again)."""
    other_push = hold("SELECT pg_advisory_xact_lock(:key)", key=advisory_key(MERGE_LOCK))
    threading.Timer(1.0, other_push.commit).start()  # the other push commits a second later
    start = time.monotonic()
    response = client.post("/api/v1/pushes", headers=center, json=ROWS)
    assert response.status_code == 201, response.get_json()
    assert time.monotonic() - start >= 0.9


def test_a_push_through_the_api_waits_its_turn_no_longer_than_the_turn_bound(hold, app, client, center):
    """(review: behind a worker frozen mid-write, a small push waited 120 s, PostgreSQL's idle limit, which is also
    gunicorn's timeout: a moment later its worker would have been killed and the client given a 502) Past
    WEB_TURN_TIMEOUT_MS the client is told busy, with Retry-After, and nothing is written."""
    app.config["WEB_TURN_TIMEOUT_MS"] = 300
    other_push = hold("SELECT pg_advisory_xact_lock(:key)", key=advisory_key(MERGE_LOCK))  # a write that lasts
    ends = threading.Timer(3.0, other_push.commit)  # (past the bound; without one, the push would go through then)
    ends.start()
    start = time.monotonic()
    try:
        response = client.post("/api/v1/pushes", headers=center, json=ROWS)
    finally:
        ends.cancel()
    assert response.status_code == 503 and response.headers["Retry-After"]
    assert response.get_json()["error"]["code"] == "busy"
    assert time.monotonic() - start < 5
    assert not db.session.execute(text("SELECT count(*) FROM pushes")).scalar_one()


def test_a_login_that_waits_too_long_writes_no_password_into_the_page(hold, make_user, client):
    """(review: the busy page offered the login form again, its password in a hidden field)"""
    user = make_user("officer")
    hold("SELECT id FROM users WHERE id = :id FOR UPDATE", id=user.id)
    response = client.post("/login", data={"username": user.username, "password": "Not-the-password-1"})
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert "Not-the-password-1" not in page and 'name="username"' not in page  # no form to send again


def test_two_pushes_with_one_token_both_go_through(hold, client, center):
    """(review: a push's token row, touched once a minute, is held by the push before it waits at the merge lock; a
    second push with the same token answered busy instead of waiting its turn)"""
    hold("SELECT id FROM api_tokens FOR UPDATE")  # (as the first push holds it)
    response = client.post("/api/v1/pushes", headers=center, json=ROWS)
    assert response.status_code == 201, response.get_json()


def test_a_token_whose_row_a_push_holds_still_reads_and_writes_at_once(hold, make_user, make_case, client, bearer):
    """(review: a push holds its token's row until it commits; a read with that token, due to note its last use,
    waited as long, and a write was answered busy) The last use is noted by whichever request holds the row."""
    officer = make_user("officer")
    case = make_case(tier="medium", assignee=officer)
    headers = bearer(officer)
    push = hold("SELECT id FROM api_tokens FOR UPDATE")
    start = time.monotonic()
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    assert client.get(f"/api/v1/cases/{case.id}", headers=headers).status_code == 200
    assert time.monotonic() - start < 2
    push.rollback()
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    assert db.session.scalar(text("SELECT last_used_at FROM api_tokens")) is not None  # noted once it was free


def test_a_new_address_is_audited_once_even_while_a_push_holds_the_token(hold, make_user, client, bearer):
    """(review: the address was audited on every request while its token's row was held, since the address noted
    was skipped with the row)"""
    from dissuasion.core.auditlog import AuditEvent

    headers = bearer(make_user("officer"))
    assert client.get("/api/v1/cases", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.1"}).status_code == 200
    push = hold("SELECT id FROM api_tokens FOR UPDATE")
    for _ in range(3):
        assert client.get("/api/v1/cases", headers=headers, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200
    push.rollback()
    assert client.get("/api/v1/cases", headers=headers, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code == 200
    moved = db.session.scalars(db.select(AuditEvent).filter_by(action="api_token_new_address")).all()
    assert [event.detail["ip"] for event in moved] == ["10.0.0.1", "10.9.9.9"]


def test_a_notice_whose_row_is_held_opens_its_case_at_once_and_stays_unread(hold, make_user, make_case, client,
                                                                             auth):
    me = make_user("officer")
    case = make_case(assignee=me)
    note = notify(me.id, "assigned", "新指派任务", case_id=case.id)
    db.session.commit()
    note_id, case_id = note.id, case.id
    auth.login(me)
    commit = hold("SELECT id FROM notifications WHERE id = :id FOR UPDATE", id=note_id).commit  # e.g. a 退回
    started = time.monotonic()
    answer = client.get(f"/notifications/{note_id}/open", headers={"Sec-Fetch-Site": "same-origin"})
    assert time.monotonic() - started < 3  # the mark waits 300 ms at most, then gives up
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/cases/{case_id}")
    commit()
    assert db.session.scalar(text("SELECT read_at IS NULL FROM notifications WHERE id = :id"), {"id": note_id})
