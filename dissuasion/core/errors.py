"""Error pages in the user's language; a 500 rolls back whatever the request had half-written."""
from flask import Flask, jsonify, render_template, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug import exceptions

from ..extensions import db, login_manager

#: HTTP status -> the error code API clients switch on (the API's error shape, api/errors.py, uses them too).
CODES = {400: "invalid", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 413: "too_large", 500: "server_error"}
MESSAGES = {400: "请求有误", 403: "没有权限", 404: "页面不存在", 405: "不支持的操作", 409: "冲突", 413: "文件太大",
            500: "服务器出错"}


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
