#!/usr/bin/env python3
"""Import speed (issues 3 and 23): 100,000 rows from gen_push, CSV and XLSX, into an empty database and into one
already holding 1,000,000 warnings; rows/s and peak memory beside ../shared/bench/floor.py on the same
file in the same run. Then the acceptance of issue 23: the same file through `flask --app app import-list`
(a process of its own, start-up included, a fresh database with the directory loaded), at most 4x the floor,
and for XLSX pandas' read_excel + to_sql (bench/pandas_xlsx.py) beside it. Peak memory under 500 MB. Beside the CLI
its bound: the same rows replayed with no code of ours (database_alone), plus the CLI's start-up and the floor's
reading of the file, which says how much of the target is left for the import's own work.

usage: .venv/bin/python bench/import_push.py [--rows 100000] [--prefill 1000000] [--rebuild] [--formats csv,xlsx]
                                            [--stages] [--no-cli] [--cli-only] [--rounds 1] [--no-bound]
Each import runs in a child process; the prefilled database is cached in bench/out/ and copied for each run.
Peak memory counts the importer's own children (it judges on two cores): the highest sum of the processes'
proportional set sizes (PSS: a page the child shares with its parent is counted once, split between them),
sampled every 20 ms, or the importer's own peak RSS when that is higher.
"""
import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
CONFIG = {"SECRET_KEY": "bench", "PII_INDEX_KEY": "bench-index",
          "PII_KEYS": {"b1": "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="}, "PII_KEY_ID": "b1"}


def app_for(db_path: Path):
    from dissuasion import create_app
    return create_app({**CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}"})


def fresh_schema(db_path: Path) -> None:
    from dissuasion.cases.rules import ensure_default_rules
    from dissuasion.directory.operations import load_directory
    from dissuasion.extensions import db
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    with app_for(db_path).app_context():
        db.create_all()
        ensure_default_rules()
        load_directory((SHARED / "samples" / "directory.csv").read_bytes())
        db.session.commit()


def schema_digest() -> str:
    """A short digest of the models' tables and columns: a prefilled database made by another schema is not reused
    (a column added since made every import into it fail)."""
    import hashlib

    from dissuasion.extensions import db
    with app_for(OUT / "schema-probe.db").app_context():
        shape = [(t.name, [(c.name, str(c.type)) for c in t.columns]) for t in db.metadata.sorted_tables]
    return hashlib.sha256(repr(shape).encode()).hexdigest()[:10]


def prefill(db_path: Path, count: int) -> None:
    """count warnings (and their persons and cases) written straight through bulk_insert."""
    import datetime as dt

    from dissuasion.cases.models import Case, EarlyWarning, Person
    from dissuasion.core.bulk import bulk_insert
    from dissuasion.core.enums import CaseStatus, FraudType, Method, Tier, WarningSource
    from dissuasion.core.timeutil import now
    from dissuasion.extensions import db
    fresh_schema(db_path)
    at = now() - dt.timedelta(days=60)
    with app_for(db_path).app_context():
        step = 100_000
        for start in range(0, count, step):
            ids = range(start + 1, min(start + step, count) + 1)
            bulk_insert(Person.__table__, [{"match_key": f"pre{i}", "name": f"旧{i}", "phone": f"139{i:08d}",
                                            "phone_valid": True} for i in ids])
            bulk_insert(Case.__table__, [{
                "person_id": i, "precinct_id": 1 + i % 8, "status": CaseStatus.CLOSED, "tier": Tier.LOW,
                "method": Method.PHONE, "sign_deadline": at, "contact_deadline": at, "closed_at": at,
                "created_at": at, "updated_at": at} for i in ids])
            bulk_insert(EarlyWarning.__table__, [{
                "warning_no": f"PRE{i:09d}", "source": WarningSource.PUSH, "person_id": i, "case_id": i,
                "pushed_at": at, "tier": Tier.LOW, "fraud_type": FraudType.OTHER} for i in ids])
            db.session.commit()


def child(path: str, db_path: str, stages: bool = False) -> None:
    """Import one file and print seconds and peak memory as JSON (runs in its own process)."""
    from dissuasion.extensions import db
    from dissuasion.imports.pipeline import import_file
    spent = time_stages() if stages else {}
    data = Path(path).read_bytes()
    with app_for(Path(db_path)).app_context():
        start = time.perf_counter()
        summary = import_file(Path(path).name, data)
        db.session.commit()
        seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "imported": summary.counters["imported"],
                      "stages": spent}))


STAGE_ORDER = ["read the file", "judge rows, duplicates, routing", "merge: persons (Python + SQL)",
               "  of which SQL: insert persons", "merge: cases (Python + SQL)", "  of which SQL: insert cases",
               "  of which SQL: insert case_events", "merge: warnings (Python + SQL)",
               "  of which SQL: insert warnings", "  of which SQL: insert push_row_errors"]


def time_stages() -> dict[str, float]:
    """Wall seconds per stage of the import (--stages): reading, judging, and each table's merge with the part
    of it spent in the database's executemany."""
    from sqlalchemy.engine import Connection

    import dissuasion.cases.merge as merge
    import dissuasion.imports.pipeline as pipeline
    spent: dict[str, float] = {}

    def timed(module, name: str, label: str) -> None:
        original = getattr(module, name)

        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0) + time.perf_counter() - start
        setattr(module, name, wrapper)

    timed(pipeline, "read_table", "read the file")
    timed(pipeline, "judge", "judge rows, duplicates, routing")
    timed(merge, "_persons", "merge: persons (Python + SQL)")
    timed(merge, "_cases", "merge: cases (Python + SQL)")
    timed(merge, "_insert_warnings", "merge: warnings (Python + SQL)")
    execute = Connection.exec_driver_sql

    def sql(self, statement, *args, **kwargs):
        start = time.perf_counter()
        try:
            return execute(self, statement, *args, **kwargs)
        finally:
            if statement.startswith("INSERT INTO"):
                label = f"  of which SQL: insert {statement.split()[2]}"
                spent[label] = spent.get(label, 0) + time.perf_counter() - start
    Connection.exec_driver_sql = sql
    return spent


def run_ours(path: Path, db_path: Path, stages: bool = False) -> dict:
    command = [sys.executable, __file__, "--child", str(path), str(db_path)] + (["--stages"] if stages else [])
    out, peak_mb = _run_sampled(command)
    result = json.loads(out.strip().splitlines()[-1])
    result["peak_mb"] = max(result["peak_mb"], peak_mb)
    return result


def _tree_pss_kb(pid: int) -> int:
    """The summed PSS of a process and its descendants, in kB (0 for what has gone)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration, ValueError):
            continue
    return total


def _run_sampled(command: list[str], env: dict | None = None) -> tuple[str, float]:
    """Run a command, sampling its process tree's memory; (its stdout, the peak in MB: the highest summed PSS, or
    the command's own peak RSS when higher)."""
    import threading
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    peak, done = [0], threading.Event()

    def sample() -> None:  # (never proc.poll(): that would reap the process before wait4 reads its usage)
        while not done.is_set():
            peak[0] = max(peak[0], _tree_pss_kb(proc.pid))
            done.wait(0.02)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, err = proc.stdout.read(), proc.stderr.read()
    _pid, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, command, out, err)
    return out, max(peak[0], usage.ru_maxrss) / 1024


def import_list(path: Path, db_path: Path) -> tuple[list[str], dict]:
    """The command `flask --app app import-list PATH` into the SQLite database at db_path, and its environment."""
    return ([str(ROOT / ".venv" / "bin" / "flask"), "--app", "app", "import-list", str(path)],
            {**os.environ, "DATABASE_URL": f"sqlite:///{db_path}"})


def run_cli(path: Path, db_path: Path) -> dict:
    """`flask --app app import-list FILE` into a fresh database with the directory loaded: wall seconds of the
    whole process (start-up included) and its peak memory with its children's."""
    fresh_schema(db_path)
    start = time.perf_counter()
    out, peak_mb = _run_sampled(*import_list(path, db_path))
    return {"seconds": time.perf_counter() - start, "peak_mb": peak_mb, "message": out.splitlines()[0][:80]}


def run_pandas(path: Path) -> dict:
    """bench/pandas_xlsx.py as a process (wall seconds, its imports included, as the CLI's start-up is)."""
    start = time.perf_counter()
    out, peak_mb = _run_sampled([sys.executable, str(ROOT / "bench" / "pandas_xlsx.py"), str(path)])
    return {"seconds": time.perf_counter() - start, "peak_mb": peak_mb, "line": out.strip()}


def run_floor(path: Path) -> float:
    return run_floor_parts(path)[1]


def run_floor_parts(path: Path) -> tuple[float, float]:
    """The floor's (reading the file, reading and writing it) in seconds."""
    out = subprocess.run([sys.executable, str(SHARED / "bench" / "floor.py"), str(path)], check=True,
                         capture_output=True, text=True).stdout
    return (float(re.search(r"parse=([\d.]+)s", out).group(1)),
            float(re.search(r"parse\+write=([\d.]+)s", out).group(1)))


#: What an import writes, in the order it writes it (database_alone replays these rows).
WRITTEN_TABLES = ("pushes", "persons", "cases", "warnings", "push_row_errors", "audit_events")
#: The tables whose secondary indexes an import into a small database builds after its rows (bulk.indexes_built_after).
REBUILT_TABLES = ("persons", "cases", "warnings")


def database_alone(written: Path, scratch: Path) -> float:
    """Seconds of the database work alone of the import that wrote `written`: the rows it stored, read back
    beforehand, replayed into a fresh schema (fresh_schema) as plain tuples through sqlite3's executemany, with
    the import's own settings (WAL, synchronous=NORMAL, foreign keys on, the 32 MB page cache of a big write) and
    its own order (the three big tables' secondary indexes dropped, the rows in, the indexes built, one commit).
    No code of ours runs while it is timed: no importer of this schema and these rows goes below it on one core."""
    import sqlite3

    from dissuasion.core.bulk import REBUILT_INDEXES
    fresh_schema(scratch)
    source, con = sqlite3.connect(written), sqlite3.connect(scratch, isolation_level=None)
    rows = {}
    for table in WRITTEN_TABLES:
        after = con.execute(f'SELECT coalesce(max(rowid), 0) FROM "{table}"').fetchone()[0]
        rows[table] = source.execute(f'SELECT * FROM "{table}" WHERE rowid > ? ORDER BY rowid', (after,)).fetchall()
    source.close()
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "cache_size=-32768"):
        con.execute(f"PRAGMA {pragma}")
    start = time.perf_counter()
    con.execute("BEGIN IMMEDIATE")
    indexes = [index for table in REBUILT_TABLES for index in con.execute(REBUILT_INDEXES, (table,)).fetchall()]
    for name, _sql in indexes:
        con.execute(f'DROP INDEX "{name}"')
    for table, values in rows.items():
        if values:
            con.executemany(f'INSERT INTO "{table}" VALUES ({", ".join("?" * len(values[0]))})', values)
    for _name, sql in indexes:
        con.execute(sql)
    con.execute("COMMIT")
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def startup_alone(header_line: str, scratch: Path) -> float:
    """Seconds of `flask --app app import-list` on a file of its header alone (refused: nothing to import, nothing
    written): the CLI's start-up, which the acceptance counts."""
    path = scratch.with_suffix(".csv")
    path.write_text(header_line, encoding="utf-8")
    fresh_schema(scratch)
    command, env = import_list(path, scratch)
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, capture_output=True, check=False)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--prefill", type=int, default=1_000_000)
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--formats", default="csv,xlsx")
    ap.add_argument("--stages", action="store_true", help="also print where each import's time went")
    ap.add_argument("--child", nargs=2)
    ap.add_argument("--database-alone", nargs=2, metavar=("WRITTEN", "SCRATCH"))
    ap.add_argument("--no-cli", dest="cli", action="store_false", help="leave out the CLI measurement")
    ap.add_argument("--cli-only", action="store_true", help="only the CLI measurement (issue 23's acceptance)")
    ap.add_argument("--no-pandas", action="store_true", help="leave out pandas beside the XLSX")
    ap.add_argument("--rounds", type=int, default=1, help="CLI measurement: rounds, alternating, best counts")
    ap.add_argument("--no-bound", dest="bound", action="store_false",
                    help="CLI measurement: leave out the bound (the database work alone, the start-up alone)")
    args = ap.parse_args()
    if args.child:
        return child(*args.child, stages=args.stages)
    if args.database_alone:
        return print(database_alone(*map(Path, args.database_alone)))
    OUT.mkdir(parents=True, exist_ok=True)
    files = {}
    for fmt in args.formats.split(","):
        files[fmt] = OUT / f"push{args.rows}.{fmt}"
        if not files[fmt].exists() or args.rebuild:
            subprocess.run([sys.executable, str(SHARED / "samples" / "gen_push.py"), "--rows", str(args.rows),
                            "--format", fmt, "--seed", "47", "--out", str(files[fmt])], check=True)
    cached = OUT / f"prefilled{args.prefill}-{schema_digest()}.db"  # a schema changed since: filled again
    if not args.cli_only and (not cached.exists() or args.rebuild):
        t = time.perf_counter()
        prefill(cached, args.prefill)
        print(f"prefilled {args.prefill:,} warnings in {time.perf_counter() - t:.0f}s (cached: {cached})")
    target = OUT / "target.db"
    print(f"rows per file: {args.rows:,}; machine: {os.cpu_count()} cores; target: <= 2.0x floor, < 500 MB")
    if not args.cli_only:
        library_mode(args, files, cached, target)
    if args.cli:
        cli_mode(args, files, target)


def cli_mode(args, files: dict, target: Path) -> None:
    """Issue 23's acceptance: the CLI, start-up included, beside the floor (and pandas for XLSX), best of --rounds
    alternating, so a busy moment of the machine counts against none of them."""
    print(f"through the CLI (start-up included), best of {args.rounds}; target: <= {CLI_RATIO:g}x floor, "
          "XLSX faster than pandas, < 500 MB")
    # as installed (make bytecode, the deploy guide): the modules compiled once, not at every start of the command
    subprocess.run([sys.executable, "-m", "compileall", "-q", "dissuasion", "app.py"], cwd=ROOT, check=True)
    if args.bound:  # the start-up is the same for every format: measured once, best of the rounds
        with open(next(iter(files.values())).with_suffix(".csv"), encoding="utf-8-sig") as csv_file:
            header_line = csv_file.readline()
        startup = min(startup_alone(header_line, OUT / "startup.db") for _round in range(max(args.rounds, 2)))
    for fmt, path in files.items():
        floors, reads, ours, pandas, alone = [], [], [], [], []
        for _round in range(args.rounds):
            read, whole = run_floor_parts(path)
            floors.append(whole)
            reads.append(read)
            ours.append(run_cli(path, target))
            if args.bound:  # in a process of its own, so that this one stays small (a child's peak RSS, as
                # the kernel reports it, can include its parent's at the fork)
                alone.append(float(subprocess.run(
                    [sys.executable, __file__, "--database-alone", str(target), str(OUT / "bound.db")], check=True,
                    capture_output=True, text=True).stdout))
            if fmt == "xlsx" and not args.no_pandas:
                pandas.append(run_pandas(path))
        floor, best = min(floors), min(ours, key=lambda o: o["seconds"])
        peak = max(o["peak_mb"] for o in ours)
        ratio = best["seconds"] / floor
        met = ratio <= CLI_RATIO and peak < 500
        line = (f"{fmt:<4} {'CLI, empty database':<26} ours {best['seconds']:6.2f}s "
                f"({args.rows / best['seconds']:8,.0f} rows/s) peak {peak:5.0f} MB | floor {floor:5.2f}s "
                f"({args.rows / floor:8,.0f} rows/s) | {ratio:4.1f}x floor")
        if pandas:
            fastest = min(p["seconds"] for p in pandas)
            met = met and best["seconds"] < fastest
            line += f" | pandas {fastest:5.2f}s"
        print(f"{line} {'ok' if met else 'MISSED'}")
        rounds = {"ours": [o["seconds"] for o in ours], "floor": floors, "pandas": [p["seconds"] for p in pandas]}
        print("       every round: " + "; ".join(f"{name} " + ", ".join(f"{t:.2f}" for t in times) + " s"
                                             for name, times in rounds.items() if times))
        if alone:
            print_bound(fmt, min(alone), startup, min(reads), floor, min(rounds["pandas"], default=None))


def print_bound(fmt: str, database: float, startup: float, read: float, floor: float,
                pandas: float | None = None) -> None:
    """What no import through the CLI goes below, beside the floor: the database work alone (database_alone), the
    CLI's start-up (startup_alone) and reading the file as the floor reads it. What the acceptance leaves for
    everything else (judging each row, routing, matching persons, encrypting) is the difference."""
    bound = database + startup + read
    limit, against = CLI_RATIO * floor, f"{CLI_RATIO:g}x the floor"
    if pandas is not None and pandas < limit:
        limit, against = pandas, "pandas' time"
    print(f"{fmt:<4} bound, before any check   database work alone {database:5.2f}s + CLI start-up {startup:5.2f}s + "
          f"reading the file {read:5.2f}s = {bound:5.2f}s = {bound / floor:3.1f}x floor; "
          + (f"{against} leaves {limit - bound:5.2f}s for judging, routing, matching and encrypting 100,000 rows"
             if bound < limit else f"already {bound - limit:5.2f}s over {against}, before a row is judged"))


#: Issue 23: the CLI import, start-up included, at most this many times the floor.
CLI_RATIO = 4.0


def library_mode(args, files: dict, cached: Path, target: Path) -> None:
    for fmt, path in files.items():
        floor = run_floor(path)
        for label in ("empty database", f"{args.prefill:,} warnings already"):
            if label == "empty database":
                fresh_schema(target)
            else:
                for suffix in ("-wal", "-shm"):
                    Path(f"{target}{suffix}").unlink(missing_ok=True)
                shutil.copyfile(cached, target)
            ours = run_ours(path, target, args.stages)
            ratio = ours["seconds"] / floor
            print(f"{fmt:<4} {label:<26} ours {ours['seconds']:6.2f}s ({args.rows / ours['seconds']:8,.0f} rows/s) "
                  f"peak {ours['peak_mb']:5.0f} MB | floor {floor:5.2f}s ({args.rows / floor:8,.0f} rows/s) | "
                  f"{ratio:4.1f}x floor {'ok' if ratio <= 2 and ours['peak_mb'] < 500 else 'MISSED'}")
            for stage, seconds in sorted(ours["stages"].items(), key=lambda kv: STAGE_ORDER.index(kv[0])):
                print(f"       {stage:<40} {seconds:6.2f}s")


if __name__ == "__main__":
    main()
