"""Flask-Login set-up: sessions carry the user's session version, so raising it ends them."""
from flask import Flask
from flask_babel import lazy_gettext as _l

from ..extensions import db, login_manager
from .models import User


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    """Load the user of a session, if the session's version is still the user's current one."""
    user_id, _, version = session_id.partition(":")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version) or not user.active:
        return None
    return user


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("请先登录。")
    login_manager.login_message_category = "warning"
    # "strong" protection misbehaves behind proxies (STYLE pitfalls); session versions do the job.
    login_manager.session_protection = None
