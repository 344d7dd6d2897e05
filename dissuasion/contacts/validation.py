"""Reading a contact from a form or from JSON: one set of checks for the page and the API.

The fields each outcome requires (decided where the issue was silent):
* 及时劝阻: 劝阻金额, more than 0 (the money the person was about to pay and did not);
* 已被骗: 受骗金额 (more than 0) and 受骗时间 (not in the future, not after the contact);
* 未联系上: a reason; the outcome may then only be 无法联系 (and 无法联系 needs 未联系上);
* 亲友: the relation; their phone is optional but must be a valid number when given;
* 办结: an outcome. Times are Asia/Shanghai wall-clock when they carry no offset, and not in the future.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from ..core.enums import AppStatus, FailureReason, FraudType, Method, Outcome, Reached
from ..core.formdata import choice
from ..core.formdata import text_of as _text
from ..core.timeutil import now, typed_time
from ..privacy.pii import normalize_phone, phone_valid

#: A phone's clock may run a little ahead of the server's.
CLOCK_SKEW = dt.timedelta(minutes=2)
MAX_AMOUNT = Decimal("1000000000000")
MAX_NOTE = 2000
OUTCOMES_REACHED = frozenset({Outcome.DISSUADED, Outcome.SELF_PROTECTED, Outcome.DEFRAUDED, Outcome.FALSE_ALARM})


@dataclass
class ContactInput:
    """A contact as checked: every value typed, every rule of the outcome met."""

    method: Method
    reached: Reached
    contacted_at: dt.datetime
    relative_relation: str = ""
    relative_phone: str | None = None
    failure_reason: FailureReason | None = None
    outcome: Outcome | None = None
    amount_dissuaded: Decimal | None = None
    amount_defrauded: Decimal | None = None
    defrauded_at: dt.datetime | None = None
    fraud_type: FraudType | None = None
    app_status: AppStatus | None = None
    note: str = ""


class InputError(ValueError):
    """Bad input: `fields` maps each field to what to fix, in Chinese."""

    def __init__(self, fields: dict[str, str], message: str | None = None):
        self.fields = fields
        super().__init__(message or _("请修改标出的内容后再提交。"))


def amount(data: Mapping, key: str, errors: dict) -> Decimal | None:
    """Yuan: a number not negative with at most two decimals; '' is None."""
    value = _text(data, key).replace(",", "").replace("，", "")
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        errors[key] = _("请填写金额数字，如 5000.00。")
        return None
    if not number.is_finite():  # NaN, Infinity: Decimal reads them, but they are no amount
        errors[key] = _("请填写金额数字，如 5000.00。")
    elif number < 0:
        errors[key] = _("金额不能为负数。")
    elif number.as_tuple().exponent < -2:
        errors[key] = _("金额最多两位小数。")
    elif number >= MAX_AMOUNT:
        errors[key] = _("金额过大，请核对。")
    else:
        return number.quantize(Decimal("0.01"))
    return None


def moment(data: Mapping, key: str, errors: dict, default: dt.datetime | None = None) -> dt.datetime | None:
    """A time as typed (2026-11-16T09:30, local) or in ISO 8601 with an offset; never in the future."""
    value = _text(data, key)
    if not value:
        return default
    try:
        at = typed_time(value)
    except ValueError:
        errors[key] = _("时间格式不对，请按 2026-11-16 09:30 填写。")
        return None
    if at > now() + CLOCK_SKEW:
        errors[key] = _("时间不能晚于现在。")
        return None
    return at


def parse_contact(data: Mapping, closing: bool) -> ContactInput:
    """Check a contact's fields; raises InputError naming every field to fix, else returns them typed."""
    errors: dict[str, str] = {}
    method = choice(data, "method", Method, errors, _("请选择联系方式。"))
    reached = choice(data, "reached", Reached, errors, _("请选择联系到了谁。"))
    outcome = choice(data, "outcome", Outcome, errors, _("办结须选择处置结果。") if closing else None)
    found = ContactInput(method=method, reached=reached, contacted_at=moment(data, "contacted_at", errors, now()),
                         outcome=outcome, fraud_type=choice(data, "fraud_type", FraudType, errors),
                         app_status=choice(data, "app", AppStatus, errors), note=_text(data, "note"))
    if len(found.note) > MAX_NOTE:
        errors["note"] = _("备注请控制在 %(n)d 字以内。", n=MAX_NOTE)
    _who(data, found, errors)
    _result(data, found, errors)
    if errors:
        raise InputError(errors)
    return found


def _who(data: Mapping, found: ContactInput, errors: dict) -> None:
    if found.reached == Reached.NONE:
        found.failure_reason = choice(data, "failure_reason", FailureReason, errors, _("请选择未联系上的原因。"))
        if found.outcome in OUTCOMES_REACHED:
            errors["outcome"] = _("未联系上时，处置结果只能是“无法联系”或留空。")
    elif found.reached is not None and found.outcome == Outcome.UNREACHABLE:
        errors["outcome"] = _("已联系上，处置结果不能是“无法联系”。")
    if found.reached == Reached.RELATIVE:
        found.relative_relation = _text(data, "relative_relation")[:32]
        if not found.relative_relation:
            errors["relative_relation"] = _("请填写亲友与本人的关系，如“女儿”。")
        if phone := _text(data, "relative_phone"):
            found.relative_phone = normalize_phone(phone)
            if not phone_valid(found.relative_phone):
                errors["relative_phone"] = _("亲友电话格式不对：手机 11 位，座机带区号。")


def _result(data: Mapping, found: ContactInput, errors: dict) -> None:
    """The amounts (and 受骗时间) of the outcome chosen, and only those: 劝阻金额 typed for 及时劝阻 and then the
    outcome changed (the field hidden, its value still sent) is not money kept from the scammers."""
    if found.outcome == Outcome.DISSUADED:
        found.amount_dissuaded = amount(data, "amount_dissuaded", errors)
        if "amount_dissuaded" not in errors and not found.amount_dissuaded:
            errors["amount_dissuaded"] = _("及时劝阻须填写劝阻金额（大于 0）。")
    if found.outcome == Outcome.DEFRAUDED:
        found.amount_defrauded = amount(data, "amount_defrauded", errors)
        found.defrauded_at = moment(data, "defrauded_at", errors)
        if "amount_defrauded" not in errors and not found.amount_defrauded:
            errors["amount_defrauded"] = _("已被骗须填写受骗金额（大于 0）。")
        if "defrauded_at" not in errors and found.defrauded_at is None:
            errors["defrauded_at"] = _("已被骗须填写受骗时间。")
        if found.defrauded_at and found.contacted_at and found.defrauded_at > found.contacted_at:
            errors["defrauded_at"] = _("受骗时间不能晚于联系时间。")
