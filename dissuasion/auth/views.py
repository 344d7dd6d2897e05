"""Login (password, then the second factor), logout, password change and the language switch."""

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..core.timeutil import now
from ..core.urls import local_path
from ..extensions import db
from ..privacy.pii import decrypt, encrypt
from . import login as policy
from .forms import LoginForm, PasswordForm, TotpForm
from .models import User
from .operations import UserError, end_sessions, set_password
from .passwords import password_problem, verify_password
from .session import fresh_session, start_session_clock

bp = Blueprint("auth", __name__)
#: How long the second step may wait after a correct password.
PENDING_SECONDS = 300


def _refusal(status: policy.LoginStatus) -> tuple[str, int]:
    """The same words for an unknown name and a real account: nothing tells which names exist."""
    if status == policy.LoginStatus.THROTTLED:
        return _("登录尝试过于频繁，请 %(m)d 分钟后再试，或请系统管理员在“用户管理”中解除限制。",
                 m=policy.IP_WINDOW.seconds // 60), 429
    if status == policy.LoginStatus.LOCKED:
        return _("连续登录失败次数过多，账号已暂时锁定，请 %(m)d 分钟后再试，或请管理员重设密码。",
                 m=policy.LOCK_FOR.seconds // 60), 200
    return _("用户名或密码错误（已停用的账号也不能登录，如有疑问请联系系统管理员）。"), 200


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in, step one: the password. Unknown user and wrong password get the same message."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        status, user = policy.check_password(form.username.data, form.password.data, request.remote_addr or "")
        db.session.commit()
        if user is None:
            message, code = _refusal(status)
            flash(message, "error")
            return render_template("auth/login.html", form=form), code
        next_url = local_path(request.args.get("next"))
        if policy.needs_second_factor(user):
            fresh_session()
            session["pending"] = {"user": user.get_id(), "at": now().timestamp(), "next": next_url,
                                  "failures": user.failed_logins}
            return redirect(url_for("auth.totp" if user.totp_secret else "auth.totp_setup"))
        return _finish_login(user, next_url)
    return render_template("auth/login.html", form=form)


def _finish_login(user: User, next_url: str | None):
    """Both factors done: a fresh session, the clock started, the login written."""
    policy.complete_login(user)
    db.session.commit()
    fresh_session()
    login_user(user)
    start_session_clock()
    if user.must_change_password:
        flash(_("这是初始密码，请先修改密码。"), "warning")
        return redirect(url_for("auth.password"))
    return redirect(next_url or url_for("main.home"))


def _pending_user() -> User | None:
    """The user who gave the right password moments ago, if that is still recent and still valid: no failed
    attempt on the account since (the pending step is in the browser's cookie, which an attacker could send again
    and again; a count that moved on ends every copy of it but the one the last answer gave)."""
    pending = session.get("pending") or {}
    if not pending or now().timestamp() - pending.get("at", 0) > PENDING_SECONDS:
        return None
    user_id, _sep, version = str(pending.get("user", "")).partition(":")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.active or str(user.session_version) != version:
        return None
    return user if pending.get("failures") == user.failed_logins else None


def _second_step(enrol: bool):
    """Check the code of the pending login; for enrolment against the new secret kept in the session."""
    user = _pending_user()
    if user is None or (user.totp_secret is None) != enrol:
        session.pop("pending", None)
        flash(_("登录已过期，请重新输入用户名和密码。"), "warning")
        return redirect(url_for("auth.login"))
    if enrol:  # the new secret rides in the cookie sealed: a cookie is signed, not encrypted
        session["pending"]["secret"] = session["pending"].get("secret") or encrypt(policy.new_totp_secret())
        session.modified = True
    secret = decrypt(session["pending"]["secret"]) if enrol else user.totp_secret
    form = TotpForm()
    if form.validate_on_submit():
        # the password step's limits hold here too: a locked account or a throttled address guesses no codes
        status = policy.second_step_status(user, request.remote_addr or "")
        if status != policy.LoginStatus.OK:
            db.session.commit()
            session.pop("pending", None)
            flash(_refusal(status)[0], "error")
            return redirect(url_for("auth.login"))
        if policy.totp_ok(secret, form.code.data, user):
            if enrol:
                policy.enrol_totp(user, secret)
            return _finish_login(user, session["pending"].get("next"))
        policy.record_failure(user, user.username, "totp")
        db.session.commit()
        if user.locked_until is not None:
            session.pop("pending", None)
            flash(_refusal(policy.LoginStatus.LOCKED)[0], "error")
            return redirect(url_for("auth.login"))
        session["pending"]["failures"] = user.failed_logins
        session.modified = True
        form.code.errors.append(_("验证码不正确，请输入验证器应用当前显示的 6 位数字。"))
    uri = policy.totp_uri(secret, user) if enrol else None
    return render_template("auth/totp.html", form=form, enrol=enrol, secret=secret if enrol else None, uri=uri,
                           qr=policy.totp_qr_svg(uri) if enrol else None)


@bp.route("/login/totp", methods=["GET", "POST"])
def totp():
    """Sign in, step two: the code from the authenticator app."""
    return _second_step(enrol=False)


@bp.route("/login/totp/setup", methods=["GET", "POST"])
def totp_setup():
    """First login of an admin or center account: set up the authenticator app, prove it works, go on."""
    return _second_step(enrol=True)


@bp.post("/logout")
@login_required
def logout():
    """Sign out here and end this user's sessions everywhere."""
    end_sessions(current_user, action="logout")
    db.session.commit()
    logout_user()
    fresh_session()
    flash(_("已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password."""
    form = PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        # the current password is guessed no more freely here than at the login: failures count toward the lock
        locked = policy.is_locked(user, user.username)
        wrong = locked or not verify_password(user.password_hash, form.current.data)
        if locked:
            form.current.errors.append(_refusal(policy.LoginStatus.LOCKED)[0])
        elif wrong:
            policy.record_failure(user, user.username, "password_change")
            db.session.commit()
            form.current.errors.append(_("当前密码不正确。"))
        if wrong:
            if problem := password_problem(form.new.data, user.username):  # both said at once
                form.new.errors.append(problem)
        elif form.new.data == form.current.data:
            form.new.errors.append(_("新密码不能与当前密码相同。"))
        else:
            try:
                set_password(current_user, form.new.data)
            except UserError as exc:
                form.new.errors.append(str(exc))
            else:
                db.session.commit()
                login_user(current_user._get_current_object())
                flash(_("密码已修改，其他设备上的登录已失效。"), "success")
                return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form)


@bp.post("/lang/<lang>")
def set_language(lang: str):
    """Switch the interface language for this browser session."""
    if lang in ("zh_CN", "en"):
        session["lang"] = lang
    return redirect(local_path(request.form.get("next")) or url_for("main.home"))
