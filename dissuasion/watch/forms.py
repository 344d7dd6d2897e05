"""Forms of the watch list: a new entry, a meeting, ending an entry, the 台账's filters, the admin's settings.
Choices are filled by the views; the rules are checked by the operations, which say what to fix."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.enums import MeetingFlag, MeetingMethod, MetBy
from .models import DEFAULT_INTERVAL_DAYS

ANY = [("", _l("全部"))]


class EntryForm(FlaskForm):
    name = StringField(_l("姓名"))
    id_number = StringField(_l("身份证号码"))
    phone = StringField(_l("手机号码"))
    kind = SelectField(_l("关注类别"), choices=[], validate_choice=False)
    precinct = SelectField(_l("派出所"), choices=[], validate_choice=False)
    community = SelectField(_l("社区（村）"), choices=[], validate_choice=False)
    officer = SelectField(_l("责任民警"), choices=[], validate_choice=False)
    cadre_name = StringField(_l("责任干部姓名"))
    cadre_phone = StringField(_l("责任干部电话"))
    interval_days = IntegerField(_l("见面间隔（天）"), default=DEFAULT_INTERVAL_DAYS,
                                 validators=[InputRequired(_l("请填写见面间隔天数。"))])
    starts_on = DateField(_l("开始日期"), validators=[Optional()])
    ends_on = DateField(_l("结束日期（可不填）"), validators=[Optional()])
    note = TextAreaField(_l("备注"))


class EditForm(FlaskForm):
    community = SelectField(_l("社区（村）"), choices=[], validate_choice=False)
    officer = SelectField(_l("责任民警"), choices=[], validate_choice=False)
    cadre_name = StringField(_l("责任干部姓名"))
    cadre_phone = StringField(_l("责任干部电话"))
    interval_days = IntegerField(_l("见面间隔（天）"), validators=[InputRequired(_l("请填写见面间隔天数。"))])
    ends_on = DateField(_l("结束日期（可不填）"), validators=[Optional()])


class MeetingForm(FlaskForm):
    met_at = DateTimeLocalField(_l("见面时间"), format="%Y-%m-%dT%H:%M",
                                validators=[InputRequired(_l("请填写见面时间。"))])
    met_by = SelectField(_l("见面人"), choices=lambda: MetBy.choices(), default=MetBy.OFFICER.value)
    method = SelectField(_l("方式"), choices=lambda: MeetingMethod.choices(), default=MeetingMethod.VISIT.value)
    place = StringField(_l("地点"))
    observed = TextAreaField(_l("见面情况"))
    flags = SelectMultipleField(_l("情况标记"), choices=lambda: MeetingFlag.choices(), validate_choice=False,
                                widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())


class EndForm(FlaskForm):
    reason = StringField(_l("结束原因"), render_kw={"data-needed": ""})  # no "are you sure" before it is filled


class RegisterFilterForm(FlaskForm):
    class Meta:
        csrf = False

    precinct = SelectField(_l("派出所"), choices=[], default="", validate_choice=False)
    community = SelectField(_l("社区（村）"), choices=[], default="", validate_choice=False)
    kind = SelectField(_l("关注类别"), choices=[], default="", validate_choice=False)
    status = SelectField(_l("状态"), choices=[], default="active", validate_choice=False)
    overdue = BooleanField(_l("只看逾期未见面"))


class KindForm(FlaskForm):
    name = StringField(_l("新增关注类别"))
