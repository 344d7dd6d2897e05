"""Putting people on the watch list, recording meetings with them, ending an entry, and raising the alarm.
Operations check the rules, flush and audit; the caller commits."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from ..auth.models import User
from ..cases.models import Case, Person
from ..core.auditlog import record
from ..core.enums import MeetingFlag, MeetingMethod, MetBy, Role, WatchStatus
from ..core.exports import write_xlsx
from ..core.i18n import say
from ..core.timeutil import LAST_YEAR, from_local, local, now
from ..directory.models import Community, Precinct
from ..extensions import db
from ..notifications.operations import lead_ids, notify_once
from ..privacy.freetext import has_numbers, mask_numbers
from ..privacy.pii import blind_index, id_problem, normalize_id, normalize_phone, person_match_key, phone_valid
from .models import DEFAULT_INTERVAL_DAYS, WatchEntry, WatchKind, WatchMeeting

#: The kinds the product comes with (code, name); an admin adds others.
DEFAULT_KINDS = (("repeat", "重复预警关注"), ("returnee", "涉诈回流人员"))
MAX_INTERVAL_DAYS = 90


class WatchError(ValueError):
    """What to fix, by field ("" for the whole form)."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def due_after(day: dt.date, days: int) -> dt.datetime:
    """The end of the last day of an interval of `days` days that starts on `day` (Asia/Shanghai), as UTC: an
    entry started on a Monday with a week's interval is due by Sunday midnight."""
    return from_local(dt.datetime.combine(day + dt.timedelta(days=days), dt.time()))


def ensure_default_kinds() -> None:
    """The product's two kinds, once (the migration writes them too; tests and the demo build tables directly)."""
    have = set(db.session.scalars(select(WatchKind.code).where(WatchKind.code.is_not(None))))
    for code, name in DEFAULT_KINDS:
        if code not in have:
            db.session.add(WatchKind(code=code, name=name))
    db.session.flush()


def kind_by_code(code: str) -> WatchKind:
    ensure_default_kinds()
    return db.session.scalar(select(WatchKind).where(WatchKind.code == code))


def add_kind(name: str, by: User) -> WatchKind:
    name = (name or "").strip()
    if not name or len(name) > 50:
        raise WatchError({"name": _("请填写关注类别名称（50 字以内）。")})
    if db.session.scalar(select(WatchKind.id).where(WatchKind.name == name)):
        raise WatchError({"name": _("已有同名的关注类别。")})
    kind = WatchKind(name=name)
    db.session.add(kind)
    db.session.flush()
    record("watch_kind_add", "watch_kind", kind.id, user=by, name=name)
    return kind


def may_manage(user: User, precinct_id: int | None) -> bool:
    """Leads (their precinct) and center staff (any) put people on the list and end entries."""
    return user.role == Role.CENTER or (user.role == Role.LEAD and precinct_id is not None
                                        and user.precinct_id == precinct_id)


def find_or_create_person(name: str, id_number: str = "", phone: str = "", by: User | None = None) -> Person:
    """The person these numbers name, matched as warnings match them (pii.person_match_key); created if new.

    A lead may take a known person only when that person is already within their precinct's reach (a case or a
    watch entry there): the entry would show a stranger's stored name and let the lead reveal numbers they never
    typed. Such a person is put on the list by the center; the refusal names nobody."""
    name = (name or "").strip()
    number, mobile = normalize_id(id_number or ""), normalize_phone(phone or "")
    errors = {}
    if not name:
        errors["name"] = _("请填写姓名。")
    if number and id_problem(number) is not None:
        errors["id_number"] = _("身份证号码有误，请核对 18 位号码（末位可为 X）。")
    if mobile and not phone_valid(mobile):
        errors["phone"] = _("手机号码有误，请填写 11 位手机号。")
    if not number and not mobile and not errors:
        errors["id_number"] = _("请至少填写身份证号码或手机号码之一，以便与预警人员对应。")
    if errors:
        raise WatchError(errors)
    id_index = blind_index("id", number) if number else None
    key = person_match_key(number, bool(number), name, mobile, "", id_index or "")
    person = db.session.scalar(select(Person).where(Person.match_key == key))
    if person is not None and by is not None and by.role != Role.CENTER and not _within_reach(person, by):
        raise WatchError({"id_number": _("这个号码对应的人员不在本所的预警任务或关注名单中，本所不能直接为其建立关注。"
                                         "如确需关注，请联系中心民警建立。")})
    if person is None:
        person = Person(match_key=key, name=name, id_number=number or None, id_valid=bool(number), id_index=id_index,
                        phone=mobile or None, phone_valid=bool(mobile),
                        phone_index=blind_index("phone", mobile) if mobile else None)
        db.session.add(person)
        db.session.flush()
    return person


def _within_reach(person: Person, user: User) -> bool:
    """The person has a case, or a watch entry, in the user's precinct."""
    if user.precinct_id is None:
        return False
    return bool(db.session.scalar(select(Case.id).where(Case.person_id == person.id,
                                                        Case.precinct_id == user.precinct_id).limit(1))
                or db.session.scalar(select(WatchEntry.id).where(WatchEntry.person_id == person.id,
                                                                 WatchEntry.precinct_id == user.precinct_id).limit(1)))


@dataclass
class EntryInput:
    """What a new entry needs; ids are checked here, whoever sent them (page, API)."""

    kind_id: int | None
    precinct_id: int | None
    officer_id: int | None
    community_id: int | None = None
    cadre_name: str = ""
    cadre_phone: str = ""
    interval_days: int | None = DEFAULT_INTERVAL_DAYS
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    note: str = ""


def entry_problems(data: EntryInput, by: User) -> dict[str, str]:
    """What is wrong with a new entry's fields, each beside its field (the person aside): a form says them all at
    once, with the person's."""
    return _checked(data, by)[0]


def _checked(data: EntryInput, by: User) -> tuple[dict[str, str], tuple]:
    errors: dict[str, str] = {}
    precinct = db.session.get(Precinct, data.precinct_id) if data.precinct_id else None
    if precinct is None:
        errors["precinct"] = _("请选择派出所。")
    elif not may_manage(by, precinct.id):
        errors["precinct"] = _("只能为本所人员建立关注。")
    kind = db.session.get(WatchKind, data.kind_id) if data.kind_id else None
    if kind is None or not kind.active:
        errors["kind"] = _("请选择关注类别。")
    officer = db.session.get(User, data.officer_id) if data.officer_id else None
    if officer is None or not officer.active or officer.role not in (Role.OFFICER, Role.LEAD) or (
            precinct is not None and officer.precinct_id != precinct.id):
        errors["officer"] = _("请选择本所的一名责任民警。")
    community = db.session.get(Community, data.community_id) if data.community_id else None
    if data.community_id and (community is None or precinct is None or community.precinct_id != precinct.id):
        errors["community"] = _("所选社区（村）不属于该派出所。")
    interval = data.interval_days
    if interval is None or not 1 <= interval <= MAX_INTERVAL_DAYS:
        errors["interval_days"] = _("见面间隔须为 1 到 %(n)d 天。", n=MAX_INTERVAL_DAYS)
    today = local(now()).date()
    starts = data.starts_on or today
    if not today - dt.timedelta(days=366) <= starts <= today + dt.timedelta(days=31):
        errors["starts_on"] = _("开始日期须在一年前到一个月后之间，请核对年月日。")
    if data.ends_on is not None and data.ends_on < starts:
        errors["ends_on"] = _("结束日期不能早于开始日期。")
    elif data.ends_on is not None and data.ends_on.year > LAST_YEAR:
        errors["ends_on"] = _("结束日期的年份不对，请核对。")
    cadre_phone = normalize_phone(data.cadre_phone or "")
    if data.cadre_phone and not (cadre_phone.isdigit() and 7 <= len(cadre_phone) <= 12):
        errors["cadre_phone"] = _("干部电话有误，请填写手机或座机号码。")
    if len(data.cadre_name or "") > 64:
        errors["cadre_name"] = _("干部姓名太长（64 字以内）。")
    return errors, (precinct, kind, officer, community, interval, starts, cadre_phone)


def create_entry(person: Person, data: EntryInput, by: User, case: Case | None = None) -> WatchEntry:
    """Put a person on the watch list with their two responsible people; the first meeting is due by the end of
    the first interval. A person already watched for the same kind is not put on twice."""
    errors, (precinct, kind, officer, community, interval, starts, cadre_phone) = _checked(data, by)
    if not errors and kind is not None and db.session.scalar(select(WatchEntry.id).where(
            WatchEntry.person_id == person.id, WatchEntry.kind_id == kind.id,
            WatchEntry.status == WatchStatus.ACTIVE)):
        errors[""] = _("此人已在“%(kind)s”关注名单中。", kind=kind.name)
    if errors:
        raise WatchError(errors)
    entry = WatchEntry(person=person, kind=kind, precinct_id=precinct.id,
                       community_id=community.id if community else None, officer_id=officer.id,
                       cadre_name=(data.cadre_name or "").strip(), cadre_phone=cadre_phone, interval_days=interval,
                       starts_on=starts, ends_on=data.ends_on, status=WatchStatus.ACTIVE,
                       next_due_at=due_after(starts, interval), case_id=case.id if case else None,
                       note=(data.note or "").strip(), created_by_id=by.id)
    db.session.add(entry)
    db.session.flush()
    record("watch_create", "watch_entry", entry.id, user=by, person=person.id, kind=kind.name,
           case=case.id if case else None, officer=officer.id)
    return entry


def update_entry(entry: WatchEntry, data: EntryInput, by: User) -> None:
    """Change an entry's responsible people, community, interval or end (the case page's one action leaves the
    cadre to be filled in here); a new interval moves the next meeting to an interval after the last one."""
    if not entry.is_active:
        raise WatchError({"": _("该关注已经结束。")})
    if not may_manage(by, entry.precinct_id):
        raise WatchError({"": _("只有本所领导或中心可以修改关注。")})
    errors: dict[str, str] = {}
    officer = db.session.get(User, data.officer_id) if data.officer_id else None
    if officer is None or not officer.active or officer.role not in (Role.OFFICER, Role.LEAD) or \
            officer.precinct_id != entry.precinct_id:
        errors["officer"] = _("请选择本所的一名责任民警。")
    community = db.session.get(Community, data.community_id) if data.community_id else None
    if data.community_id and (community is None or community.precinct_id != entry.precinct_id):
        errors["community"] = _("所选社区（村）不属于该派出所。")
    interval = data.interval_days
    if interval is None or not 1 <= interval <= MAX_INTERVAL_DAYS:
        errors["interval_days"] = _("见面间隔须为 1 到 %(n)d 天。", n=MAX_INTERVAL_DAYS)
    if data.ends_on is not None and data.ends_on < entry.starts_on:
        errors["ends_on"] = _("结束日期不能早于开始日期。")
    elif data.ends_on is not None and data.ends_on.year > LAST_YEAR:
        errors["ends_on"] = _("结束日期的年份不对，请核对。")
    cadre_phone = normalize_phone(data.cadre_phone or "")
    if data.cadre_phone and not (cadre_phone.isdigit() and 7 <= len(cadre_phone) <= 12):
        errors["cadre_phone"] = _("干部电话有误，请填写手机或座机号码。")
    if len(data.cadre_name or "") > 64:
        errors["cadre_name"] = _("干部姓名太长（64 字以内）。")
    if errors:
        raise WatchError(errors)
    before = {"officer": entry.officer_id, "cadre": entry.cadre_name, "interval": entry.interval_days,
              "community": entry.community_id, "ends_on": entry.ends_on.isoformat() if entry.ends_on else None}
    if interval != entry.interval_days:
        last = entry.last_meeting
        entry.next_due_at = due_after(local(last.met_at).date() if last else entry.starts_on, interval)
    entry.officer_id, entry.interval_days, entry.ends_on = officer.id, interval, data.ends_on
    entry.community_id = community.id if community else None
    entry.cadre_name, entry.cadre_phone = (data.cadre_name or "").strip(), cadre_phone
    db.session.flush()
    record("watch_update", "watch_entry", entry.id, user=by, before=before,
           after={"officer": entry.officer_id, "cadre": entry.cadre_name, "interval": entry.interval_days,
                  "community": entry.community_id, "ends_on": entry.ends_on.isoformat() if entry.ends_on else None})


def watch_from_case(case: Case, by: User, officer_id: int | None = None, kind_code: str = "repeat") -> WatchEntry:
    """The case page's one action: the case's person on the list as 重复预警关注, in the case's precinct and
    community, met weekly by the officer holding the case (or the one chosen, or the community's officer)."""
    if case.precinct_id is None:
        raise WatchError({"": _("任务尚未分派到派出所，不能列入关注。")})
    community = case.community
    officer_id = officer_id or case.assignee_id or (community.officer_id if community else None)
    return create_entry(case.person, EntryInput(kind_id=kind_by_code(kind_code).id, precinct_id=case.precinct_id,
                                                officer_id=officer_id, community_id=case.community_id), by, case=case)


def _parse_flags(flags) -> list[str] | None:
    """The flags in their fixed order; None when one is not a flag."""
    chosen = set(flags or ())
    if not chosen <= set(MeetingFlag._value2member_map_):
        return None
    return [f.value for f in MeetingFlag if f.value in chosen]


def record_meeting(entry: WatchEntry, by: User, met_at: dt.datetime | None, met_by: str, method: str,
                   place: str = "", observed: str = "", flags=()) -> WatchMeeting:
    """A meeting held: it answers the meeting due now (on time when held by then), and the next one falls due an
    interval after it; 失联 or 疑似再次出境 tells the precinct's leads and the center at once."""
    errors: dict[str, str] = {}
    at = now()
    if not entry.is_active:
        errors[""] = _("该关注已结束，不能再登记见面。")
    if met_at is None:
        errors["met_at"] = _("请填写见面时间。")
    elif met_at > at + dt.timedelta(minutes=5):
        errors["met_at"] = _("见面时间不能晚于现在。")
    elif local(met_at).date() < entry.starts_on:
        errors["met_at"] = _("见面时间不能早于关注开始日期。")
    if met_by not in MetBy._value2member_map_:
        errors["met_by"] = _("请选择由谁见面。")
    if method not in MeetingMethod._value2member_map_:
        errors["method"] = _("请选择见面方式（面见、电话、视频或上门未见）。")
    if len(place or "") > 200:
        errors["place"] = _("地点太长（200 字以内）。")
    if not (observed or "").strip():  # a meeting with nothing said of it would count as held all the same
        errors["observed"] = _("请填写见面情况（如：本人在家，情绪稳定，已再次提醒）。")
    chosen = _parse_flags(list(flags or ()))
    if chosen is None:
        errors["flags"] = _("情况标记只能是：换号、失联、疑似再次出境、再次涉诈。")
    if MeetingFlag.LOST.value in (chosen or ()) and method == MeetingMethod.VISIT.value:
        errors["flags"] = _("面见了本人就不是失联：上门没见到人请选“上门未见”，或去掉“失联”。")
    if errors:
        raise WatchError(errors)
    meeting = WatchMeeting(entry=entry, met_at=met_at, met_by=MetBy(met_by), method=MeetingMethod(method),
                           place=(place or "").strip(), observed=(observed or "").strip(), flags=chosen,
                           due_at=entry.next_due_at, recorded_by_id=by.id,
                           alarm=any(MeetingFlag(f).alarms for f in chosen))
    db.session.add(meeting)
    if meeting.held:
        # an interval after this meeting; a meeting recorded late, older than one already recorded, moves nothing
        # back
        entry.next_due_at = max(d for d in (due_after(local(met_at).date(), entry.interval_days), entry.next_due_at)
                                if d)
        if entry.ends_on is not None and entry.next_due_at > due_after(entry.ends_on, 1):
            entry.next_due_at = None  # nothing falls due after the last day of the watch
    # else 上门未见: recorded (and 失联 raises its alarm), but the meeting is still owed: the entry stays due
    db.session.flush()
    record("watch_meeting", "watch_entry", entry.id, user=by, meeting=meeting.id, method=method, flags=chosen)
    if meeting.alarm:
        alert(meeting)
    return meeting


def center_ids() -> list[int]:
    return list(db.session.scalars(select(User.id).where(User.role == Role.CENTER, User.active.is_(True))))


def alert(meeting: WatchMeeting) -> int:
    """Tell the entry's precinct's leads and every center user of an alarm flag, once each; returns how many."""
    entry = meeting.entry
    flags = "、".join(MeetingFlag(f).label for f in meeting.flags if MeetingFlag(f).alarms)
    message = say("重点关注人员 %(name)s 见面时发现：%(flags)s（%(precinct)s）", name=entry.person.name,
                  flags=flags, precinct=entry.precinct.name)
    sent = 0
    for user_id in {*lead_ids(entry.precinct_id), *center_ids()}:
        sent += notify_once(user_id, "watch_alarm", message, entry.case_id, f"watch-alarm:{meeting.id}:{user_id}",
                            watch_entry_id=entry.id)
    meeting.alerted_at = now()
    return sent


def end_entry(entry: WatchEntry, by: User, reason: str = "") -> None:
    if not entry.is_active:
        raise WatchError({"": _("该关注已经结束。")})
    if not (reason or "").strip():
        raise WatchError({"reason": _("请填写结束关注的原因。")})
    entry.status = WatchStatus.ENDED
    entry.ended_at = now()
    entry.next_due_at = None
    db.session.flush()
    record("watch_end", "watch_entry", entry.id, user=by, reason=mask_numbers(reason.strip()))


def reveal_number(entry: WatchEntry, field: str, by: User) -> str:
    """The watched person's full ID or phone number, or ("notes") the numbers typed into the entry's note and its
    meetings; the look is audited like a case's."""
    if field == "notes":
        record("reveal_notes", "watch_entry", entry.id, user=by, person=entry.person_id)
        return ""
    value = entry.person.id_number if field == "id" else entry.person.phone
    record("reveal_id" if field == "id" else "reveal_phone", "watch_entry", entry.id, user=by,
           person=entry.person_id)
    return value or ""


def notes_hidden(entry: WatchEntry) -> bool:
    """Whether the entry's note or a meeting's notes hold a number (shown masked until revealed)."""
    return any(has_numbers(text) for text in (entry.note, *(m.observed for m in entry.meetings)) if text)


#: The 台账's columns: one row per person on the list.
REGISTER_HEADER = ("序号", "派出所", "社区（村）", "姓名", "身份证号", "手机号", "关注类别", "责任民警", "责任干部",
                   "干部电话", "见面间隔（天）", "开始日期", "结束日期", "状态", "最近见面", "最近见面方式",
                   "最近情况", "下次应见面", "是否逾期")


def register_row(n: int, entry: WatchEntry, at: dt.datetime) -> list:
    """One row of the 台账 (numbers masked: a register is printed and passed around)."""
    last = entry.last_meeting
    flags = "、".join(f.label for f in last.flag_members) if last else ""
    return [n, entry.precinct.name, entry.community.name if entry.community else "", entry.person.name,
            entry.person.id_number_masked, entry.person.phone_masked, entry.kind.name, entry.officer.label,
            entry.cadre_name, entry.cadre_phone, entry.interval_days, entry.starts_on.isoformat(),
            entry.ends_on.isoformat() if entry.ends_on else "", entry.status.label,
            local(last.met_at).replace(tzinfo=None) if last else None, last.method.label if last else "",
            "；".join(x for x in (flags, mask_numbers(last.observed) if last else "") if x),
            local(entry.next_due_at).replace(tzinfo=None) if entry.next_due_at else None,
            "是" if entry.is_overdue(at) else "否"]


def export_register(entries: list[WatchEntry], by: User, **filters) -> bytes:
    """The 台账 as .xlsx, one row per entry in the order given; audited."""
    at = now()
    record("export", "watch_register", "", user=by, rows=len(entries), **filters)
    db.session.flush()
    return write_xlsx([("重点人员台账", REGISTER_HEADER, [register_row(n, e, at) for n, e in enumerate(entries, 1)])])
