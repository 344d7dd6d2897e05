"""The bell in the header and the notifications page. Thin views."""
from flask import Blueprint, Flask, abort, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.exc import OperationalError

from ..auth.session import HEADER_FIGURES, header_figure
from ..core.database import is_busy, writing_briefly
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


#: How long following a notice waits to mark it read (an import holding SQLite's write lock, a 退回 holding the
#: notice's row on PostgreSQL). Past it the notice stays unread and the user goes on to where it leads at once.
MARK_READ_WAIT_MS = 300


@bp.get("/<int:note_id>/open")
@login_required
def follow(note_id: int):
    """Follow one of the user's notifications: go where it leads (visibility checked now, not when the list was
    drawn), marking it read on the way. Reading never waits behind an import; the mark is best effort (see
    MARK_READ_WAIT_MS). Only a link followed from one of our own pages (or typed) marks it: no other site can clear
    an officer's unread notices by linking to them."""
    note = db.session.scalar(db.select(Notification).where(Notification.id == note_id,
                                                          Notification.user_id == current_user.id))
    if note is None:
        abort(404)
    target = _target(note, queries.visible_cases(current_user, {note.case_id} - {None})) or url_for(
        "notifications.index")
    if note.read_at is None and _from_our_pages():
        _mark_read_if_free(note.id)
    return redirect(target)


def _from_our_pages() -> bool:
    """Whether this GET comes from one of our pages or the address bar: the browser's Sec-Fetch-Site says so; a
    browser too old to send it, by a Referer on this site. A HEAD (a link checker) never counts."""
    if request.method != "GET":
        return False
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    referrer = request.headers.get("Referer", "")
    return referrer.startswith(request.host_url)


def _mark_read_if_free(note_id: int) -> None:
    user = current_user._get_current_object()
    db.session.commit()  # the reading transaction ends here; the write takes its own, briefly
    try:
        with writing_briefly(MARK_READ_WAIT_MS):
            mark_read(user, note_id)
            db.session.commit()
    except OperationalError as error:
        db.session.rollback()
        if not is_busy(error):
            raise


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
