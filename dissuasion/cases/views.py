"""Worklists, boards, search and the case page. Thin: read through the scoping function, render."""
from dataclasses import dataclass, field

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import joinedload

from ..core.auditlog import record
from ..core.decorators import roles_required
from ..core.enums import CaseStatus, Method, Role, Tier, WarningSource
from ..core.formdata import id_of, whole
from ..directory.models import Community, Precinct
from ..extensions import db
from ..privacy.freetext import has_numbers
from . import queries
from .countdown import countdown
from .dispatch import eligible_assignees
from .forms import (
    ANY,
    CHOOSE_DESTINATION,
    AssignForm,
    BoardFilterForm,
    BulkAssignForm,
    FilterForm,
    RequeueForm,
    RouteForm,
    SearchForm,
    TransferForm,
    destination_choices,
)
from .models import Case
from .operations import REVEALABLE, free_texts, reveal_number, reveal_relative_number
from .permissions import allowed_actions
from .scoping import case_or_404

bp = Blueprint("cases", __name__, url_prefix="/cases")
CASE_ROLES = (Role.OFFICER, Role.LEAD, Role.CENTER)
#: Rows on a page of the lead's board and the county queue: the first page within three screens at 375 px.
BOARD_PAGE = 25
#: Pages that show a full number must not be kept by the browser or a proxy.
NO_STORE = {"Cache-Control": "no-store"}


@bp.app_template_filter("countdown")
def countdown_filter(due):
    return countdown(due)


def _enum_or_none(enum_cls, value):
    return enum_cls(value) if value in enum_cls._value2member_map_ else None


def _filters(form: FilterForm, **more) -> queries.WorklistFilter:
    community = getattr(form, "community", None)
    source = getattr(form, "source", None)
    return queries.WorklistFilter(status=_enum_or_none(CaseStatus, form.status.data),
                                  tier=_enum_or_none(Tier, form.tier.data),
                                  method=_enum_or_none(Method, form.method.data),
                                  overdue=bool(form.overdue.data), pool=bool(form.pool.data),
                                  community_id=id_of(community.data) if community else None,
                                  source=_enum_or_none(WarningSource, source.data) if source else None, **more)


def board_filters(precinct_id: int | None = None) -> tuple[BoardFilterForm, queries.WorklistFilter, dict]:
    """The board's filter bar read from the query string: the form, the filter, and the arguments to keep in links
    (paging, and the action bar's "all matching")."""
    form = BoardFilterForm(request.args)
    communities = db.session.scalars(db.select(Community).where(Community.precinct_id == precinct_id)
                                     .order_by(Community.name)) if precinct_id else []
    form.community.choices = ANY + [(str(c.id), c.name) for c in communities]
    args = {k: v for k, v in request.args.items() if k in form._fields and v}
    return form, _filters(form, unrouted=precinct_id is None), args


@bp.route("/")
@roles_required(*CASE_ROLES)
def worklist():
    """The officer's home: who to reach first (overdue, then tier, then nearest deadline)."""
    form = FilterForm(request.args)
    args = {k: v for k, v in request.args.items() if k in form._fields and v}
    pagination = queries.tasks(current_user, page=request.args.get("page", 1, type=whole), filters=_filters(form),
                               with_overdue=True)
    return render_template("cases/worklist.html", pagination=pagination, form=form, args=args,
                           overdue=pagination.overdue)


def _officer_choices(precinct_id: int) -> list[tuple[str, str]]:
    return [("", _("所内待分配（不指定）"))] + [(str(u.id), u.label) for u in eligible_assignees(precinct_id)]


@bp.route("/board")
@roles_required(Role.LEAD)
def precinct_board():
    """The lead's home: the precinct's cases by status, who is behind, and its open cases and due 回访 a page at a
    time, filtered, to sign or assign in one action."""
    filter_form, filters, args = board_filters(current_user.precinct_id)
    page = queries.tasks(current_user, page=request.args.get("page", 1, type=whole), per_page=BOARD_PAGE,
                         filters=filters)
    form = BulkAssignForm()
    form.officer.choices = _officer_choices(current_user.precinct_id)
    return render_template("cases/precinct_board.html", counts=queries.counts_by_status(current_user),
                           overdue_total=queries.overdue_count(current_user), form=form, page=page,
                           filter_form=filter_form, args=args, holders=queries.overdue_by_holder(current_user))


@bp.route("/county")
@roles_required(Role.CENTER)
def center_board():
    """The center's home: every precinct's open, overdue and closed counts, and the routing queue."""
    precincts = {p.id: p for p in db.session.scalars(db.select(Precinct).order_by(Precinct.code))}
    rows = {pid: (open_, overdue, closed) for pid, open_, overdue, closed in queries.per_precinct(current_user)}
    route_form = RouteForm()
    route_form.destination.choices = destination_choices()
    groups: dict[str, list] = {}  # precinct -> its pool and its communities, for the select's option groups
    for choice in route_form.destination.choices:
        groups.setdefault(choice.optgroup, []).append(choice)
    filter_form, filters, args = board_filters()
    page = queries.tasks(current_user, page=request.args.get("page", 1, type=whole), per_page=BOARD_PAGE,
                         filters=filters)
    return render_template("cases/center_board.html", precincts=precincts, rows=rows, route_form=route_form,
                           route_groups=list(groups.items()), unrouted_total=queries.unrouted_count(current_user),
                           page=page, filter_form=filter_form, args=args, bulk=BulkAssignForm(formdata=None),
                           unrouted_groups=queries.unrouted_groups(current_user), requeue_form=RequeueForm())


@bp.route("/search", methods=["GET", "POST"])
@roles_required(*CASE_ROLES)
def search():
    """Find a person's cases by name, full phone or full ID; POST only, so no number lands in a URL or log."""
    form = SearchForm()
    kind, results = None, None
    if form.validate_on_submit():
        kind, results = queries.search(current_user, form.q.data)
        record("case_search", "case", "", kind=kind, results=len(results))
        db.session.commit()
    return render_template("cases/search.html", form=form, kind=kind, results=results), 200, NO_STORE


@dataclass
class Kept:
    """A case-page form sent back with problems: what was typed, and what to fix, by field ("" for the form)."""

    form: str = ""
    values: dict = field(default_factory=dict)
    errors: dict = field(default_factory=dict)

    def value(self, form: str, name: str, default: str = "") -> str:
        return self.values.get(name, default) if form == self.form else default

    def error(self, form: str, name: str = "") -> str:
        return self.errors.get(name, "") if form == self.form else ""


def send_back(case: Case, form: str, errors: dict[str, str]):
    """The case page again (400), the form `form` showing what was typed and the problems beside its fields:
    an officer on a phone must not type a follow-up note or a reason a second time."""
    values = {k: v for k, v in request.form.items() if k not in ("csrf_token", "version")}
    if not allowed_actions(current_user, case).get(_FORM_ACTION.get(form.split("-")[0], form)):
        for error in errors.values():  # the form is not on this user's page: say it at the top
            flash(error, "error")
        errors = {}
    return render_case(case, status=400, kept=Kept(form, values, errors))


#: The case page's forms and the action that shows each (move-<id> is a follow-up's 改期).
_FORM_ACTION = {"followup": "contact", "move": "contact"}


def render_case(case: Case, revealed: dict | None = None, status: int = 200, kept: Kept | None = None, **forms):
    """The case page with the forms of the actions this user may take (some may carry errors)."""
    allowed = allowed_actions(current_user, case)
    if allowed["assign"] and "assign_form" not in forms:
        forms["assign_form"] = AssignForm(officer=str(case.assignee_id or ""))
    if "assign_form" in forms:
        forms["assign_form"].officer.choices = _officer_choices(case.precinct_id)
    for name, wanted in (("transfer_form", allowed["transfer"]), ("route_form", allowed["route"])):
        if wanted:
            form = forms.setdefault(name, (TransferForm if name == "transfer_form" else RouteForm)(formdata=None))
            form.destination.choices = destination_choices(exclude_precinct_id=case.precinct_id,
                                                           prompt=CHOOSE_DESTINATION)
    notes_hidden = any(has_numbers(text) for text in free_texts(case))
    return render_template("cases/detail.html", case=case, actions=allowed, revealed=revealed or {},
                           kept=kept or Kept(), notes_hidden=notes_hidden, **forms), status, NO_STORE


#: What the case page shows of a case's own rows, loaded with it (one query instead of one each).
CASE_PAGE_LOADS = (joinedload(Case.person), joinedload(Case.community))


@bp.route("/<int:case_id>")
@roles_required(*CASE_ROLES)
def detail(case_id: int):
    """Everything about one case: the person (masked), warnings, flags, timeline, and this user's actions."""
    return render_case(case_or_404(current_user, case_id, *CASE_PAGE_LOADS))


@bp.post("/<int:case_id>/reveal/<field>")
@roles_required(*CASE_ROLES)
def reveal(case_id: int, field: str):
    """显示完整号码: the case page with one full number shown; the look is audited."""
    case = case_or_404(current_user, case_id)
    if field not in REVEALABLE:
        abort(404)
    number = reveal_number(case, field, current_user)
    db.session.commit()
    if request.accept_mimetypes.best == "application/json":  # reveal.js: the number shown in place
        return jsonify(number=number or None)
    return render_case(case, revealed={field: number})


@bp.post("/<int:case_id>/call")
@roles_required(*CASE_ROLES)
def call(case_id: int):
    """Tap-to-call: audit the look at the number, then hand the phone's dialer the tel: link."""
    case = case_or_404(current_user, case_id)
    relative = request.form.get("relative", type=whole)
    if relative is not None:
        number = reveal_relative_number(case, relative, current_user)
    else:
        number = reveal_number(case, "phone", current_user, purpose="call")
    if not number:
        flash(_("此人没有手机号，请按地址上门或联系亲友。"), "warning")
        return redirect(url_for("cases.detail", case_id=case.id))
    db.session.commit()
    # 303 so the dialer opens without the form being re-sent; the number is in no URL the server receives.
    return redirect(f"tel:{number}", code=303)


from . import actions  # noqa: E402,F401  (the POST actions join this blueprint)
