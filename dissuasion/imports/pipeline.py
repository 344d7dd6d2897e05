"""The import pipeline: read, find the header, judge every row, then write the push in one transaction.

`analyse` reads and judges without writing (the preview uses it); `import_file` and `import_rows`
write. Nothing here commits: the view, the CLI command or the API endpoint commits once, or rolls
back, so a push that fails half-way leaves the database as it was.
"""
import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import flask_babel
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..cases.merge import MERGE_LOCK, merge_warnings, stored_warning_names
from ..cases.models import Case
from ..cases.operations import announce
from ..core import cells
from ..core.auditlog import record
from ..core.bulk import bulk_insert, gc_paused, in_values
from ..core.database import holds_write_lock, serialize
from ..core.enums import WarningSource
from ..core.parallel import Forked
from ..core.timeutil import from_local, local
from ..directory.models import Precinct
from ..directory.routing import Router
from ..extensions import db
from ..privacy.pii import encrypt
from .headers import (
    LABELS,
    MIN_KNOWN_HEADERS,
    REQUIRED,
    HeaderMatch,
    find_header,
    lookup,
    match_row,
    missing_message,
    missing_required,
)
from .models import COUNTERS, Push, PushRowError
from .readers import MAX_CELL_CHARS, Table, UnreadableFile, read_table
from .routing import route_rows
from .rows import (
    DUPLICATE,
    REJECTED,
    UNROUTED,
    Problem,
    RowChecker,
    RowResult,
    column_label,
    is_not_a_record,
    is_totals,
    pack,
    sentence,
    spec,
    unpack,
)

#: progress(stage, done, total): told at each stage's start and end, and every JUDGE_EVERY rows while judging (a job
#: shows it to the user: jobs/progress.py). Stages: read, judge, write, persons, cases, warnings (cases/merge.py).
Progress = Callable[[str, int, int], None] | None
JUDGE_EVERY = 2000


class ImportRefused(ValueError):
    """The whole file is refused and nothing is written; the message says why and what to do (lazy: in the user's
    language on a page, Chinese for the CLI and the API)."""


@dataclass
class Analysis:
    """A file read and judged, before anything is written."""

    filename: str
    sha256: str
    header: HeaderMatch
    header_row: int
    results: list[RowResult]
    kind: str = "csv"
    #: The worksheet read (a workbook's first one with the list's header); "" for CSV and JSON.
    sheet: str = ""

    def counts(self) -> dict[str, int]:
        accepted = [r for r in self.results if r.verdict not in (REJECTED, DUPLICATE)]
        return {"rows_total": len(self.results), "imported": len(accepted),
                "flagged": sum(1 for r in accepted if r.flags),
                "rejected": sum(1 for r in self.results if r.verdict == REJECTED),
                "duplicates": sum(1 for r in self.results if r.verdict == DUPLICATE),
                "unrouted": sum(1 for r in accepted if r.verdict == UNROUTED)}

    def errors(self) -> list[dict]:
        """Every problem found, in row order, as SPEC's {row, column, code, message}."""
        out = []
        for r in self.results:
            for p in r.problems:
                values = spec(p)
                out.append({"row": r.row_number, "column": column_label(p, self.header.headers, self.header.columns),
                            "code": str(p.code), "message": sentence(values), "say": values, "verdict": p.verdict})
        return out


@dataclass
class ImportSummary:
    """The JSON of SPEC "Fixed points": what an import did."""

    status: str
    message: str
    counters: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    errors: list[dict] = field(default_factory=list)
    push_id: int | None = None

    def as_json(self) -> dict:
        return {"status": self.status, "message": self.message, **self.counters, "push_id": self.push_id,
                "errors": [{k: e[k] for k in ("row", "column", "code", "message")} for e in self.errors]}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@gc_paused
def analyse(filename: str, data: bytes, progress: Progress = None) -> Analysis:
    """Read a file and judge every row (duplicates and routing included); writes nothing."""
    config = current_app.config
    if progress:
        progress("read", 0, len(data))
    try:
        table = read_table(filename, data, config["IMPORT_MAX_ROWS"], config["IMPORT_MAX_UNCOMPRESSED"])
    except UnreadableFile as exc:
        raise ImportRefused(*exc.args) from exc
    return judge(filename, sha256(data), table, progress)


def judge(filename: str, digest: str, table: Table, progress: Progress = None) -> Analysis:
    header = find_header(table.rows)
    if header is None:
        raise ImportRefused(_l("找不到表头：前 20 行中没有一行包含至少 3 个已知列名（如 预警编号、姓名、身份证号、"
                               "风险等级）。这可能不是预警名单，请检查是否选错了文件或工作表。"))
    if missing := missing_required(header):
        raise ImportRefused(missing_message(missing))
    check_row = RowChecker(header.columns, header.also, header.headers)
    max_rows = current_app.config["IMPORT_MAX_ROWS"]
    start = header.index + header.rows_used
    width = _csv_width(table, header, start)
    rows = _RowsJudged(table, header, check_row, width, max_rows)
    to_judge = len(table.rows) - start
    end = len(table.rows)
    if end - start >= PARALLEL_ROWS and current_app.config["IMPORT_JUDGE_PROCESSES"] > 1:
        # the last rows on the other core, while this process judges the first
        share = CHILD_SHARE if table.kind in ("csv", "json") else WORKBOOK_CHILD_SHARE
        middle = start + int((end - start) * (1 - share))
        shared: dict = {}

        def receive(piece) -> tuple[list[RowResult], list[tuple[RowResult, int]]]:
            offsets, packed, shifted = piece
            more = unpack(packed, [table.rows[offset] for offset in offsets], shared)
            return more, [(more[i], extra) for i, extra in shifted]
        other = Forked(rows.packed, middle, end, receive=receive)
        try:
            results, maybe_shifted = rows(start, middle, progress, to_judge)
            pieces = other.result()
        finally:
            other.cancel()
        for more, more_shifted in pieces:
            results += more
            maybe_shifted += more_shifted
        if len(results) > max_rows:
            raise _too_many(max_rows)
    else:
        results, maybe_shifted = rows(start, end, progress, to_judge)
    if not results:
        raise ImportRefused(_l("文件只有表头，没有任何数据行。请确认导出的名单里有人员。"))
    analysis = Analysis(filename=filename, sha256=digest, header=header, header_row=table.first_row + header.index,
                        results=results, kind=table.kind, sheet=table.sheet if table.kind in ("xlsx", "xls") else "")
    _mark_duplicates(analysis)
    _same_id_other_name(analysis.results)
    route_rows(Router.load(), analysis.results)
    for result, extra in maybe_shifted:
        if result.problems and result.verdict != DUPLICATE:  # its cells say wrong things (a word for an amount,
            # a place not known): shifted
            _shifted(result, extra)
    for r in results:
        if not r.problems:
            r.raw = []  # only rows with problems go into the error report; a big push holds less
    if progress:
        progress("judge", to_judge, to_judge)
    return analysis


#: With IMPORT_JUDGE_PROCESSES = 2, a file with this many rows or more is judged on two cores (a forked child judges
#: the last rows); below it starting the child costs more than it saves. Off by default (1): on this project's
#: 2-core machine, once each text is read once per file (RowChecker.memo), the copy-on-write faults of forking a
#: 300 MB process and sending the rows back cost more than the child saves (100,000 CSV rows: analyse 1.6-1.7 s on
#: one process, 2.0-2.2 s on two; XLSX 3.7 s and 3.9 s).
PARALLEL_ROWS = 5000
#: The child's share of the rows: less than half, since its rows cost it more (copying the pages it touches, and
#: pickling its results) and cost this process their unpickling (100,000 rows on 2 cores: 1.5 s serial, about
#: 1.0 s split 60/40).
CHILD_SHARE = 0.4
#: A workbook's: smaller, for memory. The child's copy of the pages it touches is larger there (a workbook's cells
#: are numbers and dates as well as text), and 40% took the two processes to 500 MB at 100,000 rows.
WORKBOOK_CHILD_SHARE = 0.25


def _too_many(max_rows: int) -> ImportRefused:
    return ImportRefused(_l("数据行超过 %(limit)s 行的上限。请把名单拆成几个文件分别导入。", limit=f"{max_rows:,}"))


class _RowsJudged:
    """Judging the data rows table.rows[begin:end] of one file: the rows that are not records are skipped, a
    CSV row with more cells than the file's width is shifted (or may be: `maybe_shifted`, decided after routing)."""

    def __init__(self, table: Table, header: HeaderMatch, check_row: RowChecker, width: int, max_rows: int):
        self.table, self.check_row, self.width, self.max_rows = table, check_row, width, max_rows
        self.warning_column, self.name_column = header.columns["warning_id"], header.columns.get("name")

    def __call__(self, begin: int, end: int, progress: Progress = None,
                 total: int = 0) -> tuple[list[RowResult], list[tuple[RowResult, int]]]:
        """`progress` is told every JUDGE_EVERY rows (this process only: a forked child tells nobody)."""
        results, maybe_shifted = [], []
        rows, first_row, check_row, width = self.table.rows, self.table.first_row, self.check_row, self.width
        warning_column, name_column, max_rows = self.warning_column, self.name_column, self.max_rows
        for offset in range(begin, end):
            if progress and (offset - begin) % JUDGE_EVERY == 0:
                progress("judge", offset - begin, total)
            row = rows[offset]
            number = row[warning_column] if warning_column < len(row) else None
            if not (number.__class__ is str and number.isascii() and number.strip()
                    and number.strip().lower() != "warning_id"):  # (a warning number: a record, every data row)
                if (cells.is_blank(row) or is_totals(row, warning_column) or _repeated_header(row, warning_column)
                        or is_not_a_record(row, warning_column, name_column)):
                    continue
            result = check_row(row, first_row + offset)
            if width and len(row) > width:
                if any(c.strip() for c in row[width:]):
                    _shifted(result, len(row) - width)
                else:  # only empty cells beyond: a stray comma at the end, or a shift that pushed an empty 备注 out
                    maybe_shifted.append((result, len(row) - width))
            results.append(result)
            if len(results) > max_rows:
                raise _too_many(max_rows)
        return results, maybe_shifted

    def packed(self, begin: int, end: int):
        """The same, as plain values for the process that asked, a piece of PIECE_ROWS rows at a time: each judged
        row's offset in the table, the results packed (rows.pack), and (the index in those, extra cells) for each
        row that may be shifted."""
        first_row = self.table.first_row
        for piece in range(begin, end, PIECE_ROWS):
            results, maybe_shifted = self(piece, min(piece + PIECE_ROWS, end))
            position = {id(r): i for i, r in enumerate(results)}
            yield ([r.row_number - first_row for r in results], pack(results),
                   [(position[id(r)], extra) for r, extra in maybe_shifted])


#: The child sends its judged rows in pieces of this many, so that it never holds them all.
PIECE_ROWS = 4000


def _shifted(result: RowResult, extra: int) -> None:
    """A CSV row whose columns a comma typed into a cell has shifted: rejected; what else its shifted cells seem to
    say wrong is beside the point."""
    result.problems = [Problem("", "shifted", str(extra), REJECTED)]
    result.verdict = REJECTED


def _csv_width(table: Table, header: HeaderMatch, start: int) -> int:
    """How many cells a CSV's rows have: its header's, or more where nearly every row has more (an export that ends
    each line with a comma). A row with more cells than that has its columns shifted, by a comma typed into a cell
    without quotes; 0 for other files."""
    if table.kind != "csv":
        return 0
    lengths = Counter(len(row) for row in table.rows[start:] if row)
    common = lengths.most_common(1)[0][0] if lengths else 0
    return max(len(header.headers), common)


def _repeated_header(row: list, warning_column: int) -> bool:
    """The header again further down (an export that repeats it on every printed page): not a data row."""
    cell = row[warning_column] if warning_column < len(row) else None
    if not isinstance(cell, str) or (cell.isascii() and cell.strip().lower() != "warning_id"):  # (every row)
        return False
    found = lookup(cell)
    return found is not None and found[0] == "warning_id" and len(match_row(row).columns) >= MIN_KNOWN_HEADERS


def _mark_duplicates(analysis: Analysis) -> None:
    """A 预警编号 already stored, or seen on an earlier row of this file, is a duplicate (SPEC). When that number
    belongs to someone else (another name), the message says so: the column may hold a serial number (编号 1, 2, 3
    on every day's list), and the rows skipped are then real warnings."""
    live = [r for r in analysis.results if r.verdict != REJECTED]
    stored = stored_warning_names([r.warning_no for r in live])
    first: dict[str, RowResult] = {}
    for r in live:
        if r.warning_no in stored:
            r.verdict = DUPLICATE
            r.problems = [Problem("warning_id", "duplicate", r.warning_no, DUPLICATE,
                                  other=_someone_else(stored[r.warning_no], r.name))]
        elif (earlier := first.get(r.warning_no)) is not None:
            r.verdict = DUPLICATE
            r.problems = [Problem("warning_id", "duplicate", r.warning_no, DUPLICATE, earlier.row_number,
                                  other=_someone_else(earlier.name, r.name))]
        else:
            first[r.warning_no] = r


def _same_id_other_name(results: list[RowResult]) -> None:
    """Rows with one valid ID number and different names are one person (SPEC: the ID identifies); the name of the
    later row would replace the earlier one without a word, so the later row says which row and name it differs
    from."""
    first: dict[str, RowResult] = {}
    for r in results:
        if r.verdict in (REJECTED, DUPLICATE) or not r.id_valid or not r.name:
            continue
        earlier = first.setdefault(r.id_number, r)
        if earlier is not r and earlier.name != r.name:
            r.problems.append(Problem("name", "same_id_other_name", r.name, "note", earlier.row_number,
                                      other=earlier.name))


def _someone_else(name: str | None, this: str) -> str:
    """The other person's name when it is not this row's (both given, and different)."""
    return name if name and this and name != this else ""


@gc_paused
def import_file(filename: str, data: bytes, by=None, source: WarningSource = WarningSource.PUSH,
                progress: Progress = None) -> ImportSummary:
    """Import a pushed file; the same file (sha256) again changes nothing."""
    digest = sha256(data)
    if (earlier := earlier_push(digest)) is not None:
        return duplicate_file(earlier, filename, by)
    locked = holds_write_lock()  # SQLite: since earlier_push began this transaction; the judging's reads stay true
    return write(analyse(filename, data, progress), by, source, progress, judged_under_lock=locked)


@gc_paused
def import_rows(rows: list[dict], by=None, source: WarningSource = WarningSource.API,
                progress: Progress = None) -> ImportSummary:
    """Import JSON rows (the API): the same contract as a file, with English field names as the header."""
    if not isinstance(rows, list) or not rows or not all(isinstance(r, dict) for r in rows):
        raise ImportRefused("rows 必须是一个非空的对象数组，每个对象是一条预警（字段见 /api/v1/openapi.json）。")
    if len(rows) > (limit := current_app.config["IMPORT_MAX_ROWS"]):
        raise ImportRefused(f"rows 有 {len(rows):,} 条，超过每次 {limit:,} 条的上限。请分几次推送。")
    fields = list(LABELS)
    if not any(f in r for r in rows for f in fields):
        raise ImportRefused("rows 中的对象没有任何可识别的字段。请使用英文字段名（必填 warning_id、tier，另有 name、"
                            "id_number、phone 等，见 /api/v1/openapi.json），不要用中文列名。")
    if unknown := sorted(set().union(*rows) - set(fields)):  # a misnamed field would be dropped without a word
        shown = "、".join(unknown[:10]) + ("等" if len(unknown) > 10 else "")
        raise ImportRefused(f"rows 中有无法识别的字段：{shown}。可用的字段：{'、'.join(fields)}"
                            "（见 /api/v1/openapi.json）。请改正字段名后重新推送。")
    if missing := [f for f in REQUIRED if not any(f in r for r in rows)]:
        raise ImportRefused(f"rows 中没有必填字段 {'、'.join(missing)}：每条预警都需要中心的预警编号（warning_id）和"
                            "风险等级（tier）。请补上后重新推送。")
    for number, r in enumerate(rows, start=1):
        for f in fields:
            if isinstance(r.get(f), list | dict):
                raise ImportRefused(f"第 {number} 条的 {f} 是数组或对象；每个字段须为文字、数字或 null。")
            if isinstance(r.get(f), str) and len(r[f]) > MAX_CELL_CHARS:
                raise ImportRefused(f"第 {number} 条的 {f} 有 {len(r[f]):,} 个字符，超过一个字段 {MAX_CELL_CHARS:,} "
                                    "个字符的上限（与 Excel 一格相同）。请删去过长的内容后重新推送。")
    digest = sha256(rows_body(rows))
    if (earlier := earlier_push(digest)) is not None:
        return duplicate_file(earlier, "api.json", by)
    table = Table(rows=[fields] + [[_json_cell(f, r.get(f)) for f in fields] for r in rows], first_row=0, kind="json")
    locked = holds_write_lock()
    return write(judge("api.json", digest, table, progress), by, source, progress, judged_under_lock=locked)


def rows_body(rows: list[dict]) -> bytes:
    """JSON rows as one canonical text (keys sorted): what their push's sha256 is taken of, and what an API push
    kept for a worker holds, so the same rows are the same file whatever order a client wrote their keys in."""
    return json.dumps(rows, ensure_ascii=False, sort_keys=True, default=str).encode()


def _json_cell(field_: str, value):
    """A JSON value as a cell: JSON integers are exact (an ID or phone sent as a number keeps every digit, unlike
    an Excel number cell), and a number is no time (Excel's day serials mean nothing in JSON)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if field_ == "pushed_at" and isinstance(value, float):
        return repr(value)
    return value


def earlier_push(digest: str) -> Push | None:
    """The push this same file (by its sha256) already made, if any: the same file twice changes nothing."""
    return db.session.scalar(select(Push).filter_by(sha256=digest))


def duplicate_file(earlier: Push, filename: str, by) -> ImportSummary:
    """What importing a file that `earlier` already imported says (and records): nothing changed."""
    when = local(earlier.created_at).strftime("%Y-%m-%d %H:%M")
    record("import", "push", earlier.id, user=by, file_name=filename, status="duplicate_file")
    return ImportSummary(status="duplicate_file", push_id=earlier.id,
                         message=f"这个文件已于 {when} 导入过（批次 #{earlier.id}），本次没有任何改动。")


def write(analysis: Analysis, by=None, source: WarningSource = WarningSource.PUSH,
          progress: Progress = None, judged_under_lock: bool = False) -> ImportSummary:
    """Write a judged file: the push, its warnings, persons and cases, its row errors, the notifications.
    `judged_under_lock`: the analysis was made in this transaction with the write lock held since before it
    (core.database.holds_write_lock), so the numbers it found stored are still all that are."""
    serialize(MERGE_LOCK)  # pushes take turns; the same file committed twice at once is then seen as a duplicate
    if (earlier := earlier_push(analysis.sha256)) is not None:
        return duplicate_file(earlier, analysis.filename, by)
    if not judged_under_lock:
        _mark_duplicates(analysis)  # again, under the lock: another push may have stored some of these numbers since
    push = Push(file_name=analysis.filename[:255], sha256=analysis.sha256, source=source,
                uploaded_by_id=by.id if by else None, header_row=analysis.header_row, headers=analysis.header.headers,
                column_map=_column_map(analysis.header))
    db.session.add(push)
    db.session.flush()
    accepted = [r for r in analysis.results if r.verdict not in (REJECTED, DUPLICATE)]
    for r in accepted:  # the rows become the warnings: times to UTC, and where they came from
        r.pushed_at = from_local(r.pushed_at) if r.pushed_at else None
        r.source = source
    if progress:
        progress("write", 0, len(accepted))
    merged = merge_warnings(accepted, by=by, push_id=push.id, checked=True, progress=progress)
    _settle_unrouted(accepted, merged.case_ids)
    _note_where_they_went(accepted, merged)
    counts = analysis.counts() | {"persons_created": merged.persons_created, "cases_created": merged.cases_created,
                                  "cases_updated": merged.cases_updated, "cases_escalated": merged.cases_escalated}
    for name, value in counts.items():
        setattr(push, name, value)
    errors = analysis.errors()
    _store_errors(push.id, analysis)
    announce(merged)
    db.session.flush()
    if progress:
        progress("write", len(accepted), len(accepted))
    record("import", "push", push.id, user=by, file_name=push.file_name, status="committed",
           **{k: counts[k] for k in ("rows_total", "imported", "rejected", "duplicates")})
    with flask_babel.force_locale("zh_CN"):  # the CLI's and the API's words (the push page says its own)
        message = committed_message(counts)
    return ImportSummary(status="committed", counters=counts, errors=errors, push_id=push.id, message=message)


def _settle_unrouted(rows: list[RowResult], case_ids: list[int | None]) -> None:
    """A row naming no precinct of the directory is unrouted (SPEC's verdict, counted as 待分派), but its warning
    waits in the center's queue only when its person's case does: a row that joined a case another warning of
    theirs routed (in this file or before) says where it went instead."""
    waiting = {case_id for r, case_id in zip(rows, case_ids, strict=True) if r.verdict == UNROUTED and case_id}
    if not waiting:
        return
    routed = dict(db.session.execute(select(Case.id, Precinct.name).join(Precinct, Case.precinct_id == Precinct.id)
                                     .where(in_values(Case.id, waiting))).all())
    for r, case_id in zip(rows, case_ids, strict=True):
        if r.verdict == UNROUTED and case_id in routed:
            for problem in r.problems:
                if problem.verdict == UNROUTED:
                    problem.joined = routed[case_id]


def _note_where_they_went(rows: list[RowResult], merged) -> None:
    """What the merge did that a row does not say: its warning joined its person's case in another precinct than
    the row names (one open case a person: SPEC), or its person, known by the same valid ID, was stored under
    another name and now has this row's."""
    names = None
    for r, case_id, person_id in zip(rows, merged.case_ids, merged.person_ids, strict=True):
        if person_id in merged.renamed and r.name and r.name != merged.renamed[person_id]:
            r.problems.append(Problem("name", "renamed", r.name, "note", other=merged.renamed[person_id]))
        news = merged.news.get(case_id)
        if r.precinct is not None and news is not None and news[1] not in (None, r.precinct.id):
            if names is None:
                names = dict(db.session.execute(select(Precinct.id, Precinct.name)).all())
            r.problems.append(Problem("precinct", "case_elsewhere", r.precinct_text, "note", other=names[news[1]]))


def _column_map(header) -> dict[str, str]:
    """Our field's label -> the file's header(s) it was read from, as the push page shows them."""
    found: dict[str, list[str]] = {}
    for written, label in header.mapping():
        found.setdefault(label, []).append(written)
    return {label: "、".join(written) for label, written in found.items()}


def committed_message(c: dict) -> str:
    """What a committed push did, in the current language: the push page says it in the user's; the CLI and the
    API give it in Chinese (write)."""
    text = _("已导入 %(imported)d 条预警（共 %(rows)d 行）：新建任务 %(created)d 件，更新 %(updated)d 件。",
             imported=c["imported"], rows=c["rows_total"], created=c["cases_created"], updated=c["cases_updated"])
    parts = [_("拒收 %(n)d 行", n=c["rejected"]) if c["rejected"] else "",
             _("数据有问题 %(n)d 行", n=c["flagged"]) if c["flagged"] else "",
             _("重复 %(n)d 行", n=c["duplicates"]) if c["duplicates"] else "",
             _("待分派 %(n)d 行", n=c["unrouted"]) if c["unrouted"] else ""]
    if parts := [p for p in parts if p]:
        text += _("其中%(parts)s，详见错误报告。", parts=_("，").join(parts))
    return text


def _store_errors(push_id: int, analysis: Analysis) -> None:
    rows = []
    for r in analysis.results:
        if not r.problems:
            continue
        raw = {"enc": encrypt(json.dumps([_raw_text(c) for c in r.raw], ensure_ascii=False))}
        for p in r.problems:  # the row's cells are kept once, with its first problem (the report reads them there)
            values = spec(p)
            rows.append({"push_id": push_id, "row_number": r.row_number, "verdict": p.verdict, "code": str(p.code),
                         "column": column_label(p, analysis.header.headers, analysis.header.columns)[:100],
                         "message": sentence(values), "say": values, "raw": raw})
            raw = {}
    bulk_insert(PushRowError.__table__, rows)


def _raw_text(cell) -> str:
    """A cell as the error report gives it back: text exactly as the file had it (full-width brackets and spaces
    too), a number without Excel's .0, a date cell as a date."""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, dt.datetime | dt.date):
        return cell.isoformat(sep=" ") if isinstance(cell, dt.datetime) else cell.isoformat()
    return cells.text(cell)

