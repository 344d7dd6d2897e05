"""A push committed from the page, or pushed big through the API, is a job a worker process runs (issue 23 item 2):
queued by the request, claimed and written by a worker in one transaction, followed on a progress page; a worker
killed mid-way leaves nothing and the job is taken again; a refused file fails at once with what to fix."""
import datetime as dt
import io
import sqlite3
import threading

import pytest
from sqlalchemy import func, select

from dissuasion import scheduler
from dissuasion.cases import merge
from dissuasion.cases.models import Case, EarlyWarning
from dissuasion.core.timeutil import now
from dissuasion.extensions import db
from dissuasion.imports import tasks
from dissuasion.imports.models import PendingUpload, Push
from dissuasion.jobs import progress
from dissuasion.jobs.models import Job
from tests import pushfiles as pf


@pytest.fixture
def queued_only(app):
    """Requests only queue jobs, as in production: a worker (scheduler.work_once here) runs them."""
    app.config["JOBS_INLINE"] = False


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _preview(client, data: bytes) -> str:
    page = client.post("/imports/preview", data={"file": (io.BytesIO(data), "名单.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)
    return page.split('name="token" type="hidden" value="')[1].split('"')[0]


def _work(app):
    """What a worker process does next (the test's own transaction ends first, as another process would see)."""
    db.session.commit()
    return scheduler.work_once(app)


def _job() -> Job:
    db.session.expire_all()
    return db.session.scalar(select(Job).order_by(Job.id.desc()))


def test_a_commit_from_the_page_is_queued_and_a_worker_writes_it(app, client, center, queued_only):
    token = _preview(client, pf.csv_bytes([pf.row(n) for n in range(1, 6)] + [pf.row(6, 风险等级="")]))
    response = client.post("/imports/commit", data={"token": token})
    job = _job()
    assert response.headers["Location"].endswith(f"/imports/jobs/{job.id}")
    assert job.state == "queued" and _count(Push) == 0  # the web request wrote nothing but the job
    page = client.get(f"/imports/jobs/{job.id}").get_data(as_text=True)
    assert "正在导入" in page and "排队中" in page and 'id="job-progress"' in page
    assert '<noscript><meta http-equiv="refresh"' in page  # without JS the page reloads itself
    assert client.get(f"/imports/jobs/{job.id}.json").get_json()["state"] == "queued"
    assert client.post("/imports/commit", data={"token": token}).headers["Location"].endswith(
        f"/imports/jobs/{job.id}")  # pressed twice: the same job, not a second one
    assert _count(Job) == 1

    assert _work(app) == job.id
    status = client.get(f"/imports/jobs/{job.id}.json").get_json()
    assert status["state"] == "done" and status["percent"] == 100 and status["url"]
    done = client.get(status["url"], follow_redirects=True).get_data(as_text=True)
    push = db.session.scalar(select(Push))
    assert f"推送批次 #{push.id}" in done and "已导入 5 条预警" in done and "拒收 1 行" in done
    assert (push.imported, push.rejected, push.uploaded_by_id) == (5, 1, center.id)
    assert _count(PendingUpload) == 0 and _work(app) is None


def test_the_commit_writes_the_previews_judgement_without_reading_the_file_again(client, center, monkeypatch):
    token = _preview(client, pf.csv_bytes([pf.row(1), pf.row(2)]))
    monkeypatch.setattr(tasks, "analyse", lambda *a, **k: pytest.fail("the file was read and judged again"))
    client.post("/imports/commit", data={"token": token})
    assert _count(EarlyWarning) == 2 and _job().state == "done"


def test_a_judgement_too_old_is_made_again(app, client, center, monkeypatch, clock):
    app.config["IMPORT_ANALYSIS_MAX_AGE"] = 60
    clock(now())
    token = _preview(client, pf.csv_bytes([pf.row(1), pf.row(2)]))
    judged = []
    real = tasks.analyse
    monkeypatch.setattr(tasks, "analyse", lambda *a, **k: judged.append(1) or real(*a, **k))
    clock(now() + dt.timedelta(seconds=app.config["IMPORT_ANALYSIS_MAX_AGE"] + 1))
    client.post("/imports/commit", data={"token": token})
    assert judged == [1] and _count(EarlyWarning) == 2


def test_a_worker_that_fails_mid_write_leaves_nothing_and_the_job_runs_again(app, client, center, queued_only):
    token = _preview(client, pf.csv_bytes([pf.row(n) for n in range(1, 11)]))
    client.post("/imports/commit", data={"token": token})

    def die(stage):
        if stage == "cases":
            raise RuntimeError("worker killed")

    db.session.commit()
    with merge.stage_written.connected_to(die):
        _work(app)
    job = _job()
    assert (job.state, job.attempts) == ("queued", 1) and "程序出错（RuntimeError）" in job.error
    assert _count(Push) == 0 and _count(EarlyWarning) == 0 and _count(Case) == 0  # not a row of it stayed
    page = client.get(f"/imports/jobs/{job.id}").get_data(as_text=True)
    assert "上一次导入中断，已撤回" in page
    _work(app)
    job = _job()
    assert (job.state, job.attempts) == ("done", 2) and _count(EarlyWarning) == 10 and _count(Push) == 1


def test_a_job_whose_worker_went_silent_is_taken_again_then_given_up_with_its_reason(app, client, center,
                                                                                    queued_only, clock):
    clock(now())
    client.post("/imports/commit", data={"token": _preview(client, pf.csv_bytes([pf.row(1)]))})
    job = _job()
    job.state, job.attempts, job.heartbeat_at, job.started_at = "running", 1, now(), now()  # a worker on it
    db.session.commit()
    assert _work(app) is None  # alive: nobody else takes it
    clock(now() + dt.timedelta(seconds=app.config["JOBS_LEASE_SECONDS"] + 1))
    job = _job()
    job.attempts = app.config["JOBS_MAX_ATTEMPTS"]  # …and it was the last run allowed
    db.session.commit()
    assert _work(app) is None
    job = _job()
    assert job.state == "failed" and "已尝试 3 次仍未完成" in job.error and _count(Push) == 0
    page = client.get(f"/imports/jobs/{job.id}").get_data(as_text=True)
    assert "文件未导入" in page and "已尝试 3 次仍未完成" in page
    # (review: its only button said to fix the file, which needs nothing fixed) the upload is still kept: again
    assert "重新导入" in page and "改正后重新上传" not in page
    again = page.split('name="token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/imports/commit", data={"token": again})
    retried = _job()
    assert retried.id != job.id and response.headers["Location"].endswith(f"/imports/jobs/{retried.id}")
    assert f'/imports/jobs/{job.id}"' not in client.get("/imports/").get_data(as_text=True)  # (made good)
    assert _work(app) == retried.id and _job().state == "done" and _count(Push) == 1
    assert "重新导入" not in client.get(f"/imports/jobs/{job.id}").get_data(as_text=True)  # (its upload went)
    assert "未完成的导入" not in client.get("/imports/").get_data(as_text=True)


def _gave_up_silent(app, clock) -> Job:
    """The newest job's last allowed run went silent past its lease: a worker gives the job up."""
    job = _job()
    job.state, job.attempts, job.heartbeat_at = "running", app.config["JOBS_MAX_ATTEMPTS"], now()
    db.session.commit()
    clock(now() + dt.timedelta(seconds=app.config["JOBS_LEASE_SECONDS"] + 1))
    _work(app)
    return job


def test_a_job_that_gave_up_tells_the_api_it_was_interrupted(app, client, token, queued_only, clock):
    """A client can tell a file to fix (refused: the same again fails the same way) from runs that broke
    (interrupted: the same push again may well go through)."""
    clock(now())
    rows = [{"warning_id": "G0001", "name": "赵一", "phone": "13900000001", "tier": "medium", "precinct": "城东派出所"}]
    sent = client.post("/api/v1/pushes", headers={**token, "Prefer": "respond-async"}, json={"rows": rows})
    assert sent.status_code == 202
    _gave_up_silent(app, clock)
    body = client.get(sent.headers["Location"], headers=token).get_json()
    assert body["state"] == "failed" and body["error"]["code"] == "interrupted"
    assert "已尝试 3 次仍未完成" in body["error"]["message"]


def test_a_job_that_failed_on_an_error_of_ours_every_time_is_not_called_interrupted(app, client, center,
                                                                                     queued_only, monkeypatch):
    """(review: any exception counted as an interruption, and the page offered to run the same bug three times
    more) An error of ours on every run: code "error", no 重新导入; the page says to tell the administrators."""
    client.post("/imports/commit", data={"token": _preview(client, pf.csv_bytes([pf.row(1)]))})

    def broken(*_args, **_kwargs):
        raise TypeError("a bug")
    monkeypatch.setattr(tasks, "write", broken)
    for _run in range(app.config["JOBS_MAX_ATTEMPTS"]):
        _work(app)
    job = _job()
    assert job.state == "failed" and job.failed_code == "error" and "程序出错（TypeError）" in job.error
    assert "a bug" not in job.error  # (an error's own text stays in the log: a database error's quotes values)
    page = client.get(f"/imports/jobs/{job.id}").get_data(as_text=True)
    assert "联系管理员" in page and "重新导入" not in page and ">重新上传<" in page


def test_an_api_push_that_gave_up_is_imported_again_as_rows_from_the_api(app, client, token, queued_only, clock,
                                                                         make_user, auth):
    """(review: 重新导入 re-queued an API job as a page upload: its JSON rows read as a CSV and refused, a file's
    source changed to 推送) The same kind of commit again. And the rows' sha256 is the push's, whatever order the
    client wrote their keys in, so a second job on them finds the push."""
    clock(now())
    body = ('{"rows": [{"tier": "medium", "warning_id": "G0002", "precinct": "城东派出所", "community": "东门社区", '
            '"phone": "13900000002", "name": "赵二"}]}')
    sent = client.post("/api/v1/pushes", headers={**token, "Prefer": "respond-async", "Content-Type":
                                                  "application/json"}, data=body.encode())
    assert sent.status_code == 202
    job = _gave_up_silent(app, clock)
    user = db.session.get(Job, job.id).created_by_id
    from dissuasion.auth.models import User
    auth.login(db.session.get(User, user))  # (the token's user, on the web)
    page = client.get(f"/imports/jobs/{job.id}").get_data(as_text=True)
    again = page.split('name="token" type="hidden" value="')[1].split('"')[0]
    client.post("/imports/commit", data={"token": again})
    retried = _job()
    assert retried.payload["rows"] is True and retried.payload["source"] == "api"
    assert _work(app) == retried.id
    push = db.session.scalar(select(Push))
    assert _job().state == "done" and push.source == "api" and push.imported == 1
    assert retried.payload["sha256"] == push.sha256


def test_a_running_job_whose_worker_went_silent_says_so(app, client, center, queued_only, clock):
    """(review: a worker killed mid-write left the page at "正在写入 … 65%" for a minute, and for ever with no worker
    alive) Past the lease the page says the worker stopped answering, what happens next, and whom to ask."""
    clock(now())
    client.post("/imports/commit", data={"token": _preview(client, pf.csv_bytes([pf.row(1)]))})
    job = _job()
    job.state, job.attempts, job.heartbeat_at, job.started_at = "running", 1, now(), now()
    db.session.commit()
    status = client.get(f"/imports/jobs/{job.id}.json").get_json()
    assert not status["stalled"] and "没有回应" not in status["text"]
    clock(now() + dt.timedelta(seconds=app.config["JOBS_LEASE_SECONDS"] + 30))
    status = client.get(f"/imports/jobs/{job.id}.json").get_json()
    assert status["stalled"] and "导入进程已有 90 秒没有回应" in status["text"] and "系统管理员" in status["text"]
    assert "没有回应" in client.get(f"/imports/jobs/{job.id}").get_data(as_text=True)
    job = _job()
    job.attempts, job.heartbeat_at = 2, now()  # taken again by a live worker
    db.session.commit()
    status = client.get(f"/imports/jobs/{job.id}.json").get_json()
    assert not status["stalled"] and status["text"].startswith("上一次导入中断，已撤回，正在重新导入。")
    job = _job()
    job.attempts = app.config["JOBS_MAX_ATTEMPTS"]  # the last run allowed, silent too: nobody will start it again
    db.session.commit()
    clock(now() + dt.timedelta(seconds=app.config["JOBS_LEASE_SECONDS"] + 30))
    status = client.get(f"/imports/jobs/{job.id}.json").get_json()
    assert status["stalled"] and "不再自动重试" in status["text"] and "另一个导入进程" not in status["text"]


def test_a_commit_pressed_on_two_hosts_at_once_ends_as_the_file_already_imported(app, client, center, queued_only):
    """(review: 确认导入 posted to two hosts at the same moment made two jobs; the second found the upload gone with
    the first's commit and said "文件未导入" about a file that was imported) It says the file was imported, and
    where."""
    token = _preview(client, pf.csv_bytes([pf.row(n) for n in range(1, 4)]))
    client.post("/imports/commit", data={"token": token})
    first = _job()
    second = Job(kind=first.kind, ref=first.ref, payload=dict(first.payload), created_by_id=first.created_by_id)
    db.session.add(second)  # (what the other host's request queued, neither seeing the other's job)
    db.session.commit()
    second_id = second.id
    assert _work(app) == first.id and _work(app) == second_id
    push = db.session.scalar(select(Push))
    done = db.session.get(Job, second_id)
    assert done.state == "done" and done.result["status"] == "duplicate_file" and done.result["push_id"] == push.id
    page = client.get(f"/imports/jobs/{second_id}", follow_redirects=True).get_data(as_text=True)
    assert f"已经导入过（批次 #{push.id}）" in page and "文件未导入" not in page
    assert _count(Push) == 1 and _count(EarlyWarning) == 3


def test_the_pushes_page_lists_my_commits_that_became_no_push(app, client, center, make_user, queued_only, auth):
    """The progress page says the result can be seen under 推送批次 later: a commit still waiting or running is
    listed there, and one that failed (for a week), with a link to its page; another user's are not."""
    client.post("/imports/commit", data={"token": _preview(client, pf.csv_bytes([pf.row(1)]))})
    waiting = _job()
    client.post("/imports/commit", data={"token": _preview(client, pf.csv_bytes([pf.row(2)]))})
    failed = _job()
    failed.state, failed.error, failed.result, failed.finished_at = "failed", "坏了", {"code": "refused"}, now()
    db.session.commit()
    page = client.get("/imports/").get_data(as_text=True)
    assert "未完成的导入" in page
    assert f'/imports/jobs/{waiting.id}"' in page and f'/imports/jobs/{failed.id}"' in page
    assert "排队中" in page and "未导入" in page
    assert _work(app) == waiting.id  # done: a push now, listed below, no longer above
    page = client.get("/imports/").get_data(as_text=True)
    assert f'/imports/jobs/{waiting.id}"' not in page and f'/imports/jobs/{failed.id}"' in page
    auth.logout()
    auth.login(make_user("center"))
    assert "未完成的导入" not in client.get("/imports/").get_data(as_text=True)


def test_a_silent_worker_s_job_is_run_again_by_another(app, client, center, queued_only, clock):
    clock(now())
    client.post("/imports/commit", data={"token": _preview(client, pf.csv_bytes([pf.row(1)]))})
    job = _job()
    job.state, job.attempts, job.heartbeat_at, job.started_at = "running", 1, now(), now()
    db.session.commit()
    clock(now() + dt.timedelta(seconds=app.config["JOBS_LEASE_SECONDS"] + 1))
    assert _work(app) == job.id
    job = _job()
    assert (job.state, job.attempts) == ("done", 2) and _count(EarlyWarning) == 1


def test_the_progress_page_shows_rows_written_while_the_write_transaction_runs(app, client, center, queued_only):
    client.post("/imports/commit", data={"token": _preview(client, pf.csv_bytes([pf.row(n) for n in range(1, 21)]))})
    job_id = _job().id
    db.session.commit()
    reached, go_on = threading.Event(), threading.Event()

    def pause(stage):
        if stage == "cases" and threading.current_thread().name == "worker":
            reached.set()
            go_on.wait(timeout=30)

    worker = threading.Thread(target=scheduler.work_once, args=(app,), name="worker")
    with merge.stage_written.connected_to(pause):
        worker.start()
        try:
            assert reached.wait(timeout=30)
            seen = client.get(f"/imports/jobs/{job_id}.json").get_json()  # another connection, mid-transaction
        finally:
            go_on.set()
            worker.join(timeout=60)
    assert seen["state"] == "running" and seen["stage"] == "persons" and seen["total"] == 20  # cases under way
    assert 50 < seen["percent"] < 100 and "正在写入 20 条预警" in seen["text"]
    assert _job().state == "done"


def test_while_a_push_is_written_each_table_tells_its_rows_as_they_go_in(app, center, monkeypatch):
    """(review: "rows written" was no count at all: the bar moved 50, 65, 80, 100%) Each of the write's three
    steps tells its table's rows so far after each batch, then its end."""
    from dissuasion.core import bulk
    from dissuasion.imports.pipeline import import_file
    monkeypatch.setattr(bulk, "BATCH", 7)
    told = []
    import_file("名单.csv", pf.csv_bytes([pf.row(n) for n in range(1, 21)]), progress=lambda *said: told.append(said))
    assert [said for said in told if said[0] in ("persons", "cases", "warnings")] == [
        ("persons", 7, 20), ("persons", 14, 20), ("persons", 20, 20), ("cases", 7, 20), ("cases", 14, 20),
        ("cases", 20, 20), ("warnings", 7, 20), ("warnings", 14, 20), ("warnings", 20, 20)]


def test_the_progress_page_counts_a_tables_rows_while_they_are_written(app, client, center):
    job = Job(kind="imports.commit", ref="", payload={"file_name": "名单.csv"}, state="running", attempts=1,
              created_by_id=center.id, started_at=now(), heartbeat_at=now())
    db.session.add(job)
    db.session.commit()
    channel = progress.Progress(job.id, 1)
    try:
        channel("cases", 3000, 12000)
        status = client.get(f"/imports/jobs/{job.id}.json").get_json()
    finally:
        channel.close()
    assert status["percent"] == 65 + 15 * 3000 // 12000
    assert status["text"] == "正在写入任务：3,000 / 12,000 行（第 2/3 步）"


def test_a_run_taken_over_writes_nothing_over_the_newer_runs_progress(app, client, center):
    """A worker silent past its lease wakes up after another took its job: the page keeps the newer run's figures
    instead of jumping between the two runs'."""
    job = Job(kind="imports.commit", ref="", payload={"file_name": "名单.csv"}, state="running", attempts=1,
              created_by_id=center.id, started_at=now(), heartbeat_at=now())
    db.session.add(job)
    db.session.commit()
    old = progress.Progress(job.id, 1)
    job.attempts = 2  # another worker claimed it
    db.session.commit()
    new = progress.Progress(job.id, 2)
    try:
        new("judge", 500, 1000)
        old("cases", 900, 1000)  # the first run, awake again
        old.beat()
        first = client.get(f"/imports/jobs/{job.id}.json").get_json()
        assert first["stage"] == "judge" and _reported(job) == ("judge", 500, 1000)
        new("cases", 600, 1000)
        later = client.get(f"/imports/jobs/{job.id}.json").get_json()
        assert later["stage"] == "cases" and _reported(job) == ("cases", 600, 1000)
        assert later["percent"] > first["percent"]  # forward only
    finally:
        old.close()
        new.close()


def _reported(job) -> tuple:
    db.session.refresh(job)
    found = progress.read(job)
    return found["stage"], found["done"], found["total"]


def test_a_progress_file_from_an_older_version_is_taken_on(app, tmp_path):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's progress file (PostgreSQL keeps progress on the job's row)")
    app.config["JOBS_PROGRESS_FILE"] = str(tmp_path / "job_progress.db")
    with sqlite3.connect(tmp_path / "job_progress.db") as before:  # the table as the seventh session made it
        before.execute("CREATE TABLE progress (job_id INTEGER PRIMARY KEY, stage TEXT, done INTEGER, total INTEGER, "
                       "beat_at REAL)")
        before.execute("INSERT INTO progress VALUES (7, 'cases', 3, 9, 0)")
    job = Job(kind="imports.commit", ref="", payload={}, state="running", attempts=1)
    db.session.add(job)
    db.session.commit()
    channel = progress.Progress(job.id, 1)
    try:
        channel("persons", 4, 10)
        assert progress.read(job) | {"beat_at": None} == {"stage": "persons", "done": 4, "total": 10, "beat_at": None}
    finally:
        channel.close()


# --- the API ---------------------------------------------------------------------------------------------------

@pytest.fixture
def token(make_user, directory, bearer):
    return bearer(make_user("center"))


def test_a_big_api_push_answers_202_with_a_status_url_and_a_worker_commits_it(app, client, token, queued_only):
    app.config["IMPORT_ASYNC_ROWS"] = 3
    rows = [{"warning_id": f"J{n:04d}", "name": f"赵{n}", "phone": f"139{n:08d}", "tier": "medium",
             "precinct": "城东派出所", "community": "东门社区"} for n in range(1, 6)]
    response = client.post("/api/v1/pushes", headers=token, json={"rows": rows})
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert response.headers["Location"].endswith(body["status_url"]) and body["state"] == "queued"
    assert _count(EarlyWarning) == 0
    status = client.get(body["status_url"], headers=token)
    assert status.status_code == 200 and status.get_json()["state"] == "queued"
    _work(app)
    done = client.get(body["status_url"], headers=token).get_json()
    assert done["state"] == "done" and done["result"]["status"] == "committed" and done["result"]["imported"] == 5
    assert _count(EarlyWarning) == 5
    small = client.post("/api/v1/pushes", headers=token, json={"rows": [{**rows[0], "warning_id": "S1"}]})
    assert small.status_code == 201  # a small push stays synchronous


def test_prefer_respond_async_queues_a_file_and_a_refused_one_fails_at_once_with_the_reason(app, client, token):
    response = client.post("/api/v1/pushes", headers={**token, "Prefer": "respond-async"},
                           data={"file": (io.BytesIO("标题\n甲,乙\n1,2\n".encode()), "other.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 202
    body = client.get(response.headers["Location"], headers=token).get_json()
    assert body["state"] == "failed" and body["attempts"] == 1  # refused: not run again
    assert body["error"]["code"] == "refused" and "找不到表头" in body["error"]["message"]
    assert _count(Push) == 0


def test_another_role_cannot_read_a_push_job(client, token, make_user, bearer):
    response = client.post("/api/v1/pushes", headers={**token, "Prefer": "respond-async"},
                           data={"file": (io.BytesIO(pf.csv_bytes([pf.row(1)])), "a.csv")},
                           content_type="multipart/form-data")
    officer = bearer(make_user("officer"))
    assert client.get(response.headers["Location"], headers=officer).status_code == 403


class _Boom:
    """What a forged judgement would carry: an object whose unpickling calls a function (here os.getcwd)."""

    def __reduce__(self):
        import os
        return (os.getcwd, ())


def test_a_sealed_judgement_names_no_function(app):
    """Even sealed with our key, a judgement that names a function is refused before anything is called, and the
    upload's file is then judged again (uploads._unseal reads only this package's classes and plain values)."""
    import pickle
    import zlib

    from dissuasion.imports import uploads
    from dissuasion.privacy.pii import encrypt_bytes

    forged = encrypt_bytes(zlib.compress(pickle.dumps((None, [_Boom()]))))
    with pytest.raises(pickle.UnpicklingError, match="os.getcwd|posix.getcwd"):
        uploads._unseal(forged)
