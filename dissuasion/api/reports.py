"""The reports' endpoints (issue 6): the weekly report and feedback to the center, handled in reports.api."""
from flask import g, request

from ..database import writes_on_get
from ..reports.api import feedback, weekly_report
from .routes import bp, respond


@bp.get("/reports/weekly")
@writes_on_get
def get_weekly_report():
    """GET /api/v1/reports/weekly?week=2026-W47&precinct=PCS01."""
    return respond(*weekly_report(g.api_user, request.args))


@bp.get("/feedback")
@writes_on_get
def get_feedback():
    """GET /api/v1/feedback?from=2026-11-16&to=2026-11-22."""
    return respond(*feedback(g.api_user, request.args))
