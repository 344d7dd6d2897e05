"""The simulated users of bench/load.py: officers working their own cases and center staff importing pushes,
through the pages as a browser uses them (login form, CSRF tokens, the contact form's version, redirects).

An officer, again and again: opens the worklist, picks one of the first cases that is theirs (not the pool, so no
two officers ever touch one case), opens it, opens the contact form, fills it in, posts it, and follows the
redirect back to the case, with a few seconds of thinking between steps. The contact is one of: a call that did
not get through (logged up to 90 minutes late, so retries fall due at once and the scheduler is busy with them),
a 劝阻 that keeps the case open for its 回访, or an 办结. Every note carries a unique marker, so the check after
the run finds each contact that was answered with success exactly once.
Center staff log in with their TOTP code, then upload a push, look at the preview and commit it, every few
minutes. The clocks are monotonic; times are milliseconds from sending to the last byte of the response.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pyotp

SHANGHAI = ZoneInfo("Asia/Shanghai")
CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')
VERSION = re.compile(r'name="version" value="(\d*)"')
TOKEN = re.compile(r'name="token"[^>]*?value="([^"]+)"|value="([^"]+)"[^>]*?name="token"')
#: A case's row on the worklist (not a 回访 or a meeting due: those rows carry no pool badge, whoever holds the case).
ROW = re.compile(r"<li(?![^>]*task-)[^>]*>(.*?)</li>", re.S)
CASE_LINK = re.compile(r'class="name" href="/cases/(\d+)"')
TIER = re.compile(r"tier-(\w+)")
VISIT_TIERS = ("extra_high", "high")
#: What an officer logs, with how often.
CONTACTS = (("failed", 45), ("dissuaded", 30), ("close", 25))
#: Request kinds of center staff; the rest are officers'.
STAFF_KINDS = ("login (center, TOTP)", "import: upload page", "import: preview", "import: commit", "import: push page")


@dataclass
class Sample:
    kind: str
    ms: float
    ok: bool
    #: seconds after the start of the steady phase (negative: during the ramp)
    at: float
    #: the HTTP status (0: no answer)
    status: int = 0
    #: 409 where a conflict is a possible answer (a pool case a colleague has just taken): not an error
    conflict: bool = False


#: What an error page says (the form's message, the field errors, the flash): reported with the error.
SAID = re.compile(r'<(?:div|p) class="(?:flash flash-\w+(?: closed-notice)?|error)"[^>]*>(.*?)</(?:div|p)>', re.S)


def said(text: str) -> str:
    return " | ".join(" ".join(m.split()) for m in SAID.findall(text))[:300]


@dataclass
class Page:
    """What a request returned: the status, the Location header of a redirect, and the body."""

    status: int
    location: str
    text: str


@dataclass
class Run:
    """What the users did: every request's time, the errors, and every contact posted (marker -> what)."""

    marker: str
    steady_from: float = 0.0
    samples: list[Sample] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    posted: dict[str, dict] = field(default_factory=dict)
    pushes: list[dict] = field(default_factory=list)
    fallbacks: int = 0

    async def request(self, client: aiohttp.ClientSession, kind: str, method: str, url: str, expect: int = 200,
                      conflict_ok: bool = False, **kwargs) -> Page | None:
        """One request; an answer other than `expect` is an error, except 409 when `conflict_ok` (a conflict)."""
        started, began = time.perf_counter(), time.monotonic()
        try:
            async with client.request(method, url, allow_redirects=False, **kwargs) as response:
                page = Page(response.status, response.headers.get("Location", ""), await response.text())
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.samples.append(Sample(kind, (time.perf_counter() - started) * 1000, False, began - self.steady_from))
            self.errors.append((kind, f"{type(exc).__name__}: {exc}"[:200]))
            return None
        conflict = conflict_ok and page.status == 409
        ok = page.status == expect or conflict
        self.samples.append(Sample(kind, (time.perf_counter() - started) * 1000, ok, began - self.steady_from,
                                   page.status, conflict))
        if not ok:
            self.errors.append((kind, f"HTTP {page.status} on {method} {url}: {said(page.text)}"))
        return page


def session(base: str, timeout: float) -> aiohttp.ClientSession:
    """A browser's worth of state: its own cookies (an IP address as host needs the 'unsafe' jar)."""
    return aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True),
                                 timeout=aiohttp.ClientTimeout(total=timeout))


def _csrf(page: Page | None) -> str:
    match = CSRF.search(page.text) if page is not None else None
    return match.group(1) if match else ""


async def _login(run: Run, client: aiohttp.ClientSession, username: str, password: str, kind: str) -> bool:
    page = await run.request(client, kind, "GET", "/login")
    response = await run.request(client, kind, "POST", "/login", expect=302,
                                 data={"username": username, "password": password, "csrf_token": _csrf(page)})
    return response is not None and response.status == 302


def _local(at: dt.datetime) -> str:
    return at.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")


#: A warning's push time on the case page (its first line: number, tier, then the time in Asia/Shanghai).
PUSHED = re.compile(r'</strong> <span class="badge tier-\w+">[^<]*</span> '
                    r'<span class="hint">(\d{4}-\d\d-\d\d \d\d:\d\d)</span>')


def pushed_at(case_page: str) -> dt.datetime | None:
    """The earliest push time of the case's warnings: a contact may not be dated before it (the app refuses it)."""
    times = [dt.datetime.strptime(t, "%Y-%m-%d %H:%M").replace(tzinfo=SHANGHAI) for t in PUSHED.findall(case_page)]
    return min(times) if times else None


def _not_before(when: dt.datetime, at: dt.datetime, earliest: dt.datetime | None) -> dt.datetime:
    """`when`, but never before the case's push: `earliest` is the push time as the case page shows it (to the
    minute), so the next whole minute is after the push; the form (minutes only) then reads it as that minute. At
    most a minute ahead of now (the form allows two minutes of clock skew)."""
    if earliest is None:
        return when
    return min(max(when, earliest + dt.timedelta(minutes=1)), at + dt.timedelta(minutes=1))


def contact_form(kind: str, tier: str, version: str, csrf: str, marker: str, rng: random.Random,
                 earliest: dt.datetime | None = None) -> dict:
    """The fields a user fills in for one kind of contact (the form's own rules: contact/validation.py); no contact
    is dated before the case's warning was pushed (`earliest`): neither a call logged late nor a 劝阻 logged a few
    minutes after it happened (a case pushed a minute ago; the app refuses those, by design)."""
    at = dt.datetime.now(dt.UTC)
    visit = tier in VISIT_TIERS
    data = {"csrf_token": csrf, "version": version, "note": marker, "action": "again", "outcome": ""}
    if kind == "failed":
        when = _not_before(at - dt.timedelta(minutes=rng.uniform(5, 90)), at, earliest)
        data |= {"method": "visit" if visit else "phone", "reached": "none",
                 "failure_reason": "not_home" if visit else "no_answer", "contacted_at": _local(when)}
        return data
    when = _not_before(at - dt.timedelta(minutes=rng.uniform(1, 10)), at, earliest)
    data |= {"method": "visit" if visit else "phone", "reached": "self", "app": "registered_now",
             "contacted_at": _local(when)}
    if kind == "dissuaded":
        return data | {"outcome": "dissuaded", "amount_dissuaded": f"{rng.randrange(500, 50_000)}.00"}
    return data | {"outcome": "self_protected", "action": "close"}


def pick_case(page: str, rng: random.Random, pool: bool = False) -> tuple[int, str] | None:
    """One of the first few cases on the worklist that are the officer's own, or with `pool` one of the first
    few of the precinct's pool (which a colleague may take first)."""
    found = []
    for row in ROW.findall(page):
        link, tier = CASE_LINK.search(row), TIER.search(row)
        if link and tier and ("badge pool" in row) == pool:
            found.append((int(link.group(1)), tier.group(1)))
    return rng.choice(found[:5]) if found else None


async def officer(run: Run, base: str, username: str, password: str, start_at: float, stop_at: float,
                  think: tuple[float, float], seed: int, pool_share: float = 0.0) -> None:
    """One officer's shift: log in at start_at, work cases until stop_at. With the chance `pool_share` a step
    takes a case from the precinct's pool (签收并领取 on the case page) before logging the contact: a colleague
    may have taken it a moment before, and the app answers 409, which is a conflict, not an error."""
    rng = random.Random(seed)
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    async with session(base, 60) as client:
        if not await _login(run, client, username, password, "login (officer)"):
            return
        n = 0

        async def pause() -> bool:
            await asyncio.sleep(rng.uniform(*think))
            return time.monotonic() < stop_at

        while await pause():
            page = await run.request(client, "worklist", "GET", "/cases/")
            from_pool = rng.random() < pool_share
            picked = pick_case(page.text, rng, from_pool) if page is not None and page.status == 200 else None
            if picked is None and not from_pool:
                run.fallbacks += 1
                page = await run.request(client, "worklist", "GET", "/cases/?page=2")
                picked = pick_case(page.text, rng) if page is not None and page.status == 200 else None
            if picked is None or not await pause():
                continue
            case_id, tier = picked
            # 409 (taken by a colleague) is the app's answer for a case that changed hands: a pool case signed for
            # a moment before, and, rarely, an own case re-routed meanwhile (a push's repeat warning)
            shown = await run.request(client, "case page", "GET", f"/cases/{case_id}", conflict_ok=True)
            if shown is None or shown.status != 200:
                continue
            earliest = pushed_at(shown.text)
            if not await pause():
                break
            if from_pool:
                signed = await run.request(client, "sign for (pool)", "POST", f"/cases/{case_id}/sign", expect=302,
                                           conflict_ok=True, data={"csrf_token": _csrf(shown)})
                if signed is None or signed.status != 302:
                    continue
            form = await run.request(client, "contact form", "GET", f"/cases/{case_id}/contact", conflict_ok=True)
            if form is None or form.status != 200 or not await pause():
                continue
            n += 1
            kind = rng.choices([k for k, _ in CONTACTS], [w for _, w in CONTACTS])[0]
            marker = f"{run.marker}:{username}:{n}"
            version = VERSION.search(form.text)
            data = contact_form(kind, tier, version.group(1) if version else "", _csrf(form), marker, rng, earliest)
            posted = await run.request(client, "contact post", "POST", f"/cases/{case_id}/contact", expect=302,
                                       conflict_ok=True, data=data)
            ok = posted is not None and posted.status == 302
            run.posted[marker] = {"case": case_id, "kind": kind, "tier": tier, "ok": ok}
            if ok:
                await run.request(client, "case page", "GET", posted.location)


async def center(run: Run, base: str, username: str, password: str, files: list[Path], start_at: float,
                 stop_at: float, every: float) -> None:
    """One center staff member: log in with the TOTP code, then one push every `every` seconds until stop_at."""
    from bench.load_seed import TOTP_SECRET

    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    kind = "login (center, TOTP)"
    async with session(base, 600) as client:
        if not await _login(run, client, username, password, kind):
            return
        page = await run.request(client, kind, "GET", "/login/totp")
        done = await run.request(client, kind, "POST", "/login/totp", expect=302,
                                 data={"code": pyotp.TOTP(TOTP_SECRET).now(), "csrf_token": _csrf(page)})
        if done is None:
            return
        for path in files:
            began = time.monotonic()
            if began >= stop_at:
                return
            await _push(run, client, path)
            await asyncio.sleep(max(0.0, min(began + every, stop_at) - time.monotonic()))


async def _push(run: Run, client: aiohttp.ClientSession, path: Path) -> None:
    """Upload, preview, commit, and look at the push, as the upload page does."""
    page = await run.request(client, "import: upload page", "GET", "/imports/upload")
    began = time.perf_counter()
    form = aiohttp.FormData()
    form.add_field("csrf_token", _csrf(page))
    form.add_field("file", path.read_bytes(), filename=path.name, content_type="application/octet-stream")
    preview = await run.request(client, "import: preview", "POST", "/imports/preview", data=form)
    token = TOKEN.search(preview.text) if preview is not None else None
    if token is None:
        run.errors.append(("import: preview", f"no commit form for {path.name}"))
        return
    committed = await run.request(client, "import: commit", "POST", "/imports/commit", expect=302,
                                  data={"token": token.group(1) or token.group(2), "csrf_token": _csrf(preview)})
    if committed is None or committed.status != 302:
        return
    location = committed.location
    while "/imports/jobs/" in location:  # a commit is a job (issue 23): its page's script asks every second
        await asyncio.sleep(1.0)
        status = await run.request(client, "import: job progress", "GET", location.split("?")[0] + ".json")
        if status is None:
            return
        finished = json.loads(status.text).get("url")
        if finished:
            outcome = await run.request(client, "import: job outcome", "GET", finished, expect=302)
            if outcome is None or outcome.status != 302:
                return
            location = outcome.location
    await run.request(client, "import: push page", "GET", location)
    run.pushes.append({"file": path.name, "seconds": time.perf_counter() - began,
                       "push": location.rstrip("/").rsplit("/", 1)[-1]})
