"""工作总结 drafted from the data: the figures of a period (a week, a month, any span of days; the county or one
precinct) and the previous period of the same length, and the summary text precincts write, made from exactly
those figures. The user edits the text on the page before exporting it (.docx) or printing it."""
from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal

from flask_babel import force_locale
from sqlalchemy import func, select

from ..cases.models import Case, EarlyWarning
from ..core.enums import ActivityCount, ActivityKind, WarningSource
from ..directory.models import Precinct
from ..extensions import db
from ..prevention.queries import local_days
from .metrics import Scope, compute_metrics
from .prevention import prevention_figures
from .weeks import Period, days_period

TEN_THOUSAND = Decimal(10000)


def wan(amount: Decimal | str) -> str:
    """Yuan written as precincts write them in a summary: 万元 rounded down, with 余 when something was cut off.

    803,456.00 → 80余万元; 800,000 → 80万元; 35,600 → 3.5余万元; 5,000 → 0.5万元; 5,234 → 0.52余万元;
    under 100 yuan the yuan themselves (50元), and 0 → 0元."""
    amount = Decimal(amount)
    if amount <= 0:
        return "0元"
    if amount < 100:
        return f"{amount.normalize():f}元"
    places = Decimal(1) if amount >= 10 * TEN_THOUSAND else Decimal("0.1") if amount >= TEN_THOUSAND else Decimal(
        "0.01")
    exact = amount / TEN_THOUSAND
    shown = exact.quantize(places, ROUND_DOWN)
    text = f"{shown.normalize():f}"
    return f"{text}{'余' if shown != exact else ''}万元"


def warnings_by_source(period: Period, scope: Scope) -> dict:
    """The warnings counted in warnings_received (pushed_at in the period, in the scope's cases), by source."""
    stmt = scope.cases(select(EarlyWarning.source, func.count(EarlyWarning.id))
                       .join(Case, Case.id == EarlyWarning.case_id)
                       .where(EarlyWarning.pushed_at >= period.start, EarlyWarning.pushed_at < period.end)
                       .group_by(EarlyWarning.source))
    counts = {WarningSource(s): n for s, n in db.session.execute(stmt)}
    return {s.value: counts.get(s, 0) for s in WarningSource}


def previous_period(period: Period) -> Period:
    """The period to compare with: for a whole calendar month the month before (November → October), otherwise
    the span of the same number of days just before (a week → the week before)."""
    first, last = local_days(period.start, period.end)
    if first.day == 1 and (last + dt.timedelta(days=1)).day == 1 and first.replace(day=1) == last.replace(day=1):
        before = first - dt.timedelta(days=1)
        return days_period(before.replace(day=1), before)
    days = (last - first).days + 1
    return days_period(first - dt.timedelta(days=days), first - dt.timedelta(days=1))


def period_figures(period: Period, precinct_id: int | None, user=None) -> dict:
    """The figures of one period: the weekly report's metrics (the same functions) and the prevention totals."""
    scope = Scope(precinct_id, user)
    m = compute_metrics(period, scope, None)
    first, last = local_days(period.start, period.end)
    return {"from": first.isoformat(), "to": last.isoformat(), "warnings_received": m["warnings_received"],
            "warnings_by_source": warnings_by_source(period, scope), "persons": m["persons"],
            "cases_new": m["cases_new"], "dissuaded": m["outcomes"]["dissuaded"],
            "visited_high_pct": m["visited_high_pct"], "amount_dissuaded": m["amount_dissuaded"],
            "defrauded": m["outcomes"]["defrauded"], "amount_defrauded": m["amount_defrauded"],
            "app_registrations": m["app_registrations"],
            "prevention": prevention_figures(period, precinct_id, user)}


def summary_figures(first: dt.date, last: dt.date, precinct: Precinct | None = None, user=None) -> dict:
    """The figures of the summary for the days first..last and the same span before, for a precinct or the county."""
    period = days_period(first, last)
    pid = precinct.id if precinct else None
    return {"precinct": precinct.code if precinct else None, "unit": precinct.name if precinct else "全县",
            "current": period_figures(period, pid, user),
            "previous": period_figures(previous_period(period), pid, user)}


def _day(iso: str) -> str:
    d = dt.date.fromisoformat(iso)
    return f"{d.year}年{d.month}月{d.day}日"


def _span(f: dict) -> str:
    return f"{_day(f['from'])}至{_day(f['to'])}"


def _money(amount: str) -> str:
    """万元 as precincts write it, with the exact yuan after it (the report's own figure), unless it is 0."""
    exact = Decimal(amount)
    return f"{wan(exact)}（{exact:,.2f}元）" if exact else wan(exact)


def _seen(value) -> str:
    """预警见人率 of the high tiers, or that there were none to see."""
    return "本期无高风险预警" if value is None else f"高风险预警见人率{value:g}%"


def _compare(label: str, now_, before, unit: str) -> str:
    if now_ == before:
        change = "持平"
    elif now_ > before:
        change = f"增加{now_ - before}{unit}"
    else:
        change = f"减少{before - now_}{unit}"
    return f"{label}{now_}{unit}（上期{before}{unit}，{change}）"


#: The counts as a summary words them: (key, verb + noun before the number, unit after it).
COUNT_WORDS = ((ActivityCount.PEOPLE, "受教群众", "人次"), (ActivityCount.HOUSEHOLDS, "入户走访", "户"),
               (ActivityCount.MATERIALS, "发放宣传资料", "份"), (ActivityCount.BANNERS, "悬挂横幅、张贴标语", "条"),
               (ActivityCount.POSTS, "发布宣传信息", "条"), (ActivityCount.OFFICERS, "出动警力", "人"))
SOURCE_WORDS = {WarningSource.PUSH: "中心推送", WarningSource.API: "接口推送", WarningSource.MANUAL: "手工录入"}


def _source(key: str) -> str:
    """A warning source as a summary says it (a source another part adds: its own label)."""
    source = WarningSource(key)
    return SOURCE_WORDS.get(source, source.label)


def draft_text(figures: dict) -> str:
    """The summary in the form precincts write it, every number taken from `figures` (summary_figures). Always in
    Chinese, whatever the page's language: it is the precinct's official report (the labels it names, activity
    kinds and warning sources, included)."""
    with force_locale("zh_CN"):
        return _draft_text(figures)


def _draft_text(figures: dict) -> str:
    unit, cur, prev = figures["unit"], figures["current"], figures["previous"]
    p, pp = cur["prevention"], prev["prevention"]
    sources = "、".join(f"{_source(s)}{n}条" for s, n in cur["warnings_by_source"].items() if n)
    lines = [f"{unit}反诈工作总结（{_span(cur)}）", "", "一、预警劝阻工作",
             f"{_span(cur)}，{unit}共接收反诈预警{cur['warnings_received']}条"
             f"{'（其中' + sources + '）' if sources else ''}，涉及{cur['persons']}人，"
             f"新建劝阻任务{cur['cases_new']}件。"
             f"精准劝阻{cur['dissuaded']}人，避免事主经济损失共计{_money(cur['amount_dissuaded'])}；"
             f"{_seen(cur['visited_high_pct'])}；"
             f"预警后被骗{cur['defrauded']}人，被骗金额{_money(cur['amount_defrauded'])}；"
             f"劝阻中引导注册国家反诈中心APP{cur['app_registrations']}人。",
             "", "二、宣传防范工作", *_prevention_lines(p), "", "三、与上期对比",
              f"与上期（{_span(prev)}）相比：" + "；".join([
                  _compare("接收预警", cur["warnings_received"], prev["warnings_received"], "条"),
                  _compare("精准劝阻", cur["dissuaded"], prev["dissuaded"], "人"),
                  f"劝阻金额{wan(cur['amount_dissuaded'])}（上期{wan(prev['amount_dissuaded'])}）",
                  _compare("预警后被骗", cur["defrauded"], prev["defrauded"], "人"),
                  _compare("宣传活动", p["activities"], pp["activities"], "次"),
                  _compare("受教群众", p["people"], pp["people"], "人次"),
                  _compare("注册国家反诈中心APP", p["app"]["total"], pp["app"]["total"], "人次")]) + "。"]
    return "\n".join(lines)


def _prevention_lines(p: dict) -> list[str]:
    """二、宣传防范工作: the activities by type, the counts that are not 0, and APP registrations of both sources."""
    lines = []
    if p["activities"]:
        kinds = "、".join(f"{ActivityKind(k).label}{n}次" for k, n in p["by_kind"].items() if n)
        counts = "，".join(f"{words}{p[c.value]}{u}" for c, words, u in COUNT_WORDS if p[c.value])
        lines.append(f"开展宣传活动{p['activities']}次（{kinds}）"
                     f"{'，' + counts if counts else ''}；宣传活动中注册国家反诈中心APP{p['app']['activities']}人次。")
    else:
        lines.append("本期未登记宣传活动。")
    lines.append(f"本期注册国家反诈中心APP合计{p['app']['total']}人次（预警劝阻中{p['app']['cases']}人，"
                 f"宣传活动中{p['app']['activities']}人次）。")
    return lines
