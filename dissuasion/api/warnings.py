"""POST /api/v1/warnings: a warning entered by hand (SPEC "Fixed points"), with the page's checks and operation."""
from __future__ import annotations

from flask import g
from flask_babel import gettext as _

from ..cases.entry import EntryError, enter_warning, in_reach, parse_entry
from ..core.database import waits_its_turn
from ..core.enums import Role
from .errors import ApiError
from .routes import bp, json_object, respond, roles


@bp.post("/warnings")
@roles(Role.CENTER, Role.LEAD)
@waits_its_turn  # (behind a push's write, as the API's push does, up to WEB_TURN_TIMEOUT_MS; then 503 busy)
def enter():
    """录入预警: 201 with its SD- number, its case and whether it joined the person's open case; 422 per field."""
    try:
        entry = parse_entry(json_object(), g.api_user)
    except EntryError as exc:
        raise ApiError(422, _("预警未保存：请按各字段的提示修改后重新提交。"), exc.fields, code="invalid") from exc
    result = enter_warning(entry, g.api_user)
    # a case outside the caller's lists (the person's open case in another precinct) is not named
    case_id = result.case.id if in_reach(g.api_user, result.case) else None
    return respond({"warning_number": result.warning.warning_no, "case_id": case_id,
                    "attached": not result.case_created}, 201)
