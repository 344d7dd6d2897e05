#!/usr/bin/env python3
"""`make bench`: every benchmark, one after the other, then bench/RESULTS.md with the machine, the date and each
figure beside its target and its floor.

    .venv/bin/python bench/run_all.py                   # import, worklist, report, load
    .venv/bin/python bench/run_all.py --only load       # some of them (the others' rows are left out)
    .venv/bin/python bench/run_all.py --notes-only      # rewrite the notes under the figures of the last run

Each benchmark runs as a child process; its output is kept in bench/out/<name>.log and its figures are read from
its `RESULT {json}` lines (bench/results.py). bench/import_push.py prints no such line (its owner changes it
often), so its figure lines are read instead. Prefilled databases are cached in bench/out/ and reused: the first
run takes long (the 1,000,000-row fills), later ones far less.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))

from bench.results import parse, speed_check  # noqa: E402

#: name -> the command's arguments after the interpreter; the cached databases live in bench/out/.
BENCHES = {
    "import": ["bench/import_push.py"],
    "worklist": ["bench/worklist.py", "--db", str(OUT / "worklist1000000.db")],
    "report": ["bench/report.py", "--db", str(OUT / "report1000000.db")],
    "board": ["bench/board.py"],
    "load": ["bench/load.py"],
    "commit_job": ["bench/commit_job.py"],
}
IMPORT_LINE = re.compile(r"^(?P<fmt>csv|xlsx)\s+(?P<label>.+?)\s+ours\s+(?P<ours>[\d.]+)s .*?peak\s+(?P<peak>\d+) MB"
                         r" \| floor\s+(?P<floor>[\d.]+)s(?:.*?\| pandas\s+(?P<pandas>[\d.]+)s)?", re.M)
#: bench/import_push.py's bound: the database work, the CLI's start-up and the reading alone (no target: a figure to
#: read the CLI's against).
BOUND_LINE = re.compile(r"^(?P<fmt>csv|xlsx)\s+bound, before any check\s+database work alone\s+(?P<database>[\d.]+)s"
                        r" \+ CLI start-up\s+(?P<startup>[\d.]+)s \+ reading the file\s+(?P<read>[\d.]+)s"
                        r" =\s+(?P<bound>[\d.]+)s", re.M)
IMPORT_RATIO, IMPORT_PEAK_MB = 2.0, 500
#: Issue 23: through `flask --app app import-list`, start-up included (bench/import_push.py's CLI lines).
IMPORT_CLI_RATIO = 4.0
NOTES = ROOT / "bench" / "NOTES.md"
NOTES_MARK = "<!-- below: bench/NOTES.md -->"


def import_results(output: str) -> list[dict]:
    """bench/import_push.py's figure lines as results: seconds beside 2x the floor, and the peak memory."""
    rows = []
    for m in IMPORT_LINE.finditer(output):
        ours, floor = float(m["ours"]), float(m["floor"])
        ratio = IMPORT_CLI_RATIO if m["label"].startswith("CLI") else IMPORT_RATIO
        target, note = round(ratio * floor, 2), f"{100_000 / ours:,.0f} rows/s"
        if m["pandas"]:  # issue 23: an XLSX through the CLI must beat pandas' read_excel + to_sql on the same file
            target = min(target, float(m["pandas"]))
            note += f"; target: faster than pandas + to_sql ({float(m['pandas']):g} s) and within {ratio:g}x the floor"
        rows.append({"name": f"import 100,000 rows, {m['fmt']}, {m['label']}", "figure": ours, "unit": "s",
                     "target": target, "floor": floor, "met": ours <= target, "note": note})
        rows.append({"name": f"import peak memory, {m['fmt']}, {m['label']}", "figure": float(m["peak"]),
                     "unit": "MB", "target": IMPORT_PEAK_MB, "floor": None, "met": float(m["peak"]) < IMPORT_PEAK_MB,
                     "note": ""})
    cli_floor = {r["name"].split(", ")[1]: r["floor"] for r in rows
                 if r["unit"] == "s" and r["name"].endswith("CLI, empty database")}
    for m in BOUND_LINE.finditer(output):
        rows.append({"name": f"import 100,000 rows, {m['fmt']}, CLI: what no import of this schema goes below (the "
                             "database work alone, the rows replayed as plain tuples, + the CLI's start-up + reading "
                             "the file as the floor does)", "figure": float(m["bound"]), "unit": "s", "target": None,
                     "floor": cli_floor.get(m["fmt"]), "met": None,
                     "note": f"{m['database']} s + {m['startup']} s + {m['read']} s"})
    return rows


def run_one(name: str) -> tuple[list[dict], float, int]:
    OUT.mkdir(parents=True, exist_ok=True)
    log = OUT / f"{name}.log"
    started = time.perf_counter()
    print(f"== {name}: {' '.join(BENCHES[name])}  (output: {log.relative_to(ROOT)})", flush=True)
    with log.open("w") as f:
        done = subprocess.run([sys.executable, *BENCHES[name]], cwd=ROOT, stdout=f, stderr=subprocess.STDOUT,
                              text=True, check=False)
    output = log.read_text()
    results = import_results(output) if name == "import" else parse(output)
    for r in results:
        print(f"   {r['name']}: {r['figure']} {r['unit']} (target {r['target']}) {_verdict(r).strip('*')}")
    if done.returncode != 0 or not results:
        print(f"   {name} failed (exit {done.returncode}); last lines:\n" + "\n".join(output.splitlines()[-15:]))
    return results, time.perf_counter() - started, done.returncode


def machine() -> dict[str, str]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    mem_kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3) as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001  (a missing server is reported, not fatal)
        pg = f"not reachable ({type(exc).__name__})"
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True,
                            check=False).stdout.strip() or "?"
    return {"code": f"commit {commit}", "CPU": f"{cpu}, {os.cpu_count()} cores",
            "RAM": f"{mem_kb / 1024 / 1024:.1f} GiB",
            "OS": f"{platform.system()} {platform.release()}", "Python": platform.python_version(),
            "SQLite": sqlite3.sqlite_version, "PostgreSQL": pg,
            "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
            "ten million additions in Python at start": speed_check()}


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if isinstance(value, (int, float)) and abs(value) >= 100 else f"{value:g}"
    return f"{text} {unit}".strip()


def _ratio(r: dict) -> str:
    if r["floor"]:
        return f"{r['figure'] / r['floor']:.1f}× floor"
    if r["target"]:
        return f"{r['figure'] / r['target']:.2f}× target"
    return "—"


def write_results(path: Path, info: dict, started: dt.datetime, runs: dict[str, tuple]) -> None:
    lines = ["# Benchmark results", "",
             f"Made by `make bench` (bench/run_all.py) on {started:%Y-%m-%d %H:%M} UTC; each benchmark's full output "
             "is in bench/out/<name>.log on the machine that ran it.", "",
             "## Machine", ""]
    lines += [f"* {k}: {v}" for k, v in info.items()]
    lines += ["", "The machine is shared: other people's tests and benchmarks ran at the same time, so times are "
              "noisy; the floors are measured in the same run, beside the figures they are compared with.", "",
              "## Figures", "", "| figure | measured | target | floor | ratio | |",
              "| --- | --- | --- | --- | --- | --- |"]
    lines += _rows(runs)
    lines += ["", "Run times: " + ", ".join(f"{n} {s / 60:.1f} min" for n, (_r, s, _c) in runs.items()) + "."]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    add_notes(path)


def rescore(path: Path) -> None:
    """The figures table again from the logs of the run --out describes (a target changed, not the figures)."""
    text = path.read_text(encoding="utf-8").split(NOTES_MARK)[0]
    head, _figures, tail = re.split(r"^(## Figures\n.*?)(?=^Run times:)", text, maxsplit=1, flags=re.M | re.S)
    runs = {}
    for name in re.findall(r"(\w+) [\d.]+ min", tail):  # the benchmarks that run ran ("Run times: import 1.0 min, …")
        output = (OUT / f"{name}.log").read_text()
        runs[name] = (import_results(output) if name == "import" else parse(output), 0.0, 0)
    lines = ["## Figures", "", "| figure | measured | target | floor | ratio | |",
             "| --- | --- | --- | --- | --- | --- |"]
    lines += _rows(runs)
    path.write_text(head + "\n".join(lines) + "\n\n" + tail.rstrip() + "\n", encoding="utf-8")
    add_notes(path)


def _verdict(r: dict) -> str:
    """met, missed, or nothing for a figure given for information (no target)."""
    if r["target"] is None:
        return ""
    return "met" if r["met"] else "**missed**"


def _rows(runs: dict) -> list[str]:
    lines = []
    for name, (results, _seconds, code) in runs.items():
        if not results:
            lines.append(f"| {name}: no figures (exit {code}, see bench/out/{name}.log) | | | | | missed |")
        for r in results:
            note = f" ({r['note']})" if r.get("note") else ""
            lines.append(f"| {r['name']}{note} | {_fmt(r['figure'], r['unit'])} | {_fmt(r['target'], r['unit'])} | "
                         f"{_fmt(r['floor'], r['unit'])} | {_ratio(r)} | {_verdict(r)} |")
    return lines


def add_notes(path: Path) -> None:
    """Put bench/NOTES.md (the profiles and what would close each gap, written by hand) under the figures,
    in place of the notes an earlier run put there."""
    text = path.read_text(encoding="utf-8")
    figures = text.split(NOTES_MARK)[0].rstrip() if NOTES_MARK in text else text.rstrip()
    if NOTES.exists():
        figures += f"\n\n{NOTES_MARK}\n\n" + NOTES.read_text(encoding="utf-8").strip()
    path.write_text(figures + "\n", encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="+", choices=list(BENCHES), default=list(BENCHES))
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    ap.add_argument("--notes-only", action="store_true", help="run nothing; put the current NOTES.md under the "
                                                                "figures already in --out")
    ap.add_argument("--rescore", action="store_true", help="run nothing; read the figures again from the last run's "
                    "logs (bench/out/<name>.log) against today's targets, keeping --out's machine and run times")
    args = ap.parse_args()
    if args.notes_only:
        return add_notes(args.out)
    if args.rescore:
        return rescore(args.out)
    started = dt.datetime.now(dt.UTC)
    info = machine()
    runs = {name: run_one(name) for name in args.only}
    info["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    info["ten million additions in Python at end"] = speed_check()
    write_results(args.out, info, started, runs)
    print(f"wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")
    missed = [r["name"] for results, _s, _c in runs.values() for r in results
              if r["target"] is not None and not r["met"]]
    print(f"{len(missed)} figure(s) missed their target" if missed else "every target met")


if __name__ == "__main__":
    main()
