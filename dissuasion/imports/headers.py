"""Which column is which: the alias table of SPEC "What the center sends", kept as data, and header detection."""
from dataclasses import dataclass

from ..pii import clean_text

#: field -> the headers centers use for it. Add a new center's spelling here; nothing else changes.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "warning_id": ("预警编号", "编号", "预警ID", "warning_id"),
    "pushed_at": ("推送时间", "下发时间", "预警时间", "pushed_at"),
    "name": ("姓名", "name"),
    "sex": ("性别", "sex"),
    "id_number": ("身份证号", "公民身份号码", "证件号码", "身份证号码", "id_number"),
    "phone": ("手机号", "联系电话", "手机号码", "phone"),
    "tier": ("风险等级", "风险级别", "预警等级", "tier"),
    "reason": ("预警原因", "预警来源", "reason"),
    "fraud_type": ("疑似诈骗类型", "涉诈类型", "诈骗类型", "fraud_type"),
    "amount_at_risk": ("拟转账金额(元)", "拟转账金额", "涉案金额", "预警金额", "amount_at_risk"),
    "registered_address": ("户籍地址", "户籍地", "registered_address"),
    "current_address": ("现住址", "居住地", "current_address"),
    "precinct": ("所属派出所", "辖区派出所", "precinct"),
    "community": ("所属社区", "社区(村)", "community"),
    "away_from_home": ("是否外出务工", "外出务工", "away_from_home"),
    "notes": ("备注", "notes"),
}
#: Without these a file cannot be imported at all: every row would be rejected or undeduplicable.
REQUIRED = ("warning_id", "tier")
#: A row is the header when it names at least this many known columns (issue 3).
MIN_KNOWN_HEADERS = 3
#: The header is looked for within this many rows from the top (title rows come first).
HEADER_SEARCH_ROWS = 20

LABELS = {field: aliases[0] for field, aliases in FIELD_ALIASES.items()}


def header_key(text) -> str:
    """A header as compared: full-width folded, spaces and line breaks removed, lower case."""
    return "".join(clean_text(text).split()).lower()


_LOOKUP = {header_key(alias): field for field, aliases in FIELD_ALIASES.items() for alias in aliases}


@dataclass
class HeaderMatch:
    """The header row found: its index in the table, each field's column index, and the headers as written."""

    index: int
    columns: dict[str, int]
    headers: list[str]
    unknown: list[str]


def match_row(row: list) -> HeaderMatch:
    columns, unknown, headers = {}, [], [clean_text(c) for c in row]
    for i, text in enumerate(headers):
        field = _LOOKUP.get(header_key(text))
        if field and field not in columns:
            columns[field] = i
        elif text:
            unknown.append(text)
    return HeaderMatch(index=-1, columns=columns, headers=headers, unknown=unknown)


def find_header(rows: list[list]) -> HeaderMatch | None:
    """The first row within the first 20 that names at least three known columns."""
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        match = match_row(row)
        if len(match.columns) >= MIN_KNOWN_HEADERS:
            match.index = index
            return match
    return None


def missing_required(match: HeaderMatch) -> list[str]:
    """The required fields the header lacks, described with the names accepted for each."""
    return [f"{LABELS[f]}（可用列名：{'、'.join(a for a in FIELD_ALIASES[f] if not a.isascii())}）"
            for f in REQUIRED if f not in match.columns]
