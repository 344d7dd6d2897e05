"""Login and password forms, and the admin's account forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ..core.enums import Role


class LoginForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名。")), Length(max=64)],
                           render_kw={"autocomplete": "username", "autocapitalize": "none"})
    password = PasswordField(_l("密码"), validators=[DataRequired(_l("请输入密码。"))],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("登录"))


class PasswordForm(FlaskForm):
    current = PasswordField(_l("当前密码"), validators=[DataRequired(_l("请输入当前密码。"))],
                            render_kw={"autocomplete": "current-password"})
    new = PasswordField(_l("新密码"), validators=[DataRequired(_l("请输入新密码。"))],
                        render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("再次输入新密码"), validators=[EqualTo("new", _l("两次输入的新密码不一致。"))],
                            render_kw={"autocomplete": "new-password"})
    submit = SubmitField(_l("修改密码"))


class TotpForm(FlaskForm):
    code = StringField(_l("动态验证码（6 位数字）"), validators=[DataRequired(_l("请输入验证器应用显示的 6 位数字。")),
                                                         Length(max=10)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"})
    submit = SubmitField(_l("验证"))


class UserForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(_l("请输入用户名。")), Length(max=64)])
    display_name = StringField(_l("姓名"), validators=[Optional(), Length(max=64)])
    role = SelectField(_l("角色"), choices=Role.choices)
    precinct = SelectField(_l("派出所"), choices=[], validate_choice=False)
    password = PasswordField(_l("初始密码"), validators=[DataRequired(_l("请输入初始密码。"))])
    submit = SubmitField(_l("创建用户"))


class EditUserForm(FlaskForm):
    display_name = StringField(_l("姓名"), validators=[Optional(), Length(max=64)])
    role = SelectField(_l("角色"), choices=Role.choices)
    precinct = SelectField(_l("派出所"), choices=[], validate_choice=False)
    active = BooleanField(_l("账号在用（取消勾选即停用：无法登录，已登录的会话和接口令牌立即失效）"))
    submit = SubmitField(_l("保存修改"))


class SetPasswordForm(FlaskForm):
    password = PasswordField(_l("新的初始密码"), validators=[DataRequired(_l("请输入密码。"))])
    submit = SubmitField(_l("设置密码并启用"))
