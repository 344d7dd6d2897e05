#!/usr/bin/env python3
"""CPU and SQL statements per request on the load test's paths (issue 23, requests per core).

The load test's database (bench/load_seed.py) on PostgreSQL, the app in this process, requests through the Flask
test client as the load test's officers make them: the worklist page, the case page, the contact form, the contact
post (and the case page it leads back to), and the same through the API (worklist, case, contact). For each kind:
the median CPU time of this process per request (time.process_time: routing, queries' Python side, templates,
the session; PostgreSQL's own work is not in it) and the SQL statements per request. CPU time, not wall time, so
other tenants of the machine bother it less.

    .venv/bin/python bench/requests_cpu.py                        # seeds a template database once, then measures
    .venv/bin/python bench/requests_cpu.py --tree /work/main      # the same with another checkout's code
    .venv/bin/python bench/requests_cpu.py --profile "worklist"   # cProfile of one kind (top 30 by own time)
    .venv/bin/python bench/requests_cpu.py --as-served            # the app built by app.py, as gunicorn builds it

Last, what the garbage collector took while the requests ran, by generation: a full collection (generation 2) walks
every object the process holds, and its pause lands in whichever request set it off.

Each run measures on a fresh copy of the template database (CREATE DATABASE … TEMPLATE), upgraded to the tree's
migrations, so runs of two trees start from the same rows.
"""
from __future__ import annotations

import argparse
import cProfile
import pstats
import re
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", type=Path, default=ROOT, help="the checkout whose code is measured")
    ap.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--template", default="reqcpu_template", help="the seeded database copied for each run")
    ap.add_argument("--reseed", action="store_true")
    ap.add_argument("--officers", type=int, default=30, help="officers taking turns (each works own cases)")
    ap.add_argument("--rounds", type=int, default=6, help="rounds of worklist, case, form, post per officer")
    ap.add_argument("--profile", default="", help="a kind to profile with cProfile")
    ap.add_argument("--sql", default="", help="a kind whose first request's SQL statements are printed")
    ap.add_argument("--as-served", action="store_true",
                    help="build the app as gunicorn and the commands do (the tree's app.py, configured from the "
                         "environment) instead of create_app with the bench's settings")
    ap.add_argument("--calls", action="store_true",
                    help="also count the Python and C function calls per request (sys.setprofile): a figure the "
                         "other tenants of the machine cannot disturb, unlike CPU time (the CPU column is then "
                         "inflated by the counting)")
    return ap.parse_args()


args = parse_args()
sys.path.insert(0, str(args.tree.resolve()))
sys.path.insert(1, str(ROOT))

import psycopg  # noqa: E402
from sqlalchemy import event, select  # noqa: E402

from bench import load_seed  # noqa: E402
from bench.load_users import CASE_LINK, CSRF, ROW, TIER, VERSION, contact_form, pushed_at  # noqa: E402

SHARED = ROOT.parent / "shared"
BIN = Path(sys.executable).parent


def _exists(name: str) -> bool:
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def url_of(name: str) -> str:
    return re.sub(r"/[^/]*$", f"/{name}", args.admin_url).replace("postgresql://", "postgresql+psycopg://", 1)


def env_for(url: str) -> dict:
    import json
    import os
    return {**os.environ, "DATABASE_URL": url,
            **{k: json.dumps(v) if isinstance(v, dict) else v for k, v in load_seed.SECRETS.items()}}


def template() -> None:
    if _exists(args.template) and not args.reseed:
        return
    load_seed.drop_database(args.admin_url, args.template)
    load_seed.create_database(args.admin_url, args.template)
    url = url_of(args.template)
    # the schema of main's migrations (the tree measured upgrades its copy to its own head)
    load_seed.upgrade(BIN / "flask", env_for(url), ROOT.parent / "main")
    load_seed.seed(url, (SHARED / "samples" / "directory.csv").read_bytes(), 200, 40, 40_000)
    print(f"seeded {args.template}", flush=True)


def fresh_copy() -> str:
    name = f"reqcpu_{int(time.time())}"
    with psycopg.connect(args.admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{args.template}"')
    load_seed.upgrade(BIN / "flask", env_for(url_of(name)), args.tree.resolve())
    return name


class Meter:
    """CPU seconds and SQL statements per request kind."""

    def __init__(self, engine):
        self.cpu, self.sql, self.statements = defaultdict(list), defaultdict(list), 0
        self.calls, self._calls = defaultdict(list), 0
        self.profiler = cProfile.Profile(time.process_time) if args.profile else None
        self.printing, self.printed = False, set()
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, *a, **k):
        self.statements += 1
        if self.printing:
            print("    " + " ".join(statement.split())[:300])

    def _count_call(self, _frame, what, _arg):
        if what in ("call", "c_call"):
            self._calls += 1

    def run(self, kind: str, call):
        n = self.statements
        self.printing = kind == args.sql and kind not in self.printed
        if self.printing:
            print(f"  SQL of one {kind}:")
            self.printed.add(kind)
        profiling = self.profiler is not None and kind == args.profile
        if profiling:
            self.profiler.enable()
        if args.calls:
            self._calls = 0
            sys.setprofile(self._count_call)
        t = time.process_time()
        response = call()
        self.cpu[kind].append(time.process_time() - t)
        if args.calls:
            sys.setprofile(None)
            self.calls[kind].append(self._calls)
        if profiling:
            self.profiler.disable()
        self.sql[kind].append(self.statements - n)
        self.printing = False
        return response


def main() -> None:
    template()
    name = fresh_copy()
    try:
        measure(url_of(name))
    finally:
        load_seed.drop_database(args.admin_url, name)


class Collector:
    """CPU seconds the cyclic garbage collector spent while the requests ran, by generation (gc.callbacks): a
    collection of the oldest generation walks every object the process holds, the app's own included."""

    def __init__(self):
        import gc
        self.spent, self.count, self.started = defaultdict(float), defaultdict(int), 0.0
        gc.callbacks.append(self._seen)

    def _seen(self, phase: str, info: dict) -> None:
        if phase == "start":
            self.started = time.process_time()
        else:
            self.spent[info["generation"]] += time.process_time() - self.started
            self.count[info["generation"]] += 1

    def report(self, requests: int) -> str:
        return "; ".join(f"generation {g}: {self.count[g]:,} collections, {self.spent[g] * 1000:,.0f} ms"
                         for g in sorted(self.count)) + f" ({requests:,} requests)"


def measure(url: str) -> None:
    import os
    import random

    from dissuasion import create_app
    from dissuasion.api.tokens import create_api_token
    from dissuasion.auth.models import User
    from dissuasion.core.enums import Role
    from dissuasion.core.timeutil import now
    from dissuasion.extensions import db

    if args.as_served:
        os.environ.update(env_for(url))
        import app as served  # the tree's app.py, as gunicorn's app:app
        app = served.app
    else:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, **load_seed.SECRETS})
    rng = random.Random(5)
    with app.app_context():
        officers = list(db.session.scalars(select(User).where(User.role == Role.OFFICER).order_by(User.id)
                                           .limit(args.officers)))
        tokens = {u.id: create_api_token(u, "bench") for u in officers}
        sessions = {u.id: f"{u.id}:{u.session_version}" for u in officers}
        db.session.commit()
        meter = Meter(db.engine)
    clients = {}
    for uid, sid in sessions.items():
        client = app.test_client()
        with client.session_transaction() as s:
            t = now().timestamp()
            s.update({"_user_id": sid, "_fresh": True, "login_at": t, "seen_at": t, "_permanent": True})
        clients[uid] = client
    marker = f"reqcpu:{int(time.time())}"
    collector = Collector()
    n = 0
    for _round in range(args.rounds):
        for uid, client in clients.items():
            n += 1
            page = meter.run("worklist", lambda c=client: c.get("/cases/"))
            own = [(int(link.group(1)), tier.group(1)) for row in ROW.findall(page.text)
                   if (link := CASE_LINK.search(row)) and (tier := TIER.search(row)) and "badge pool" not in row]
            if not own:
                continue
            case_id, tier = rng.choice(own[:5])
            shown = meter.run("case page", lambda c=client, i=case_id: c.get(f"/cases/{i}"))
            form = meter.run("contact form", lambda c=client, i=case_id: c.get(f"/cases/{i}/contact"))
            kind = rng.choice(["failed", "dissuaded", "close"])
            data = contact_form(kind, tier, VERSION.search(form.text).group(1), CSRF.search(form.text).group(1),
                                f"{marker}:{n}", rng, pushed_at(shown.text))
            posted = meter.run("contact post", lambda c=client, i=case_id, d=data: c.post(f"/cases/{i}/contact",
                                                                                          data=d))
            if posted.status_code != 302:
                print(f"  contact post answered {posted.status_code}", flush=True)
                continue
            meter.run("case page", lambda c=client, p=posted.location: c.get(p))
            # the same through the API, with the officer's token
            headers = {"Authorization": f"Bearer {tokens[uid]}"}
            # as the load test's officers ask for it (bench/load_api.py): 20 rows, own and pool; an own case picked
            listed = meter.run("API worklist", lambda c=client, h=headers: c.get("/api/v1/cases?per_page=20",
                                                                                  headers=h))
            items = [i for i in listed.get_json()["items"] if i["status"] != "closed" and i["assignee"]
                     and i["assignee"]["id"] == uid]
            if not items:
                continue
            item = rng.choice(items[:5])
            one = meter.run("API case", lambda c=client, i=item["id"], h=headers: c.get(f"/api/v1/cases/{i}",
                                                                                           headers=h))
            body = {"method": one.get_json()["method"], "reached": "self", "app": "registered_now",
                    "contacted_at": now().isoformat(timespec="seconds"), "outcome": "dissuaded",
                    "amount_dissuaded": "1000.00", "note": f"{marker}:api:{n}", "version": one.get_json()["version"]}
            answer = meter.run("API contact", lambda c=client, i=item["id"], b=body, h=headers: c.post(
                f"/api/v1/cases/{i}/contacts", json=b, headers=h))
            if answer.status_code != 201:
                print(f"  API contact answered {answer.status_code}: {answer.get_data(as_text=True)[:200]}",
                      flush=True)
    print(f"code: {args.tree.resolve()} ({_commit(args.tree)}); {args.officers} officers x {args.rounds} rounds")
    print(f"  {'kind':<16} {'n':>5} {'CPU ms p50':>11} {'mean':>8} {'SQL/req':>8}"
          + (f" {'calls/req p50':>14}" if args.calls else ""))
    for kind in ("worklist", "case page", "contact form", "contact post", "API worklist", "API case",
                 "API contact"):
        cpu, sql = meter.cpu[kind], meter.sql[kind]
        if cpu:
            print(f"  {kind:<16} {len(cpu):>5} {statistics.median(cpu) * 1000:>11.2f} "
                  f"{statistics.mean(cpu) * 1000:>8.2f} {statistics.mean(sql):>8.1f}"
                  + (f" {statistics.median(meter.calls[kind]):>14,.0f}" if args.calls else ""))
    print(f"  the collector during the requests ({'app.py' if args.as_served else 'create_app'}): "
          f"{collector.report(sum(len(v) for v in meter.cpu.values()))}")
    if meter.profiler is not None:
        meter.profiler.dump_stats("/tmp/c_profile.out")
        pstats.Stats(meter.profiler).sort_stats("tottime").print_stats(30)
        pstats.Stats(meter.profiler).sort_stats("cumtime").print_stats(40)


def _commit(tree: Path) -> str:
    return subprocess.run(["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()


if __name__ == "__main__":
    main()
