"""Routing rows to a precinct and community by the names the center wrote, against the directory."""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..directory.models import Community, Precinct
from ..extensions import db
from .headers import header_key
from .rows import REJECTED, UNROUTED, RowResult


@dataclass
class Router:
    """The directory, loaded once per import, keyed by normalised name (and code for precincts)."""

    precincts: dict[str, Precinct]
    communities: dict[tuple[int, str], Community]
    #: Community names that exist in one precinct only: enough to route a row that names no precinct.
    unique_communities: dict[str, Community]

    @classmethod
    def load(cls) -> "Router":
        precincts, communities, by_name = {}, {}, {}
        for p in db.session.scalars(select(Precinct).where(Precinct.active.is_(True)).options(
                selectinload(Precinct.communities).selectinload(Community.officer))):
            precincts[header_key(p.name)] = precincts[header_key(p.code)] = p
            for c in p.communities:
                communities[(p.id, header_key(c.name))] = c
                by_name.setdefault(header_key(c.name), []).append(c)
        unique = {name: cs[0] for name, cs in by_name.items() if len(cs) == 1}
        return cls(precincts, communities, unique)

    def route(self, results: list[RowResult]) -> None:
        """Set each accepted row's precinct and community; a row whose precinct is unknown is unrouted.

        A known precinct with an unknown community still goes to that precinct (its pool), with a note:
        the precinct can act on it at once, the center's queue would only delay it.
        """
        for r in results:
            if r.verdict == REJECTED:
                continue
            precinct = self.precincts.get(header_key(r.precinct_text)) if r.precinct_text else None
            community = None
            if precinct is not None and r.community_text:
                community = self.communities.get((precinct.id, header_key(r.community_text)))
                if community is None:
                    r.note("community", "community", r.community_text)
            elif precinct is None and not r.precinct_text and r.community_text:
                community = self.unique_communities.get(header_key(r.community_text))
                precinct = community.precinct if community is not None else None
            r.precinct, r.community = precinct, community
            if precinct is None and r.verdict != "duplicate":
                r.verdict = UNROUTED
                r.note("precinct", "precinct", r.precinct_text or r.community_text or "（空）", verdict=UNROUTED)
