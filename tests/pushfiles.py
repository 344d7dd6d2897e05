"""Push files for tests, made by our own code: CSV (UTF-8, BOM, GB18030) and .xlsx with the mess real
exports carry (title rows with merged cells, blank rows, totals rows, numbers typed into ID and phone cells)."""
import csv
import io

import openpyxl

from dissuasion.privacy.pii import id_check_digit

STANDARD = ["预警编号", "推送时间", "姓名", "性别", "身份证号", "手机号", "风险等级", "预警原因", "疑似诈骗类型",
            "拟转账金额(元)", "户籍地址", "现住址", "所属派出所", "所属社区", "是否外出务工", "备注"]
ALIAS = ["编号", "下发时间", "姓名", "性别", "公民身份号码", "联系电话", "风险级别", "预警来源", "涉诈类型",
         "涉案金额", "户籍地", "居住地", "辖区派出所", "社区(村)", "外出务工", "备注"]


def id_number(n: int, birth: str = "19850101") -> str:
    body = f"339901{birth}{n % 1000:03d}"
    return body + id_check_digit(body)


def row(n: int, **over) -> dict:
    """A good row for person n, in PCS01/东门社区; keyword arguments replace fields (by STANDARD header)."""
    base = {"预警编号": f"YJ{n:07d}", "推送时间": "2026-11-16 08:30:00", "姓名": f"测试{n}", "性别": "男",
            "身份证号": id_number(n), "手机号": f"138{n:08d}", "风险等级": "中", "预警原因": "安装涉诈APP",
            "疑似诈骗类型": "刷单返利", "拟转账金额(元)": "5000.00", "户籍地址": "清河县城东镇东门社区1号",
            "现住址": "清河县城东镇东门社区1号", "所属派出所": "城东派出所", "所属社区": "东门社区",
            "是否外出务工": "否", "备注": ""}
    base.update(over)
    return base


def table(rows: list[dict], headers: list[str] = STANDARD) -> list[list]:
    return [headers] + [[r.get(h_std, "") for h_std in STANDARD] for r in rows]


def csv_bytes(rows: list[dict], headers=STANDARD, encoding: str = "utf-8-sig", title: str | None = None,
              totals: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    if title:
        writer.writerow([title])
        writer.writerow([])
    writer.writerows(table(rows, headers))
    if totals:
        writer.writerow(["合计", "", "", "", "", "", "", "", "", "15000.00"])
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[dict], headers=STANDARD, title: str | None = None, totals: bool = False,
               numeric_ids: bool = False, numeric_phones: bool = False) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "预警名单"
    if title:
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        sheet.append([])
    for line in table(rows, headers):
        sheet.append(line)
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text a person typed, as a center's export holds it, not a formula
    for r in range(sheet.max_row - len(rows) + 1, sheet.max_row + 1):
        if numeric_ids and str(sheet.cell(r, 5).value).isdigit():
            sheet.cell(r, 5).value = int(sheet.cell(r, 5).value)
        if numeric_phones and str(sheet.cell(r, 6).value).isdigit():
            sheet.cell(r, 6).value = int(sheet.cell(r, 6).value)
    if totals:
        sheet.append(["合计", None, None, None, None, None, None, None, None, 15000])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
