"""The bell in the header and the notifications page. Thin views."""
from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..auth.session import HEADER_FIGURES, header_figure
from ..core.formdata import id_of
from ..extensions import db
from . import queries
from .operations import mark_read

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.route("")
@login_required
def index():
    """The user's notifications, newest first; a case is linked only while the user may still open it."""
    notes, visible = queries.for_user(current_user)
    return render_template("notifications/list.html", notes=notes, visible=visible)


@bp.post("/read")
@login_required
def read():
    """Mark one notification (form field `id`) or all of them read."""
    note_id = request.form.get("id", "")
    mark_read(current_user, id_of(note_id))
    db.session.commit()
    return redirect(url_for("notifications.index"))


def init_app(app: Flask) -> None:
    HEADER_FIGURES["unread_notifications"] = queries.unread_count_of

    @app.context_processor
    def inject_unread():
        """The bell's count, for pages only (the API and anonymous pages do not ask); loaded with the user."""
        if request.path.startswith("/api/") or not current_user.is_authenticated:
            return {}
        count = header_figure("unread_notifications", current_user)
        return {"unread_notifications": queries.unread_count(current_user) if count is None else count}
