"""Forms of the worklist filter bar, the case actions and search."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from ..core.enums import CaseStatus, Method, Tier, WarningSource
from ..core.formdata import whole
from ..directory.models import Community, Precinct
from ..extensions import db
from .dispatch import MAX_REASON

ANY = [("", _l("全部"))]
#: The first option of a destination on the case page: the first precinct used to be chosen already, and 移交 with
#: only a reason typed sent the case there.
CHOOSE_DESTINATION = _l("请选择…")


class FilterForm(FlaskForm):
    """Read from the query string (no secrets in it: statuses, tiers, methods)."""

    class Meta:
        csrf = False

    # Callables: labels are read in the request's language, not frozen at import.
    status = SelectField(_l("状态"), choices=lambda: ANY + CaseStatus.choices(), default="")
    tier = SelectField(_l("风险等级"), choices=lambda: ANY + Tier.choices(), default="")
    method = SelectField(_l("方式"), choices=lambda: ANY + Method.choices(), default="")
    overdue = BooleanField(_l("只看超时"))
    pool = BooleanField(_l("只看待分配"))


class AssignForm(FlaskForm):
    officer = SelectField(_l("责任民警"), choices=[], validate_choice=False)
    submit = SubmitField(_l("指派"))


class BoardFilterForm(FilterForm):
    """The lead's board and the county queue: the worklist's filters, a community and the warnings' source."""

    community = SelectField(_l("社区"), choices=[], default="", validate_choice=False)
    source = SelectField(_l("预警来源"), choices=lambda: ANY + WarningSource.choices(), default="")


class BulkAssignForm(AssignForm):
    """The boards' action bar: the ticked cases, or every case the filter matches (all_matching)."""

    case_ids = SelectMultipleField(_l("任务"), choices=[], coerce=whole, validate_choice=False)
    all_matching = BooleanField(_l("全部符合条件的任务"))
    submit = SubmitField(_l("指派所选任务"))


class TransferForm(FlaskForm):
    destination = SelectField(_l("接收派出所"), choices=[], validators=[DataRequired(_l("请选择接收的派出所。"))])
    reason = TextAreaField(_l("移交原因"), validators=[
        DataRequired(_l("请填写移交原因。")), Length(max=MAX_REASON, message=_l("移交原因请控制在 500 字以内。"))])
    submit = SubmitField(_l("移交"))


class RouteForm(FlaskForm):
    destination = SelectField(_l("分派到"), choices=[], validators=[DataRequired(_l("请选择派出所。"))])
    submit = SubmitField(_l("分派"))


class RouteGroupForm(RouteForm):
    """Route every case of the queue whose warning names this precinct text (the board's groups)."""
    precinct_text = HiddenField()
    submit = SubmitField(_l("全部分派"))


class RequeueForm(FlaskForm):
    submit = SubmitField(_l("按当前目录重新匹配"))


class SearchForm(FlaskForm):
    q = StringField(_l("姓名、完整手机号或身份证号"), validators=[DataRequired(_l("请输入姓名、手机号或身份证号。")),
                                                        Length(max=64)])
    submit = SubmitField(_l("查找"))


def destination_choices(exclude_precinct_id: int | None = None, prompt=None) -> list[SelectChoice]:
    """Active precincts, each an option group with its communities: 'p:ID' (its pool) or 'c:ID'; after `prompt`
    (an empty first option, so that nothing is sent anywhere until someone chooses)."""
    choices = [SelectChoice("", prompt)] if prompt else []
    precincts = db.session.scalars(db.select(Precinct).where(Precinct.active.is_(True)).order_by(Precinct.code))
    for p in precincts:
        if p.id != exclude_precinct_id:
            choices.append(SelectChoice(f"p:{p.id}", _l("%(name)s（所内待分配）", name=p.name), optgroup=p.name))
            choices += [SelectChoice(f"c:{c.id}", c.name, optgroup=p.name) for c in p.communities]
    return choices


def destination(value: str) -> tuple[Precinct | None, Community | None]:
    """The precinct (and community) an option of destination_choices() stands for."""
    kind, _sep, ident = (value or "").partition(":")
    if not ident.isdigit():
        return None, None
    if kind == "c":
        community = db.session.get(Community, int(ident))
        return (community.precinct, community) if community else (None, None)
    return (db.session.get(Precinct, int(ident)) if kind == "p" else None), None
