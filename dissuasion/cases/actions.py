"""What a user does to cases: sign for, assign (one or many), transfer, route. Validate, call one operation, commit."""
from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from ..auth.models import User
from ..core.decorators import roles_required
from ..core.enums import Role
from ..core.formdata import id_of
from ..extensions import db
from . import queue
from .dispatch import (
    DispatchError,
    assign,
    bulk_assign,
    bulk_sign,
    eligible_assignees,
    route,
    route_many,
    sign_for,
    transfer,
)
from .forms import (
    CHOOSE_DESTINATION,
    AssignForm,
    BulkAssignForm,
    RequeueForm,
    RouteForm,
    RouteGroupForm,
    TransferForm,
    destination,
    destination_choices,
)
from .models import Case
from .queries import matching_ids
from .scoping import case_or_404, scope_cases
from .views import CASE_ROLES, board_filters, bp, render_case


def _attempt(operation, *args, done=None):
    """Run one dispatch operation and commit; a refusal, or a case changed meanwhile by someone else, is
    flashed instead (and None returned). done: the success message, or a function of the operation's result
    (None: say nothing). Returns the operation's result."""
    try:
        result = operation(*args)
        message = done(result) if callable(done) else done
        db.session.commit()
    except DispatchError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    except StaleDataError:
        db.session.rollback()
        flash(_("任务刚被他人更新，请查看最新情况后再操作。"), "error")
    else:
        if message:
            flash(message, "success")
        return result
    return None


def _to_case(case_id: int):
    return redirect(url_for("cases.detail", case_id=case_id))


def _officer(value: str | None) -> User | None:
    """The officer a form chose; None for none chosen (back to the pool). A value naming nobody is refused: taken
    as none, it would have put the case back in the pool without a word."""
    if not value:
        return None
    officer = db.session.get(User, user_id) if (user_id := id_of(value)) is not None else None
    if officer is None:
        raise DispatchError(_("所选民警不存在，请重新选择。"))
    return officer


@bp.post("/<int:case_id>/sign")
@roles_required(*CASE_ROLES)
def sign(case_id: int):
    """签收 a case."""
    _attempt(sign_for, case_or_404(current_user, case_id), current_user, done=_("已签收。"))
    return _to_case(case_id)


@bp.post("/<int:case_id>/assign")
@roles_required(*CASE_ROLES)
def assign_one(case_id: int):
    """Assign or reassign one case within the precinct."""
    case = case_or_404(current_user, case_id)
    form = AssignForm()
    try:
        officer = _officer(form.officer.data)
    except DispatchError as exc:
        flash(str(exc), "error")
        return _to_case(case_id)
    _attempt(assign, case, officer, current_user, done=lambda changed: changed and _("已指派。"))
    return _to_case(case_id)


def _selection(form: BulkAssignForm, precinct_id: int | None) -> list[Case] | None:
    """The cases an action bar acts on: every case the board's filter (kept in the query string) matches when
    "all matching" is ticked, else the ticked ones; None when nothing was chosen. 404 for a case out of reach."""
    if form.all_matching.data:
        ids = set(matching_ids(current_user, board_filters(precinct_id)[1]))
    else:
        ids = set(form.case_ids.data or [])
    if not ids:
        return None
    cases = list(db.session.scalars(scope_cases(current_user).where(Case.id.in_(ids)).order_by(Case.id)))
    if len(cases) != len(ids):
        abort(404)
    return cases


@bp.post("/assign")
@roles_required(Role.LEAD)
def assign_many():
    """The lead's board: sign for, or assign to one officer (or back to the pool), the ticked cases or all matching."""
    form = BulkAssignForm()
    form.officer.choices = [("", "")] + [(str(u.id), u.label) for u in eligible_assignees(current_user.precinct_id)]
    back = redirect(url_for("cases.precinct_board", **request.args))
    if not form.validate_on_submit():
        abort(400)
    cases = _selection(form, current_user.precinct_id)
    if cases is None:
        flash(_("请先勾选任务，或勾选“全部符合条件的任务”。"), "error")
        return back
    if request.form.get("action") == "sign":
        _attempt(bulk_sign, cases, current_user, done=lambda n: _("已签收 %(n)d 件任务。", n=n))
    else:
        _attempt(bulk_assign, cases, _officer(form.officer.data), current_user,
                 done=lambda n: _("已指派 %(n)d 件任务。", n=n))
    return back


@bp.post("/route-selected")
@roles_required(Role.CENTER)
def route_selected():
    """The county queue's action bar: route the ticked cases (or all matching, up to ROUTE_AT_ONCE) to one place."""
    form = BulkAssignForm()
    form.officer.choices = [("", "")]  # the county queue's bar routes; nobody is assigned here
    route_form = RouteForm()
    route_form.destination.choices = destination_choices()
    back = redirect(url_for("cases.center_board", _anchor="unrouted", **request.args))
    if not form.validate_on_submit():
        abort(400)
    cases = _selection(form, None)
    if cases is None or not route_form.destination.data:
        flash(_("请先勾选任务（或“全部符合条件的任务”），再选择要分派到的派出所或社区。"), "error")
        return back
    if not route_form.validate():
        flash(_("请选择要分派到的派出所或社区。"), "error")
        return back
    limit = current_app.config["ROUTE_AT_ONCE"]
    precinct, community = destination(route_form.destination.data)
    chosen = cases[:limit]
    _attempt(route_many, chosen, [(precinct, community)] * len(chosen), current_user, "selected",
             done=lambda n: _("已把 %(n)d 件分派到%(name)s。", n=n, name=community.name if community else precinct.name)
             + _more_left(len(cases) - n))
    return back


@bp.post("/<int:case_id>/transfer")
@roles_required(*CASE_ROLES)
def transfer_case(case_id: int):
    """移交 a case to another precinct, with a reason."""
    case = case_or_404(current_user, case_id)
    form = TransferForm()
    form.destination.choices = destination_choices(exclude_precinct_id=case.precinct_id, prompt=CHOOSE_DESTINATION)
    if not form.validate_on_submit():
        return render_case(case, status=400, transfer_form=form)
    precinct, community = destination(form.destination.data)
    _attempt(transfer, case, precinct, community, form.reason.data, current_user,
             done=_("已移交%(name)s。", name=precinct.name))
    return _to_case(case_id)


@bp.post("/<int:case_id>/route")
@roles_required(*CASE_ROLES)
def route_case(case_id: int):
    """The center sends a case from the routing queue to a precinct."""
    case = case_or_404(current_user, case_id)
    form = RouteForm()
    form.destination.choices = destination_choices(prompt=CHOOSE_DESTINATION)
    from_board = request.form.get("back") == "board"
    if not form.validate_on_submit():
        if from_board:  # stay on the queue: nothing chosen is not a reason to leave it
            flash(_("%(name)s：请先选择要分派到的派出所或社区，再点“分派”。", name=case.person.name), "error")
            return redirect(url_for("cases.center_board", _anchor="unrouted"))
        return render_case(case, status=400, route_form=form)
    precinct, community = destination(form.destination.data)
    _attempt(route, case, precinct, community, current_user, done=_("已分派到%(name)s。", name=precinct.name))
    # From the queue on the center's board, the next unrouted case is waiting there.
    return redirect(url_for("cases.center_board", _anchor="unrouted")) if from_board else _to_case(case_id)


def _to_queue():
    return redirect(url_for("cases.center_board", _anchor="unrouted"))


def _more_left(left: int) -> str:
    return _("还有 %(n)d 件，请再点一次。", n=left) if left > 0 else ""


@bp.post("/route-group")
@roles_required(Role.CENTER)
def route_group():
    """Route at once every case of the queue whose warning names one precinct text (a misspelt or new precinct)."""
    form = RouteGroupForm()
    form.destination.choices = destination_choices()
    if not form.validate_on_submit():
        flash(_("“%(text)s”：请先选择要分派到的派出所或社区，再点“全部分派”。",
                text=form.precinct_text.data or _("（未填派出所）")), "error")
        return _to_queue()
    precinct, community = destination(form.destination.data)
    done = _attempt(queue.route_group, current_user, form.precinct_text.data or "", precinct, community,
                    current_app.config["ROUTE_AT_ONCE"])
    if done is None:
        return _to_queue()
    if not done.routed:
        flash(_("队列中已没有这一组的任务（可能刚被分派）。"), "warning")
        return _to_queue()
    message = _("已把 %(n)d 件分派到%(name)s。", n=done.routed, name=community.name if community else precinct.name)
    if done.in_community:
        message += _("其中 %(c)d 件按所填社区分到了该所的社区。", c=done.in_community)
    flash(message + _more_left(done.left), "success")
    return _to_queue()


@bp.post("/route-by-directory")
@roles_required(Role.CENTER)
def route_by_directory():
    """Route the queue's cases again by the directory as it is now (after a precinct or community was added or
    renamed); those still matching nothing stay in the queue."""
    if not RequeueForm().validate_on_submit():
        abort(400)
    done = _attempt(queue.route_by_directory, current_user, current_app.config["ROUTE_AT_ONCE"])
    if done is None:
        return _to_queue()
    if not done.routed:
        flash(_("目录中仍没有能匹配的派出所，队列中的 %(n)d 件未变。请在派出所目录中补上，或按组、逐件分派。",
                n=done.queued), "warning")
    elif done.more:
        flash(_("已按当前目录分派 %(n)d 件。", n=done.routed) + _("可能还有能匹配的，请再点一次。"), "success")
    else:
        flash(_("已按当前目录分派 %(n)d 件；仍有 %(left)d 件无法匹配。", n=done.routed, left=done.queued - done.routed),
              "success")
    return _to_queue()
