"""Whatever arrives, the importer answers with verdicts or a clear refusal, never a crash (issue 7)."""
import io

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dissuasion.imports.pipeline import ImportRefused, analyse
from dissuasion.imports.rows import check_row
from tests import pushfiles as pf

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
COLUMNS = {name: i for i, name in enumerate(["warning_id", "name", "id_number", "phone", "tier", "registered_address",
                                             "pushed_at", "amount_at_risk", "away_from_home"])}


def _judged_or_refused(name: str, data: bytes) -> None:
    try:
        analysis = analyse(name, data)
    except ImportRefused as refused:
        assert str(refused)  # a message to show
        return
    for r in analysis.results:
        assert r.verdict in ("ok", "flagged", "rejected", "duplicate", "unrouted")


@SETTINGS
@given(data=st.binary(max_size=4000))
def test_arbitrary_bytes_as_csv(app, data):
    _judged_or_refused("push.csv", data)


@SETTINGS
@given(data=st.binary(max_size=4000))
def test_arbitrary_bytes_as_xlsx(app, data):
    _judged_or_refused("push.xlsx", data)


@SETTINGS
@given(text=st.text(max_size=300))
def test_arbitrary_text_with_a_header_line(app, text):
    _judged_or_refused("push.csv", ("预警编号,姓名,身份证号,手机号,风险等级\n" + text).encode("utf-8"))


@SETTINGS
@given(cells=st.lists(st.one_of(st.none(), st.text(max_size=40), st.integers(), st.floats(allow_nan=True),
                                st.booleans()), min_size=0, max_size=12))
def test_arbitrary_cells_in_a_row(app, cells):
    result = check_row(cells, 2, COLUMNS)
    assert result.verdict in ("ok", "flagged", "rejected")


@SETTINGS
@given(id_text=st.text(max_size=30), phone=st.text(max_size=30))
def test_arbitrary_strings_as_id_or_phone(app, id_text, phone):
    row = ["YJ1", "张三", id_text, phone, "高", "地址", "", "", ""]
    result = check_row(row, 2, COLUMNS)
    assert result.verdict in ("ok", "flagged", "rejected")
    if result.id_number and not result.id_valid:
        assert result.verdict == "flagged" and result.flags


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\",\"y\")", "=cmd|' /C calc'!A0", "<script>alert(1)</script>"])
def test_hostile_text_in_a_real_workbook_is_just_text(app, value):
    book = openpyxl.load_workbook(io.BytesIO(pf.xlsx_bytes([pf.row(1, 姓名=value)])))
    assert book.active.cell(2, 3).value == value
    assert analyse("push.xlsx", pf.xlsx_bytes([pf.row(1, 姓名=value)])).results[0].name == value
