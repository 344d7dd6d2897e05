"""The import on center files of the third review (files the samples do not cover): a neighbouring county's precinct
of the same name, a person renamed by a later push, a row whose person's case is with another precinct, rejected
rows' other problems, duplicates, headers a center also uses, landlines written from abroad, old 15-digit IDs."""
import pytest

from dissuasion.cases.models import Case, EarlyWarning, Person
from dissuasion.extensions import db
from dissuasion.imports.models import PushRowError
from dissuasion.imports.pipeline import analyse, import_file
from tests import pushfiles as pf


@pytest.fixture
def directory(make_precinct):
    make_precinct("PCS01", name="城东派出所", communities=("东门社区", "朝阳社区"))
    make_precinct("PCS02", name="城西派出所", communities=("西门社区",))


def _problems(result) -> dict[str, object]:
    return {p.code: p for p in result.problems}


@pytest.mark.parametrize("written", ["临河县公安局城东派出所", "临河县城东派出所", "临河市公安局城东派出所"])
def test_another_countys_precinct_of_the_same_name_waits_for_the_center(app, directory, written):
    app.config["COUNTY_NAME"] = "清河县"
    try:
        [result] = analyse("push.csv", pf.csv_bytes([pf.row(1, 所属派出所=written)])).results
        [ours] = analyse("push.csv", pf.csv_bytes([pf.row(2, 所属派出所="清河县公安局城东派出所")])).results
    finally:
        app.config["COUNTY_NAME"] = ""
    assert result.verdict == "unrouted" and result.precinct is None
    problem = _problems(result)["precinct_other_county"]
    assert problem.other == "城东派出所" and problem.verdict == "unrouted"
    assert (ours.verdict, ours.precinct.code, ours.problems) == ("ok", "PCS01", [])


def test_a_directory_of_full_names_tells_the_county_without_any_setting(make_precinct):
    make_precinct("PCS01", name="清河县公安局城东派出所", communities=("东门社区",))
    rows = [pf.row(1, 所属派出所="临河县公安局城东派出所"), pf.row(2, 所属派出所="清河县城东派出所")]
    other, ours = analyse("push.csv", pf.csv_bytes(rows)).results
    assert other.verdict == "unrouted" and ours.precinct.code == "PCS01"


def test_without_a_county_name_a_county_before_the_precinct_routes_by_its_own_name_and_says_so(directory):
    [result] = analyse("push.csv", pf.csv_bytes([pf.row(1, 所属派出所="临河县公安局城东派出所")])).results
    assert result.verdict == "ok" and result.precinct.code == "PCS01"
    problem = _problems(result)["precinct_county"]
    assert problem.verdict == "note" and problem.other == "城东派出所"


def test_a_duplicate_row_gets_no_word_about_where_it_would_have_gone(directory):
    import_file("a.csv", pf.csv_bytes([pf.row(1)]))
    [result] = analyse("b.csv", pf.csv_bytes([pf.row(1, 所属社区="不存在社区")])).results
    assert result.verdict == "duplicate" and set(_problems(result)) == {"duplicate"}


def test_a_rejected_rows_other_problems_say_nothing_was_imported(directory):
    [result] = analyse("push.csv", pf.csv_bytes([pf.row(1, 风险等级="", 身份证号="12345", 手机号="999")])).results
    assert result.verdict == "rejected"
    problems = _problems(result)
    assert {p.verdict for p in problems.values()} == {"rejected"}
    analysis = analyse("push.csv", pf.csv_bytes([pf.row(1, 风险等级="", 身份证号="12345", 手机号="999")]))
    messages = [e["message"] for e in analysis.errors()]
    assert not any("已导入" in m for m in messages)
    assert any("位数不对（应为 18 位），请一并改正" in m for m in messages)


def test_a_later_push_giving_a_known_id_another_name_says_so(directory):
    import_file("a.csv", pf.csv_bytes([pf.row(1, 姓名="张建国")]))
    summary = import_file("b.csv", pf.csv_bytes([pf.row(2, 姓名="李秀英", 身份证号=pf.id_number(1))]))
    [note] = [e for e in summary.errors if e["code"] == "renamed"]
    assert "已登记的“张建国”" in note["message"] and "“李秀英”" in note["message"]
    assert db.session.scalar(db.select(Person.name)) == "李秀英"  # the ID decides who it is; the newest name stays


def test_a_row_naming_another_precinct_than_its_persons_case_says_where_the_warning_went(directory):
    import_file("a.csv", pf.csv_bytes([pf.row(1)]))  # 城东派出所
    summary = import_file("b.csv", pf.csv_bytes([pf.row(2, 身份证号=pf.id_number(1), 所属派出所="城西派出所",
                                                        所属社区="西门社区")]))
    [note] = [e for e in summary.errors if e["code"] == "case_elsewhere"]
    assert "“城西派出所”" in note["message"] and "任务在城东派出所" in note["message"]
    case = db.session.scalar(db.select(Case))
    assert case.precinct.code == "PCS01" and db.session.scalar(db.select(db.func.count(EarlyWarning.id))) == 2
    stored = db.session.scalar(db.select(PushRowError).filter_by(code="case_elsewhere"))
    assert stored.verdict == "note" and stored.say["other"] == "城东派出所"


@pytest.mark.parametrize(("phone_header", "precinct_header"), [("联系方式", "责任单位"), ("联系方式", "管辖单位")])
def test_headers_centers_also_use_for_the_phone_and_the_precinct(directory, phone_header, precinct_header):
    headers = [phone_header if h == "手机号" else precinct_header if h == "所属派出所" else h for h in pf.STANDARD]
    [result] = analyse("push.csv", pf.csv_bytes([pf.row(1, 身份证号="")], headers=headers)).results
    assert result.verdict == "ok" and result.phone == "13800000001" and result.precinct.code == "PCS01"


@pytest.mark.parametrize(("written", "stored"), [("+86 571 8888 1234", "057188881234"),
                                                 ("0086 10 6552 9988", "01065529988"),
                                                 ("+86 138 0013 8000", "13800138000")])
def test_a_number_written_from_abroad_keeps_its_area_code(directory, written, stored):
    [result] = analyse("push.csv", pf.csv_bytes([pf.row(1, 手机号=written)])).results
    assert result.phone == stored and result.phone_valid and result.verdict == "ok"


def test_an_old_15_digit_id_is_named_as_such(directory):
    analysis = analyse("push.csv", pf.csv_bytes([pf.row(1, 身份证号="330102800101123")]))
    [message] = [e["message"] for e in analysis.errors()]
    assert "15 位的一代身份证号" in message and "已导入" in message


def test_the_command_line_names_the_columns_it_ignored(runner, directory, tmp_path):
    path = tmp_path / "push.csv"
    path.write_bytes(pf.csv_bytes([pf.row(1)], headers=[*pf.STANDARD, "经办人"]))
    result = runner.invoke(args=["import-list", str(path)])
    assert result.exit_code == 0 and "未识别的列（其中的内容没有导入）：经办人" in result.output


@pytest.mark.parametrize(("written", "ours"), [("长沙县公安局城东派出所", False), ("沙县公安局城东派出所", True),
                                               ("三明市沙县公安局城东派出所", True), ("福建省沙县城东派出所", True)])
def test_a_county_whose_name_only_ends_like_ours_is_another(app, directory, written, ours):
    app.config["COUNTY_NAME"] = "沙县"
    try:
        [result] = analyse("push.csv", pf.csv_bytes([pf.row(1, 所属派出所=written)])).results
    finally:
        app.config["COUNTY_NAME"] = ""
    assert (result.precinct is not None) == ours, (written, result.verdict)
