"""The audit page's filter form (a GET form: it changes nothing, so it carries no CSRF token)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    username = StringField(_l("用户名"), validators=[Optional(), Length(max=64)])
    action = SelectField(_l("操作"), choices=[], validate_choice=False)
    date_from = DateField(_l("开始日期"), validators=[Optional()])
    date_to = DateField(_l("结束日期"), validators=[Optional()])
    success = SelectField(_l("结果"), choices=[SelectChoice("", _l("全部")), SelectChoice("yes", _l("成功")),
                                             SelectChoice("no", _l("失败"))],
                          validate_choice=False)  # a first visit has no value: not an error to show
