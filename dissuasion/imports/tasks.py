"""The imports' jobs: the commit of an upload (a job run by a worker process, not the web worker that queued it),
and the scheduled removal of uploads whose preview was never committed (imports/uploads.py)."""
import json

from flask import current_app

from ..auth.models import User
from ..core.bulk import gc_paused
from ..core.enums import WarningSource
from ..extensions import db
from ..jobs.models import Job
from ..jobs.operations import enqueue
from ..jobs.runner import JobRefused, run_inline
from .models import PendingUpload
from .pipeline import ImportRefused, analyse, duplicate_file, earlier_push, import_rows, write
from .uploads import COMMIT_JOB, discard_upload, kept_analysis, load_upload, remove_old_uploads

#: The upload's file name when an API push of JSON rows is kept as a job (its body is the rows).
API_ROWS = "api.json"
#: The upload of this job is gone: removed after two hours (its worker was down that long) or committed already.
UPLOAD_GONE = "找不到要导入的文件（上传后 2 小时内未完成导入的文件会被清理）。请重新上传。"


def queue_commit(token: str, by, payload: dict):
    """Queue the commit of a kept upload, committed so a worker sees it; with JOBS_INLINE (tests, no worker
    process) it is run here at once. Returns the job as it stands."""
    kept = db.session.execute(db.select(PendingUpload.file_name, PendingUpload.sha256).filter_by(token=token)).first()
    # (its sha256: should the upload be gone when the job runs, committed by another job for it, that push says so)
    payload = {"file_name": kept.file_name if kept else "", **payload, "sha256": kept.sha256 if kept else ""}
    job = enqueue(COMMIT_JOB, token, by=by, payload=payload)
    db.session.commit()
    if current_app.config["JOBS_INLINE"]:
        run_inline(job.id, commit_upload)
    return db.session.get(Job, job.id)


def remove_abandoned_uploads() -> int:
    """Remove the uploads older than two hours (a preview nobody committed); returns how many went."""
    removed = remove_old_uploads()
    db.session.commit()
    return removed


@gc_paused  # (as import_file: a push's objects all live until written; unpickling the judgement makes them too)
def commit_upload(job, progress) -> dict:
    """Import a kept upload in one transaction with its job's end: the preview's judgement when it can still be
    used, else the file read and judged again; the upload goes with the commit. Returns SPEC's summary."""
    upload = load_upload(job.ref, None)
    by = db.session.get(User, job.created_by_id) if job.created_by_id else None
    if upload is None:
        if job.payload.get("sha256") and (earlier := earlier_push(job.payload["sha256"])) is not None:
            # another job for the same upload imported it (确认导入 pressed in two tabs, or on two hosts, at once)
            return duplicate_file(earlier, job.payload.get("file_name", ""), by).as_json()
        raise JobRefused(UPLOAD_GONE)
    source = WarningSource(job.payload.get("source", WarningSource.PUSH.value))
    try:
        if upload.filename == API_ROWS and job.payload.get("rows"):
            summary = import_rows(json.loads(upload.data), by=by, source=source, progress=progress)
        else:
            analysis = kept_analysis(upload.token)
            if analysis is not None:
                progress("judge", len(analysis.results), len(analysis.results))
            else:
                analysis = analyse(upload.filename, upload.data, progress=progress)
            summary = write(analysis, by, source, progress=progress)
    except ImportRefused as exc:
        raise JobRefused(str(exc)) from exc
    discard_upload(upload.token)
    return summary.as_json()
