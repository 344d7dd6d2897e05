"""Forms for managing users and the directory."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from ..enums import Role


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


class DirectoryForm(FlaskForm):
    file = FileField(_l("目录文件（CSV）"), validators=[FileRequired(_l("请选择文件。")),
                                                     FileAllowed(["csv"], _l("只接受 .csv 文件。"))])
    submit = SubmitField(_l("导入目录"))
