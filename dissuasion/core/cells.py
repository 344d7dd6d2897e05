"""Cell values as Excel, a CSV or JSON give them, turned into what they mean.

Excel types matter: a number in the ID column has lost its last digits; a phone typed as a number
comes back as 13800138000.0; a date cell is a datetime; an amount may be a float.
"""
import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from unicodedata import normalize

from flask_babel import gettext

from .enums import FraudType, Tier
from .i18n import N_
from .text import INVISIBLE, clean_text

#: What is wrong with a warning's person, tier or amount, as the importer and hand entry both say it.
PROBLEMS = {
    "no_identity": N_("姓名和身份证号都为空：无法确定是谁，请至少填写其中一项。"),
    "no_contact": N_("没有任何联系方式：身份证号、手机号和地址都为空，请至少补充一项。"),
    "tier": N_("风险等级为空（可用：特高危、高、中、低，或高风险/中风险/低风险、高危/中危/低危）。"),
    "tier_value": N_("风险等级“{value}”无法识别（可用：特高危、高、中、低，或高风险/中风险/低风险、高危/中危/低危）。"),
    "amount": N_("金额“{value}”不是有效金额（应为不小于 0 的数字）"),
}


def problem(key: str, **values) -> str:
    """A PROBLEMS sentence in the user's language, its {value} filled in."""
    return gettext(PROBLEMS[key]).format(**values)

TIERS = {
    "特高危": Tier.EXTRA_HIGH, "特高风险": Tier.EXTRA_HIGH, "特高": Tier.EXTRA_HIGH, "extra_high": Tier.EXTRA_HIGH,
    "extrahigh": Tier.EXTRA_HIGH, "extra-high": Tier.EXTRA_HIGH,
    "高": Tier.HIGH, "高风险": Tier.HIGH, "高危": Tier.HIGH, "high": Tier.HIGH,
    "中": Tier.MEDIUM, "中风险": Tier.MEDIUM, "中危": Tier.MEDIUM, "medium": Tier.MEDIUM,
    "低": Tier.LOW, "低风险": Tier.LOW, "低危": Tier.LOW, "low": Tier.LOW,
}
FRAUD_TYPES = {str(t._labels()[t]): t for t in FraudType} | {t.value: t for t in FraudType} | {
    "杀猪盘": FraudType.ROMANCE, "网络交友诱导投资(杀猪盘)": FraudType.ROMANCE,
    "冒充客服": FraudType.CUSTOMER_SERVICE, "冒充电商客服": FraudType.CUSTOMER_SERVICE,
    "刷单": FraudType.REBATE, "虚假贷款": FraudType.LOAN, "网络贷款": FraudType.LOAN,
    "投资理财": FraudType.INVESTMENT, "虚假投资": FraudType.INVESTMENT,
}
#: The ministry's category names and what centers write for them (冒充公检法及政府机关类, 刷单返利类诈骗, 其它),
#: compared without punctuation and a trailing 类 / 诈骗 (see _fraud_key).
FRAUD_SYNONYMS = {
    "冒充公检法及政府机关": FraudType.AUTHORITY, "冒充政府机关": FraudType.AUTHORITY,
    "冒充物流客服": FraudType.CUSTOMER_SERVICE, "冒充电商物流客服": FraudType.CUSTOMER_SERVICE,
    "网络婚恋交友": FraudType.ROMANCE, "婚恋交友": FraudType.ROMANCE, "网络交友": FraudType.ROMANCE,
    "冒充领导": FraudType.ACQUAINTANCE, "冒充熟人": FraudType.ACQUAINTANCE, "冒充亲友": FraudType.ACQUAINTANCE,
    "虚假购物": FraudType.SHOPPING, "网络购物": FraudType.SHOPPING, "征信": FraudType.CREDIT,
    "贷款": FraudType.LOAN, "网贷": FraudType.LOAN, "理财": FraudType.INVESTMENT, "投资": FraudType.INVESTMENT,
    "游戏": FraudType.GAME, "网络游戏": FraudType.GAME, "游戏交易": FraudType.GAME, "刷单返利": FraudType.REBATE,
    "其它": FraudType.OTHER,
}
_FRAUD_NOISE = re.compile(r"[\s、，,/()（）·\-]|及政府机关")


def _fraud_key(value: str) -> str:
    key = _FRAUD_NOISE.sub("", value)
    for suffix in ("类诈骗", "诈骗类", "诈骗", "类"):
        if key.endswith(suffix) and len(key) > len(suffix) + 1:
            return key[:-len(suffix)]
    return key


FRAUD_KEYS = {_fraud_key(str(k)): t for k, t in FRAUD_TYPES.items()} | {
    _fraud_key(k): t for k, t in FRAUD_SYNONYMS.items()}
YES = {"是", "y", "yes", "true", "1", "外出务工", "√", "外出", "在外", "在外地", "外地", "已外出", "务工"}
NO = {"否", "n", "no", "false", "0", "", "×", "未外出", "在家", "本地", "在本地"}
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d",
                "%Y/%m/%d", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日", "%Y%m%d%H%M%S",
                "%Y年%m月%d日 %H时%M分%S秒", "%Y年%m月%d日 %H时%M分", "%Y年%m月%d日%H时%M分%S秒",
                "%Y年%m月%d日%H时%M分", "%Y年%m月%d日%H:%M:%S", "%Y年%m月%d日%H:%M", "%Y/%m/%d %H时%M分",
                "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y.%m.%d",
                # an English-language Excel's CSV: month first (the American order it writes), else day first
                "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y", "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y",
                "%Y%m%d", "%Y/%m/%d %I:%M:%S %p", "%Y/%m/%d %I:%M %p", "%Y-%m-%d %I:%M:%S %p", "%Y-%m-%d %I:%M %p",
                "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p")
_FRACTION = re.compile(r"(\d:\d\d:\d\d)\.\d+$")
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_SPACES = re.compile(r"\s+")
_CJK_ONLY = re.compile(r"^[\u3400-\u9fff·\s]+$")
_MONEY_JUNK = re.compile(r"[,，¥￥元\s]|人民币|rmb|cny", re.IGNORECASE)
#: An amount written in 万 (ten thousand yuan): 5万, 2.5万元.
_WAN = Decimal(10000)


#: What people type into a cell they have nothing for. Taken as empty: a "phone" of / would otherwise make everyone
#: named 张伟 with a / one person, and a row with nothing to reach anyone by look reachable.
PLACEHOLDERS = frozenset({"无", "/", "//", "-", "--", "—", "——", "暂无", "空", "无号码", "无手机", "无手机号",
                          "无电话", "无身份证", "无证件", "无地址", "未知", "不详", "不明", "未提供", "未填", "未登记",
                          "null", "none", "nil", "n/a", "na", "#n/a", "#null!", "#ref!", "#value!", "#name?",
                          "#div/0!", "#num!", "nan"})


#: Placeholders that are also names (Na, Nan in pinyin): not taken as empty in the name column.
NAME_PLACEHOLDERS = PLACEHOLDERS - {"na", "nan", "none"}

_HAS_INVISIBLE = re.compile("[" + "".join(map(chr, INVISIBLE)) + "]")


def real(value: str, placeholders: frozenset = PLACEHOLDERS) -> str:
    """The text, or '' when it is a placeholder (无, /, 暂无, NULL, #N/A) or, for a number, only zeros."""
    if len(value) > 6 and value[0] != "#":  # an address, an ID, a phone: decided by its first character
        return value if value[0] not in "0- " or value.strip("0- ") else ""
    if value.lower() in placeholders:
        return ""
    return "" if value and not value.strip("0- ") else value



def is_blank(row: list) -> bool:
    """A row with nothing in it but empty cells and spaces."""
    return not any(c is not None and (not isinstance(c, str) or c.strip()) for c in row)


def text(cell) -> str:
    """Any cell as clean text: numbers without a trailing .0, full-width folded, trimmed."""
    if cell.__class__ is str:  # nearly every cell, and every cell of a CSV
        if cell.isascii():
            return cell.strip()
        # normalize gives the cell itself back when it is already NFKC (most Chinese text): no copy, unless marks
        value = normalize("NFKC", cell)
        return (value.translate(INVISIBLE) if _HAS_INVISIBLE.search(value) else value).strip()
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.strftime("%Y-%m-%d %H:%M:%S")
    return clean_text(cell)


def name(cell) -> str:
    """A person's name: a Chinese name loses stray inner spaces (张 三 → 张三), and the dot between the parts of a
    transliterated name is one dot however it was typed (阿依古丽•买买提, ・, ., ‧ → ·); others keep single spaces."""
    value = text(cell)
    if _NAME_DOTS.search(value):
        value = _NAME_DOTS.sub("·", value)
    return value.replace(" ", "") if _CJK_ONLY.match(value) else _SPACES.sub(" ", value)


#: What is typed for the middle dot of 阿依古丽·买买提 between Chinese characters: •, ・ (Japanese), ., ‧, ∙, ⋅, -, —.
_NAME_DOTS = re.compile(r"(?<=[\u3400-\u9fff])\s*[•・.‧∙⋅\-—]\s*(?=[\u3400-\u9fff])")


#: 性别 as centers write it: words, English, and GB/T 2261.1's codes (1 男, 2 女).
SEXES = {"男": "男", "男性": "男", "男士": "男", "m": "男", "male": "男", "1": "男",
         "女": "女", "女性": "女", "女士": "女", "f": "女", "female": "女", "2": "女"}


def sex(cell) -> str:
    """男, 女, or "" when the cell says neither."""
    return SEXES.get(text(cell).replace(" ", "").lower(), "")


def id_cell(cell) -> tuple[str, bool]:
    """(ID text, typed as a number in Excel). A number cell of 16+ digits has already lost digits."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return (str(int(cell)) if math.isfinite(cell) else ""), True  # NaN, and JSON's Infinity
    return text(cell), False


def tier(cell) -> Tier | None:
    return TIERS.get(text(cell).replace(" ", "").lower())


def fraud_type(cell) -> tuple[FraudType, str]:
    """(type, the center's own words when they are not one of ours)."""
    value = text(cell)
    if not value:
        return FraudType.OTHER, ""
    known = FRAUD_TYPES.get(value) or FRAUD_KEYS.get(_fraud_key(value))
    return (known, "") if known else (FraudType.OTHER, value[:100])


def away(cell) -> bool | None:
    """是/否 and friends (是（杭州）, 在外地; 无 and other placeholders: no); None when the value is not understood."""
    value = text(cell).lower()
    if value in YES:
        return True
    if value in NO or value in PLACEHOLDERS:
        return False
    if value.startswith("是") or "外出" in value or "在外" in value:
        return True
    if value.startswith(("否", "未", "不")):
        return False
    return None


def amount(cell) -> Decimal | None:
    """Yuan with two decimals; raises ValueError when the cell is not an amount (caller notes it)."""
    if cell is None or cell == "":
        return None
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        value = Decimal(repr(cell))
    else:
        raw = _MONEY_JUNK.sub("", text(cell))
        if not raw or raw.lower() in PLACEHOLDERS:  # 无, /, 未知: no amount given
            return None
        wan = raw.endswith("万")
        try:
            value = Decimal(raw[:-1] if wan else raw) * (_WAN if wan else 1)
        except InvalidOperation as exc:
            raise ValueError(raw) from exc
    if not value.is_finite() or value < 0 or value >= Decimal("1e12"):
        raise ValueError(str(cell))
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def says_unit(cell) -> bool:
    """Whether an amount cell names its unit (3000元, 1.5万): then the column's 万元 does not scale it."""
    return isinstance(cell, str) and ("元" in cell or "万" in cell)


def local_time(cell) -> dt.datetime | None:
    """A naive Asia/Shanghai time from a date cell, an Excel serial number or text; raises ValueError."""
    if cell is None or cell == "":
        return None
    if isinstance(cell, dt.datetime):
        return _plausible(cell.replace(tzinfo=None) if cell.tzinfo is None else cell)
    if isinstance(cell, dt.date):
        return _plausible(dt.datetime(cell.year, cell.month, cell.day))
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        if isinstance(cell, float) and not math.isfinite(cell):  # inf or NaN (JSON's Infinity): no time at all
            raise ValueError(str(cell))
        if 20000 < cell < 80000:  # an Excel serial date typed as a plain number
            return _plausible(EXCEL_EPOCH + dt.timedelta(days=float(cell)))
        if cell == int(cell) and len(digits := str(int(cell))) in (8, 14):  # 20261116, 20261116083000 as numbers
            return _plausible(_parse_time(digits))
        raise ValueError(str(cell))
    value = _SPACES.sub(" ", text(cell))
    if value.lower() in PLACEHOLDERS:  # 无, /: no time given (the import's own time is used)
        return None
    value = _FRACTION.sub(r"\1", value)  # 15:05:00.0 (a database export's fraction of a second)
    midnight = False
    if not value.isascii() and (half := _HALF_DAY.search(value)):
        value, midnight = _twelve_hour(value, half)
    if not value.isascii() and (clock := _CN_CLOCK.search(value)):  # 8时30分, 20点, 8点半 as 08:30:00
        value = _SPACES.sub(" ", value[:clock.start()] + " " + _as_clock(clock) + value[clock.end():]).strip()
    parsed = _parse_time(value)
    return _plausible(parsed + dt.timedelta(days=1) if midnight else parsed)


#: A time of day alone, written: 9:30, 09:30:00, 9：30 (8时30分 and 20点 are _CN_CLOCK).
_CLOCK_TEXT = re.compile(r"(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?")


def clock(cell) -> dt.time | None:
    """A time of day with no date (a 推送时间 column beside 推送日期): an Excel time cell, a fraction of a day, or
    text like 9:30 or 8时30分; None for anything else."""
    if isinstance(cell, dt.time):
        return cell.replace(tzinfo=None, microsecond=0)
    if isinstance(cell, dt.datetime | dt.date):
        return None
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return (dt.datetime.min + dt.timedelta(seconds=round(cell * 86400))).time() if 0 <= cell < 1 else None
    value = text(cell)
    if not value or len(value) > 12:
        return None
    found = _CLOCK_TEXT.fullmatch(value) or _CN_CLOCK.fullmatch(value)
    if found is None:
        return None
    if found.re is _CN_CLOCK:
        hour, minute, second = _clock_parts(found)
    else:
        hour, minute, second = int(found.group(1)), int(found.group(2)), int(found.group(3) or 0)
    return dt.time(hour, minute, second) if hour < 24 and minute < 60 and second < 60 else None


def has_clock(cell) -> bool:
    """Whether a date cell or text says a time of day too (2026-11-16 00:00 does; 2026-11-16 does not)."""
    if isinstance(cell, dt.datetime):
        return True
    if isinstance(cell, dt.date) or cell is None:
        return False
    if isinstance(cell, int | float):
        return cell != int(cell) or len(str(int(cell))) == 14
    value = text(cell)
    return any(mark in value for mark in ":：时点") or (value.isdigit() and len(value) == 14)


def _parse_time(value: str) -> dt.datetime:
    """A time written as text with a 24-hour clock (any of TIME_FORMATS, or ISO); raises ValueError."""
    if value[:4].isdigit() and value[4:5] == "-":  # ISO: the common case, parsed without strptime
        try:
            return dt.datetime.fromisoformat(value)
        except ValueError:
            pass
    if value.isdigit() and len(value) not in (8, 14):  # 20261116 and 20261116083000 are; 1763251200 is not
        raise ValueError(value)
    for fmt in TIME_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt)
        except ValueError:
            continue
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


#: A Chinese Excel's 12-hour time: 2026/11/16 下午 2:30, 2026-11-16 上午08:05.
_HALF_DAY = re.compile(r"\s*(上午|早上|凌晨|中午|下午|晚上|AM|PM)\s*(\d{1,2})([:：时点])", re.IGNORECASE)
#: A clock written in words: 8时30分15秒, 20点05分, 8点半, 20时.
_CN_CLOCK = re.compile(r"(\d{1,2})\s*[时点]\s*(?:(半)|(\d{1,2})\s*分)?\s*(?:(\d{1,2})\s*秒)?")


def _clock_parts(clock: re.Match) -> tuple[int, int, int]:
    hour, half, minute, second = clock.groups()
    return int(hour), 30 if half else int(minute or 0), int(second or 0)


def _as_clock(clock: re.Match) -> str:
    return "{:02d}:{:02d}:{:02d}".format(*_clock_parts(clock))


def _twelve_hour(value: str, half: re.Match) -> tuple[str, bool]:
    """(the same time with a 24-hour clock, whether it is the midnight that ends the day written): 下午 2:30 is
    14:30, 上午 12:10 is 00:10, 中午 12:30 stays, and 晚上12点 / 晚上12:30 is 00:00 / 00:30 of the next day."""
    hour, word = int(half.group(2)), half.group(1).upper()
    midnight = word == "晚上" and hour == 12
    if word == "中午":
        hour = hour if hour >= 11 else hour + 12
    elif midnight:
        hour = 0
    else:
        hour = hour % 12 + (12 if word in ("下午", "晚上", "PM") else 0)
    return value[:half.start()] + f" {hour:02d}{half.group(3)}" + value[half.end():], midnight


def _plausible(value: dt.datetime) -> dt.datetime:
    """A push time is in this century: a year like 1763 is a misread number, not a time to count deadlines from."""
    if not 2000 <= value.year < 2100:
        raise ValueError(str(value))
    return value
