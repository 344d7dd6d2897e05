"""Routing a push's rows to a precinct and community (the directory's Router decides where a place name leads)."""
from ..directory.routing import Router
from .rows import REJECTED, UNROUTED, RowResult


def route_rows(router: Router, results: list[RowResult]) -> None:
    """Set each accepted row's precinct and community; a row whose precinct is unknown is unrouted.

    A known precinct with an unknown community still goes to that precinct (its pool), with a note:
    the precinct can act on it at once, the center's queue would only delay it.
    """
    for r in results:
        if r.verdict == REJECTED:
            continue
        precinct, community = router.place(r.precinct_text, r.community_text)
        if precinct is not None and r.community_text and community is None:
            r.note("community", "community", r.community_text)
        r.precinct, r.community = precinct, community
        if precinct is None and r.verdict != "duplicate":
            r.verdict = UNROUTED
            if r.precinct_text or not r.community_text:
                r.note("precinct", "precinct", r.precinct_text, verdict=UNROUTED)  # (none written: says so)
            else:
                r.note("community", "community_only", r.community_text, verdict=UNROUTED)
