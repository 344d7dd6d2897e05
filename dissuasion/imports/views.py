"""Center staff import the center's lists: upload, preview (nothing written), commit (a job a worker process runs,
followed on its progress page); pushes and their errors."""
import datetime as dt

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..core.auditlog import record
from ..core.database import writes_on_get
from ..core.decorators import roles_required
from ..core.enums import Role
from ..core.exports import export_allowed
from ..core.formdata import whole
from ..core.timeutil import now
from ..extensions import db
from ..jobs import progress as job_progress
from ..jobs.models import FAILED, INTERRUPTED, OPEN_STATES, QUEUED, RUNNING, Job
from ..jobs.operations import job_of, last_sign, stale
from ..jobs.runner import aside
from .forms import CommitForm, UploadForm
from .headers import NAME_OF_LABEL
from .models import Push, PushRowError
from .pipeline import ImportRefused, analyse, committed_message, earlier_push, sha256
from .report import export_error_report
from .rows import DUPLICATE, FLAGGED, REJECTED, UNROUTED, said
from .tasks import queue_commit
from .uploads import COMMIT_JOB, save_upload, upload_exists

bp = Blueprint("imports", __name__, url_prefix="/imports")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: What each verdict means to staff, in the order the pages list them.
VERDICTS = {REJECTED: _l("拒收（未导入）"), FLAGGED: _l("数据有问题（已导入）"), UNROUTED: _l("待分派（已导入）"),
            DUPLICATE: _l("重复（跳过）"), "note": _l("提示（已导入）"), "ok": _l("正常")}
#: The same, said before anything is written (the preview).
PREVIEW_VERDICTS = {REJECTED: _l("拒收（不导入）"), FLAGGED: _l("数据有问题（将导入）"),
                    UNROUTED: _l("待分派（将导入）"), DUPLICATE: _l("重复（将跳过）"), "note": _l("提示（将导入）"),
                    "ok": _l("正常")}
#: The order problems are listed in on the preview (the first 200 shown): rows refused, then doubtful ones.
PREVIEW_ORDER = {REJECTED: 0, FLAGGED: 1, UNROUTED: 2, "note": 3, DUPLICATE: 4}
#: The counters of a push, as staff read them.
COUNTER_LABELS = {"rows_total": _l("数据行"), "imported": _l("导入"), "flagged": _l("数据有问题"),
                  "rejected": _l("拒收"), "duplicates": _l("重复"), "unrouted": _l("待分派"),
                  "persons_created": _l("新建人员"), "cases_created": _l("新建任务"), "cases_updated": _l("更新任务"),
                  "cases_escalated": _l("提升等级")}
#: The same, before anything is written (the preview).
PREVIEW_COUNTER_LABELS = {**COUNTER_LABELS, "imported": _l("将导入")}
#: The preview shows this many rows of the file and this many problems.
PREVIEW_ROWS, PREVIEW_ERRORS = 20, 200


@bp.app_template_filter("field_name")
def field_name(label: str) -> str:
    """A field's stored Chinese name (the column mapping) in the user's language."""
    return NAME_OF_LABEL.get(label, label)


@bp.app_template_filter("problem_text")
def problem_text(problem) -> str:
    """A row problem's message in the user's language: a preview's (a dict) or a stored one (PushRowError)."""
    if isinstance(problem, PushRowError):
        return problem.text
    return said(problem.get("say"), problem["message"])


def _upload_page(form: UploadForm, refusal: str = "", status: int = 200):
    return render_template("imports/upload.html", form=form, refusal=refusal,
                           max_bytes=current_app.config["MAX_CONTENT_LENGTH"]), status


@bp.route("/upload")
@roles_required(Role.CENTER)
def upload():
    """Choose (or drop) a file; the preview comes before anything is written."""
    return _upload_page(UploadForm())


@bp.errorhandler(413)
def too_large(_error):
    """A file over the upload limit: say so on the upload page, not on a bare error page."""
    limit = current_app.config["MAX_CONTENT_LENGTH"] // (1024 * 1024)
    message = _("文件太大：上传上限为 %(mb)d MB。请去掉多余的工作表或列，或把名单拆成几个文件分别导入。", mb=limit)
    return _upload_page(UploadForm(formdata=None), message, 413)


@bp.route("/preview", methods=["POST"])
@roles_required(Role.CENTER)
def preview():
    """Read and judge the uploaded file and show what an import would do; writes nothing but the audit."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, status=400)
    filename, data = form.file.data.filename, form.file.data.read()
    try:  # judged at the jobs' lower priority: the officers' requests in the other web workers go first
        analysis = aside(lambda: analyse(filename, data))
    except ImportRefused as exc:
        record("import_preview", "file", "", success=False, file_name=filename, sha256=sha256(data))
        db.session.commit()
        return _upload_page(UploadForm(formdata=None), str(exc), 422)
    kept = save_upload(filename, data, current_user, analysis)  # with its judgement: the commit writes it as is
    earlier = earlier_push(kept.sha256)
    record("import_preview", "file", "", file_name=kept.filename, sha256=kept.sha256,
           rows_total=len(analysis.results))
    db.session.commit()
    # what will not be imported first, then what needs checking; duplicates and routing notes last
    errors = sorted(analysis.errors(), key=lambda e: PREVIEW_ORDER.get(e["verdict"], len(PREVIEW_ORDER)))
    return render_template("imports/preview.html", upload=kept, analysis=analysis, counts=analysis.counts(),
                           rows=analysis.results[:PREVIEW_ROWS], errors=errors[:PREVIEW_ERRORS],
                           more_errors=max(0, len(errors) - PREVIEW_ERRORS), earlier=earlier,
                           form=CommitForm(token=kept.token, sha256=kept.sha256), verdicts=PREVIEW_VERDICTS,
                           counter_labels=PREVIEW_COUNTER_LABELS,
                           taken_by_others=sum(1 for r in analysis.results if r.problems and r.problems[0].other),
                           mapping=analysis.header.mapping())


@bp.route("/commit", methods=["POST"])
@roles_required(Role.CENTER)
def commit():
    """Queue the previewed file's import (a worker process writes it in one transaction); show its progress."""
    form = CommitForm()
    token = form.token.data if form.validate_on_submit() else ""
    queued = job_of(COMMIT_JOB, token) if token else None
    if queued is not None and not queued.finished and queued.created_by_id == current_user.id:
        return redirect(url_for(".job_status", job_id=queued.id))  # pressed twice while it runs
    if not token or not upload_exists(token, current_user):
        done = earlier_push(form.sha256.data) if form.sha256.data else None
        if done is not None:  # committed already (the button pressed twice, a restored tab)
            flash(_("这个文件已经导入过（批次 #%(id)d），本次没有任何改动。", id=done.id), "warning")
            return redirect(url_for(".push_detail", push_id=done.id))
        flash(_("找不到刚才上传的文件（上传后 2 小时内未确认导入的文件会被清理）。请重新上传。"), "error")
        return redirect(url_for(".upload"))
    # 重新导入 after a job that gave up: the same kind of commit again (an API push's rows stay rows, its source API;
    # its sha256 is the kept upload's, as queue_commit reads it)
    job = queue_commit(token, current_user, queued.payload if queued is not None else {"source": "push"})
    if current_app.config["JOBS_INLINE"]:  # tests: it ran at once, no worker process
        return _outcome(job)
    return redirect(url_for(".job_status", job_id=job.id))


def _said(result: dict) -> str:
    """The outcome of a commit in the user's language (the CLI and the API give the summary's message, in
    Chinese)."""
    if result["status"] == "duplicate_file":
        return _("这个文件已经导入过（批次 #%(id)d），本次没有任何改动。", id=result["push_id"])
    return committed_message(result)


def _job_or_404(job_id: int) -> Job:
    """The user's own commit (job ids are counted: another's would tell its file and outcome)."""
    job = db.session.get(Job, job_id)
    if job is None or job.kind != COMMIT_JOB or job.created_by_id != current_user.id:
        abort(404)
    return job


def _outcome(job: Job):
    """A finished commit: its push (with what it did), or why the file was refused and what to fix; a commit whose
    runs broke offers to run again while its upload is still kept."""
    if job.state == FAILED:
        again = (CommitForm(token=job.ref, sha256=job.payload.get("sha256", ""))
                 if job.failed_code == INTERRUPTED and upload_exists(job.ref, current_user) else None)
        return render_template("imports/job.html", job=job, status=_status(job), again=again), 200
    flash(_said(job.result), "warning" if job.result["status"] == "duplicate_file" else "success")
    return redirect(url_for(".push_detail", push_id=job.result["push_id"]))


#: Where a stage puts the progress bar (percent at its start, and its width): judging is half, writing the rest.
STAGES = {"read": (2, 3), "judge": (5, 45), "write": (50, 15), "persons": (65, 15), "cases": (80, 15),
          "warnings": (95, 5)}
#: The write's three steps (a stage's report is its end; while it writes, its table's rows so far, cases/merge.py),
#: each WRITE_STEP percent of the bar, ending where STAGES puts the stage.
WRITING = ("persons", "cases", "warnings")
WRITE_STEP = 15


def _status(job: Job) -> dict:
    """What the progress page and its JSON say: the state, the stage, rows judged and written, a percent."""
    seen = job_progress.shown(job)
    stage, done, total = seen["stage"], seen["done"] or 0, seen["total"] or 0
    start, width = STAGES.get(stage, (0, 0))
    percent = 100 if job.state == "done" else start + (width * done // total if total and stage == "judge" else 0)
    if job.state == QUEUED:
        text = _("排队中，等待导入进程开始…") if job.attempts == 0 else _("上一次导入中断，已撤回，马上重新开始…")
    elif stage == "judge":
        text = _("正在检查每一行：%(done)s / %(total)s 行", done=f"{done:,}", total=f"{total:,}")
    elif stage in WRITING and total and done < total and job.state == RUNNING:  # a table's rows as they go in
        percent = STAGES[stage][0] - WRITE_STEP + WRITE_STEP * done // total
        said = {"done": f"{done:,}", "total": f"{total:,}"}
        text = (_("正在写入人员：%(done)s / %(total)s 行（第 1/3 步）", **said) if stage == "persons" else
                _("正在写入任务：%(done)s / %(total)s 行（第 2/3 步）", **said) if stage == "cases" else
                _("正在写入预警：%(done)s / %(total)s 行（第 3/3 步）", **said))
    elif stage in ("write", *WRITING):  # the write's start, or a step's end: the next step under way
        text = _("正在写入 %(total)s 条预警（人员、任务、预警，第 %(step)d/3 步）", total=f"{total:,}",
                 step=min(("write", *WRITING).index(stage) + 1, 3))
    elif job.state == RUNNING:
        text = _("正在读取文件…")
    else:
        text = ""
    at = now()
    stalled = job.state == RUNNING and stale(job, at, seen)  # (seen: this job's progress, read once above)
    if stalled:  # its worker stopped (killed, its host down): taken again once the lease is over, by a live worker
        silent = int((at - last_sign(job, seen)).total_seconds())
        if job.attempts < current_app.config["JOBS_MAX_ATTEMPTS"]:
            text = _("导入进程已有 %(seconds)d 秒没有回应，可能已中断：已写入的部分会整体撤回，由另一个导入进程重新"
                     "开始。如果长时间没有变化，请联系系统管理员检查导入进程。", seconds=silent)
        else:
            text = _("导入进程已有 %(seconds)d 秒没有回应，可能已中断：已写入的部分会整体撤回。已尝试 %(n)d 次，"
                     "不再自动重试；稍后本页会提供“重新导入”。如果长时间没有变化，请联系系统管理员检查导入进程。",
                     seconds=silent, n=job.attempts)
    elif job.state == RUNNING and job.attempts > 1:
        text = _("上一次导入中断，已撤回，正在重新导入。%(now)s", now=text)
    return {"id": job.id, "state": job.state, "stage": stage, "done": done, "total": total, "percent": percent,
            "text": text, "stalled": stalled, "error": job.error if job.state == FAILED else "",
            "url": url_for(".job_status", job_id=job.id) if job.finished else None}


@bp.route("/jobs/<int:job_id>")
@roles_required(Role.CENTER)
def job_status(job_id: int):
    """A commit under way: its progress (the page polls job_progress_json; without JS it reloads itself); once
    finished, its outcome."""
    job = _job_or_404(job_id)
    if job.finished:
        return _outcome(job)
    return render_template("imports/job.html", job=job, status=_status(job))


@bp.route("/jobs/<int:job_id>.json")
@roles_required(Role.CENTER)
def job_status_json(job_id: int):
    """The progress of a commit, for its page's script: state, stage, rows done of total, percent, text."""
    return jsonify(_status(_job_or_404(job_id)))


@bp.route("/")
@roles_required(Role.CENTER)
def pushes():
    """Every push, newest first, with its counters."""
    page = request.args.get("page", 1, type=whole)
    pagination = db.paginate(select(Push).order_by(Push.created_at.desc(), Push.id.desc()),
                             page=page, per_page=current_app.config["PER_PAGE"], error_out=False)
    return render_template("imports/pushes.html", pagination=pagination, counter_labels=COUNTER_LABELS,
                           jobs=_my_unfinished_commits() if page == 1 else [])


#: How long a commit that failed stays listed above the pushes (its page says why, and what to do).
FAILED_LISTED_DAYS = 7


def _my_unfinished_commits() -> list[Job]:
    """The user's commits that became no push: queued or running, or failed in the last FAILED_LISTED_DAYS days
    (the progress page says "see the result under 推送批次"; a failure must be found there too)."""
    since = now() - dt.timedelta(days=FAILED_LISTED_DAYS)
    later = aliased(Job)  # a failure its upload's next commit (重新导入) made good, or is making, is not listed
    superseded = select(later.id).where(later.kind == Job.kind, later.ref == Job.ref, later.id > Job.id).exists()
    return list(db.session.scalars(select(Job).where(
        Job.kind == COMMIT_JOB, Job.created_by_id == current_user.id,
        Job.state.in_(OPEN_STATES) | ((Job.state == FAILED) & (Job.finished_at >= since) & ~superseded))
        .order_by(Job.id.desc()).limit(20)))


def _push_or_404(push_id: int) -> Push:
    push = db.session.get(Push, push_id)
    if push is None:
        abort(404)
    return push


@bp.route("/<int:push_id>")
@roles_required(Role.CENTER)
def push_detail(push_id: int):
    """A push: its file, who and when, its counters and column mapping, its problems by verdict."""
    push = _push_or_404(push_id)
    counts = dict(db.session.execute(select(PushRowError.verdict, func.count()).filter_by(push_id=push.id)
                                     .group_by(PushRowError.verdict)).all())
    groups = [(verdict, label, counts[verdict],
               db.session.scalars(select(PushRowError).filter_by(push_id=push.id, verdict=verdict)
                                  .order_by(PushRowError.row_number, PushRowError.id).limit(PREVIEW_ERRORS)).all())
              for verdict, label in VERDICTS.items() if counts.get(verdict)]
    return render_template("imports/push.html", push=push, groups=groups, limit=PREVIEW_ERRORS,
                           counter_labels=COUNTER_LABELS,
                           has_report=bool(counts))


@bp.route("/<int:push_id>/errors.xlsx")
@roles_required(Role.CENTER)
@writes_on_get
def error_report(push_id: int):
    """The rejected and flagged rows as the file had them, with a problems column, as .xlsx; audited."""
    push = _push_or_404(push_id)
    data, rows = export_error_report(push, by=current_user)
    if not export_allowed(current_user, rows):
        abort(403)
    db.session.commit()
    name = f"push-{push.id}-errors.xlsx"
    return Response(data, mimetype=XLSX, headers={"Content-Disposition": f"attachment; filename={name}"})
