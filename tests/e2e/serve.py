"""The server the browser tests drive, run as its own process by the e2e fixtures:

    python -m tests.e2e.serve --db /tmp/x/e2e.db --uploads /tmp/x/uploads --port 41234

A fresh SQLite database built by the migrations (as `flask db upgrade` builds it), seeded through the
project's own operations (directory, users, warnings), then served by werkzeug on 127.0.0.1 until killed.
The app runs as in production (CSRF on, real clock); only the secrets and paths come from here. A job worker runs
beside it (as the scheduler process does beside `make run`), except while the file HOLD_JOBS exists in the
database's folder: a test that wants to see a commit's progress page before the commit is done creates it.
"""
import argparse
import datetime as dt
import os
import threading
import time
from decimal import Decimal
from pathlib import Path

from flask_migrate import upgrade
from werkzeug.serving import make_server

from dissuasion import create_app, scheduler
from dissuasion.api.tokens import create_api_token
from dissuasion.auth.models import User
from dissuasion.auth.operations import create_user, set_password
from dissuasion.cases.operations import WarningInput, register_warning
from dissuasion.cases.rules import ensure_default_rules
from dissuasion.cli.demodata import DEMO_DIRECTORY
from dissuasion.contacts.models import Contact
from dissuasion.core import timeutil
from dissuasion.core.enums import AppStatus, CaseStatus, FollowUpKind, FraudType, Method, Outcome, Reached, Role, Tier
from dissuasion.directory.models import Community, Precinct
from dissuasion.directory.operations import load_directory
from dissuasion.extensions import bind_migrations, db
from dissuasion.followups.rules import schedule
from dissuasion.jobs.runner import work_one
from dissuasion.watch.operations import EntryInput, create_entry, find_or_create_person, kind_by_code

PASSWORD = "correct-horse-battery"
#: The center user's authenticator secret: the tests type the code it shows now.
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
#: The case the officer works (the only overdue one in their worklist, so it comes first).
OFFICER_CASE = "李建国"
#: The overdue case the lead reassigns from officer02 to officer05.
LEAD_CASE = "赵秀英"
#: officer03's case with a 回访 an hour overdue (test_precinct_day.py records it from 我的任务).
REVISIT_CASE = "钱淑珍"
#: 低 cases in 城东派出所's pool, for the board's paging and "all matching" (test_precinct_day.py).
POOL_CASES = 30
#: A person warned twice (重复预警, 中: on the lead's first page, before the 30 低 pool cases) held by 孙警官: the
#: lead puts them on the watch list from the case page.
REPEAT_CASE = "周再警"
#: A person back from abroad on 孙警官's watch list whose weekly meeting was due two days ago.
WATCHED = "吴回流"
#: While this file exists beside the database, the server's job worker takes no job.
HOLD_JOBS = "hold-jobs"


def config(db_path: str, uploads: str) -> dict:
    return {
        "SECRET_KEY": "e2e-secret", "PII_INDEX_KEY": "e2e-index-key",
        "PII_KEYS": {"k1": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}, "PII_KEY_ID": "k1",
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + db_path,
        "JOBS_PROGRESS_FILE": str(Path(db_path).parent / "job_progress.db"),
        "PASSWORD_HASH_CHEAP": True,  # a test server: argon2id at its cheapest (auth/passwords.py)
    }


def _warning(no: str, name: str, tier: Tier, community: Community, phone: str, **extra) -> WarningInput:
    return WarningInput(warning_no=no, tier=tier, pushed_at=timeutil.now(), name=name, sex="男", phone=phone,
                        phone_valid=True, reason="安装涉诈APP", fraud_type=FraudType.INVESTMENT,
                        amount_at_risk=Decimal("5000.00"), registered_address=f"清河县城东镇{community.name}8号",
                        precinct=community.precinct, community=community, **extra)


def seed() -> None:
    """PCS01 城东派出所 with a lead and three officers; two cases that are overdue by now, one per journey."""
    ensure_default_rules()
    load_directory(DEMO_DIRECTORY.encode())
    pcs01 = db.session.scalar(db.select(Precinct).filter_by(code="PCS01"))
    create_user("center01", Role.CENTER, PASSWORD).totp_secret = TOTP_SECRET
    create_user("lead01", Role.LEAD, PASSWORD, precinct=pcs01, display_name="王所长")
    officer05 = create_user("officer05", Role.OFFICER, PASSWORD, precinct=pcs01, display_name="孙警官")
    create_api_token(officer05, "E2E 登记脚本")  # revoked on the phone by tests/e2e/test_security_pages.py
    create_user("officer06", Role.OFFICER, PASSWORD, precinct=pcs01, display_name="赵警官")  # leaves: admin journey
    create_user("admin01", Role.ADMIN, PASSWORD).totp_secret = TOTP_SECRET
    communities = {c.name: c for c in pcs01.communities}
    for community in ("东门社区", "朝阳社区"):  # their community officers (officer01, officer02) get a password
        set_password(communities[community].officer, PASSWORD)
    # Warnings that reached the precinct six hours ago: their sign-for limits (30 min, 4 h) have passed.
    timeutil.freeze(timeutil.now() - dt.timedelta(hours=6))
    try:
        register_warning(_warning("E2E0000001", OFFICER_CASE, Tier.HIGH, communities["东门社区"], "13912345678"))
        register_warning(_warning("E2E0000002", LEAD_CASE, Tier.MEDIUM, communities["朝阳社区"], "13912345679"))
    finally:
        timeutil.freeze(None)
    _registered_app_case(communities["枫树村"])
    seed_precinct_day(pcs01, communities)
    sun = db.session.scalar(db.select(User).filter_by(username="officer05"))
    for no in ("E2E0000005", "E2E0000006"):
        repeat = register_warning(_warning(no, REPEAT_CASE, Tier.MEDIUM, communities["枫树村"], "13912345682"))
    repeat.case.assignee = sun
    lead = db.session.scalar(db.select(User).filter_by(username="lead01"))
    create_entry(find_or_create_person(WATCHED, phone="13912345681"), EntryInput(
        kind_id=kind_by_code("returnee").id, precinct_id=pcs01.id, officer_id=sun.id,
        community_id=communities["枫树村"].id, cadre_name="钱书记", cadre_phone="13800002222",
        starts_on=timeutil.local(timeutil.now()).date() - dt.timedelta(days=8)), lead)
    db.session.commit()


def _registered_app_case(community: Community) -> None:
    """A case closed an hour ago whose person registered the 国家反诈中心APP in the contact (本次注册): the
    week's APP registrations from cases are never 0, so the prevention journey sees them added to its own."""
    hour_ago = timeutil.now() - dt.timedelta(hours=1)
    case = register_warning(_warning("E2E0000009", "钱美兰", Tier.MEDIUM, community, "13912345670")).case
    db.session.add(Contact(case=case, method=Method.PHONE, reached=Reached.SELF, contacted_at=hour_ago,
                           outcome=Outcome.SELF_PROTECTED, app_status=AppStatus.REGISTERED_NOW))
    case.status, case.outcome, case.closed_at, case.due_at = CaseStatus.CLOSED, Outcome.SELF_PROTECTED, hour_ago, None
    case.first_attempt_at = case.first_reached_at = case.signed_at = hour_ago


def seed_precinct_day(pcs01: Precinct, communities: dict) -> None:
    """officer03 with a 回访 due an hour ago on a case of theirs; officer04 (who turns TOTP on); 30 fresh 低 cases
    in the pool of 枫树村 (no community officer), sorting after the journeys' overdue cases."""
    officer03 = create_user("officer03", Role.OFFICER, PASSWORD, precinct=pcs01, display_name="钱警官")
    create_user("officer04", Role.OFFICER, PASSWORD, precinct=pcs01, display_name="周警官")
    timeutil.freeze(timeutil.now() - dt.timedelta(hours=6))  # pushed before the 回访's time, as in life
    try:
        case = register_warning(_warning("E2E0000003", REVISIT_CASE, Tier.LOW, communities["枫树村"],
                                         "13912345680")).case
    finally:
        timeutil.freeze(None)
    case.assignee = officer03
    schedule(case, FollowUpKind.REVISIT, Method.PHONE, timeutil.now() - dt.timedelta(hours=1))
    for n in range(POOL_CASES):
        register_warning(_warning(f"E2E10000{n:02d}", f"批量{n:02d}", Tier.LOW, communities["枫树村"],
                                  f"139000001{n:02d}"))


def _exit_with_parent() -> None:
    """Stop when the test session that started this server is gone, even if it was killed outright."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def _work_jobs(app, hold: Path) -> None:
    """The job worker of this server: a commit from the page is run here, as a worker process would."""
    handlers = scheduler.job_handlers()
    while True:
        ran = None
        if not hold.exists():
            with app.app_context():
                try:
                    ran = work_one(handlers)
                except Exception as exc:  # noqa: BLE001  (the log shows it; the next poll tries again)
                    print(f"job worker: {exc!r}", flush=True)
                finally:
                    db.session.remove()
        if ran is None:
            time.sleep(0.3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--uploads", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    threading.Thread(target=_exit_with_parent, daemon=True).start()
    app = create_app(config(args.db, args.uploads))
    bind_migrations(app)
    with app.app_context():
        upgrade()
        seed()
    threading.Thread(target=_work_jobs, args=(app, Path(args.db).parent / HOLD_JOBS), daemon=True).start()
    server = make_server("127.0.0.1", args.port, app, threaded=True)
    print(f"serving on http://127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
