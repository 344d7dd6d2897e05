"""Memory bound on any upload (issue 22, finding 2): every reader refuses a cell, shared string, decompressed part
or row past its documented size before building it, with a Chinese message, and no bomb file takes the process
more than 300 MB above where it started (measured in a fresh process with ru_maxrss)."""
import io
import json
import re
import resource
import struct
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


def far_cell_bomb_written_otherwise() -> bytes:
    """The far cell of far_cell_bomb with its row's and its own reference after another attribute (as some writers
    put them): a check that read only `<row r=` and `<c r=` let it through, and the reader asked for 512 GB."""
    def write(xml: bytes, f) -> None:
        f.write(xml.replace(b"</sheetData>", b'<row spans="1:1" r="1048576"><c t="n" r="XFD1048576"><v>1</v></c>'
                            b"</row></sheetData>"))
    return _with_sheet(_list_xlsx(), write)


#: Ways to write a far cell that the reader places far away, each measured as the reader would place it.
FAR_CELLS = {
    "another attribute first": b'<row spans="1:1" r="1048576"><c t="n" r="XFD1048576"><v>1</v></c></row>',
    "its own row in a near row": b'<row r="9"><c r="A1048576" t="n"><v>1</v></c><c r="XFD9"><v>1</v></c></row>',
    "single quotes": b"<row r='9'><c r='XFD1048576' t='n'><v>1</v></c></row>",
    "a tab before the reference": b'<row r="9"><c\tr="XFD1048576" t="n"><v>1</v></c></row>',
    "spaces around =": b'<row r="9"><c r = "XFD1048576" t="n"><v>1</v></c></row>',
    "lower case": b'<row r="9"><c r="xfd1048576" t="n"><v>1</v></c></row>',
    "no references at all": b"<row/>" * 5000 + b"<row>" + b"<c><v>1</v></c>" * 2000 + b"</row>",
}


@pytest.mark.parametrize("written", list(FAR_CELLS))
def test_a_far_cell_is_found_however_its_tags_are_written(written, directory):
    data = _with_sheet(_list_xlsx(), lambda xml, f: f.write(xml.replace(b"</sheetData>",
                                                                        FAR_CELLS[written] + b"</sheetData>")))
    with pytest.raises(ImportRefused, match="删除名单右侧的所有空列"):
        analyse("far.xlsx", data)


def test_a_sheet_whose_relationship_is_written_in_single_quotes_is_still_measured(directory):
    def quoted(data: bytes) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
            for item in source.infolist():
                body = source.read(item.filename)
                if item.filename in ("xl/_rels/workbook.xml.rels", "xl/workbook.xml"):
                    body = re.sub(rb'(\w+)="([^"]*)"', rb"\1='\2'", body)
                target.writestr(item, body)
        return out.getvalue()
    with pytest.raises(ImportRefused, match="删除名单右侧的所有空列"):
        analyse("far.xlsx", quoted(far_cell_bomb_written_otherwise()))


def test_a_list_written_without_references_is_still_read(directory):
    """A writer may leave out every `r`: the rows and cells follow each other, and the list reads as it shows."""
    def write(xml: bytes, f) -> None:
        f.write(re.sub(rb' r="[A-Z]*\d+"', b"", xml))
    assert len(analyse("plain.xlsx", _with_sheet(_list_xlsx(), write)).results) == 3


# --- .xls, written by hand ---------------------------------------------------------------------------------------

def _rec(t, data=b""):
    return struct.pack("<HH", t, len(data)) + data

def _bof(dt):  # BIFF8 BOF
    return _rec(0x0809, struct.pack("<HHHHII", 0x0600, dt, 0x0DBB, 0x07CC, 0, 0x06))

def _number(row, col, value):
    return _rec(0x0203, struct.pack("<HHHd", row, col, 15, value))

def xls_bytes(cells, dim=None):
    """A BIFF8 .xls in an OLE2 compound file, holding number cells [(row, column, value)] on one sheet (written
    here by hand: no .xls writer is installed)."""
    sheet_body = _bof(0x10)
    d = dim or (0, max(r for r, _c, _v in cells) + 1, 0, max(c for _r, c, _v in cells) + 1)
    sheet_body += _rec(0x0200, struct.pack("<IIHHH", d[0], d[1], d[2], d[3], 0))
    for r, c, v in cells:
        sheet_body += _number(r, c, v)
    sheet_body += _rec(0x000A)
    name = "Sheet1"
    def globals_(offset):
        g = _bof(0x05)
        g += _rec(0x0042, struct.pack("<H", 1200))  # codepage UTF-16
        g += _rec(0x0085, struct.pack("<IBBB", offset, 0, 0, len(name)) + b"\x00" + name.encode())
        g += _rec(0x000A)
        return g
    g = globals_(0)
    g = globals_(len(g))
    stream = g + sheet_body
    if len(stream) < 4096:
        stream += b"\x00" * (4096 - len(stream))
    return _cfb(stream)

def _cfb(stream):
    SEC = 512
    nsec = (len(stream) + SEC - 1) // SEC
    stream = stream.ljust(nsec * SEC, b"\x00")
    # layout: sector 0 = FAT, sector 1 = directory, sectors 2.. = stream
    fat = [0xFFFFFFFD, 0xFFFFFFFE]  # FAT sector, dir end-of-chain
    for i in range(nsec):
        fat.append(2 + i + 1 if i < nsec - 1 else 0xFFFFFFFE)
    fat += [0xFFFFFFFF] * (128 - len(fat))
    assert len(fat) == 128
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x003E, 0x0003, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 44, 1)  # FAT sectors
    struct.pack_into("<I", header, 48, 1)  # first dir sector
    struct.pack_into("<I", header, 56, 4096)  # mini cutoff
    struct.pack_into("<I", header, 60, 0xFFFFFFFE)  # mini FAT start
    struct.pack_into("<I", header, 64, 0)
    struct.pack_into("<I", header, 68, 0xFFFFFFFE)  # DIFAT start
    struct.pack_into("<I", header, 72, 0)
    difat = [0] + [0xFFFFFFFF] * 108
    struct.pack_into("<109I", header, 76, *difat)
    def entry(name, typ, start, size, child=0xFFFFFFFF):
        e = bytearray(128)
        n = (name + "\x00").encode("utf-16-le")
        e[0:len(n)] = n
        struct.pack_into("<H", e, 64, len(n))
        e[66], e[67] = typ, 1
        struct.pack_into("<III", e, 68, 0xFFFFFFFF, 0xFFFFFFFF, child)
        struct.pack_into("<I", e, 116, start)
        struct.pack_into("<I", e, 120, size)
        return bytes(e)
    dirsec = entry("Root Entry", 5, 0xFFFFFFFE, 0, child=1) + entry("Workbook", 2, 2, nsec * SEC)
    dirsec += b"\x00" * (512 - len(dirsec))
    return bytes(header) + struct.pack("<128I", *fat) + dirsec + stream


def xls_far_cell_bomb() -> bytes:
    """A 6 KB .xls with a number in A1 and one in IV65536: the reader made room for 16.7 million cells (512 MB)."""
    return xls_bytes([(0, 0, 1.0), (65535, 255, 2.0)])


def csv_cell_bomb() -> bytes:
    """A CSV whose one cell is 40 MB (an upload may be 50 MB)."""
    return pf.csv_bytes([pf.row(1)]) + b"YJ9,2026-11-16,x," + b"z" * (40 * MB) + b"\r\n"


def csv_commas_bomb() -> bytes:
    """45 MB of commas: 23 million empty cells."""
    line = b"," * 8000 + b"a\r\n"
    return pf.csv_bytes([pf.row(1)]) + line * (45 * MB // len(line))


BOMBS = {"xlsx_single_cell_450mb": single_cell_bomb, "xlsx_shared_string_300mb": shared_string_bomb,
         "xlsx_row_32mb": row_bomb, "xlsx_far_cell": far_cell_bomb,
         "xlsx_far_cell_written_otherwise": far_cell_bomb_written_otherwise, "csv_cell_40mb": csv_cell_bomb,
         "csv_commas_45mb": csv_commas_bomb, "xls_far_cell": xls_far_cell_bomb}
EXPECTED = {"xlsx_single_cell_450mb": "超过 Excel 允许的 32,767 个字符", "xlsx_shared_string_300mb": "32,767 个字符",
            "xlsx_row_32mb": "有一行的内容超过", "xlsx_far_cell": "删除名单右侧的所有空列",
            "xlsx_far_cell_written_otherwise": "删除名单右侧的所有空列",
            "csv_cell_40mb": "超过 8 MB", "csv_commas_45mb": "单元格过多", "xls_far_cell": "A1:IV65536"}

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
    path = tmp_path / (kind + (".csv" if kind.startswith("csv") else ".xls" if kind.startswith("xls_") else ".xlsx"))
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


def test_an_xls_sheets_extent_is_read_from_its_records_before_the_reader_builds_it(directory):
    from dissuasion.imports.bounds import sheet_extents
    assert sheet_extents(xls_bytes([(0, 0, 1.0), (2, 2, 3.0)])) == [("Sheet1", 3, 3)]
    assert sheet_extents(xls_far_cell_bomb()) == [("Sheet1", 65536, 256)]
    with pytest.raises(ImportRefused, match=r"A1:IV65536（约 16,777,216 个单元格）"):
        analyse("far.xls", xls_far_cell_bomb())


def test_a_sheet_named_with_an_entity_is_measured_as_its_own_sheet(directory):
    """A sheet called 名单&汇总 is written 名单&amp;汇总 in the workbook: it is matched to its own part, so a huge
    hidden sheet beside it does not refuse the list."""
    book = openpyxl.Workbook()
    book.active.title = "名单&汇总"
    for line in pf.table([pf.row(n) for n in range(1, 4)]):
        book.active.append(line)
    hidden = book.create_sheet("底稿")
    hidden["XFD1048576"] = 1
    hidden.sheet_state = "hidden"
    out = io.BytesIO()
    book.save(out)
    assert len(analyse("entity.xlsx", out.getvalue()).results) == 3
