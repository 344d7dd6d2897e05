"""Which column is which: the alias table of SPEC "What the center sends", kept as data, and header detection."""
import re
from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from ..core.csvtext import HEADER_SEARCH_ROWS
from ..core.i18n import list_separator
from ..core.text import clean_text, name_key

#: field -> the headers centers use for it. Add a new center's spelling here; nothing else changes.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "warning_id": ("预警编号", "编号", "预警ID", "预警单号", "预警流水号", "warning_id"),
    "pushed_at": ("推送时间", "下发时间", "预警时间", "推送日期", "下发日期", "预警日期", "pushed_at"),
    "name": ("姓名", "人员姓名", "当事人姓名", "name"),
    "sex": ("性别", "sex"),
    "id_number": ("身份证号", "公民身份号码", "证件号码", "身份证号码", "身份证", "公民身份证号", "公民身份证号码",
                  "居民身份证号码", "身份证件号码", "证件号", "id_number"),
    "phone": ("手机号", "联系电话", "手机号码", "手机", "电话", "电话号码", "联系手机", "移动电话", "联系方式",
              "phone"),
    "tier": ("风险等级", "风险级别", "预警等级", "预警级别", "tier"),
    "reason": ("预警原因", "预警来源", "reason"),
    "fraud_type": ("疑似诈骗类型", "涉诈类型", "诈骗类型", "诈骗类别", "涉诈类别", "预警类型", "fraud_type"),
    "amount_at_risk": ("拟转账金额(元)", "拟转账金额", "涉案金额", "预警金额", "amount_at_risk"),
    "registered_address": ("户籍地址", "户籍地", "户籍所在地", "户口所在地", "registered_address"),
    "current_address": ("现住址", "居住地", "居住地址", "现居住地址", "现居住地", "现住地址", "current_address"),
    "precinct": ("所属派出所", "辖区派出所", "派出所", "派出所名称", "管辖派出所", "责任派出所", "责任单位",
                 "管辖单位", "precinct"),
    "community": ("所属社区", "社区(村)", "社区", "村(社区)", "社区/村", "所属村(社区)", "所属社区(村)", "村居",
                  "所属村居", "community"),
    "away_from_home": ("是否外出务工", "外出务工", "away_from_home"),
    "notes": ("备注", "notes"),
}
#: Without these a file cannot be imported at all: every row would be rejected or undeduplicable.
REQUIRED = ("warning_id", "tier")
#: A row is the header when it names at least this many known columns (issue 3).
MIN_KNOWN_HEADERS = 3

LABELS = {field: aliases[0] for field, aliases in FIELD_ALIASES.items()}
#: Each field as a page names it, in the user's language (LABELS, the Chinese names, are what a push stores).
FIELD_NAMES = {
    "warning_id": _l("预警编号"), "pushed_at": _l("推送时间"), "name": _l("姓名"), "sex": _l("性别"),
    "id_number": _l("身份证号"), "phone": _l("手机号"), "tier": _l("风险等级"), "reason": _l("预警原因"),
    "fraud_type": _l("疑似诈骗类型"), "amount_at_risk": _l("拟转账金额(元)"), "registered_address": _l("户籍地址"),
    "current_address": _l("现住址"), "precinct": _l("所属派出所"), "community": _l("所属社区"),
    "away_from_home": _l("是否外出务工"), "notes": _l("备注"),
}
#: A stored Chinese field name (Push.column_map) -> the same in the user's language.
NAME_OF_LABEL = {LABELS[f]: name for f, name in FIELD_NAMES.items()}


#: A header is compared as any name is (full-width folded, spaces and invisible marks removed, lower case).
header_key = name_key


#: What templates put around a header: a required-field star, a trailing note in brackets (必填, 必填项, 选填, 例…).
_DECORATION = re.compile(r"^[*＊※]+|[*＊※]+$|\((?:必填|必填项|选填|可选|非必填|例[:：]?[^)]*|如[:：]?[^)]*)\)$")

#: A hint or unit in brackets after a header: 涉案金额(元), 风险等级(高/中/低), 是否外出务工(是/否). Not an amount
#: in 万元: that column is not in yuan, and taking it as 拟转账金额 would make 5 (万元) five yuan.
_HINT = re.compile(r"\((?![^)]*万)[^()]*\)$")

#: Aliases that also name other things: a serial-number column is often headed 编号, 联系电话 or 联系方式 may be a
#: landline beside the mobile, 预警类型 may be the kind of alert rather than of fraud, 责任单位 a unit above the
#: precinct. Where a file has another column for the same field, that one is taken.
WEAK_ALIASES = {"编号", "联系电话", "联系方式", "预警类型", "责任单位", "管辖单位"}

#: Text fields a file may give in two columns (预警原因 and 预警来源 side by side): each further column is read too and
#: joined to the first, each part with its header, instead of being left unread.
JOINED = ("reason", "notes")
#: Number fields a file may give in two columns (手机号码 and 联系电话): where the first is empty the next is read; a
#: different number in the next one is kept in the warning's notes.
FALLBACK = ("phone", "id_number")
#: Fields a file may give in more than one column, one of them empty or unreadable (预警等级 红色预警 beside
#: 风险等级 高, an empty 姓名 beside a filled one, 推送日期 beside 推送时间): the first column that reads is taken, and
#: a date and a time in two columns make one time.
FIRST_READABLE = ("name", "tier", "pushed_at")
#: Every field whose further columns are kept (match_row's `also`).
_SEVERAL = frozenset(JOINED + FALLBACK + FIRST_READABLE)

#: header key -> (field, rank): rank 1 for a weak alias, else 0.
_LOOKUP = {header_key(alias): (field, int(alias in WEAK_ALIASES))
           for field, aliases in FIELD_ALIASES.items() for alias in aliases}


def lookup(text: str) -> tuple[str, int] | None:
    """(field, rank) for a header as written, with a template's star or (必填) note ignored."""
    key = header_key(text)
    found = _LOOKUP.get(key)
    if found is None and "\n" in text.strip():  # 风险等级 with its hint on a second line (特高危/高/中/低)
        return lookup(text.strip().split("\n")[0])
    if found is None and key:
        bare = _DECORATION.sub("", key)
        found = _LOOKUP.get(bare) if bare != key else None
        if found is None and (hinted := _HINT.sub("", bare)) != bare:
            found = _LOOKUP.get(_DECORATION.sub("", hinted))
        if found is None and (in_wan := _WAN.sub("", bare)) != bare:  # 涉案金额(万元): an amount, scaled when read
            found = _LOOKUP.get(in_wan)
            found = found if found and found[0] == "amount_at_risk" else None
        if found is None and (person := _PERSON.sub("", bare)) != bare:  # 受害人姓名, 当事人电话: the person's
            found = _LOOKUP.get(person)
            found = found if found and found[0] in PERSON_FIELDS else None
    return found


#: An amount column in 万元 (ten thousand yuan): 涉案金额(万元), 拟转账金额万元 (amounts_in_wan).
_WAN = re.compile(r"\(万元?\)$|万元$")
#: Who a column is about, before a person's field: 受害人姓名, 疑似受害人身份证号, 当事人电话, 预警对象手机号.
_PERSON = re.compile(r"^(?:疑似)?(?:受害人|受害者|被害人|当事人|预警对象|预警人员|涉诈人员|人员|对象)")
PERSON_FIELDS = {"name", "sex", "id_number", "phone", "registered_address", "current_address", "away_from_home"}


def amounts_in_wan(header: str) -> bool:
    """Whether an amount column's header says its amounts are in 万元 (a 1.5 in it is 15,000 yuan)."""
    return bool(_WAN.search(header_key(header)))


@dataclass
class HeaderMatch:
    """The header row found: its index in the table, each field's column index, and the headers as written."""

    index: int
    columns: dict[str, int]
    headers: list[str]
    unknown: list[str]
    rows_used: int = 1
    #: For a JOINED, FALLBACK or FIRST_READABLE field named by more than one column: the other columns (left to
    #: right).
    also: dict[str, list[int]] = field(default_factory=dict)

    def taken(self) -> set[int]:
        """The columns read for some field."""
        return set(self.columns.values()).union(*self.also.values())

    def mapping(self) -> list[tuple[str, str]]:
        """(header in the file, what it is read as), left to right."""
        pairs = [(i, f) for f, i in self.columns.items()] + [(i, f) for f, more in self.also.items() for i in more]
        return [(self.headers[i], LABELS[f]) for i, f in sorted(pairs)]


def match_row(row: list) -> HeaderMatch:
    """Each field's column: where two columns name the same field, a weak alias loses (a serial 编号 column
    beside 预警编号 or 预警ID, 联系电话 beside 手机号 or 手机号码), and among equals the leftmost wins; the other
    is unknown."""
    headers = [clean_text(c) for c in row]
    best: dict[str, tuple[int, int]] = {}  # field -> (rank, column)
    named: dict[str, list[int]] = {}  # a JOINED, FALLBACK or FIRST_READABLE field -> every column naming it
    for i, text in enumerate(headers):
        found = lookup(text) if text else None
        if found and (found[0] not in best or found[1] < best[found[0]][0]):
            best[found[0]] = (found[1], i)
        if found and found[0] in _SEVERAL:
            named.setdefault(found[0], []).append(i)
    columns = {name: i for name, (_rank, i) in sorted(best.items(), key=lambda kv: kv[1][1])}
    also = {name: [i for i in more if i != columns[name]] for name, more in named.items() if len(more) > 1}
    match = HeaderMatch(index=-1, columns=columns, headers=headers, unknown=[], also=also)
    taken = match.taken()
    match.unknown = [text for i, text in enumerate(headers) if text and i not in taken]
    return match


def find_header(rows: list[list]) -> HeaderMatch | None:
    """The first row within the first 20 that names at least three known columns (issue 3); but a row above it
    that also names the required ones is passed over for the first row that does (an information line such as
    编号 | 清反诈〔2026〕118号 | 下发时间 | … above the list). A header of two rows (联系方式 merged over 手机号 |
    联系电话) gives the second row's names to the columns the first left unnamed; `rows_used` says how many rows
    the header takes."""
    first = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        match = match_row(row)
        if len(match.columns) >= MIN_KNOWN_HEADERS:
            if missing_required(match) and index + 1 < len(rows) and _header_below(match, rows[index + 1]):
                continue  # an information line above the header, not its first row
            match.index = index
            if index + 1 < len(rows):
                _second_row(match, rows[index + 1])
            if not missing_required(match):
                return match
            first = first or match
    return first


def _header_below(match: HeaderMatch, row: list) -> bool:
    """The row under `match` is a whole header of its own, with other names under the columns `match` named: then
    `match` is a line above the header (编号 | 清反诈〔2026〕118号 | 下发时间 | …). A second header row names only
    the columns the first left unnamed (预警编号 | 风险等级 under a merged 预警信息)."""
    below = match_row(row)
    if len(below.columns) < MIN_KNOWN_HEADERS or missing_required(below):
        return False
    return any(i < len(below.headers) and below.headers[i] and below.headers[i] != match.headers[i]
               for i in match.columns.values())


def _second_row(match: HeaderMatch, row: list) -> None:
    """Take the row under the header as its second line when it is not data: nothing in the 预警编号 column but the
    header itself, and under each column the first row named, only that name again (a merged header cell filled
    down) or a known column name. Under a group header (联系方式 over 手机号码 | 固定电话) any words may stand:
    the known ones are mapped, the others stay unknown."""
    below = [clean_text(c) for c in row]
    if not any(below):
        return
    taken = match.taken()
    for i, text in enumerate(below):
        above = match.headers[i] if i < len(match.headers) else ""
        if text and text != above and i in taken and lookup(text) is None:
            return  # a value under a known column: the first data row
    added = False
    for i, text in enumerate(below):
        found = lookup(text) if text and i not in taken else None
        if found and found[0] not in match.columns:
            match.columns[found[0]] = i
            match.headers.extend([""] * (i + 1 - len(match.headers)))
            match.headers[i] = text
            added = True
    if added or all(not text or text == match.headers[i] for i, text in enumerate(below) if i < len(match.headers)):
        match.rows_used = 2
        taken = match.taken()
        match.unknown = [t for i, t in enumerate(match.headers) if t and i not in taken]


def missing_required(match: HeaderMatch) -> list[str]:
    """The required fields the header lacks."""
    return [f for f in REQUIRED if f not in match.columns]


def missing_message(fields: list[str]) -> LazyString:
    """What to add to the header: each missing field with the header names accepted for it (in the language of
    whoever reads it)."""
    def said() -> str:
        each = [_("%(field)s（可用列名：%(names)s）", field=FIELD_NAMES[f],
                  names="、".join(a for a in FIELD_ALIASES[f] if not a.isascii())) for f in fields]
        return _("缺少必需的列：%(columns)s。请在表头中补上后重新导入。", columns=list_separator().join(each))
    return LazyString(said)
