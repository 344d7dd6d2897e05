"""Cases, contacts, follow-ups and warnings as the API gives them (issue 5 item 6): English keys, enum keys,
times in +08:00, money as two-decimal strings, ID and phone numbers masked only (in notes and reasons too)."""
from __future__ import annotations

from ..cases.models import Case, EarlyWarning
from ..contacts.models import Contact
from ..core.enums import ActivityCount
from ..core.timeutil import local
from ..followups.models import FollowUp
from ..privacy.freetext import mask_numbers
from ..privacy.pii import mask_phone
from ..reports.queries import FEEDBACK_KEYS, TIME_FIELDS
from .routes import iso, money


def _key(member) -> str | None:
    return member.value if member is not None else None


def followup_json(f: FollowUp) -> dict:
    return {"id": f.id, "kind": f.kind.value, "method": f.method.value, "due_at": iso(f.due_at),
            "status": f.status.value, "note": mask_numbers(f.note), "done_at": iso(f.done_at)}


def case_json(case: Case) -> dict:
    """A case as listed: what to do, by when, for whom; with its follow-ups."""
    person, assignee = case.person, case.assignee
    return {
        "id": case.id, "status": case.status.value, "tier": case.tier.value, "method": case.method.value,
        "precinct": case.precinct.code if case.precinct else None,
        "community": case.community.name if case.community else None,
        "assignee": {"id": assignee.id, "username": assignee.username, "name": assignee.label} if assignee else None,
        "person": {"name": person.name, "id_number_masked": person.id_number_masked,
                   "phone_masked": person.phone_masked, "away_from_home": case.away_from_home},
        "sign_deadline": iso(case.sign_deadline), "contact_deadline": iso(case.contact_deadline),
        "due_at": iso(case.due_at), "overdue": case.is_overdue(), "is_repeat": case.is_repeat, "flags": case.flags,
        "signed_at": iso(case.signed_at), "first_attempt_at": iso(case.first_attempt_at),
        "first_reached_at": iso(case.first_reached_at),
        "outcome": _key(case.outcome), "amount_dissuaded": money(case.amount_dissuaded),
        "amount_defrauded": money(case.amount_defrauded), "closed_at": iso(case.closed_at),
        "watch_until": iso(case.watch_until), "created_at": iso(case.created_at),
        "followups": [followup_json(f) for f in case.followups], "version": case.version,
    }


def contact_json(c: Contact) -> dict:
    relative = {"relation": c.relative_relation, "phone_masked": mask_phone(c.relative_phone)} \
        if c.relative_relation or c.relative_phone else None
    return {"id": c.id, "method": c.method.value, "reached": c.reached.value, "relative": relative,
            "failure_reason": _key(c.failure_reason), "contacted_at": iso(c.contacted_at), "outcome": _key(c.outcome),
            "amount_dissuaded": money(c.amount_dissuaded), "amount_defrauded": money(c.amount_defrauded),
            "defrauded_at": iso(c.defrauded_at), "fraud_type": _key(c.fraud_type), "app": _key(c.app_status),
            "note": mask_numbers(c.note), "officer": c.officer.username if c.officer else None}


def warning_json(w: EarlyWarning) -> dict:
    return {"warning_id": w.warning_no, "pushed_at": iso(w.pushed_at), "tier": w.tier.value,
            "reason": mask_numbers(w.reason),
            "fraud_type": w.fraud_type.value, "fraud_type_text": w.fraud_type_text,
            "amount_at_risk": money(w.amount_at_risk), "precinct": w.precinct_text, "community": w.community_text,
            "away_from_home": w.away_from_home, "notes": mask_numbers(w.notes), "flags": w.flags}


def case_detail_json(case: Case) -> dict:
    """One case with everything on it: contacts, follow-ups, warnings."""
    return case_json(case) | {"contacts": [contact_json(c) for c in case.contacts],
                              "warnings": [warning_json(w) for w in case.warnings]}


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
            "participants": a.participants, **{c.value: a.count(c) for c in ActivityCount}, "note": a.note,
            "created_by": a.created_by.username if a.created_by else None, "created_at": iso(a.created_at)}
