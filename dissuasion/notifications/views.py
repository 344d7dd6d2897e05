"""The bell in the header and the notifications page. Thin views."""
from flask import Blueprint, Flask, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from ..auth.session import HEADER_FIGURES, header_figure
from ..core.database import writes_on_get
from ..core.enums import Role
from ..core.formdata import id_of
from ..extensions import db
from . import queries
from .models import Notification
from .operations import mark_read

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


def _target(note: Notification, visible: set[int]) -> str | None:
    """Where a notification leads: its watch-list entry, its case while the user may still open it, or (新推送 /
    中心分派了 N 件, about no one case) the page where those cases are. None: it stays unlinked."""
    if note.watch_entry_id:
        return url_for("watch.entry", entry_id=note.watch_entry_id)
    if note.case_id is not None:
        return url_for("cases.detail", case_id=note.case_id) if note.case_id in visible else None
    if note.kind == "assigned":
        return url_for("cases.precinct_board" if current_user.role == Role.LEAD else "cases.worklist")
    return None


@bp.route("")
@login_required
def index():
    """The user's notifications, newest first; a case is linked only while the user may still open it. An unread
    one's link goes through `follow`, which marks it read on the way."""
    notes, visible = queries.for_user(current_user)
    links = {}
    for note in notes:
        target = _target(note, visible)
        if target is not None:
            links[note.id] = url_for("notifications.follow", note_id=note.id) if note.read_at is None else target
    return render_template("notifications/list.html", notes=notes, links=links)


@bp.get("/<int:note_id>/open")
@writes_on_get
@login_required
def follow(note_id: int):
    """Follow one of the user's notifications: mark it read, then go where it leads (visibility checked now, not
    when the list was drawn). A link followed from another site (Sec-Fetch-Site: cross-site) is not marked read:
    no other site can clear an officer's unread notices."""
    note = db.session.scalar(db.select(Notification).where(Notification.id == note_id,
                                                          Notification.user_id == current_user.id))
    if note is None:
        abort(404)
    visible = queries.visible_cases(current_user, {note.case_id}) if note.case_id is not None else set()
    target = _target(note, visible)
    if note.read_at is None and request.headers.get("Sec-Fetch-Site", "same-origin") != "cross-site":
        mark_read(current_user, note.id)
        db.session.commit()
    return redirect(target or url_for("notifications.index"))


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
