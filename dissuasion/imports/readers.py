"""Reading a pushed file into rows of cells, whatever the center's software wrote.

What a file is comes from its content, not its name: an .xlsx is a zip holding a workbook, an
.xls an OLE2 compound file, a CSV is text. A file whose content does not match its name is refused.
Excel cells keep their types (a number typed into the ID column matters: its digits are lost).
"""
import html
import io
import posixpath
import re
import struct
import zipfile
from dataclasses import dataclass

import python_calamine
from flask_babel import lazy_gettext as _l

from ..core.cells import is_blank
from ..core.csvtext import UnreadableFile, decode_text
from ..core.csvtext import csv_rows as _csv_rows
from .bounds import MAX_CELL_CHARS, Bounds, CellExtent, NotXls, check_cells, column_number, sheet_extents
from .headers import find_header, missing_required


def csv_rows(data: bytes) -> list[list[str]]:
    """All rows of a CSV list: the delimiter is the one under which the list's header is found."""
    return _csv_rows(data, find_header)


XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass
class Table:
    """The rows of the first usable sheet. `first_row` is the Excel row number of rows[0]."""

    rows: list[list]
    first_row: int = 1
    sheet: str = ""
    kind: str = "csv"


def sniff(data: bytes) -> str:
    """xlsx, xls or text, from the first bytes."""
    if data.startswith(XLSX_MAGIC):
        return "xlsx"
    if data.startswith(XLS_MAGIC):
        return "xls"
    return "text"


def read_table(filename: str, data: bytes, max_rows: int, max_uncompressed: int) -> Table:
    """The file's rows; refuses empty files, files that are not what their name says, and oversize ones."""
    if not data or not data.removeprefix(b"\xef\xbb\xbf").strip() or data in (b"\xff\xfe", b"\xfe\xff"):
        raise EMPTY
    name = filename.lower()
    kind = sniff(data)
    if name.endswith((".xlsx", ".xlsm", ".xls")) and kind == "text":  # (.xls and .xlsx are read by their content)
        raise _not_excel(filename, data)
    if name.endswith((".csv", ".txt")) and kind != "text":
        raise UnreadableFile(_l("文件名是 %(name)s，但内容是 Excel 工作簿，不是 CSV。请把扩展名改回 .xlsx/.xls，"
                                "或在 Excel 中另存为 CSV。", name=filename))
    if kind == "text":
        rows = csv_rows(data)
        _check_row_count(sum(1 for row in rows if not is_blank(row)), max_rows)
        table = Table(rows=rows, kind="csv")
    else:
        if kind == "xlsx":
            _check_zip(data, max_uncompressed)
        table = _read_workbook(data, kind, max_rows)
    if all(is_blank(row) for row in table.rows):
        raise EMPTY
    return table


def _not_excel(filename: str, data: bytes) -> UnreadableFile:
    """An "Excel" file that is text: a web page's table (what many systems' 导出Excel writes), a text table, or
    neither; each is told how to become a file that can be imported."""
    head = data[:65536].lower()
    if b"<table" in head or b"<html" in head:
        return UnreadableFile(_l("文件名是 %(name)s，但内容是网页表格（HTML），不是真正的 Excel 文件（很多系统的“导出"
                                 "Excel”会这样导出）。请用 Excel 打开它，另存为 Excel 工作簿（.xlsx）后再导入。",
                                 name=filename))
    try:
        text = decode_text(data[:65536])
    except UnreadableFile:
        text = ""
    lines = text.splitlines()[:20]
    if any(line.count("\t") >= 2 or line.count(",") >= 2 for line in lines):
        return UnreadableFile(_l("文件名是 %(name)s，但内容是文本表格（以逗号或制表符分隔），不是 Excel 文件。请把文件"
                                 "扩展名改为 .csv 后导入，或用 Excel 打开后另存为 .xlsx。", name=filename))
    return UnreadableFile(_l("文件名是 %(name)s，但内容不是有效的 Excel 文件（可能已损坏或被改了扩展名）。"
                             "请用 Excel 打开确认后重新保存为 .xlsx。", name=filename))


EMPTY = UnreadableFile(_l("文件是空的，没有任何内容。请检查是否选错了文件。"))


#: A sheet whose used range (its <dimension>, or where its cells are) spans more cells than this is refused before it
#: is read: the reader holds the whole range in memory (32 bytes a cell: 16.7 million, an .xls's A1:IV65536, took
#: 512 MB), and a stray space in column XFD makes a 5,000-row list 82 million cells. 6 million is 200,000 rows of 30
#: columns (192 MB in the reader).
MAX_SHEET_CELLS = 6_000_000
_SHEET = re.compile(rb"<(?:[\w.-]+:)?sheet\b[^>]*>")
_RELATIONSHIP = re.compile(rb"<(?:[\w.-]+:)?Relationship\b[^>]*>")
#: An attribute, in either quotes, with or without spaces around its "=" (XML allows all of them).
_ATTR = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_DIMENSION_TAG = re.compile(rb"<(?:[\w.-]+:)?dimension\b[^>]*>")
_DIMENSION_REF = re.compile(rb"""\sref\s*=\s*["']\s*([A-Za-z]+)?(\d+)?(?::([A-Za-z]+)(\d+))?""")


def _attributes(tag: bytes) -> dict[bytes, bytes]:
    """A tag's attributes by name (the first of a name written twice, as the reader takes it)."""
    found: dict[bytes, bytes] = {}
    for name, double, single in _ATTR.findall(tag):
        found.setdefault(name, double or single)
    return found


def sheet_ranges(data: bytes) -> dict[str | None, tuple[str, int]]:
    """{sheet name: (its used range, cells in it)}: the larger of what its <dimension> says and where its cells
    really are. Streaming writers (Apache POI's, behind EasyExcel) write <dimension ref="A1"/> or none, and the
    reader makes room for every row and column up to the farthest cell: one value in XFD1048576 of a 5 KB file
    asked for 512 GB and killed the process. Every worksheet-like part of the archive is measured, not only those
    the workbook's relationships lead to as read here; under the key None, the largest of them all, for a sheet
    whose part was not found (the reader may follow a relationship written in a way this does not).
    Also refuses a shared string longer than Excel allows in a cell."""
    ranges: dict[str | None, tuple[str, int]] = {}
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        rels = archive.read("xl/_rels/workbook.xml.rels") if "xl/_rels/workbook.xml.rels" in names else b""
        targets, shared = {}, set()
        for tag in _RELATIONSHIP.findall(rels):
            attrs = _attributes(tag)
            targets.setdefault(attrs.get(b"Id", b""), _part_path(attrs))
            if attrs.get(b"Type", b"").endswith(b"/sharedStrings"):
                shared.add(_part_path(attrs))
        # the reader takes xl/sharedStrings.xml whatever the relationships say, its name in any case and with either
        # slash: every part it could take is counted (and checked as strings; not measured as a sheet below)
        shared = (shared & names) | {name for name in names if _SHARED_PART.fullmatch(name)}
        for path in sorted(shared):
            _check_shared_strings(archive, path)
        measured: dict[str, tuple[str, int]] = {}
        for tag in _SHEET.findall(archive.read("xl/workbook.xml")):
            attrs = _attributes(tag)
            rid = next((value for key, value in attrs.items() if key == b"id" or key.endswith(b":id")), b"")
            path = targets.get(rid)
            if path in names:
                name = html.unescape(attrs.get(b"name", b"").decode(errors="replace"))  # &amp; read as &
                measured[path] = ranges[name] = _range(archive, path)
        for path in sorted(names - set(measured) - shared):  # parts no sheet led to here: measured all the same
            if path.endswith(".xml") and not path.startswith(("[", "docProps/", "_rels/")):
                measured[path] = _range(archive, path)
        if measured:
            ranges[None] = max(measured.values(), key=lambda found: found[1])
    return ranges


def _range(archive: zipfile.ZipFile, path: str) -> tuple[str, int]:
    """(A1:<farthest>, cells from A1 to it) of a worksheet part (_extent, widened by its <dimension>)."""
    rows, columns, match = _extent(archive, path)
    if match and match.group(3):  # a range (A1:P5000), not a cell (POI's A1): its columns A to Z are known
        rows = max(rows, int(match.group(4)) - int(match.group(2) or 1) + 1)
        columns = max(columns or 1, column_number(match.group(3)) - column_number(match.group(1) or b"A") + 1)
    else:
        columns = columns or 26  # as wide as Z, for all the references said
    return f"A1:{_column_letters(columns)}{rows}", max(rows, 1) * max(columns, 1)


_CHUNK = 1 << 20
#: The shared-strings part as the reader finds it: xl/sharedStrings.xml, in any case, with / or \.
_SHARED_PART = re.compile(r"xl[/\\]sharedstrings\.xml", re.IGNORECASE)


def _part_path(relationship: dict) -> str:
    """A workbook relationship's part, as the archive names it (targets are relative to xl/ unless absolute)."""
    target = relationship.get(b"Target", b"").decode(errors="replace")
    return posixpath.normpath(target.lstrip("/") if target.startswith("/") else "xl/" + target)


def _chunks(archive: zipfile.ZipFile, path: str, overlap: int = 64):
    """The member's bytes in pieces of a megabyte, each starting with the last `overlap` bytes of the one before
    (what is cut in two is whole in one of them); never the whole inflated sheet at once."""
    tail = b""
    with archive.open(path) as f:
        while chunk := f.read(_CHUNK):
            piece = tail + chunk
            yield piece
            tail = piece[-overlap:]


def _extent(archive: zipfile.ZipFile, path: str) -> tuple[int, int, re.Match | None]:
    """(last row, last column, <dimension>) of the worksheet: where the reader will place its farthest cell (the
    column 0 when all are within A to Z; see bounds.CellExtent), and its stated range, found near its start. On the
    way, a cell's text or a row past its bound is refused (bounds.Bounds, bounds.check_cells)."""
    dimension, overlap = None, 4 * MAX_CELL_CHARS + 16
    bounds, extent = Bounds(path), CellExtent()
    for number, piece in enumerate(_chunks(archive, path, overlap=overlap)):
        fresh = piece if number == 0 else piece[overlap:]
        bounds.feed(fresh)
        check_cells(piece)
        if number == 0:
            head = _DIMENSION_TAG.search(piece, 0, 4096)
            dimension = head and _DIMENSION_REF.search(head.group(0))
        extent.feed(piece, fresh)
    return extent.rows, (extent.columns if extent.columns > 26 else 0), dimension


#: The reader builds every shared string of a workbook before any cell is read (about 55 bytes each, however short:
#: 25 million one-letter strings, a 1 MB file, took 1.5 GB). A list of 200,000 rows holds far fewer distinct texts.
MAX_SHARED_STRINGS = 2_000_000
#: A shared string's tag (a namespace prefix allowed: the reader goes by the local name).
_SHARED_STRING = re.compile(rb"<(?:[\w.-]+:)?si(?=[\s/>])")


def _check_shared_strings(archive: zipfile.ZipFile, path: str) -> None:
    # a run of text starting in a piece's last 4 x 32,767 bytes is seen again, from its start, in the next piece
    overlap = 4 * MAX_CELL_CHARS + 16
    bounds, strings = Bounds(path), 0
    for number, piece in enumerate(_chunks(archive, path, overlap=overlap)):
        bounds.feed(piece if number == 0 else piece[overlap:])
        check_cells(piece)
        strings += sum(1 for _tag in _SHARED_STRING.finditer(piece, 0 if number == 0 else overlap))
        if strings > MAX_SHARED_STRINGS:
            raise UnreadableFile(_l("工作簿里有超过 %(n)s 条不同的文字，远多于一份名单所需，不是正常的名单文件。"
                                    "请用 Excel 打开后只保留名单所在的工作表，另存为新的 .xlsx 再导入。",
                                    n=f"{MAX_SHARED_STRINGS:,}"))


def _xls_ranges(data: bytes) -> dict[str, tuple[str, int]]:
    """sheet_ranges for an .xls, from its records (bounds.sheet_extents); a compound file the scanner cannot follow
    is left to the reader, which refuses what it cannot read."""
    try:
        extents = sheet_extents(data)
    except (NotXls, struct.error):
        return {}
    return {name: (f"A1:{_column_letters(max(columns, 1))}{max(rows, 1)}", max(rows, 1) * max(columns, 1))
            for name, rows, columns in extents}


def _check_ranges(ranges: dict[str, tuple[str, int]]) -> None:
    """Refuse a workbook any of whose sheets spans more cells than the reader may hold (MAX_SHEET_CELLS)."""
    for name, (ref, cells) in ranges.items():
        if cells > MAX_SHEET_CELLS:
            raise UnreadableFile(_l(
                "工作表“%(sheet)s”的使用范围是 %(ref)s（约 %(cells)s 个单元格），远大于名单本身：通常是名单右侧"
                "或下方很远处的某个单元格里有空格或格式。请在 Excel 中删除名单右侧的所有空列和下方的所有空行，"
                "保存后重新导入。", sheet=name, ref=ref, cells=f"{cells:,}"))


def _column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _check_zip(data: bytes, max_uncompressed: int) -> None:
    """Refuse a zip that would inflate past the limit before any XML parser sees it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise UnreadableFile(_l("文件不是有效的 .xlsx 工作簿（压缩包已损坏）。请用 Excel 打开后重新保存。")) from exc
    if "xl/workbook.xml" not in names:
        raise UnreadableFile(_l("压缩包里没有 Excel 工作簿，不是 .xlsx 文件。"))
    if total > max_uncompressed:
        raise UnreadableFile(_l("工作簿解压后有 %(mb)s MB，超过上限 %(limit)s MB。请把名单拆成几个文件分别导入。",
                                mb=total // 2**20, limit=max_uncompressed // 2**20))


def _check_row_count(count: int, max_rows: int) -> None:
    """A coarse guard while reading (title and footer rows included); the pipeline counts the data rows exactly."""
    if count > max_rows + 50:
        raise UnreadableFile(_l("文件超过 %(limit)s 行的上限。请把名单拆成几个文件分别导入。", limit=f"{max_rows:,}"))


def _read_workbook(data: bytes, kind: str, max_rows: int) -> Table:
    """The visible worksheet that has the list's header (an instructions sheet or an empty Sheet1 may come first);
    when none has, the first one, so the pipeline can say the header is missing. Two sheets with a list on each
    (高风险 and 中低风险) are refused: importing one would drop the other's warnings without a word."""
    with_data: list[Table] = []
    header_only: list[Table] = []  # a template's header with nothing under it
    partial: list[Table] = []  # warning numbers listed under a header that lacks another required column
    partial_empty: list[Table] = []  # some known columns, no list: drop-down values, a summary, an empty one
    examples: list[Table] = []  # a 填写示例 or 说明 sheet with a row or two of example
    try:
        # before the reader opens the book: it reads every shared string as it opens
        # (an .xls's sheets: the reader builds them all as it opens)
        ranges = sheet_ranges(data) if kind == "xlsx" else _xls_ranges(data)
        if kind == "xls":
            _check_ranges(ranges)
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [m.name for m in book.sheets_metadata if str(m.visible).endswith("Visible")
                  and str(m.typ).endswith("WorkSheet")] or book.sheet_names
        if not sheets:
            raise UnreadableFile(_l("工作簿里没有工作表。"))
        first = None
        for name in sheets:
            if kind == "xlsx":  # an .xlsx's sheets are built one by one, as they are read: the hidden ones never
                _check_ranges({name: ranges[name] if name in ranges else ranges[None]} if ranges else {})
            sheet = book.get_sheet_by_name(name)
            rows, top = _sheet_rows(sheet, max_rows)
            table = Table(rows=rows, first_row=top + 1, sheet=sheet.name, kind=kind)
            header = find_header(table.rows)
            if header is not None:
                has_data = any(not is_blank(row) for row in table.rows[header.index + header.rows_used:])
                if missing_required(header):  # a list lacking a required column, or a 下拉选项 or 汇总 sheet
                    listed = has_data and "warning_id" in header.columns
                    (partial if listed else partial_empty).append(table)
                elif has_data and _example(table, header):
                    examples.append(table)
                else:
                    (with_data if has_data else header_only).append(table)
            first = first or table
    except UnreadableFile:
        raise
    except BaseException as exc:  # calamine raises many kinds, all meaning "cannot read"; its panics (pyo3's
        if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":  # PanicException) are not
            raise  # Exceptions, and must not end the process either; KeyboardInterrupt and SystemExit go on
        raise UnreadableFile(_l("无法读取这个 Excel 文件（可能已损坏、加密或不是名单）。"
                                "请用 Excel 打开确认后重新保存。")) from exc
    if not (with_data or partial or header_only):
        with_data = examples  # the example is all there is: it is read (and its rows judged) like any list
    if len(with_data) > 1:
        names = "、".join(f"“{t.sheet}”" for t in with_data)
        raise UnreadableFile(_l("工作簿中有 %(n)s 个工作表都是预警名单（%(names)s），一次只能导入一个工作表。"
                                "请把它们合并到同一个工作表，或分别另存为单独的文件后逐个导入。",
                                n=len(with_data), names=names))
    # a list lacking a required column is the one to name what is missing, before a template's empty header
    return (with_data or partial or header_only or partial_empty or [first])[0]


#: Sheet names of what a template keeps beside its list: its instructions or an example filled in.
_EXAMPLE_SHEET = re.compile(r"说明|示例|样例|范例|example|readme|help", re.IGNORECASE)
#: An example sheet shows a row or two; a sheet with more is a list whatever its name.
EXAMPLE_ROWS = 3


def _example(table: Table, header) -> bool:
    if not _EXAMPLE_SHEET.search(table.sheet):
        return False
    rows = table.rows[header.index + header.rows_used:]
    return sum(1 for row in rows if not is_blank(row)) <= EXAMPLE_ROWS


def _sheet_rows(sheet, max_rows: int) -> tuple[list[list], int]:
    """The sheet's rows, vertically merged cells filled down, and the 0-based sheet row of the first. Empty rows are
    kept (row numbers stay Excel's), as one shared empty list each, so a sheet stated a million rows high costs
    little."""
    rows, filled = [], 0
    for row in sheet.iter_rows():
        if any(cell not in ("", None) for cell in row):
            filled += 1
            rows.append(row)
            _check_row_count(filled, max_rows)
        else:
            rows.append(_EMPTY_ROW)
    # calamine's rows begin at the sheet's first row (A1's) or at its used range's, by version and format: the
    # count tells which, so row numbers stay the ones Excel shows when a sheet's first rows are empty
    top = max(sheet.end[0] + 1 - len(rows), 0) if sheet.end and sheet.start else 0
    width = max(map(len, rows), default=0)
    left = sheet.start[1] if sheet.start and sheet.end and width == sheet.end[1] + 1 - sheet.start[1] else 0
    while rows and rows[-1] is _EMPTY_ROW:
        rows.pop()
    _fill_merged_down(sheet, rows, top, left)
    return rows, top


_EMPTY_ROW: list = []


def _fill_merged_down(sheet, rows: list[list], top: int, left: int) -> None:
    """Excel keeps a merged area's value in its top-left cell only; a list grouped by precinct or community merges
    that column over the group's rows. Each row of such a merge gets the value (in the merge's first column: a
    merge across columns spans fields, and the value belongs to the first)."""
    for (r0, c0), (r1, _c1) in sheet.merged_cell_ranges or ():
        i0, column = r0 - top, c0 - left
        if r1 <= r0 or not 0 <= i0 < len(rows) or column < 0 or column >= len(rows[i0]):
            continue
        value = rows[i0][column]
        for i in range(i0 + 1, min(r1 - top + 1, len(rows))):
            if rows[i] is not _EMPTY_ROW and column < len(rows[i]) and rows[i][column] in ("", None):
                rows[i][column] = value
