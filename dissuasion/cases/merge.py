"""Merging warnings into persons and cases, many at a time (SPEC "Words").

The one implementation of: a warning number seen before is a duplicate; a person is their valid ID,
else name + phone; a new warning joins the person's open case (raising its tier and pulling its
deadlines in), reopens a case closed less than 30 days ago as a repeat, or opens a new case. The
importer sends a whole push through it in one transaction; `register_warning` sends one warning.
Writes go through Core executemany, so 100,000 rows take seconds; nothing here commits.
"""
import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain

from sqlalchemy import bindparam, select, update

from ..bulk import bulk_insert
from ..database import serialize
from ..enums import CaseStatus, EventKind, Tier
from ..extensions import db
from ..pii import blind_index, person_match_key
from ..timeutil import now
from .assignment import assignee_for
from .models import Case, CaseEvent, EarlyWarning, Person
from .rules import REOPEN_WITHIN_DAYS, plan, rules_by_tier

CHUNK = 5000


@dataclass
class MergeResult:
    """What merging did: per input, the warning and case ids (None for a duplicate), and the counters."""

    warning_ids: list[int | None] = field(default_factory=list)
    case_ids: list[int | None] = field(default_factory=list)
    duplicates: list[bool] = field(default_factory=list)
    persons_created: int = 0
    cases_created: int = 0
    cases_updated: int = 0
    cases_escalated: int = 0
    #: case id -> (assignee id, precinct id, tier, kind of news) for notifications
    news: dict[int, tuple] = field(default_factory=dict)


def chunks(values: list, size: int = CHUNK):
    for i in range(0, len(values), size):
        yield values[i:i + size]


def existing_warning_numbers(numbers: list[str]) -> set[str]:
    """Which of these 预警编号 are already stored."""
    found: set[str] = set()
    for part in chunks(sorted(set(numbers))):
        found.update(db.session.scalars(select(EarlyWarning.warning_no).where(EarlyWarning.warning_no.in_(part))))
    return found


#: The lock merges take: what a merge reads (known numbers, persons, open cases) must not change under it.
MERGE_LOCK = "cases.merge_warnings"


def merge_warnings(items: list, by=None, push_id: int | None = None) -> MergeResult:
    """Store warnings (WarningInput-like objects, in file order) and attach them to cases.

    One merge at a time (the lock is held until the caller commits): two at once could each find a person, a
    warning number or an open case missing and both create it.
    """
    serialize(MERGE_LOCK)
    db.session.flush()
    at = now()
    result = MergeResult()
    seen = existing_warning_numbers([i.warning_no for i in items])
    fresh = []
    for item in items:
        duplicate = item.warning_no in seen
        seen.add(item.warning_no)
        result.duplicates.append(duplicate)
        if not duplicate:
            fresh.append(item)
    if fresh:
        person_of = _persons(fresh, result)
        case_of = _cases(fresh, person_of, by, push_id, at, result)
        warning_ids = _insert_warnings(fresh, person_of, case_of, by, push_id, at)
        _expire_changed(set(case_of.values()), set(person_of.values()))
    else:
        case_of, warning_ids = {}, {}
    for item in items:
        key = id(item)
        result.warning_ids.append(warning_ids.get(key))
        result.case_ids.append(case_of.get(key))
    for i, duplicate in enumerate(result.duplicates):
        if duplicate:
            result.warning_ids[i] = result.case_ids[i] = None
    return result


# --- persons -------------------------------------------------------------------------------------

def _person_values(item) -> dict:
    """Every person column, the same keys for every row (bulk inserts need one shape); None where unknown."""
    has_id, has_phone = bool(item.id_number), bool(item.phone)
    return {"name": item.name, "sex": item.sex, "registered_address": item.registered_address,
            "current_address": item.current_address, "away_from_home": item.away_from_home,
            "id_number": item.id_number or None, "id_valid": has_id and item.id_valid,
            "id_index": blind_index("id", item.id_number) if has_id else None,
            "phone": item.phone or None, "phone_valid": has_phone and item.phone_valid,
            "phone_index": blind_index("phone", item.phone) if has_phone else None}


def _persons(items: list, result: MergeResult) -> dict[int, int]:
    """item -> person id; creates the persons not yet known, refreshes the known ones."""
    key_of = {id(i): person_match_key(i.id_number, i.id_valid, i.name, i.phone,
                                      i.registered_address or i.current_address) for i in items}
    latest: dict[str, object] = {}
    for item in items:
        latest[key_of[id(item)]] = item  # the last row about a person carries the newest details
    known: dict[str, int] = {}
    for part in chunks(list(latest)):
        known.update(db.session.execute(select(Person.match_key, Person.id).where(Person.match_key.in_(part))).all())
    new_keys = [k for k in latest if k not in known]
    stale = [latest[k] for k in latest if k in known]
    if new_keys:
        rows = ({"match_key": k, **_person_values(latest[k])} for k in new_keys)
        _insert_all(Person.__table__, rows)
        for part in chunks(new_keys):
            known.update(db.session.execute(select(Person.match_key, Person.id)
                                            .where(Person.match_key.in_(part))).all())
        result.persons_created = len(new_keys)
    _refresh_known_persons(stale, key_of, known)
    return {id(i): known[key_of[id(i)]] for i in items}


def _refresh_known_persons(items: list, key_of: dict, known: dict) -> None:
    """Newer details replace older ones; a valid number is never replaced by an invalid one."""
    if not items:
        return
    current = {}
    for part in chunks([known[key_of[id(i)]] for i in items]):
        current.update({p.id: p for p in db.session.execute(
            select(Person.id, Person.id_valid, Person.phone_valid).where(Person.id.in_(part))).all()})
    updates = []
    for item in items:
        pid = known[key_of[id(item)]]
        values = _person_values(item)
        if not item.id_number or (current[pid].id_valid and not item.id_valid):
            for k in ("id_number", "id_valid", "id_index"):
                values.pop(k)
        if not item.phone or (current[pid].phone_valid and not item.phone_valid):
            for k in ("phone", "phone_valid", "phone_index"):
                values.pop(k)
        updates.append({"pid": pid, **{k: v for k, v in values.items() if v not in ("", None)}})
    by_shape = defaultdict(list)
    for row in updates:
        by_shape[tuple(sorted(row))].append(row)
    for shape, rows in by_shape.items():
        stmt = update(Person.__table__).where(Person.__table__.c.id == bindparam("pid")).values(
            {k: bindparam(k) for k in shape if k != "pid"} | {"updated_at": now()})
        db.session.execute(stmt, rows)


# --- cases ---------------------------------------------------------------------------------------

def _cases(items, person_of, by, push_id, at, result) -> dict[int, int]:
    """item -> case id: attach to the open case, reopen a recent one, or open a new one per person."""
    groups: dict[int, list] = defaultdict(list)
    for item in items:
        groups[person_of[id(item)]].append(item)
    open_cases, recent = _current_cases(list(groups), at)
    rules = rules_by_tier()
    case_of: dict[int, int] = {}
    new_groups, changes, events = [], [], []
    for person_id, group in groups.items():
        case = open_cases.get(person_id) or recent.get(person_id)
        if case is None:
            new_groups.append((person_id, group))
            continue
        change, case_events = _update_case(case, group, rules, by, push_id, at, reopen=person_id not in open_cases)
        changes.append(change)
        events.extend(case_events)
        result.cases_updated += 1
        result.cases_escalated += change.pop("_escalated")
        result.news[case.id] = (case.assignee_id, case.precinct_id, Tier(change["tier"]), change.pop("_news"))
        case_of.update({id(i): case.id for i in group})
    _apply_case_changes(changes)
    new_case_of, created_events = _insert_cases(new_groups, rules, by, push_id, at, result)
    case_of.update(new_case_of)
    _insert_all(CaseEvent.__table__, chain(events, created_events))
    return case_of


def _current_cases(person_ids: list[int], at: dt.datetime) -> tuple[dict, dict]:
    """Each person's open case, and their case closed less than 30 days ago."""
    open_cases, recent = {}, {}
    since = at - dt.timedelta(days=REOPEN_WITHIN_DAYS)
    closed = (CaseStatus.CLOSED, CaseStatus.UNREACHABLE)
    for part in chunks(person_ids):
        for case in db.session.execute(select(Case.__table__).where(
                Case.person_id.in_(part), Case.status.in_(CaseStatus.open_values())).order_by(Case.id)).all():
            open_cases[case.person_id] = case
        for case in db.session.execute(select(Case.__table__).where(
                Case.person_id.in_(part), Case.status.in_(closed), Case.closed_at >= since)
                .order_by(Case.closed_at)).all():
            recent[case.person_id] = case
    return open_cases, recent


def _top(group: list):
    """The most urgent warning of a group; it decides tier, routing and method."""
    return min(group, key=lambda i: i.tier.rank)


def _update_case(case, group, rules, by, push_id, at, reopen: bool) -> tuple[dict, list]:
    top = _top(group)
    status = CaseStatus(case.status)
    old_tier = Tier(case.tier)
    numbers = [i.warning_no for i in group]
    actor = by.id if by else None
    flags = sorted(set(case.flags or []).union(*(i.flags for i in group)))
    change = {"cid": case.id, "flags": flags, "tier": old_tier, "_escalated": 0, "_news": "new_warning"}
    events = []
    if reopen:
        p = plan(rules[top.tier], top.away_from_home, at)
        change.update(status=CaseStatus.NEW, is_repeat=True, tier=top.tier, method=p.method,
                      away_from_home=top.away_from_home, sign_deadline=p.sign_deadline,
                      contact_deadline=p.contact_deadline, due_at=p.sign_deadline, signed_at=None,
                      signed_by_id=None, first_contact_at=None, closed_at=None, closed_by_id=None, outcome=None,
                      failed_attempts=0, _news="assigned")
        events.append(_event(case.id, EventKind.REOPENED, actor, at, status, CaseStatus.NEW,
                             warnings=numbers, tier=top.tier.value, push_id=push_id))
        return change, events
    events.append(_event(case.id, EventKind.WARNING_ADDED, actor, at, warnings=numbers, push_id=push_id))
    if top.tier.rank < old_tier.rank:
        p = plan(rules[top.tier], top.away_from_home or case.away_from_home, at)
        sign, contact = min(p.sign_deadline, case.sign_deadline), min(p.contact_deadline, case.contact_deadline)
        change.update(tier=top.tier, method=p.method, away_from_home=top.away_from_home or case.away_from_home,
                      sign_deadline=sign, contact_deadline=contact, _escalated=1, _news="tier_raised",
                      due_at=sign if status == CaseStatus.NEW else min(case.due_at or contact, contact))
        events.append(_event(case.id, EventKind.TIER_RAISED, actor, at, from_tier=old_tier.value,
                             to_tier=top.tier.value, push_id=push_id))
    return change, events


def _apply_case_changes(changes: list[dict]) -> None:
    """executemany per shape of change; the version rises, so an open form on the case sees it changed."""
    table = Case.__table__
    by_shape = defaultdict(list)
    for change in changes:
        by_shape[tuple(sorted(change))].append(change)
    for shape, rows in by_shape.items():
        values = {k: bindparam(k) for k in shape if k != "cid"}
        stmt = update(table).where(table.c.id == bindparam("cid")).values(
            values | {"version": table.c.version + 1, "updated_at": now()})
        db.session.execute(stmt, rows)


def _insert_cases(groups, rules, by, push_id, at, result) -> tuple[dict[int, int], Iterator[dict]]:
    """Open a case per group; returns item -> case id and the cases' CREATED events (a generator: a push
    of 100,000 new cases never holds all their rows at once)."""
    news: dict[int, tuple] = {}  # person id -> (assignee id, precinct id, tier)

    def rows():
        for person_id, group in groups:
            top = _top(group)
            p = plan(rules[top.tier], top.away_from_home, at)
            community = top.community if top.precinct is not None else None
            officer = assignee_for(community)
            news[person_id] = (officer.id if officer is not None else None,
                               top.precinct.id if top.precinct else None, top.tier)
            yield {"person_id": person_id, "precinct_id": news[person_id][1],
                   "community_id": community.id if community else None, "assignee_id": news[person_id][0],
                   "status": CaseStatus.NEW, "tier": top.tier, "method": p.method,
                   "away_from_home": top.away_from_home, "is_repeat": False,
                   "flags": sorted(set().union(*(i.flags for i in group))), "sign_deadline": p.sign_deadline,
                   "contact_deadline": p.contact_deadline, "due_at": p.sign_deadline, "failed_attempts": 0,
                   "created_at": at, "updated_at": at, "version": 1}

    _insert_all(Case.__table__, rows())
    ids: dict[int, int] = {}  # each of these persons had no open case, so their open case is the new one
    for part in chunks([person_id for person_id, _ in groups]):
        ids.update(db.session.execute(select(Case.person_id, Case.id).where(
            Case.person_id.in_(part), Case.status.in_(CaseStatus.open_values()))).all())
    case_of = {}
    for person_id, group in groups:
        cid = ids[person_id]
        case_of.update({id(i): cid for i in group})
        result.news[cid] = (*news[person_id], "assigned")
    result.cases_created = len(groups)
    actor = by.id if by else None
    events = (_event(ids[person_id], EventKind.CREATED, actor, at, None, CaseStatus.NEW,
                     warnings=[i.warning_no for i in group], tier=news[person_id][2].value, push_id=push_id)
              for person_id, group in groups)
    return case_of, events


def _event(case_id, kind, actor, at, from_status=None, to_status=None, **data) -> dict:
    return {"case_id": case_id, "kind": kind, "actor_id": actor, "at": at, "from_status": from_status,
            "to_status": to_status, "message": "", "data": {k: v for k, v in data.items() if v is not None}}


# --- warnings ------------------------------------------------------------------------------------

def _insert_warnings(items, person_of, case_of, by, push_id, at) -> dict[int, int]:
    rows = ({"warning_no": i.warning_no, "source": i.source, "push_id": push_id, "row_number": i.row_number,
             "person_id": person_of[id(i)], "case_id": case_of[id(i)], "pushed_at": i.pushed_at or at,
             "tier": i.tier, "reason": i.reason, "fraud_type": i.fraud_type, "fraud_type_text": i.fraud_type_text,
             "amount_at_risk": i.amount_at_risk, "precinct_text": i.precinct_text,
             "community_text": i.community_text, "away_from_home": i.away_from_home, "notes": i.notes,
             "flags": list(i.flags), "created_by_id": by.id if by else None, "created_at": at} for i in items)
    _insert_all(EarlyWarning.__table__, rows)
    ids: dict[str, int] = {}
    for part in chunks([i.warning_no for i in items]):
        ids.update(db.session.execute(select(EarlyWarning.warning_no, EarlyWarning.id)
                                      .where(EarlyWarning.warning_no.in_(part))).all())
    return {id(i): ids[i.warning_no] for i in items}


def _insert_all(table, rows: list[dict]) -> None:
    """Plain executemany (RETURNING in parameter order would fall back to one INSERT per row on SQLite, a
    hundred times slower; ids are read back by unique key instead)."""
    bulk_insert(table, rows)


def _expire_changed(case_ids: set[int], person_ids: set[int]) -> None:
    """Objects already loaded in this session must not show what was true before the Core writes."""
    for obj in list(db.session.identity_map.values()):
        if (isinstance(obj, Case) and obj.id in case_ids) or (isinstance(obj, Person) and obj.id in person_ids):
            db.session.expire(obj)
