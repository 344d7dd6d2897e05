"""Fixtures of the browser tests: one real server per session (its own process, port and SQLite database),
Debian's Chromium driven by Playwright, and pages that are checked on every navigation.

Where Chromium or playwright is missing the tests are skipped with the reason (one line at the end of the run);
under CI (CI=true) that is a failure instead, since CI installs both. E2E=0 turns them off on purpose.
"""
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .browser import CHROMIUM, CHROMIUM_ARGS, DESKTOP, PageWatch, deliberately_off, unavailable

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).parent / "screenshots"
#: Ports Chromium refuses to open ("ERR_UNSAFE_PORT"); the kernel may hand one of them out.
UNSAFE_PORTS = {1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103,
                104, 109, 110, 111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513,
                514, 515, 526, 530, 531, 532, 540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720,
                1723, 2049, 3659, 4045, 4190, 5060, 5061, 6000, 6566, 6665, 6666, 6667, 6668, 6669, 6697, 10080}
SERVER_START_SECONDS = 60


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.e2e)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    """One line that says whether the browser tests ran, and if not, why."""
    if not any(r.nodeid.startswith("tests/e2e/") for rs in terminalreporter.stats.values() for r in rs
               if hasattr(r, "nodeid")):
        return
    reason = unavailable()
    if reason is None:
        terminalreporter.write_line(f"e2e: browser tests ran in {CHROMIUM}; screenshots in {SCREENSHOTS}")
    elif os.environ.get("CI") and not deliberately_off():
        terminalreporter.write_line(f"e2e: browser tests FAILED under CI: {reason}", red=True, bold=True)
    else:
        terminalreporter.write_line(f"e2e: browser tests SKIPPED: {reason}", yellow=True, bold=True)


@pytest.fixture(scope="session", autouse=True)
def _browser_available():
    reason = unavailable()
    if reason is None:
        return
    if os.environ.get("CI") and not deliberately_off():
        pytest.fail(f"CI must run the browser tests, but: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


def _free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in UNSAFE_PORTS:
            return port


def _start_server(tmp: Path):
    """Start tests/e2e/serve.py on a free port; (process, base_url, log) once /healthz answers."""
    port = _free_port()
    log = tmp / f"server-{port}.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "tests.e2e.serve", "--db", str(tmp / "e2e.db"),
                                    "--uploads", str(tmp / "uploads"), "--port", str(port)],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return process, url, log
        except OSError:
            time.sleep(0.2)
    process.kill()
    process.wait()
    raise RuntimeError(f"the e2e server did not start on port {port}:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="session")
def server(served) -> str:
    """The base URL of a real server on its own seeded database (tests/e2e/serve.py), stopped at the end."""
    return served[0]


@pytest.fixture(scope="session")
def server_folder(served) -> Path:
    """The server's folder (its database; a test holds its job worker with serve.HOLD_JOBS there)."""
    return served[1]


@pytest.fixture(scope="session")
def served(tmp_path_factory):
    process = None
    for attempt in range(3):  # the port may be taken between choosing and binding it: choose again
        tmp = tmp_path_factory.mktemp(f"e2e-server-{attempt}")
        try:
            process, url, log = _start_server(tmp)
            break
        except RuntimeError:
            if attempt == 2:
                raise
    yield url, tmp
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser, server, request, tmp_path):
    """open_page("officer", viewport=PHONE) -> (page, watch): a fresh browser profile on the server.

    Each page's last screen is saved to tests/e2e/screenshots/<test>-<name>.png when the test ends, and
    every page it navigated to must have been checked (watch.check()).
    """
    contexts, watches = [], []

    def open_(name: str, viewport: dict = DESKTOP):
        context = browser.new_context(base_url=server, viewport=viewport, locale="zh-CN",
                                      timezone_id="Asia/Shanghai", accept_downloads=True)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        watch = PageWatch(page, name)
        watches.append(watch)
        return page, watch

    yield open_
    SCREENSHOTS.mkdir(exist_ok=True)
    test = re.sub(r"\W+", "_", request.node.name).strip("_")
    for watch in watches:
        try:
            watch.page.screenshot(path=SCREENSHOTS / f"{test}-{watch.name}.png", full_page=True)
        except Exception as exc:  # noqa: BLE001  (a screenshot that fails must not hide the test's own result)
            print(f"screenshot of {watch.name} failed: {exc}")
    for context in contexts:
        context.close()
    missed = [url for watch in watches for url in watch.unchecked + ([watch.pending] if watch.pending else [])]
    if not getattr(request.node, "failed_call", False):
        assert not missed, f"pages visited without the checks (call watch.check() after each navigation): {missed}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember whether the test itself failed, so the unchecked-pages guard does not add a second error."""
    report = yield
    if report.when == "call":
        item.failed_call = report.failed
    return report
