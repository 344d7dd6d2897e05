"""Routing a push's rows to a precinct and community (the directory's Router decides where a place name leads)."""
from ..directory.routing import Router
from .rows import DUPLICATE, REJECTED, UNROUTED, Problem, RowResult


def route_rows(router: Router, results: list[RowResult]) -> None:
    """Set each accepted row's precinct and community; a row whose precinct is unknown is unrouted.

    A known precinct with an unknown community still goes to that precinct (its pool), with a note:
    the precinct can act on it at once, the center's queue would only delay it.
    """
    for r in results:
        if r.verdict in (REJECTED, DUPLICATE):  # not imported: where it would have gone says nothing
            continue
        precinct, community = router.place(r.precinct_text, r.community_text)
        if precinct is not None and r.community_text and community is None:
            r.note("community", "community", r.community_text)
        r.precinct, r.community = precinct, community
        county, named = router.prefix_of(r.precinct_text) if r.precinct_text else ("", None)
        if precinct is None:
            r.verdict = UNROUTED
            if named is not None:  # 临河县公安局城东派出所, where this county's 城东派出所 is in the directory
                r.problems.append(Problem("precinct", "precinct_other_county", r.precinct_text, UNROUTED,
                                          other=named.name))
            elif r.precinct_text or not r.community_text:
                r.note("precinct", "precinct", r.precinct_text, verdict=UNROUTED)  # (none written: says so)
            else:
                r.note("community", "community_only", r.community_text, verdict=UNROUTED)
        elif county and router.home is None:  # routed by the precinct's own name; the county could not be checked
            r.problems.append(Problem("precinct", "precinct_county", r.precinct_text, "note", other=precinct.name))
