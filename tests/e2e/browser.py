"""What every browser test shares: launching Debian's Chromium, the checks made on every page, logging in.

playwright is imported only by the fixtures that need it (conftest.py), so a machine without it collects
these tests and skips them with the reason instead of failing to import.
"""
import datetime as dt
import os
import time

import pyotp

#: Debian's Chromium (apt-get install chromium); CHROMIUM=/other/path for a browser elsewhere.
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
#: Without the background-networking flags Chromium keeps calling Google on a network that refuses it.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if deliberately_off():
        return "E2E=0 (browser tests run in the SQLite pass of .ci/run only)"
    if not os.path.exists(CHROMIUM):
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium fonts-noto-cjk)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -r requirements-dev.txt)"
    return None


def deliberately_off() -> bool:
    return os.environ.get("E2E", "").lower() in ("0", "no", "off", "false")


# The checks every page must pass. Each script returns a list of problems, empty when the page is fine.

#: Elements sticking out past the right edge, outside any box that scrolls sideways on its own (.table-wrap).
OVERFLOW_JS = """async () => {
  // Let resize observers (Chart.js) and layout catch up with a window that was just made narrower.
  for (let i = 0; i < 3; i++) { await new Promise((done) => requestAnimationFrame(done)); }
  const width = window.innerWidth;
  if (document.documentElement.scrollWidth <= width) { return []; }
  const inScroller = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      if (['auto', 'scroll', 'hidden'].includes(getComputedStyle(p).overflowX)) { return true; }
    }
    return false;
  };
  const out = [`page is ${document.documentElement.scrollWidth} px wide in a ${width} px window`];
  for (const el of document.body.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 0.5 && r.width > 0 && !inScroller(el)) {
      out.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + String(el.className)
        .trim().replace(/\\s+/g, '.') : ''} right edge ${Math.round(r.right)} px: ${(el.textContent || '')
        .trim().slice(0, 40)}`);
      if (out.length > 8) { break; }
    }
  }
  return out;
}"""

#: Form controls a person fills in (not hidden, not buttons) without a label a screen reader can announce.
LABELS_JS = """() => {
  const skip = ['hidden', 'submit', 'button', 'reset', 'image'];
  const out = [];
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.tagName === 'INPUT' && skip.includes((el.getAttribute('type') || 'text').toLowerCase())) { continue; }
    const labelled = (el.labels && Array.from(el.labels).some((l) => l.textContent.trim()))
      || (el.getAttribute('aria-label') || '').trim()
      || (el.getAttribute('aria-labelledby') || '').split(/\\s+/).some((id) => {
        const t = id && document.getElementById(id);
        return t && t.textContent.trim();
      });
    if (!labelled) { out.push(el.outerHTML.slice(0, 120)); }
  }
  return out;
}"""


class PageWatch:
    """Collects a page's console errors and uncaught exceptions, and which navigations were checked."""

    def __init__(self, page, name: str):
        self.page, self.name = page, name
        self.errors: list[str] = []
        self.unchecked: list[str] = []
        self.pending: str | None = None
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught {exc}"))
        page.on("framenavigated", self._navigated)

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"console error {message.text} at {message.location.get('url', '')}")

    def _navigated(self, frame) -> None:
        if frame == self.page.main_frame:
            if self.pending is not None:
                self.unchecked.append(self.pending)
            self.pending = frame.url

    def check(self, form_refused: bool = False) -> None:
        """No sideways scrolling at 375 px, a label on every input, no console errors: on this page, now.

        form_refused: this page is a form sent back with its problems as 400 Bad Request (on purpose), which
        Chromium logs as a failed load of the page itself; that one line is expected, nothing else is.
        """
        page = self.page
        if form_refused:
            refused = f"status of 400 (BAD REQUEST) at {page.url}"
            assert any(e.endswith(refused) for e in self.errors), f"{page.url} was not refused with 400"
            self.errors = [e for e in self.errors if not e.endswith(refused)]
        page.wait_for_load_state("load")
        size = page.viewport_size
        if size["width"] != PHONE["width"]:
            page.set_viewport_size({"width": PHONE["width"], "height": size["height"]})
        try:
            overflow = page.evaluate(OVERFLOW_JS)
        finally:
            if size["width"] != PHONE["width"]:
                page.set_viewport_size(size)
        unlabelled = page.evaluate(LABELS_JS)
        where = page.url
        assert not overflow, f"{where} scrolls sideways at 375 px:\n  " + "\n  ".join(overflow)
        assert not unlabelled, f"{where} has inputs without a label:\n  " + "\n  ".join(unlabelled)
        assert not self.errors, f"{where}: browser errors:\n  " + "\n  ".join(self.errors)
        self.pending = None


#: The last step whose code was typed, per secret: the server takes a code once per account.
_used_steps: dict[str, int] = {}


def totp_now(secret: str) -> str:
    """A code the server has not seen yet: now's, or the next step's (within its window); if both are used, wait."""
    totp = pyotp.TOTP(secret)
    while True:
        current = totp.timecode(dt.datetime.now(dt.UTC))
        step = max(current, _used_steps.get(secret, 0) + 1)
        if step <= current + 1:
            break
        time.sleep(1)
    _used_steps[secret] = step
    return totp.generate_otp(step)
