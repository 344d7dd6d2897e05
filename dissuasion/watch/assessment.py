"""The monthly community assessment (考评): per community and per precinct, the indicators the product already
knows, each scored 0–100, weighted by the admin's weights (AssessmentWeight, defaults below), a score and a rank.

Every indicator is counted over the calendar month in Asia/Shanghai (its first 00:00 to the next month's first
00:00), over cases by their community (a case with none counts under its precinct as 未定社区), watch entries and
publicity activities by theirs (an activity held outside a community, at a market or a bank, likewise under 未定社区);
the definitions follow the weekly report's (reports/metrics.py) and the prevention domain's (prevention/queries.py)
and are shown on the page as written here.

宣传工作 counts the activities held that month (one entry of the publicity log is one, whatever its type or the
people it reached: every type records the activity, not every type records people). APP注册完成率 is the community's
registrations to date against its target: a target has a start day and no end, so any share of it per month would be
invented; the registrations from the target's day to the month's end (cases' 本次注册 and activities' registrations,
as prevention.queries.app_progress counts them) over the target, capped at the target, so the table at a month's end
shows what the prevention board showed that day. A community without a target (or a target of 0, or one that starts
after the month) has nothing to count; a precinct adds its communities' (capped) registrations and targets.

Scoring: a percentage scores itself; a count where more is better (warnings, 劝阻金额) scores its share of the
largest in the county that month (×100); a count where fewer is better (预警后被骗) scores 100 less that share. An
indicator with nothing to count (a percentage over no cases) is left out of that row's score, and the weights of
the others are scaled up to fill its place. score = Σ weight × part ÷ Σ weight, to one decimal; rank 1 is the
highest score, equal scores share a rank; a row with no score (nothing counted there that month) comes last,
unranked. 劝阻金额 and 预警后被骗 count only where there were cases that month (a warning, a case closed, a rate):
elsewhere "nobody defrauded" would score 100 for a place where nothing happened.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, or_, select

from ..auth.models import User
from ..cases.models import Case, EarlyWarning
from ..contacts.models import Contact
from ..core.auditlog import record
from ..core.enums import (
    CaseStatus,
    FollowUpKind,
    FollowUpStatus,
    MeetingMethod,
    Method,
    Outcome,
    Reached,
    Role,
    Tier,
    WatchStatus,
)
from ..core.exports import Percent
from ..core.timeutil import FIRST_YEAR, LAST_YEAR, from_local, local, now
from ..directory.models import Community, Precinct
from ..extensions import db
from ..followups.models import FollowUp
from ..prevention.models import AppTarget
from ..prevention.queries import (
    activities_by_community,
    activity_app_registrations,
    case_app_registrations,
    local_days,
    utc_span,
)
from ..reports.metrics import fen_sum, pct, yuan
from .models import AssessmentWeight, WatchEntry, WatchMeeting
from .operations import WatchError

MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    #: 'pct' (a percentage, scores itself), 'more' (more is better), 'fewer' (fewer is better).
    scoring: str
    default_weight: Decimal
    definition: str


#: The indicators in the table's order, with their default weights (they sum to 100: the eight of issue 25 gave up 20
#: of theirs to the two of the prevention log, 10 each: 预警见人率 25→20, 按时签收率 15→10, 回访 15→10, 见面 10→5).
INDICATORS: tuple[Indicator, ...] = (
    Indicator("warnings", _l("预警数"), "more", Decimal("0"),
              _l("当月推送（推送时间在当月）、落在该社区任务上的预警条数。反映工作量，默认权重 0。")),
    Indicator("visited_high_pct", _l("预警见人率"), "pct", Decimal("20"),
              _l("当月新建的特高危、高风险任务中，有一次面见且见到本人的比例（见面可在月后，算到计算时为止）。")),
    Indicator("signed_on_time_pct", _l("按时签收率"), "pct", Decimal("10"),
              _l("当月新建的任务中，在签收期限内签收的比例；分母为已签收或已过期限的任务（期限前移交、办结的不计）。")),
    Indicator("reached_on_time_pct", _l("按时首次联系率"), "pct", Decimal("15"),
              _l("当月新建的任务中，在联系期限内联系到本人或亲友的比例；分母为已联系到或已过期限的任务（期限前移交、办结的不计）。")),
    Indicator("revisits_on_time_pct", _l("回访按时完成率"), "pct", Decimal("10"),
              _l("到期时间在当月且已到期的回访中，在到期时间前完成的比例（取消的不计）。")),
    Indicator("amount_dissuaded", _l("劝阻金额"), "more", Decimal("10"),
              _l("当月以“及时劝阻”办结的任务的劝阻金额合计（元）；得分为占全县当月最高者的比例。")),
    Indicator("defrauded", _l("预警后被骗"), "fewer", Decimal("10"),
              _l("当月以“已被骗”办结的任务数；得分为 100 减去占全县当月最高者的比例，无人被骗得 100。")),
    Indicator("meetings_on_time_pct", _l("重点人员按时见面率"), "pct", Decimal("5"),
              _l("应见面时间在当月的重点关注见面中（已见面的，及到期未见面仍在关注中的），在应见面时间前见面的比例。")),
    Indicator("publicity", _l("宣传工作"), "more", Decimal("10"),
              _l("开展日期在当月的宣传工作登记场次（每登记一次算一场，不论类型和覆盖人数）；不在社区开展的（如集市、银行）"
                 "计入该所“未定社区”。得分为占全县当月最高者的比例。")),
    Indicator("app_target_pct", _l("APP注册完成率"), "pct", Decimal("10"),
              _l("国家反诈中心APP注册人数占社区注册目标的比例：从目标的起始日累计到当月末（本月算到现在），"
                 "注册人数为预警任务中“本次注册”的人加宣传工作登记的注册人次，与“注册目标”页的进度算法相同；"
                 "超过目标按 100% 计。目标没有截止日期，按累计完成率计，不折算到每月。没有目标的社区不计此项；"
                 "派出所为各社区之和（超额部分不抵其他社区）。")),
)
BY_KEY = {i.key: i for i in INDICATORS}


class MonthError(ValueError):
    pass


@dataclass(frozen=True)
class Month:
    label: str
    start: dt.datetime
    end: dt.datetime


def month_period(month: str | None) -> Month:
    """'2026-11' as [its first 00:00, the next month's first 00:00) Asia/Shanghai, in UTC; None: last month."""
    if not month:
        first = local(now()).date().replace(day=1)
        previous = (first - dt.timedelta(days=1)).replace(day=1)
        month = f"{previous:%Y-%m}"
    match = MONTH_RE.match(month)
    if not match or not 1 <= int(match[2]) <= 12:
        raise MonthError(str(_l("月份格式应为 2026-11。")))
    year, mon = int(match[1]), int(match[2])
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise MonthError(str(_l("月份应在 %(first)d 年至 %(last)d 年之间。", first=FIRST_YEAR, last=LAST_YEAR)))
    start = dt.date(year, mon, 1)
    end = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    return Month(month, from_local(dt.datetime.combine(start, dt.time())),
                 from_local(dt.datetime.combine(end, dt.time())))


def weights() -> dict[str, Decimal]:
    """Each indicator's weight: the admin's, else the default."""
    stored = dict(db.session.execute(select(AssessmentWeight.indicator, AssessmentWeight.weight)).all())
    return {i.key: Decimal(str(stored[i.key])) if i.key in stored else i.default_weight for i in INDICATORS}


def set_weights(values: dict[str, Decimal], by: User) -> None:
    """The admin's weights (0–100 each; at least one above 0); audited."""
    errors = {}
    for key, value in values.items():
        if key not in BY_KEY:
            errors[key] = str(_l("没有这个指标。"))
        elif value is None or not Decimal(0) <= value <= Decimal(100):
            errors[key] = str(_l("权重须为 0 到 100 之间的数。"))
    if not errors and not any(v > 0 for v in values.values()):
        errors[""] = str(_l("至少要有一个指标的权重大于 0。"))
    if errors:
        raise WatchError(errors)
    for key, value in values.items():
        row = db.session.get(AssessmentWeight, key)
        if row is None:
            db.session.add(AssessmentWeight(indicator=key, weight=value))
        else:
            row.weight = value
    db.session.flush()
    record("assessment_weights", "assessment", "", user=by, **{k: str(v) for k, v in values.items()})


@dataclass
class Row:
    """One community (or precinct) of the table: its raw values, each indicator's part, the score and rank."""

    precinct_id: int
    community_id: int | None
    name: str
    precinct_name: str
    counts: dict = field(default_factory=dict)  # key -> (numerator, denominator) for pct, value for the others
    values: dict = field(default_factory=dict)
    parts: dict = field(default_factory=dict)
    score: Decimal | None = None
    rank: int | None = None


def _in(column, month: Month):
    return and_(column >= month.start, column < month.end)


def _add(raw: dict, key: tuple, indicator: str, value, whole=None) -> None:
    slot = raw.setdefault(key, {})
    if whole is None:
        slot[indicator] = slot.get(indicator, 0) + (value or 0)
    else:
        num, den = slot.get(indicator, (0, 0))
        slot[indicator] = (num + (value or 0), den + (whole or 0))


def _raw(month: Month) -> dict[tuple, dict]:
    """(precinct_id, community_id) -> indicator -> value or (numerator, denominator), for the whole county."""
    at = now()
    raw: dict[tuple, dict] = {}
    place = (Case.precinct_id, Case.community_id)
    routed = Case.precinct_id.is_not(None)

    stmt = (select(*place, func.count(EarlyWarning.id)).join(Case, Case.id == EarlyWarning.case_id)
            .where(routed, _in(EarlyWarning.pushed_at, month)).group_by(*place))
    for p, c, n in db.session.execute(stmt):
        _add(raw, (p, c), "warnings", n)

    seen = exists().where(Contact.case_id == Case.id, Contact.method == Method.VISIT, Contact.reached == Reached.SELF)
    stmt = (select(*place, func.count(Case.id), func.sum(case((seen, 1), else_=0)))
            .where(routed, _in(Case.created_at, month), Case.tier.in_([t for t in Tier if t.needs_visit]))
            .group_by(*place))
    for p, c, total, visited in db.session.execute(stmt):
        _add(raw, (p, c), "visited_high_pct", visited, total)

    left = or_(Case.status == CaseStatus.TRANSFERRED, Case.closed_at.isnot(None))

    def within(done, deadline):
        return (func.sum(case((done <= deadline, 1), else_=0)),
                func.sum(case((or_(done.isnot(None), and_(deadline <= at, ~left)), 1), else_=0)))

    stmt = (select(*place, *within(Case.signed_at, Case.sign_deadline),
                   *within(Case.first_reached_at, Case.contact_deadline))
            .where(routed, _in(Case.created_at, month)).group_by(*place))
    for p, c, s_in, s_all, r_in, r_all in db.session.execute(stmt):
        _add(raw, (p, c), "signed_on_time_pct", s_in, s_all)
        _add(raw, (p, c), "reached_on_time_pct", r_in, r_all)

    on_time = and_(FollowUp.status == FollowUpStatus.DONE, FollowUp.done_at <= FollowUp.due_at)
    stmt = (select(*place, func.sum(case((on_time, 1), else_=0)), func.count(FollowUp.id))
            .join(Case, Case.id == FollowUp.case_id)
            .where(routed, FollowUp.kind == FollowUpKind.REVISIT, _in(FollowUp.due_at, month), FollowUp.due_at <= at,
                   FollowUp.status != FollowUpStatus.CANCELLED).group_by(*place))
    for p, c, done, total in db.session.execute(stmt):
        _add(raw, (p, c), "revisits_on_time_pct", done, total)

    stmt = (select(*place, Case.outcome, func.count(Case.id), fen_sum(Case.amount_dissuaded))
            .where(routed, _in(Case.closed_at, month), Case.outcome.in_((Outcome.DISSUADED, Outcome.DEFRAUDED)))
            .group_by(*place, Case.outcome))
    for p, c, outcome, n, fen in db.session.execute(stmt):
        if Outcome(outcome) == Outcome.DISSUADED:  # the amount belongs to 及时劝阻 alone (Outcome.fields)
            _add(raw, (p, c), "amount_dissuaded", yuan(fen))
        else:
            _add(raw, (p, c), "defrauded", n)

    where = (WatchEntry.precinct_id, WatchEntry.community_id)
    stmt = (select(*where, func.sum(case((WatchMeeting.met_at <= WatchMeeting.due_at, 1), else_=0)),
                   func.count(WatchMeeting.id)).join(WatchEntry, WatchEntry.id == WatchMeeting.entry_id)
            .where(_in(WatchMeeting.due_at, month), WatchMeeting.method != MeetingMethod.DOOR).group_by(*where))
    for p, c, met, total in db.session.execute(stmt):
        _add(raw, (p, c), "meetings_on_time_pct", met, total)
    stmt = (select(*where, func.count(WatchEntry.id))
            .where(WatchEntry.status == WatchStatus.ACTIVE, _in(WatchEntry.next_due_at, month),
                   WatchEntry.next_due_at < at).group_by(*where))
    for p, c, missed in db.session.execute(stmt):
        _add(raw, (p, c), "meetings_on_time_pct", 0, missed)

    first, last = local_days(month.start, month.end)
    for (p, c), n in activities_by_community(first, last).items():
        _add(raw, (p, c), "publicity", n)
    targets = db.session.execute(
        select(Community.precinct_id, AppTarget.community_id, AppTarget.target, AppTarget.since)
        .join(Community, Community.id == AppTarget.community_id)
        .where(AppTarget.target > 0, AppTarget.since <= last))
    counted: dict[dt.date, tuple[dict, dict]] = {}  # one pair of queries per start day, as app_progress does
    for p, c, target, since in targets:
        if since not in counted:
            counted[since] = (case_app_registrations(*utc_span(since, last)),
                              activity_app_registrations(since, last))
        cases, acts = counted[since]
        registered = cases.get((p, c), 0) + acts.get((p, c), 0)
        _add(raw, (p, c), "app_target_pct", min(registered, target), target)
    return raw


def _value(indicator: Indicator, raw):
    if indicator.scoring == "pct":
        num, den = raw if raw else (0, 0)
        return pct(num, den)
    if indicator.key == "amount_dissuaded":
        return raw if raw is not None else Decimal("0.00")
    return raw or 0


#: Indicators of how a month's cases ended: they say something of a row only where there were cases.
CASE_OUTCOMES = ("amount_dissuaded", "defrauded")
_CASE_RATES = ("visited_high_pct", "signed_on_time_pct", "reached_on_time_pct", "revisits_on_time_pct")


def _had_cases(r: Row) -> bool:
    v = r.values
    return bool(v["warnings"] or v["amount_dissuaded"] or v["defrauded"]
                or any(v[k] is not None for k in _CASE_RATES))


def _score(rows: list[Row], w: dict[str, Decimal]) -> None:
    """Parts, scores and ranks of the rows of one table (counts are scored against the table's largest)."""
    for indicator in INDICATORS:
        if indicator.scoring == "pct":
            for r in rows:
                v = r.values[indicator.key]
                r.parts[indicator.key] = None if v is None else Decimal(str(v))
            continue
        top = max((Decimal(r.values[indicator.key]) for r in rows), default=Decimal(0))
        for r in rows:
            share = Decimal(r.values[indicator.key]) * 100 / top if top else Decimal(0)
            r.parts[indicator.key] = share if indicator.scoring == "more" else Decimal(100) - share
    for r in rows:
        if not r.counts:  # nothing at all happened there that month: nothing to assess
            r.parts = dict.fromkeys(r.parts)
        elif not _had_cases(r):  # no warning and no case closed: "nobody defrauded" is no achievement there
            r.parts.update(dict.fromkeys(CASE_OUTCOMES))
        weighted = [(w[k], part) for k, part in r.parts.items() if part is not None and w[k] > 0]
        total = sum((wt for wt, _p in weighted), Decimal(0))
        r.score = (sum((wt * p for wt, p in weighted), Decimal(0)) / total).quantize(
            Decimal("0.1"), ROUND_HALF_UP) if total else None
        for k, part in r.parts.items():
            r.parts[k] = None if part is None else part.quantize(Decimal("0.1"), ROUND_HALF_UP)
    ranked = sorted((r for r in rows if r.score is not None), key=lambda r: r.score, reverse=True)
    for r in ranked:
        r.rank = 1 + sum(1 for o in ranked if o.score > r.score)


@dataclass
class Assessment:
    month: Month
    weights: dict
    communities: list[Row]
    precincts: list[Row]


def may_read(user: User) -> bool:
    return user.role == Role.CENTER or (user.role == Role.LEAD and user.precinct_id is not None)


def assess(month: Month, user: User) -> Assessment:
    """The table for a month, scored over the county; a lead reads their precinct's rows (with their county rank)."""
    raw = _raw(month)
    w = weights()
    precincts = {p.id: p for p in db.session.scalars(select(Precinct).where(Precinct.active.is_(True)))}
    communities = {c.id: c for c in db.session.scalars(select(Community))}
    keys = {(c.precinct_id, c.id) for c in communities.values() if c.precinct_id in precincts} | set(raw)
    community_rows = []
    for p, c in keys:
        if p not in precincts:
            continue
        row = Row(p, c, communities[c].name if c in communities else str(_l("未定社区")), precincts[p].name,
                  counts=raw.get((p, c), {}))
        if c is None and not row.counts:
            continue
        community_rows.append(row)
    precinct_counts: dict[int, dict] = {}
    for row in community_rows:
        for key, value in row.counts.items():
            if isinstance(value, tuple):
                _add(precinct_counts, row.precinct_id, key, *value)
            else:
                _add(precinct_counts, row.precinct_id, key, value)
    precinct_rows = [Row(p, None, precincts[p].name, precincts[p].name, counts=precinct_counts.get(p, {}))
                     for p in precincts]
    for rows in (community_rows, precinct_rows):
        for r in rows:
            r.values = {i.key: _value(i, r.counts.get(i.key)) for i in INDICATORS}
        _score(rows, w)
    order = lambda r: (r.rank is None, r.rank or 0, r.precinct_name, r.name)  # noqa: E731
    community_rows.sort(key=order)
    precinct_rows.sort(key=order)
    if user.role == Role.LEAD:
        community_rows = [r for r in community_rows if r.precinct_id == user.precinct_id]
        precinct_rows = [r for r in precinct_rows if r.precinct_id == user.precinct_id]
    return Assessment(month, w, community_rows, precinct_rows)


def _sheet_value(indicator: Indicator, value):
    return Percent(value) if indicator.scoring == "pct" and value is not None else value


def table_rows(rows: list[Row], with_precinct: bool) -> list[list]:
    """The rows as the .xlsx holds them (a rate as a percentage: 87.5 reads 87.5%)."""
    out = []
    for r in rows:
        line = [r.rank, r.precinct_name] + ([r.name] if with_precinct else [])
        line += [_sheet_value(i, r.values[i.key]) for i in INDICATORS] + [r.score]
        out.append(line)
    return out
