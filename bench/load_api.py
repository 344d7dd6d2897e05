"""The officers of bench/load.py working through the API (`--mode api`, the default; issue 23's load): each has a
bearer token (bench/load_seed.py makes one per officer) and, again and again, reads the worklist
(GET /api/v1/cases), opens one case (GET /api/v1/cases/<id>) and logs a contact on it
(POST /api/v1/cases/<id>/contacts), then thinks for 2–6 s. Those three requests back to back, every ~4 s, from 200
officers offer about 146 requests a second.

Most picks are the officer's own cases; one in ten (--pool-share) is a case of the precinct's pool, so officers
of one precinct race for the same pool cases as they do on a busy morning: the loser is answered 409 (the case
was taken, with by whom), which is counted as a conflict, not an error. Every note carries a unique marker, as on
the pages, so the check after the run (bench/load_verify.py) finds each contact answered 201 exactly once.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import time

import aiohttp

from bench.load_users import CONTACTS, SHANGHAI, VISIT_TIERS, Page, Run


async def _call(run: Run, client: aiohttp.ClientSession, kind: str, method: str, url: str, expect: int = 200,
                **kwargs) -> tuple[Page | None, dict | None]:
    """One API request through Run.request (timed; 409 a conflict, not an error); the page and its JSON."""
    page = await run.request(client, kind, method, url, expect=expect, conflict_ok=True, **kwargs)
    if page is None or not page.text:
        return page, None
    try:
        return page, json.loads(page.text)
    except ValueError:
        return page, None


def pick(items: list[dict], username: str, rng: random.Random, pool_share: float) -> dict | None:
    """One of the first few own open cases, or now and then one of the first pool cases."""
    own = [c for c in items if c.get("assignee") and c["assignee"]["username"] == username
           and c["status"] != "closed"]
    pool = [c for c in items if not c.get("assignee") and c["status"] != "closed"]
    if pool and (not own or rng.random() < pool_share):
        return rng.choice(pool[:3])
    return rng.choice(own[:5]) if own else None


def contact_body(kind: str, case: dict, marker: str, rng: random.Random) -> dict:
    """The JSON of one contact of the given kind, dated after the case's earliest push (the app refuses earlier)."""
    at = dt.datetime.now(dt.UTC)
    pushed = [dt.datetime.fromisoformat(w["pushed_at"]) for w in case.get("warnings", []) if w.get("pushed_at")]
    earliest = min(pushed) if pushed else None
    visit = case["tier"] in VISIT_TIERS
    body = {"version": case["version"], "note": marker, "method": "visit" if visit else "phone"}
    if kind == "failed":
        when = at - dt.timedelta(minutes=rng.uniform(5, 90))
        if earliest is not None:
            when = max(when, min(at, earliest + dt.timedelta(minutes=1)))
        return body | {"reached": "none", "failure_reason": "not_home" if visit else "no_answer",
                       "contacted_at": when.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")}
    when = at - dt.timedelta(minutes=rng.uniform(1, 10))
    if earliest is not None:
        when = max(when, min(at, earliest + dt.timedelta(minutes=1)))
    body |= {"reached": "self", "app": "registered_now",
             "contacted_at": when.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")}
    if kind == "dissuaded":
        return body | {"outcome": "dissuaded", "amount_dissuaded": f"{rng.randrange(500, 50_000)}.00"}
    return body | {"outcome": "self_protected", "close": True}


async def officer(run: Run, base: str, username: str, token: str, start_at: float, stop_at: float,
                  think: tuple[float, float], seed: int, pool_share: float = 0.1) -> None:
    """One officer's shift through the API: from start_at, a worklist–case–contact cycle every few seconds."""
    rng = random.Random(seed)
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    headers = {"Authorization": f"Bearer {token}"}
    n = 0
    async with aiohttp.ClientSession(base, headers=headers, timeout=aiohttp.ClientTimeout(total=60)) as client:
        while True:
            await asyncio.sleep(rng.uniform(*think))
            if time.monotonic() >= stop_at:
                return
            _page, listed = await _call(run, client, "api: worklist", "GET", "/api/v1/cases?per_page=20")
            chosen = pick(listed.get("items", []), username, rng, pool_share) if isinstance(listed, dict) else None
            if chosen is None:
                run.fallbacks += 1
                continue
            _page, case = await _call(run, client, "api: case", "GET", f"/api/v1/cases/{chosen['id']}")
            if not isinstance(case, dict) or "version" not in case or case.get("status") == "closed":
                continue
            n += 1
            kind = rng.choices([k for k, _ in CONTACTS], [w for _, w in CONTACTS])[0]
            marker = f"{run.marker}:{username}:{n}"
            page, _body = await _call(run, client, "api: contact", "POST", f"/api/v1/cases/{chosen['id']}/contacts",
                                      expect=201, json=contact_body(kind, case, marker, rng))
            run.posted[marker] = {"case": chosen["id"], "kind": kind, "tier": case["tier"],
                                  "ok": page is not None and page.status == 201}
