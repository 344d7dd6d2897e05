#!/usr/bin/env python3
"""Load test (issue 9): gunicorn with 4 workers on PostgreSQL, the scheduler running, 200 officers and 2 center
staff for 3 minutes, on loopback only; it stops by itself, prints p50/p95/p99 and errors, then checks that nothing
was lost or made twice. Target: p95 under 300 ms, no errors, nothing lost.

    .venv/bin/python bench/load.py                                # the full run (about 6 minutes in all)
    .venv/bin/python bench/load.py --users 20 --duration 30 --staff 1 --push-rows 1000   # a smoke run

Steps: a fresh database dissuasion_load_<time> on the PostgreSQL at --admin-url (dropped at the end unless
--keep-db), `flask db upgrade`, the seed (bench/load_seed.py: directory, accounts, tens of thousands of cases),
push files from ../shared/samples/gen_push.py (cached in bench/out/), then the scheduler process and gunicorn with
dissuasion/deploy/gunicorn.conf.py. Officers log in over --ramp seconds and work until the end of --duration; the
staff start after the ramp. Users are in bench/load_users.py, the check in bench/load_verify.py. Logs of the last
run: bench/out/load/ (gunicorn's access log has the server's own time per request).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
OUT = ROOT / "bench" / "out"
LOGS = OUT / "load"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench import load_seed, load_users  # noqa: E402
from bench.load_verify import verify  # noqa: E402
from bench.results import emit  # noqa: E402

TARGET_P95_MS = 300.0


def main() -> None:
    args = parse_args()
    name = f"dissuasion_load_{time.strftime('%Y%m%d_%H%M%S')}"
    url = re.sub(r"/[^/]*$", f"/{name}", args.admin_url).replace("postgresql://", "postgresql+psycopg://", 1)
    LOGS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_URL": url, "WEB_CONCURRENCY": str(args.workers),
           "GUNICORN_BIND": f"127.0.0.1:{args.port or free_port()}", "GUNICORN_ACCESS_LOG": str(LOGS / "access.log"),
           **{k: json.dumps(v) if isinstance(v, dict) else v for k, v in load_seed.SECRETS.items()}}
    print(f"database {name}; {args.users} officers, {args.staff} center staff, {args.duration:.0f} s, "
          f"{args.workers} gunicorn workers at {env['GUNICORN_BIND']}")
    load_seed.create_database(args.admin_url, name)
    try:
        prepare(args, env, url)
        run, window = serve_and_load(args, env)
        report(args, run, window, url)
    finally:
        if args.keep_db:
            print(f"kept the database {name}")
        else:
            load_seed.drop_database(args.admin_url, name)


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, default=200, help="simulated officers")
    ap.add_argument("--staff", type=int, default=2, help="simulated center staff importing pushes")
    ap.add_argument("--duration", type=float, default=180, help="seconds of load after the ramp")
    ap.add_argument("--ramp", type=float, default=30, help="seconds over which the officers log in")
    ap.add_argument("--think", type=float, nargs=2, default=(2.0, 6.0), metavar=("MIN", "MAX"),
                    help="seconds an officer takes between two requests")
    ap.add_argument("--push-rows", type=int, default=10_000)
    ap.add_argument("--push-every", type=float, default=60, help="seconds between two pushes of one staff member")
    ap.add_argument("--open-per-officer", type=int, default=40)
    ap.add_argument("--closed", type=int, default=40_000, help="closed cases of the past year")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--port", type=int, default=0, help="gunicorn's port on 127.0.0.1 (default: a free one)")
    ap.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test",
                    help="a database to connect to for CREATE/DROP DATABASE")
    ap.add_argument("--keep-db", action="store_true")
    return ap.parse_args()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(args, env: dict, url: str) -> None:
    started = time.perf_counter()
    load_seed.upgrade(BIN / "flask", env, ROOT)
    seeded = load_seed.seed(url, (SHARED / "samples" / "directory.csv").read_bytes(), args.users,
                            args.open_per_officer, args.closed)
    print(f"schema and seed: {seeded.cases:,} cases ({seeded.open_cases:,} open), {len(seeded.officers)} officers, "
          f"{len(seeded.center)} center staff in {time.perf_counter() - started:.0f} s")
    args.seeded = seeded
    args.files = push_files(args)


def push_files(args) -> list[list[Path]]:
    """Each staff member's pushes (csv for the first, xlsx for the second, …), made once and cached."""
    per_staff = math.ceil(args.duration / args.push_every) + 1
    files = []
    for s in range(args.staff):
        fmt = ("csv", "xlsx")[s % 2]
        mine = []
        for k in range(per_staff):
            n = s * per_staff + k
            path = OUT / f"load-push-{args.push_rows}-{n}.{fmt}"
            if not path.exists():
                subprocess.run([sys.executable, str(SHARED / "samples" / "gen_push.py"), "--rows", str(args.push_rows),
                                "--format", fmt, "--seed", str(900 + n), "--start-id", str(50_000_000 + n * 1_000_000),
                                "--out", str(path)], check=True, capture_output=True)
            mine.append(path)
        files.append(mine)
    return files


def serve_and_load(args, env: dict):
    """Start the scheduler and gunicorn, run the users, stop both; returns the run and its CPU figures."""
    for name in ("access.log", "gunicorn.log", "scheduler.log"):
        (LOGS / name).unlink(missing_ok=True)
    scheduler = subprocess.Popen([str(BIN / "flask"), "--app", "app", "scheduler"], cwd=ROOT, env=env,
                                 stdout=(LOGS / "scheduler.log").open("w"), stderr=subprocess.STDOUT)
    web = subprocess.Popen([str(BIN / "gunicorn"), "-c", "dissuasion/deploy/gunicorn.conf.py", "app:app"], cwd=ROOT,
                           env=env, stdout=(LOGS / "gunicorn.log").open("w"), stderr=subprocess.STDOUT)
    base = f"http://{env['GUNICORN_BIND']}"
    try:
        wait_healthy(base, web)
        connections = ConnectionWatch(env["DATABASE_URL"])
        before = cpu_snapshot(web.pid, scheduler.pid)
        started = time.monotonic()
        run = asyncio.run(load(args, base))
        window = {"seconds": time.monotonic() - started, "cpu": cpu_delta(before, cpu_snapshot(web.pid, scheduler.pid)),
                  "connections": connections.stop()}
    finally:
        for process in (web, scheduler):
            process.send_signal(signal.SIGTERM)
        for process in (web, scheduler):
            try:
                process.wait(timeout=150)
            except subprocess.TimeoutExpired:
                process.kill()
    return run, window


def wait_healthy(base: str, web: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise SystemExit(f"gunicorn stopped: see {LOGS / 'gunicorn.log'}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


async def load(args, base: str) -> load_users.Run:
    run = load_users.Run(marker=f"load:{time.strftime('%H%M%S')}")
    now = time.monotonic()
    ramp_end, stop_at = now + args.ramp, now + args.ramp + args.duration
    officers = [load_users.officer(run, base, u, load_seed.PASSWORD, now + args.ramp * i / max(1, args.users),
                                   stop_at, tuple(args.think), seed=i) for i, u in enumerate(args.seeded.officers)]
    staff = [load_users.center(run, base, u, load_seed.PASSWORD, args.files[i], ramp_end + 5 * i, stop_at,
                               args.push_every) for i, u in enumerate(args.seeded.center[:args.staff])]
    await asyncio.gather(*officers, *staff)
    return run


class ConnectionWatch:
    """The most connections the load's database had open at once, sampled every two seconds."""

    def __init__(self, url: str):
        self.url, self.most, self._done = url.replace("+psycopg", ""), 0, threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._done.wait(2):
                n = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                                 " AND pid <> pg_backend_pid()").fetchone()[0]
                self.most = max(self.most, n)

    def stop(self) -> int:
        self._done.set()
        self._thread.join()
        return self.most


def _proc_cpu(pid: int, children: bool = False) -> float:
    """CPU seconds of a process (with its reaped children's when asked)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def cpu_snapshot(web_pid: int, scheduler_pid: int) -> dict[str, float]:
    busy = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    values = [int(v) for v in busy]
    return {"gunicorn": _proc_cpu(web_pid, children=True) + sum(_proc_cpu(c) for c in _children(web_pid)),
            "scheduler": _proc_cpu(scheduler_pid, children=True), "load generator": _proc_cpu(os.getpid()),
            "machine busy": (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK"),
            "machine total": sum(values) / os.sysconf("SC_CLK_TCK")}


def cpu_delta(before: dict, after: dict) -> dict[str, float]:
    return {k: after[k] - before[k] for k in before}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else float("nan")


def _row(label: str, times: list[float], errors: int) -> str:
    return (f"  {label:<24} {len(times):>7,} {percentile(times, 50):>8.0f} {percentile(times, 95):>8.0f} "
            f"{percentile(times, 99):>8.0f} {max(times, default=float('nan')):>8.0f} {errors:>7}")


def server_times() -> list[float]:
    """The server's own time per request (ms), from gunicorn's access log (%(D)s)."""
    path = LOGS / "access.log"
    return [int(m.group(1)) / 1000 for m in re.finditer(r" (\d+)us ", path.read_text())] if path.exists() else []


def report(args, run: load_users.Run, window: dict, url: str) -> None:
    by_kind, errors = defaultdict(list), defaultdict(int)
    for s in run.samples:
        by_kind[s.kind].append(s.ms)
        errors[s.kind] += not s.ok
    print(f"\n{len(run.samples):,} requests in {window['seconds']:.0f} s "
          f"({len(run.samples) / window['seconds']:.1f}/s), times in ms (client side, loopback):")
    print(f"  {'kind':<24} {'n':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'errors':>7}")
    for kind in sorted(by_kind, key=lambda k: (k in load_users.STAFF_KINDS, k)):
        print(_row(kind, by_kind[kind], errors[kind]))
    officer = [s.ms for s in run.samples if s.kind not in load_users.STAFF_KINDS and not s.kind.startswith("login")]
    every = [s.ms for s in run.samples]
    print(_row("officers' pages", officer, sum(errors[k] for k in by_kind if k not in load_users.STAFF_KINDS)))
    print(_row("all requests", every, sum(errors.values())))
    server = server_times()
    if server:
        print(f"  server side (gunicorn's access log): p50 {percentile(server, 50):.0f}  p95 "
              f"{percentile(server, 95):.0f}  p99 {percentile(server, 99):.0f} ms")
    for kind, detail in run.errors[:10]:
        print(f"  error: {kind}: {detail}")
    for push in run.pushes:
        print(f"  push {push['file']}: preview + commit {push['seconds']:.1f} s (push #{push['push']})")
    cpu, seconds = window["cpu"], window["seconds"]
    share = cpu["machine busy"] / cpu["machine total"] * 100 if cpu["machine total"] else float("nan")
    print(f"CPU seconds in {seconds:.0f} s: " + ", ".join(f"{k} {cpu[k]:.0f}" for k in
                                                         ("gunicorn", "scheduler", "load generator"))
          + f"; whole machine {share:.0f}% busy (every tenant); most database connections {window['connections']}")
    print(f"officers found no own case on the worklist's first page {run.fallbacks} times")
    from dissuasion.extensions import db

    with load_seed.app_for(url).app_context():
        verdict = verify(run.marker, run.posted)
        db.engine.dispose()
    print("\nnothing lost? " + ("yes" if verdict.clean else "NO"))
    for line in verdict.lines():
        print("  " + line)
    p95, n_errors = percentile(every, 95), sum(errors.values())
    setup = (f"{args.users} officers + {args.staff} staff ({args.push_rows:,}-row pushes), {args.duration:.0f} s, "
             f"{args.workers} workers, PostgreSQL")
    emit(f"load: p95 of every request ({setup})", round(p95, 1), "ms", TARGET_P95_MS,
         note=f"p50 {percentile(every, 50):.0f} ms, p99 {percentile(every, 99):.0f} ms, {len(every):,} requests")
    emit("load: errors", n_errors, "requests", 0)
    lost = len(verdict.lost) + len(verdict.duplicated) + len(verdict.followups_missing) + len(
        verdict.followups_unexpected) + verdict.followups_duplicated + verdict.notifications_duplicated
    emit("load: contacts and follow-ups lost or duplicated", lost, "rows", 0,
         note=f"{verdict.confirmed:,} contacts and {verdict.followups_expected:,} follow-ups checked")


if __name__ == "__main__":
    main()
