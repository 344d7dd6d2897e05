"""The weekly report over 1,000,000 cases and 3,000,000 contacts, beside hand-written SQL of the same aggregates.

Target (issue 6): compute_report(week) for the county under 2 s on SQLite, and no slower than 3× the floor.

    .venv/bin/python bench/report.py            # fills /tmp/reports-bench.db once (~2-3 min), then measures
    .venv/bin/python bench/report.py --rebuild  # fill again

The fill: 8 precincts; 1,000,000 cases spread evenly over three years (about 6,400 a week), each with its person,
one warning and three contacts; 95 % closed two days after creation (outcomes and amounts drawn), the rest open;
one follow-up per ten cases; one publicity activity per precinct per day (issue 24's 宣传防范 section). Rows go in
through executemany (no ORM), the schema's indexes included. `--cases N` fills a smaller database (quick before/after
comparisons in one sitting).
The floor is the same aggregates written by hand as SQL strings, run on the same connection; compute_report is
timed end to end (both weeks, every metric, the enum and money conversions), median of several runs.
"""
import argparse
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results import emit  # noqa: E402
from dissuasion import create_app  # noqa: E402
from dissuasion.cases.rules import DEFAULT_RULES, ensure_default_rules  # noqa: E402
from dissuasion.core import timeutil  # noqa: E402
from dissuasion.core.enums import FraudType, Method, Outcome, Reached, Tier  # noqa: E402
from dissuasion.directory.models import Precinct  # noqa: E402
from dissuasion.extensions import db  # noqa: E402
from dissuasion.reports.queries import compute_report  # noqa: E402
from dissuasion.reports.weeks import previous_week, week_of, week_period  # noqa: E402

PATH = Path("/tmp/reports-bench.db")
CASES, CONTACTS_PER_CASE, PRECINCTS, CHUNK = 1_000_000, 3, 8, 50_000
NOW = dt.datetime(2026, 11, 23, 0, 30, tzinfo=dt.UTC)  # Monday 08:30 in Asia/Shanghai
SPAN = dt.timedelta(days=3 * 365)
TIERS = [Tier.EXTRA_HIGH, Tier.HIGH, Tier.MEDIUM, Tier.LOW]
OUTCOMES = [Outcome.DISSUADED, Outcome.SELF_PROTECTED, Outcome.DEFRAUDED, Outcome.FALSE_ALARM, Outcome.UNREACHABLE]


def set_size(cases: int) -> None:
    """A smaller fill: the same spread over three years, fewer cases."""
    global CASES, CHUNK
    CASES, CHUNK = cases, min(CHUNK, cases)


def make_app():
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{PATH}", "SECRET_KEY": "bench",
                       "PII_INDEX_KEY": "bench-index", "WTF_CSRF_ENABLED": False,
                       "PII_KEYS": {"b1": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}, "PII_KEY_ID": "b1"})


def ts(value: dt.datetime | None) -> str | None:
    """A UTC time as the SQLite column stores it."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if value else None


def rows_for(i: int, rng: random.Random) -> tuple[tuple, tuple, tuple, list[tuple], tuple | None]:
    """One case with its person, warning, contacts and (one in ten) follow-up."""
    created = NOW - SPAN + SPAN * (i / CASES) + dt.timedelta(minutes=rng.uniform(-30, 30))
    tier = rng.choices(TIERS, [5, 25, 40, 30])[0]
    rule = DEFAULT_RULES[tier]
    is_open = created > NOW - dt.timedelta(days=2) or rng.random() < 0.01
    first = created + dt.timedelta(minutes=rng.uniform(5, rule["contact_minutes"] * 1.3))
    outcome = None if is_open else rng.choices(OUTCOMES, [40, 35, 8, 10, 7])[0]
    closed = None if is_open else created + dt.timedelta(days=2)
    status = "in_progress" if is_open else ("unreachable" if outcome == Outcome.UNREACHABLE else "closed")
    dissuaded = round(rng.uniform(100, 50_000), 2) if outcome == Outcome.DISSUADED else None
    defrauded = round(rng.uniform(100, 80_000), 2) if outcome == Outcome.DEFRAUDED else None
    sign_deadline = created + dt.timedelta(minutes=rule["sign_minutes"])
    contact_deadline = created + dt.timedelta(minutes=rule["contact_minutes"])
    signed = created + dt.timedelta(minutes=rng.uniform(1, rule["sign_minutes"] * 1.2))  # drawn before the contacts
    person = (i, f"bench{i}", ts(created), ts(created))
    fraud = rng.choice(list(FraudType)).value
    warning = (i, f"B{i:09d}", i, i, ts(created), tier.value, fraud, ts(created))
    contacts = []
    for k in range(CONTACTS_PER_CASE):
        reached = Reached.SELF if k == CONTACTS_PER_CASE - 1 else rng.choice(list(Reached))
        app = "registered_now" if reached == Reached.SELF and rng.random() < 0.3 else None
        method = Method.VISIT if tier in (Tier.EXTRA_HIGH, Tier.HIGH) and k == 2 else rng.choice(list(Method))
        contacts.append((i * CONTACTS_PER_CASE + k, i, method.value, reached.value,
                         ts(first + dt.timedelta(hours=k * 6)), app, ts(first)))
    reached_at = next((first + dt.timedelta(hours=k * 6) for k, c in enumerate(contacts) if c[3] != "none"), None)
    case = (i, i, 1 + i % PRECINCTS, status, tier.value, rule["method"].value, ts(sign_deadline),
            ts(contact_deadline), ts(contact_deadline) if is_open else None,
            ts(signed), ts(first), ts(reached_at),
            outcome and outcome.value, dissuaded, defrauded, ts(closed), ts(created), ts(created))
    followup = None
    if i % 10 == 0:
        due = created + dt.timedelta(days=3)
        done = due < NOW and rng.random() < 0.8
        followup = (i // 10 + 1, i, "revisit", "phone", ts(due), "done" if done else ("missed" if due < NOW else
                    "pending"), ts(due + dt.timedelta(hours=2)) if done else None, ts(created))
    return case, person, warning, contacts, followup


INSERTS = {
    "cases": "INSERT INTO cases (id, person_id, precinct_id, status, tier, method, sign_deadline, contact_deadline, "
             "due_at, signed_at, first_attempt_at, first_reached_at, outcome, amount_dissuaded, amount_defrauded, "
             "closed_at, created_at, updated_at, away_from_home, is_repeat, flags, failed_attempts, version, "
             "return_request_reason) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,0,'[]',0,1,'')",
    "persons": "INSERT INTO persons (id, match_key, created_at, updated_at, name, sex, id_valid, phone_valid, "
               "registered_address, current_address, away_from_home) VALUES (?,?,?,?,'某人','',0,0,'','',0)",
    "warnings": "INSERT INTO warnings (id, warning_no, person_id, case_id, pushed_at, tier, fraud_type, created_at, "
                "source, reason, fraud_type_text, precinct_text, community_text, away_from_home, notes, flags, "
                "reported_by, return_reason) VALUES (?,?,?,?,?,?,?,?,'push','','','','',0,'','[]','','')",
    "contacts": "INSERT INTO contacts (id, case_id, method, reached, contacted_at, app_status, created_at, "
                "relative_relation, note) VALUES (?,?,?,?,?,?,?,'','')",
    "followups": "INSERT INTO followups (id, case_id, kind, method, due_at, status, done_at, created_at, note) "
                 "VALUES (?,?,?,?,?,?,?,?,'')",
}
ACTIVITY_INSERT = ("INSERT INTO activities (precinct_id, kind, held_on, place, participants, people, households, "
                   "materials, banners, posts, app_registrations, officers, note, created_at, updated_at) "
                   "VALUES (?,?,?,'','',?,?,?,0,0,?,?,'',?,?)")


def activity_rows(rng: random.Random) -> list[tuple]:
    """One activity per precinct per day over the span (about 8,800 rows)."""
    first = (NOW - SPAN).date()
    return [(p, "lecture", (first + dt.timedelta(days=d)).isoformat(), rng.randint(20, 200), rng.randint(0, 50),
             rng.randint(0, 500), rng.randint(0, 20), rng.randint(1, 5), ts(NOW), ts(NOW))
            for d in range(SPAN.days) for p in range(1, PRECINCTS + 1)]


def fill() -> None:
    """The schema (with its indexes), the precincts, then the rows in chunks through executemany."""
    PATH.unlink(missing_ok=True)
    started = time.perf_counter()
    with make_app().app_context():
        db.create_all()
        db.session.add_all(Precinct(code=f"PCS{p:02d}", name=f"第{p}派出所") for p in range(1, PRECINCTS + 1))
        ensure_default_rules()
        db.session.commit()
        raw = db.engine.raw_connection()
        raw.execute("PRAGMA synchronous=OFF")
        rng = random.Random(47)
        for start in range(1, CASES + 1, CHUNK):
            batch = {name: [] for name in INSERTS}
            for i in range(start, min(start + CHUNK, CASES + 1)):
                case, person, warning, contacts, followup = rows_for(i, rng)
                batch["persons"].append(person)
                batch["cases"].append(case)
                batch["warnings"].append(warning)
                batch["contacts"].extend(contacts)
                if followup:
                    batch["followups"].append(followup)
            raw.execute("BEGIN")
            for name in ("persons", "cases", "warnings", "contacts", "followups"):
                raw.executemany(INSERTS[name], batch[name])
            raw.execute("COMMIT")
            print(f"  {min(start + CHUNK - 1, CASES):>9,} cases  {time.perf_counter() - started:6.1f} s", flush=True)
        raw.execute("BEGIN")
        raw.executemany(ACTIVITY_INSERT, activity_rows(rng))
        raw.execute("COMMIT")
        raw.execute("ANALYZE")
        raw.close()
    print(f"fill: {time.perf_counter() - started:.0f} s")


#: The floor: the same aggregates as reports/metrics.py for the county, by hand, with :s and :e the week's edges.
FLOOR = [
    "SELECT count(w.id), count(DISTINCT w.person_id) FROM warnings w JOIN cases c ON c.id = w.case_id "
    "WHERE w.pushed_at >= :s AND w.pushed_at < :e",
    "SELECT count(e.id) FROM case_events e JOIN cases c ON c.id = e.case_id "
    "WHERE e.kind = 'reopened' AND e.at >= :s AND e.at < :e",
    "SELECT tier, count(id), sum(signed_at <= sign_deadline), sum(signed_at IS NOT NULL OR sign_deadline <= :e), "
    "sum(first_attempt_at <= contact_deadline), sum(first_attempt_at IS NOT NULL OR contact_deadline <= :e), "
    "sum(first_reached_at <= contact_deadline), sum(first_reached_at IS NOT NULL OR contact_deadline <= :e) "
    "FROM cases WHERE created_at >= :s AND created_at < :e GROUP BY tier",
    "SELECT tier, avg(m) FROM (SELECT tier, m, row_number() OVER (PARTITION BY tier ORDER BY m) AS rn, "
    "count(*) OVER (PARTITION BY tier) AS n FROM (SELECT tier, (julianday(first_reached_at) - julianday(created_at)) "
    "* 1440.0 AS m FROM cases WHERE created_at >= :s AND created_at < :e AND first_reached_at IS NOT NULL)) "
    "WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY tier",
    "SELECT o.method, count(o.id) FROM contacts o JOIN cases c ON c.id = o.case_id "
    "WHERE o.contacted_at >= :s AND o.contacted_at < :e GROUP BY o.method",
    "SELECT count(c.id), sum(EXISTS (SELECT 1 FROM contacts o WHERE o.case_id = c.id AND o.method = 'visit' "
    "AND o.reached = 'self')) FROM cases c WHERE c.created_at >= :s AND c.created_at < :e "
    "AND c.tier IN ('extra_high', 'high')",
    "SELECT coalesce(outcome, CASE WHEN status = 'unreachable' THEN 'unreachable' END) AS o, count(id), "
    "sum(round(amount_dissuaded * 100)), sum(round(amount_defrauded * 100)) FROM cases "
    "WHERE closed_at >= :s AND closed_at < :e GROUP BY o",
    "SELECT count(DISTINCT o.case_id) FROM contacts o JOIN cases c ON c.id = o.case_id "
    "WHERE o.contacted_at >= :s AND o.contacted_at < :e AND o.app_status = 'registered_now'",
    "SELECT count(id) FROM cases WHERE status IN ('new', 'signed', 'in_progress') AND due_at < :now",
    "SELECT f.status, count(f.id) FROM followups f JOIN cases c ON c.id = f.case_id "
    "WHERE (f.status = 'done' AND f.done_at >= :s AND f.done_at < :e) "
    "OR (f.status = 'missed' AND f.due_at >= :s AND f.due_at < :e) GROUP BY f.status",
    "SELECT w.fraud_type, count(w.id) FROM warnings w JOIN cases c ON c.id = w.case_id "
    "WHERE w.pushed_at >= :s AND w.pushed_at < :e GROUP BY w.fraud_type",
    "SELECT coalesce(c.confirmed_fraud_type, (SELECT w.fraud_type FROM warnings w WHERE w.case_id = c.id "
    "ORDER BY w.pushed_at, w.id LIMIT 1)) AS t, c.outcome, count(c.id), sum(round(c.amount_dissuaded * 100)) "
    "FROM cases c WHERE c.closed_at >= :s AND c.closed_at < :e AND c.outcome IN ('dissuaded', 'defrauded') "
    "GROUP BY t, c.outcome",
    "SELECT precinct_id, kind, count(id), sum(people), sum(households), sum(materials), sum(banners), sum(posts), "
    "sum(app_registrations), sum(officers) FROM activities WHERE held_on >= :d1 AND held_on <= :d2 "
    "GROUP BY precinct_id, kind",
]


def run_floor(week: str) -> None:
    for w in (week, previous_week(week)):
        period = week_period(w)
        params = {"s": ts(period.start), "e": ts(period.end), "now": ts(NOW),
                  "d1": timeutil.local(period.start).date().isoformat(),
                  "d2": (timeutil.local(period.end).date() - dt.timedelta(days=1)).isoformat()}
        for sql in FLOOR:
            if ":now" in sql and w != week:
                continue  # overdue_now is counted once, for the week itself
            db.session.execute(text(sql), params).all()


def timed(fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        db.session.rollback()
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    global PATH
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="fill the database again")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--db", type=Path, default=PATH, help=f"the filled database (default {PATH})")
    parser.add_argument("--cases", type=int, default=CASES, help=f"cases to fill (default {CASES:,})")
    args = parser.parse_args()
    PATH = args.db
    set_size(args.cases)
    if args.rebuild or not PATH.exists():
        fill()
    timeutil.freeze(NOW)
    week = previous_week(week_of(NOW))
    with make_app().app_context():
        counts = {t: db.session.scalar(text(f"SELECT count(*) FROM {t}")) for t in ("cases", "contacts", "warnings")}
        print(f"database {PATH}: " + ", ".join(f"{n:,} {t}" for t, n in counts.items()))
        timed(lambda: compute_report(week), 1)  # warm the page cache
        report_times = timed(lambda: compute_report(week), args.runs)
        floor_times = timed(lambda: run_floor(week), args.runs)
        precinct = db.session.scalar(db.select(Precinct).filter_by(code="PCS01"))
        precinct_times = timed(lambda: compute_report(week, precinct), args.runs)
        m = compute_report(week)["metrics"]
    report, floor = statistics.median(report_times), statistics.median(floor_times)
    print(f"week {week}: {m['warnings_received']:,} warnings, {sum(m['contacts_by_method'].values()):,} contacts, "
          f"{sum(m['outcomes'].values()):,} closed")
    print(f"compute_report(week) county   median {report * 1000:8.1f} ms  (runs: "
          + ", ".join(f"{t * 1000:.0f}" for t in report_times) + ")")
    print(f"hand-written SQL (the floor)  median {floor * 1000:8.1f} ms")
    print(f"ratio                                {report / floor:8.2f}x   (target: < 2 s and <= 3x)")
    print(f"compute_report(week, PCS01)   median {statistics.median(precinct_times) * 1000:8.1f} ms")
    emit("weekly report, county (1M cases, 3M contacts)", round(report, 3), "s", 2.0, round(floor, 3),
         met=report < 2 and report <= 3 * floor, note="target: under 2 s and no more than 3x the hand-written SQL")


if __name__ == "__main__":
    main()
