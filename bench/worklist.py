"""Worklist and case page on 1,000,000 cases: median and p95 server time, with the query plans.

Target (issue 4): median under 50 ms on SQLite for the worklist (first page, 50 rows).

    .venv/bin/python bench/worklist.py            # fills /tmp/dispatch-bench.db once (~2 min), then measures
    .venv/bin/python bench/worklist.py --rebuild  # fill again

The fill uses bulk inserts (sqlite3 executemany, indexes built afterwards), not register_warning.
The shape, chosen to look like a county after a few years: 8 precincts, 400 officers, 20 communities
per precinct; one person, one warning and one or two timeline events per case; 5 % of cases open
(created in the last three days, a fifth of them overdue, 15 % in the precinct's pool), the rest
closed, unreachable or transferred over three years.
Requests go through the Flask test client with a logged-in session, so the times include routing, the
queries, template rendering and the session; the clock is frozen at the fill's "now".
"""
import argparse
import datetime as dt
import enum
import json
import random
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import case as sql_case
from sqlalchemy import event, text
from sqlalchemy.orm import joinedload

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results import emit  # noqa: E402
from dissuasion import create_app  # noqa: E402
from dissuasion.auth.models import User  # noqa: E402
from dissuasion.cases import queries  # noqa: E402
from dissuasion.cases.models import Case  # noqa: E402
from dissuasion.cases.rules import DEFAULT_RULES, ensure_default_rules  # noqa: E402
from dissuasion.cases.scoping import scope_cases  # noqa: E402
from dissuasion.cli.demodata import fake_person  # noqa: E402
from dissuasion.core import timeutil  # noqa: E402
from dissuasion.core.enums import CaseStatus, EventKind, Method, Role, Tier  # noqa: E402
from dissuasion.core.timeutil import now  # noqa: E402
from dissuasion.directory.models import Community, Precinct  # noqa: E402
from dissuasion.extensions import db  # noqa: E402
from dissuasion.privacy.pii import blind_index, encrypt  # noqa: E402

CURRENT_WORKLIST = queries.worklist

PRECINCTS, OFFICERS_PER_PRECINCT, COMMUNITIES_PER_PRECINCT = 8, 50, 20
CHUNK = 20_000
OPEN_SHARE, POOL_SHARE, OVERDUE_SHARE = 0.05, 0.15, 0.20
TIERS = [(Tier.EXTRA_HIGH, 0.05), (Tier.HIGH, 0.25), (Tier.MEDIUM, 0.40), (Tier.LOW, 0.30)]


def make_app(path: Path):
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench",
                       "PII_INDEX_KEY": "bench-index", "WTF_CSRF_ENABLED": False,
                       "PII_KEYS": {"b1": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}, "PII_KEY_ID": "b1"})


def fill_directory() -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Precincts, communities, officers (one per community officer post), leads and one center account."""
    officers, communities = {}, {}
    for p in range(1, PRECINCTS + 1):
        precinct = Precinct(code=f"PCS{p:02d}", name=f"第{p}派出所")
        db.session.add(precinct)
        db.session.flush()
        users = [User(username=f"o{p:02d}{i:02d}", role=Role.OFFICER, precinct_id=precinct.id)
                 for i in range(OFFICERS_PER_PRECINCT)]
        db.session.add_all(users + [User(username=f"lead{p:02d}", role=Role.LEAD, precinct_id=precinct.id)])
        db.session.flush()
        officers[precinct.id] = [u.id for u in users]
        comms = [Community(precinct_id=precinct.id, name=f"社区{c:02d}", officer_id=users[c].id)
                 for c in range(COMMUNITIES_PER_PRECINCT)]
        db.session.add_all(comms)
        db.session.flush()
        communities[precinct.id] = [c.id for c in comms]
    db.session.add(User(username="center", role=Role.CENTER))
    ensure_default_rules()
    db.session.commit()
    return officers, communities


def case_row(i: int, rng: random.Random, now: dt.datetime, officers, communities) -> dict:
    tier = rng.choices([t for t, _ in TIERS], [w for _, w in TIERS])[0]
    rule = DEFAULT_RULES[tier]
    precinct_id = rng.randrange(1, PRECINCTS + 1)
    is_open = rng.random() < OPEN_SHARE
    if is_open:
        status = rng.choice([CaseStatus.NEW, CaseStatus.SIGNED, CaseStatus.IN_PROGRESS])
        overdue = rng.random() < OVERDUE_SHARE
        limit = rule["sign_minutes"] if status == CaseStatus.NEW else rule["contact_minutes"]
        due = now + dt.timedelta(minutes=rng.uniform(-3 * limit, -1) if overdue else rng.uniform(1, limit))
        created = due - dt.timedelta(minutes=limit)
    else:
        status = rng.choices([CaseStatus.CLOSED, CaseStatus.UNREACHABLE, CaseStatus.TRANSFERRED], [90, 8, 2])[0]
        created = now - dt.timedelta(minutes=rng.uniform(3 * 1440, 3 * 365 * 1440))
        due = None
    pool = is_open and rng.random() < POOL_SHARE
    community_id = rng.choice(communities[precinct_id])
    return dict(id=i, person_id=i, precinct_id=precinct_id, community_id=community_id,
                assignee_id=None if pool else rng.choice(officers[precinct_id]), status=status, tier=tier,
                method=rule["method"] if rng.random() > 0.1 else Method.PHONE, away_from_home=False,
                is_repeat=False, flags=[], failed_attempts=0, version=1,
                sign_deadline=created + dt.timedelta(minutes=rule["sign_minutes"]),
                contact_deadline=created + dt.timedelta(minutes=rule["contact_minutes"]),
                due_at=due, created_at=created, updated_at=created,
                signed_at=None if status == CaseStatus.NEW else created + dt.timedelta(minutes=5),
                closed_at=None if is_open else created + dt.timedelta(days=2))


def _sql(value):
    """A Python value as the SQLite column stores it (what the column types would write)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    if isinstance(value, enum.Enum):
        return value.value
    return int(value) if isinstance(value, bool) else value


def _insert(conn, table: str, rows: list[dict]) -> None:
    """executemany straight into sqlite3: the column types' per-value work would triple the fill time. Columns the
    rows leave out get their model's plain default (a column added later, e.g. cases.return_request_reason)."""
    from dissuasion.extensions import db
    defaults = {c.name: c.default.arg for c in db.metadata.tables[table].columns
                if c.default is not None and not callable(c.default.arg) and c.name not in rows[0]}
    columns = list(rows[0]) + list(defaults)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
    conn.executemany(sql, ({k: _sql(row.get(k, defaults.get(k))) for k in columns} for row in rows))


def _rows(i: int, rng: random.Random, now: dt.datetime, officers, communities) -> tuple[dict, dict, dict, list]:
    """One case with its person, warning and timeline events."""
    c = case_row(i, rng, now, officers, communities)
    p = fake_person(rng)
    person = dict(id=i, match_key=f"bench{i}", name=p["name"], sex=p["sex"], id_number=encrypt(p["id_number"]),
                  id_index=blind_index("id", p["id_number"]), id_valid=True, phone=encrypt(p["phone"]),
                  phone_index=blind_index("phone", p["phone"]), phone_valid=True,
                  registered_address=f"清河县某镇{i % 997}号", current_address="", away_from_home=False,
                  created_at=c["created_at"], updated_at=c["created_at"])
    warning = dict(id=i, warning_no=f"B{i:09d}", source="push", push_id=None, person_id=i, case_id=i,
                   pushed_at=c["created_at"], tier=c["tier"], reason="安装涉诈APP", fraud_type="other",
                   fraud_type_text="", precinct_text="", community_text="", away_from_home=False, notes="",
                   flags=[], created_at=c["created_at"])
    event_row = dict(case_id=i, at=c["created_at"], actor_id=None, kind=EventKind.CREATED, from_status=None,
                     to_status=CaseStatus.NEW, message="", data={})
    events = [event_row]
    if c["signed_at"] is not None:
        events.append(event_row | dict(at=c["signed_at"], kind=EventKind.SIGNED, actor_id=c["assignee_id"],
                                       to_status=CaseStatus.SIGNED))
    return person, c, warning, events


def fill_cases(n: int, now: dt.datetime, officers, communities, seed: int = 4) -> None:
    """n cases with their persons, warnings and timeline events; indexes are built once, after the rows."""
    rng = random.Random(seed)
    conn = db.session.connection().connection.driver_connection
    indexes = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                           "AND tbl_name IN ('persons', 'cases', 'warnings', 'case_events')").fetchall()
    for name, _sql_text in indexes:
        conn.execute(f"DROP INDEX {name}")
    for start in range(1, n + 1, CHUNK):
        batch = [_rows(i, rng, now, officers, communities) for i in range(start, min(start + CHUNK, n + 1))]
        _insert(conn, "persons", [b[0] for b in batch])
        _insert(conn, "cases", [b[1] for b in batch])
        _insert(conn, "warnings", [b[2] for b in batch])
        _insert(conn, "case_events", [e for b in batch for e in b[3]])
        print(f"\r  {min(start + CHUNK - 1, n):,} cases", end="", flush=True)
    print("\n  indexes …")
    for _name, sql_text in indexes:
        conn.execute(sql_text)
    db.session.commit()


def build(path: Path, n: int) -> dt.datetime:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    app = make_app(path)
    started = time.perf_counter()
    with app.app_context():
        db.create_all()
        officers, communities = fill_directory()
        fill_cases(n, now, officers, communities)
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    print(f"filled {n:,} cases in {time.perf_counter() - started:.0f} s -> {path}")
    Path(f"{path}.json").write_text(json.dumps({"now": now.isoformat(), "cases": n}))
    return now


def login(client, user: User) -> None:
    """A session as the login page leaves it, with the clock the session rules check (auth/session.py)."""
    with client.session_transaction() as session:
        session["_user_id"] = f"{user.id}:{user.session_version}"
        session["_fresh"] = True
        session["login_at"] = session["seen_at"] = now().timestamp()


def timed(client, url: str, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return times


def report(label: str, times: list[float]) -> float:
    times = sorted(times)
    median, p95 = statistics.median(times), times[int(len(times) * 0.95) - 1]
    print(f"  {label:<34} n={len(times):<4} median {median:7.1f} ms   p95 {p95:7.1f} ms")
    return median


def explain(app, client, user: User, url: str) -> None:
    """The query plans of every statement one request runs."""
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    login(client, user)
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    with app.app_context():
        for statement, parameters in statements:
            plan = db.session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            print("    " + " ".join(statement.split())[:160] + (" …" if len(statement) > 160 else ""))
            for row in plan:
                print(f"      {row[-1]}")


#: The worklist indexes of the first version (commit f5b3481), for the "before" half of the run.
BEFORE_INDEXES = ("CREATE INDEX ix_cases_worklist_precinct ON cases (precinct_id, status, due_at)",
                  "CREATE INDEX ix_cases_worklist_assignee ON cases (assignee_id, status, due_at)")
WORKLIST_INDEX_NAMES = ("ix_cases_worklist_precinct", "ix_cases_worklist_assignee", "ix_cases_worklist_holder")


def worklist_before(user, page: int = 1, per_page: int = 50, filters=None):
    """The first version's worklist (commit f5b3481): one query joining person and holder, sorted over whole rows."""
    at = now()
    stmt = scope_cases(user).where(Case.status.in_(CaseStatus.open_values()))
    overdue_first = sql_case((Case.due_at < at, 0), else_=1)
    stmt = stmt.order_by(overdue_first, queries.TIER_ORDER, Case.due_at, Case.id)
    stmt = stmt.options(joinedload(Case.person), joinedload(Case.assignee))
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def use_version(app, version: str) -> None:
    """Put the database's worklist indexes and the worklist query in the state of one version."""
    queries.worklist = worklist_before if version == "before" else CURRENT_WORKLIST
    with app.app_context():
        conn = db.session.connection()
        for name in WORKLIST_INDEX_NAMES:
            conn.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")
        if version == "before":
            for sql in BEFORE_INDEXES:
                conn.exec_driver_sql(sql)
        else:
            for index in Case.__table__.indexes:
                if index.name in WORKLIST_INDEX_NAMES:
                    index.create(conn)
        conn.exec_driver_sql("ANALYZE")
        db.session.commit()


def sample(app, users: int):
    rng = random.Random(7)
    with app.app_context():
        officers = rng.sample(list(db.session.scalars(db.select(User).filter_by(role=Role.OFFICER))), users)
        leads = list(db.session.scalars(db.select(User).filter_by(role=Role.LEAD)))
        open_cases = [(db.session.get(User, a), c) for c, a in db.session.execute(text(
            "SELECT id, assignee_id FROM cases WHERE status IN ('new','signed','in_progress') "
            "AND assignee_id IS NOT NULL ORDER BY random() LIMIT :n"), {"n": users}).all()]
        db.session.expunge_all()
    return officers, leads, open_cases


def measure_round(client, groups, repeat: int) -> dict[str, float]:
    results = {}
    for label, pairs in groups:
        times = []
        for user, url in pairs:
            login(client, user)
            client.get(url)  # warm this user's pages once, as a user who has the app open
            times += timed(client, url, repeat)
        results[label] = report(label, times)
    return results


def measure(path: Path, repeat: int, users: int) -> None:
    meta = json.loads(Path(f"{path}.json").read_text())
    timeutil.freeze(dt.datetime.fromisoformat(meta["now"]))
    app = make_app(path)
    officers, leads, open_cases = sample(app, users)
    client = app.test_client()
    print(f"{meta['cases']:,} cases in {path}; clock frozen at {meta['now']}; each URL {repeat}× per user")
    worklists = [("worklist, officer (/cases/)", [(u, "/cases/") for u in officers]),
                 ("worklist, lead (/cases/)", [(u, "/cases/") for u in leads])]
    use_version(app, "before")
    print("before (first version: indexes without tier, one joined query):")
    measure_round(client, worklists, repeat)
    use_version(app, "after")
    print("after (indexes cover the sort, ids first, then the page's 50 rows):")
    results = measure_round(client, worklists + [
        ("case page, assignee (/cases/<id>)", [(u, f"/cases/{c}") for u, c in open_cases]),
        ("lead's board (/cases/board)", [(u, "/cases/board") for u in leads])], repeat)
    for title, user, url in (("worklist of an officer", officers[0], "/cases/"),
                             ("worklist of a lead", leads[0], "/cases/"),
                             ("case page", open_cases[0][0], f"/cases/{open_cases[0][1]}")):
        print(f"\nquery plans, {title}:")
        explain(app, client, user, url)
    met = all(results[label] < 50 for label, _ in worklists)
    print(f"\ntarget: worklist median under 50 ms on SQLite: {'met' if met else 'MISSED'}")
    for label, _pairs in worklists:
        emit(f"{label} median, {meta['cases']:,} cases", round(results[label], 1), "ms", 50.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", type=Path, default=Path("/tmp/dispatch-bench.db"))
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true", help="fill the database again")
    parser.add_argument("--repeat", type=int, default=5, help="requests per user and URL")
    parser.add_argument("--users", type=int, default=20, help="officers (and cases) sampled")
    args = parser.parse_args()
    if args.rebuild or not args.db.exists() or not Path(f"{args.db}.json").exists():
        build(args.db, args.cases)
    measure(args.db, args.repeat, args.users)


if __name__ == "__main__":
    main()
