"""Loading the precinct directory. The whole file is checked first; nothing is written if any row is wrong."""
from dataclasses import dataclass, field

from ..core.auditlog import record
from ..core.csvtext import UnreadableFile, csv_rows
from ..core.signals import community_officers, directory_checking, results
from ..core.text import clean_text
from ..extensions import db
from .models import Community, Precinct

COLUMNS = ("precinct_code", "precinct_name", "community", "community_officer")


class DirectoryError(ValueError):
    """The directory file was refused; `problems` lists every "第 N 行：…" found."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class DirectoryResult:
    precincts_created: int = 0
    precincts_updated: int = 0
    communities_created: int = 0
    officers_created: int = 0
    officers_linked: int = 0
    notes: list[str] = field(default_factory=list)


def parse_directory(data: bytes) -> list[dict]:
    """The rows of a directory CSV, checked: every problem is reported with its row number."""
    try:
        rows = csv_rows(data)
    except UnreadableFile as exc:
        raise DirectoryError([str(exc)]) from exc
    rows = [[clean_text(c) for c in r] for r in rows]
    if not rows or not any(rows[0]):
        raise DirectoryError(["文件是空的。需要表头：" + ",".join(COLUMNS)])
    header = [h.lower() for h in rows[0]]
    missing = [c for c in COLUMNS[:3] if c not in header]
    if missing:
        raise DirectoryError([f"缺少列：{', '.join(missing)}。表头应为：{','.join(COLUMNS)}"])
    ix = {name: header.index(name) for name in COLUMNS if name in header}
    out, problems, codes, names = [], [], {}, {}
    for n, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        item = {name: (row[i] if i < len(row) else "") for name, i in ix.items()}
        item.setdefault("community_officer", "")
        for required in COLUMNS[:3]:
            if not item[required]:
                problems.append(f"第 {n} 行：{required} 为空。")
        code, name = item["precinct_code"], item["precinct_name"]
        if code and name:
            if codes.setdefault(code, name) != name:
                problems.append(f"第 {n} 行：派出所代码 {code} 对应了两个名称（{codes[code]}、{name}）。")
            if names.setdefault(name, code) != code:
                problems.append(f"第 {n} 行：派出所 {name} 对应了两个代码（{names[name]}、{code}）。")
        item["row"] = n
        out.append(item)
    if problems:
        raise DirectoryError(problems)
    if not out:
        raise DirectoryError(["文件只有表头，没有数据行。"])
    return out


def load_directory(data: bytes, by=None) -> DirectoryResult:
    """Create or update precincts and communities; community officers named in the file get their accounts
    (created inactive by the accounts part, through `community_officers`).

    Loading the same file again changes nothing; a renamed precinct (same code) is renamed.
    Communities missing from a later file are kept, since cases refer to them.
    """
    rows = parse_directory(data)
    result = DirectoryResult()
    precincts = {p.code: p for p in db.session.scalars(db.select(Precinct))}
    problems = [p for found in results(directory_checking, rows, precincts=precincts) for p in found]
    if problems:
        raise DirectoryError(problems)
    named = []
    for item in rows:
        precinct = _upsert_precinct(item, precincts, result)
        community = _upsert_community(precinct, item["community"], result)
        if item["community_officer"]:
            named.append((item, precinct, community))
    for created, linked in results(community_officers, named):
        result.officers_created += created
        result.officers_linked += linked
    db.session.flush()
    record("directory_load", "directory", "", user=by, **{k: v for k, v in vars(result).items() if k != "notes"})
    return result


def _upsert_precinct(item: dict, precincts: dict, result: DirectoryResult) -> Precinct:
    precinct = precincts.get(item["precinct_code"])
    if precinct is None:
        precinct = Precinct(code=item["precinct_code"], name=item["precinct_name"])
        db.session.add(precinct)
        precincts[precinct.code] = precinct
        result.precincts_created += 1
    elif precinct.name != item["precinct_name"]:
        precinct.name = item["precinct_name"]
        result.precincts_updated += 1
    return precinct


def _upsert_community(precinct: Precinct, name: str, result: DirectoryResult) -> Community:
    for community in precinct.communities:
        if community.name == name:
            return community
    community = Community(name=name)
    precinct.communities.append(community)
    result.communities_created += 1
    return community
