"""Shapes of real center files found by trying many (issue 3): which column is which when two could be, long
numbers Excel has rounded, footers, merged cells, a list on the second sheet, other delimiters, the row limit,
and JSON rows that are not quite what the API documents."""
import csv
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest

from dissuasion.cases.models import EarlyWarning, Person
from dissuasion.extensions import db
from dissuasion.imports.models import Push
from dissuasion.imports.pipeline import ImportRefused, analyse, import_file, import_rows
from tests import pushfiles as pf


@pytest.fixture
def directory(make_precinct):
    make_precinct("PCS01", name="城东派出所", communities=("东门社区", "朝阳社区"))
    make_precinct("PCS02", name="城西派出所", communities=("西门社区",))


def _xlsx(lines: list[list], merges: tuple = (), before: list[str] = ()) -> bytes:
    """An .xlsx of these lines on a sheet named 名单, with merged ranges, after sheets named in `before`."""
    book = openpyxl.Workbook()
    for i, name in enumerate(before):
        sheet = book.active if i == 0 else book.create_sheet(name)
        sheet.title = name
        if name == "填表说明":
            sheet.append(["请按模板填写，风险等级填 高/中/低"])
    sheet = book.create_sheet("名单") if before else book.active
    for line in lines:
        sheet.append(line)
    for ref in merges:
        sheet.merge_cells(ref)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _lines(rows: list[dict], headers=pf.STANDARD) -> list[list]:
    return pf.table(rows, headers)


def test_the_warning_number_column_wins_over_a_serial_number_headed_bianhao(directory):
    lines = _lines([pf.row(n) for n in (1, 2, 3)])
    lines = [["编号"] + lines[0]] + [[i] + line for i, line in enumerate(lines[1:], start=1)]
    results = analyse("push.xlsx", _xlsx(lines)).results
    assert [r.warning_no for r in results] == ["YJ0000001", "YJ0000002", "YJ0000003"]
    # the next list numbers its rows 1, 2, 3 again: nothing of it may be taken for a duplicate
    lines = _lines([pf.row(n) for n in (4, 5, 6)])
    lines = [["编号"] + lines[0]] + [[i] + line for i, line in enumerate(lines[1:], start=1)]
    import_file("first.xlsx", _xlsx(_lines([pf.row(n) for n in (1, 2, 3)])))
    assert import_file("second.xlsx", _xlsx(lines)).counters["imported"] == 3


def test_the_mobile_column_wins_over_a_landline_headed_lianxidianhua_unless_it_is_broken(directory):
    headers = ["联系电话"] + pf.STANDARD
    lines = [headers] + [["0571-88886666"] + line for line in _lines([pf.row(1), pf.row(2, 手机号="1380000")])[1:]]
    first, broken = analyse("push.xlsx", _xlsx(lines)).results
    assert first.phone == "13800000001" and "联系电话另有：057*****6666" in first.notes
    assert broken.phone == "057188886666" and broken.verdict == "ok"  # the number that can be called
    assert "手机号另有：*******" in broken.notes


@pytest.mark.parametrize("headers", [["编号", "预警ID"], ["预警ID", "编号"]])
def test_a_serial_bianhao_loses_to_yujing_id_in_either_order(directory, headers):
    lines = [headers + ["姓名", "风险等级", "手机号码", "联系电话"]]
    lines += [[n, f"ID{n}", f"测试{n}", "高", f"1380000000{n}", ""] if headers[0] == "编号"
              else [f"ID{n}", n, f"测试{n}", "高", f"1380000000{n}", ""] for n in (1, 2)]
    results = analyse("push.xlsx", _xlsx(lines)).results
    assert [(r.warning_no, r.phone, r.verdict) for r in results] == \
        [("ID1", "13800000001", "unrouted"), ("ID2", "13800000002", "unrouted")]  # (no precinct column)


def test_a_number_that_is_no_time_is_not_taken_for_one(directory):
    rows = [pf.row(1, 推送时间="1763251200"), pf.row(2, 推送时间="1899-12-30 00:00"), pf.row(3)]
    results = analyse("push.csv", pf.csv_bytes(rows)).results
    assert [r.pushed_at is None for r in results] == [True, True, False]
    assert [[str(p.code) for p in r.problems] for r in results] == [["pushed_at"], ["pushed_at"], []]
    summary = import_rows([{"warning_id": "E1", "tier": "高", "name": "张三", "phone": "13800000000",
                            "pushed_at": 1763251200}])
    assert [e["code"] for e in summary.errors if e["code"] == "pushed_at"] == ["pushed_at"]


def test_excels_keep_as_text_apostrophe_is_not_part_of_a_number(directory):
    [result] = analyse("push.csv", pf.csv_bytes([pf.row(1, 身份证号="'" + pf.id_number(1),
                                                        手机号="'13800000001")])).results
    assert (result.id_number, result.phone, result.verdict) == (pf.id_number(1), "13800000001", "ok")


def test_headers_with_a_template_star_or_a_required_note_are_recognised(directory):
    headers = ["*预警编号", "推送时间", "姓名（必填）", "性别", "身份证号", "手机号(选填)", "＊风险等级"]
    headers += pf.STANDARD[7:]
    [result] = analyse("push.csv", pf.csv_bytes([pf.row(1)], headers=headers)).results
    assert (result.warning_no, result.name, result.phone, result.verdict) == ("YJ0000001", "测试1", "13800000001", "ok")


def test_warning_numbers_excel_rounded_are_rejected_not_merged_into_one(directory):
    lines = _lines([pf.row(n, 预警编号="") for n in range(1, 4)])
    for i, line in enumerate(lines[1:]):
        line[0] = float(202611160000000001 + i)  # 18 digits typed as a number: Excel keeps 15
    summary = import_file("push.xlsx", _xlsx(lines))
    assert summary.counters["rejected"] == 3 and summary.counters["duplicates"] == 0
    assert {e["code"] for e in summary.errors} == {"warning_id_lost_digits"}
    assert "文本格式" in summary.errors[0]["message"]
    text = pf.csv_bytes([pf.row(n, 预警编号="2.02611E+17") for n in (1, 2)])  # the same list re-saved as CSV
    assert [r.verdict for r in analyse("push.csv", text).results] == ["rejected", "rejected"]
    assert _count(EarlyWarning) == 0


def test_a_short_number_typed_as_a_number_is_still_a_warning_number(directory):
    lines = _lines([pf.row(1)])
    lines[1][0] = 20261116001.0
    [result] = analyse("push.xlsx", _xlsx(lines)).results
    assert (result.warning_no, result.verdict) == ("20261116001", "ok")


@pytest.mark.parametrize("footer", [["制表人：李四", None, None, "审核人：王五"], ["填报单位：清河县反诈中心"],
                                    ["注：高风险须 24 小时内面见"], ["共计3人"], ["总数：3"], ["本页小计"],
                                    [4, "合计"], ["以上共3人"], ["单位（盖章）：清河县反诈中心"],
                                    ["日期：2026年11月16日"]])
def test_footer_rows_under_the_list_are_not_rows(directory, footer):
    lines = _lines([pf.row(n) for n in (1, 2, 3)])
    lines = [["序号"] + lines[0]] + [[i] + line for i, line in enumerate(lines[1:], start=1)] + [[], footer]
    summary = import_file("push.xlsx", _xlsx(lines))
    assert summary.counters["rows_total"] == 3 and summary.counters["rejected"] == 0


def test_a_data_row_whose_first_words_look_like_a_footer_is_still_a_row(directory):
    headers = ["序号", "预警来源", "预警编号", "姓名", "风险等级", "手机号", "所属派出所"]
    lines = [headers] + [[n, reason, f"YJ{n}", f"测试{n}", "高", f"1380000000{n}", "城东派出所"]
                         for n, reason in enumerate(["审核贷款申请时发现", "打印店报告", "以上两类", "合计转账3次"], 1)]
    summary = import_file("push.xlsx", _xlsx(lines))
    assert summary.counters["rows_total"] == 4 and summary.counters["imported"] == 4


def test_the_header_repeated_further_down_is_not_a_row(directory):
    lines = _lines([pf.row(1)]) + _lines([pf.row(2)])
    assert [r.row_number for r in analyse("push.xlsx", _xlsx(lines)).results] == [2, 4]


def test_a_precinct_and_community_merged_over_their_group_route_every_row(directory):
    rows = [pf.row(n, 所属派出所="城西派出所" if n == 1 else "", 所属社区="西门社区" if n == 1 else "")
            for n in (1, 2, 3)] + [pf.row(4)]
    summary = import_file("push.xlsx", _xlsx(_lines(rows), merges=("M2:M4", "N2:N4")))
    assert summary.counters["unrouted"] == 0
    precincts = db.session.execute(db.select(EarlyWarning.row_number, EarlyWarning.precinct_text)
                                   .order_by(EarlyWarning.row_number)).all()
    assert precincts == [(2, "城西派出所"), (3, "城西派出所"), (4, "城西派出所"), (5, "城东派出所")]


def test_a_header_of_two_rows_maps_the_columns_named_in_its_second_row(directory):
    lines = _lines([pf.row(1)])
    top = list(lines[0])
    top[5] = "联系方式"
    second = [None] * len(top)
    second[5] = "手机号"
    summary = import_file("push.xlsx", _xlsx([top, second] + lines[1:], merges=("A1:A2", "B1:B2", "C1:C2")))
    assert summary.counters["rows_total"] == 1 and summary.counters["rejected"] == 0
    assert db.session.scalar(db.select(Person.phone)) == "13800000001"


@pytest.mark.parametrize("before", [["Sheet1"], ["填表说明"]])
def test_a_list_on_the_second_sheet_is_found(directory, before):
    summary = import_file("push.xlsx", _xlsx(_lines([pf.row(1), pf.row(2)]), before=before))
    assert summary.counters["imported"] == 2


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_a_tab_or_semicolon_separated_file_is_read(directory, delimiter):
    text = "\n".join(delimiter.join(str(c) for c in line) for line in _lines([pf.row(1), pf.row(2)]))
    assert import_file("push.csv", text.encode()).counters["imported"] == 2


def test_excel_text_formulas_in_a_csv_are_the_text_they_hold(directory):
    text = pf.csv_bytes([pf.row(1, 身份证号=f'="{pf.id_number(1)}"', 手机号='="13800000001"')])
    [result] = analyse("push.csv", text).results
    assert (result.id_number, result.phone, result.verdict) == (pf.id_number(1), "13800000001", "ok")


def test_rows_after_a_long_run_of_empty_rows_are_still_read(directory):
    lines = _lines([pf.row(1)]) + [[]] * 1500 + _lines([pf.row(2)])[1:]
    assert [r.row_number for r in analyse("push.xlsx", _xlsx(lines)).results] == [2, 1503]


@pytest.mark.parametrize("name,data", [("bom.csv", b"\xef\xbb\xbf"), ("blank.csv", "\ufeff\r\n ,,\r\n".encode()),
                                       ("empty.xlsx", None)])
def test_files_with_nothing_in_them_say_the_file_is_empty(directory, name, data):
    if data is None:
        data = _xlsx([])
    with pytest.raises(ImportRefused, match="文件是空的"):
        analyse(name, data)


def test_an_xls_workbook_named_xlsx_is_read_by_its_content(directory):
    from dissuasion.imports.readers import XLS_MAGIC, sniff
    assert sniff(XLS_MAGIC + b"\x00" * 100) == "xls"
    with pytest.raises(ImportRefused, match="无法读取这个 Excel 文件"):  # read as .xls (here a broken one)
        analyse("push.xlsx", XLS_MAGIC + b"\x00" * 600)


def test_a_file_one_data_row_over_the_limit_is_refused_and_nothing_is_written(app, directory):
    app.config["IMPORT_MAX_ROWS"] = 3
    rows = [pf.row(n) for n in range(1, 5)]
    with pytest.raises(ImportRefused, match="超过 3 行的上限"):
        import_file("push.csv", pf.csv_bytes(rows, title="标题"))
    with pytest.raises(ImportRefused, match="超过每次 3 条的上限"):
        import_rows([{"warning_id": f"A{n}", "tier": "高", "name": "张三", "phone": "13800000000"} for n in range(4)])
    assert import_file("push.csv", pf.csv_bytes(rows[:3], title="标题")).counters["imported"] == 3
    assert _count(Push) == 1


def test_json_numbers_are_exact_and_odd_json_is_refused_with_what_to_fix(directory):
    base = {"warning_id": "J1", "tier": "高", "name": "张三", "phone": 13800000001}
    number = next(pf.id_number(n) for n in range(1, 50) if pf.id_number(n)[-1] != "X")
    summary = import_rows([base | {"id_number": int(number)}, base | {"warning_id": "J2", "pushed_at": 50000.5}])
    db.session.commit()
    assert summary.counters["flagged"] == 0 and summary.counters["imported"] == 2
    assert db.session.scalar(db.select(Person.id_number).where(Person.id_valid)) == number
    assert [e["row"] for e in summary.errors if e["code"] == "pushed_at"] == [2]  # a number is no time in JSON
    with pytest.raises(ImportRefused, match="英文字段名"):
        import_rows([{"预警编号": "J3", "风险等级": "高"}])
    with pytest.raises(ImportRefused, match="第 2 条的 name 是数组或对象"):
        import_rows([base | {"warning_id": "J4"}, base | {"warning_id": "J5", "name": ["张", "三"]}])


def test_json_nested_too_deep_is_a_400_not_a_500(client, make_user, bearer):
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/pushes", data=body, content_type="application/json",
                           headers=bearer(make_user("center", precinct=None)))
    assert response.status_code == 400 and "嵌套" in response.get_json()["error"]["message"]


def test_a_stray_cell_far_from_the_list_is_refused_before_it_costs_gigabytes(directory):
    book = openpyxl.Workbook()
    for line in _lines([pf.row(n) for n in range(1, 6)]):
        book.active.append(line)
    book.active["XFD5000"] = " "  # a space typed far away: the used range becomes 82 million cells
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ImportRefused, match="A1:XFD5000.*删除名单右侧的所有空列"):
        analyse("push.xlsx", out.getvalue())
    book = openpyxl.Workbook()
    for line in _lines([pf.row(n) for n in range(1, 6)]):
        book.active.append(line)
    book.active["Z9"] = " "  # a near one costs nothing
    out = io.BytesIO()
    book.save(out)
    assert len(analyse("push.xlsx", out.getvalue()).results) == 5


def _rewritten(data: bytes, member: str, change) -> bytes:
    """The .xlsx with one of its parts changed (as a writer other than Excel makes it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            target.writestr(item.filename, change(content) if item.filename == member else content)
    return out.getvalue()


@pytest.mark.parametrize("dimension", ['<dimension ref="A1"/>', ""])
def test_a_far_cell_in_a_sheet_whose_dimension_says_a1_or_nothing_is_refused_and_does_not_end_the_process(
        directory, dimension):
    """Streaming writers (Apache POI's, behind EasyExcel) write <dimension ref="A1"/> or none: the size check must
    look where the cells are. One value in XFD1048576 of such a 5 KB file made the reader ask for 512 GB, and the
    process (the county's only web process) was killed."""
    book = openpyxl.Workbook()
    for line in _lines([pf.row(n) for n in range(1, 6)]):
        book.active.append(line)
    out = io.BytesIO()
    book.save(out)

    def far_cell(xml: bytes) -> bytes:
        xml = re.sub(rb"<dimension [^>]*/>", dimension.encode(), xml)
        far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t> </t></is></c></row>'
        return xml.replace(b"</sheetData>", far + b"</sheetData>")

    data = _rewritten(out.getvalue(), "xl/worksheets/sheet1.xml", far_cell)
    with pytest.raises(ImportRefused, match="A1:XFD1048576.*删除名单右侧的所有空列"):
        import_file("poi.xlsx", data)
    assert db.session.scalar(db.select(db.func.count()).select_from(Push)) == 0


def _with_shared_string(data: bytes, text: str) -> bytes:
    """The .xlsx with a shared-strings part holding `text`, which the 备注 cell of every row names (as Excel and
    most writers store text; openpyxl writes it inline)."""
    sst = f'<sst xmlns="{_MAIN}" count="1" uniqueCount="1"><si><t>{text}</t></si></sst>'.encode()
    rel = (b'<Relationship Id="rIdSst" Target="sharedStrings.xml" Type="http://schemas.openxmlformats.org/'
           b'officeDocument/2006/relationships/sharedStrings"/></Relationships>')
    kind = (b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            b'spreadsheetml.sharedStrings+xml"/></Types>')
    notes = _column_letter(pf.STANDARD.index("备注"))
    data = _rewritten(data, "xl/_rels/workbook.xml.rels", lambda xml: xml.replace(b"</Relationships>", rel))
    data = _rewritten(data, "[Content_Types].xml", lambda xml: xml.replace(b"</Types>", kind))
    data = _rewritten(data, "xl/worksheets/sheet1.xml", lambda xml: re.sub(
        rb'<c r="(' + notes + rb'(?!1")\d+)"[^>]*?(?:/>|>.*?</c>)', rb'<c r="\1" t="s"><v>0</v></c>', xml))
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            target.writestr(item.filename, source.read(item.filename))
        target.writestr("xl/sharedStrings.xml", sst)
    return out.getvalue()


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _column_letter(index: int) -> bytes:
    return openpyxl.utils.get_column_letter(index + 1).encode()


def test_a_shared_string_longer_than_excel_allows_is_refused_before_it_is_copied_into_every_cell(directory):
    """The reader copies a shared string into each cell that names it: 1,000 cells naming one 1 MB string took 5 GB.
    Excel keeps at most 32,767 characters in a cell, so a longer one is not from Excel."""
    book = openpyxl.Workbook()
    for line in _lines([pf.row(n, 备注="x") for n in range(1, 4)]):
        book.active.append(line)
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ImportRefused, match="超过 Excel 允许的 32,767 个字符"):
        import_file("long.xlsx", _with_shared_string(out.getvalue(), "注" * 40_000))
    assert db.session.scalar(db.select(db.func.count()).select_from(Push)) == 0
    results = analyse("long.xlsx", _with_shared_string(out.getvalue(), "注" * 32_000)).results
    assert len(results) == 3 and all(r.notes.startswith("注" * 100) for r in results)  # as long as Excel allows: read


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


# --- shapes found by an adversarial review on 2026-11-22 ---------------------------------------------------------

def test_people_with_different_mistyped_ids_and_no_phone_stay_two_people(directory):
    rows = [pf.row(1, 姓名="王伟", 手机号="", 户籍地址="", 现住址="", 身份证号=339901198001011000),
            pf.row(2, 姓名="王伟", 手机号="", 户籍地址="", 现住址="", 身份证号="33990119900505202",
                   所属派出所="城西派出所", 所属社区="西门社区")]
    summary = import_file("push.xlsx", _xlsx(_lines(rows)))  # a number Excel has rounded; a digit missing
    assert summary.counters["flagged"] == 2
    assert summary.counters["persons_created"] == 2 and summary.counters["cases_created"] == 2


def test_a_list_set_in_from_the_top_left_keeps_excels_row_numbers_and_its_merged_groups(directory):
    book = openpyxl.Workbook()
    sheet = book.active
    west = {2: {"所属派出所": "城西派出所", "所属社区": "西门社区"}}
    rows = [pf.row(1)] + [pf.row(n, **west.get(n, {"所属派出所": None, "所属社区": None})) for n in (2, 3, 4)] + [
        pf.row(5, 姓名="", 身份证号="")]
    for r, line in enumerate(_lines(rows), start=3):  # row 1-2 and column A are an empty margin
        for c, value in enumerate(line, start=2):
            sheet.cell(r, c, value if value != "" else None)
    sheet.merge_cells("N5:N7")
    sheet.merge_cells("O5:O7")
    out = io.BytesIO()
    book.save(out)
    analysis = analyse("push.xlsx", out.getvalue())
    assert analysis.header_row == 3
    assert [(r.row_number, r.precinct_text) for r in analysis.results] == [
        (4, "城东派出所"), (5, "城西派出所"), (6, "城西派出所"), (7, "城西派出所"), (8, "城东派出所")]
    assert analysis.errors()[0]["row"] == 8


def test_a_workbook_with_a_list_on_two_sheets_is_refused_naming_them(directory):
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active.append(["本表为清河县反诈中心下发"])
    for title, numbers in (("高风险", (1, 2)), ("中低风险", (3, 4, 5))):
        sheet = book.create_sheet(title)
        for line in _lines([pf.row(n) for n in numbers]):
            sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    with pytest.raises(ImportRefused, match="“高风险”、“中低风险”"):
        import_file("push.xlsx", out.getvalue())
    assert db.session.scalar(db.select(db.func.count(Push.id))) == 0


def test_a_templates_header_only_sheet_does_not_hide_the_list(directory):
    book = openpyxl.Workbook()
    book.active.title = "模板"
    book.active.append(pf.STANDARD)
    sheet = book.create_sheet("名单")
    for line in _lines([pf.row(1), pf.row(2)]):
        sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    assert import_file("push.xlsx", out.getvalue()).counters["imported"] == 2


def test_a_group_header_over_a_known_and_an_unknown_column_maps_the_known_one(directory):
    headers = ["预警编号", "姓名", "联系方式", None, "风险等级", "所属派出所"]
    second = [None, None, "手机号码", "固定电话", None, None]
    lines = [headers, second, ["YJ1", "测试1", "13800000001", "0571-88886666", "高", "城东派出所"]]
    summary = import_file("push.xlsx", _xlsx(lines, merges=("A1:A2", "B1:B2", "C1:D1", "E1:E2", "F1:F2")))
    assert summary.counters["rows_total"] == 1 and summary.counters["rejected"] == 0  # reachable by its mobile
    assert db.session.scalar(db.select(Person.phone)) == "13800000001"


def test_a_quote_never_closed_in_a_csv_is_refused_instead_of_swallowing_the_rows_after_it(directory):
    lines = [",".join(pf.STANDARD)] + [",".join(str(c) for c in line) for line in _lines(
        [pf.row(1), pf.row(2, 备注='"已电话联系本人'), pf.row(3), pf.row(4)])[1:]]
    with pytest.raises(ImportRefused, match="第 3 行有一格以英文引号"):
        import_file("push.csv", "\n".join(lines).encode())
    assert db.session.scalar(db.select(db.func.count(Push.id))) == 0
    # a line break inside a properly quoted cell is still one cell
    fine = pf.csv_bytes([pf.row(1, 现住址="清河县城东镇\n东门社区1号"), pf.row(2)])
    assert import_file("push.csv", fine).counters["imported"] == 2


def test_headers_with_a_unit_or_a_hint_in_brackets_are_recognised_and_wan_yuan_is_scaled(directory):
    renamed = {"拟转账金额(元)": "涉案金额（元）", "风险等级": "风险等级(高/中/低)",
               "是否外出务工": "是否外出务工(是/否)"}
    headers = [renamed.get(h, h) for h in pf.STANDARD]
    [result] = analyse("push.csv", pf.csv_bytes([pf.row(1, 是否外出务工="是")], headers=headers)).results
    assert result.amount_at_risk is not None and str(result.amount_at_risk) == "5000.00"
    assert result.away_from_home is True and result.tier.value == "medium"
    headers = [{"拟转账金额(元)": "涉案金额(万元)"}.get(h, h) for h in pf.STANDARD]
    [result] = analyse("push.csv", pf.csv_bytes([pf.row(1)], headers=headers)).results
    assert result.amount_at_risk == Decimal("50000000.00")  # 5000 万元 is not 5000 yuan


@pytest.mark.parametrize("footer", [["共3条记录"], ["导出时间：2026-11-16 08:00"], ["经办人：张三"], ["签发人：李四"],
                                    ["第1页/共1页"]])
def test_more_footers_and_a_templates_numbered_empty_lines_are_not_rows(directory, footer):
    lines = _lines([pf.row(n) for n in (1, 2, 3)])
    lines = [["序号"] + lines[0]] + [[i] + line for i, line in enumerate(lines[1:], start=1)]
    lines += [[i] for i in range(4, 30)] + [footer]
    summary = import_file("push.xlsx", _xlsx(lines))
    assert summary.counters["rows_total"] == 3 and summary.counters["rejected"] == 0


def test_a_long_cell_two_phones_sex_codes_chinese_times_and_a_float_warning_number(directory):
    rows = [pf.row(1, 备注="很长" * 16_000), pf.row(2, 手机号="13800138005/13900139005", 性别="2"),
            pf.row(3, 推送时间="2026年11月16日 8时05分", 性别="女性", 预警编号="2026111600001.0")]
    results = analyse("push.csv", pf.csv_bytes(rows)).results
    assert len(results[0].notes) == 1000
    assert results[1].phone == "13800138005/13900139005" and results[1].verdict == "flagged"
    assert [r.sex for r in results] == ["男", "女", "女"]
    assert str(results[2].pushed_at) == "2026-11-16 08:05:00" and results[2].warning_no == "2026111600001"


@pytest.mark.parametrize("precinct,community", [("清河县公安局城东派出所", "东门社区"), ("城东所", "东门社区居委会"),
                                                ("城东", "东门社区居民委员会")])
def test_a_precinct_or_community_written_long_or_short_is_routed(directory, precinct, community):
    [result] = analyse("push.csv", pf.csv_bytes([pf.row(1, 所属派出所=precinct, 所属社区=community)])).results
    assert result.verdict == "ok" and result.precinct.name == "城东派出所" and result.community.name == "东门社区"


def test_a_short_form_names_its_own_precinct_only(directory, make_precinct):
    make_precinct("PCS03", name="城东镇派出所", communities=())
    [result] = analyse("push.csv", pf.csv_bytes([pf.row(1, 所属派出所="城东镇")])).results
    assert result.precinct.code == "PCS03"
    [result] = analyse("push.csv", pf.csv_bytes([pf.row(1, 所属派出所="城西镇")])).results
    assert result.verdict == "unrouted"


def test_amounts_in_wan_or_with_a_currency_and_dates_from_an_english_excel(directory):
    rows = [pf.row(1, **{"拟转账金额(元)": "5万", "推送时间": "11/16/2026 8:05"}),
            pf.row(2, **{"拟转账金额(元)": "2.5万元", "推送时间": "16/11/2026 08:05:00"}),
            pf.row(3, **{"拟转账金额(元)": "人民币 5,000 元"}),
            pf.row(4, **{"拟转账金额(元)": "五千", "推送时间": "13/13/2026"})]
    results = analyse("push.csv", pf.csv_bytes(rows)).results
    assert [str(r.amount_at_risk) for r in results] == ["50000.00", "25000.00", "5000.00", "None"]
    assert [str(r.pushed_at) for r in results[:2]] == ["2026-11-16 08:05:00"] * 2
    assert {p.code for p in results[3].problems} == {"amount", "pushed_at"}  # noted, never guessed


def test_reason_and_source_side_by_side_are_both_kept(directory):
    """SPEC lists 预警原因 and 预警来源 for the reason; a file with both columns loses neither."""
    header = ["预警编号", "姓名", "身份证号", "手机号", "风险等级", "预警来源", "预警原因", "所属派出所",
              "备注", "备注"]
    lines = [header, ["YJ1", "张三", pf.id_number(1), "13800000001", "高", "96110", "接听涉诈电话", "城东派出所",
                      "", ""],
             ["YJ2", "李四", pf.id_number(2), "13800000002", "中", "", "下载涉诈APP", "城东派出所",
              "已外出", "电话空号"]]
    data = "\n".join(",".join(line) for line in lines).encode()
    analysis = analyse("push.csv", data)
    assert [r.reason for r in analysis.results] == ["预警来源：96110；预警原因：接听涉诈电话", "下载涉诈APP"]
    assert analysis.results[1].notes == "备注：已外出；备注：电话空号" and analysis.header.unknown == []
    summary = import_file("push.csv", data)
    db.session.commit()
    push = db.session.get(Push, summary.push_id)
    assert push.column_map["预警原因"] == "预警来源、预警原因" and push.unknown_headers() == []


# --- found by the second adversarial review (2026-11-22) -----------------------------------------


def test_placeholders_for_a_missing_number_are_empty_and_never_make_two_people_one(directory):
    """无, / and 0000000000 in the number columns mean "none": two 张伟 with them are two people, and a row with
    nothing else to reach the person by is rejected."""
    rows = [pf.row(1, 姓名="张伟", 身份证号="无", 手机号="/", 户籍地址="城东镇东门社区1号"),
            pf.row(2, 姓名="张伟", 身份证号="/", 手机号="暂无", 户籍地址="城西镇西门社区8号", 现住址="",
                   所属派出所="城西派出所", 所属社区="西门社区"),
            pf.row(3, 身份证号="/", 手机号="无", 户籍地址="无", 现住址="-"),
            pf.row(4, 手机号="0000000000")]
    summary = import_file("push.csv", pf.csv_bytes(rows))
    db.session.commit()
    verdicts = {e["row"]: e["code"] for e in summary.errors}
    assert verdicts == {4: "no_contact"} and summary.counters["imported"] == 3
    people = db.session.scalars(db.select(Person).filter_by(name="张伟")).all()
    assert len(people) == 2 and {p.phone for p in people} == {None}
    assert {c.precinct.name for p in people for c in p.cases} == {"城东派出所", "城西派出所"}
    assert db.session.scalar(db.select(Person).filter_by(name="测试4")).phone is None


def test_a_mobile_under_lianxidianhua_is_read_where_the_mobile_column_is_empty(directory):
    header = ["预警编号", "姓名", "身份证号", "手机号码", "联系电话", "风险等级", "户籍地址", "所属派出所"]
    lines = [header, ["C1", "张三", "", "", "13800138000", "高", "", "城东派出所"],
             ["C2", "李四", pf.id_number(2), "13900139000", "0571-88886666", "高", "", "城东派出所"]]
    results = analyse("push.xlsx", _xlsx(lines)).results
    assert results[0].verdict == "ok" and results[0].phone == "13800138000"
    assert results[1].phone == "13900139000" and results[1].notes.startswith("联系电话另有：")
    assert "88886666" not in results[1].notes  # masked: notes are shown without an audited reveal


def test_dropdown_summary_and_example_sheets_beside_the_list_are_not_lists(directory):
    book = openpyxl.Workbook()
    book.active.title = "预警名单"
    for line in _lines([pf.row(1), pf.row(2)]):
        book.active.append(line)
    book.create_sheet("下拉选项").append(["风险等级", "疑似诈骗类型", "所属派出所", "所属社区", "是否外出务工"])
    book["下拉选项"].append(["高", "刷单返利", "城东派出所", "东门社区", "是"])
    book.create_sheet("汇总").append(["所属派出所", "所属社区", "风险等级", "人数"])
    book["汇总"].append(["城东派出所", "东门社区", "高", 2])
    example = book.create_sheet("填写示例")
    for line in _lines([pf.row(99, 姓名="示例")]):
        example.append(line)
    out = io.BytesIO()
    book.save(out)
    analysis = analyse("push.xlsx", out.getvalue())
    assert analysis.sheet == "预警名单" and [r.warning_no for r in analysis.results] == ["YJ0000001", "YJ0000002"]


def test_an_information_line_above_the_header_is_not_taken_for_it(directory):
    lines = [["编号", "清反诈〔2026〕118号", "下发时间", "2026-11-16 08:00", "备注", "请于当日反馈"],
             *_lines([pf.row(1), pf.row(2)])]
    analysis = analyse("push.xlsx", _xlsx(lines))
    assert analysis.header_row == 2 and [r.row_number for r in analysis.results] == [3, 4]


def test_a_csv_row_shifted_by_an_unquoted_comma_is_rejected_and_says_why(directory):
    data = pf.csv_bytes([pf.row(1), pf.row(2, 预警原因="拦截XXX")]).decode("utf-8-sig")
    data = data.replace("拦截XXX", "拦截,银行反馈")  # 17 cells under 16 headers
    results = analyse("push.csv", data.encode()).results
    assert results[0].verdict == "ok" and results[1].verdict == "rejected"
    assert [p.code for p in results[1].problems] == ["shifted"]


def test_json_rows_with_misnamed_fields_or_without_a_tier_are_refused_and_nothing_is_written(directory):
    with pytest.raises(ImportRefused, match="无法识别的字段：id_card、mobile、risk_level"):
        import_rows([{"warning_id": "W1", "name": "张三", "id_card": pf.id_number(1), "mobile": "13800138000",
                      "risk_level": "high"}])
    with pytest.raises(ImportRefused, match="没有必填字段 tier"):
        import_rows([{"warning_id": "W1", "name": "张三", "phone": "13800138000"}])
    assert _count(Push) == 0


def test_section_lines_and_a_hint_line_are_not_rows(directory):
    lines = _lines([pf.row(1), pf.row(2)])
    hint = ["必填", "格式：2026-11-16 08:00", "必填", "男/女", "18位", "11位", "特高危/高/中/低"]
    lines = [lines[0], hint, ["一、高风险（1人）"], lines[1], ["二、中风险（1人）"], lines[2]]
    summary = import_file("push.xlsx", _xlsx(lines, merges=("A3:P3", "A5:P5")))
    db.session.commit()
    assert summary.counters["rows_total"] == 2 and summary.counters["rejected"] == 0


def test_invisible_characters_leading_zero_mobiles_twelve_hour_times_and_utf16(directory):
    rows = [pf.row(1, 预警编号="YJ005\u200b", 手机号="013800138000", 推送时间="2026/11/16 下午 2:30"),
            pf.row(2, 预警编号="YJ005"), pf.row(3, 所属派出所="", 所属社区="新村")]
    results = analyse("push.csv", pf.csv_bytes(rows)).results
    assert results[0].phone == "13800138000" and results[0].phone_valid
    assert str(results[0].pushed_at) == "2026-11-16 14:30:00" and results[1].verdict == "duplicate"
    assert results[2].verdict == "unrouted" and "社区“新村”" in analyse_errors(rows)[4]
    utf16 = "\n".join("\t".join(line) for line in _lines([pf.row(7)])).encode("utf-16")
    assert [r.warning_no for r in analyse("名单.txt", utf16).results] == ["YJ0000007"]


def analyse_errors(rows: list[dict]) -> dict[int, str]:
    from dissuasion.imports.rows import sentence, spec
    return {r.row_number: " ".join(sentence(spec(p)) for p in r.problems)
            for r in analyse("push.csv", pf.csv_bytes(rows)).results}


# --- found by the review of the above (same day) ---------------------------------------------------


def test_a_two_row_header_whose_second_row_holds_the_required_columns(directory):
    top = ["序号", "姓名", "身份证号", "手机号", "预警信息", "", "", "户籍地址", "所属派出所"]
    sub = ["", "", "", "", "预警编号", "风险等级", "预警原因", "", ""]
    data = [1, "张三", pf.id_number(1), "13800000001", "YJ1", "高", "接听涉诈电话", "城东镇1号", "城东派出所"]
    results = analyse("push.xlsx", _xlsx([top, sub, data], merges=("E1:G1",))).results
    assert [(r.verdict, r.name, r.phone, r.reason) for r in results] == [("ok", "张三", "13800000001", "接听涉诈电话")]


def _book(sheets: dict[str, list[list]]) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, lines in sheets.items():
        sheet = book.create_sheet(name)
        for line in lines:
            sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_sheet_choice_never_drops_a_list_nor_imports_an_example(directory):
    lists = {"11月16日名单": _lines([pf.row(1)]), "11月17日汇总": _lines([pf.row(2), pf.row(3), pf.row(4), pf.row(5)])}
    with pytest.raises(ImportRefused, match="2 个工作表都是预警名单"):
        analyse("push.xlsx", _book(lists))
    lacking = [h if h != "风险等级" else "风险类型" for h in pf.STANDARD]
    example = {"名单": _lines([pf.row(1), pf.row(2)], lacking), "填写示例": _lines([pf.row(99)])}
    with pytest.raises(ImportRefused, match="缺少必需的列：风险等级"):
        analyse("push.xlsx", _book(example))
    template = {"名单": _lines([pf.row(1)], lacking), "模板": [pf.STANDARD]}
    with pytest.raises(ImportRefused, match="缺少必需的列：风险等级"):
        analyse("push.xlsx", _book(template))


def test_a_csv_line_with_a_stray_comma_at_its_end_still_imports(directory):
    text = pf.csv_bytes([pf.row(1), pf.row(2), pf.row(3)]).decode("utf-8-sig").splitlines()
    text[2] += ","
    results = analyse("push.csv", "\n".join(text).encode()).results
    assert [r.verdict for r in results] == ["ok", "ok", "ok"]


def test_placeholder_error_cells_and_pinyin_names(directory):
    rows = [pf.row(1, 姓名="Na", 身份证号="", 手机号="#VALUE!", 户籍地址="城东镇1号"),
            pf.row(2, 姓名="Na", 身份证号="", 手机号="#VALUE!", 户籍地址="城东镇2号")]
    summary = import_file("push.csv", pf.csv_bytes(rows))
    db.session.commit()
    assert summary.counters["persons_created"] == 2
    assert {p.name for p in db.session.scalars(db.select(Person))} == {"Na"}


def test_an_empty_template_beside_a_dropdown_sheet_says_there_are_no_rows(directory):
    dropdown = [["风险等级", "疑似诈骗类型", "所属派出所"], ["高", "刷单返利", "城东派出所"]]
    sheets = {"名单": [pf.STANDARD], "下拉选项": dropdown}
    with pytest.raises(ImportRefused, match="没有任何数据行"):
        analyse("push.xlsx", _book(sheets))


# --- 2026-11-22 (third session) ---------------------------------------------------------------------


def test_times_written_in_words_and_the_midnight_that_ends_a_day(directory):
    written = {1: "2026年11月16日晚上12时30分", 2: "2026/11/16 晚上12点", 3: "2026年11月16日晚上8点半",
               4: "2026年11月16日 20时", 5: "2026年11月16日20点05分10秒", 6: "2026/11/16 8点"}
    rows = [pf.row(n, 推送时间=value) for n, value in written.items()]
    results = analyse("push.csv", pf.csv_bytes(rows)).results
    assert [str(r.pushed_at) for r in results] == [
        "2026-11-17 00:30:00", "2026-11-17 00:00:00", "2026-11-16 20:30:00", "2026-11-16 20:00:00",
        "2026-11-16 20:05:10", "2026-11-16 08:00:00"]
    assert all(not r.problems for r in results)


def test_a_csv_with_a_comma_for_every_column_excel_ever_formatted(directory):
    """Excel writes empty cells up to column XFD when a cell that far right was once formatted: each line then ends in
    16,000 commas. The list imports as if they were not there, and its error report is as wide as the list."""
    from dissuasion.imports.models import PushRowError
    lines = pf.csv_bytes([pf.row(1), pf.row(2, 风险等级="极高")]).decode("utf-8-sig").splitlines()
    wide = "\r\n".join(line + "," * (16384 - len(line.split(","))) for line in lines).encode()
    summary = import_file("push.csv", wide)
    db.session.commit()
    assert (summary.counters["imported"], summary.counters["rejected"]) == (1, 1)
    error = db.session.scalars(db.select(PushRowError)).one()
    assert error.cells[0] == "YJ0000002" and error.cells[6] == "极高" and len(error.cells) <= len(pf.STANDARD)


def test_words_in_a_number_column_are_no_number_and_go_to_the_notes(directory):
    rows = [pf.row(1, 姓名="李强", 身份证号="", 手机号="停机", 户籍地址="城东镇1号"),
            pf.row(2, 姓名="李强", 身份证号="", 手机号="停机", 户籍地址="城东镇2号", 风险等级="高"),
            pf.row(3, 身份证号="不详", 手机号="空号", 户籍地址="", 现住址="")]
    results = analyse("push.csv", pf.csv_bytes(rows)).results
    assert [(r.phone, r.verdict) for r in results] == [("", "ok"), ("", "ok"), ("", "rejected")]
    assert "手机号：停机" in results[0].notes and not results[0].flags
    assert [p.code for p in results[2].problems] == ["no_contact"]
    summary = import_file("push.csv", pf.csv_bytes(rows))
    db.session.commit()
    assert summary.counters["persons_created"] == 2  # two 李强 whose phone is 停机 are not one person


def test_the_valid_number_of_two_columns_is_the_one_kept(directory):
    headers = pf.STANDARD + ["联系电话", "公民身份号码"]
    lines = [headers] + [line + extra for line, extra in zip(_lines([
        pf.row(1, 手机号="停机"), pf.row(2, 手机号="138****0002", 身份证号="3399**********0028")])[1:],
        [["13900139001", ""], ["13900139002", pf.id_number(2)]], strict=True)]
    first, second = analyse("push.xlsx", _xlsx(lines)).results
    assert (first.phone, first.verdict) == ("13900139001", "ok") and "手机号：停机" in first.notes
    assert (second.phone, second.id_number, second.id_valid) == ("13900139002", pf.id_number(2), True)


def test_an_id_written_with_dashes_is_read_whole(directory):
    number = pf.id_number(1)
    dashed = f"{number[:6]}-{number[6:14]}-{number[14:]}"
    [result] = analyse("push.csv", pf.csv_bytes([pf.row(1, 身份证号=dashed)])).results
    assert (result.id_number, result.id_valid, result.verdict) == (number, True, "ok")


def test_direction_marks_copied_with_a_value_are_not_part_of_it(directory):
    rows = [pf.row(1, 风险等级="高\u202c", 手机号="\u202d13800130000\u202c", 身份证号=pf.id_number(1) + "\u200e"),
            pf.row(2, 所属派出所="\u2066城东派出所\u2069", 姓名="\u200f测试2")]
    lines = pf.csv_bytes(rows).decode("utf-8-sig").replace("风险等级", "风险等级\u202c", 1).encode()
    first, second = analyse("push.csv", lines).results
    assert (first.tier.value, first.phone, first.id_valid, first.verdict) == ("high", "13800130000", True, "ok")
    assert (second.name, second.verdict) == ("测试2", "ok")


def test_the_ministrys_category_names_and_other_ways_of_saying_a_type(directory):
    written = ["刷单返利类", "刷单返利类诈骗", "虚假投资理财类", "冒充公检法及政府机关类", "冒充电商物流客服类",
               "虚假征信类", "网络游戏产品虚假交易类", "冒充领导、熟人", "虚假购物、服务", "网络婚恋交友", "贷款诈骗",
               "其它", "电信诈骗"]
    rows = [pf.row(n, 疑似诈骗类型=value) for n, value in enumerate(written, start=1)]
    results = analyse("push.csv", pf.csv_bytes(rows)).results
    assert [(r.fraud_type.value, r.fraud_type_text) for r in results] == [
        ("rebate", ""), ("rebate", ""), ("investment", ""), ("authority", ""), ("customer_service", ""),
        ("credit", ""), ("game", ""), ("acquaintance", ""), ("shopping", ""), ("romance", ""), ("loan", ""),
        ("other", ""), ("other", "电信诈骗")]


def test_away_answers_in_words_and_placeholders_for_an_amount_or_a_time(directory):
    rows = [pf.row(1, 是否外出务工="是（杭州）", 风险等级="高"), pf.row(2, 是否外出务工="在外地"),
            pf.row(3, 是否外出务工="无", 推送时间="/", **{"拟转账金额(元)": "无"}),
            pf.row(4, 推送时间="20261116", **{"拟转账金额(元)": "未知"}),
            pf.row(5, 推送时间="2026/11/16 3:05 PM"), pf.row(6, 推送时间="2026-11-16 15:05:00.0")]
    results = analyse("push.csv", pf.csv_bytes(rows)).results
    assert [r.away_from_home for r in results[:3]] == [True, True, False]
    assert [r.amount_at_risk for r in results[2:4]] == [None, None] and results[2].pushed_at is None
    assert [str(r.pushed_at) for r in results[3:]] == ["2026-11-16 00:00:00", "2026-11-16 15:05:00",
                                                       "2026-11-16 15:05:00"]
    assert all(not r.problems for r in results), [(r.row_number, r.problems) for r in results if r.problems]


def test_more_header_spellings_and_hints_on_a_second_line_or_in_square_brackets(directory):
    spelled = {"预警编号": "预警编号【必填】", "风险等级": "风险等级\n特高危/高/中/低", "姓名": "姓名\n必填",
               "身份证号": "身份证", "手机号": "电话", "现住址": "居住地址", "所属派出所": "派出所", "所属社区": "社区"}
    lines = _lines([pf.row(1)])
    lines[0] = [spelled.get(h, h) for h in lines[0]]
    [result] = analyse("push.xlsx", _xlsx(lines)).results
    assert (result.verdict, result.id_valid, result.phone, result.community.name) == ("ok", True, "13800000001",
                                                                                      "东门社区")


def test_places_written_in_other_ways_reach_the_directory_kept_under_full_names(make_precinct):
    make_precinct("PCS01", name="清河县公安局城东派出所", communities=("东门社区", "东溪村"))
    make_precinct("PCS02", name="清河县公安局城西派出所", communities=("西门社区居委会",))
    written = [("城东派出所", "东门"), ("城东所", "东溪"), ("清河县城东派出所", "东门社区居委会"),
               ("清河县公安局城西派出所", "西门社区"), ("", "西门社区居委会"), ("城南派出所", "东门社区")]
    rows = [pf.row(n, 所属派出所=p, 所属社区=c) for n, (p, c) in enumerate(written, start=1)]
    results = analyse("push.csv", pf.csv_bytes(rows)).results
    assert [(r.precinct.code if r.precinct else None, r.community.name if r.community else None, r.verdict)
            for r in results] == [("PCS01", "东门社区", "ok"), ("PCS01", "东溪村", "ok"), ("PCS01", "东门社区", "ok"),
                                  ("PCS02", "西门社区居委会", "ok"), ("PCS02", "西门社区居委会", "ok"),
                                  (None, None, "unrouted")]


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_a_sep_line_names_the_delimiter_and_is_no_row(directory, delimiter):
    lines = pf.csv_bytes([pf.row(1), pf.row(2, 风险等级="")]).decode("utf-8-sig").replace(",", delimiter)
    analysis = analyse("push.csv", f"sep={delimiter}\r\n{lines}".encode())
    assert analysis.header_row == 1 and [r.row_number for r in analysis.results] == [2, 3]
    assert [r.verdict for r in analysis.results] == ["ok", "rejected"]


def test_a_row_with_several_problems_keeps_its_cells_once_and_the_report_still_gives_them_back(directory):
    """The original cells (encrypted) were stored once per problem: a row's long 备注 took its size again for each."""
    from dissuasion.imports.models import PushRowError
    from dissuasion.imports.report import error_report_rows

    rows = [pf.row(1, 身份证号="33010219900101123", 手机号="1380000", 备注="注" * 900), pf.row(2)]
    summary = import_file("two.csv", pf.csv_bytes(rows))
    errors = db.session.scalars(db.select(PushRowError).filter_by(push_id=summary.push_id)).all()
    assert len(errors) >= 2 and sum(1 for e in errors if e.raw) == 1
    header, lines = error_report_rows(db.session.get(Push, summary.push_id))
    assert len(lines) == 1 and lines[0][header.index("备注")] == "注" * 900


def test_a_panic_in_the_excel_reader_is_a_refusal_not_the_end_of_the_process(directory, monkeypatch):
    """The reader's panics (pyo3's PanicException, seen on a workbook that needed more memory than allowed) are not
    Exceptions: they went past the reader's guard, and the CLI printed a traceback instead of its JSON."""
    import python_calamine

    panic = type("PanicException", (BaseException,), {})

    def panics(_file):
        raise panic("called `Result::unwrap()` on an `Err` value")

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", panics)
    with pytest.raises(ImportRefused, match="无法读取这个 Excel 文件"):
        analyse("push.xlsx", _xlsx(_lines([pf.row(1)])))


def _csv_of(lines: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(lines)
    return out.getvalue().encode("utf-8-sig")


def test_a_push_date_and_a_push_time_in_two_columns_make_one_time(directory):
    """推送日期 2026-11-16 beside 推送时间 9:30: the time was dropped without a word (every warning at 00:00)."""
    headers = ["预警编号", "推送日期", "推送时间", "姓名", "身份证号", "手机号", "风险等级", "所属派出所", "所属社区"]
    lines = [headers] + [[f"YJ{n}", "2026-11-16", clock, f"测试{n}", pf.id_number(n), f"138{n:08d}", "高",
                          "城东派出所", "东门社区"] for n, clock in ((1, "9:30"), (2, "14:05:09"), (3, "8时30分"))]
    results = analyse("push.csv", _csv_of(lines)).results
    assert [r.pushed_at for r in results] == [dt.datetime(2026, 11, 16, 9, 30), dt.datetime(2026, 11, 16, 14, 5, 9),
                                              dt.datetime(2026, 11, 16, 8, 30)]
    assert not any(r.problems for r in results)
    book = openpyxl.Workbook()  # the same as Excel cells: a date cell and a time cell
    book.active.append(headers)
    book.active.append(["YJ9", dt.date(2026, 11, 16), dt.time(21, 15), "测试9", pf.id_number(9), "13800000009", "高",
                        "城东派出所", "东门社区"])
    out = io.BytesIO()
    book.save(out)
    assert analyse("push.xlsx", out.getvalue()).results[0].pushed_at == dt.datetime(2026, 11, 16, 21, 15)


def test_of_two_tier_or_name_columns_the_one_that_reads_is_taken(directory):
    """预警等级 红色预警 beside 风险等级 高 rejected every row; an empty first 姓名 column hid the filled one."""
    headers = ["预警编号", "预警等级", "姓名", "身份证号", "手机号", "风险等级", "所属派出所", "姓名"]
    lines = [headers, ["YJ1", "红色预警", "", pf.id_number(1), "13800000001", "高", "城东派出所", "张一"],
             ["YJ2", "中", "李二", pf.id_number(2), "13800000002", "", "城东派出所", ""],
             ["YJ3", "红色预警", "王三", pf.id_number(3), "13800000003", "", "城东派出所", ""]]
    first, second, third = analyse("push.csv", _csv_of(lines)).results
    assert (first.verdict, first.tier.value, first.name) == ("ok", "high", "张一")
    assert (second.verdict, second.tier.value, second.name) == ("ok", "medium", "李二")
    assert third.verdict == "rejected" and "红色预警" in third.problems[0].value  # neither reads: the first is named


def test_a_push_time_typed_as_a_number_like_20261116_is_read(directory):
    book = openpyxl.Workbook()
    for line in _lines([pf.row(1, 推送时间=20261116), pf.row(2, 推送时间=20261116083000)]):
        book.active.append(line)
    out = io.BytesIO()
    book.save(out)
    first, second = analyse("push.xlsx", out.getvalue()).results
    assert (first.pushed_at, second.pushed_at) == (dt.datetime(2026, 11, 16), dt.datetime(2026, 11, 16, 8, 30))
    assert not first.problems and not second.problems


def test_person_columns_headed_with_whom_they_are_about_are_read(directory):
    """受害人姓名, 受害人身份证号, 受害人电话: every row was rejected as having no name, no ID and no contact."""
    headers = ["预警编号", "受害人姓名", "受害人身份证号", "当事人手机号", "风险等级", "所属派出所"]
    lines = [headers, ["YJ1", "张一", pf.id_number(1), "13800000001", "高", "城东派出所"]]
    (result,) = analyse("push.csv", _csv_of(lines)).results
    assert (result.verdict, result.name, result.id_valid, result.phone) == ("ok", "张一", True, "13800000001")


def test_an_amount_column_in_wan_yuan_is_read_as_yuan(directory):
    """涉案金额（万元） 1.5 was dropped without a word; it is 15,000.00 yuan. A cell that names its unit keeps it."""
    headers = ["预警编号", "姓名", "身份证号", "风险等级", "所属派出所", "涉案金额（万元）"]
    lines = [headers] + [[f"YJ{n}", f"测试{n}", pf.id_number(n), "高", "城东派出所", amount]
                         for n, amount in ((1, "1.5"), (2, "3000元"), (3, "0.25万"), (4, ""))]
    amounts = [r.amount_at_risk for r in analyse("push.csv", _csv_of(lines)).results]
    assert amounts == [Decimal("15000.00"), Decimal("3000.00"), Decimal("2500.00"), None]


def test_a_transliterated_name_is_one_person_whichever_dot_was_typed(directory):
    """阿依古丽·买买提 with •, ・, ., ‧ or - and the same mobile (no ID): seven persons and seven cases before."""
    rows = [pf.row(n, 姓名=f"阿依古丽{dot}买买提", 身份证号="", 手机号="13900000001")
            for n, dot in enumerate(["·", "•", "・", ".", "‧", "-", " · "], start=1)]
    summary = import_file("push.csv", pf.csv_bytes(rows))
    assert summary.counters["persons_created"] == 1 and summary.counters["cases_created"] == 1
    assert db.session.scalar(db.select(Person.name)) == "阿依古丽·买买提"


def test_words_after_a_phone_number_go_to_the_notes_and_a_multiplication_sign_is_the_ids_x(directory):
    rows = [pf.row(1, 手机号="13800000029（本人）"), pf.row(2, 手机号="13800000030(微信同号)"),
            pf.row(3, 身份证号=pf.id_number(3)[:17] + "×")]
    first, second, third = analyse("push.csv", pf.csv_bytes(rows)).results
    assert (first.phone, first.phone_valid, first.verdict) == ("13800000029", True, "ok")
    assert "本人" in first.notes and "微信同号" in second.notes and second.phone_valid
    assert third.id_number.endswith("X") and third.id_number[:17] == pf.id_number(3)[:17]


def test_a_stray_byte_in_a_utf8_file_is_refused_with_its_line(directory):
    data = pf.csv_bytes([pf.row(1), pf.row(2, 备注="见附件"), pf.row(3)])
    broken = data.replace("见附件".encode(), b"\xa0" + "见附件".encode())
    with pytest.raises(ImportRefused, match="第 3 行有不是 UTF-8 的字节（0xA0）"):
        analyse("push.csv", broken)
    with pytest.raises(ImportRefused, match="第 3 行时遇到无法识别的字节 0xA0"):
        analyse("push.csv", broken.removeprefix(b"\xef\xbb\xbf"))
