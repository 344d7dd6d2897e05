"""Bounds on a workbook, checked on its raw parts before the reader (calamine) builds anything from them.

.xlsx: a cell's text (or a shared string) longer than Excel allows, and a worksheet row past MAX_ROW_BYTES, found
while the parts are streamed (Bounds, check_cells). .xls (BIFF8 in an OLE2 compound file): how far each
worksheet's cells reach, read from the records before the reader builds the workbook. The reader makes room for
every cell from A1 to the farthest one: a 6 KB file with one number in A1 and one in IV65536 made it take 512 MB.
Cells themselves are small in that format (256 columns, a string's length a 16-bit count), so the extent is the
one bound to check there.
"""
import html
import re
import struct

from flask_babel import lazy_gettext as _l

from ..core.csvtext import UnreadableFile

#: Excel keeps at most 32,767 characters in a cell; a longer shared string was not written by Excel, and the reader
#: copies a shared string into every cell that uses it (1,000 cells naming one 1 MB string took 5 GB). A run of
#: text that long in bytes is counted in characters (CJK takes 3 bytes each, an emoji 4, &amp; 5).
MAX_CELL_CHARS = 32_767
_LONG_TEXT = re.compile(rb">([^<]{%d,})" % (MAX_CELL_CHARS + 1))  # from a tag's end: each run is read once
#: A run of XML text with no tag in it longer than this many bytes is refused outright, wherever it starts: no
#: cell of 32,767 characters takes that much, even written as entities (&#x1F600; is ten bytes for one). Runs
#: shorter than this but longer than MAX_CELL_CHARS characters are counted exactly (_check_cells).
MAX_RUN_BYTES = 10 * MAX_CELL_CHARS + 64
#: A worksheet row's XML longer than this is refused before the reader builds it (a list's row is a few KB; 16,384
#: cells of a hundred characters each is 4 MB).
MAX_ROW_BYTES = 8 * 2**20
#: Where a worksheet row's XML begins (<row r="7">, <x:row …>).
_ROW_START = re.compile(rb"<(?:\w+:)?row[\s>]")
#: A tag followed by more than MAX_RUN_BYTES of anything but another tag (the regex reads each stretch once).
_LONG_RUN = re.compile(rb"<[^<]{%d}" % (MAX_RUN_BYTES + 1))


class Bounds:
    """Streams a part's XML once, refusing a text run (a cell's text, a shared string) or a row past its bound
    however the pieces cut it: what is carried from one piece to the next is two counters, never the text."""

    def __init__(self, part: str):
        self.part, self.run, self.row = part, 0, None  # bytes since the last '<'; since the last row began

    def feed(self, chunk: bytes) -> None:
        first = chunk.find(b"<")
        if first < 0:
            self.run += len(chunk)
        else:
            self.run += first
            self._check_run()
            self.run = len(chunk) - chunk.rfind(b"<") - 1
            # the longest stretch between two tags inside this piece
            if len(chunk) > MAX_RUN_BYTES and _LONG_RUN.search(chunk, first):
                self.run = MAX_RUN_BYTES + 1
        self._check_run()
        found = _ROW_START.search(chunk)
        if self.row is not None:
            self.row += found.start() if found else len(chunk)
            self._check_row()
        if found:
            if len(chunk) > MAX_ROW_BYTES:  # a row wholly inside the piece can be too long only in a piece this big
                starts = [m.start() for m in _ROW_START.finditer(chunk, found.start())]
                self.row = max((b - a for a, b in zip(starts, starts[1:], strict=False)), default=0)
                self._check_row()
            self.row = len(chunk) - _last_row_start(chunk, found.start())
            self._check_row()

    def _check_run(self) -> None:
        if self.run > MAX_RUN_BYTES:
            raise UnreadableFile(_l("工作簿里有单元格的文字超过 Excel 允许的 32,767 个字符，不是 Excel 保存的文件或已经"
                                    "损坏。请用 Excel 打开后重新保存，或删去过长的内容后再导入。"))

    def _check_row(self) -> None:
        if self.row is not None and self.row > MAX_ROW_BYTES:
            raise UnreadableFile(_l("工作簿里有一行的内容超过 %(mb)d MB，远大于名单的一行，不是正常的名单文件。"
                                    "请用 Excel 打开后删去多余的内容，重新保存后再导入。", mb=MAX_ROW_BYTES // 2**20))


def _last_row_start(chunk: bytes, first: int) -> int:
    """Where the piece's last row begins (one is known to begin at `first`): looked for in its last 64 KB first,
    where it nearly always is, so that a piece's hundreds of rows are not each made a match object."""
    tail = max(first, len(chunk) - (1 << 16))
    last = None
    for last in _ROW_START.finditer(chunk, tail):  # noqa: B007  (the last one is wanted)
        pass
    if last is None:
        for last in _ROW_START.finditer(chunk, first):  # noqa: B007
            pass
    return last.start()


def check_cells(piece: bytes) -> None:
    """No text run in the piece longer than a cell may be, in characters (CJK takes 3 bytes each, &amp; 5)."""
    if any(len(html.unescape(run.decode("utf-8", "replace"))) > MAX_CELL_CHARS for run in _LONG_TEXT.findall(piece)):
        raise UnreadableFile(_l("工作簿里有单元格的文字超过 Excel 允许的 32,767 个字符，不是 Excel 保存的文件或已经"
                                "损坏。请用 Excel 打开后重新保存，或删去过长的内容后再导入。"))


#: A cell tag (`<c` not followed by a letter: not <col>, <cfRule>) and, when it is written the usual way, `<c r="B7"`,
#: its row. One pass over a worksheet's XML gives every cell's row, and shows whether any cell is written otherwise.
_CELL_ROW = re.compile(rb'<c(?![A-Za-z])(?: r="[A-Za-z]{1,3}(\d+)")?')
#: A namespace prefix before a cell tag's name (`<x:c`, which the reader takes for a cell), looked for as `:c`.
_PREFIXED_CELL = re.compile(rb":c(?![A-Za-z])")
#: A cell written the usual way from column AA on.
_WIDE_CELL = re.compile(rb'<c r="([A-Za-z]{2,3})\d')
#: Any row or cell tag (a namespace prefix allowed: the reader goes by the local name), and its attributes.
_TAG = re.compile(rb"<(?:[\w.-]+:)?(c|row)(?=[\s/>])([^>]*)>")
#: A tag's reference, in either quotes, spaces allowed (`r = 'B7'`); its letters and digits may each be missing.
_REF = re.compile(rb"""(?:^|\s)r\s*=\s*["']\s*([A-Za-z]*)\s*(\d*)""")


class CellExtent:
    """Where the reader (calamine) will place a worksheet's farthest cell, read from its XML in pieces: it makes
    room for every row and column from the first cell to that one, so that is what must be bounded.

    The reader places a cell by the cell's own reference (`<c r="XFD7">`, whatever row it sits in), or, without
    one, right of the cell before it in a row that is the row's own reference, or one below the row before it;
    other attributes may come first, in either quotes, with a namespace prefix. Files as Excel and the libraries
    write them (`<c r="B7"` first in every cell) are measured with two regular expressions over each piece; a
    piece with any cell written otherwise, and every piece after it, is read tag by tag, as the reader does."""

    def __init__(self):
        self.rows = self.columns = 0
        self.exact = False  # read tag by tag from here on
        self.row = self.column = 0  # where the tag-by-tag reading stands
        self.carry = b""  # a tag cut at the end of the last piece read tag by tag
        self.unread = 0  # bytes at the end of the last piece left for the next one (a tag cut in two)

    def feed(self, piece: bytes, fresh: bytes) -> None:
        """`piece`: the next part of the XML with the end of the one before (the chunks' overlap); `fresh`: its
        new bytes alone."""
        if not self.exact:
            # from where the piece before stopped (its overlap with this one was read with it) to this one's last
            # whole tag (one cut at the end is whole in the next piece)
            start = max(len(piece) - len(fresh) - self.unread, 0)
            end = piece.rfind(b"<")
            end = len(piece) if end < start or piece.find(b">", end) >= 0 else end
            self.unread = len(piece) - end
            found = set(_CELL_ROW.findall(piece, start, end))
            if b"" not in found and not _PREFIXED_CELL.search(piece, start, end):
                if found:  # columns A to Z are not told apart here: up to Z is 26
                    self.rows = max(self.rows, *map(int, found))
                    self.columns = max(self.columns, 26,
                                       *map(column_number, _WIDE_CELL.findall(piece, start, end)))
                return
            self.exact = True
            self.row, self.column = self.rows, self.columns  # counting on from the farthest so far: never less
            fresh = piece
        text = self.carry + fresh
        last = text.rfind(b"<")
        cut = last if last >= 0 and text.find(b">", last) < 0 else len(text)
        self.carry = text[cut:]
        for name, attributes in _TAG.findall(text, 0, cut):
            ref = _REF.search(attributes)
            letters, digits = ref.groups() if ref else (b"", b"")
            if name == b"row":
                self.row = int(digits) if digits else self.row + 1
                self.column = 0
                continue
            self.column = column_number(letters) if letters else self.column + 1
            self.rows = max(self.rows, int(digits) if digits else self.row)
            self.columns = max(self.columns, self.column)


def column_number(letters: bytes) -> int:
    """A column's number from its letters (A is 1, XFD 16,384), in either case: the reader takes both."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - 64
    return number


FREE, END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE
#: Cell records whose data begins with the row and column (2 bytes each): FORMULA, BLANK, NUMBER, LABEL, BOOLERR,
#: RK, LABELSST, RSTRING.
_CELLS = frozenset({0x0006, 0x0201, 0x0203, 0x0204, 0x0205, 0x027E, 0x00FD, 0x00D6})
_MULTI = frozenset({0x00BD, 0x00BE})  # MULRK, MULBLANK: row, first column, ..., last column
_ROW, _DIMENSIONS, _BOF, _EOF = 0x0208, 0x0200, 0x0809, 0x000A


class NotXls(ValueError):
    """Not a compound file this scanner can read; the reader itself then decides."""


def _chain(table: list[int], start: int, limit: int) -> list[int]:
    sectors, seen = [], set()
    while start not in (END_OF_CHAIN, FREE) and len(sectors) < limit:
        if start in seen or start >= len(table):
            raise NotXls("broken chain")
        seen.add(start)
        sectors.append(start)
        start = table[start]
    return sectors


def _workbook_stream(data: bytes) -> bytes:
    """The Workbook (or Book) stream of the compound file."""
    if len(data) < 512:
        raise NotXls("short")
    shift, mini_shift = struct.unpack_from("<HH", data, 30)
    if not 7 <= shift <= 16:
        raise NotXls("sector size")
    size = 1 << shift
    mini_size = 1 << mini_shift
    (fat_count, dir_start, _t, mini_cutoff, minifat_start, minifat_count, difat_start,
     difat_count) = struct.unpack_from("<IIIIIIII", data, 44)
    sectors_in_file = (len(data) - 512) // size + 1

    def sector(n: int) -> bytes:
        return data[512 + n * size: 512 + (n + 1) * size]

    difat = [s for s in struct.unpack_from("<109I", data, 76) if s not in (FREE, END_OF_CHAIN)]
    next_difat = difat_start
    for _ in range(min(difat_count, sectors_in_file)):
        if next_difat in (FREE, END_OF_CHAIN):
            break
        words = struct.unpack(f"<{size // 4}I", sector(next_difat))
        difat += [s for s in words[:-1] if s not in (FREE, END_OF_CHAIN)]
        next_difat = words[-1]
    fat: list[int] = []
    for n in difat[:fat_count]:
        fat += struct.unpack(f"<{size // 4}I", sector(n).ljust(size, b"\xff"))

    def read(start: int, length: int) -> bytes:
        return b"".join(sector(n) for n in _chain(fat, start, sectors_in_file))[:length]

    directory = read(dir_start, sectors_in_file * size)
    entries = {}
    for offset in range(0, len(directory) - 127, 128):
        name_length = struct.unpack_from("<H", directory, offset + 64)[0]
        name = directory[offset:offset + max(name_length - 2, 0)].decode("utf-16-le", "replace")
        kind = directory[offset + 66]
        start, length = struct.unpack_from("<II", directory, offset + 116)
        entries.setdefault(name, (kind, start, length))
        if kind == 5:
            entries["\0root"] = (kind, start, length)
    found = entries.get("Workbook") or entries.get("Book")
    if found is None:
        raise NotXls("no workbook stream")
    _kind, start, length = found
    if length >= mini_cutoff:
        return read(start, length)
    _k, root_start, root_length = entries.get("\0root", (5, END_OF_CHAIN, 0))
    mini_stream = read(root_start, root_length)
    minifat: list[int] = []
    for n in _chain(fat, minifat_start, min(minifat_count, sectors_in_file)):
        minifat += struct.unpack(f"<{size // 4}I", sector(n).ljust(size, b"\xff"))
    return b"".join(mini_stream[n * mini_size:(n + 1) * mini_size]
                    for n in _chain(minifat, start, len(mini_stream) // mini_size + 1))[:length]


def sheet_extents(data: bytes) -> list[tuple[str, int, int]]:
    """(name, rows, columns) from A1 to the farthest cell (or stated dimension) of each worksheet, in file order
    (the names from the workbook's sheet list, in its order)."""
    stream = _workbook_stream(data)
    names = _sheet_names(stream)
    extents, depth, current = [], 0, None
    at, end = 0, len(stream)
    while at + 4 <= end:
        kind, length = struct.unpack_from("<HH", stream, at)
        body = stream[at + 4: at + 4 + length]
        at += 4 + length
        if kind == _BOF:
            depth += 1
            if len(body) >= 4 and struct.unpack_from("<H", body, 2)[0] == 0x10:
                current = [0, 0]
        elif kind == _EOF:
            depth -= 1
            if current is not None and depth <= 1:
                name = names[len(extents)] if len(extents) < len(names) else f"#{len(extents) + 1}"
                extents.append((name, current[0], current[1]))
                current = None
        elif current is None:
            continue
        elif kind in _CELLS and len(body) >= 4:
            row, col = struct.unpack_from("<HH", body)
            current[0], current[1] = max(current[0], row + 1), max(current[1], col + 1)
        elif kind in _MULTI and len(body) >= 6:
            row, = struct.unpack_from("<H", body)
            last, = struct.unpack_from("<H", body, len(body) - 2)
            current[0], current[1] = max(current[0], row + 1), max(current[1], last + 1)
        elif kind == _ROW and len(body) >= 6:
            row, _first, last = struct.unpack_from("<HHH", body)
            current[0], current[1] = max(current[0], row + 1), max(current[1], last)
        elif kind == _DIMENSIONS and len(body) >= 12:
            _r0, rows, _c0, columns = struct.unpack_from("<IIHH", body)
            current[0], current[1] = max(current[0], rows), max(current[1], columns)
    return extents


def _sheet_names(stream: bytes) -> list[str]:
    """The worksheets' names, from the BOUNDSHEET records of the workbook's globals (worksheets only)."""
    names, at = [], 0
    while at + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, at)
        body = stream[at + 4: at + 4 + length]
        at += 4 + length
        if kind == _EOF:
            break
        if kind == 0x0085 and len(body) >= 8 and body[5] == 0:
            count, wide = body[6], body[7] & 1
            raw = body[8:8 + count * (2 if wide else 1)]
            names.append(raw.decode("utf-16-le" if wide else "latin-1", "replace"))
    return names
