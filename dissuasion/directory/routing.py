"""Where a place name the center wrote leads, against the directory: the importer routes rows by it, the center's
queue routes cases by it.

Centers write the same place in several ways: 城东派出所, 城东所, 清河县公安局城东派出所; 东门社区, 东门社区居委会.
A name is looked up as written first, then in its short forms; a short form two places share routes nowhere.
A county's name before a precinct's own (清河县公安局城东派出所) must be this county's: the one configured
(COUNTY_NAME) or the one the directory's own full names give. When neither tells, the precinct's own name routes
the row, and `prefix_of` lets the importer say which county name it passed over."""
import re
from dataclasses import dataclass

from flask import current_app
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
    #: This county's names as they stand before a precinct's (清河县, 清河); None when nothing tells them.
    home: frozenset[str] | None = None

    @classmethod
    def load(cls) -> "Router":
        precincts, communities, by_name = {}, {}, {}
        short: dict[str, set] = {}
        home = set(_county_names(current_app.config.get("COUNTY_NAME", "")))
        for p in db.session.scalars(select(Precinct).where(Precinct.active.is_(True)).options(
                selectinload(Precinct.communities).selectinload(Community.officer))):
            name = name_key(p.name)
            precincts[name] = precincts[name_key(p.code)] = p
            bare = _BUREAU.sub("", name)  # a directory that keeps the full name: 清河县公安局城东派出所
            home.update(_county_names(_county_of(name[:len(name) - len(bare)])))
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
        return cls(precincts, communities, unique, frozenset(home) if home else None)

    def precinct(self, text: str) -> Precinct | None:
        key = name_key(text)
        found = self.precincts.get(key)
        if found is None:
            county, found = self._after_county(key)
            if found is not None and self.home is not None and county and not _is_home(county, self.home):
                return None  # another county's 城东派出所
        return found

    def prefix_of(self, text: str) -> tuple[str, Precinct | None]:
        """For a precinct written after a county's name (临河县公安局城东派出所) that is not the directory's own name:
        that county's name and the directory's precinct the rest names; ("", None) for any other text."""
        key = name_key(text)
        if key in self.precincts:
            return "", None
        return self._after_county(key)

    def _after_county(self, key: str) -> tuple[str, Precinct | None]:
        if (bare := _BUREAU.sub("", key)) != key and (found := self.precincts.get(bare)):
            return _county_of(key[:len(key) - len(bare)]), found
        for m in _COUNTY.finditer(key[:12]):  # 清河县城东派出所: a county's or city's name before the precinct's own
            if found := self.precincts.get(key[m.end():]):
                return _county_of(key[:m.end()]), found
        return "", None

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
#: How the name of a city, prefecture or province ends (before a county's: 邢台市清河县).
_ABOVE_COUNTY = ("市", "省", "州", "盟", "地区", "自治区")
#: What follows a county's name in a bureau's: 清河县公安局, 清河公安分局, 清河分局.
_BUREAU_END = re.compile(r"(?:公安局|公安分局|分局|公安)$")
_COMMITTEE = re.compile(r"(?:居民委员会|居委会)$")
_VILLAGE_COMMITTEE = re.compile(r"村(?:民委员会|委会)$")


def _county_of(prefix: str) -> str:
    """The county's name in what stands before a precinct's own name (清河县公安局 -> 清河县); '' when it names no
    place (公安局, 县公安局)."""
    county = _BUREAU_END.sub("", prefix)
    return "" if len(county) <= 1 else county


def _is_home(county: str, home: frozenset[str]) -> bool:
    """清河县 or 清河 is this county; so is 某某市清河县 (a city's or province's name before it), but not 长沙县
    for 沙县: what comes before the name must end as a city's or a province's does."""
    return county in home or any(county.endswith(name) and county[:-len(name)].endswith(_ABOVE_COUNTY)
                                 for name in home if name[-1] in "县市区旗")


def _county_names(name: str) -> list[str]:
    """A county's name as it may be written before a precinct's: 清河县 and 清河."""
    key = name_key(name or "")
    if not key:
        return []
    return [key, key[:-1]] if key[-1] in "县市区旗" and len(key) > 2 else [key]


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
