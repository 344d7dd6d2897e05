"""The center's routing queue: cases whose precinct the directory did not know when they came in.

A group (every case whose newest warning names one precinct text: a misspelt or new precinct) is routed with one
choice; the whole queue is matched again after the directory changes. A press routes at most `limit` cases (about
a second per thousand): a bigger group takes another press. Operations flush; the caller commits."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..directory.models import Community, Precinct
from ..directory.routing import Router
from . import queries
from .dispatch import route_many

if TYPE_CHECKING:
    from ..auth.models import User


@dataclass
class Routed:
    """What one press did."""

    routed: int
    #: route_group: how many went into the community their warning names (the destination was a precinct).
    in_community: int = 0
    #: route_group: how many of the group are still waiting for another press.
    left: int = 0
    #: route_by_directory: cases in the queue before the press.
    queued: int = 0
    #: route_by_directory: the press stopped at its limit, so more may match.
    more: bool = False


def route_group(by: User, precinct_text: str, precinct: Precinct, community: Community | None,
                limit: int) -> Routed:
    """Route the first `limit` cases of the group to the destination: into the community each warning names where
    the chosen precinct has it, else its pool (or all into `community` when one was chosen)."""
    cases, total = queries.unrouted_group(by, precinct_text, limit)
    if not cases:
        return Routed(0)
    places = [(precinct, community)] * len(cases) if community else places_in(Router.load(), cases, precinct)
    route_many(cases, places, by, "group")
    return Routed(len(cases), in_community=sum(1 for _p, c in places if c is not None) if community is None else 0,
                  left=total - len(cases))


def route_by_directory(by: User, limit: int) -> Routed:
    """Route the queue's cases again by the directory as it is now; those still matching nothing stay queued."""
    router, matched, places, queued = Router.load(), [], [], 0
    for text, count in queries.unrouted_groups(by, limit=None):
        queued += count
        if (text and router.precinct(text) is None) or len(matched) >= limit:
            continue  # a precinct the directory still lacks: the group is not even read
        cases, _total = queries.unrouted_group(by, text, limit - len(matched))
        found, where = match_queue(router, cases)
        matched += found
        places += where
    if matched:
        route_many(matched, places, by, "directory")
    return Routed(len(matched), queued=queued, more=len(matched) >= limit)


def _latest_place_text(case) -> tuple[str, str]:
    """The precinct and community the case's newest warning names (the center's latest word)."""
    warning = max(case.warnings, key=lambda w: w.id, default=None)
    return (warning.precinct_text or "", warning.community_text or "") if warning else ("", "")


def places_in(router: Router, cases: list, precinct: Precinct) -> list[tuple[Precinct, Community | None]]:
    """Each case sent to `precinct`: into the community its warning names where that precinct has it, else the
    precinct's pool."""
    places = []
    for case in cases:
        community_text = _latest_place_text(case)[1]
        places.append((precinct, router.community(precinct, community_text) if community_text else None))
    return places


def match_queue(router: Router, cases: list) -> tuple[list, list[tuple[Precinct, Community | None]]]:
    """The cases of the queue the directory now knows a place for (a precinct added or renamed since their push),
    with those places, as the importer would route them today."""
    matched, places = [], []
    for case in cases:
        precinct, community = router.place(*_latest_place_text(case))
        if precinct is not None:
            matched.append(case)
            places.append((precinct, community))
    return matched, places
