"""Text tables: decoding a CSV file's bytes (UTF-8 with or without BOM, else GB18030; UTF-16 by its BOM) and
splitting it into rows, with the refusals a user can act on. The import of warning lists and the directory
loader both read CSV through here."""
import csv
import io
import re
from collections.abc import Callable

from flask_babel import lazy_gettext as _l

#: How many rows from the top may still be title rows above a header.
HEADER_SEARCH_ROWS = 20


class UnreadableFile(ValueError):
    """The file cannot be read as a table; the message (lazy: in the reader's language when shown, Chinese for the
    CLI and the API) says why and what to do."""


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (SPEC: an encoding guesser is wrong on short Chinese text). Excel's
    "Unicode 文本" export is UTF-16 and says so by its BOM."""
    if data.startswith(b"\xef\xbb\xbf"):  # says it is UTF-8: read as GB18030 it would all be garbled
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _not_utf8(data[3:], exc, bom=True) from exc
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise UnreadableFile(_l("文件以 UTF-16 标记开头，但内容无法按 UTF-16 读取（可能已损坏）。"
                                    "请用 Excel 打开后另存为 .xlsx 或 CSV 再导入。")) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        not_utf8 = exc
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise _not_utf8(data, not_utf8, bom=False) from exc


def _not_utf8(data: bytes, exc: UnicodeDecodeError, bom: bool) -> UnreadableFile:
    """Where the text stops being UTF-8: a stray byte (a 备注 pasted from elsewhere) is then found and fixed."""
    line = data.count(b"\n", 0, exc.start) + 1
    if bom:
        return UnreadableFile(_l("文件标明是 UTF-8 编码，但第 %(line)s 行有不是 UTF-8 的字节（0x%(byte)s），无法读取。"
                                 "请在这一行找到乱码的字符，删掉或重新输入后保存，再导入。",
                                 line=line, byte=f"{data[exc.start]:02X}"))
    return UnreadableFile(_l("文件既不是 UTF-8 也不是 GBK/GB18030 编码的文本，无法读取（按 UTF-8 读到第 %(line)s 行时"
                             "遇到无法识别的字节 0x%(byte)s）。请检查这一行有没有乱码的字符，或从 Excel 另存为 CSV 或 "
                             ".xlsx 后再导入。", line=line, byte=f"{data[exc.start]:02X}"))


#: The line Excel reads as "this file's delimiter is ;" (and does not show as a row).
_SEP_LINE = re.compile(r'^"?sep=([,;\t|])"?[,;\t|]*\r?\n')
#: Excel's way of keeping a number as text in a CSV: ="330102199001011234".
_FORMULA_TEXT = re.compile(r'^\s*="(.*)"\s*$', re.S)


def csv_rows(data: bytes, find_header: Callable[[list[list[str]]], object] | None = None) -> list[list[str]]:
    """All rows of a CSV file, decoded: comma-separated, or by tabs or semicolons when `find_header` finds the
    header only so."""
    _check_line_length(data)
    text = decode_text(data)
    if "\x00" in text:
        raise UnreadableFile(_l("文件含有二进制内容，不是 CSV 表格。请确认选择的是导出的名单文件。"))
    if declared := _SEP_LINE.match(text):  # Excel's "sep=;" first line: it names the delimiter, and Excel hides it
        text, delimiter = text[declared.end():], declared.group(1)
        rows = split(text, delimiter)
    else:
        rows, delimiter = split(text, ","), ","
    if find_header is not None and find_header(rows) is None and not declared:
        for other_delimiter in ("\t", ";"):
            if other_delimiter in text and find_header(other := split(text, other_delimiter)) is not None:
                rows, delimiter = other, other_delimiter
                break
    multiline = text.count("\n") > len(rows)  # some cell holds a line break (then the whole file is checked)
    if multiline and (swallowed := _swallowed_lines(rows, delimiter)):
        line, lines = swallowed
        raise UnreadableFile(_l("第 %(line)s 行有一格以英文引号（\"）开头，却没有结束的引号，其后 %(lines)s 行都被"
                                "读进了这一格。请删掉这个引号或补上结束的引号（或用 Excel 打开后另存为 CSV），"
                                "然后重新导入。",
                                line=line, lines=lines))
    if '="' in text:
        rows = [[_unwrap(c) for c in row] for row in rows]
    return rows


#: The largest CSV cell read, in characters: Excel's own limit for a cell. csv refuses a longer one while reading it,
#: before it is built (a 40 MB cell in a 50 MB upload would otherwise be copied several times over).
MAX_CELL_CHARS = 32_767
csv.field_size_limit(MAX_CELL_CHARS)
#: A row with more cells than a worksheet has columns (16,384) is no list's row, and is refused as it is read.
MAX_ROW_CELLS = 16_384
#: Cells in a whole file, at most: 200,000 rows of 30 columns (trailing empty cells past 256 are dropped first). A
#: 50 MB file of commas would otherwise be 25 million cells, 200 MB of references before anything is judged.
MAX_TABLE_CELLS = 6_000_000


#: A line longer than this many bytes is refused before the file is decoded (a row of a list is a few hundred bytes;
#: a 40 MB cell would otherwise be copied four times over, decoded, buffered and split).
MAX_LINE_BYTES = 8 * 2**20


def _check_line_length(data: bytes) -> None:
    if len(data) <= MAX_LINE_BYTES:
        return
    start, line = 0, 1
    while (end := data.find(b"\n", start)) >= 0 or start < len(data):
        stop = end if end >= 0 else len(data)
        if stop - start > MAX_LINE_BYTES:
            raise UnreadableFile(_l("第 %(line)s 行超过 %(mb)d MB，远大于名单的一行（可能有一格内容过长，或有一个英文"
                                    "引号没有结束）。请检查这一行后重新导入。", line=line, mb=MAX_LINE_BYTES // 2**20))
        if end < 0:
            break
        start, line = end + 1, line + 1


#: A line ending in more empty cells than this loses them before it is read: Excel writes a comma for every column
#: up to the last one ever formatted (XFD is 16,384), and 3,000 such lines would hold 50 million empty cells.
TRAILING_EMPTY_CELLS = 256


def split(text: str, delimiter: str) -> list[list[str]]:
    if delimiter * TRAILING_EMPTY_CELLS in text:
        # matched only from a run's first delimiter, and never given back: a long run that does not end its line
        # (8,000 commas, then a value) would otherwise be tried from each of its commas (quadratic; minutes)
        d = re.escape(delimiter)
        text = re.sub(f"(?<!{d}){d}{{{TRAILING_EMPTY_CELLS},}}+(?=\r?$)", "", text, flags=re.M)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, cells = [], 0
    try:
        for row in reader:
            cells += len(row)
            if len(row) > MAX_ROW_CELLS or cells > MAX_TABLE_CELLS:
                raise UnreadableFile(_l("第 %(line)s 行附近的单元格过多（每行最多 %(row)s 格，整个文件最多 %(all)s "
                                        "格），不是正常的名单文件。请用 Excel 打开后删去多余的列，另存后再导入。",
                                        line=reader.line_num, row=f"{MAX_ROW_CELLS:,}", all=f"{MAX_TABLE_CELLS:,}"))
            rows.append(row)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise UnreadableFile(_l("第 %(line)s 行附近有一格超过 %(n)s 个字符（Excel 一格最多能存的字数），不是正常的"
                                    "名单内容，或有一个英文引号没有结束，把后面的内容都读进了这一格。请检查这一行后"
                                    "重新导入。", line=reader.line_num, n=f"{MAX_CELL_CHARS:,}")) from exc
        raise UnreadableFile(_l("CSV 格式错误：第 %(line)s 行附近无法按 CSV 读取（常见原因是引号不成对）。"
                                "请用 Excel 打开后另存为 CSV 或 .xlsx 再导入。", line=reader.line_num)) from exc
    return rows


def _swallowed_lines(rows: list[list[str]], delimiter: str) -> tuple[int, int] | None:
    """(row, lines) when a cell that opens with a quote never closes it: csv then reads every following line into
    that one cell, and the file would import as fewer rows without a word. A real cell may hold line breaks (an
    address typed over two lines), but not lines that are whole records of the list."""
    width = max(map(len, rows[:HEADER_SEARCH_ROWS]), default=0)
    if width < 4:
        return None
    line = 1
    for row in rows:
        for cell in row:
            if "\n" in cell and any(part.count(delimiter) >= (width - 1) // 2 for part in cell.split("\n")[1:]):
                return line, cell.count("\n")
        line += 1 + sum(cell.count("\n") for cell in row)
    return None


def _unwrap(cell: str) -> str:
    match = _FORMULA_TEXT.match(cell) if cell.startswith(("=", " ")) else None
    return match.group(1) if match else cell


