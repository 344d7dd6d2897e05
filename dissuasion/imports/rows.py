"""Row verdicts (SPEC "Row verdicts"): rejected, flagged, unrouted, duplicate, or fine.

`check_row` only looks at the row itself; duplicates and routing need the database and the rest
of the file, so the pipeline decides those.
"""
import datetime as dt
import re
from dataclasses import dataclass, field, fields
from operator import attrgetter, itemgetter

from flask_babel import gettext

from ..cases.operations import WarningInput
from ..core import cells
from ..core.enums import DataFlag, FraudType, Tier, WarningSource
from ..core.i18n import N_
from ..privacy.freetext import has_numbers
from ..privacy.pii import (
    as_typed,
    id_problem,
    mask_id,
    mask_phone,
    normalize_id,
    normalize_phone,
    phone_valid,
)
from .headers import FALLBACK, FIRST_READABLE, LABELS, amounts_in_wan

REJECTED, FLAGGED, UNROUTED, DUPLICATE, OK = "rejected", "flagged", "unrouted", "duplicate", "ok"

#: Every row problem's sentence (Chinese source; `N_` marks it for the English catalog): `sentence` writes it in
#: Chinese for storing and exporting, `said` in the reader's language from the problem's `spec`.
MESSAGES = {
    "no_warning_id": N_("预警编号为空：每条预警需要中心下发的编号，请补上后重新导入。"),
    "warning_id_lost_digits": N_("预警编号“{value}”在 Excel 中被存成了数字，超过 15 位的部分已丢失，不同的预警会变成"
                                 "同一个编号：本行未导入。请把该列设为文本格式，从中心的原始名单重新导出后再导入。"),
    "no_identity": cells.PROBLEMS["no_identity"],
    "no_contact": cells.PROBLEMS["no_contact"],
    "tier": cells.PROBLEMS["tier"],
    "tier_value": cells.PROBLEMS["tier_value"],
    "duplicate": N_("预警编号 {value} 已经导入过，本行跳过。"),
    "duplicate_in_file": N_("预警编号 {value} 在本文件第 {first} 行已出现，本行跳过。"),
    "duplicate_other": N_("预警编号 {value} 已经导入过，但那一条是另一个人（{other}）：本行跳过。请核对这一列是不是"
                          "中心下发的预警编号（而不是序号）；若是中心的编号重复，请联系中心更正。"),
    "duplicate_in_file_other": N_("预警编号 {value} 在本文件第 {first} 行已用于另一个人（{other}）：本行跳过。请核对"
                                  "这一列是不是中心下发的预警编号（而不是序号）。"),
    DataFlag.ID_LENGTH: N_("身份证号“{value}”位数不对（应为 18 位），已导入，请核实。"),
    DataFlag.ID_CHECKSUM: N_("身份证号“{value}”校验位不对，可能抄错（若末尾是 000，多半是 Excel 把它存成了数字），"
                             "已导入，请核实。"),
    DataFlag.ID_FORMAT: N_("身份证号“{value}”含有非法字符，已导入，请核实。"),
    DataFlag.ID_BIRTH_DATE: N_("身份证号“{value}”中的出生日期无效，已导入，请核实。"),
    DataFlag.ID_LOST_DIGITS: N_("身份证号在 Excel 中被存成了数字，末尾几位已丢失（现为“{value}”），已导入但无法用于"
                                "匹配；请把该列设为文本格式后重新填写。"),
    DataFlag.PHONE: N_("手机号“{value}”格式不对，已导入，请核实。"),
    "precinct": N_("派出所“{value}”不在派出所目录中，已放入中心待分派队列。"),
    "id_old": N_("身份证号“{value}”是 15 位的一代身份证号，已导入，请核实并尽量换成 18 位的号码。"),
    # the same problems on a row rejected for another reason: nothing of it was imported
    "id_length_rejected": N_("身份证号“{value}”位数不对（应为 18 位），请一并改正。"),
    "id_checksum_rejected": N_("身份证号“{value}”校验位不对，可能抄错（若末尾是 000，多半是 Excel 把它存成了数字），"
                               "请一并核实。"),
    "id_format_rejected": N_("身份证号“{value}”含有非法字符，请一并改正。"),
    "id_birth_date_rejected": N_("身份证号“{value}”中的出生日期无效，请一并核实。"),
    "id_lost_digits_rejected": N_("身份证号在 Excel 中被存成了数字，末尾几位已丢失（现为“{value}”）：请把该列设为文本"
                                  "格式后重新填写。"),
    "phone_rejected": N_("手机号“{value}”格式不对，请一并核实。"),
    "pushed_at_rejected": N_("推送时间“{value}”无法识别，请一并改正。"),
    "away_rejected": N_("是否外出务工“{value}”无法识别（应为 是/否），请一并改正。"),
    "cut_rejected": N_("这一格超过 {value} 个字，重新导入时只会保存前 {value} 个字。"),
    "cut": N_("这一格超过 {value} 个字，只保存了前 {value} 个字；完整内容请查看原文件。"),
    "same_id_other_name": N_("身份证号与第 {first} 行相同，但姓名不同（第 {first} 行是“{other}”）："
                             "已按身份证号视为同一人，请核实身份证号或姓名是否填错。"),
    "precinct_joined": N_("派出所“{value}”不在派出所目录中；此人的另一条预警写明了{joined}，这条预警已并入该所的任务，"
                          "无需中心分派。如派出所写错，请核实。"),
    "precinct_blank": N_("未填所属派出所和社区，已放入中心待分派队列，由中心民警分派。"),
    "precinct_blank_joined": N_("未填所属派出所和社区；此人的另一条预警写明了{joined}，这条预警已并入该所的任务。"),
    "community_only_joined": N_("未填派出所，社区“{value}”不在派出所目录中；此人的另一条预警写明了{joined}，"
                                "这条预警已并入该所的任务，无需中心分派。"),
    "precinct_other_county": N_("派出所“{value}”不在派出所目录中：目录里的“{other}”是本县的，这里的县名不同。已放入中心"
                                "待分派队列，请中心核实后分派或退回。"),
    "precinct_other_county_joined": N_("派出所“{value}”不在派出所目录中（目录里的“{other}”是本县的，这里的县名不同）；"
                                       "此人的另一条预警写明了{joined}，这条预警已并入该所的任务。如派出所写错，请核实。"),
    "precinct_county": N_("派出所写作“{value}”，已按目录中的“{other}”分派。系统未设置本县名称，无法核对县名：如果这不是"
                          "本县的派出所，请该所申请退回。"),
    "case_elsewhere": N_("所属派出所写的是“{value}”，但此人的任务在{other}（一人只有一个在办任务），这条预警已并入该"
                         "任务。如此人确由“{value}”负责，请中心在任务页移交。"),
    "renamed": N_("身份证号与已登记的“{other}”相同，但姓名写的是“{value}”：已按身份证号视为同一人，姓名改为"
                  "“{value}”。请核实身份证号或姓名是否填错。"),
    "community_only": N_("未填派出所，社区“{value}”不在派出所目录中（或几个派出所都有同名社区），已放入中心待分派"
                         "队列。"),
    "community": N_("社区“{value}”不在该派出所的目录中，已分到派出所待分配。"),
    "shifted": N_("本行比表头多出 {value} 格内容，各列已错位（常见原因：某格里有英文逗号却没有加引号）。本行未导入："
                  "请把那一格的逗号改成中文逗号或给该格加上引号，然后重新导入。"),
    "warning_id_long": N_("预警编号“{value}”超过 64 个字符，不像中心的预警编号：本行未导入，请核对后重新导入。"),
    "pushed_at": N_("推送时间“{value}”无法识别，已按导入时间记录。"),
    "amount": N_("金额“{value}”不是有效金额（应为不小于 0 的数字），已忽略。"),
    "away": N_("是否外出务工“{value}”无法识别（应为 是/否），已按“否”处理。"),
}


@dataclass(slots=True)
class Problem:
    field: str
    code: str
    value: str = ""
    verdict: str = REJECTED
    #: For a duplicate within the file: the row where the number first appeared.
    first_row: int = 0
    #: For a duplicate: the name of the person the number already belongs to, when it is someone else.
    other: str = ""
    #: For an unrouted row: the precinct its person's case went to all the same (another of their warnings named it).
    joined: str = ""


@dataclass(slots=True, kw_only=True)
class RowResult(WarningInput):
    """One data row, normalised (the fields of the warning it becomes), with what is wrong with it.

    `pushed_at` is Asia/Shanghai wall time until the pipeline writes the row (then UTC); `precinct` and
    `community` are set by routing (None: unrouted)."""

    warning_no: str = ""
    tier: Tier | None = None
    pushed_at: dt.datetime | None = None
    raw: list = field(default_factory=list)
    verdict: str = OK
    problems: list[Problem] = field(default_factory=list)

    def note(self, field_: str, code: str, value: str = "", verdict: str = "note") -> None:
        self.problems.append(Problem(field_, code, value, verdict))


#: RowResult's fields, in the order `pack` lists them.
_PACKED = tuple(f.name for f in fields(RowResult))
_values_of = attrgetter(*_PACKED)
#: Enums travel as their values (pickling an enum member costs as much as judging half a row), the raw cells not at
#: all (the receiver has the same rows).
_ENUMS = {_PACKED.index(name): enum for name, enum in (("tier", Tier), ("fraud_type", FraudType),
                                                         ("source", WarningSource))}
_RAW = _PACKED.index("raw")
#: Fields whose values repeat from row to row (RowChecker reads each text once per file and shares the result):
#: sent once each, with an index per row, so that the receiver shares them too.
_SHARED = tuple(_PACKED.index(name) for name in (
    "name", "sex", "reason", "fraud_type_text", "registered_address", "current_address", "precinct_text",
    "community_text", "notes", "pushed_at", "verdict"))


def pack(results: list[RowResult]) -> list:
    """Judged rows as columns of plain values, to send from one process to another (see `unpack`)."""
    if not results:
        return []
    columns: list = list(zip(*map(_values_of, results), strict=True))
    for index in _ENUMS:
        columns[index] = [None if v is None else v.value for v in columns[index]]
    columns[_RAW] = None
    for index in _SHARED:
        distinct: dict = {}
        numbers = [distinct.setdefault(v, len(distinct)) for v in columns[index]]
        columns[index] = (list(distinct), numbers)
    return columns


def unpack(columns: list, raws: list[list], shared: dict | None = None) -> list[RowResult]:
    """The RowResults `pack` was given, each with its raw cells (the rows as read) given back. `shared`: the values
    of earlier pieces, so that a value repeated across pieces is one object (a push holds less)."""
    if not columns:
        return []
    shared = {} if shared is None else shared
    columns = list(columns)
    for index, enum in _ENUMS.items():
        members = {m.value: m for m in enum}
        columns[index] = [None if v is None else members[v] for v in columns[index]]
    for index in _SHARED:
        distinct, numbers = columns[index]
        known = shared.setdefault(index, {})
        distinct = [known.setdefault(v, v) for v in distinct]
        columns[index] = [distinct[n] for n in numbers]
    columns[_RAW] = raws
    results = []
    new = RowResult.__new__
    for values in zip(*columns, strict=True):
        r = new(RowResult)
        for name, value in zip(_PACKED, values):  # noqa: B905 - the same length by construction
            setattr(r, name, value)
        results.append(r)
    return results


#: The fields check_row reads, in the order RowChecker hands them over.
FIELDS = ("warning_id", "name", "sex", "id_number", "phone", "tier", "pushed_at", "reason", "fraud_type",
          "amount_at_risk", "registered_address", "current_address", "precinct", "community", "away_from_home",
          "notes")


class RowChecker:
    """check_row for one file's column mapping: the cells of a row are picked in one step."""

    def __init__(self, columns: dict[str, int], also: dict[str, list[int]] | None = None,
                 headers: list[str] | None = None):
        also = also or {}
        self.width = max([*columns.values(), *(i for more in also.values() for i in more)], default=-1) + 1
        # a field the file lacks reads the None appended after the row's last mapped column
        self.pick = itemgetter(*(columns.get(name, self.width) for name in FIELDS))
        self.today = dt.date.today()
        #: field -> [(header, column)] of each column a JOINED or FALLBACK field is read from, when more than one
        parts = {name: [(headers[i] if headers and i < len(headers) else "", i) for i in [columns[name], *more]]
                 for name, more in also.items()}
        self.joined = {name: p for name, p in parts.items() if name not in FALLBACK and name not in FIRST_READABLE}
        self.fallback = {name: p for name, p in parts.items() if name in FALLBACK}
        self.first_readable = {name: [i for _header, i in p] for name, p in parts.items() if name in FIRST_READABLE}
        amount_column = columns.get("amount_at_risk")
        self.amount_in_wan = bool(headers and amount_column is not None and amount_column < len(headers)
                                  and amounts_in_wan(headers[amount_column]))
        #: What each text cell of a column was read as, for this file: a push repeats its times, places, tiers,
        #: reasons and addresses on many rows, and reading one again costs more than looking it up.
        self.memo: dict[str, _Memo] = {name: _Memo(read) for name, read in (
            ("name", _name), ("sex", cells.sex), ("tier", cells.tier), ("pushed_at", _time), ("reason", _reason),
            ("fraud_type", cells.fraud_type), ("amount", self._amount), ("address", _address), ("place", _place),
            ("away", cells.away), ("notes", _notes))}

    def _amount(self, cell):
        """The amount a cell says (yuan), or _UNREADABLE."""
        try:
            value = cells.amount(cell)
        except ValueError:
            return _UNREADABLE
        if self.amount_in_wan and value is not None and not cells.says_unit(cell):
            value = (value * 10000).quantize(value)
        return value

    def __call__(self, row: list, row_number: int) -> RowResult:
        """Normalise a data row and judge what the row alone can tell: rejected or flagged."""
        cells_ = row[:self.width]
        cells_.extend([None] * (self.width + 1 - len(cells_)))
        (warning_id, name, sex, id_number, phone, tier, pushed_at, reason, fraud_type, amount, registered, current,
         precinct, community, away, notes) = self.pick(cells_)
        text = cells.text
        if self.first_readable:
            name, tier, pushed_at = _first_readable(cells_, self.first_readable, name, tier, pushed_at)
        r = RowResult(row_number=row_number, raw=row)
        r.warning_no = as_typed(text(warning_id).replace(" ", ""))
        if len(r.warning_no) > 64:
            r.note("warning_id", "warning_id_long", r.warning_no[:64] + "…", verdict=REJECTED)
        elif _lost_digits(warning_id, r.warning_no):
            r.note("warning_id", "warning_id_lost_digits", r.warning_no, verdict=REJECTED)
        memo = self.memo
        r.name = memo["name"][name]
        r.sex = memo["sex"][sex]
        others = []
        if self.fallback:
            id_number, phone, others = _fallback(cells_, self.fallback, id_number, phone)
        if said := _read_numbers(r, id_number, phone, self.today):
            others = [*said, *others]
        r.tier = memo["tier"][tier]
        when = memo["pushed_at"][pushed_at]
        if when is _UNREADABLE:
            r.note("pushed_at", "pushed_at", text(pushed_at))
        else:
            r.pushed_at = when
        r.reason = memo["reason"][reason]
        r.fraud_type, r.fraud_type_text = memo["fraud_type"][fraud_type]
        value = memo["amount"][amount]
        if value is _UNREADABLE:
            r.note("amount_at_risk", "amount", text(amount))
        else:
            r.amount_at_risk = value
        address, place = memo["address"], memo["place"]
        r.registered_address = address[registered]
        r.current_address = address[current]
        r.precinct_text = place[precinct]
        r.community_text = place[community]
        away_value = memo["away"][away]
        if away_value is None:
            r.note("away_from_home", "away", text(away))
        r.away_from_home = bool(away_value)
        r.notes = memo["notes"][notes]
        for name, parts in self.joined.items():
            setattr(r, name, _join(cells_, parts)[:NOTES_CHARS if name == "notes" else TEXT_CHARS])
        if others:
            r.notes = "；".join([r.notes, *others] if r.notes else others)[:NOTES_CHARS]
        for field_, limit in _KEPT:  # a cell longer than its field keeps its start: said, not done quietly
            if len(getattr(r, field_)) >= limit:
                r.note(field_, "cut", str(limit))
        _judge(r, tier)
        return r


#: How much of a cell each text field keeps (_name, _reason, _address, _notes): a longer cell is cut there, with a note.
NAME_CHARS, TEXT_CHARS, NOTES_CHARS = 64, 500, 1000
_KEPT = (("name", NAME_CHARS), ("reason", TEXT_CHARS), ("registered_address", TEXT_CHARS),
         ("current_address", TEXT_CHARS), ("notes", NOTES_CHARS))

#: A cell that does not read as what its column holds (a time, an amount): noted as such.
_UNREADABLE = object()


class _Memo(dict):
    """read(cell), remembered for text cells (those of a CSV, most of a workbook's): the same text reads the same.
    Other cells (numbers, dates) are read each time: 1 and 1.0 and True are one key to a dict. A text seen before
    costs one look-up in C (memo[cell]), which matters at 13 cells a row."""

    __slots__ = ("read",)

    def __init__(self, read):
        super().__init__()
        self.read = read

    def __missing__(self, cell):
        value = self.read(cell)
        if cell.__class__ is str:
            self[cell] = value
        return value


def _name(cell) -> str:
    return cells.real(cells.name(cell), cells.NAME_PLACEHOLDERS)[:NAME_CHARS]


def _time(cell):
    try:
        return cells.local_time(cell)
    except ValueError:
        return _UNREADABLE


def _reason(cell) -> str:
    return cells.text(cell)[:TEXT_CHARS]


def _address(cell) -> str:
    return cells.real(cells.text(cell))[:TEXT_CHARS]


def _place(cell) -> str:
    return cells.real(cells.text(cell))[:100]


def _notes(cell) -> str:
    return cells.text(cell)[:NOTES_CHARS]


def _fallback(row: list, fallback: dict, id_cell, phone_cell) -> tuple:
    """(ID cell, phone cell, other numbers): each number from the first of its columns that holds a valid one
    (手机号码 停机 and 联系电话 13900139000: the 联系电话), else from the first that holds any number. A further
    column's different number is said in the notes, after its header: a whole ID or mobile number as it is (the
    notes are then stored encrypted and shown masked, privacy/freetext.py), anything else masked. Words in a
    number's column (停机) are said in the notes as they are."""
    chosen, others = {"id_number": id_cell, "phone": phone_cell}, []
    for name, parts in fallback.items():
        said = [(header, row[i], value) for header, i in parts if (value := cells.real(cells.text(row[i])))]
        numbers = [s for s in said if _DIGIT.search(s[2])]
        valid = [s for s in numbers if _valid_number(name, s[2])]
        first = (valid or numbers or said or [None])[0]
        if first is None:
            continue
        chosen[name] = first[1]
        for header, _cell, value in said:
            if value == first[2]:
                continue
            if not _DIGIT.search(value):
                others.append(f"{header}：{value}")
            else:
                number = normalize_id(value) if name == "id_number" else normalize_phone(value)
                # a whole ID or mobile number goes in as it is: notes holding one are stored encrypted, shown masked
                # and revealed with an audit (privacy/freetext.py); a number that rule cannot find in a text (a
                # landline, a broken one) is masked here
                if not has_numbers(number):
                    number = mask_id(number) if name == "id_number" else mask_phone(number)
                others.append(f"{header}另有：{number}")
    return chosen["id_number"], chosen["phone"], others


def _first_readable(row: list, columns: dict[str, list[int]], name, tier, pushed_at) -> tuple:
    """(name, tier, push time) cells from the first of each field's columns that reads (FIRST_READABLE); a date in
    one column and a time of day in another (推送日期 2026-11-16, 推送时间 9:30) become one time."""
    if "name" in columns:
        name = next((row[i] for i in columns["name"] if cells.real(cells.name(row[i]))), name)
    if "tier" in columns:
        tier = next((row[i] for i in columns["tier"] if cells.tier(row[i]) is not None), tier)
    if "pushed_at" in columns:
        pushed_at = _date_and_clock([row[i] for i in columns["pushed_at"]], pushed_at)
    return name, tier, pushed_at


def _date_and_clock(parts: list, first):
    """The first part that reads as a time; when that is a day alone and another part is a time of day, the two."""
    for part in parts:
        try:
            when = cells.local_time(part)
        except ValueError:
            continue
        if when is None:
            continue
        if when.time() == dt.time() and not cells.has_clock(part):
            clock = next((c for other in parts if other is not part and (c := cells.clock(other)) is not None), None)
            if clock is not None:
                return dt.datetime.combine(when.date(), clock)
        return when
    return next((part for part in parts if cells.text(part)), first)


def _valid_number(name: str, value: str) -> bool:
    if name == "id_number":
        return id_problem(normalize_id(value)) is None
    return phone_valid(normalize_phone(value))


#: Words in brackets after a phone number, with no digit in them: （本人）, (微信同号), （其父）.
_AFTER_NUMBER = re.compile(r"[(（]([^()（）\d]+)[)）]$")
#: A number's cell holds a number only when it has a digit: 停机, 空号, 暂无 are words about the number.
_DIGIT = re.compile(r"\d")


def _join(row: list, parts: list[tuple[str, int]]) -> str:
    """The text of several columns for one field: alone when only one has any, else each after its header."""
    said = [(header, value) for header, i in parts if (value := cells.text(row[i]))]
    if len(said) == 1:
        return said[0][1]
    return "；".join(f"{header}：{value}" for header, value in said)


def check_row(row: list, row_number: int, columns: dict[str, int]) -> RowResult:
    """One row on its own (a file's rows go through one RowChecker)."""
    return RowChecker(columns)(row, row_number)


#: A number as Excel writes a long one into a CSV (2.02611E+17): its digits are gone.
_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?[eE]\+\d+$")


def _lost_digits(cell, text: str) -> bool:
    """A warning number typed as a number of 16 digits or more (Excel keeps 15), or written as 2.02611E+17."""
    if isinstance(cell, float):
        return abs(cell) >= 1e15
    return "E+" in text.upper() and _SCIENTIFIC.match(text) is not None


def _read_numbers(r: RowResult, id_cell, phone_cell, today: dt.date) -> list[str]:
    """Sets the row's ID and phone; returns what their cells said in words instead of a number (停机, 不详), for
    the notes: such a cell is no number, and must neither reach a person nor tie two people together."""
    said = []
    raw_id, typed_as_number = cells.id_cell(id_cell)
    id_text = cells.real(raw_id)
    if id_text and not _DIGIT.search(id_text):
        said.append(f"{LABELS['id_number']}：{id_text}")
        id_text = ""
    r.id_number = normalize_id(id_text)[:40]
    if r.id_number:
        flag = (DataFlag.ID_LOST_DIGITS if typed_as_number and len(r.id_number) >= 16
                else id_problem(r.id_number, today))
        r.id_valid = flag is None
        if flag:
            r.flags.append(flag.value)
            r.note("id_number", flag, r.id_number, verdict=FLAGGED)
    phone_text = cells.real(cells.text(phone_cell))
    if phone_text and (words := _AFTER_NUMBER.search(phone_text)) and _DIGIT.search(phone_text[:words.start()]):
        said.append(f"{LABELS['phone']}：{words.group(1)}")  # 13800000029（本人）, 138…(微信同号): words for the notes
        phone_text = phone_text[:words.start()].strip()
    if phone_text and not _DIGIT.search(phone_text):
        said.append(f"{LABELS['phone']}：{phone_text}")
        phone_text = ""
    r.phone = normalize_phone(phone_text)[:40]  # two numbers stay whole
    if r.phone:
        r.phone_valid = phone_valid(r.phone)
        if not r.phone_valid:
            r.flags.append(DataFlag.PHONE.value)
            r.note("phone", DataFlag.PHONE, r.phone, verdict=FLAGGED)
    return said


def _judge(r: RowResult, tier_cell) -> None:
    """Rejected when the row cannot become a warning; flagged when its numbers are doubtful."""
    if not r.warning_no:
        r.note("warning_id", "no_warning_id", verdict=REJECTED)
    if not r.name and not r.id_number:
        r.note("name", "no_identity", verdict=REJECTED)
    if not (r.id_number or r.phone or r.registered_address or r.current_address):
        r.note("phone", "no_contact", verdict=REJECTED)
    if r.tier is None:
        r.note("tier", "tier", cells.text(tier_cell), verdict=REJECTED)
    if any(p.verdict == REJECTED for p in r.problems):
        r.verdict = REJECTED
        for p in r.problems:  # the row's other problems are to fix before it comes again; none was imported
            p.verdict = REJECTED
    elif r.flags:
        r.verdict = FLAGGED


def spec(problem: Problem) -> dict:
    """What `said` needs to write a problem's sentence again, in any language: its message key and values (an ID or
    phone number masked, as in the stored sentence). Stored beside the sentence (PushRowError.say)."""
    key = problem.code
    if key == "tier" and problem.value:
        key = "tier_value"
    elif key == "duplicate":
        key = ("duplicate_in_file" if problem.first_row else "duplicate") + ("_other" if problem.other else "")
    elif key == "precinct" and not problem.value:
        key = "precinct_blank"
    elif key == DataFlag.ID_LENGTH and _first_generation_id(problem.value):
        key = "id_old"  # not mistyped, only old
    if problem.joined:
        key += "_joined"
    elif problem.verdict == REJECTED and f"{key}_rejected" in _BY_KEY:  # the words of a row not imported
        key = f"{key}_rejected"
    value = problem.value
    if problem.field == "id_number":  # messages are stored and shown: never a whole number in them
        value = mask_id(value)
    elif problem.field == "phone":
        value = mask_phone(value)
    return {"k": str(key), "value": value, "first": problem.first_row, "other": problem.other,
            "joined": problem.joined}


def _first_generation_id(value: str) -> bool:
    """A 15-digit ID of before 1999: its area, then its holder's birth day as YYMMDD of the 1900s (an 18-digit one
    cut short has the year's first two digits there instead)."""
    if len(value) != 15 or not value.isascii() or not value.isdigit():
        return False
    try:
        dt.date(1900 + int(value[6:8]), int(value[8:10]), int(value[10:12]))
    except ValueError:
        return False
    return True


def sentence(values: dict) -> str:
    """A problem's Chinese sentence from its `spec`: what tells staff what is wrong and what to do (stored,
    exported, the API's)."""
    return _filled(_BY_KEY[values["k"]], values)


def _filled(text: str, values: dict) -> str:
    return text.format(value=values.get("value", ""), first=values.get("first", 0), other=values.get("other", ""),
                       joined=values.get("joined", ""))


#: MESSAGES by the keys `spec` stores (enum keys by their value).
_BY_KEY = {str(key): text for key, text in MESSAGES.items()}


def said(values: dict | None, stored: str = "") -> str:
    """A problem's sentence in the reader's language, from its `spec`; the stored sentence when there is no spec
    (a push stored before specs were kept) or its key is no longer known."""
    text = _BY_KEY.get(values.get("k", "")) if values else None
    if text is None:
        return stored
    try:
        return _filled(gettext(text), values)
    except (KeyError, IndexError, ValueError):  # a translation with a broken place: the stored sentence
        return stored


def column_label(problem: Problem, headers: list[str], columns: dict[str, int]) -> str:
    """The column's header as written in the file (or our name for it when the file has no such column)."""
    index = columns.get(problem.field)
    return headers[index] if index is not None and index < len(headers) else LABELS.get(problem.field, "")


#: How the rows under a list begin: totals (合计, 共计 3 人, 总数：3), and the signatures and notes of a form
#: (制表人：…, 审核人：…, 填报单位：…, 注：…).
_FOOTER = re.compile(r"^(合计|总计|小计|共计|本页小计|本页合计|总数|总人数|以上|制表|审核|填报|填表|统计人|打印"
                     r"|经办人|签发人|导出时间|导出人|生成时间|共\d+(?:条|人|行)|第\d+页"
                     r"|单位[(:：]|注[:：]|备注[:：]|说明[:：]|负责人[:：]|联系人[:：]|日期[:：]|.*名单\(续\))")


#: What a template writes under its header to say how to fill a column (必填, 选填, 示例…): not a warning.
_HINT_ROW = re.compile(r"^[(（]?(必填|必填项|选填|非必填|可选|示例|样例|例[:：]?|填写说明)")


def is_not_a_record(row: list, warning_column: int, name_column: int | None) -> bool:
    """A line of the form rather than of the list: a template's numbered line with nobody on it (one filled cell,
    a 序号); a section line between groups (一、高风险（2人）: one filled cell of Chinese text, not a name); a hint
    line under the header (必填 | 18位 | 特高危/高/中/低)."""
    number = row[warning_column] if warning_column < len(row) else None
    if number is not None and (number.__class__ is not str or (number.strip() and number.isascii())):
        return False  # a warning number (every data row: this test must stay cheap)
    if number and _HINT_ROW.match(number.strip()):
        return True
    filled = [(i, c) for i, c in enumerate(row) if c is not None and (c.__class__ is not str or c.strip())]
    if len(filled) != 1:
        return False
    column, cell = filled[0]
    return _is_serial(cell) or (isinstance(cell, str) and not cell.isascii() and column != name_column)


def _is_serial(cell) -> bool:
    """A 序号 cell: a number, or digits typed as text."""
    return isinstance(cell, int | float) or (isinstance(cell, str) and cell.strip().isdigit())


def is_totals(row: list, warning_column: int | None = None) -> bool:
    """A totals or footer row at the end of an export (合计, 制表人：…, 注：…), also after a row number. Only a row
    without a warning number of its own: 审核贷款时发现 may open a data row's 预警来源."""
    numbered = False
    for index, cell in enumerate(row):  # the first filled cell; a plain loop, since this runs on every row
        if cell is None or (cell.__class__ is str and not cell.strip()):
            continue
        if not numbered and _is_serial(cell):
            numbered = True  # a 序号 column: look at the next filled cell
            continue
        if not isinstance(cell, str) or cell.isascii():  # 合计 is never ASCII, whatever its width
            return False
        if not _FOOTER.match(cells.text(cell).replace(" ", "")):
            return False
        if warning_column is None or warning_column == index or warning_column >= len(row):
            return True
        number = row[warning_column]
        return number is None or (isinstance(number, str) and not number.strip())
    return False
