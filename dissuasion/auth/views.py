"""Login, logout, password change and the language switch."""
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db
from .forms import LoginForm, PasswordForm
from .operations import UserError, authenticate, end_sessions, set_password
from .passwords import verify_password

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: never another host, never a scheme-relative URL."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@bp.route("/login", methods=["GET", "POST"])
def login():
    """Sign in; unknown user and wrong password get the same message."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        db.session.commit()
        if user is None:
            flash(_("用户名或密码错误。"), "error")
            return render_template("auth/login.html", form=form), 200
        session.clear()
        login_user(user)
        session.permanent = True
        if user.must_change_password:
            flash(_("这是初始密码，请先修改密码。"), "warning")
            return redirect(url_for("auth.password"))
        return redirect(_safe_next(request.args.get("next")) or url_for("main.home"))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    """Sign out here and end this user's sessions everywhere."""
    end_sessions(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("已退出登录。"), "info")
    return redirect(url_for("auth.login"))


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password."""
    form = PasswordForm()
    if form.validate_on_submit():
        if not verify_password(current_user.password_hash, form.current.data):
            form.current.errors.append(_("当前密码不正确。"))
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
    return redirect(_safe_next(request.form.get("next")) or url_for("main.home"))
