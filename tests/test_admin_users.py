"""An admin changes and stops accounts: a departed officer loses access at once and their cases are not stranded."""
from dissuasion.auth.models import User
from dissuasion.cases.models import Case, CaseEvent
from dissuasion.core.auditlog import AuditEvent
from dissuasion.core.enums import EventKind, Role, Tier
from dissuasion.directory.models import Community
from dissuasion.extensions import db
from dissuasion.notifications.models import Notification
from tests.conftest import Auth


def _edit(client, user, **changes):
    data = {"display_name": user.display_name, "role": user.role.value,
            "precinct": user.precinct.code if user.precinct else "", "active": "y" if user.active else ""}
    data.update(changes)
    return client.post(f"/admin/users/{user.id}", data=data, follow_redirects=True)


def _admin_client(app, make_user):
    client = app.test_client()
    admin = make_user("admin")
    Auth(client).login(admin)
    return client, admin


def test_a_stopped_officer_is_logged_out_cannot_log_in_and_their_token_stops(app, make_user, bearer, make_case):
    officer = make_user("officer")
    headers = bearer(officer)
    officer_client = app.test_client()
    Auth(officer_client).login(officer)
    assert officer_client.get("/cases/").status_code == 200
    assert officer_client.get("/api/v1/cases", headers=headers).status_code == 200
    admin_client, _admin = _admin_client(app, make_user)

    page = _edit(admin_client, officer, active="").get_data(as_text=True)

    assert "已保存" in page
    assert officer_client.get("/cases/").status_code == 302  # the open session ends at its next request
    assert app.test_client().get("/api/v1/cases", headers=headers).status_code == 401
    again = Auth(app.test_client()).login(officer)
    assert again.status_code == 200 and "用户名或密码错误" in again.get_data(as_text=True)
    listing = admin_client.get("/admin/users").get_data(as_text=True)
    assert "已停用" in listing


def test_a_stopped_officers_open_cases_go_back_to_the_pool_and_the_lead_hears(app, make_user, make_case):
    officer = make_user("officer")
    lead = make_user("lead")
    held = [make_case(assignee=officer), make_case(tier="low", assignee=officer)]
    closed = make_case(assignee=officer)
    closed.status = "closed"
    db.session.commit()
    admin_client, admin = _admin_client(app, make_user)

    _edit(admin_client, officer, active="")

    db.session.expire_all()
    assert [db.session.get(Case, c.id).assignee_id for c in held] == [None, None]
    assert db.session.get(Case, closed.id).assignee_id == officer.id  # history stays with who did the work
    events = db.session.scalars(db.select(CaseEvent).where(CaseEvent.case_id == held[0].id,
                                                           CaseEvent.kind == EventKind.ASSIGNED)).all()
    assert events and "退回所内待分配" in events[-1].message and events[-1].actor_id == admin.id
    note = db.session.scalar(db.select(Notification).where(Notification.user_id == lead.id)
                             .order_by(Notification.id.desc()))
    assert note is not None and "2 件" in note.message


def test_an_officer_moved_to_another_precinct_keeps_no_old_cases_and_gets_no_new_ones_there(
        app, make_user, make_case, make_precinct):
    officer = make_user("officer")
    old = make_case(assignee=officer)
    community = db.session.scalar(db.select(Community).filter_by(name="东门社区"))
    community.officer = officer
    db.session.commit()
    make_precinct("PCS02")
    admin_client, _admin = _admin_client(app, make_user)

    page = _edit(admin_client, officer, precinct="PCS02").get_data(as_text=True)

    assert "已保存" in page
    db.session.expire_all()
    assert db.session.get(Case, old.id).assignee_id is None
    new = make_case()  # a new warning for the community they used to serve
    assert new.assignee_id is None and new.tier == Tier.HIGH


def test_an_admin_cannot_lock_themselves_or_the_last_admin_out(app, make_user):
    admin_client, admin = _admin_client(app, make_user)

    page = _edit(admin_client, admin, active="").get_data(as_text=True)
    assert "不能停用自己的账号" in page
    page = _edit(admin_client, admin, role="center").get_data(as_text=True)
    assert "不能停用自己的账号" in page
    db.session.expire_all()
    assert db.session.get(User, admin.id).active and db.session.get(User, admin.id).role == Role.ADMIN


def test_an_officer_needs_a_precinct_and_a_refused_change_writes_nothing(app, make_user):
    center = make_user("center")
    admin_client, _admin = _admin_client(app, make_user)

    page = _edit(admin_client, center, role="officer", precinct="").get_data(as_text=True)

    assert "必须属于一个派出所" in page
    db.session.expire_all()
    assert db.session.get(User, center.id).role == Role.CENTER


def test_a_role_change_is_audited_and_takes_effect(app, make_user):
    officer = make_user("officer")
    officer_client = app.test_client()
    Auth(officer_client).login(officer)
    assert officer_client.get("/cases/board").status_code == 403
    admin_client, admin = _admin_client(app, make_user)

    _edit(admin_client, officer, role="lead", display_name="王所")

    assert officer_client.get("/cases/board").headers["Location"].startswith("/login")  # logged in as an officer
    Auth(officer_client).login(officer)
    assert officer_client.get("/cases/board").status_code == 200
    entry = db.session.scalar(db.select(AuditEvent).filter_by(action="user_update", object_id=str(officer.id)))
    assert entry is not None and entry.user_id == admin.id
    assert set(entry.detail["changed"]) == {"role", "display_name"} and entry.detail["role"] == "lead"
    assert "王所" in admin_client.get("/admin/users").get_data(as_text=True)


def test_the_edit_page_renders_in_english(app, make_user):
    officer = make_user("officer")
    admin_client, _admin = _admin_client(app, make_user)
    admin_client.post("/lang/en", data={"next": "/"})
    page = admin_client.get(f"/admin/users/{officer.id}").get_data(as_text=True)
    assert officer.username in page and 'name="active"' in page
    assert "Reset the initial password" in page and "重设初始密码" not in page


def test_an_account_without_a_password_is_enabled_by_giving_it_one(app, make_user):
    officer = make_user("officer")
    officer.password_hash, officer.active = None, False  # a community officer loaded from the directory
    db.session.commit()
    admin_client, _admin = _admin_client(app, make_user)

    page = _edit(admin_client, officer, active="y").get_data(as_text=True)

    assert "还没有密码" in page
    db.session.expire_all()
    assert not db.session.get(User, officer.id).active
    admin_client.post(f"/admin/users/{officer.id}/password", data={"password": "a-new-initial-password"})
    db.session.expire_all()
    assert db.session.get(User, officer.id).active


def test_a_new_account_form_says_every_problem_at_once_in_chinese(app, make_user, make_precinct):
    make_precinct("PCS01")
    admin_client, _admin = _admin_client(app, make_user)
    page = admin_client.post("/admin/users", data={"username": "bad user!!", "role": "officer", "precinct": "",
                                                   "password": "12345", "display_name": ""}).get_data(as_text=True)
    assert "不能有空格或其他符号" in page and "请选择派出所" in page and "密码至少需要" in page
    assert "--precinct" not in page
    assert db.session.scalar(db.select(User).filter_by(username="bad user!!")) is None


def test_a_chinese_user_name_is_accepted(app, make_user, make_precinct):
    make_precinct("PCS01")
    admin_client, _admin = _admin_client(app, make_user)
    admin_client.post("/admin/users", data={"username": "张三", "role": "officer", "precinct": "PCS01",
                                            "password": "a-long-initial-pass-2026", "display_name": ""})
    assert db.session.scalar(db.select(User).filter_by(username="张三")) is not None
