"""Error pages in the user's language; a 500 rolls back whatever the request had half-written."""
import re

from flask import Flask, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug import exceptions

from ..extensions import db, login_manager
from .database import is_lock_timeout
from .i18n import N_

#: HTTP status -> the error code API clients switch on (the API's error shape, api/errors.py, uses them too).
CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 500: "server_error", 503: "busy"}
#: A request that waited too long for a lock: the API's message, and the page's in the user's language.
BUSY = N_("这条记录正被其他操作占用（通常是一批导入正在写入，只要几秒），本次操作没有保存。"
          "请稍候几秒再提交一次。")
MESSAGES = {400: "请求有误", 403: "没有权限", 404: "页面不存在", 405: "不支持的操作", 409: "冲突", 413: "文件太大",
            500: "服务器出错", 503: BUSY}
#: Seconds a client is told to wait before trying again after a busy answer (a push's write takes seconds).
RETRY_AFTER = 5


class Conflict(exceptions.Conflict):
    """409: the thing asked for changed hands meanwhile. The message says what happened (the page shows it with a
    way back to `back`, an endpoint); `fields` go into the API's error body."""

    def __init__(self, message: str, fields: dict | None = None, back: str | None = None):
        super().__init__(message)
        self.fields, self.back = fields or {}, back


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    def handle(error):
        code = getattr(error, "code", 500) or 500
        if code >= 500:
            db.session.rollback()
        conflict = error if isinstance(error, Conflict) else None
        if _wants_json():
            return jsonify(error={"code": CODES.get(code, str(code)),
                                  "message": conflict.description if conflict else MESSAGES.get(code, ""),
                                  "fields": conflict.fields if conflict else {}}), code
        return render_template("errors/error.html", code=code, conflict=conflict), code

    for code in (400, 403, 404, 405, 409, 413, 500):
        app.register_error_handler(code, handle)

    def handle_csrf(error):
        """A form without its token (expired page, or a forged cross-site post): say how to go on. Logged out
        meanwhile (in another tab, or the session ended): the token went with the session; log in again."""
        if _wants_json():
            return handle(error)
        if not current_user.is_authenticated and request.blueprint != "auth":
            return login_manager.unauthorized()
        return render_template("errors/error.html", code=400, csrf=True), 400

    app.register_error_handler(CSRFError, handle_csrf)

    def handle_database(error):
        """A request that waited too long for a row a push is writing (core/database.WEB_LOCK_TIMEOUT_MS): nothing
        was saved; say so, and let the user send the same form again in a moment without typing it again."""
        if not is_lock_timeout(error):
            raise error
        db.session.rollback()
        retry = {"Retry-After": str(RETRY_AFTER)}
        if _wants_json():
            return jsonify(error={"code": CODES[503], "message": MESSAGES[503], "fields": {}}), 503, retry
        return render_template("errors/error.html", code=503, busy=BUSY, resend=_resend()), 503, retry

    app.register_error_handler(OperationalError, handle_database)


def _resend() -> list[tuple[str, str]] | None:
    """The fields of the form this request posted, to post them again as they were (its CSRF token included); None
    when there is no such form (a GET, or a file upload: a file cannot be sent again from a page) or when it is an
    account's form (a password must never be written back into a page)."""
    if (request.method != "POST" or request.files or request.mimetype != "application/x-www-form-urlencoded"
            or request.blueprint in ACCOUNT_BLUEPRINTS):
        return None
    fields = list(request.form.items(multi=True))
    if any(_SECRET_FIELD.search(name) for name, _value in fields):
        return None
    return fields


#: Blueprints whose forms carry passwords, codes or secrets: a busy answer there offers no form to send again.
ACCOUNT_BLUEPRINTS = frozenset({"auth", "account", "users", "tokens"})
#: Field names of secrets, wherever they are.
_SECRET_FIELD = re.compile(r"password|passwd|secret|totp|^code$|^current$|^new$|^confirm$", re.I)
