"""Registering warnings into persons and cases (SPEC "Words"), and the case timeline.

A new warning for a person with an open case is attached to it (raising its tier if higher);
for a person whose case closed less than 30 days ago it reopens that case as a repeat;
otherwise it opens a new case. Operations flush; the caller commits.
"""
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from ..audit.operations import record
from ..auth.models import User
from ..directory.models import Community, Precinct
from ..enums import CaseStatus, EventKind, FraudType, Tier, WarningSource
from ..extensions import db
from ..imports.models import Push
from ..pii import blind_index, person_match_key
from ..timeutil import now
from .assignment import apply_plan, assignee_for, set_due, tell_precinct
from .models import Case, CaseEvent, EarlyWarning, Person
from .rules import REOPEN_WITHIN_DAYS


@dataclass
class WarningInput:
    """One warning, already normalised and validated (by the importer, the API or the manual form)."""

    warning_no: str
    tier: Tier
    pushed_at: dt.datetime
    name: str = ""
    sex: str = ""
    id_number: str = ""
    id_valid: bool = False
    phone: str = ""
    phone_valid: bool = False
    reason: str = ""
    fraud_type: FraudType = FraudType.OTHER
    fraud_type_text: str = ""
    amount_at_risk: Decimal | None = None
    registered_address: str = ""
    current_address: str = ""
    precinct: Precinct | None = None
    community: Community | None = None
    precinct_text: str = ""
    community_text: str = ""
    away_from_home: bool = False
    notes: str = ""
    flags: list[str] = field(default_factory=list)
    source: WarningSource = WarningSource.PUSH
    push: Push | None = None
    row_number: int | None = None


@dataclass
class Registered:
    """What registering one warning did, for the import summary."""

    warning: EarlyWarning | None
    case: Case | None
    duplicate: bool = False
    person_created: bool = False
    case_created: bool = False
    case_updated: bool = False
    case_escalated: bool = False


def add_event(case: Case, kind: EventKind, actor: User | None = None, message: str = "",
              from_status: CaseStatus | None = None, to_status: CaseStatus | None = None, **data) -> CaseEvent:
    """Append an entry to the case's timeline."""
    event = CaseEvent(case=case, kind=kind, actor_id=actor.id if actor else None, message=message,
                      from_status=from_status, to_status=to_status, data=data, at=now())
    db.session.add(event)
    return event


def find_or_create_person(item: WarningInput) -> tuple[Person, bool]:
    """The person this warning is about, matched by valid ID number, else name + phone (+ address)."""
    address = item.registered_address or item.current_address
    key = person_match_key(item.id_number, item.id_valid, item.name, item.phone, address)
    person = db.session.scalar(db.select(Person).filter_by(match_key=key))
    created = person is None
    if created:
        person = Person(match_key=key)
        db.session.add(person)
    _update_person(person, item)
    return person, created


def _update_person(person: Person, item: WarningInput) -> None:
    """Newer information fills in or replaces what the person's record had."""
    person.name = item.name or person.name
    person.sex = item.sex or person.sex
    if item.id_number and (item.id_valid or not person.id_valid):
        person.id_number, person.id_valid = item.id_number, item.id_valid
        person.id_index = blind_index("id", item.id_number)
    if item.phone and (item.phone_valid or not person.phone_valid):
        person.phone, person.phone_valid = item.phone, item.phone_valid
        person.phone_index = blind_index("phone", item.phone)
    person.registered_address = item.registered_address or person.registered_address
    person.current_address = item.current_address or person.current_address
    person.away_from_home = item.away_from_home


def register_warning(item: WarningInput, by: User | None = None) -> Registered:
    """Store one warning and attach it to the right case, creating, raising or reopening as SPEC says."""
    if db.session.scalar(db.select(EarlyWarning.id).filter_by(warning_no=item.warning_no)):
        return Registered(warning=None, case=None, duplicate=True)
    person, person_created = find_or_create_person(item)
    db.session.flush()
    warning = EarlyWarning(
        warning_no=item.warning_no, source=item.source, push=item.push, row_number=item.row_number,
        person_id=person.id, pushed_at=item.pushed_at, tier=item.tier, reason=item.reason,
        fraud_type=item.fraud_type, fraud_type_text=item.fraud_type_text, amount_at_risk=item.amount_at_risk,
        precinct_text=item.precinct_text, community_text=item.community_text, away_from_home=item.away_from_home,
        notes=item.notes, flags=list(item.flags), created_by_id=by.id if by else None)
    db.session.add(warning)
    result = Registered(warning=warning, case=None, person_created=person_created)
    case = _open_case(person.id)
    if case is not None:
        result.case_updated = True
        result.case_escalated = _attach(case, item, by)
    elif (case := _recently_closed_case(person.id)) is not None:
        _reopen(case, item, by)
        result.case_updated = True
    else:
        case = _new_case(person, item, by)
        result.case_created = True
    warning.case = case
    case.flags = sorted(set(case.flags or []) | set(item.flags))
    result.case = case
    db.session.flush()
    return result


def _open_case(person_id: int) -> Case | None:
    return db.session.scalar(db.select(Case).where(
        Case.person_id == person_id, Case.status.in_(CaseStatus.open_values())).order_by(Case.id.desc()).limit(1))


def _recently_closed_case(person_id: int) -> Case | None:
    since = now() - dt.timedelta(days=REOPEN_WITHIN_DAYS)
    return db.session.scalar(db.select(Case).where(
        Case.person_id == person_id, Case.status.in_((CaseStatus.CLOSED, CaseStatus.UNREACHABLE)),
        Case.closed_at >= since).order_by(Case.closed_at.desc()).limit(1))


def _new_case(person: Person, item: WarningInput, by: User | None) -> Case:
    community = item.community if item.precinct is not None else None
    case = Case(person=person, precinct=item.precinct, community=community, status=CaseStatus.NEW,
                assignee=assignee_for(community))
    apply_plan(case, item.tier, item.away_from_home)
    db.session.add(case)
    db.session.flush()
    add_event(case, EventKind.CREATED, by, to_status=CaseStatus.NEW, warning_no=item.warning_no, tier=item.tier.value)
    tell_precinct(case, "assigned", f"新预警任务：{person.name}（{item.tier.label}）")
    return case


def _attach(case: Case, item: WarningInput, by: User | None) -> bool:
    """Attach a warning to an open case; True when its tier rose (new tier, new deadlines if sooner)."""
    add_event(case, EventKind.WARNING_ADDED, by, warning_no=item.warning_no, tier=item.tier.value)
    if item.tier.rank >= case.tier.rank:
        tell_precinct(case, "new_warning", f"任务新增预警：{case.person.name}")
        return False
    old_tier, old_sign, old_contact = case.tier, case.sign_deadline, case.contact_deadline
    apply_plan(case, item.tier, item.away_from_home or case.away_from_home)
    case.sign_deadline = min(case.sign_deadline, old_sign)
    case.contact_deadline = min(case.contact_deadline, old_contact)
    set_due(case)
    add_event(case, EventKind.TIER_RAISED, by, from_tier=old_tier.value, to_tier=item.tier.value)
    tell_precinct(case, "tier_raised", f"风险升级为{item.tier.label}：{case.person.name}")
    return True


def _reopen(case: Case, item: WarningInput, by: User | None) -> None:
    """A repeat warning within 30 days of closing: the same case starts again, marked 重复预警."""
    old_status = case.status
    case.status, case.is_repeat = CaseStatus.NEW, True
    case.signed_at = case.first_contact_at = case.closed_at = None
    case.signed_by_id = case.closed_by_id = None
    case.outcome, case.failed_attempts = None, 0
    apply_plan(case, item.tier, item.away_from_home)
    add_event(case, EventKind.REOPENED, by, from_status=old_status, to_status=CaseStatus.NEW,
              warning_no=item.warning_no, tier=item.tier.value)
    tell_precinct(case, "assigned", f"重复预警：{case.person.name}（{item.tier.label}）")


#: What "显示完整号码" may show, and the audit action each writes.
REVEALABLE = {"id": "reveal_id", "phone": "reveal_phone"}


def reveal_number(case: Case, field: str, by: User | None, purpose: str = "view") -> str:
    """The person's full ID or phone number; every look is written to the audit log (SPEC "Who uses it")."""
    value = case.person.id_number if field == "id" else case.person.phone
    record(REVEALABLE[field], "case", case.id, user=by, person=case.person_id, purpose=purpose)
    return value or ""

