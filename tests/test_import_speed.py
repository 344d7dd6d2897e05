"""The import's fast paths (issue 23) store exactly what the plain paths store: judging on two cores (a forked child
judges the last rows; off unless IMPORT_JUDGE_PROCESSES is 2), the secondary indexes built after a big push on
SQLite, and COPY on PostgreSQL. The sizes at which they start are lowered here so that small files take them."""
import datetime as dt
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError

from dissuasion.cases import merge
from dissuasion.cases.models import Case, EarlyWarning, Person
from dissuasion.core import bulk, parallel
from dissuasion.extensions import db
from dissuasion.imports import pipeline
from dissuasion.imports.models import Push, PushRowError
from dissuasion.imports.pipeline import import_file
from dissuasion.imports.readers import read_table
from dissuasion.notifications.models import Notification
from tests import pushfiles as pf
from tests.conftest import _test_config, process_env


@pytest.fixture
def directory(make_precinct):
    make_precinct("PCS01", name="城东派出所", communities=("东门社区", "朝阳社区"))
    make_precinct("PCS02", name="城西派出所", communities=("西门社区",))


def messy_rows(count: int = 240) -> list[dict]:
    """Good rows with, every few rows, something wrong: a number repeated in the file, a bad ID, a bad phone, an
    unknown precinct or community, no tier, words in the amount, the same person again with a higher tier."""
    rows = []
    for n in range(1, count + 1):
        kind = n % 9
        if kind == 1:
            rows.append(pf.row(n, 身份证号=pf.id_number(n)[:17] + "0"))  # check digit wrong: flagged
        elif kind == 2:
            rows.append(pf.row(n, 手机号="1380013"))  # flagged
        elif kind == 3:
            rows.append(pf.row(n, 所属派出所="外县派出所"))  # unrouted
        elif kind == 4:
            rows.append(pf.row(n, 风险等级=""))  # rejected
        elif kind == 5:
            rows.append(pf.row(n, 预警编号=f"YJ{n - 2:07d}"))  # a number an earlier row has: duplicate
        elif kind == 6:
            rows.append(pf.row(n - 3, 预警编号=f"YJX{n:06d}", 风险等级="特高危"))  # the same person again
        elif kind == 7:
            rows.append(pf.row(n, 所属社区="不存在社区", 是否外出务工="也许", **{"拟转账金额(元)": "五千"}))
        else:
            rows.append(pf.row(n, 所属派出所="城西派出所", 所属社区="西门社区"))
    return rows


def messy_csv(count: int = 240) -> bytes:
    """The rows above as a CSV with blank lines, a shifted row (an unquoted comma), a repeated header, a totals
    row."""
    lines = pf.csv_bytes(messy_rows(count), totals=True).decode("utf-8-sig").splitlines()
    lines.insert(50, "")
    lines.insert(120, ",".join(pf.STANDARD))
    lines[150] = lines[150].replace("安装涉诈APP", "安装涉诈APP,又点了链接")
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def stored() -> dict:
    """What a push left in the database, in a form that two imports of the same file can be compared by (ids and
    times aside: the later import's rows have later ids)."""
    persons = {p.id: (p.name, p.id_number, p.id_valid, p.phone, p.phone_valid, p.registered_address)
               for p in db.session.scalars(select(Person))}
    cases = {c.id: (persons[c.person_id], c.tier, c.status, c.precinct_id, c.community_id, sorted(c.flags or []))
             for c in db.session.scalars(select(Case))}
    warnings = sorted((w.warning_no, w.row_number, w.tier, w.fraud_type, w.amount_at_risk, w.notes, w.reason,
                       sorted(w.flags or []), persons[w.person_id], cases[w.case_id][1:])
                      for w in db.session.scalars(select(EarlyWarning)))
    errors = sorted((e.row_number, e.code, e.column, e.message, e.verdict)
                    for e in db.session.scalars(select(PushRowError)))
    return {"warnings": warnings, "errors": errors, "persons": len(persons), "cases": len(cases)}


def import_and_read(data: bytes) -> tuple[dict, dict]:
    summary = import_file("messy.xlsx" if data.startswith(b"PK") else "messy.csv", data)
    db.session.commit()
    result = summary.as_json() | {"push_id": None}, stored()
    for table in (PushRowError, EarlyWarning, Case, Person, Push):
        db.session.execute(table.__table__.delete())
    db.session.commit()
    return result


@pytest.fixture
def forks(app, monkeypatch):
    """Judging on two processes (IMPORT_JUDGE_PROCESSES, off by default), and the children forked (their pids)."""
    monkeypatch.setitem(app.config, "IMPORT_JUDGE_PROCESSES", 2)
    made = []
    fork = os.fork

    def counted():
        pid = fork()
        if pid:
            made.append(pid)
        return pid
    monkeypatch.setattr(parallel.os, "fork", counted)
    return made


def test_a_file_judged_on_two_cores_stores_exactly_what_one_core_stores(directory, monkeypatch, forks):
    data = messy_csv()
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 10**9)
    one_core = import_and_read(data)
    assert not forks
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 10)
    two_cores = import_and_read(data)
    assert len(forks) == 1  # the child judged part of the file
    assert two_cores == one_core
    summary, rows = two_cores
    assert summary["rejected"] and summary["duplicates"] and summary["flagged"] and summary["unrouted"]
    assert {e["code"] for e in summary["errors"]} >= {"shifted", "tier", "duplicate", "precinct", "amount"}
    assert rows["persons"] < len(rows["warnings"])  # the same person's rows joined one person and one case


def test_a_workbook_judged_on_two_cores_stores_exactly_what_one_core_stores(directory, monkeypatch, forks):
    data = pf.xlsx_bytes(messy_rows(), title="预警名单", totals=True, numeric_ids=True, numeric_phones=True)
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 10**9)
    one_core = import_and_read(data)
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 10)
    monkeypatch.setattr(pipeline, "PIECE_ROWS", 7)  # several pieces, values repeated across them
    two_cores = import_and_read(data)
    assert len(forks) == 1
    assert two_cores == one_core
    assert one_core[0]["flagged"] and one_core[0]["rejected"]


def test_a_child_that_fails_changes_nothing_the_rows_are_judged_here(directory, monkeypatch, forks):
    data = messy_csv()
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 10**9)
    one_core = import_and_read(data)
    parent = os.getpid()
    packed = pipeline._RowsJudged.packed

    def dies_in_the_child(self, begin, end):
        if os.getpid() != parent:
            os._exit(3)
        return packed(self, begin, end)
    monkeypatch.setattr(pipeline._RowsJudged, "packed", dies_in_the_child)
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 10)
    assert import_and_read(data) == one_core
    assert len(forks) == 1


def test_a_file_over_the_row_limit_in_its_first_part_is_refused_and_the_child_is_gone(directory, app, monkeypatch,
                                                                                         forks):
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 10)
    table = read_table("big.csv", messy_csv(), 10_000, app.config["IMPORT_MAX_UNCOMPRESSED"])
    monkeypatch.setitem(app.config, "IMPORT_MAX_ROWS", 50)  # (the reader has its own check: past it here)
    with pytest.raises(pipeline.ImportRefused, match="上限"):
        pipeline.judge("big.csv", "digest", table)
    assert len(forks) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)  # reaped: no child left behind


def _indexes() -> set:
    if db.session.get_bind().dialect.name == "sqlite":
        query = ("SELECT name, sql FROM sqlite_master WHERE type = 'index' "
                 "AND tbl_name IN ('persons', 'cases', 'warnings')")
    else:
        query = "SELECT indexname, indexdef FROM pg_indexes WHERE tablename IN ('persons', 'cases', 'warnings')"
    return set(db.session.execute(text(query)).all())


def test_a_push_bigger_than_the_database_leaves_the_same_indexes(directory, monkeypatch):
    before = _indexes()
    monkeypatch.setattr(bulk, "REBUILD_MIN_ROWS", 10)
    during = {}

    def look(stage):
        if stage == "warnings":
            during["indexes"] = _indexes()
    merge.stage_written.connect(look)
    try:
        summary, rows = import_and_read(messy_csv())
    finally:
        merge.stage_written.disconnect(look)
    assert _indexes() == before
    assert summary["imported"] == len(rows["warnings"]) > 100
    if db.session.get_bind().dialect.name == "sqlite":  # the rows went in without the secondary indexes
        missing = {name for name, _sql in before} - {name for name, _sql in during["indexes"]}
        assert {"ix_warnings_push_id", "ix_cases_worklist_precinct", "ix_persons_phone_index"} <= missing
        assert all(name.startswith("sqlite_autoindex") or "UNIQUE" not in (sql or "").upper()
                   for name, sql in before if name in missing)
    else:  # PostgreSQL keeps them (COPY is its fast path)
        assert during["indexes"] == before


def test_a_push_into_a_bigger_database_keeps_its_indexes_while_writing(directory, monkeypatch):
    monkeypatch.setattr(bulk, "REBUILD_MIN_ROWS", 10)
    import_and_read(messy_csv(240))  # (emptied again afterwards; the ids go on from there)
    import_file("first.csv", messy_csv(240))
    db.session.commit()
    before = _indexes()
    during = {}

    def look(stage):
        if stage == "warnings":
            during["indexes"] = _indexes()
    merge.stage_written.connect(look)
    try:
        import_file("small.csv", pf.csv_bytes([pf.row(n) for n in range(5000, 5030)]))
    finally:
        merge.stage_written.disconnect(look)
    db.session.commit()
    assert during["indexes"] == before == _indexes()


def test_a_failed_push_leaves_the_indexes_and_no_rows(directory, monkeypatch):
    before = _indexes()
    monkeypatch.setattr(bulk, "REBUILD_MIN_ROWS", 10)

    def fail(stage):
        if stage == "cases":
            raise RuntimeError("disk full")
    merge.stage_written.connect(fail)
    try:
        with pytest.raises(RuntimeError):
            import_file("messy.csv", messy_csv())
        db.session.rollback()
    finally:
        merge.stage_written.disconnect(fail)
    assert _indexes() == before
    assert db.session.scalar(select(Person.id)) is None


def test_copy_on_postgresql_stores_what_insert_stores(directory, monkeypatch):
    if db.session.get_bind().dialect.name != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    copied = []
    copy = bulk._copy

    def counted(conn, statement, rows):
        copied.append(statement.split()[1])
        return copy(conn, statement, rows)
    monkeypatch.setattr(bulk, "_copy", counted)
    data = messy_csv()
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", 10**9)
    by_insert = import_and_read(data)
    assert not copied
    monkeypatch.setattr(bulk, "COPY_MIN_ROWS", 1)
    by_copy = import_and_read(data)
    assert {"persons", "cases", "warnings", "push_row_errors"} <= set(copied)
    assert by_copy == by_insert


def test_a_push_tells_its_progress_at_each_stage(directory):
    told = []
    import_file("messy.csv", messy_csv(), progress=lambda stage, done, total: told.append((stage, done, total)))
    db.session.commit()
    stages = list(dict.fromkeys(stage for stage, _done, _total in told))
    assert stages == ["read", "judge", "write", "persons", "cases", "warnings"]
    judged = [t for t in told if t[0] == "judge"][-1]
    written = told[-1]
    pushed = db.session.scalars(select(Push)).one()
    assert written[0] == "write" and written[1] == written[2] == pushed.imported
    assert judged[1] == judged[2] >= pushed.rows_total
    assert [t for t in told if t[0] == "persons"][0][1] == pushed.imported


def test_a_note_repeated_on_many_rows_is_encrypted_on_each_with_its_own_nonce(directory):
    note = "家属电话13900139000"
    rows = [pf.row(n, 备注=note if n % 2 else "已核实") for n in range(1, 7)]
    import_file("notes.csv", pf.csv_bytes(rows))
    db.session.commit()
    stored_notes = db.session.execute(text("SELECT notes FROM warnings ORDER BY row_number")).scalars().all()
    sealed = [n for n in stored_notes if n.startswith("v1:")]
    assert len(sealed) == 3 and len(set(sealed)) == 3  # every ciphertext differs
    assert [n for n in stored_notes if not n.startswith("v1:")] == ["已核实"] * 3
    assert [w.notes for w in db.session.scalars(select(EarlyWarning).order_by(EarlyWarning.row_number))] == [
        note, "已核实"] * 3


def test_one_process_judges_by_default(directory, monkeypatch):
    made = []
    monkeypatch.setattr(parallel.os, "fork", lambda: made.append(1) or os.fork())
    monkeypatch.setattr(pipeline, "PARALLEL_ROWS", 10)
    import_and_read(messy_csv())
    assert not made


def test_a_failed_cli_import_leaves_no_rows(runner, directory, tmp_path):
    path = tmp_path / "messy.csv"
    path.write_bytes(messy_csv())

    def fail(stage):
        if stage == "warnings":
            raise RuntimeError("disk full")
    db.session.commit()
    merge.stage_written.connect(fail)
    try:
        result = runner.invoke(args=["import-list", str(path)])
    finally:
        merge.stage_written.disconnect(fail)
    assert isinstance(result.exception, RuntimeError)
    for table in (Push, Person, Case, EarlyWarning, PushRowError):
        assert db.session.scalar(select(table.id)) is None


def test_numbers_stored_are_looked_up_again_at_the_write_only_when_something_could_have_come_in_between(
        directory, monkeypatch):
    """import_file judges and writes in one transaction: on SQLite that transaction holds the write lock from its
    first statement, so the numbers found stored while judging are looked up once; a judgement kept from before
    (the commit job) and PostgreSQL (whose lock is taken at the write) look them up again."""
    asked = []
    lookup = pipeline.stored_warning_names
    monkeypatch.setattr(pipeline, "stored_warning_names", lambda numbers: asked.append(1) or lookup(numbers))
    import_file("first.csv", pf.csv_bytes([pf.row(n) for n in range(1, 6)]))
    db.session.commit()
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    assert len(asked) == (1 if sqlite else 2)
    asked.clear()
    data = pf.csv_bytes([pf.row(n) for n in range(3, 9)])  # 3-5 stored already
    summary = import_file("again.csv", data)
    db.session.commit()
    assert summary.counters["duplicates"] == 3 and summary.counters["imported"] == 3
    assert len(asked) == (1 if sqlite else 2)
    asked.clear()
    analysis = pipeline.analyse("kept.csv", pf.csv_bytes([pf.row(n) for n in range(8, 12)]))
    db.session.commit()
    import_file("between.csv", pf.csv_bytes([pf.row(10)]))  # stored after the judgement was kept
    db.session.commit()
    asked.clear()
    summary = pipeline.write(analysis)
    db.session.commit()
    assert len(asked) == 1
    assert summary.counters["duplicates"] == 2 and summary.counters["imported"] == 2  # 8 (above) and 10


def test_the_import_command_run_as_staff_run_it_stores_the_push_and_closes_the_database(tmp_path):
    """`flask --app app import-list` as a process of its own on a SQLite file, as center staff run it: the push is
    stored whole and the exit code says whether the file was taken; the process ends with its database closed (no
    -wal or -shm file left beside it) although it skips the collector's walk over its objects at exit
    (cli._quick_exit)."""
    from dissuasion import create_app
    from dissuasion.cases.rules import ensure_default_rules
    database = tmp_path / "staff.db"
    own = create_app(_test_config(f"sqlite:///{database}"))
    with own.app_context():
        db.create_all()
        ensure_default_rules()
        db.session.commit()
        db.engine.dispose()
    root = Path(__file__).resolve().parent.parent
    env = process_env(f"sqlite:///{database}")
    flask = str(Path(sys.executable).parent / "flask")

    def import_list(name: str, data: bytes) -> subprocess.CompletedProcess:
        (tmp_path / name).write_bytes(data)
        return subprocess.run([flask, "--app", "app", "import-list", str(tmp_path / name)], cwd=root, env=env,
                              capture_output=True, text=True, timeout=120)

    def stored() -> int:
        with closing(sqlite3.connect(database)) as con:  # (closed: the last connection out removes the -wal file)
            return con.execute("SELECT count(*) FROM warnings").fetchone()[0]

    done = import_list("today.csv", pf.csv_bytes([pf.row(n) for n in range(1, 4)]))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("已导入 3 条预警")
    assert stored() == 3
    assert not Path(f"{database}-wal").exists() and not Path(f"{database}-shm").exists()
    refused = import_list("header-only.csv", pf.csv_bytes([]))
    assert refused.returncode == 1
    assert "没有任何数据行" in refused.stderr
    assert stored() == 3
    assert not Path(f"{database}-wal").exists() and not Path(f"{database}-shm").exists()


def test_a_column_empty_in_a_whole_batch_is_left_out_of_its_insert_and_stored_empty(make_user, monkeypatch):
    """bulk_insert_rows leaves out of a batch's INSERT a nullable column that is None in every row of the batch (a
    None costs sqlite3 far more to bind than a value): what is stored is the same, batch by batch; a column that may
    not be empty is never left out, so a None given for it still fails instead of taking a default."""
    user = make_user("officer")
    table = Notification.__table__
    sent: list[str] = []

    def seen(conn, cursor, statement, *args):
        if statement.startswith("INSERT INTO notifications"):
            sent.append(statement)
    monkeypatch.setattr(bulk, "BATCH", 3)
    engine = db.session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    at = dt.datetime(2026, 12, 7, 8, 30, tzinfo=dt.UTC)
    keys = ["user_id", "kind", "message", "say", "read_at", "dedupe_key"]
    rows = [(user.id, "a", "第一条", None, None, None),  # first batch: say, read_at and the key always empty
            (user.id, "a", "第二条", None, None, None),
            (user.id, "a", "第三条", None, None, None),
            (user.id, "b", "第四条", {"id": "x"}, at, None),  # second batch: say and read_at given once
            (user.id, "b", "第五条", None, None, None)]
    try:
        bulk.bulk_insert_rows(table, keys, rows)
        with pytest.raises(IntegrityError), db.session.begin_nested():
            bulk.bulk_insert_rows(table, [*keys[:3], "created_at"], [(user.id, "c", "第六条", None)])
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    stored = db.session.execute(select(table.c.message, table.c.say, table.c.read_at, table.c.dedupe_key)
                                .order_by(table.c.id)).all()
    assert [tuple(r) for r in stored] == [
        ("第一条", None, None, None), ("第二条", None, None, None), ("第三条", None, None, None),
        ("第四条", {"id": "x"}, at, None), ("第五条", None, None, None)]
    assert len(sent) == 3
    assert "say" not in sent[0] and "read_at" not in sent[0] and "dedupe_key" not in sent[0]
    assert "say" in sent[1] and "read_at" in sent[1] and "dedupe_key" not in sent[1]
    assert "created_at" in sent[2]
