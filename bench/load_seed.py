"""The load test's database: a fresh PostgreSQL database, the schema by `flask db upgrade`, the county's directory,
the accounts and tens of thousands of cases (bench/load.py).

Accounts: per precinct of ../shared/samples/directory.csv, its community officers (officer01 …, so pushes imported
during the run land on worklists of simulated officers) and more officers up to the wanted number, one lead, and
two center accounts with a known TOTP secret. One password for all (hashed once; argon2 is slow on purpose).
Cases: each officer holds `open_per_officer` open cases (signed for, in progress or new; a fifth overdue), each
precinct's pool a few more, and `closed` cases of the past year; each with its person (numbers encrypted through
the column types), its warning and its timeline's first event. Rows go in through dissuasion.core.bulk.bulk_insert.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import random
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import text

from dissuasion import create_app
from dissuasion.api.tokens import create_api_token
from dissuasion.auth.models import User
from dissuasion.auth.passwords import hash_password
from dissuasion.cases.models import Case, CaseEvent, EarlyWarning, Person
from dissuasion.cases.rules import DEFAULT_RULES, ensure_default_rules
from dissuasion.cli.demodata import fake_person
from dissuasion.core.bulk import bulk_insert
from dissuasion.core.enums import CaseStatus, EventKind, FraudType, Outcome, Role, Tier, WarningSource
from dissuasion.directory.models import Community, Precinct
from dissuasion.directory.operations import load_directory
from dissuasion.extensions import db
from dissuasion.privacy.pii import blind_index

PASSWORD = "load-test-password-1"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
TIERS = [(Tier.EXTRA_HIGH, 5), (Tier.HIGH, 25), (Tier.MEDIUM, 40), (Tier.LOW, 30)]
SECRETS = {"SECRET_KEY": "load-secret", "PII_INDEX_KEY": "load-index", "PII_KEY_ID": "l1",
           "PII_KEYS": {"l1": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}}


@dataclass
class Seeded:
    officers: list[str] = field(default_factory=list)
    center: list[str] = field(default_factory=list)
    #: officer's username -> an API token of theirs (the API load, bench/load_api.py)
    tokens: dict[str, str] = field(default_factory=dict)
    cases: int = 0
    open_cases: int = 0


def create_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def upgrade(flask: Path, env: dict, root: Path) -> None:
    """The schema as production gets it: the migrations, not create_all."""
    subprocess.run([str(flask), "--app", "app", "db", "upgrade"], cwd=root, env=env, check=True, capture_output=True)


def app_for(url: str):
    return create_app({"SQLALCHEMY_DATABASE_URI": url, **SECRETS})


def seed(url: str, directory_csv: bytes, users: int, open_per_officer: int, closed: int, seed_: int = 9) -> Seeded:
    """Fill the database; returns the accounts and counts."""
    rng = random.Random(seed_)
    out = Seeded()
    with app_for(url).app_context():
        ensure_default_rules()
        precincts = _accounts(directory_csv, users, out)
        load_directory(directory_csv)
        db.session.commit()
        _cases(rng, precincts, open_per_officer, closed, out)
        for user in db.session.scalars(db.select(User).where(User.username.in_(out.officers))):
            out.tokens[user.username] = create_api_token(user, "load test")
        for table in ("persons", "cases", "warnings", "case_events"):
            db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                    f"(SELECT max(id) FROM {table}))"))
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
        db.engine.dispose()
    return out


def _accounts(directory_csv: bytes, users: int, out: Seeded) -> dict[int, dict]:
    """Precincts (from the directory file), officers spread evenly, a lead each, two center accounts."""
    rows = list(csv.DictReader(io.StringIO(directory_csv.decode("utf-8-sig"))))
    codes = list(dict.fromkeys(r["precinct_code"] for r in rows))
    hashed = hash_password(PASSWORD)
    precincts = {}
    for n, code in enumerate(codes):
        name = next(r["precinct_name"] for r in rows if r["precinct_code"] == code)
        precinct = Precinct(code=code, name=name)
        db.session.add(precinct)
        db.session.flush()
        names = [r["community_officer"] for r in rows if r["precinct_code"] == code and r["community_officer"]]
        share = users // len(codes) + (1 if n < users % len(codes) else 0)
        names = (names + [f"load{code[-2:]}{i:03d}" for i in range(share)])[:share]
        officers = [User(username=u, role=Role.OFFICER, precinct_id=precinct.id, password_hash=hashed) for u in names]
        db.session.add_all(officers + [User(username=f"lead{code[-2:]}", role=Role.LEAD, precinct_id=precinct.id,
                                            password_hash=hashed)])
        db.session.flush()
        precincts[precinct.id] = {"officers": [o.id for o in officers]}
        out.officers += names
    for i in (1, 2):
        db.session.add(User(username=f"center{i:02d}", role=Role.CENTER, password_hash=hashed,
                            totp_secret=TOTP_SECRET))
        out.center.append(f"center{i:02d}")
    db.session.flush()
    return precincts


def _cases(rng: random.Random, precincts: dict[int, dict], open_per_officer: int, closed: int, out: Seeded) -> None:
    at = dt.datetime.now(dt.UTC).replace(microsecond=0)
    holders = [(p, o) for p, info in precincts.items() for o in info["officers"] for _ in range(open_per_officer)]
    holders += [(p, None) for p in precincts for _ in range(open_per_officer * 2)]  # each precinct's pool
    communities = {p: list(db.session.scalars(db.select(Community.id).filter_by(precinct_id=p))) for p in precincts}
    plan = [(p, o, True) for p, o in holders] + [(rng.choice(list(precincts)), None, False) for _ in range(closed)]
    rng.shuffle(plan)
    rows = {"persons": [], "cases": [], "warnings": [], "events": []}
    for i, (precinct_id, officer_id, is_open) in enumerate(plan, start=1):
        _one_case(rows, i, rng, at, precinct_id, rng.choice(communities[precinct_id]), officer_id, is_open)
    for table, key in ((Person.__table__, "persons"), (Case.__table__, "cases"),
                       (EarlyWarning.__table__, "warnings"), (CaseEvent.__table__, "events")):
        bulk_insert(table, rows[key])
    out.cases, out.open_cases = len(plan), len(holders)


def _one_case(rows: dict, i: int, rng: random.Random, at: dt.datetime, precinct_id: int, community_id: int,
              officer_id: int | None, is_open: bool) -> None:
    tier = rng.choices([t for t, _ in TIERS], [w for _, w in TIERS])[0]
    rule = DEFAULT_RULES[tier]
    if is_open:
        status = CaseStatus.NEW if officer_id is None else rng.choice([CaseStatus.NEW, CaseStatus.SIGNED,
                                                                       CaseStatus.SIGNED])
        limit = rule["sign_minutes"] if status == CaseStatus.NEW else rule["contact_minutes"]
        overdue = rng.random() < 0.2
        due = at + dt.timedelta(minutes=rng.uniform(-3 * limit, -1) if overdue else rng.uniform(1, limit))
        created = due - dt.timedelta(minutes=limit)
    else:
        status, due = CaseStatus.CLOSED, None
        created = at - dt.timedelta(minutes=rng.uniform(3 * 1440, 365 * 1440))
    p = fake_person(rng)
    rows["persons"].append(dict(
        id=i, match_key=f"load{i}", name=p["name"], sex=p["sex"], id_number=p["id_number"],
        id_index=blind_index("id", p["id_number"]), id_valid=True, phone=p["phone"],
        phone_index=blind_index("phone", p["phone"]), phone_valid=True, registered_address=f"清河县某镇{i % 997}号",
        current_address="", away_from_home=False, created_at=created, updated_at=created))
    signed = None if status == CaseStatus.NEW else created + dt.timedelta(minutes=5)
    rows["cases"].append(dict(
        id=i, person_id=i, precinct_id=precinct_id, community_id=community_id, assignee_id=officer_id,
        status=status, tier=tier, method=rule["method"], away_from_home=False, is_repeat=False, flags=[],
        failed_attempts=0, version=1, sign_deadline=created + dt.timedelta(minutes=rule["sign_minutes"]),
        contact_deadline=created + dt.timedelta(minutes=rule["contact_minutes"]), due_at=due, signed_at=signed,
        signed_by_id=officer_id if signed else None, first_attempt_at=None if is_open else signed,
        first_reached_at=None if is_open else signed,
        outcome=None if is_open else Outcome.SELF_PROTECTED,
        closed_at=None if is_open else created + dt.timedelta(days=2),
        created_at=created, updated_at=created))
    rows["warnings"].append(dict(
        id=i, warning_no=f"LOAD{i:09d}", source=WarningSource.PUSH, person_id=i, case_id=i, pushed_at=created,
        tier=tier, reason="安装涉诈APP", fraud_type=rng.choice(list(FraudType)), fraud_type_text="",
        precinct_text="", community_text="", away_from_home=False, notes="", flags=[], created_at=created))
    rows["events"].append(dict(id=i, case_id=i, at=created, actor_id=None, kind=EventKind.CREATED, from_status=None,
                               to_status=CaseStatus.NEW, message="", data={}))
