"""The tier rules page: an admin reads and changes each tier's method, time limits and follow-ups."""
import re

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Optional

from ..core.decorators import roles_required
from ..core.enums import Method, Role, Tier
from ..extensions import db
from .rules import RuleError, rule_field_problems, rules_by_tier, update_rule

bp = Blueprint("rules", __name__, url_prefix="/admin")
_SEPARATORS = re.compile(r"[\s,，、;；]+")
_NUMBER = _l("请填写整数。")


class RuleForm(FlaskForm):
    method = SelectField(_l("劝阻方式"), choices=Method.choices)
    call_at_once = BooleanField(_l("同时立即电话"))
    sign_minutes = IntegerField(_l("签收时限（分钟）"), validators=[InputRequired(_NUMBER)])
    contact_minutes = IntegerField(_l("首次联系时限（分钟）"), validators=[InputRequired(_NUMBER)])
    retry_minutes = IntegerField(_l("重拨间隔（分钟，可空）"), validators=[Optional()])
    max_tries = IntegerField(_l("联系次数"), validators=[InputRequired(_NUMBER)])
    escalation = StringField(_l("联系失败后依次（如：经亲友、面见 或 无法联系）"))
    followup_days = StringField(_l("劝阻后第几天回访（如：3、7）"))
    watch_days = IntegerField(_l("关注期（天）"), validators=[InputRequired(_NUMBER)])
    away_method = SelectField(_l("外出务工人员的方式"), choices=Method.choices)
    away_relatives = BooleanField(_l("外出务工人员另需联系亲友"))
    submit = SubmitField(_l("保存"))


def _step_words() -> dict[str, str]:
    words = {m.label: m.value for m in Method} | {m.value: m.value for m in Method}
    return words | {_("无法联系"): "unreachable", "unreachable": "unreachable"}


def _step_label(step: str) -> str:
    return Method(step).label if step in Method._value2member_map_ else _("无法联系")


def _form_for(rule) -> RuleForm:
    form = RuleForm(prefix=rule.tier.value, obj=rule)
    form.escalation.data = "、".join(_step_label(s) for s in rule.escalation or [])
    form.followup_days.data = "、".join(str(d) for d in rule.followup_days or [])
    return form


#: Between escalation steps: not spaces, which English labels have ("Through relatives、Visit").
_STEP_SEPARATORS = re.compile(r"[,，、;；]+")


def _steps(text: str | None, words: dict[str, str]) -> list[str]:
    """The escalation steps typed, by label in either language or key; a part that is no step whole is read word
    by word (经亲友 面见)."""
    words = {k.lower(): v for k, v in words.items()}
    steps = []
    for part in _STEP_SEPARATORS.split(text or ""):
        part = " ".join(part.split())
        if part.lower() in words:
            steps.append(words[part.lower()])
        else:
            steps.extend(words.get(w.lower(), w) for w in part.split())
    return steps


def _values(form: RuleForm) -> tuple[dict, dict[str, str]]:
    """The form as rule values, and what could not be read at all (by field); unknown step words stay as they are
    so rule_field_problems can name them, and a number the form could not read is None."""
    words = _step_words()
    days = [d for d in _SEPARATORS.split(form.followup_days.data or "") if d]
    unread = {}
    if not all(d.isdigit() for d in days):
        unread["followup_days"] = _("回访日请填写天数，用顿号或逗号分开，例如：3、7。")
        days = []
    return dict(method=Method(form.method.data), call_at_once=form.call_at_once.data,
                sign_minutes=form.sign_minutes.data, contact_minutes=form.contact_minutes.data,
                retry_minutes=form.retry_minutes.data, max_tries=form.max_tries.data,
                escalation=_steps(form.escalation.data, words),
                followup_days=[int(d) for d in days], watch_days=form.watch_days.data,
                away_method=Method(form.away_method.data), away_relatives=form.away_relatives.data), unread


@bp.route("/rules")
@roles_required(Role.ADMIN)
def index():
    """Every tier's rule, each in its own form."""
    forms = {tier: _form_for(rule) for tier, rule in rules_by_tier().items()}
    return render_template("cases/rules.html", forms=forms)


@bp.post("/rules/<tier>")
@roles_required(Role.ADMIN)
def save(tier: str):
    """Save one tier's rule; new cases use it, existing cases keep their deadlines."""
    if tier not in Tier._value2member_map_:
        return redirect(url_for("rules.index"))
    tier = Tier(tier)
    form = RuleForm(prefix=tier.value)
    valid = form.validate_on_submit()
    if form.is_submitted() and "csrf_token" not in form.errors and form.method.data in Method._value2member_map_ \
            and form.away_method.data in Method._value2member_map_:
        values, unread = _values(form)
        problems = unread | rule_field_problems(values)  # every problem at once, each beside its field
        for name, message in problems.items():
            if not form[name].errors:
                form[name].errors = [*form[name].errors, message]
        if valid and not problems:
            try:
                update_rule(tier, values, by=current_user)
            except RuleError as exc:
                form.submit.errors = [str(exc)]
            else:
                db.session.commit()
                flash(_("已保存%(tier)s的规则；只对之后新建的任务生效。", tier=tier.label), "success")
                return redirect(url_for("rules.index"))
    flash(_("%(tier)s的规则未保存：请按该部分各项旁的提示修改后再保存。", tier=tier.label), "error")
    forms = {t: (form if t == tier else _form_for(rule)) for t, rule in rules_by_tier().items()}
    return render_template("cases/rules.html", forms=forms), 400
