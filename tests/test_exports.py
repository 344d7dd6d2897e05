"""Exports open as plain data in Excel: formulas in names stay text."""
import io

import openpyxl
import pytest

from dissuasion.core.exports import csv_safe, write_csv, write_xlsx

NASTY = ['=HYPERLINK("http://x","y")', "=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)"]


@pytest.mark.parametrize("value", NASTY)
def test_xlsx_keeps_formula_like_text_as_text(value):
    book = openpyxl.load_workbook(io.BytesIO(write_xlsx([("名单", ["姓名"], [[value]])])))
    cell = book.active["A2"]
    assert cell.data_type == "s"
    assert cell.value == value


@pytest.mark.parametrize("value", NASTY)
def test_csv_neutralises_formula_characters(value):
    assert csv_safe(value) == "'" + value
    assert write_csv(["姓名"], [[value]]).decode("utf-8-sig").splitlines()[1].lstrip('"').startswith("'")


def test_plain_values_are_untouched():
    assert csv_safe("张三") == "张三" and csv_safe(None) == "" and csv_safe(13800138000) == "13800138000"


def test_large_exports_need_a_lead_or_center_role(make_user):
    from dissuasion.core.exports import LARGE_EXPORT_ROWS, export_allowed

    officer, lead, center = make_user("officer"), make_user("lead"), make_user("center")
    assert export_allowed(officer, LARGE_EXPORT_ROWS)
    assert not export_allowed(officer, LARGE_EXPORT_ROWS + 1)
    assert export_allowed(lead, 100_000) and export_allowed(center, 100_000)
