"""Cases, contacts, follow-ups and warnings as the API gives them (issue 5 item 6): English keys, enum keys,
times in +08:00, money as two-decimal strings, ID and phone numbers masked only (in notes and reasons too)."""
from __future__ import annotations

from ..cases.models import Case, EarlyWarning
from ..cases.values import Detailed, Listed
from ..contacts.models import Contact
from ..core.enums import ActivityCount
from ..core.timeutil import local
from ..followups.models import FollowUp
from ..privacy.freetext import mask_numbers
from ..privacy.pii import mask_id, mask_phone
from ..reports.queries import FEEDBACK_KEYS, TIME_FIELDS
from .routes import iso, money


def _key(member) -> str | None:
    return member.value if member is not None else None


def followup_json(f: FollowUp) -> dict:
    """A follow-up (or a row of its columns by name)."""
    return {"id": f.id, "kind": f.kind.value, "method": f.method.value, "due_at": iso(f.due_at),
            "status": f.status.value, "note": mask_numbers(f.note), "done_at": iso(f.done_at)}


def case_json(case: Case) -> dict:
    """A case as listed: what to do, by when, for whom; with its follow-ups."""
    person, assignee = case.person, case.assignee
    return _case_json(case, case.precinct.code if case.precinct else None,
                      case.community.name if case.community else None,
                      {"id": assignee.id, "username": assignee.username, "name": assignee.label} if assignee else None,
                      {"name": person.name, "id_number_masked": person.id_number_masked,
                       "phone_masked": person.phone_masked, "away_from_home": case.away_from_home},
                      case.is_overdue(), case.followups)


def listed_case_json(listed: Listed) -> dict:
    """case_json of a case read as columns (cases.values.worklist_rows): the same keys and values."""
    c = listed.row
    assignee = None
    if c.assignee_id is not None:
        assignee = {"id": c.assignee_id, "username": c.assignee_username,
                    "name": c.assignee_display_name or c.assignee_username}  # User.label
    person = {"name": c.person_name, "id_number_masked": mask_id(c.person_id_number),
              "phone_masked": mask_phone(c.person_phone), "away_from_home": c.away_from_home}
    return _case_json(c, c.precinct_code, c.community_name, assignee, person, Case.overdue(c.status, c.due_at),
                      listed.followups)


def _case_json(c, precinct: str | None, community: str | None, assignee: dict | None, person: dict, overdue: bool,
               followups) -> dict:
    """The keys of a listed case from its own columns (a Case, or a row of them by name) and what it relates to."""
    return {
        "id": c.id, "status": c.status.value, "tier": c.tier.value, "method": c.method.value,
        "precinct": precinct, "community": community, "assignee": assignee, "person": person,
        "sign_deadline": iso(c.sign_deadline), "contact_deadline": iso(c.contact_deadline),
        "due_at": iso(c.due_at), "overdue": overdue, "is_repeat": c.is_repeat, "flags": c.flags,
        "signed_at": iso(c.signed_at), "first_attempt_at": iso(c.first_attempt_at),
        "first_reached_at": iso(c.first_reached_at),
        "outcome": _key(c.outcome), "amount_dissuaded": money(c.amount_dissuaded),
        "amount_defrauded": money(c.amount_defrauded), "closed_at": iso(c.closed_at),
        "watch_until": iso(c.watch_until), "created_at": iso(c.created_at),
        "followups": [followup_json(f) for f in followups], "version": c.version,
    }


def contact_json(c: Contact) -> dict:
    return _contact_json(c, c.officer.username if c.officer else None)


def _contact_json(c, officer: str | None) -> dict:
    """A contact's keys from its columns (a Contact, or a row of them by name)."""
    relative = {"relation": c.relative_relation, "phone_masked": mask_phone(c.relative_phone)} \
        if c.relative_relation or c.relative_phone else None
    return {"id": c.id, "method": c.method.value, "reached": c.reached.value, "relative": relative,
            "failure_reason": _key(c.failure_reason), "contacted_at": iso(c.contacted_at), "outcome": _key(c.outcome),
            "amount_dissuaded": money(c.amount_dissuaded), "amount_defrauded": money(c.amount_defrauded),
            "defrauded_at": iso(c.defrauded_at), "fraud_type": _key(c.fraud_type), "app": _key(c.app_status),
            "note": mask_numbers(c.note), "officer": officer}


def warning_json(w: EarlyWarning) -> dict:
    """A warning (or a row of its columns by name)."""
    return {"warning_id": w.warning_no, "pushed_at": iso(w.pushed_at), "tier": w.tier.value,
            "reason": mask_numbers(w.reason),
            "fraud_type": w.fraud_type.value, "fraud_type_text": w.fraud_type_text,
            "amount_at_risk": money(w.amount_at_risk), "precinct": w.precinct_text, "community": w.community_text,
            "away_from_home": w.away_from_home, "notes": mask_numbers(w.notes), "flags": w.flags}


def case_detail_json(case: Case) -> dict:
    """One case with everything on it: contacts, follow-ups, warnings."""
    return case_json(case) | {"contacts": [contact_json(c) for c in case.contacts],
                              "warnings": [warning_json(w) for w in case.warnings]}


def detailed_case_json(detailed: Detailed) -> dict:
    """case_detail_json of a case read as columns (cases.values.case_detail_rows): the same keys and values."""
    return listed_case_json(detailed) | {"contacts": [_contact_json(c, c.officer_username) for c in detailed.contacts],
                                         "warnings": [warning_json(w) for w in detailed.warnings]}


def feedback_json(row: dict) -> dict:
    """A feedback row for the API: keys, enum keys, ISO times in +08:00, amounts as two-decimal strings."""
    out = {}
    for key in FEEDBACK_KEYS:
        value = row[key]
        if key in TIME_FIELDS:
            value = local(value).isoformat(timespec="seconds") if value else None
        elif key.startswith("amount_"):
            value = f"{value:.2f}" if value is not None else None
        elif value is not None and hasattr(value, "value"):
            value = value.value
        out[key] = value
    return out


def activity_json(a) -> dict:
    """A publicity activity (宣传工作): its type key, day, where, who, and every count."""
    return {"id": a.id, "kind": a.kind.value, "held_on": a.held_on.isoformat(), "precinct": a.precinct.code,
            "community": a.community.name if a.community else None, "place": a.place,
            "participants": a.participants, **{c.value: a.count(c) for c in ActivityCount},
            "note": mask_numbers(a.note),  # (the note is the precinct's words; a number in it shown as elsewhere)
            "created_by": a.created_by.username if a.created_by else None, "created_at": iso(a.created_at)}
