"""The directory upload form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import SubmitField


class DirectoryForm(FlaskForm):
    file = FileField(_l("目录文件（CSV）"), validators=[FileRequired(_l("请选择文件。")),
                                                     FileAllowed(["csv"], _l("只接受 .csv 文件。"))])
    submit = SubmitField(_l("导入目录"))
