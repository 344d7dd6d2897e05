"""Memory bound on any upload (issue 22, finding 2): every reader refuses a cell, shared string, decompressed part
or row past its documented size before building it, with a Chinese message, and no bomb file takes the process
more than 300 MB above where it started (measured in a fresh process with ru_maxrss)."""
import io
import json
import re
import resource
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import openpyxl
import pytest

from dissuasion.imports.pipeline import ImportRefused, analyse
from tests import pushfiles as pf

MB = 2**20
#: What any single upload may add to the process's peak memory.
RSS_BUDGET_MB = 300


@pytest.fixture
def directory(make_precinct):
    make_precinct("PCS01", name="城东派出所", communities=("东门社区",))


def _list_xlsx() -> bytes:
    book = openpyxl.Workbook()
    for line in pf.table([pf.row(n) for n in range(1, 4)]):
        book.active.append(line)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _with_sheet(data: bytes, write_sheet, extra: dict | None = None) -> bytes:
    """The list's .xlsx with its sheet XML written by write_sheet(original, out) in pieces (a 450 MB part is never
    held whole, here either), and extra parts added."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename == "xl/worksheets/sheet1.xml":
                with target.open(_deflated(item.filename), "w", force_zip64=True) as f:
                    write_sheet(source.read(item.filename), f)
            else:
                target.writestr(item, source.read(item.filename))
        for name, content in (extra or {}).items():
            target.writestr(name, content)
    return out.getvalue()


def _deflated(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _repeat(f, piece: bytes, total: int) -> None:
    block = piece * (MB // len(piece))
    for _ in range(total // len(block)):
        f.write(block)


def _cell_in_row_2(write_text):
    """A sheet writer that adds, at the end of the list's first data row, an inline string cell in column AZ (no
    header names it) whose text write_text(f) writes."""
    def write(xml: bytes, f) -> None:
        first, second, rest = xml.split(b"</row>", 2)
        f.write(first + b"</row>" + second + b'<c r="AZ2" t="inlineStr"><is><t>')
        write_text(f)
        f.write(b"</t></is></c></row>" + rest)
    return write


def single_cell_bomb(megabytes: int = 450) -> bytes:
    """The finding: a ~460 KB .xlsx holding one cell of 450 MB in an unmapped column (AZ) of a data row."""
    return _with_sheet(_list_xlsx(), _cell_in_row_2(lambda f: _repeat(f, b"x", megabytes * MB)))


def shared_string_bomb(megabytes: int = 300) -> bytes:
    """One shared string of 300 MB that every row's 备注 names."""
    def write(xml: bytes, f) -> None:
        f.write(xml.replace(b"</row>", b'<c r="AZ9" t="s"><v>0</v></c></row>', 1))
    sst_head = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1">'
    data = _with_sheet(_list_xlsx(), write)
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(b"</Relationships>", b'<Relationship Id="rIdS" Target="sharedStrings.xml" '
                                          b'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
                                          b'sharedStrings"/></Relationships>')
            target.writestr(item, content)
        with target.open(_deflated("xl/sharedStrings.xml"), "w", force_zip64=True) as f:
            f.write(sst_head + b"<si><t>")
            _repeat(f, "注".encode(), megabytes * MB)
            f.write(b"</t></si></sst>")
    return out.getvalue()


def row_bomb() -> bytes:
    """One row of 16,384 cells of 2,000 characters each (32 MB of XML in a single row), the rest a normal list."""
    def write(xml: bytes, f) -> None:
        head, _sep, tail = xml.partition(b"</sheetData>")
        f.write(head + b'<row r="9">')
        cell = b"<c t=\"inlineStr\"><is><t>" + b"y" * 2000 + b"</t></is></c>"
        for _ in range(16_384):
            f.write(cell)
        f.write(b"</row></sheetData>" + tail)
    return _with_sheet(_list_xlsx(), write)


def far_cell_bomb() -> bytes:
    """One value in XFD1048576 of a 5 KB file: the reader would make room for 17 billion cells."""
    def write(xml: bytes, f) -> None:
        f.write(xml.replace(b"</sheetData>", b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t> </t></is>'
                            b"</c></row></sheetData>"))
    return _with_sheet(_list_xlsx(), write)


def csv_cell_bomb() -> bytes:
    """A CSV whose one cell is 40 MB (an upload may be 50 MB)."""
    return pf.csv_bytes([pf.row(1)]) + b"YJ9,2026-11-16,x," + b"z" * (40 * MB) + b"\r\n"


def csv_commas_bomb() -> bytes:
    """45 MB of commas: 23 million empty cells."""
    line = b"," * 8000 + b"a\r\n"
    return pf.csv_bytes([pf.row(1)]) + line * (45 * MB // len(line))


BOMBS = {"xlsx_single_cell_450mb": single_cell_bomb, "xlsx_shared_string_300mb": shared_string_bomb,
         "xlsx_row_32mb": row_bomb, "xlsx_far_cell": far_cell_bomb, "csv_cell_40mb": csv_cell_bomb,
         "csv_commas_45mb": csv_commas_bomb}
EXPECTED = {"xlsx_single_cell_450mb": "超过 Excel 允许的 32,767 个字符", "xlsx_shared_string_300mb": "32,767 个字符",
            "xlsx_row_32mb": "有一行的内容超过", "xlsx_far_cell": "删除名单右侧的所有空列",
            "csv_cell_40mb": "超过 8 MB", "csv_commas_45mb": "单元格过多"}

#: Run in a fresh interpreter: build the app, read the file, note the peak so far, analyse it, say what happened.
PROBE = textwrap.dedent("""
    import json, resource, sys
    from dissuasion import create_app
    from dissuasion.extensions import db
    from dissuasion.imports.pipeline import ImportRefused, analyse
    from tests.conftest import _test_config
    app = create_app(_test_config(sys.argv[2]))
    with app.app_context():
        db.create_all()
        data = open(sys.argv[1], "rb").read()
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        try:
            analyse(sys.argv[1].rsplit("/", 1)[-1], data)
            outcome = "accepted"
        except ImportRefused as exc:
            outcome = str(exc)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"outcome": outcome, "rise_mb": (after - before) / 1024}))
""")


def peak_rise(path: Path, database: Path) -> dict:
    """{outcome, rise_mb}: what analysing the file did in a fresh process, and how far its peak RSS rose."""
    done = subprocess.run([sys.executable, "-c", PROBE, str(path), f"sqlite:///{database}"], capture_output=True,
                          text=True, cwd=Path(__file__).parent.parent, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_450_mb_single_cell_xlsx_is_refused_with_a_chinese_message(directory):
    data = single_cell_bomb()
    assert len(data) < 600 * 1024  # what a center's user (or anyone with a token) can send
    with pytest.raises(ImportRefused, match="超过 Excel 允许的 32,767 个字符"):
        analyse("bomb.xlsx", data)


def test_the_450_mb_single_cell_xlsx_pushed_through_the_api_is_a_400(client, make_user, bearer, directory):
    headers = bearer(make_user("center", precinct=None))
    response = client.post("/api/v1/pushes", headers=headers,
                           data={"file": (io.BytesIO(single_cell_bomb()), "bomb.xlsx")})
    assert response.status_code == 400 and "32,767" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("kind", list(BOMBS))
def test_every_bomb_is_refused_and_the_peak_rss_stays_under_300_mb_above_baseline(kind, tmp_path):
    path = tmp_path / (kind + (".csv" if kind.startswith("csv") else ".xlsx"))
    path.write_bytes(BOMBS[kind]())
    result = peak_rise(path, tmp_path / "probe.db")
    assert result["outcome"] != "accepted" and EXPECTED[kind] in result["outcome"], result
    assert result["rise_mb"] < RSS_BUDGET_MB, result


def test_a_cell_as_long_as_excel_allows_is_still_read(directory):
    data = _with_sheet(_list_xlsx(), _cell_in_row_2(lambda f: f.write("长".encode() * 32_000)))
    assert len(analyse("long.xlsx", data).results) == 3
    data = _with_sheet(_list_xlsx(), _cell_in_row_2(lambda f: f.write("长".encode() * 33_000)))
    with pytest.raises(ImportRefused, match="32,767"):
        analyse("long.xlsx", data)


def test_a_json_body_of_millions_of_objects_is_refused_before_it_is_parsed(client, make_user, bearer, app):
    app.config["IMPORT_MAX_ROWS"] = 1000
    body = b"[" + b"{}," * 5000 + b"{}]"
    response = client.post("/api/v1/pushes", data=body, content_type="application/json",
                           headers=bearer(make_user("center", precinct=None)))
    assert response.status_code == 400 and "对象或值过多" in response.get_json()["error"]["message"]


def test_a_json_field_longer_than_a_cell_is_refused(client, make_user, bearer, directory):
    rows = [{"warning_id": "J1", "tier": "高", "name": "张三", "phone": "13800138000", "notes": "x" * 40_000}]
    response = client.post("/api/v1/pushes", json={"rows": rows}, headers=bearer(make_user("center", precinct=None)))
    assert response.status_code == 400 and "32,767" in response.get_json()["error"]["message"]


def test_the_limits_are_documented(app):
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    assert re.search(r"32,767", readme) and "8 MB" in readme and "16,384" in readme
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss > 0
