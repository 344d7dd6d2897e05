"""Routing rows to a precinct and community by the names the center wrote, against the directory.

Centers write the same place in several ways: 城东派出所, 城东所, 清河县公安局城东派出所; 东门社区, 东门社区居委会.
A name is looked up as written first, then in its short forms; a short form two places share routes nowhere."""
import re
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
        short: dict[str, set] = {}
        for p in db.session.scalars(select(Precinct).where(Precinct.active.is_(True)).options(
                selectinload(Precinct.communities).selectinload(Community.officer))):
            name = header_key(p.name)
            precincts[name] = precincts[header_key(p.code)] = p
            bare = _BUREAU.sub("", name)  # a directory that keeps the full name: 清河县公安局城东派出所
            for alias in {bare, *_precinct_short_forms(bare)} - {name}:
                short.setdefault(alias, set()).add(p)
            in_precinct: dict[str, set] = {}
            for c in p.communities:
                key = header_key(c.name)
                communities[(p.id, key)] = c
                for alias in _community_short_forms(key):
                    in_precinct.setdefault(alias, set()).add(c)
                by_name.setdefault(key, []).append(c)
            for alias, found in in_precinct.items():  # 东门 for 东门社区, where no other community of it is 东门…
                if len(found) == 1:
                    communities.setdefault((p.id, alias), next(iter(found)))
        for alias, found in short.items():
            if len(found) == 1:
                precincts.setdefault(alias, found.pop())
        unique = {name: cs[0] for name, cs in by_name.items() if len(cs) == 1}
        return cls(precincts, communities, unique)

    def precinct(self, text: str) -> Precinct | None:
        key = header_key(text)
        found = self.precincts.get(key)
        if found is None and (bare := _BUREAU.sub("", key)) != key:
            found = self.precincts.get(bare)
        if found is None:  # 清河县城东派出所: a county's or city's name before the precinct's own
            found = next((p for m in _COUNTY.finditer(key[:12]) if (p := self.precincts.get(key[m.end():]))), None)
        return found

    def community(self, precinct: Precinct, text: str) -> Community | None:
        key = header_key(text)
        found = self.communities.get((precinct.id, key))
        return found or self.communities.get((precinct.id, _community_short_form(key)))

    def place(self, precinct_text: str, community_text: str) -> tuple[Precinct | None, Community | None]:
        """Where a row's place names lead: the precinct and, if it has it, the community; with no precinct named, a
        community only one precinct has; else (None, None)."""
        if precinct_text:
            precinct = self.precinct(precinct_text)
            if precinct is None:
                return None, None
            return precinct, self.community(precinct, community_text) if community_text else None
        key = header_key(community_text) if community_text else ""
        community = (self.unique_communities.get(key) or self.unique_communities.get(_community_short_form(key))
                     if key else None)
        return (community.precinct, community) if community is not None else (None, None)

    def route(self, results: list[RowResult]) -> None:
        """Set each accepted row's precinct and community; a row whose precinct is unknown is unrouted.

        A known precinct with an unknown community still goes to that precinct (its pool), with a note:
        the precinct can act on it at once, the center's queue would only delay it.
        """
        for r in results:
            if r.verdict == REJECTED:
                continue
            precinct, community = self.place(r.precinct_text, r.community_text)
            if precinct is not None and r.community_text and community is None:
                r.note("community", "community", r.community_text)
            r.precinct, r.community = precinct, community
            if precinct is None and r.verdict != "duplicate":
                r.verdict = UNROUTED
                if r.precinct_text or not r.community_text:
                    r.note("precinct", "precinct", r.precinct_text or "（空）", verdict=UNROUTED)
                else:
                    r.note("community", "community_only", r.community_text, verdict=UNROUTED)


#: What precedes a precinct's own name in a full one: 清河县公安局城东派出所, 清河分局城东派出所.
_BUREAU = re.compile(r"^.*(?:公安局|分局)")
#: Where a county's, city's or district's name may end before a precinct's own: 清河县城东派出所.
_COUNTY = re.compile(r"[县市区旗]")
_COMMITTEE = re.compile(r"(?:居民委员会|居委会)$")
_VILLAGE_COMMITTEE = re.compile(r"村(?:民委员会|委会)$")


def _precinct_short_forms(key: str) -> list[str]:
    """城东派出所 is also written 城东所 and 城东."""
    if key.endswith("派出所") and len(key) > 3:
        return [key[:-3] + "所", key[:-3]]
    return []


def _community_short_form(key: str) -> str:
    """东门社区居委会 is 东门社区; 李庄村委会 is 李庄村."""
    return _VILLAGE_COMMITTEE.sub("村", _COMMITTEE.sub("", key))


def _community_short_forms(key: str) -> list[str]:
    """东门社区 is also written 东门社区居委会 (the short form of what is written) and 东门; 东溪村 is also 东溪."""
    forms = [_community_short_form(key)]
    for suffix in ("社区", "村"):
        if key.endswith(suffix) and len(key) - len(suffix) >= 2:
            forms.append(key[:-len(suffix)])
    return forms


# --- the center's routing queue ------------------------------------------------------------------

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
