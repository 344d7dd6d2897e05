"""Creating users, checking passwords, ending sessions. Operations flush and log; they never commit."""
import re

from flask_babel import gettext as _

from ..core.auditlog import record
from ..core.enums import Role
from ..core.signals import account_changed, community_officers, directory_checking, results
from ..core.timeutil import now
from ..directory.models import Precinct
from ..extensions import db
from .models import ApiToken, User
from .passwords import hash_password, password_problem


class UserError(ValueError):
    """A user could not be created or changed; the message says why, in Chinese (`fields`: every problem found, by
    the form field it belongs to)."""

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.fields = fields or {}


#: A user name: letters (Chinese too), digits and _ . - @, no spaces; people type it at every login.
USERNAME = re.compile(r"^[\w.@-]{2,64}$")


def account_problems(username: str, role: Role, password: str | None, precinct: Precinct | None) -> dict[str, str]:
    """Every reason a new account cannot be made as given, by field: all at once, so a form says them together."""
    problems = {}
    if not username:
        problems["username"] = _("用户名不能为空。")
    elif not USERNAME.match(username):
        problems["username"] = _("用户名只能由 2 到 64 个字母、数字、汉字或 _ . - @ 组成，不能有空格或其他符号。")
    elif db.session.scalar(db.select(User).filter_by(username=username)):
        problems["username"] = _("用户名 %(name)s 已存在。", name=username)
    if role in (Role.LEAD, Role.OFFICER) and precinct is None:
        problems["precinct"] = _("所领导和民警必须属于一个派出所：请选择派出所。")
    if password is not None and (problem := password_problem(password, username)):
        problems["password"] = problem
    return problems


def create_user(username: str, role: Role, password: str | None, precinct: Precinct | None = None,
                display_name: str = "", active: bool = True, must_change_password: bool = False,
                by: User | None = None) -> User:
    """Create an account; leads and officers need a precinct, center staff and admins have none."""
    username = username.strip()
    if role in (Role.CENTER, Role.ADMIN):
        precinct = None
    if problems := account_problems(username, role, password, precinct):
        raise UserError(next(iter(problems.values())), problems)
    user = User(username=username, role=role, precinct=precinct, display_name=display_name, active=active,
                password_hash=hash_password(password) if password else None,
                must_change_password=must_change_password)
    db.session.add(user)
    db.session.flush()
    record("user_create", "user", user.id, user=by, role=role.value, username=username)
    return user


def set_password(user: User, password: str, by: User | None = None) -> None:
    """Change a password and end the user's other sessions."""
    if problem := password_problem(password, user.username):
        raise UserError(problem)
    user.password_hash = hash_password(password)
    user.must_change_password = by is not None and by.id != user.id
    user.active = True
    user.failed_logins, user.locked_until = 0, None  # a new password from the admin also lifts a lockout
    end_sessions(user)
    if by is not None and by.id != user.id:  # an admin's reset: whoever held the account holds no token either
        revoke_tokens(user, by, reason="password_reset")
    record("password_change", "user", user.id, user=by or user)


def end_sessions(user: User, action: str | None = None) -> None:
    """Every session of this user stops working at its next request; `action` (e.g. logout) is audited."""
    user.session_version += 1
    if action:
        record(action, "user", user.id, user=user)
    db.session.flush()


def revoke_token(token: ApiToken, by: User | None, reason: str = "revoked") -> bool:
    """End one API token now; False when it had already ended."""
    if token.revoked:
        return False
    token.revoked, token.revoked_at = True, now()
    record("api_token_revoke", "api_token", token.id, user=by, for_user=token.user.username, name=token.name,
           reason=reason)
    db.session.flush()
    return True


def revoke_tokens(user: User, by: User | None, reason: str) -> int:
    """End every API token of a user (an admin reset their password, or stopped the account)."""
    tokens = db.session.scalars(db.select(ApiToken).filter_by(user_id=user.id, revoked=False)).all()
    return sum(revoke_token(token, by, reason) for token in tokens)


def update_user(user: User, by: User | None, *, role: Role, precinct: Precinct | None, display_name: str,
                active: bool) -> list[str]:
    """An admin changes an account: role, precinct, name, in use or 停用 (a departed officer). Returns the names of
    the fields that changed. A deactivated account's sessions and API tokens stop working at once; the open cases
    it held and may no longer hold (deactivated, another precinct, no longer an officer or lead) go back to their
    precinct's pool, where its leads see them. A changed role ends the account's sessions and API tokens too: it
    logs in again, with the second factor its new role asks for."""
    if role in (Role.LEAD, Role.OFFICER) and precinct is None:
        raise UserError(_("所领导和民警必须属于一个派出所：请选择派出所。"))
    if role in (Role.CENTER, Role.ADMIN):
        precinct = None
    if by is not None and user.id == by.id and (not active or role != Role.ADMIN):
        raise UserError(_("不能停用自己的账号或取消自己的管理员角色：请让另一位管理员操作。"))
    if user.role == Role.ADMIN and user.active and (not active or role != Role.ADMIN) and not _other_admin(user):
        raise UserError(_("这是唯一在用的管理员账号，不能停用或改为其他角色：请先创建另一个管理员。"))
    if active and not user.active and user.password_hash is None:
        raise UserError(_("此账号还没有密码，无法登录：请在下方设置初始密码，设置后账号即启用。"))
    display_name = (display_name or "").strip()[:64]
    before = {"role": user.role, "precinct": user.precinct_id, "display_name": user.display_name,
              "active": user.active}
    user.role, user.precinct, user.display_name, user.active = role, precinct, display_name, active
    db.session.flush()
    after = {"role": user.role, "precinct": user.precinct_id, "display_name": user.display_name,
             "active": user.active}
    changed = [k for k in before if before[k] != after[k]]
    if not changed:
        return []
    if before["active"] and not active:
        end_sessions(user)
        revoke_tokens(user, by, reason="disabled")
    elif before["role"] != role:  # what the account may do has changed: its sessions and tokens were opened for the
        end_sessions(user)  # old role (a lead made center staff must pass the second factor before its pages)
        revoke_tokens(user, by, reason="role_changed")
    released = sum(results(account_changed, user, by=by))  # cases build on accounts, not the other way round
    record("user_update", "user", user.id, user=by, username=user.username, changed=changed,
           role=role.value, precinct=precinct.code if precinct else None, active=active, cases_released=released)
    return changed


def _other_admin(user: User) -> bool:
    return db.session.scalar(db.select(User.id).where(User.role == Role.ADMIN, User.active.is_(True),
                                                      User.id != user.id).limit(1)) is not None


# --- Community officers named by the directory (see core.signals) -------------------------------------------

@directory_checking.connect
def check_community_officers(rows: list[dict], precincts: dict) -> list[str]:
    """A directory may name as a community officer only an officer's account of that precinct (or a new one)."""
    users = {u.username: u for u in db.session.scalars(db.select(User).where(
        User.username.in_({item["community_officer"] for item in rows if item["community_officer"]})))}
    problems = []
    for item in rows:
        user = users.get(item["community_officer"])
        if user is None or not item["community_officer"]:
            continue
        precinct = precincts.get(item["precinct_code"])
        if user.role != Role.OFFICER:
            problems.append(f"第 {item['row']} 行：账号 {user.username} 已存在，但不是民警角色。")
        elif precinct is not None and user.precinct_id not in (None, precinct.id):
            home = user.precinct
            problems.append(f"第 {item['row']} 行：民警 {user.username} 属于{home.name}（{home.code}），"
                            f"不能做{precinct.name}的社区民警。请填写{precinct.name}的民警账号，或先在“用户管理”中"
                            f"把此人调到{precinct.name}。")
    return problems


@community_officers.connect
def link_community_officers(named: list) -> tuple[int, int]:
    """Each community's officer: the account named, created inactive (no password yet) in the community's
    precinct when new, or linked to it when it had no precinct. Returns (created, linked)."""
    created = linked = 0
    users = {u.username: u for u in db.session.scalars(db.select(User).where(
        User.username.in_({item["community_officer"] for item, _p, _c in named})))} if named else {}
    for item, precinct, community in named:
        username = item["community_officer"]
        user = users.get(username)
        if user is None:
            user = User(username=username, role=Role.OFFICER, precinct=precinct, active=False, password_hash=None)
            db.session.add(user)
            users[username] = user
            created += 1
        elif user.precinct is None:
            user.precinct = precinct
            linked += 1
        community.officer = user
    return created, linked
