"""Where a place name the center wrote leads, against the directory: the importer routes rows by it, the center's
queue routes cases by it.

Centers write the same place in several ways: 城东派出所, 城东所, 清河县公安局城东派出所; 东门社区, 东门社区居委会.
A name is looked up as written first, then in its short forms; a short form two places share routes nowhere."""
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..core.text import name_key
from ..extensions import db
from .models import Community, Precinct


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
            name = name_key(p.name)
            precincts[name] = precincts[name_key(p.code)] = p
            bare = _BUREAU.sub("", name)  # a directory that keeps the full name: 清河县公安局城东派出所
            for alias in {bare, *_precinct_short_forms(bare)} - {name}:
                short.setdefault(alias, set()).add(p)
            in_precinct: dict[str, set] = {}
            for c in p.communities:
                key = name_key(c.name)
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
        key = name_key(text)
        found = self.precincts.get(key)
        if found is None and (bare := _BUREAU.sub("", key)) != key:
            found = self.precincts.get(bare)
        if found is None:  # 清河县城东派出所: a county's or city's name before the precinct's own
            found = next((p for m in _COUNTY.finditer(key[:12]) if (p := self.precincts.get(key[m.end():]))), None)
        return found

    def community(self, precinct: Precinct, text: str) -> Community | None:
        key = name_key(text)
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
        key = name_key(community_text) if community_text else ""
        community = (self.unique_communities.get(key) or self.unique_communities.get(_community_short_form(key))
                     if key else None)
        return (community.precinct, community) if community is not None else (None, None)


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
