"""录入预警: a warning that does not come in a file (a bank teller's call, 96110, 110, a relative, a walk-in).

One set of checks for the page and the API (`parse_entry`), the importer's checks and messages where they are the
same question (core/cells.py, privacy/pii.py); its own number, SD-<precinct code>-<yyyymmdd>-<nnnn>, from a counter
row raised in the entry's transaction; then the same merge as a pushed row (`register_warning`), with the deadlines
counted from when it was reported. Operations flush; the caller commits.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..core import cells
from ..core.auditlog import record
from ..core.enums import CaseStatus, DataFlag, FraudType, Role, Tier, WarningSource
from ..core.formdata import text_of
from ..core.i18n import N_
from ..core.timeutil import UTC, from_local, local, now
from ..directory.models import Community, Precinct
from ..extensions import db
from ..privacy.pii import (
    NUMBER_PROBLEMS,
    blind_index,
    id_problem,
    mask_id,
    normalize_id,
    normalize_phone,
    phone_valid,
)
from .models import Case, EntryCounter, Person
from .operations import Registered, WarningInput, register_warning
from .scoping import scope_cases, visible_case_ids

if TYPE_CHECKING:
    from ..auth.models import User

#: The JSON keys of POST /api/v1/warnings, and the form's field names (SPEC "Fixed points").
FIELDS = ("source", "reported_by", "reported_at", "name", "id_number", "phone", "address", "tier", "fraud_type",
          "reason", "amount_at_risk", "away_from_home", "precinct_code", "community")
#: The number's precinct part for an entry the center routes later.
UNROUTED_CODE = "ZX"
#: A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=2)
#: An entry reported longer ago than this is a typing mistake (a wrong year or month), not a call to act on now.
OLDEST = dt.timedelta(days=30)
FIX = N_("，请核对后重新填写。")
#: What a hand entry left without a fraud type keeps as its text (the form's choice 未确定), so the case reads
#: 其他（未确定） and not as if someone had chosen 其他. Stored text stays Chinese, as the center's own words do.
UNDETERMINED = "未确定"


class EntryError(ValueError):
    """Bad input: `fields` maps each field to what to fix, in Chinese."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields
        super().__init__(_("请修改标出的内容后再提交。"))


@dataclass
class EntryInput:
    """A hand entry as checked: every value typed, the place decided."""

    source: WarningSource
    reported_at: dt.datetime
    tier: Tier
    reported_by: str = ""
    name: str = ""
    id_number: str = ""
    phone: str = ""
    address: str = ""
    fraud_type: FraudType = FraudType.OTHER
    fraud_type_text: str = ""
    reason: str = ""
    amount_at_risk: Decimal | None = None
    away_from_home: bool = False
    precinct: Precinct | None = None
    community: Community | None = None


def parse_entry(data: Mapping, by: User) -> EntryInput:
    """Read and check an entry (a posted form or the API's JSON); EntryError lists every field's problem."""
    errors: dict[str, str] = {}
    source = _source(data, errors)
    tier = _tier(data, errors)
    name = cells.real(cells.name(data.get("name")), cells.NAME_PLACEHOLDERS)[:64]
    id_number, phone = _id_number(data, errors), _phone(data, errors)
    address = cells.real(cells.text(data.get("address")))[:500]
    if not name and not id_number and "id_number" not in errors:
        errors["name"] = cells.problem("no_identity")
    if not (id_number or phone or address) and not {"id_number", "phone"} & set(errors):
        errors["phone"] = cells.problem("no_contact")
    fraud_type, fraud_text = cells.fraud_type(data.get("fraud_type"))
    if not text_of(data, "fraud_type"):
        fraud_text = UNDETERMINED
    amount = None
    try:
        amount = cells.amount(data.get("amount_at_risk"))
    except ValueError:
        typed = text_of(data, "amount_at_risk")[:40]
        errors["amount_at_risk"] = cells.problem("amount", value=typed) + _(FIX)
    away = cells.away(data.get("away_from_home"))
    if away is None:
        errors["away_from_home"] = _("是否外出务工只能填“是”或“否”。")
    reported_at = _reported_at(data, errors)
    reported_by = text_of(data, "reported_by")
    if len(reported_by) > 200:
        errors["reported_by"] = _("报告人及联系方式请控制在 200 字以内。")
    reason = text_of(data, "reason")
    if len(reason) > 500:
        errors["reason"] = _("预警原因请控制在 500 字以内。")
    precinct, community = _place(data, by, errors)
    if errors:
        raise EntryError(errors)
    return EntryInput(source=source, reported_at=reported_at, tier=tier, reported_by=reported_by, name=name,
                      id_number=id_number, phone=phone, address=address, fraud_type=fraud_type,
                      fraud_type_text=fraud_text, reason=reason, amount_at_risk=amount, away_from_home=bool(away),
                      precinct=precinct, community=community)


def _source(data: Mapping, errors: dict) -> WarningSource | None:
    value = text_of(data, "source")
    hand = WarningSource.hand_entry()
    if value in {s.value for s in hand}:
        return WarningSource(value)
    by_label = {s.label: s for s in hand}
    if value in by_label:
        return by_label[value]
    errors["source"] = _("请选择预警来源（银行阻截、96110、110、亲友报告、本人来所、其他）。")
    return None


def _tier(data: Mapping, errors: dict) -> Tier | None:
    value = text_of(data, "tier")
    tier = cells.tier(value)
    if tier is None:
        errors["tier"] = (cells.problem("tier_value", value=value[:40]) if value
                          else _("请选择风险等级（特高危、高、中、低）。"))
    return tier


def _id_number(data: Mapping, errors: dict) -> str:
    """A typed ID number must be valid: the person is in front of someone who can ask again."""
    number = normalize_id(cells.real(cells.text(data.get("id_number"))))[:40]
    if number and (flag := id_problem(number)) is not None:
        problem = NUMBER_PROBLEMS.get(flag, NUMBER_PROBLEMS[DataFlag.ID_FORMAT])
        errors["id_number"] = _(problem).format(value=mask_id(number)) + _(FIX)
    return number


def _phone(data: Mapping, errors: dict) -> str:
    number = normalize_phone(cells.real(cells.text(data.get("phone"))))[:40]
    if number and not phone_valid(number):
        # said back as typed: it is the user's own input, in the field beside it, and no working number
        errors["phone"] = _(NUMBER_PROBLEMS[DataFlag.PHONE]).format(value=number) + _(
            "，请核对后重新填写（手机 11 位，座机带区号）。")
    return number


def _reported_at(data: Mapping, errors: dict) -> dt.datetime | None:
    """When it was reported: Asia/Shanghai wall-clock time unless it carries an offset; empty is now."""
    value = text_of(data, "reported_at")
    if not value:
        return now()
    try:
        when = cells.local_time(value)
    except ValueError:
        when = None
    if when is None:
        errors["reported_at"] = _("报告时间“%(v)s”无法识别，请按 2026-11-16 09:30 的格式填写。", v=value[:40])
        return None
    when = from_local(when) if when.tzinfo is None else when.astimezone(UTC)
    if when > now() + CLOCK_SKEW:
        errors["reported_at"] = _("报告时间不能晚于现在。")
    elif when < now() - OLDEST:
        errors["reported_at"] = _("报告时间早于 30 天前，请核对年月日。")
    return when


def _place(data: Mapping, by: User, errors: dict) -> tuple[Precinct | None, Community | None]:
    """A lead's entry is for their own precinct; the center names one (or none: the routing queue)."""
    code = text_of(data, "precinct_code")
    if by.role == Role.LEAD:
        precinct = by.precinct
        if code and precinct is not None and code != precinct.code:
            errors["precinct_code"] = _("所领导只能录入本所的预警。")
            return None, None
    elif code:
        precinct = db.session.scalar(select(Precinct).filter_by(code=code))
        if precinct is None or not precinct.active:
            errors["precinct_code"] = _("派出所代码 %(code)s 不在目录中（或已停用）。", code=code[:40])
            return None, None
    else:
        precinct = None
    community_name = text_of(data, "community")
    if not community_name:
        return precinct, None
    if precinct is None:
        errors["community"] = _("填写社区时请同时选择派出所。")
        return None, None
    community = db.session.scalar(select(Community).filter_by(precinct_id=precinct.id, name=community_name))
    if community is None:
        errors["community"] = _("社区“%(c)s”不在%(p)s的目录中。", c=community_name[:40], p=precinct.name)
    return precinct, community


def next_number(precinct: Precinct | None, at: dt.datetime | None = None) -> str:
    """SD-<precinct code>-<yyyymmdd>-<nnnn> (the day in Asia/Shanghai): the day's counter row is raised in this
    transaction (an upsert), so concurrent entries wait for each other's commit and never share a number."""
    key = f"{precinct.code if precinct else UNROUTED_CODE}-{local(at or now()):%Y%m%d}"
    table = EntryCounter.__table__
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(key=key, last=1).on_conflict_do_update(
        index_elements=[table.c.key], set_={"last": table.c.last + 1}).returning(table.c.last)
    return f"SD-{key}-{db.session.execute(stmt).scalar_one():04d}"


def enter_warning(entry: EntryInput, by: User) -> Registered:
    """Store a hand entry under its own number and merge it as a pushed row would be (person, attach or raise,
    reopen as 重复预警, new case with its tier's deadlines from reported_at); audited."""
    number = next_number(entry.precinct)
    item = WarningInput(
        warning_no=number, tier=entry.tier, pushed_at=entry.reported_at, name=entry.name,
        id_number=entry.id_number, id_valid=bool(entry.id_number), phone=entry.phone,
        phone_valid=bool(entry.phone), reason=entry.reason, fraud_type=entry.fraud_type,
        fraud_type_text=entry.fraud_type_text, amount_at_risk=entry.amount_at_risk, current_address=entry.address,
        precinct=entry.precinct, community=entry.community,
        precinct_text=entry.precinct.name if entry.precinct else "",
        community_text=entry.community.name if entry.community else "", away_from_home=entry.away_from_home,
        source=entry.source, deadline_start=entry.reported_at, reported_by=entry.reported_by)
    result = register_warning(item, by=by, may_update=None if by.role == Role.CENTER else _only_here(by))
    record("warning_enter", "case", result.case.id, user=by, warning=number, source=entry.source.value,
           tier=entry.tier.value, attached=not result.case_created)
    return result


def _only_here(user: User):
    """may_update for a lead's entry: a person with a case in another precinct keeps their stored name and numbers
    (the entry's warning joins their open case all the same): a precinct's entry must not rename, or give a new
    phone to, someone another precinct is working on."""
    def may_update(person_id: int) -> bool:
        return db.session.scalar(select(Case.id).where(Case.person_id == person_id,
                                                       Case.precinct_id.is_distinct_from(user.precinct_id))
                                 .limit(1)) is None
    return may_update


def in_reach(user: User, case: Case) -> bool:
    """Whether the user's own lists hold this case (what an answer may name)."""
    return case.id in visible_case_ids(user, {case.id})


def open_cases_of(user: User, id_number: str = "", phone: str = "", name: str = "", limit: int = 3) -> list[Case]:
    """The open cases, within this user's reach, of the person an entry names: by a valid ID number, or by the
    phone (and the name, when one is typed). Shown before saving, masked; a look that finds one is audited."""
    id_number, phone = normalize_id(id_number or ""), normalize_phone(phone or "")
    conditions = []
    if id_number and id_problem(id_number) is None:
        conditions.append(Person.id_index == blind_index("id", id_number))
    if phone and phone_valid(phone):
        by_phone = Person.phone_index == blind_index("phone", phone)
        conditions.append(and_(by_phone, Person.name == name) if name else by_phone)
    if not conditions:
        return []
    stmt = scope_cases(user).join(Case.person).where(or_(*conditions), Case.status.in_(CaseStatus.open_values()))
    found = list(db.session.scalars(stmt.order_by(Case.id.desc()).limit(limit)))
    for case in found:
        record("entry_lookup", "case", case.id, user=user, person=case.person_id,
               by="id" if id_number and case.person.id_number == id_number else "phone")
    return found
