"""Cases read as plain values for the API (issue 23, requests per core): the columns its JSON shows, in a few
queries built once, with no ORM objects. The worklist's order and scope are queries.worklist's; the serialisation
is api/serialize's (the same keys as for a case loaded whole)."""
from dataclasses import dataclass
from functools import cache

from sqlalchemy import bindparam, select

from ..auth.models import User
from ..directory.models import Community, Precinct
from ..extensions import db
from .models import Case, EarlyWarning, Person
from .queries import WorklistFilter, worklist_ids
from .scoping import scope_cases

#: What a listed case shows (the API's worklist), read as columns: no Case, Person or User object is built.
LISTED_COLUMNS = (
    Case.id, Case.status, Case.tier, Case.method, Case.away_from_home, Case.sign_deadline, Case.contact_deadline,
    Case.due_at, Case.is_repeat, Case.flags, Case.signed_at, Case.first_attempt_at, Case.first_reached_at,
    Case.outcome, Case.amount_dissuaded, Case.amount_defrauded, Case.closed_at, Case.watch_until, Case.created_at,
    Case.version, Case.assignee_id,
    Person.name.label("person_name"), Person.id_number.label("person_id_number"), Person.phone.label("person_phone"),
    Precinct.code.label("precinct_code"), Community.name.label("community_name"),
    User.username.label("assignee_username"), User.display_name.label("assignee_display_name"),
)


@dataclass
class Listed:
    """One case of the worklist as plain values (`row`: LISTED_COLUMNS by name) and its follow-ups' rows, in the
    order of Case.followups."""

    row: object
    followups: list


def worklist_rows(user: User, page: int = 1, per_page: int = 50, filters: WorklistFilter | None = None):
    """The worklist of `worklist`, each case as a Listed: its columns and those of its person, precinct, community,
    holder and follow-ups, in two queries (for the API, which answers values, not pages)."""
    pagination = worklist_ids(user, page, per_page, filters)
    ids = list(pagination.items)
    if not ids:
        return pagination
    cases, their_followups = _listed_statements()
    rows = {r.id: r for r in db.session.execute(cases, {"ids": ids})}
    followups: dict[int, list] = {i: [] for i in ids}
    for f in db.session.execute(their_followups, {"ids": ids}):
        followups[f.case_id].append(f)
    pagination.items = [Listed(rows[i], followups[i]) for i in ids]
    return pagination


@dataclass
class Detailed(Listed):
    """One case as plain values with everything on it (the API's case): Listed, and its contacts' rows (with the
    officer's username as officer_username) and its warnings' rows, in the order of Case.contacts and Case.warnings."""

    contacts: list
    warnings: list


def case_detail_rows(user: User, case_id: int) -> Detailed | None:
    """The case as a Detailed if this user may see it (scoped as case_or_404), else None: four queries, no ORM
    objects."""
    row = db.session.execute(scope_cases(user, _listed_cases()).where(Case.id == case_id)).first()
    if row is None:
        return None
    ids = {"ids": [case_id]}
    their_followups = _listed_statements()[1]
    contacts, warnings = _detail_statements()
    return Detailed(row, list(db.session.execute(their_followups, ids)), list(db.session.execute(contacts, ids)),
                    list(db.session.execute(warnings, ids)))


@cache
def _detail_statements():
    """case_detail_rows' queries of a case's contacts and warnings, built once."""
    Contact = Case.contacts.property.mapper.class_  # noqa: N806  (contacts/ sits above cases/; read, not imported)
    ids = bindparam("ids", expanding=True)
    contacts = (select(Contact.id, Contact.method, Contact.reached, Contact.relative_relation, Contact.relative_phone,
                       Contact.failure_reason, Contact.contacted_at, Contact.outcome, Contact.amount_dissuaded,
                       Contact.amount_defrauded, Contact.defrauded_at, Contact.fraud_type, Contact.app_status,
                       Contact.note, User.username.label("officer_username"))
                .outerjoin(User, User.id == Contact.officer_id).where(Contact.case_id.in_(ids))
                .order_by(Contact.contacted_at))
    warnings = (select(EarlyWarning.warning_no, EarlyWarning.pushed_at, EarlyWarning.tier, EarlyWarning.reason,
                       EarlyWarning.fraud_type, EarlyWarning.fraud_type_text, EarlyWarning.amount_at_risk,
                       EarlyWarning.precinct_text, EarlyWarning.community_text, EarlyWarning.away_from_home,
                       EarlyWarning.notes, EarlyWarning.flags)
                .where(EarlyWarning.case_id.in_(ids)).order_by(EarlyWarning.pushed_at))
    return contacts, warnings


@cache
def _listed_statements():
    """worklist_rows' two queries for a list of case ids: built once (with their cache keys), not per request."""
    FollowUp = Case.followups.property.mapper.class_  # noqa: N806  (followups/ sits above cases/)
    ids = bindparam("ids", expanding=True)
    followups = (select(FollowUp.case_id, FollowUp.id, FollowUp.kind, FollowUp.method, FollowUp.due_at,
                        FollowUp.status, FollowUp.note, FollowUp.done_at)
                 .where(FollowUp.case_id.in_(ids)).order_by(FollowUp.due_at))
    return _listed_cases().where(Case.id.in_(ids)), followups


@cache
def _listed_cases():
    """LISTED_COLUMNS of cases with what they relate to, for a where clause to choose them."""
    return (select(*LISTED_COLUMNS).join(Person, Person.id == Case.person_id)
            .outerjoin(Precinct, Precinct.id == Case.precinct_id)
            .outerjoin(Community, Community.id == Case.community_id)
            .outerjoin(User, User.id == Case.assignee_id))
