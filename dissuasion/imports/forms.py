"""The upload form (a file to preview) and the commit form (the previewed upload's token)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import HiddenField, SubmitField
from wtforms.validators import DataRequired


class UploadForm(FlaskForm):
    file = FileField(_l("预警名单文件（.xlsx、.xls 或 .csv）"), validators=[FileRequired(_l("请选择文件。"))])
    submit = SubmitField(_l("上传并预览"))


class CommitForm(FlaskForm):
    token = HiddenField(validators=[DataRequired()])
    #: The previewed file's sha256: a commit sent again once the upload is gone names the push it became.
    sha256 = HiddenField()
    submit = SubmitField(_l("确认导入"))
