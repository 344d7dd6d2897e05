"""The report dict laid out as rows (label, this week, the week before, the change), for the page and the .xlsx,
so both show exactly the numbers of compute_report."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..core.enums import FraudType, Method, Outcome, Tier, WarningSource
from ..core.exports import Percent, PercentPoints
from ..directory.models import Precinct
from ..extensions import db
from .prevention import prevention_sheets

PCT, MINUTES, MONEY, COUNT = "%", "min", "yuan", ""


@dataclass(frozen=True)
class MetricRow:
    key: str
    label: str
    unit: str
    current: object
    previous: object

    @property
    def change(self):
        """This week minus the week before; None when either is unknown."""
        if self.current is None or self.previous is None:
            return None
        if self.unit == MONEY:
            return Decimal(self.current) - Decimal(self.previous)
        return round(self.current - self.previous, 1) if isinstance(self.current, float) else (
            self.current - self.previous)

    def cell(self, value):
        """A value as the .xlsx holds it: money as Decimal, a rate as a percentage, the rest as it is."""
        if value is None:
            return None
        return Decimal(value) if self.unit == MONEY else Percent(value) if self.unit == PCT else value

    def change_cell(self):
        """The change as the .xlsx holds it: a rate's in percentage points."""
        change = self.change
        return PercentPoints(change) if self.unit == PCT and change is not None else change


def source_labels() -> list[tuple[str, str]]:
    """(key of warnings_by_source, label): 推送, then each hand-entry source."""
    return [("push", str(_l("推送"))), *((s.value, s.label) for s in WarningSource.hand_entry())]


def _layout() -> list[tuple[str, str, str]]:
    """(key path, label, unit) in the order of SPEC's list; a dotted key reaches into a per-tier or per-kind dict."""
    rows = [("warnings_received", _l("接收预警"), COUNT)]
    rows += [(f"warnings_by_source.{key}", f"{_l('接收预警')} · {label}", COUNT) for key, label in source_labels()]
    rows += [("warnings_returned", _l("退回（非本辖区）"), COUNT), ("persons", _l("涉及人员"), COUNT),
             ("cases_new", _l("新建任务"), COUNT), ("repeat_warnings", _l("重复预警"), COUNT)]
    signed, attempt, reach = _l("按时签收率"), _l("按时首次尝试率"), _l("按时首次联系上率")
    minutes = _l("首次联系上用时中位数（分钟）")
    rows += [(f"signed_within_limit_pct.{t.value}", f"{signed} · {t.label}", PCT) for t in Tier]
    # 首次尝试 and 首次联系上 side by side, tier by tier: a call nobody answered is an attempt, not a contact
    for t in Tier:
        rows += [(f"first_attempt_within_limit_pct.{t.value}", f"{attempt} · {t.label}", PCT),
                 (f"first_reach_within_limit_pct.{t.value}", f"{reach} · {t.label}", PCT)]
    rows += [(f"median_minutes_to_first_reach.{t.value}", f"{minutes} · {t.label}", MINUTES) for t in Tier]
    rows += [(f"contacts_by_method.{m.value}", f"{_l('劝阻记录')} · {m.label}", COUNT) for m in Method]
    rows.append(("visited_high_pct", _l("高风险预警见人率"), PCT))
    rows += [(f"outcomes.{o.value}", f"{_l('处置结果')} · {o.label}", COUNT) for o in Outcome]
    rows += [("amount_dissuaded", _l("劝阻金额（元）"), MONEY), ("amount_defrauded", _l("受骗金额（元）"), MONEY),
             ("defrauded_after_warning_pct", _l("预警后被骗率"), PCT),
             ("app_registrations", _l("反诈APP注册"), COUNT), ("overdue_now", _l("当前超时任务"), COUNT),
             ("followups_done", _l("完成回访"), COUNT), ("followups_missed", _l("错过回访"), COUNT)]
    return rows


def _get(metrics: dict, path: str):
    value = metrics
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def metric_rows(report: dict) -> list[MetricRow]:
    """Every scalar metric of the report with the week before."""
    return [MetricRow(key, str(label), unit, _get(report["metrics"], key), _get(report["previous"], key))
            for key, label, unit in _layout()]


def first_contact_rows(report: dict) -> list[tuple]:
    """Per tier: (label, 首次尝试 this week, 首次联系上 this week, the same two the week before), side by side so a
    tier whose calls went unanswered never reads as contacted."""
    m, p = report["metrics"], report["previous"]
    keys = ("first_attempt_within_limit_pct", "first_reach_within_limit_pct")
    return [(t.label, *(_get(m, f"{k}.{t.value}") for k in keys), *(_get(p, f"{k}.{t.value}") for k in keys))
            for t in Tier]


def chart_has_data(report: dict, by_precinct: list[dict]) -> dict[str, bool]:
    """Which charts have something to draw (an empty one says 暂无数据 instead of bare axes)."""
    m, p = report["metrics"], report["previous"]
    medians = [*(m.get("median_minutes_to_first_reach") or {}).values(),
               *(p.get("median_minutes_to_first_reach") or {}).values()]
    return {"outcomes": any(any(r["outcomes"].values()) for r in by_precinct),
            "first_reach": any(v is not None for v in medians),
            "fraud_types": any(r["warnings"] or r["dissuaded"] or r["defrauded"] for r in m.get("by_fraud_type", []))}


FRAUD_HEADER = (_l("诈骗类型"), _l("预警数"), _l("及时劝阻"), _l("已被骗"), _l("劝阻金额（元）"))


def fraud_rows(report: dict) -> list[list]:
    """The table by fraud type: label, warnings, dissuaded, defrauded, amount dissuaded (Decimal)."""
    return [[FraudType(r["fraud_type"]).label, r["warnings"], r["dissuaded"], r["defrauded"],
             Decimal(r["amount_dissuaded"])] for r in report["metrics"]["by_fraud_type"]]


#: Characters a sheet name may not hold, and its length (Excel's rules).
_NOT_IN_SHEET_NAMES = str.maketrans({c: "_" for c in "[]:*?/\\"})


def precinct_sheet(report: dict, precinct) -> tuple[str, list[str], list[list]]:
    """One precinct's report as a sheet of the county's .xlsx: named by the precinct (its code keeps names of the
    same first 31 characters apart), the same rows as the county's first sheet."""
    name = f"{precinct.code} {precinct.name}".translate(_NOT_IN_SHEET_NAMES)[:31]
    header = [f"{report['week']} {precinct.name}", str(_l("本周")), str(_l("上周")), str(_l("变化"))]
    return name, header, [[r.label, r.cell(r.current), r.cell(r.previous), r.change_cell()]
                          for r in metric_rows(report)]


def _unit(code: str | None) -> str:
    """Whose report: the precinct's name as people say it (its code when it has left the directory), or 全县."""
    if code is None:
        return str(_l("全县"))
    return db.session.scalar(select(Precinct.name).where(Precinct.code == code)) or code


def report_sheets(report: dict) -> list[tuple[str, list[str], list[list]]]:
    """The .xlsx of a report: the metrics with the week before and the change, then the fraud-type table."""
    title = f"{report['week']} {_unit(report['precinct'])}"
    header = [title, str(_l("本周")), str(_l("上周")), str(_l("变化"))]
    rows = [[r.label, r.cell(r.current), r.cell(r.previous), r.change_cell()] for r in metric_rows(report)]
    return [(str(_l("周报")), header, rows), (str(_l("诈骗类型")), [str(h) for h in FRAUD_HEADER], fraud_rows(report)),
            *prevention_sheets(report)]
