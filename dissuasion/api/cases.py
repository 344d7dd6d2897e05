"""The case API (issue 5 item 6): the worklist, one case, sign for, log a contact, close. Same scoping and
operations as the pages."""
from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.exc import StaleDataError

from ..cases import queries, values
from ..cases.dispatch import DispatchError, sign_for
from ..cases.lifecycle import LifecycleError, StaleCase, check_version, close_without_contact
from ..cases.models import Case
from ..cases.permissions import may_work
from ..cases.scoping import case_or_404, not_visible
from ..contacts.operations import log_contact
from ..contacts.validation import InputError, parse_contact
from ..core.database import writes_on_get
from ..core.enums import CaseStatus, Outcome, Role, Tier
from ..core.formdata import choice, whole
from ..extensions import db
from .errors import ApiError
from .routes import bp, json_object, request_json, respond, roles
from .serialize import case_detail_json, case_json, contact_json, detailed_case_json, listed_case_json

CASE_ROLES = (Role.OFFICER, Role.LEAD, Role.CENTER)
MAX_PER_PAGE = 100
STALE = _l("任务刚被他人更新，请重新读取后再提交。")


def _filters(args) -> queries.WorklistFilter:
    fields: dict[str, str] = {}
    status = choice(args, "status", CaseStatus, fields)
    tier = choice(args, "tier", Tier, fields)
    overdue = args.get("overdue", "")
    if overdue not in ("", "true", "false"):
        fields["overdue"] = _("overdue 只能是 true 或 false。")
    assignee = args.get("assignee", "")
    if assignee not in ("", "me"):
        fields["assignee"] = _("assignee 只能是 me。")
    if fields:
        raise ApiError(400, _("查询参数有误。"), fields)
    return queries.WorklistFilter(status=status, tier=tier, overdue=overdue == "true",
                                  assignee_id=g.api_user.id if assignee == "me" else None)


@bp.get("/cases")
@writes_on_get
@roles(*CASE_ROLES)
def list_cases():
    """The token user's worklist, in the worklist's order: overdue first, then tier, then deadline."""
    page = max(request.args.get("page", 1, type=whole), 1)
    per_page = min(max(request.args.get("per_page", 50, type=whole), 1), MAX_PER_PAGE)
    pagination = values.worklist_rows(g.api_user, page=page, per_page=per_page, filters=_filters(request.args))
    return respond({"items": [listed_case_json(c) for c in pagination.items], "total": pagination.total,
                    "page": page, "per_page": per_page})


#: What the answer to a contact reads of the case besides what logging it loads, joined with the case, and the rule
#: of its tier the contact applies (rules.rule_for finds it loaded). Not its contacts: loaded after the new one is
#: written, they come in their order (Case.contacts), the new one among them.
ANSWER_LOADS = (joinedload(Case.person), joinedload(Case.precinct), joinedload(Case.community),
                joinedload(Case.rule))


@bp.get("/cases/<int:case_id>")
@writes_on_get
@roles(*CASE_ROLES)
def get_case(case_id: int):
    """One case with its contacts, follow-ups and warnings (numbers masked), read as columns."""
    detailed = values.case_detail_rows(g.api_user, case_id)
    if detailed is None:
        not_visible(g.api_user, case_id)
    return respond(detailed_case_json(detailed))


def _workable(case_id: int, *options) -> Case:
    case = case_or_404(g.api_user, case_id, *options)
    if not may_work(g.api_user, case):
        raise ApiError(403, _("只有责任民警或本所领导可以处理此任务。"))
    return case


def _version(body: dict) -> str:
    version = body.get("version")
    if version is None or str(version).strip() == "":
        raise ApiError(400, _("请带上读取任务时的 version。"), {"version": _("必填。")})
    return str(version)


def _refused(exc: Exception) -> ApiError:
    """A refused operation: 409, with what changed when the client's copy was stale."""
    if isinstance(exc, StaleDataError):
        return ApiError(409, str(STALE), code="stale")
    return ApiError(409, str(exc), code="stale" if isinstance(exc, StaleCase) else "conflict")


@bp.post("/cases/<int:case_id>/sign")
@roles(*CASE_ROLES)
def sign(case_id: int):
    """签收; an officer signing a pool case takes it. An optional `version` is checked."""
    case = _workable(case_id)
    body = request_json() or {}
    try:
        check_version(case, body.get("version") if isinstance(body, dict) else None)
        sign_for(case, g.api_user)
        db.session.flush()
    except (DispatchError, LifecycleError, StaleDataError) as exc:
        raise _refused(exc) from exc
    return respond(case_json(case))


def _contact_fields(body: dict) -> dict:
    """The API's nested `relative` object as the form's flat fields, which parse_contact reads."""
    data = {k: v for k, v in body.items() if k != "relative"}
    relative = body.get("relative")
    if isinstance(relative, dict):
        data["relative_relation"], data["relative_phone"] = relative.get("relation"), relative.get("phone")
    return data


@bp.post("/cases/<int:case_id>/contacts")
@roles(*CASE_ROLES)
def add_contact(case_id: int):
    """Log a contact (劝阻记录); `"close": true` closes the case with its outcome (办结)."""
    case = _workable(case_id, *ANSWER_LOADS)
    body = json_object()
    version, closing = _version(body), body.get("close") is True
    try:
        check_version(case, version)
        data = parse_contact(_contact_fields(body), closing)
        contact = log_contact(case, data, g.api_user, close=closing, version=version)
        db.session.flush()
    except InputError as exc:
        raise ApiError(400, str(exc), exc.fields) from exc
    except (LifecycleError, StaleDataError) as exc:
        raise _refused(exc) from exc
    return respond({"contact": contact_json(contact), "case": case_detail_json(case)}, 201)


@bp.post("/cases/<int:case_id>/close")
@roles(*CASE_ROLES)
def close(case_id: int):
    """办结 without a new contact: `{"outcome", "reason", "version"}`."""
    case = _workable(case_id)
    body = json_object()
    version = _version(body)
    outcome = choice(body, "outcome", Outcome, fields := {}, _("请选择处置结果。"))
    if fields:
        raise ApiError(400, _("请修改标出的内容后再提交。"), fields)
    try:
        check_version(case, version)
        close_without_contact(case, outcome, g.api_user, str(body.get("reason") or ""))
        db.session.flush()
    except (LifecycleError, StaleDataError) as exc:
        raise _refused(exc) from exc
    return respond(case_detail_json(case))
