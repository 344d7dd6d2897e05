"""POST /api/v1/pushes (issue 3 item 5): the center pushes a file or JSON rows; the answer is SPEC's summary."""
from __future__ import annotations

from flask import g, request
from flask_babel import gettext as _

from ..core.enums import Role, WarningSource
from ..imports.pipeline import ImportRefused, import_file, import_rows
from .errors import ApiError
from .routes import bp, request_json, respond, roles


def _summary():
    """Import what the request carries: a multipart `file`, or JSON `{"rows": [...]}` (a bare list too)."""
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")  # a body over MAX_CONTENT_LENGTH stops here with 413
        if upload is None or not upload.filename:
            raise ApiError(400, _("请以 multipart 字段 file 上传名单文件。"), {"file": _("必填。")})
        return import_file(upload.filename, upload.read(), by=g.api_user, source=WarningSource.API)
    body = request_json()
    rows = body.get("rows") if isinstance(body, dict) else body
    return import_rows(rows, by=g.api_user, source=WarningSource.API)


@bp.post("/pushes")
@roles(Role.CENTER)
def push():
    """One push, one transaction: 201 committed, 200 the same file again, 400 refused with nothing written."""
    try:
        summary = _summary()
    except ImportRefused as exc:
        raise ApiError(400, str(exc), code="refused") from exc
    return respond(summary.as_json(), 201 if summary.status == "committed" else 200)
