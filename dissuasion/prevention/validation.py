"""Reading an activity from the form or from JSON: one set of checks for the page and the API.

Decided where the issue was silent: the day may not be in the future nor more than a year back; a community of the
precinct's directory or a place (or both) must be named; each count is a whole number from 0 to its maximum
(ActivityCount.maximum); a count the type does not record (户 for a lecture) must stay empty or 0; at least one of
the type's counts must be above 0, since an activity that reached nobody is not yet one to report.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import gettext as _

from ..core.enums import ActivityCount, ActivityKind
from ..core.formdata import choice, text_of
from ..core.timeutil import local, now, typed_day
from ..directory.models import Community, Precinct

MAX_NOTE = 2000
MAX_PLACE = 200
MAX_PARTICIPANTS = 200
#: Work older than this is last year's summary, not this one's.
OLDEST = dt.timedelta(days=366)


@dataclass
class ActivityInput:
    """An activity as checked: the type, the day, where, who, and every count (0 where the type has none)."""

    kind: ActivityKind
    held_on: dt.date
    community: Community | None
    place: str = ""
    participants: str = ""
    counts: dict[ActivityCount, int] = field(default_factory=dict)
    note: str = ""


class ActivityError(ValueError):
    """Bad input: `fields` maps each field to what to fix, in Chinese."""

    def __init__(self, fields: dict[str, str]):
        self.fields = fields
        super().__init__(_("请修改标出的内容后再提交。"))


def whole_number(data: Mapping, which: ActivityCount, errors: dict) -> int:
    """A count: '' is 0; otherwise a whole number from 0 to the count's maximum."""
    raw = data.get(which.value)
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return 0
    if isinstance(raw, bool) or isinstance(raw, float) and not raw.is_integer():
        errors[which.value] = _("%(what)s须为整数。", what=which.label)
        return 0
    text = str(int(raw)) if isinstance(raw, int | float) else str(raw).strip().replace(",", "").replace("，", "")
    if not text.lstrip("-").isdigit():
        errors[which.value] = _("%(what)s须为整数（如 120），不能有小数或文字。", what=which.label)
        return 0
    value = int(text)
    if value < 0:
        errors[which.value] = _("%(what)s不能为负数。", what=which.label)
    elif value > which.maximum:
        errors[which.value] = _("%(what)s最多填 %(max)s，请核对是否多打了 0。", what=which.label,
                                max=f"{which.maximum:,}")
    return value


def parse_day(data: Mapping, errors: dict) -> dt.date | None:
    text = text_of(data, "held_on")
    if not text:
        errors["held_on"] = _("请填写活动日期。")
        return None
    try:
        day = typed_day(text)
    except ValueError:
        errors["held_on"] = _("活动日期应为 2026-11-16 这样的日期。")
        return None
    today = local(now()).date()
    if day > today:
        errors["held_on"] = _("活动日期不能晚于今天。")
    elif day < today - OLDEST:
        errors["held_on"] = _("活动日期不能早于一年前。")
    return day


def parse_activity(data: Mapping, precinct: Precinct) -> ActivityInput:
    """The activity the form or the JSON describes, for this precinct; ActivityError says what to fix."""
    errors: dict[str, str] = {}
    kind = choice(data, "kind", ActivityKind, errors, _("请选择宣传类型。"))
    held_on = parse_day(data, errors)
    community, place = _where(data, precinct, errors)
    participants = text_of(data, "participants")
    if len(participants) > MAX_PARTICIPANTS:
        errors["participants"] = _("参与民警最多 %(n)d 个字。", n=MAX_PARTICIPANTS)
    note = text_of(data, "note")
    if len(note) > MAX_NOTE:
        errors["note"] = _("备注最多 %(n)d 个字。", n=MAX_NOTE)
    counts = {which: whole_number(data, which, errors) for which in ActivityCount}
    if kind is not None:
        _counts_fit_kind(kind, counts, errors)
    if errors:
        raise ActivityError(errors)
    return ActivityInput(kind=kind, held_on=held_on, community=community, place=place, participants=participants,
                         counts=counts, note=note)


def _where(data: Mapping, precinct: Precinct, errors: dict) -> tuple[Community | None, str]:
    name, place = text_of(data, "community"), text_of(data, "place")
    community = next((c for c in precinct.communities if c.name == name), None) if name else None
    if name and community is None:
        errors["community"] = _("“%(name)s”不是本所目录中的社区，请从列表中选择。", name=name[:40])
    if len(place) > MAX_PLACE:
        errors["place"] = _("地点最多 %(n)d 个字。", n=MAX_PLACE)
    if not name and not place:
        errors["community"] = _("请选择社区，或填写地点（如：城东农贸市场）。")
    return community, place


def _counts_fit_kind(kind: ActivityKind, counts: dict[ActivityCount, int], errors: dict) -> None:
    for which, value in counts.items():
        if value and which not in kind.counts and which.value not in errors:
            errors[which.value] = _("“%(kind)s”不登记%(what)s，请清空或改选宣传类型。", kind=kind.label,
                                    what=which.label)
            counts[which] = 0
    if not any(counts[w] for w in kind.counts) and not any(w.value in errors for w in ActivityCount):
        errors[kind.counts[0].value] = _("请至少填写一项数量（%(what)s）。",
                                         what="、".join(w.label for w in kind.counts))
