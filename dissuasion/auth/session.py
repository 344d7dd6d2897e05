"""Flask-Login set-up and the session rules (ASVS 3.3): sessions carry the user's session version, so
raising it ends them; they end after 30 idle minutes and 12 hours at most, checked on the server at every
request from times kept in the signed session; an initial password must be changed before anything else."""
import datetime as dt
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Flask, flash, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, logout_user
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import joinedload

from ..core.timeutil import now
from ..extensions import db, login_manager
from .models import User

IDLE_TIMEOUT = dt.timedelta(minutes=30)
ABSOLUTE_TIMEOUT = dt.timedelta(hours=12)
#: The idle clock is rewritten at most this often, so not every response has to send a new cookie.
TOUCH_EVERY = 60
#: What a user with an initial password may still open.
BEFORE_PASSWORD_CHANGE = frozenset({"auth.password", "auth.logout", "auth.set_language", "static"})


#: What every page's header shows about its user (the bell's unread count, whether 接口令牌 is linked), as the parts
#: that own it register it (init_app): a name and a function of the users.id column giving a correlated scalar
#: subquery. They come back with the user and its precinct in the one query that loads the user, instead of three
#: more round trips on every page.
HEADER_FIGURES: dict[str, Callable[[ColumnElement], ColumnElement]] = {}


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Load the user of a session, if the session's version is still the user's current one; with its precinct and
    the header's figures (header_figure)."""
    user_id, _sep, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    names = list(HEADER_FIGURES)
    row = db.session.execute(select(User, *(HEADER_FIGURES[n](User.id).label(n) for n in names))
                             .where(User.id == int(user_id)).options(joinedload(User.precinct))).first()
    user = row[0] if row is not None else None
    if user is None or user.session_version != int(version) or not user.active:
        return None
    g._header_figures = (user.id, dict(zip(names, row[1:], strict=True)))
    return user


def header_figure(name: str, user: User):
    """A header figure loaded with this user at the start of the request (None when it was not: the caller then
    asks the database itself). As of the request's start: a page that changes it redirects before it shows it."""
    kept = g.get("_header_figures")
    return kept[1].get(name) if kept is not None and kept[0] == user.id else None


def start_session_clock() -> None:
    """Called right after login_user(): both timeouts count from now."""
    session.permanent = True
    session["login_at"] = session["seen_at"] = now().timestamp()


def _session_expired() -> bool:
    t = now().timestamp()
    login_at, seen_at = session.get("login_at"), session.get("seen_at")
    if login_at is None or seen_at is None:
        return True
    if t - seen_at > IDLE_TIMEOUT.total_seconds() or t - login_at > ABSOLUTE_TIMEOUT.total_seconds():
        return True
    if t - seen_at > TOUCH_EVERY:
        session["seen_at"] = t
    return False


def fresh_session() -> None:
    """Empty the session (login, logout, timeout), keeping only the language this browser chose."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _back_after_login() -> str | None:
    """Where login leads back to: the page asked for, or for a form sent (a POST cannot be repeated after login)
    the page it was sent from."""
    return request.full_path.rstrip("?") if request.method == "GET" else _page_sent_from()


def _unauthorized():
    """Not logged in (logged out in another tab, or never): the login page, and back afterwards."""
    flash(login_manager.login_message, login_manager.login_message_category)
    return redirect(url_for("auth.login", next=_back_after_login()))


def _page_sent_from() -> str | None:
    """The path of this site's page a form was sent from (a POST cannot be repeated after login: its page can)."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc != request.host or not referrer.path.startswith("/"):
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


def enforce_session_rules():
    """Before every page: end timed-out sessions; keep users with an initial password on the password page."""
    if request.path.startswith("/api/") or not current_user.is_authenticated:
        return None  # the API authenticates every request with its token
    if _session_expired():
        logout_user()
        fresh_session()
        flash(_("登录已超时（30 分钟未操作，或已登录超过 12 小时），请重新登录。"), "warning")
        return redirect(url_for("auth.login", next=_back_after_login()))
    if current_user.must_change_password and request.endpoint not in BEFORE_PASSWORD_CHANGE:
        flash(_("这是初始密码，请先修改密码。"), "warning")
        return redirect(url_for("auth.password"))
    return None


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("请先登录。")
    login_manager.login_message_category = "warning"
    login_manager.unauthorized_handler(_unauthorized)
    # "strong" protection misbehaves behind proxies (STYLE pitfalls); session versions do the job.
    login_manager.session_protection = None
    app.before_request(enforce_session_rules)
