"""The lead's board after a big push: a 5,000-row push routed to one precinct, the board's first page at 375 px.

Targets (issue 20): the first page renders in under 3 screens at 375x812 (2,436 px) and under 300 ms on the server.

    .venv/bin/python bench/board.py              # 5,000 rows into a fresh /tmp/board-bench.db, then measures
    .venv/bin/python bench/board.py --rows 1000  # smaller

The push goes in through the project's own merge (cases/merge.merge_warnings, as an upload's rows do), every row
routed to PCS01 城东派出所 of the demo directory, a tier mix like the center's (5 % 特高危, 25 % 高, 40 % 中,
30 % 低), six communities. Server time: GET /cases/board through the Flask test client with the lead logged in
(routing, queries, rendering, the session), median of --repeat requests. Height: the same page served by
werkzeug on 127.0.0.1, opened in Debian's Chromium at 375x812 (Playwright), document height after layout.
"""
import argparse
import logging
import random
import statistics
import sys
import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.results import emit  # noqa: E402
from dissuasion import create_app  # noqa: E402
from dissuasion.auth.operations import create_user  # noqa: E402
from dissuasion.cases.merge import merge_warnings  # noqa: E402
from dissuasion.cases.operations import WarningInput  # noqa: E402
from dissuasion.cases.rules import ensure_default_rules  # noqa: E402
from dissuasion.cli.demodata import DEMO_DIRECTORY  # noqa: E402
from dissuasion.core import timeutil  # noqa: E402
from dissuasion.core.enums import FraudType, Role, Tier  # noqa: E402
from dissuasion.directory.models import Precinct  # noqa: E402
from dissuasion.directory.operations import load_directory  # noqa: E402
from dissuasion.extensions import db  # noqa: E402

PATH = Path("/tmp/board-bench.db")
PASSWORD = "correct-horse-battery"
SCREEN = 812
TIERS = [Tier.EXTRA_HIGH, Tier.HIGH, Tier.MEDIUM, Tier.LOW]


def make_app():
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{PATH}", "SECRET_KEY": "bench",
                       "PII_INDEX_KEY": "bench-index", "WTF_CSRF_ENABLED": False, "PASSWORD_HASH_CHEAP": True,
                       "PII_KEYS": {"b1": "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}, "PII_KEY_ID": "b1"})


def fill(app, rows: int) -> float:
    """The directory, a lead, and one push of `rows` warnings routed to PCS01; returns the seconds it took."""
    PATH.unlink(missing_ok=True)
    started = time.perf_counter()
    with app.app_context():
        db.create_all()
        ensure_default_rules()
        load_directory(DEMO_DIRECTORY.encode())
        pcs01 = db.session.scalar(db.select(Precinct).filter_by(code="PCS01"))
        create_user("lead01", Role.LEAD, PASSWORD, precinct=pcs01)
        communities = list(pcs01.communities)
        rng = random.Random(20)
        items = [WarningInput(warning_no=f"BRD{i:07d}", tier=rng.choices(TIERS, [5, 25, 40, 30])[0],
                              pushed_at=timeutil.now(), name=f"测试{i}", phone=f"139{i:08d}", phone_valid=True,
                              fraud_type=rng.choice(list(FraudType)), precinct=pcs01,
                              community=communities[i % len(communities)], registered_address=f"城东镇{i}号")
                 for i in range(rows)]
        merge_warnings(items)
        db.session.commit()
    return time.perf_counter() - started


def server_times(app, repeat: int) -> list[float]:
    client = app.test_client()
    with app.app_context():
        client.post("/login", data={"username": "lead01", "password": PASSWORD})
        client.get("/cases/board")  # warm: templates compiled, caches filled
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            response = client.get("/cases/board")
            times.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
    return times


def page_height(app) -> tuple[int, int]:
    """(document height, page width) of the board's first page in Chromium at 375x812."""
    from playwright.sync_api import sync_playwright

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 375, "height": SCREEN})
            page.goto(base + "/login")
            page.get_by_label("用户名").fill("lead01")
            page.get_by_label("密码", exact=True).fill(PASSWORD)
            page.locator("form input[type=submit]").click()
            page.wait_for_url("**/cases/board")
            page.goto(base + "/cases/board")
            assert page.locator("input.pick").count() > 0, "not the board: " + page.url
            height, width = page.evaluate("[document.documentElement.scrollHeight, "
                                          "document.documentElement.scrollWidth]")
            page.screenshot(path="/tmp/board-bench-375.png", full_page=True)
            browser.close()
    finally:
        server.shutdown()
    return height, width


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    app = make_app()
    print(f"fill: {args.rows:,} rows routed to PCS01 in {fill(app, args.rows):.1f} s")
    times = server_times(app, args.repeat)
    median = statistics.median(times) * 1000
    print(f"GET /cases/board  median {median:.1f} ms  p95 {sorted(times)[int(len(times) * .95) - 1] * 1000:.1f} ms")
    height, width = page_height(app)
    print(f"first page at 375x812: {height} px high ({height / SCREEN:.2f} screens), {width} px wide")
    emit(f"lead board first page, server time ({args.rows:,} open cases in the precinct)", round(median, 1), "ms",
         300.0)
    emit(f"lead board first page height at 375 px ({args.rows:,} open cases)", height, "px", 3 * SCREEN,
         note=f"{height / SCREEN:.2f} screens of 812 px; page width {width} px")


if __name__ == "__main__":
    main()
