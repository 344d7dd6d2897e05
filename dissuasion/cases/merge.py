"""Merging warnings into persons and cases, many at a time (SPEC "Words").

The one implementation of: a warning number seen before is a duplicate; a person is their valid ID,
else name + phone; a new warning joins the person's open case (raising its tier and pulling its
deadlines in), reopens a case closed less than 30 days ago as a repeat, or opens a new case. The
importer sends a whole push through it in one transaction; `register_warning` sends one warning.
Writes go through Core executemany with primary keys reserved beforehand (nothing is read back), so
100,000 rows take seconds; nothing here commits. A new case has no CREATED event row: its warnings
(push, row, who, when) are the record of its creation, and the timeline shows it from them.
"""
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field

from blinker import Namespace
from sqlalchemy import bindparam, select, update

from ..core.bulk import bulk_insert, bulk_insert_rows, in_values, indexes_built_after, page_cache, reserve_ids
from ..core.database import serialize
from ..core.enums import CaseStatus, DataFlag, EventKind, Tier
from ..core.timeutil import now
from ..directory.models import place_name
from ..extensions import db
from ..privacy.pii import blind_indexer, person_match_key
from .assignment import assignee_for
from .models import Case, CaseEvent, EarlyWarning, Person
from .rules import REOPEN_WITHIN_DAYS, plan, rules_by_tier

#: A merge of this many warnings or more writes with a larger page cache (bulk.page_cache).
BIG_WRITE, BIG_WRITE_CACHE_MB = 1000, 32


@dataclass
class MergeResult:
    """What merging did: per input, the warning and case ids (None for a duplicate), and the counters."""

    warning_ids: list[int | None] = field(default_factory=list)
    case_ids: list[int | None] = field(default_factory=list)
    person_ids: list[int | None] = field(default_factory=list)
    duplicates: list[bool] = field(default_factory=list)
    persons_created: int = 0
    cases_created: int = 0
    cases_updated: int = 0
    cases_escalated: int = 0
    #: case id -> (assignee id, precinct id, tier, kind of news) for notifications
    news: dict[int, tuple] = field(default_factory=dict)
    #: person id -> the name they had, for a stored person these rows gave another name (same valid ID)
    renamed: dict[int, str] = field(default_factory=dict)


def stored_warning_names(numbers: list[str]) -> dict[str, str]:
    """{预警编号: the name of its person} for those of these 预警编号 already stored."""
    if not numbers:
        return {}
    return dict(db.session.execute(
        select(EarlyWarning.warning_no, Person.name).outerjoin(Person, Person.id == EarlyWarning.person_id)
        .where(in_values(EarlyWarning.warning_no, set(numbers)))).all())


#: Sent after each stage of a merge has written its rows; sender: the stage ('persons', 'cases', 'warnings'). The
#: public seam for what happens between stages: tests make a merge fail or pause there; nothing listens otherwise.
stage_written = Namespace().signal("merge-stage-written")

#: The lock merges take: what a merge reads (known numbers, persons, open cases) must not change under it.
MERGE_LOCK = "cases.merge_warnings"


def merge_warnings(items: list, by=None, push_id: int | None = None, checked: bool = False,
                   progress: Callable[[str, int, int], None] | None = None,
                   may_update: Callable[[int], bool] | None = None) -> MergeResult:
    """Store warnings (WarningInput-like objects, in file order) and attach them to cases.

    One merge at a time (the lock is held until the caller commits): two at once could each find a person, a
    warning number or an open case missing and both create it. `checked`: the caller holds the lock already
    and has dropped, under it, the numbers stored before or repeated, so they are not looked up again.
    `progress(stage, rows written, rows in all)` is told at the end of each stage ('persons', 'cases', 'warnings'),
    and while a stage writes, after each batch of its rows (rows of its own table so far, of all it writes).
    `may_update(person id)`: whether these rows may change a stored person's details (name, numbers, addresses);
    the warnings are attached to such a person either way. None: always (the center's pushes).
    """
    serialize(MERGE_LOCK)
    db.session.flush()
    at = now()
    result = MergeResult()
    seen = set() if checked else set(stored_warning_names([i.warning_no for i in items]))
    fresh = []
    for item in items:
        duplicate = item.warning_no in seen
        seen.add(item.warning_no)
        result.duplicates.append(duplicate)
        if not duplicate:
            fresh.append(item)
    if fresh:
        tables = (Person.__table__, Case.__table__, EarlyWarning.__table__)
        with page_cache(BIG_WRITE_CACHE_MB) if len(fresh) >= BIG_WRITE else nullcontext(), \
                indexes_built_after(tables, len(fresh)):
            person_of = _persons(fresh, result, may_update, progress)
            _stage_done("persons", len(fresh), progress)
            case_of = _cases(fresh, person_of, by, push_id, at, result, progress)
            _stage_done("cases", len(fresh), progress)
            warning_ids = _insert_warnings(fresh, person_of, case_of, by, push_id, at, progress)
            _stage_done("warnings", len(fresh), progress)
        _expire_changed(set(case_of.values()), set(person_of.values()))
    else:
        person_of, case_of, warning_ids = {}, {}, {}
    for item, duplicate in zip(items, result.duplicates, strict=True):
        key = id(item)
        result.warning_ids.append(None if duplicate else warning_ids.get(key))
        result.case_ids.append(None if duplicate else case_of.get(key))
        result.person_ids.append(None if duplicate else person_of.get(key))
    return result


def _writing(stage: str, total: int, progress) -> Callable[[int], None] | None:
    """For bulk_insert_rows: progress(stage, rows so far, total) after each batch but the last (the stage's end
    is told by _stage_done); None when nobody asks."""
    if progress is None:
        return None
    return lambda done: progress(stage, done, total) if done < total else None


def _stage_done(stage: str, rows: int, progress) -> None:
    stage_written.send(stage)
    if progress is not None:
        progress(stage, rows, rows)


# --- persons -------------------------------------------------------------------------------------

class _Indexes:
    """Each item's blind indexes and match key, computed once (they key the person and fill its columns)."""

    def __init__(self, items: list):
        id_index, phone_index = blind_indexer("id"), blind_indexer("phone")
        self.id_index = {id(i): id_index(i.id_number) if i.id_number else None for i in items}
        self.phone_index = {id(i): phone_index(i.phone) if i.phone else None for i in items}
        lost = DataFlag.ID_LOST_DIGITS.value  # an ID whose digits Excel dropped names nobody: it never matches
        self.match_key = {id(i): person_match_key("" if lost in i.flags else i.id_number, i.id_valid, i.name,
                                                  i.phone, i.registered_address or i.current_address,
                                                  self.id_index[id(i)])
                          for i in items}

    def person_row(self, item) -> tuple:
        """Every person column (_PERSON_COLUMNS), the same for every row (bulk inserts need one shape); None where
        unknown."""
        key = id(item)
        return (item.name, item.sex, item.registered_address, item.current_address, item.away_from_home,
                item.id_number or None, bool(item.id_number) and item.id_valid, self.id_index[key],
                item.phone or None, bool(item.phone) and item.phone_valid, self.phone_index[key])

    def person_values(self, item) -> dict:
        """person_row as {column: value}."""
        return dict(zip(_PERSON_COLUMNS, self.person_row(item), strict=True))


#: A person's columns as _Indexes.person_row gives them.
_PERSON_COLUMNS = ("name", "sex", "registered_address", "current_address", "away_from_home", "id_number", "id_valid",
                   "id_index", "phone", "phone_valid", "phone_index")


def _persons(items: list, result: MergeResult, may_update: Callable[[int], bool] | None = None,
             progress=None) -> dict[int, int]:
    """item -> person id; creates the persons not yet known, refreshes the known ones (those may_update allows)."""
    indexes = _Indexes(items)
    key_of = indexes.match_key
    known: dict[str, int] = dict(db.session.execute(
        select(Person.match_key, Person.id).where(in_values(Person.match_key, set(key_of.values())))).all())
    _same_person_in_items(items, key_of, indexes.phone_index, known)
    upgrades = _same_person_stored(items, key_of, indexes, known)
    latest: dict[str, object] = {}
    more: dict[str, list] = {}  # keys with several rows: all of them
    for item in items:
        key = key_of[id(item)]
        if key in latest:
            more.setdefault(key, [latest[key]]).append(item)
        latest[key] = item  # the last row about a person carries the newest details

    def values(key: str) -> dict:
        row = indexes.person_values(latest[key])
        if key in more:
            _numbers_from_earlier_rows(row, more[key], indexes)
        return row

    def new_rows():  # made as they are written: a push of 100,000 persons never holds them all
        person_row = indexes.person_row
        for key in new_keys:
            yield (known[key], key, *(person_row(latest[key]) if key not in more
                                      else map(values(key).__getitem__, _PERSON_COLUMNS)))

    new_keys = [k for k in latest if k not in known]
    stale = [(known[k], values(k)) for k in latest if k in known]
    if new_keys:
        known.update(zip(new_keys, reserve_ids(Person.__table__, len(new_keys)), strict=True))
        bulk_insert_rows(Person.__table__, ("id", "match_key", *_PERSON_COLUMNS), new_rows(),
                         _writing("persons", len(new_keys), progress))
        result.persons_created = len(new_keys)
    if may_update is not None:
        upgrades = [u for u in upgrades if may_update(u["pid"])]
        stale = [(pid, values) for pid, values in stale if may_update(pid)]
    if upgrades:
        db.session.execute(update(Person.__table__).where(Person.__table__.c.id == bindparam("pid")).values(
            match_key=bindparam("key"), id_number=bindparam("number"), id_valid=True, id_index=bindparam("index"),
            updated_at=now()), upgrades)
    result.renamed = _refresh_known_persons(stale)
    return {id(i): known[key_of[id(i)]] for i in items}


#: A person's numbers, each with its validity and blind index: they are taken together from one row.
_NUMBER_COLUMNS = (("id_number", "id_valid", "id_index"), ("phone", "phone_valid", "phone_index"))


def _numbers_from_earlier_rows(values: dict, rows: list, indexes: _Indexes) -> None:
    """A person's newest row gives their details (`values`); where its ID or phone is missing or invalid, the last
    earlier row with a valid one gives it (or, when the newest row has none, the last row with one at all)."""
    for columns in _NUMBER_COLUMNS:
        number, valid, _index = columns
        if values[valid]:
            continue
        found = [v for v in map(indexes.person_values, rows) if v[number]]
        best = next((v for v in reversed(found) if v[valid]), None)
        if best is None and not values[number] and found:
            best = found[-1]
        if best is not None:
            values.update({k: best[k] for k in columns})


def _name_phone(item, phone_index: dict) -> tuple | None:
    index = phone_index[id(item)]
    return (item.name, index) if index and item.name else None


def _same_person_in_items(items: list, key_of: dict, phone_index: dict, known: dict) -> None:
    """Within the rows merged together: a row without a valid ID, whose name + phone no stored person has, is the
    person whose row with a valid ID has the same name and phone (when exactly one such ID does); its key becomes
    that ID's. (A stored name + phone person is matched as such, and may take the ID: _same_person_stored.)"""
    by_id: dict[tuple, set] = defaultdict(set)
    without = []
    for item in items:
        if (np := _name_phone(item, phone_index)) is None:
            continue
        key = key_of[id(item)]
        if key[0] == "i":
            by_id[np].add(key)
        elif key[0] == "p" and key not in known:
            without.append((item, np))
    for item, np in without:
        if len(ids := by_id.get(np, ())) == 1:
            key_of[id(item)] = next(iter(ids))


def _same_person_stored(items: list, key_of: dict, indexes: _Indexes, known: dict) -> list[dict]:
    """Rows whose key matches no stored person, matched by name + phone across the two kinds of key (SPEC
    "Person": a valid ID, else name + mobile):
    * a row without a valid ID is the stored person with a valid ID, that name and that phone (if exactly one);
    * a row with a new valid ID is the stored person known only by that name and phone (if exactly one, and no
      other new ID in the rows claims them): that person gets the ID, and their key becomes it.
    Returns the key changes to write ({pid, key, number, index}); `known` and `key_of` are updated."""
    phone_index = indexes.phone_index
    unknown = [item for item in items if key_of[id(item)] not in known and key_of[id(item)][0] in "ip"]
    phones = {phone_index[id(item)] for item in unknown} - {None}
    if not phones:
        return []
    stored: dict[tuple, list] = defaultdict(list)
    for row in db.session.execute(select(Person.id, Person.match_key, Person.name, Person.phone_index).where(
            in_values(Person.phone_index, phones))):
        stored[(row.name, row.phone_index)].append(row)
    loose = [(item, np) for item in unknown if (np := _name_phone(item, phone_index)) in stored]
    claims: dict[int, set] = defaultdict(set)  # a stored name + phone person -> the new ID keys claiming them
    for item, np in loose:
        key = key_of[id(item)]
        kind = "p" if key[0] == "i" else "i"
        found = [p for p in stored.get(np, ()) if p.match_key[0] == kind]
        if len(found) != 1 or (kind == "p" and any(p.match_key[0] == "i" for p in stored[np])):
            continue  # none, or not one alone: two IDs with that name and phone, or one already known by its ID
        if kind == "i":
            key_of[id(item)] = found[0].match_key
            known[found[0].match_key] = found[0].id
        else:
            claims[found[0].id].add(key)
    upgrades = {pid: {"pid": pid, "key": next(iter(keys))} for pid, keys in claims.items() if len(keys) == 1}
    claimed = defaultdict(list)  # one ID with two phones may claim two such persons: then neither gets it
    for pid, change in upgrades.items():
        claimed[change["key"]].append(pid)
    upgrades = {pid: change for pid, change in upgrades.items() if len(claimed[change["key"]]) == 1}
    if not upgrades:
        return []
    by_key = {change["key"]: change for change in upgrades.values()}
    renamed = {key: upgrades[pid]["key"] for key, pid in known.items() if pid in upgrades}  # the old key's rows
    for item in items:
        key = key_of[id(item)] = renamed.get(key_of[id(item)], key_of[id(item)])
        change = by_key.get(key)
        if change is not None and "number" not in change and item.id_valid:
            change.update(number=item.id_number, index=indexes.id_index[id(item)])
    for key, change in by_key.items():
        known[key] = change["pid"]
    return list(upgrades.values())


def _refresh_known_persons(persons: list[tuple[int, dict]]) -> dict[int, str]:
    """Newer details (person id, the columns from their rows) replace older ones; a valid number is never replaced
    by an invalid one. Returns {person id: former name} for those whose name changed."""
    if not persons:
        return {}
    current = {p.id: p for p in db.session.execute(select(Person.id, Person.name, Person.id_valid,
                                                          Person.phone_valid).where(
        in_values(Person.id, [pid for pid, _values in persons]))).all()}
    renamed = {pid: current[pid].name for pid, values in persons
               if values["name"] and current[pid].name and values["name"] != current[pid].name}
    updates = []
    for pid, values in persons:
        values = dict(values)
        if not values["id_number"] or (current[pid].id_valid and not values["id_valid"]):
            for k in ("id_number", "id_valid", "id_index"):
                values.pop(k)
        if not values["phone"] or (current[pid].phone_valid and not values["phone_valid"]):
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
    return renamed


# --- cases ---------------------------------------------------------------------------------------

def _cases(items, person_of, by, push_id, at, result, progress=None) -> dict[int, int]:
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
        precinct_id, news = change.get("precinct_id", case.precinct_id), change.pop("_news")
        result.news[case.id] = (change.get("assignee_id", case.assignee_id), precinct_id, Tier(change["tier"]),
                                "assigned" if precinct_id != case.precinct_id else news)
        case_of.update({id(i): case.id for i in group})
    _apply_case_changes(changes)
    case_of.update(_insert_cases(new_groups, rules, push_id, at, result, progress))
    _insert_all(CaseEvent.__table__, events)
    return case_of


def _current_cases(person_ids: list[int], at: dt.datetime) -> tuple[dict, dict]:
    """Each person's open case, and their case closed less than 30 days ago."""
    open_cases, recent = {}, {}
    since = at - dt.timedelta(days=REOPEN_WITHIN_DAYS)
    closed = (CaseStatus.CLOSED, CaseStatus.UNREACHABLE)
    for case in db.session.execute(select(Case.__table__).where(
            in_values(Case.person_id, person_ids), Case.status.in_(CaseStatus.open_values())).order_by(Case.id)):
        open_cases[case.person_id] = case
    for case in db.session.execute(select(Case.__table__).where(
            in_values(Case.person_id, person_ids), Case.status.in_(closed), Case.closed_at >= since)
            .order_by(Case.closed_at)):
        recent[case.person_id] = case
    return open_cases, recent


def _start(item, at: dt.datetime) -> dt.datetime:
    """When a case's deadlines start: a hand entry's reported_at, else the merge's own time (a pushed row)."""
    return getattr(item, "deadline_start", None) or at


def _top(group: list):
    """The most urgent warning of a group; it decides tier and method."""
    return group[0] if len(group) == 1 else min(group, key=lambda i: i.tier.rank)


def _placed(group: list):
    """The warning of a group that decides where its case goes: the most urgent one naming a precinct of the
    directory (a person's high-risk row naming an unknown precinct must not hold their other rows' known precinct
    in the center's queue); None when no row names one."""
    if len(group) == 1:
        return group[0] if group[0].precinct is not None else None
    return min((i for i in group if i.precinct is not None), key=lambda i: i.tier.rank, default=None)


def _update_case(case, group, rules, by, push_id, at, reopen: bool) -> tuple[dict, list]:
    top = _top(group)
    status = CaseStatus(case.status)
    old_tier = Tier(case.tier)
    numbers = [i.warning_no for i in group]
    actor = by.id if by else None
    flags = sorted(set(case.flags or []).union(*(i.flags for i in group)))
    change = {"cid": case.id, "flags": flags, "tier": old_tier, "_escalated": 0, "_news": "new_warning"}
    events = []
    start = _start(top, at)
    if reopen:
        p = plan(rules[top.tier], top.away_from_home, start)
        change.update(status=CaseStatus.NEW, is_repeat=True, tier=top.tier, method=p.method,
                      away_from_home=top.away_from_home, sign_deadline=p.sign_deadline,
                      contact_deadline=p.contact_deadline, due_at=p.sign_deadline, signed_at=None,
                      signed_by_id=None, first_attempt_at=None, first_reached_at=None, closed_at=None,
                      closed_by_id=None, outcome=None, failed_attempts=0, _news="assigned")
        events.append(_event(case.id, EventKind.REOPENED, actor, at, status, CaseStatus.NEW,
                             warnings=numbers, tier=top.tier.value, push_id=push_id))
        return change, events
    events.append(_event(case.id, EventKind.WARNING_ADDED, actor, at, warnings=numbers, push_id=push_id))
    if top.tier.rank < old_tier.rank:
        p = plan(rules[top.tier], top.away_from_home or case.away_from_home, start)
        sign, contact = min(p.sign_deadline, case.sign_deadline), min(p.contact_deadline, case.contact_deadline)
        change.update(tier=top.tier, method=p.method, away_from_home=top.away_from_home or case.away_from_home,
                      sign_deadline=sign, contact_deadline=contact, _escalated=1, _news="tier_raised",
                      due_at=sign if status == CaseStatus.NEW else min(case.due_at or contact, contact))
        events.append(_event(case.id, EventKind.TIER_RAISED, actor, at, from_tier=old_tier.value,
                             to_tier=top.tier.value, push_id=push_id))
    if case.precinct_id is None and (placed := _placed(group)) is not None:
        # waiting in the center's queue, and a new warning names the precinct: routed as the center would route
        # it, its deadlines starting now (the precinct only now has it)
        precinct_id, community_id, assignee_id = _place(placed)
        away = top.away_from_home or case.away_from_home
        p = plan(rules[Tier(change["tier"])], away, start)
        change.update(precinct_id=precinct_id, community_id=community_id, assignee_id=assignee_id,
                      status=CaseStatus.NEW, method=p.method, away_from_home=away, sign_deadline=p.sign_deadline,
                      contact_deadline=p.contact_deadline, due_at=p.sign_deadline)
        events.append(_event(case.id, EventKind.ROUTED, actor, at,
                             message=place_name(placed.precinct, placed.community), precinct=placed.precinct.code,
                             push_id=push_id))
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


#: The columns of a new case, in the order _insert_cases gives them.
_CASE_COLUMNS = ("id", "person_id", "precinct_id", "community_id", "assignee_id", "status", "tier", "method",
                 "away_from_home", "is_repeat", "flags", "sign_deadline", "contact_deadline", "due_at",
                 "failed_attempts", "created_at", "updated_at", "version")


def _insert_cases(groups, rules, push_id, at, result, progress=None) -> dict[int, int]:
    """Open a case per group (person); returns item -> case id. Rows are made as they are written: a push
    of 100,000 new cases never holds all their rows at once."""
    ids = reserve_ids(Case.__table__, len(groups))
    plans: dict[tuple, object] = {}  # every case of a push starts at the same time: one plan per tier and away
    places: dict[tuple, tuple] = {}  # (precinct, community) -> their ids and the community officer's

    def rows():
        for cid, (person_id, group) in zip(ids, groups, strict=True):
            top = _top(group)
            start = _start(top, at)
            key = (top.tier, top.away_from_home, start)
            p = plans.get(key) or plans.setdefault(key, plan(rules[top.tier], top.away_from_home, start))
            placed = _placed(group)
            key = (id(placed.precinct), id(placed.community)) if placed is not None else None
            precinct_id, community_id, assignee_id = places.get(key) or places.setdefault(key, _place(placed))
            result.news[cid] = (assignee_id, precinct_id, top.tier, "assigned")
            yield (cid, person_id, precinct_id, community_id, assignee_id, CaseStatus.NEW, top.tier, p.method,
                   top.away_from_home, False, sorted(set().union(*(i.flags for i in group))), p.sign_deadline,
                   p.contact_deadline, p.sign_deadline, 0, at, at, 1)

    bulk_insert_rows(Case.__table__, _CASE_COLUMNS, rows(), _writing("cases", len(groups), progress))
    result.cases_created = len(groups)
    return {id(i): cid for cid, (_person, group) in zip(ids, groups, strict=True) for i in group}


def _place(item) -> tuple:
    """(precinct id, community id, the community officer's id) of a warning naming a precinct; Nones for None."""
    if item is None or item.precinct is None:
        return None, None, None
    community = item.community
    officer = assignee_for(community)
    return item.precinct.id, community.id if community else None, officer.id if officer is not None else None


def _event(case_id, kind, actor, at, from_status=None, to_status=None, message: str = "", **data) -> dict:
    return {"case_id": case_id, "kind": kind, "actor_id": actor, "at": at, "from_status": from_status,
            "to_status": to_status, "message": message, "data": {k: v for k, v in data.items() if v is not None}}


# --- warnings ------------------------------------------------------------------------------------

#: The columns of a warning the merge writes, in the order _insert_warnings gives them.
_WARNING_COLUMNS = ("id", "warning_no", "source", "push_id", "row_number", "person_id", "case_id", "pushed_at", "tier",
                    "reason", "fraud_type", "fraud_type_text", "amount_at_risk", "precinct_text", "community_text",
                    "away_from_home", "notes", "flags", "created_by_id", "created_at", "reported_by", "returned_at",
                    "returned_by_id", "return_reason")


def _insert_warnings(items, person_of, case_of, by, push_id, at, progress=None) -> dict[int, int]:
    ids = reserve_ids(EarlyWarning.__table__, len(items))
    actor = by.id if by else None
    rows = ((wid, i.warning_no, i.source, push_id, i.row_number, person_of[id(i)], case_of[id(i)], i.pushed_at or at,
             i.tier, i.reason, i.fraud_type, i.fraud_type_text, i.amount_at_risk, i.precinct_text, i.community_text,
             i.away_from_home, i.notes, list(i.flags), actor, at, getattr(i, "reported_by", ""), None, None, "")
            for wid, i in zip(ids, items, strict=True))
    bulk_insert_rows(EarlyWarning.__table__, _WARNING_COLUMNS, rows, _writing("warnings", len(items), progress))
    return {id(i): wid for wid, i in zip(ids, items, strict=True)}


def _insert_all(table, rows: list[dict]) -> None:
    """Plain executemany (RETURNING in parameter order would fall back to one INSERT per row on SQLite, a
    hundred times slower; ids are reserved beforehand instead)."""
    bulk_insert(table, rows)


def _expire_changed(case_ids: set[int], person_ids: set[int]) -> None:
    """Objects already loaded in this session must not show what was true before the Core writes."""
    for obj in list(db.session.identity_map.values()):
        if (isinstance(obj, Case) and obj.id in case_ids) or (isinstance(obj, Person) and obj.id in person_ids):
            db.session.expire(obj)


# --- warnings stored already -----------------------------------------------------------------------

@dataclass
class _Stored:
    """A stored warning as the case stage of a merge reads it (an undone 退回 goes through the merge again)."""

    warning_no: str
    tier: Tier
    away_from_home: bool
    flags: list
    precinct: None = None
    community: None = None


def reattach_warnings(warnings: list, by=None) -> list[int]:
    """Stored warnings without a case (an undone 退回) go to cases as new ones would: the person's open case, a case
    closed under 30 days reopened, or a new case in the routing queue (deadlines from now). Returns their case ids."""
    serialize(MERGE_LOCK)
    db.session.flush()
    at, result = now(), MergeResult()
    items = [_Stored(w.warning_no, Tier(w.tier), w.away_from_home, list(w.flags or [])) for w in warnings]
    person_of = {id(i): w.person_id for i, w in zip(items, warnings, strict=True)}
    case_of = _cases(items, person_of, by, None, at, result)
    for item, warning in zip(items, warnings, strict=True):
        warning.case_id = case_of[id(item)]
    db.session.flush()
    _expire_changed(set(case_of.values()), set())
    return [case_of[id(i)] for i in items]
