"""Reading a pushed file into rows of cells, whatever the center's software wrote.

What a file is comes from its content, not its name: an .xlsx is a zip holding a workbook, an
.xls an OLE2 compound file, a CSV is text. A file whose content does not match its name is refused.
Excel cells keep their types (a number typed into the ID column matters: its digits are lost).
"""
import csv
import io
import zipfile
from dataclasses import dataclass

import python_calamine

XLSX_MAGIC = b"PK\x03\x04"
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: Consecutive empty rows after which the rest of a sheet is taken to be empty (a sheet's stated size
#: may be 1,048,576 rows for a file holding four).
EMPTY_RUN_LIMIT = 1000


class UnreadableFile(ValueError):
    """The file cannot be read as a table; the message says why and what to do, in Chinese."""


@dataclass
class Table:
    """The rows of the first usable sheet. `first_row` is the Excel row number of rows[0]."""

    rows: list[list]
    first_row: int = 1
    sheet: str = ""
    kind: str = "csv"


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (SPEC: an encoding guesser is wrong on short Chinese text)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise UnreadableFile("文件既不是 UTF-8 也不是 GBK/GB18030 编码的文本，无法读取。"
                             "请从 Excel 另存为 CSV 或 .xlsx 后再导入。") from exc


def csv_rows(data: bytes) -> list[list[str]]:
    """All rows of a CSV file, decoded."""
    text = decode_text(data)
    if "\x00" in text:
        raise UnreadableFile("文件含有二进制内容，不是 CSV 表格。请确认选择的是导出的名单文件。")
    try:
        return list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise UnreadableFile(f"CSV 格式错误：{exc}。请用 Excel 打开后另存为 CSV 或 .xlsx。") from exc


def sniff(data: bytes) -> str:
    """xlsx, xls or text, from the first bytes."""
    if data.startswith(XLSX_MAGIC):
        return "xlsx"
    if data.startswith(XLS_MAGIC):
        return "xls"
    return "text"


def read_table(filename: str, data: bytes, max_rows: int, max_uncompressed: int) -> Table:
    """The file's rows; refuses empty files, files that are not what their name says, and oversize ones."""
    if not data or not data.strip():
        raise UnreadableFile("文件是空的，没有任何内容。请检查是否选错了文件。")
    name = filename.lower()
    kind = sniff(data)
    expected = "xlsx" if name.endswith((".xlsx", ".xlsm")) else "xls" if name.endswith(".xls") else "text"
    if name.endswith((".xlsx", ".xlsm", ".xls")) and kind != expected:
        raise UnreadableFile(f"文件名是 {filename}，但内容不是有效的 Excel 文件（可能已损坏或被改了扩展名）。"
                             "请用 Excel 打开确认后重新保存为 .xlsx。")
    if name.endswith((".csv", ".txt")) and kind != "text":
        raise UnreadableFile(f"文件名是 {filename}，但内容是 Excel 工作簿，不是 CSV。请把扩展名改回 .xlsx/.xls，"
                             "或在 Excel 中另存为 CSV。")
    if kind == "text":
        rows = csv_rows(data)
        _check_row_count(len(rows), max_rows)
        return Table(rows=rows, kind="csv")
    if kind == "xlsx":
        _check_zip(data, max_uncompressed)
    return _read_workbook(data, kind, max_rows)


def _check_zip(data: bytes, max_uncompressed: int) -> None:
    """Refuse a zip that would inflate past the limit before any XML parser sees it."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        raise UnreadableFile("文件不是有效的 .xlsx 工作簿（压缩包已损坏）。请用 Excel 打开后重新保存。") from exc
    if "xl/workbook.xml" not in names:
        raise UnreadableFile("压缩包里没有 Excel 工作簿，不是 .xlsx 文件。")
    if total > max_uncompressed:
        raise UnreadableFile(f"工作簿解压后有 {total // 2**20} MB，超过上限 {max_uncompressed // 2**20} MB。"
                             "请把名单拆成几个文件分别导入。")


def _check_row_count(count: int, max_rows: int) -> None:
    if count > max_rows + 50:
        raise UnreadableFile(f"文件超过 {max_rows:,} 行的上限。请把名单拆成几个文件分别导入。")


def _read_workbook(data: bytes, kind: str, max_rows: int) -> Table:
    try:
        book = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheets = [m.name for m in book.sheets_metadata if str(m.visible).endswith("Visible")
                  and str(m.typ).endswith("WorkSheet")] or book.sheet_names
        if not sheets:
            raise UnreadableFile("工作簿里没有工作表。")
        sheet = book.get_sheet_by_name(sheets[0])
        rows = _sheet_rows(sheet, max_rows)
    except UnreadableFile:
        raise
    except Exception as exc:  # noqa: BLE001  (calamine raises many kinds; all mean "cannot read")
        raise UnreadableFile("无法读取这个 Excel 文件（可能已损坏、加密或不是名单）。"
                             "请用 Excel 打开确认后重新保存。") from exc
    return Table(rows=rows, first_row=sheet.start[0] + 1 if sheet.start else 1, sheet=sheet.name, kind=kind)


def _sheet_rows(sheet, max_rows: int) -> list[list]:
    rows, empty_run = [], 0
    for row in sheet.iter_rows():
        if any(cell not in ("", None) for cell in row):
            empty_run = 0
        else:
            empty_run += 1
            if empty_run >= EMPTY_RUN_LIMIT:
                break
        rows.append(row)
        _check_row_count(len(rows) - empty_run, max_rows)
    while rows and not any(cell not in ("", None) for cell in rows[-1]):
        rows.pop()
    return rows
