#!/usr/bin/env python3
"""Load test (issue 9): gunicorn with 4 workers on PostgreSQL, the scheduler running, 200 officers and 2 center
staff for 3 minutes, on loopback only; it stops by itself, prints p50/p95/p99 and errors, then checks that nothing
was lost or made twice. Target: p95 under 300 ms, no errors, nothing lost.

    .venv/bin/python bench/load.py                                # the full run (about 6 minutes in all)
    .venv/bin/python bench/load.py --users 20 --duration 30 --staff 1 --push-rows 1000   # a smoke run

Steps: a fresh database dissuasion_load_<time> on the PostgreSQL at --admin-url (dropped at the end unless
--keep-db), `flask db upgrade`, the seed (bench/load_seed.py: directory, accounts, tens of thousands of cases),
push files from ../shared/samples/gen_push.py (cached in bench/out/), then the scheduler process and gunicorn with
dissuasion/deploy/gunicorn.conf.py. Officers start over --ramp seconds (through the API with their token; in pages
mode they log in) and work until the end of --duration; the staff start after the ramp. Users are in
bench/load_users.py and bench/load_api.py, the check in bench/load_verify.py. Logs of the last run: bench/out/load/
(gunicorn's access log has the server's own time per request).
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
import urllib.request
from collections import defaultdict
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
OUT = ROOT / "bench" / "out"
LOGS = OUT / "load"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench import load_api, load_seed, load_users  # noqa: E402
from bench.load_verify import verify  # noqa: E402
from bench.results import emit, speed_check  # noqa: E402

TARGET_P95_MS = 300.0
#: The processes whose CPU the run reports (cpu_snapshot, ConnectionWatch), in the order printed.
TENANTS = ("gunicorn", "PostgreSQL backends", "scheduler", "load generator")


def main() -> None:
    args = parse_args()
    name = f"dissuasion_load_{time.strftime('%Y%m%d_%H%M%S')}"
    url = re.sub(r"/[^/]*$", f"/{name}", args.admin_url).replace("postgresql://", "postgresql+psycopg://", 1)
    LOGS.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_URL": url, "WEB_CONCURRENCY": str(args.workers),
           "GUNICORN_BIND": f"127.0.0.1:{args.port or free_port()}", "GUNICORN_ACCESS_LOG": str(LOGS / "access.log"),
           **{k: json.dumps(v) if isinstance(v, dict) else v for k, v in load_seed.SECRETS.items()}}
    print(f"database {name}; {args.users} officers, {args.staff} center staff, {args.duration:.0f} s, "
          f"{args.workers} gunicorn workers at {env['GUNICORN_BIND']}; ten million additions in Python: "
          f"{speed_check()}")
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
    ap.add_argument("--ramp", type=float, default=60, help="seconds over which the officers start (not measured)")
    ap.add_argument("--think", type=float, nargs=2, default=(2.0, 6.0), metavar=("MIN", "MAX"),
                    help="seconds an officer takes between two requests")
    ap.add_argument("--push-rows", type=int, default=10_000)
    ap.add_argument("--push-every", type=float, default=40,
                    help="seconds between two pushes of one staff member (2 staff: a push every 20 s)")
    ap.add_argument("--mode", choices=("api", "pages"), default="api",
                    help="officers work through the API (issue 23's load: worklist, case, contact back to back, "
                         "then 2-6 s) or through the pages (think time between every request)")
    ap.add_argument("--open-per-officer", type=int, default=40)
    ap.add_argument("--closed", type=int, default=40_000, help="closed cases of the past year")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--port", type=int, default=0, help="gunicorn's port on 127.0.0.1 (default: a free one)")
    ap.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test",
                    help="a database to connect to for CREATE/DROP DATABASE")
    ap.add_argument("--keep-db", action="store_true")
    ap.add_argument("--pool-share", type=float, default=0.1,
                    help="share of an officer's steps that take a case from the precinct's pool (409 when a "
                         "colleague took it first: counted as a conflict, not an error)")
    ap.add_argument("--tree", type=Path, default=ROOT,
                    help="the checkout whose app is served (migrations, gunicorn, scheduler); the load generator "
                         "and the check stay this one's, so two versions of the app meet the same load")
    return ap.parse_args()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(args, env: dict, url: str) -> None:
    started = time.perf_counter()
    load_seed.upgrade(BIN / "flask", env, args.tree)
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
    scheduler = subprocess.Popen([str(BIN / "flask"), "--app", "app", "scheduler"], cwd=args.tree, env=env,
                                 stdout=(LOGS / "scheduler.log").open("w"), stderr=subprocess.STDOUT)
    web = subprocess.Popen([str(BIN / "gunicorn"), "-c", "dissuasion/deploy/gunicorn.conf.py", "app:app"],
                           cwd=args.tree, env=env, stdout=(LOGS / "gunicorn.log").open("w"), stderr=subprocess.STDOUT)
    base = f"http://{env['GUNICORN_BIND']}"
    try:
        wait_healthy(base, web)
        connections = ConnectionWatch(env["DATABASE_URL"])
        before = cpu_snapshot(web.pid, scheduler.pid)
        started, started_wall = time.monotonic(), time.time()
        run = asyncio.run(load(args, base))
        window = {"seconds": time.monotonic() - started, "cpu": cpu_delta(before, cpu_snapshot(web.pid, scheduler.pid)),
                  "steady_from_wall": started_wall + (run.steady_from - started)}
        window["connections"], window["cpu"]["PostgreSQL backends"] = connections.stop()
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
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


async def load(args, base: str) -> load_users.Run:
    now = time.monotonic()
    ramp_end, stop_at = now + args.ramp, now + args.ramp + args.duration
    run = load_users.Run(marker=f"load:{time.strftime('%H%M%S')}", steady_from=ramp_end)
    if args.mode == "api":
        officers = [load_api.officer(run, base, u, args.seeded.tokens[u], now + args.ramp * i / max(1, args.users),
                                     stop_at, tuple(args.think), seed=i, pool_share=args.pool_share)
                    for i, u in enumerate(args.seeded.officers)]
    else:
        officers = [load_users.officer(run, base, u, load_seed.PASSWORD, now + args.ramp * i / max(1, args.users),
                                       stop_at, tuple(args.think), seed=i, pool_share=args.pool_share)
                    for i, u in enumerate(args.seeded.officers)]
    # the staff take turns: with 2 staff pushing every 40 s, a push every 20 s (issue 23), not two at once every 40 s
    staff = [load_users.center(run, base, u, load_seed.PASSWORD, args.files[i],
                               ramp_end + args.push_every * i / max(1, args.staff), stop_at, args.push_every)
             for i, u in enumerate(args.seeded.center[:args.staff])]
    await asyncio.gather(*officers, *staff)
    return run


class ConnectionWatch:
    """The load database's connections, sampled every two seconds: the most open at once, and the CPU seconds
    their PostgreSQL backends used while seen (PostgreSQL runs on this machine)."""

    def __init__(self, url: str):
        self.url, self.most, self._done = url.replace("+psycopg", ""), 0, threading.Event()
        self._cpu: dict[int, list[float]] = {}
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._done.wait(2):
                pids = [r[0] for r in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = "
                                                   "current_database() AND pid <> pg_backend_pid()").fetchall()]
                self.most = max(self.most, len(pids))
                for pid in pids:
                    seen = self._cpu.setdefault(pid, [_proc_cpu(pid), 0.0])
                    seen[1] = _proc_cpu(pid) or seen[1]

    def stop(self) -> tuple[int, float]:
        self._done.set()
        self._thread.join()
        return self.most, sum(max(0.0, last - first) for first, last in self._cpu.values())


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


def _row(label: str, times: list[float], errors: int, conflicts: int = 0) -> str:
    return (f"  {label:<24} {len(times):>7,} {percentile(times, 50):>8.0f} {percentile(times, 95):>8.0f} "
            f"{percentile(times, 99):>8.0f} {max(times, default=float('nan')):>8.0f} {conflicts:>9} {errors:>7}")


#: gunicorn's access log lines: method, path, status, microseconds (gunicorn.conf.py's access_log_format).
ACCESS = re.compile(r'"(GET|POST) (\S+) HTTP/[\d.]+" (\d+) \S+ (\d+)us')
NUMBER = re.compile(r"/\d+")


def server_times() -> dict[str, list[float]]:
    """The server's own time per request (ms), by method and path shape, from gunicorn's access log."""
    times = defaultdict(list)
    path = LOGS / "access.log"
    for m in ACCESS.finditer(path.read_text() if path.exists() else ""):
        shape = NUMBER.sub("/N", m[2].split("?")[0])
        times[f"{m[1]} {shape}"].append(int(m[4]) / 1000)
    return times


def _table(samples: list, title: str) -> None:
    by_kind, errors, conflicts = defaultdict(list), defaultdict(int), defaultdict(int)
    statuses = defaultdict(lambda: defaultdict(int))
    for s in samples:
        by_kind[s.kind].append(s.ms)
        errors[s.kind] += not s.ok
        conflicts[s.kind] += s.conflict
        statuses[s.kind][s.status] += 1
    print(title)
    print(f"  {'kind':<24} {'n':>7} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8} {'conflicts':>9} {'errors':>7}")
    kinds = sorted(by_kind, key=lambda k: (k in load_users.STAFF_KINDS, k))
    for kind in kinds:
        print(_row(kind, by_kind[kind], errors[kind], conflicts[kind]))
    officer = [s for s in samples if s.kind not in load_users.STAFF_KINDS and not s.kind.startswith("login")]
    print(_row("officers' pages", [s.ms for s in officer], sum(not s.ok for s in officer),
               sum(s.conflict for s in officer)))
    work = [s for s in samples if not s.kind.startswith("login")]
    print(_row("every request but logins", [s.ms for s in work], sum(not s.ok for s in work),
               sum(s.conflict for s in work)))
    print("  answers by status (0: no answer): " + "; ".join(
        f"{kind} " + ", ".join(f"{status} x{n:,}" for status, n in sorted(statuses[kind].items())) for kind in kinds))


def _server_side() -> None:
    print("server side, the whole run, from gunicorn's access log (ms; waiting for a free worker not included):")
    for shape, times in sorted(server_times().items(), key=lambda kv: -sum(kv[1])):
        print(f"  {shape:<34} {len(times):>7,} p50 {percentile(times, 50):>7.0f} p95 {percentile(times, 95):>7.0f}"
              f"  total {sum(times) / 1000:6.0f} s")


def _slow_seconds(run: load_users.Run, steady_from_wall: float) -> None:
    """Every request to bench/out/load/samples.csv (when it began, wall clock; kind; ms; status), and the seconds of
    the steady phase that held the most of its slowest 5%: to set beside gunicorn's log (a worker restarting) and
    the pushes' previews."""
    with (LOGS / "samples.csv").open("w") as out:
        out.write("began,kind,ms,status\n")
        for s in run.samples:
            out.write(f"{steady_from_wall + s.at:.3f},{s.kind},{s.ms:.1f},{s.status}\n")
    steady = [s for s in run.samples if s.at >= 0 and not s.kind.startswith("login")]
    if not steady:
        return
    p95 = percentile([s.ms for s in steady], 95)
    by_second = defaultdict(int)
    for s in steady:
        if s.ms >= p95:
            by_second[int(steady_from_wall + s.at)] += 1
    worst = sorted(by_second.items(), key=lambda kv: -kv[1])[:8]
    print("seconds holding most of the slowest 5% (UTC, requests begun then at or above the p95): " + ", ".join(
        f"{time.strftime('%H:%M:%S', time.gmtime(t))} x{n}" for t, n in sorted(worst)))


def offered_rate(args) -> float:
    """Requests a second the officers send when every answer comes at once: three back to back, then a think (API
    mode), or five for every four thinks (pages: worklist, case, form, post and the page it leads to); slower
    answers make them send fewer (the run is a closed loop)."""
    per_think = 3 if args.mode == "api" else 5 / 4
    return args.users * per_think / max(sum(args.think) / 2, 1e-3)


def _capacity(args, run: load_users.Run, cpu: dict) -> None:
    """What a request cost this machine, every tenant's CPU over the whole run (the ramp's too) divided by the
    requests answered in it (the pushes' previews and commits included, as the issue counts it; in pages mode the
    officers' logins too), and how many cores the offered rate would take at that cost: above the machine's cores,
    the p95 is queueing, whatever the code's own latency. Served: the steady phase's answers a second."""
    answered = sum(1 for s in run.samples if s.status)
    if not answered:
        return
    served = sum(1 for s in run.samples if s.status and s.at >= 0) / args.duration
    per = {k: cpu[k] / answered * 1000 for k in TENANTS}
    offered = offered_rate(args)
    print(f"CPU per request answered ({answered:,}, everything included): "
          + ", ".join(f"{k} {v:.1f} ms" for k, v in per.items())
          + f"; the ~{offered:.0f} requests/s offered would keep {sum(per.values()) * offered / 1000:.1f} cores busy "
          f"at that cost, on a machine of {os.cpu_count()} (served in the steady phase: {served:.0f}/s)")


def report(args, run: load_users.Run, window: dict, url: str) -> None:
    _slow_seconds(run, window["steady_from_wall"])
    steady = [s for s in run.samples if s.at >= 0]
    ramp = [s for s in run.samples if s.at < 0]
    starting = ("start, each with their token" if args.mode == "api" else
                "log in (argon2: about 0.3 s of CPU per login, on purpose)")
    _table(ramp, f"\nramp, the first {args.ramp:.0f} s: {len(ramp):,} requests while {args.users} officers {starting}; "
                 "times in ms, client side:")
    _table(steady, f"\nsteady phase, {args.duration:.0f} s: {len(steady):,} requests "
                   f"({len(steady) / args.duration:.1f}/s); times in ms, client side (loopback):")
    _server_side()
    grouped = defaultdict(list)  # the same refusal on many cases is one line, with how often and two examples
    for kind, detail in run.errors:
        grouped[(kind, NUMBER.sub("/N", re.sub(r"\d{4}-\d\d-\d\d \d\d:\d\d", "<time>", detail)))].append(detail)
    for (kind, _shape), details in sorted(grouped.items(), key=lambda kv: -len(kv[1]))[:15]:
        print(f"  error x{len(details)}: {kind}: {details[0]}" + (f" (also: {details[1]})" if len(details) > 1 else ""))
    for push in run.pushes:
        print(f"  push {push['file']}: preview + commit {push['seconds']:.1f} s (push #{push['push']})")
    cpu, seconds = window["cpu"], window["seconds"]
    share = cpu["machine busy"] / cpu["machine total"] * 100 if cpu["machine total"] else float("nan")
    print(f"CPU seconds in the {seconds:.0f} s of the run: " + ", ".join(f"{k} {cpu[k]:.0f}" for k in TENANTS)
          + f"; the machine was {share:.0f}% busy (every tenant); most database connections {window['connections']}")
    _capacity(args, run, cpu)
    print(f"officers found no case to work on the worklist's first page {run.fallbacks} times; answers 409 "
          f"(a pool case another officer took first; conflicts, not errors): {sum(s.conflict for s in run.samples)}")
    from dissuasion.extensions import db

    with load_seed.app_for(url).app_context():
        verdict = verify(run.marker, run.posted)
        db.engine.dispose()
    print("\nnothing lost? " + ("yes" if verdict.clean else "NO"))
    for line in verdict.lines():
        print("  " + line)
    work = [s.ms for s in steady if not s.kind.startswith("login")]
    p95, n_errors = percentile(work, 95), sum(not s.ok for s in run.samples)
    n_conflicts = sum(s.conflict for s in run.samples)
    login_times = [s.ms for s in run.samples if s.kind.startswith("login")]
    setup = (f"{args.users} officers ({args.mode}) + {args.staff} staff ({args.push_rows:,}-row pushes), "
             f"{args.duration:.0f} s, {args.workers} workers, PostgreSQL")
    emit(f"load: p95 of the steady phase, every request but logins ({setup})", round(p95, 1), "ms", TARGET_P95_MS,
         note=f"p50 {percentile(work, 50):.0f} ms, p99 {percentile(work, 99):.0f} ms, {len(work):,} requests; "
              f"logins p95 {percentile(login_times, 95):.0f} ms")
    emit("load: errors (logins included)", n_errors, "requests", 0,
         note=f"{n_conflicts} conflicts (409: a pool case a colleague had just taken) not counted as errors")
    lost = len(verdict.lost) + len(verdict.duplicated) + len(verdict.followups_missing) + len(
        verdict.followups_unexpected) + verdict.followups_duplicated + verdict.notifications_duplicated
    emit("load: contacts and follow-ups lost or duplicated", lost, "rows", 0,
         note=f"{verdict.confirmed:,} contacts and {verdict.followups_expected:,} follow-ups checked")


if __name__ == "__main__":
    main()
