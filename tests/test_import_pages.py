"""The import as center staff use it: upload, preview (nothing written), commit, the push page, the error
report, and `import-list` on the command line. Files are made here with the project's own code."""
import csv
import html
import io
import json
import random
import re

import openpyxl

from dissuasion.cases.models import Case, EarlyWarning
from dissuasion.cli.demodata import PUSH_HEADER, fake_id_number
from dissuasion.extensions import db
from dissuasion.imports.models import COUNTERS, Push

SPEC_KEYS = {"status", "message", "rows_total", "imported", "flagged", "rejected", "duplicates", "unrouted",
             "persons_created", "cases_created", "cases_updated", "cases_escalated", "errors"}
EVIL = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil.example","点我")'


def person(n: int, **over) -> dict:
    row = {"预警编号": f"YJ{n:06d}", "推送时间": "2026-11-16 08:30:00", "姓名": f"测试{n}", "性别": "男",
           "身份证号": fake_id_number(random.Random(n)), "手机号": f"138{n:08d}", "风险等级": "中",
           "所属派出所": "城东派出所", "所属社区": "东门社区", "户籍地址": "清河县城东镇东门社区1号"}
    row.update(over)
    return row


def push_csv(rows: list[dict], title: bool = True) -> bytes:
    """A push as a center's Excel saves it as CSV: a title row, the header, the rows, a totals row."""
    out = io.StringIO()
    writer = csv.writer(out)
    if title:
        writer.writerow(["反诈中心预警名单"])
    writer.writerow(PUSH_HEADER)
    writer.writerows([[r.get(h, "") for h in PUSH_HEADER] for r in rows])
    writer.writerow(["合计", len(rows)])
    return ("\ufeff" + out.getvalue()).encode()


#: Excel rows (title on row 1, header on row 2): 3 good, 4 bad check digit (flagged), 5 no tier (rejected),
#: 6 a formula-looking name and a bad phone (flagged), 7 an unknown precinct (unrouted).
def messy_rows() -> list[dict]:
    bad_id = fake_id_number(random.Random(2))
    return [person(1), person(2, 身份证号=bad_id[:17] + ("1" if bad_id[17] == "0" else "0")),
            person(3, 风险等级=""), person(4, 姓名=FORMULA, 手机号="12345"), person(5, 所属派出所="北山派出所")]


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def _upload(client, data: bytes, name: str = "名单.csv"):
    return client.post("/imports/preview", data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def _token(page: str) -> str:
    return page.split('name="token" type="hidden" value="')[1].split('"')[0]


def _import(client, data: bytes) -> None:
    client.post("/imports/commit", data={"token": _token(_upload(client, data).get_data(as_text=True))})


# --- the command line ---------------------------------------------------------------------------------


def test_import_list_json_has_exactly_specs_keys_and_exits_0(runner, directory, tmp_path):
    path = tmp_path / "push.csv"
    path.write_bytes(push_csv(messy_rows()))
    result = runner.invoke(args=["import-list", str(path), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert set(summary) == SPEC_KEYS and summary["status"] == "committed"
    assert (summary["rows_total"], summary["imported"], summary["rejected"], summary["flagged"],
            summary["unrouted"]) == (5, 4, 1, 2, 1)
    assert any(e["row"] == 5 and e["column"] == "风险等级" and e["code"] == "tier" for e in summary["errors"])
    assert all(set(e) == {"row", "column", "code", "message"} for e in summary["errors"])
    again = runner.invoke(args=["import-list", str(path), "--json"])
    assert again.exit_code == 0 and json.loads(again.output)["status"] == "duplicate_file"
    assert _count(Push) == 1 and _count(EarlyWarning) == 4


def test_import_list_refuses_a_file_that_is_not_a_list_and_writes_nothing(runner, directory, tmp_path):
    path = tmp_path / "random.xlsx"
    path.write_bytes(b"\x00\x01not a spreadsheet at all" * 50)
    result = runner.invoke(args=["import-list", str(path), "--json"])
    assert result.exit_code == 1
    summary = json.loads(result.output)
    assert set(summary) == SPEC_KEYS and summary["status"] == "refused" and summary["message"]
    assert all(summary[k] == 0 for k in COUNTERS) and summary["errors"] == []
    text = runner.invoke(args=["import-list", str(path)])
    assert text.exit_code == 1 and summary["message"] in text.output
    assert _count(Push) == 0 and _count(EarlyWarning) == 0 and _count(Case) == 0


def test_import_list_prints_a_chinese_summary(runner, directory, tmp_path):
    path = tmp_path / "push.csv"
    path.write_bytes(push_csv(messy_rows()))
    result = runner.invoke(args=["import-list", str(path)])
    assert result.exit_code == 0
    assert "已导入 4 条预警" in result.output and "第 5 行 风险等级" in result.output


# --- upload, preview, commit ----------------------------------------------------------------------------


def test_preview_writes_nothing_and_commit_writes_the_push(client, center):
    page = _upload(client, push_csv(messy_rows())).get_data(as_text=True)
    assert "表头在第 2 行" in page and "所属派出所" in page
    assert "风险等级为空" in page and "校验位不对" in page
    assert "数据有问题（将导入）" in page and "拒收（不导入）" in page and "已导入）" not in page  # nothing is yet
    assert _count(Push) == 0 and _count(EarlyWarning) == 0 and _count(Case) == 0
    response = client.post("/imports/commit", data={"token": _token(page)})
    assert response.status_code == 302
    push = db.session.scalar(db.select(Push))
    assert response.headers["Location"].endswith(f"/imports/{push.id}")
    assert (push.imported, push.rejected, push.flagged, push.uploaded_by_id) == (4, 1, 2, center.id)
    assert "已导入 4 条预警" in client.get(f"/imports/{push.id}").get_data(as_text=True)
    # the upload is gone once committed: the same form sent again imports nothing and names the push
    form = {"token": _token(page), "sha256": page.split('name="sha256" type="hidden" value="')[1].split('"')[0]}
    again = client.post("/imports/commit", data=form, follow_redirects=True)
    assert again.request.path == f"/imports/{push.id}"
    assert f"已经导入过（批次 #{push.id}）" in again.get_data(as_text=True)
    assert _count(Push) == 1
    gone = client.post("/imports/commit", data={"token": _token(page)})  # an upload nobody committed, cleaned up
    assert gone.headers["Location"].endswith("/imports/upload")


def test_the_preview_lists_the_rows_that_will_be_refused_before_routing_notes(client, center):
    rows = [person(n, 所属派出所="城北派出所") for n in range(1, 251)] + [person(251, 风险等级="")]
    page = _upload(client, push_csv(rows)).get_data(as_text=True)
    problems = page.split('class="problems"')[1]
    assert problems.index("风险等级为空") < problems.index("不在派出所目录中")  # row 253 first, though last in the file
    assert "拒收（不导入）" in problems.split("</tr>")[1]
    assert "另有 51 条问题未列出" in page


def test_the_preview_shows_the_first_problems_and_folds_the_rest(client, center):
    """A phone reaches 确认导入 without scrolling past 200 problems: 30 are listed, the rest behind 显示其余."""
    rows = [person(n, 所属派出所="城北派出所") for n in range(1, 51)]
    page = _upload(client, push_csv(rows)).get_data(as_text=True)
    shown, folded = page.split('class="more-problems"')
    assert shown.split('class="problems"')[1].count("<tr>") == 31  # the header row and 30 problems
    assert "显示其余 20 条" in folded and folded.count("不在派出所目录中") == 20


def test_the_push_page_folds_each_group_of_problems_after_20(client, center):
    _import(client, push_csv([person(n, 所属派出所="城北派出所") for n in range(1, 31)]))
    push = db.session.scalar(db.select(Push))
    page = client.get(f"/imports/{push.id}").get_data(as_text=True)
    shown, folded = page.split('class="more-problems"')
    assert shown.count("不在派出所目录中") == 20 and "显示其余 10 条" in folded


def test_an_imported_case_shows_its_creation_by_the_push_on_its_timeline(client, center):
    _import(client, push_csv([person(1)]))
    case = db.session.scalar(db.select(Case))
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    timeline = page.split("处置时间线")[1]
    assert "建立任务" in timeline and center.label in timeline and "来自推送 名单.csv" in timeline


def test_preview_of_a_file_already_imported_says_so(client, center):
    data = push_csv(messy_rows())
    _import(client, data)
    page = _upload(client, data).get_data(as_text=True)
    assert "这个文件已于" in page and "导入过" in page
    response = client.post("/imports/commit", data={"token": _token(page)}, follow_redirects=True)
    assert "本次没有任何改动" in response.get_data(as_text=True)
    assert _count(Push) == 1 and _count(EarlyWarning) == 4


def test_a_refused_file_shows_why_on_the_upload_page_and_writes_nothing(client, center):
    response = _upload(client, ("\ufeff" + ",".join(PUSH_HEADER) + "\n").encode())
    page = response.get_data(as_text=True)
    assert response.status_code == 422 and "文件未导入" in page and "没有任何数据行" in page
    assert 'id="upload-form"' in page
    assert _count(Push) == 0


def test_a_file_over_the_limit_gets_a_clear_message(client, center, app):
    app.config["MAX_CONTENT_LENGTH"] = 2048
    response = _upload(client, push_csv([person(n) for n in range(1, 80)]))
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "文件太大" in page and "上传上限" in page and 'id="upload-form"' in page


def test_another_users_upload_token_is_not_theirs_to_commit(client, center, auth, make_user):
    token = _token(_upload(client, push_csv(messy_rows())).get_data(as_text=True))
    auth.logout()
    auth.login(make_user("center"))
    response = client.post("/imports/commit", data={"token": token})
    assert response.headers["Location"].endswith("/imports/upload") and _count(Push) == 0


def test_a_script_in_a_name_is_text_on_the_preview_and_the_push_page(client, center):
    page = _upload(client, push_csv([person(1, 姓名=EVIL), person(2, 姓名=EVIL, 风险等级="")]))
    page = page.get_data(as_text=True)
    assert EVIL not in page and "&lt;script&gt;" in page
    client.post("/imports/commit", data={"token": _token(page)})
    push = db.session.scalar(db.select(Push))
    assert EVIL not in client.get(f"/imports/{push.id}").get_data(as_text=True)
    evil_name = "<img src=x onerror=alert(1)>.csv"
    page = _upload(client, push_csv([person(3)], title=False), evil_name).get_data(as_text=True)
    client.post("/imports/commit", data={"token": _token(page)})
    listing = client.get("/imports/").get_data(as_text=True)
    assert "<img src=x" not in listing and "&lt;img src=x onerror=alert(1)&gt;.csv" in listing


# --- push pages and the error report ---------------------------------------------------------------------


def test_pushes_list_newest_first_and_push_page_by_verdict(client, center):
    for rows in (messy_rows(), [person(9)]):
        _import(client, push_csv(rows))
    first, second = db.session.scalars(db.select(Push).order_by(Push.id)).all()
    listing = client.get("/imports/").get_data(as_text=True)
    assert listing.index(f"#{second.id}<") < listing.index(f"#{first.id}<")
    page = client.get(f"/imports/{first.id}").get_data(as_text=True)
    for text in ("拒收（未导入）", "数据有问题（已导入）", "待分派（已导入）", first.sha256, "下载错误报告",
                 "风险等级为空", "北山派出所"):
        assert text in page


def test_error_report_has_the_original_rows_with_problems_and_what_became_of_each(client, center):
    _import(client, push_csv(messy_rows()))
    push = db.session.scalar(db.select(Push))
    response = client.get(f"/imports/{push.id}/errors.xlsx")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    assert rows[0][:len(PUSH_HEADER)] == list(PUSH_HEADER) and rows[0][-3:] == ["原文件行号", "结果", "问题"]
    by_row = {r[-3]: r for r in rows[1:]}
    assert sorted(by_row) == [4, 5, 6, 7]  # not row 3 (fine)
    assert by_row[5][-2].startswith("未导入") and by_row[4][-2].startswith("已导入：数据有问题")  # rejected, flagged
    assert by_row[7][-2].startswith("已导入：派出所或社区不在目录中") and "北山派出所" in by_row[7][-1]
    assert all(r[-1].endswith("。") and "。；" not in r[-1] for r in rows[1:])
    assert by_row[5][PUSH_HEADER.index("姓名")] == "测试3" and "风险等级为空" in by_row[5][-1]
    assert by_row[6][PUSH_HEADER.index("手机号")] == "12345" and "手机号" in by_row[6][-1]
    assert by_row[4][PUSH_HEADER.index("身份证号")] == messy_rows()[1]["身份证号"]
    # a formula typed as a name stays text
    cell = sheet.cell(row=[r[-3] for r in rows].index(6) + 1, column=PUSH_HEADER.index("姓名") + 1)
    assert cell.value == FORMULA and cell.data_type == "s"


def test_error_report_gives_cells_back_exactly_as_the_file_wrote_them(client, center):
    """Staff fix the report and import it again: full-width brackets, spaces and digits are theirs, not ours."""
    address = "城东镇（东门）社区　１号"
    _import(client, push_csv([person(1), person(2, 风险等级="", 现住址=address, 备注=" 见附件 ")]))
    push = db.session.scalar(db.select(Push))
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"/imports/{push.id}/errors.xlsx").data)).active
    header, line = [[c.value for c in r] for r in sheet.iter_rows()]
    assert line[header.index("现住址")] == address and line[header.index("备注")] == " 见附件 "


def test_the_demo_creates_a_push_with_row_errors(runner, client, auth, make_user):
    assert runner.invoke(args=["demo", "--warnings", "20"]).exit_code == 0
    push = db.session.scalar(db.select(Push))
    assert push.rows_total == 20 and push.rejected == 1 and push.flagged == 3 and push.unrouted == 1
    auth.login(make_user("center"))
    page = client.get(f"/imports/{push.id}").get_data(as_text=True)
    assert "校验位不对" in page and "位数不对" in page and "北山派出所" in page


def test_the_preview_names_the_worksheet_it_read(client, center):
    book = openpyxl.Workbook()
    book.active.title = "填表说明"
    book.active.append(["风险等级填 高/中/低"])
    sheet = book.create_sheet("11月16日名单")
    for line in csv.reader(io.StringIO(push_csv([person(1)]).decode("utf-8-sig"))):
        sheet.append(line)
    out = io.BytesIO()
    book.save(out)
    page = _upload(client, out.getvalue(), "名单.xlsx").get_data(as_text=True)
    assert "读取工作表“11月16日名单”" in page and "表头在第 2 行" in page  # under the title row


def test_the_outcome_of_a_commit_is_said_in_the_users_language(client, center):
    client.post("/lang/en")
    page = _upload(client, push_csv(messy_rows())).get_data(as_text=True)
    assert "To import" in page
    done = client.post("/imports/commit", data={"token": _token(page)}, follow_redirects=True).get_data(as_text=True)
    said = re.search(r'class="flash[^"]*"[^>]*>([^<]*)<', done).group(1)
    assert said.startswith("Warnings imported: 4 (rows in the file: 5)")
    assert "rows rejected: 1" in said and "已" not in said
    again = client.post("/imports/commit", data={"token": _token(_upload(client, push_csv(messy_rows()))
                                                                .get_data(as_text=True))}, follow_redirects=True)
    assert "This file was imported already" in again.get_data(as_text=True)


def test_a_serial_number_column_read_as_warning_numbers_says_the_skipped_rows_are_other_people(client, center):
    """编号 1, 2, 3 on every day's list: the second day's rows are other people, not duplicates to drop quietly."""
    day = [{**person(n), "预警编号": str(n - 10)} for n in (11, 12)]
    _import(client, push_csv(day))
    other_day = [{**person(n), "预警编号": str(n - 20)} for n in (21, 22)]
    page = _upload(client, push_csv(other_day)).get_data(as_text=True)
    assert "有 2 行的预警编号已经属于另一个人" in page
    assert f"预警编号 1 已经导入过，但那一条是另一个人（{person(11)['姓名']}）" in page
    same_again = _upload(client, push_csv(day[:1] + [{**person(n), "预警编号": "9"} for n in (14, 15)]))
    page = same_again.get_data(as_text=True)
    assert "有 1 行的预警编号已经属于另一个人" in page  # (row 3, 测试11 again: no word about it; title in row 1)
    assert f"预警编号 9 在本文件第 4 行已用于另一个人（{person(14)['姓名']}）" in page


def test_in_english_a_refused_file_and_the_column_mapping_are_in_english_and_the_cli_stays_chinese(
        client, center, runner, tmp_path):
    client.post("/lang/en")
    page = _upload(client, ("\ufeff" + ",".join(PUSH_HEADER) + "\n").encode()).get_data(as_text=True)
    assert "The file has a header but no data rows" in page and "没有任何数据行" not in page
    no_tier = ",".join(h for h in PUSH_HEADER if h != "风险等级") + "\nYJ1,2026-11-16,张三\n"
    page = _upload(client, no_tier.encode()).get_data(as_text=True)
    assert "Missing required columns: Risk level (accepted headers: 风险等级、风险级别" in page
    page = _upload(client, push_csv(messy_rows())).get_data(as_text=True)
    mapping = re.search(r'<table class="mapping">.*?</table>', page, re.S).group(0)
    assert "<td>身份证号</td><td>ID number</td>" in mapping and "<td>推送时间</td><td>Pushed at</td>" in mapping
    path = tmp_path / "header-only.csv"
    path.write_text(",".join(PUSH_HEADER) + "\n", encoding="utf-8")
    result = runner.invoke(args=["import-list", str(path), "--json"])
    assert result.exit_code == 1 and "没有任何数据行" in json.loads(result.output)["message"]


def test_the_preview_judges_the_file_at_a_lower_priority_and_shows_it_as_before(client, center, app, monkeypatch):
    """The preview's judging (a second or two of CPU for a 10,000-row push) runs in a thread at the jobs' lower
    priority (JOBS_NICE), so that on a host whose cores the web workers share the officers' requests go first
    (issue 23's load test); the page it shows, and a refused file's message, are what they were."""
    import os
    import threading

    from dissuasion.imports import views

    seen = []

    def judged(filename, data):
        tid = threading.get_native_id()
        seen.append((threading.current_thread() is threading.main_thread(), os.getpriority(os.PRIO_PROCESS, tid)))
        return analyse(filename, data)

    analyse = views.analyse
    monkeypatch.setattr(views, "analyse", judged)
    here = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    page = _upload(client, push_csv(messy_rows())).get_data(as_text=True)
    assert "城东派出所" in page and _token(page)
    assert seen == [(False, min(19, here + app.config["JOBS_NICE"]))]
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == here  # the request's own thread: unchanged

    refused = _upload(client, "姓名,电话\n张三,138\n".encode())
    assert refused.status_code == 422 and "表头" in refused.get_data(as_text=True)
    assert len(seen) == 2 and not seen[1][0]

    app.config["JOBS_NICE"] = 0  # off: judged in the request's own thread, as before
    _upload(client, push_csv([person(9)]))
    assert seen[2] == (True, here)


def test_row_problems_read_in_the_users_language_and_are_stored_in_chinese(client, center):
    client.post("/lang/en")
    page = _upload(client, push_csv(messy_rows())).get_data(as_text=True)
    problems = html.unescape(page.split('class="problems"')[1])
    assert "The risk tier is empty" in problems and "fails its check digit" in problems
    assert 'Precinct "北山派出所" is not in the precinct directory' in problems
    assert "风险等级为空" not in problems and "校验位不对" not in problems
    client.post("/imports/commit", data={"token": _token(page)})
    push = db.session.scalar(db.select(Push))
    stored = {e.code: e.message for e in push.errors}
    assert stored["tier"].startswith("风险等级为空") and "校验位不对" in stored["id_checksum"]  # the report's words
    english = html.unescape(client.get(f"/imports/{push.id}").get_data(as_text=True))
    assert "The risk tier is empty" in english and 'Mobile number "*****" is not a valid number' in english
    assert "风险等级为空" not in english
    client.post("/lang/zh_CN")
    chinese = client.get(f"/imports/{push.id}").get_data(as_text=True)
    assert "风险等级为空" in chinese and "手机号“*****”格式不对" in chinese and "The risk tier" not in chinese


def test_a_problem_stored_before_its_words_were_kept_shows_as_stored(client, center):
    _import(client, push_csv(messy_rows()))
    push = db.session.scalar(db.select(Push))
    for error in push.errors:
        error.say = None
    db.session.commit()
    client.post("/lang/en")
    page = client.get(f"/imports/{push.id}").get_data(as_text=True)
    assert "风险等级为空" in page and "The risk tier is empty" not in page
