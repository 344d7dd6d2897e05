"""The API blueprint: every request authenticates with its bearer token and acts as the token's user.

Handlers load through the same scoping function and call the same operations as the pages, commit once, and
answer JSON; refusals raise ApiError (or come back as an HTTP error) in the one error shape of `errors`.
"""
from __future__ import annotations

import datetime as dt
import json
import re
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import gettext as _

from ..core.enums import Role
from ..core.timeutil import local
from ..extensions import csrf, db, login_manager
from .errors import ApiError
from .tokens import token_user

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
#: Endpoints anyone may read without a token.
PUBLIC_ENDPOINTS = frozenset({"api.openapi"})


@bp.before_request
def authenticate():
    """The token's user becomes the request's user (current_user, the audit log); no session is used."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    user = token_user(request.headers.get("Authorization", ""), request.remote_addr or "")
    if user is None:
        return respond(*ApiError(401, _("需要有效的 API 令牌（Authorization: Bearer …）。")).body())
    g.api_user = user
    login_manager._update_request_context_with_user(user)
    return None


@bp.errorhandler(ApiError)
def api_error(exc: ApiError):
    db.session.rollback()
    return jsonify(exc.body()[0]), exc.status


def respond(body: dict | list, status: int = 200):
    """Commit the request's one transaction (the token's use included) and answer JSON."""
    db.session.commit()
    return jsonify(body), status


def roles(*allowed: Role):
    """Only tokens of these roles; others get 403."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if g.api_user.role not in allowed:
                raise ApiError(403, _("此令牌的角色（%(r)s）无权使用该接口。", r=g.api_user.role.label))
            return view(*args, **kwargs)
        return wrapped
    return decorator


def request_json():
    """The request body as JSON, None when it is not JSON; 400 for JSON nested too deep to parse, and for NaN or
    Infinity, which Python reads but JSON does not have (an ID sent as NaN would be stored as no ID at all)."""
    if not request.is_json:
        return None
    raw = request.get_data(cache=True)
    if not raw.strip():
        return None
    _check_json_size(raw)
    try:
        body = json.loads(raw, parse_constant=_no_constant)
    except RecursionError as exc:
        raise ApiError(400, _("JSON 嵌套层数过多，无法解析。")) from exc
    except _NotJson as exc:
        raise ApiError(400, _("JSON 中不能有 %(value)s：请改为 null 或一个具体的值。", value=str(exc))) from exc
    except UnicodeDecodeError as exc:
        raise ApiError(400, _("请求体须为 UTF-8 编码的 JSON（现在的编码无法读取，常见于 GBK）。")) from exc
    except json.JSONDecodeError as exc:
        raise ApiError(400, _("请求体不是有效的 JSON：第 %(line)d 行第 %(column)d 列附近有错（%(reason)s）。",
                              line=exc.lineno, column=exc.colno, reason=exc.msg)) from exc
    return _whole_characters(body) if _LONE_SURROGATE.search(raw) else body


#: Objects and values a JSON body may hold, counted on its bytes before it is parsed: a 50 MB body of `{},` is 16
#: million dicts (a gigabyte once parsed). A push holds one object per row (IMPORT_MAX_ROWS) of a few dozen fields.
FIELDS_PER_OBJECT = 64


def _check_json_size(raw: bytes) -> None:
    """Refuse, before parsing, a body with more objects or values than the largest push can have."""
    rows = current_app.config["IMPORT_MAX_ROWS"]
    if raw.count(b"{") + raw.count(b"[") > rows + 16 or raw.count(b",") > (rows + 16) * FIELDS_PER_OBJECT:
        raise ApiError(400, _("JSON 中的对象或值过多（最多 %(rows)s 条、每条 %(fields)d 个字段）。请分几次推送。",
                              rows=f"{rows:,}", fields=FIELDS_PER_OBJECT))


#: \ud83d written alone: half of an emoji, cut by a client that counts UTF-16 units (Java, JavaScript).
_LONE_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")


def _whole_characters(value):
    """The body with each half of a cut emoji replaced by U+FFFD: such a string cannot be stored or sent on."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, list):
        return [_whole_characters(v) for v in value]
    if isinstance(value, dict):
        return {_whole_characters(k): _whole_characters(v) for k, v in value.items()}
    return value


class _NotJson(ValueError):
    pass


def _no_constant(name: str):
    raise _NotJson(name)


def json_object() -> dict:
    """The request body as a JSON object, or 400."""
    body = request_json()
    if not isinstance(body, dict):
        raise ApiError(400, _("请求体须为 JSON 对象（Content-Type: application/json）。"))
    return body


def iso(value: dt.datetime | None) -> str | None:
    """A stored UTC time as ISO 8601 in Asia/Shanghai (+08:00), as every API time is given."""
    return local(value).isoformat(timespec="seconds") if value else None


def money(value) -> str | None:
    return f"{value:.2f}" if value is not None else None


from . import activities, cases, openapi, pushes, reports, warnings, watch  # noqa: E402,F401  (their routes join this blueprint)
