"""Writing spreadsheets people open in Excel: every cell is data, never a formula.

A name like `=HYPERLINK("http://x","y")` must open as text. xlsxwriter is told not to turn strings
into formulas or links; CSV cells that start with a formula character get a leading apostrophe.
"""
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

import xlsxwriter
from flask_babel import gettext as _

from .enums import Role

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: An export of more rows than this is a bulk export of personal data: only leads and center staff may make
#: one, and every export is audited by the operation that makes it (audit.operations.record("export", ...)).
LARGE_EXPORT_ROWS = 500
LARGE_EXPORT_ROLES = (Role.LEAD, Role.CENTER)


class Percent(float):
    """A rate in percent, as the pages show it (87.5). The .xlsx keeps it as Excel keeps a percentage: the cell
    holds 0.875 and reads 87.5%, so a sum, an average or a chart of the column is right."""


class PercentPoints(float):
    """The change of a rate, in percentage points (+2.5): the .xlsx reads "+2.5 个百分点", as the page does, never
    "2.5%", which would read as a relative change."""


def export_allowed(user, rows: int) -> bool:
    """Whether this user may export this many rows of case data (large exports need a lead or center role)."""
    return rows <= LARGE_EXPORT_ROWS or user.role in LARGE_EXPORT_ROLES


def csv_safe(value) -> str:
    """A cell for CSV: a leading formula character is neutralised with an apostrophe (OWASP)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """UTF-8 with BOM, so a Chinese Excel opens it with the right encoding."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([csv_safe(h) for h in header])
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def write_xlsx(sheets: Sequence[tuple[str, Sequence[str], Iterable[Sequence]]]) -> bytes:
    """One workbook of (sheet name, header, rows); strings stay strings, money stays two-decimal numbers."""
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False,
                                            "strings_to_urls": False, "strings_to_numbers": False})
    bold = workbook.add_format({"bold": True})
    money = workbook.add_format({"num_format": "#,##0.00"})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    points = _("个百分点").replace('"', "")
    formats = {Decimal: money, dt.datetime: when, Percent: workbook.add_format({"num_format": "0.0%"}),
               PercentPoints: workbook.add_format({"num_format": f'+0.0" {points}";-0.0" {points}";0.0" {points}"'})}
    for name, header, rows in sheets:
        sheet = workbook.add_worksheet(name[:31])
        sheet.write_row(0, 0, list(header), bold)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                _write_cell(sheet, r, c, value, formats)
        sheet.freeze_panes(1, 0)
    workbook.close()
    return buffer.getvalue()


def _write_cell(sheet, r: int, c: int, value, formats: dict) -> None:
    if value is None:
        return
    if isinstance(value, Decimal):
        sheet.write_number(r, c, float(value), formats[Decimal])  # display only; the stored amount stays Decimal
    elif isinstance(value, bool):
        sheet.write_string(r, c, "是" if value else "否")
    elif isinstance(value, Percent):
        sheet.write_number(r, c, value / 100, formats[Percent])
    elif isinstance(value, PercentPoints):
        sheet.write_number(r, c, value, formats[PercentPoints])
    elif isinstance(value, int | float):
        sheet.write_number(r, c, value)
    elif isinstance(value, dt.datetime):
        sheet.write_datetime(r, c, value.replace(tzinfo=None), formats[dt.datetime])
    else:
        sheet.write_string(r, c, str(value))


#: Characters XML 1.0 cannot hold (controls but tab and line breaks, lone surrogates, U+FFFE/FFFF): python-docx
#: refuses them, so a text pasted with one would fail the whole download.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def write_docx(text: str) -> bytes:
    """A Word document of plain text: the first line as the centred title, each further line a paragraph, in a
    font Chinese Word installations have (宋体, set for East Asian text too). python-docx is imported here: only
    the report's .docx needs it, and importing it costs every CLI command and worker start a tenth of a second."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    document = Document()
    style = document.styles["Normal"]
    style.font.name = "宋体"
    style.font.size = Pt(12)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "宋体")
    lines = _XML_ILLEGAL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).split("\n")
    title, body = (lines[0], lines[1:]) if lines else ("", [])
    heading = document.add_paragraph()
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = heading.add_run(title)
    run.bold = True
    run.font.size = Pt(16)
    for line in body:
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
