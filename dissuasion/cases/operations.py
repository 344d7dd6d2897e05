"""Registering warnings (one by hand, or a push through cases.merge), the case timeline, and telling
the precinct about new work. Operations flush; the caller commits."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from ..core.auditlog import record
from ..core.enums import CaseStatus, EventKind, FraudType, Tier, WarningSource
from ..core.i18n import say, spec_of
from ..core.timeutil import now
from ..directory.models import Community, Precinct
from ..extensions import db
from ..notifications.operations import lead_ids, notify
from ..privacy.freetext import mask_within, numbers_of
from .merge import MergeResult, merge_warnings
from .models import Case, CaseEvent, EarlyWarning, Person

if TYPE_CHECKING:
    from ..auth.models import User
    from ..imports.models import Push  # a warning names its push; cases know nothing else of imports

#: Up to this many new cases for one person in one push are announced one by one; more as one summary.
NOTIFY_ONE_BY_ONE = 5


@dataclass(slots=True)
class WarningInput:
    """One warning, already normalised and validated (by the importer, the API or the manual form)."""

    warning_no: str
    tier: Tier
    pushed_at: dt.datetime | None
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
    #: When the case's deadlines start: a hand entry's reported_at (the caller was being defrauded then); None: now,
    #: as for a pushed row.
    deadline_start: dt.datetime | None = None
    #: A hand entry: who reported it and how to reach them.
    reported_by: str = ""


@dataclass
class Registered:
    """What registering one warning did."""

    warning: EarlyWarning | None
    case: Case | None
    duplicate: bool = False
    person_created: bool = False
    case_created: bool = False
    case_updated: bool = False
    case_escalated: bool = False


def add_event(case: Case, kind: EventKind, actor: User | None = None, message: str = "",
              from_status: CaseStatus | None = None, to_status: CaseStatus | None = None, **data) -> CaseEvent:
    """Append an entry to the case's timeline. A `say` message is stored in Chinese and shown in each reader's
    language (i18n.said_text); plain text (a reason someone typed) is shown as it was written."""
    if (spec := spec_of(message)) is not None:
        data["say"] = mask_within(spec)  # a reason's numbers are kept whole only in the (encrypted) message
    event = CaseEvent(case=case, kind=kind, actor_id=actor.id if actor else None, message=str(message),
                      from_status=from_status, to_status=to_status, data=data, at=now())
    db.session.add(event)
    return event


def register_warning(item: WarningInput, by: User | None = None, may_update=None) -> Registered:
    """Store one warning and attach it to the right case, creating, raising or reopening as SPEC says
    (`may_update`: see merge_warnings)."""
    result = merge_warnings([item], by=by, push_id=item.push.id if item.push else None, may_update=may_update)
    if result.duplicates[0]:
        return Registered(warning=None, case=None, duplicate=True)
    announce(result)
    db.session.flush()
    return Registered(warning=db.session.get(EarlyWarning, result.warning_ids[0]),
                      case=db.session.get(Case, result.case_ids[0]), person_created=result.persons_created == 1,
                      case_created=result.cases_created == 1, case_updated=result.cases_updated == 1,
                      case_escalated=result.cases_escalated == 1)


def announce(result: MergeResult) -> int:
    """Tell each case's assignee and its precinct's leads about new, raised or reopened cases.

    A few cases are announced one by one (with the person's name and tier); a big push gives each
    recipient one summary instead of thousands of lines. Unrouted cases wait for the center's routing.
    """
    per_user: dict[int, list[int]] = defaultdict(list)
    leads: dict[int, list[int]] = {}
    for case_id, (assignee_id, precinct_id, _tier, _kind) in result.news.items():
        if precinct_id is None:
            continue
        if precinct_id not in leads:
            leads[precinct_id] = lead_ids(precinct_id)
        for user_id in {*leads[precinct_id], *([assignee_id] if assignee_id else [])}:
            per_user[user_id].append(case_id)
    names = _person_names([c for ids in per_user.values() if len(ids) <= NOTIFY_ONE_BY_ONE for c in ids])
    sent = 0
    for user_id, case_ids in per_user.items():
        if len(case_ids) > NOTIFY_ONE_BY_ONE:
            high = sum(1 for c in case_ids if result.news[c][2].rank <= Tier.HIGH.rank)
            notify(user_id, "assigned", say("新推送：%(n)d 件任务需处理，其中高风险及以上 %(high)d 件。",
                                                n=len(case_ids), high=high))
            sent += 1
            continue
        for case_id in case_ids:
            _a, _p, tier, kind = result.news[case_id]
            notify(user_id, kind, _news_text(kind, names.get(case_id, ""), tier), case_id=case_id)
            sent += 1
    return sent


def _news_text(kind: str, name: str, tier: Tier) -> str:
    if kind == "tier_raised":
        return say("风险升级为%(tier)s：%(name)s", tier=tier, name=name)
    if kind == "new_warning":
        return say("任务新增预警：%(name)s", name=name)
    return say("新预警任务：%(name)s（%(tier)s）", name=name, tier=tier)


def _person_names(case_ids: list[int]) -> dict[int, str]:
    if not case_ids:
        return {}
    rows = db.session.execute(select(Case.id, Person.name).join(Person, Person.id == Case.person_id)
                              .where(Case.id.in_(case_ids))).all()
    return dict(rows)


#: What "显示完整号码" may show, and the audit action each writes: the person's ID, their phone, and the numbers
#: typed into the case's notes, reasons and timeline (privacy/freetext.py).
REVEALABLE = {"id": "reveal_id", "phone": "reveal_phone", "notes": "reveal_notes"}


def reveal_relative_number(case: Case, contact_id: int, by: User | None, purpose: str = "call") -> str:
    """A relative's full number as a contact on this case recorded it; the look is audited like the person's."""
    contact = next((c for c in case.contacts if c.id == contact_id and c.relative_phone), None)
    if contact is None:
        return ""
    record("reveal_relative_phone", "case", case.id, user=by, person=case.person_id, contact=contact.id,
           purpose=purpose)
    return contact.relative_phone


def reveal_number(case: Case, field: str, by: User | None, purpose: str = "view") -> str:
    """The person's full ID or phone number, or for "notes" the numbers in the case's free text (the page shows
    them in place); every look is written to the audit log (SPEC "Who uses it")."""
    if field == "notes":
        numbers = sorted({number for text in free_texts(case) for number in numbers_of(text)})
        record(REVEALABLE[field], "case", case.id, user=by, person=case.person_id, purpose=purpose,
               count=len(numbers))
        return "、".join(numbers)
    value = case.person.id_number if field == "id" else case.person.phone
    record(REVEALABLE[field], "case", case.id, user=by, person=case.person_id, purpose=purpose)
    return value or ""


def free_texts(case: Case) -> list[str]:
    """Everything typed about a case in words: its warnings' reasons and notes, contact notes, follow-up notes, and
    the reasons on its timeline."""
    return [text for text in (*(w.reason for w in case.warnings), *(w.notes for w in case.warnings),
                              *(w.reported_by for w in case.warnings), case.return_request_reason,
                              *(c.note for c in case.contacts), *(f.note for f in case.followups),
                              *(e.message for e in case.events)) if text]
