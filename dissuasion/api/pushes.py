"""POST /api/v1/pushes (issue 3 item 5): the center pushes a file or JSON rows; the answer is SPEC's summary.

A small push is committed in its request (201, 200 the same file again, 400 refused). A big one (more than
IMPORT_ASYNC_ROWS rows, or a body over IMPORT_ASYNC_BYTES), or any push sent with `Prefer: respond-async`, is kept
(encrypted, in the database) and committed by a worker process: 202 with `Location` and the status URL,
GET /api/v1/pushes/jobs/<id> (state, progress, and the summary once done, or the refusal).
"""
from __future__ import annotations

from flask import current_app, g, request, url_for
from flask_babel import gettext as _

from ..core.database import waits_its_turn
from ..core.enums import Role, WarningSource
from ..extensions import db
from ..imports.pipeline import ImportRefused, import_file, import_rows, rows_body
from ..imports.tasks import API_ROWS, queue_commit
from ..imports.uploads import COMMIT_JOB, save_upload
from ..jobs import progress as job_progress
from ..jobs.models import FAILED, Job
from .errors import ApiError
from .routes import bp, request_json, respond, roles


def _asked_async() -> bool:
    prefer = request.headers.get("Prefer", "")
    return any(part.strip().lower() == "respond-async" for part in prefer.replace(";", ",").split(","))


def _big(size: int, rows: int = 0) -> bool:
    config = current_app.config
    return rows > config["IMPORT_ASYNC_ROWS"] or size > config["IMPORT_ASYNC_BYTES"]


def _file():
    upload = request.files.get("file")  # a body over MAX_CONTENT_LENGTH stops here with 413
    if upload is None or not upload.filename:
        raise ApiError(400, _("请以 multipart 字段 file 上传名单文件。"), {"file": _("必填。")})
    return upload.filename, upload.read()


def _rows():
    body = request_json()
    return body.get("rows") if isinstance(body, dict) else body


@bp.post("/pushes")
@roles(Role.CENTER)
@waits_its_turn  # (its token's row too: two pushes with one token take turns; busy only past WEB_TURN_TIMEOUT_MS)
def push():
    """One push, one transaction: 201 committed, 200 the same file again, 400 refused with nothing written; a big
    one (or `Prefer: respond-async`): 202, committed by a worker, followed at the status URL."""
    if request.mimetype == "multipart/form-data":
        filename, data = _file()
        if _asked_async() or _big(len(data)):
            return _queued(filename, data, {"source": WarningSource.API.value})
        run = lambda: import_file(filename, data, by=g.api_user, source=WarningSource.API)  # noqa: E731
    else:
        rows = _rows()
        if isinstance(rows, list) and rows and (_asked_async() or _big(len(request.get_data()), len(rows))):
            return _queued(API_ROWS, rows_body(rows), {"source": WarningSource.API.value, "rows": True})
        run = lambda: import_rows(rows, by=g.api_user, source=WarningSource.API)  # noqa: E731
    try:
        summary = run()
    except ImportRefused as exc:
        raise ApiError(400, str(exc), code="refused") from exc
    return respond(summary.as_json(), 201 if summary.status == "committed" else 200)


def _queued(filename: str, data: bytes, payload: dict):
    """Keep the push and queue its commit: 202, Location: the job's status URL."""
    upload = save_upload(filename, data, g.api_user)
    job = queue_commit(upload.token, g.api_user, {**payload, "file_name": upload.filename})
    url = url_for("api.push_job", job_id=job.id)
    body, status = respond(_job_body(job), 202)
    return body, status, {"Location": url}


def _job_body(job: Job) -> dict:
    seen = job_progress.shown(job)
    body = {"job_id": job.id, "state": job.state, "status_url": url_for("api.push_job", job_id=job.id),
            "attempts": job.attempts,
            "progress": {"stage": seen["stage"], "done": seen["done"] or 0, "total": seen["total"] or 0},
            "result": job.result if job.state == "done" else None, "error": None}
    if job.state == FAILED:
        body["error"] = {"code": job.failed_code, "message": job.error}
    return body


@bp.get("/pushes/jobs/<int:job_id>")
@roles(Role.CENTER)
def push_job(job_id: int):
    """A push committed by a worker: queued, running (stage, rows done of total), done (SPEC's summary in
    `result`) or failed (`error`, with nothing written)."""
    job = db.session.get(Job, job_id)
    if job is None or job.kind != COMMIT_JOB or job.created_by_id != g.api_user.id:  # only the caller's own
        raise ApiError(404, _("没有这个导入任务。"))
    return respond(_job_body(job))
