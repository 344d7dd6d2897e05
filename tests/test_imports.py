"""Importing the center's lists (SPEC "What the center sends"): verdicts, refusals, merging, idempotence."""
import datetime as dt

import pytest

from dissuasion.cases.models import Case, EarlyWarning, Person
from dissuasion.core.enums import DataFlag, Tier
from dissuasion.core.timeutil import UTC
from dissuasion.extensions import db
from dissuasion.imports.models import Push, PushRowError
from dissuasion.imports.pipeline import ImportRefused, analyse, import_file, import_rows
from tests import pushfiles as pf


@pytest.fixture
def directory(make_precinct):
    make_precinct("PCS01", name="城东派出所", communities=("东门社区", "朝阳社区"))
    make_precinct("PCS02", name="城西派出所", communities=("西门社区",))


def _count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def _verdicts(filename: str, data: bytes) -> dict[int, tuple[str, list[str]]]:
    return {r.row_number: (r.verdict, [str(p.code) for p in r.problems]) for r in analyse(filename, data).results}


MESSY = [
    pf.row(1),
    pf.row(2, 身份证号=pf.id_number(2)[:-1] + ("0" if pf.id_number(2)[-1] != "0" else "1")),  # check digit
    pf.row(3, 身份证号=pf.id_number(3)[:17]),  # too short
    pf.row(4, 手机号="1380000"),  # malformed phone
    pf.row(5, 姓名="", 身份证号=""),  # nobody
    pf.row(6, 身份证号="", 手机号="", 户籍地址="", 现住址=""),  # no way to reach
    pf.row(7, 风险等级="极高"),  # unknown tier
    pf.row(8, 风险等级=""),
    pf.row(9, 所属派出所="外县派出所", 所属社区=""),  # not in the directory
    pf.row(10, 预警编号="YJ0000001"),  # same number as row 1 of the file
    pf.row(11, 手机号="+86 138-0000-0011", 姓名="张　三 ", 身份证号=pf.id_number(11).lower()),
]
EXPECTED = {2: ("ok", []), 3: ("flagged", ["id_checksum"]), 4: ("flagged", ["id_length"]), 5: ("flagged", ["phone"]),
            6: ("rejected", ["no_identity"]), 7: ("rejected", ["no_contact"]), 8: ("rejected", ["tier"]),
            9: ("rejected", ["tier"]), 10: ("unrouted", ["precinct"]), 11: ("duplicate", ["duplicate"]),
            12: ("ok", [])}


def test_each_row_gets_the_verdict_spec_gives_it(directory):
    assert _verdicts("push.csv", pf.csv_bytes(MESSY)) == EXPECTED


def test_title_rows_blank_rows_and_totals_row_in_excel(directory):
    data = pf.xlsx_bytes(MESSY, title="清河县反诈中心预警名单（2026年11月16日）", totals=True)
    analysis = analyse("push.xlsx", data)
    assert analysis.header_row == 3
    assert {n + 2: v for n, v in EXPECTED.items()} == \
        {r.row_number: (r.verdict, [str(p.code) for p in r.problems]) for r in analysis.results}


@pytest.mark.parametrize("first_cells", [["合计"], ["", " 合 计："], [None, "总计"], ["小计（3人）"], ["\u3000合计"]])
def test_a_totals_row_in_any_of_its_shapes_is_not_a_row(directory, first_cells):
    data = pf.xlsx_bytes(MESSY[:2])
    import io

    from openpyxl import load_workbook
    book = load_workbook(io.BytesIO(data))
    book.active.append(first_cells + [None, None, 2, None, 15000])
    out = io.BytesIO()
    book.save(out)
    assert [r.row_number for r in analyse("push.xlsx", out.getvalue()).results] == [2, 3]


def test_a_row_whose_first_cell_merely_mentions_a_total_is_a_row(directory):
    row = pf.row(1, 预警编号="YJ合计001")
    assert [r.verdict for r in analyse("push.csv", pf.csv_bytes([row])).results] == ["ok"]


def test_gbk_with_alias_headers_and_high_risk_style_tiers(directory):
    rows = [pf.row(1, 风险等级="高风险"), pf.row(2, 风险等级="中危"), pf.row(3, 风险等级="低风险")]
    summary = import_file("gbk.csv", pf.csv_bytes(rows, headers=pf.ALIAS, encoding="gb18030"))
    db.session.commit()
    assert summary.status == "committed" and summary.counters["imported"] == 3
    tiers = sorted(w.tier.value for w in db.session.scalars(db.select(EarlyWarning)))
    assert tiers == ["high", "low", "medium"]


def test_short_and_english_tier_spellings_are_read_and_an_unknown_tier_is_still_rejected(directory):
    rows = [pf.row(1, 风险等级="特高"), pf.row(2, 风险等级="Extra High"), pf.row(3, 风险等级="极高")]
    results = analyse("push.csv", pf.csv_bytes(rows)).results
    assert [(r.verdict, r.tier and r.tier.value) for r in results] == [
        ("ok", "extra_high"), ("ok", "extra_high"), ("rejected", None)]


def test_ids_typed_as_numbers_are_flagged_never_guessed_and_phones_typed_as_numbers_read_right(directory):
    # IDs 2 and 3 are all digits, so the sheet holds them as numbers; ID 1 ends in X and stays text.
    data = pf.xlsx_bytes([pf.row(1), pf.row(2), pf.row(3)], numeric_ids=True, numeric_phones=True)
    first, *numbers = analyse("numbers.xlsx", data).results
    assert first.verdict == "ok" and first.id_valid
    for r in numbers:
        assert r.verdict == "flagged" and r.flags == [DataFlag.ID_LOST_DIGITS.value]
        assert not r.id_valid
    assert [r.phone for r in (first, *numbers)] == ["13800000001", "13800000002", "13800000003"]
    import_file("numbers.xlsx", data)
    db.session.commit()
    person = db.session.scalar(db.select(Person).filter_by(name="测试2"))
    assert not person.id_valid and person.phone == "13800000002"


@pytest.mark.parametrize("written", ["3.39901E+17", "339901000000000000"])
def test_two_people_of_one_name_whose_ids_excel_cut_short_stay_two_people(directory, written):
    """An ID that lost its digits names nobody: two 张伟 without a phone, at different addresses, are two people with
    a case each, in their own precincts (they matched on name + the ID as written, and one became the other)."""
    rows = [pf.row(1, 姓名="张伟", 身份证号=written, 手机号="", 风险等级="高"),
            pf.row(2, 姓名="张伟", 身份证号=written, 手机号="", 风险等级="低", 户籍地址="清河县城西镇西门社区9号",
                   现住址="清河县城西镇西门社区9号", 所属派出所="城西派出所", 所属社区="西门社区")]
    data = pf.xlsx_bytes(rows, numeric_ids=True) if written.isdigit() else pf.csv_bytes(rows)
    import_file("push.xlsx" if written.isdigit() else "push.csv", data)
    db.session.commit()
    assert _count(Person) == 2
    assert sorted((c.precinct.code, c.tier) for c in db.session.scalars(db.select(Case))) == [
        ("PCS01", Tier.HIGH), ("PCS02", Tier.LOW)]


def _case_places() -> list[tuple]:
    return sorted((c.precinct.code if c.precinct else None, c.tier.value, len(c.warnings))
                  for c in db.session.scalars(db.select(Case)))


@pytest.mark.parametrize("order", ["high first", "low first"])
def test_a_persons_case_goes_where_a_known_precinct_is_named_whatever_the_tiers(directory, order):
    """Two rows about one person: the high-risk one names a precinct outside the directory, the low-risk one 城东.
    The case is 城东's either way (it waited in the center's queue while the 30-minute clock ran); the unknown row
    keeps SPEC's verdict (unrouted: its precinct is not in the directory) but says where its warning went."""
    high = pf.row(1, 风险等级="高", 所属派出所="外县派出所", 所属社区="")
    low = pf.row(2, 姓名="测试1", 身份证号=pf.id_number(1), 手机号="13800000001", 风险等级="低")
    summary = import_file("push.csv", pf.csv_bytes([high, low] if order == "high first" else [low, high]))
    db.session.commit()
    assert _case_places() == [("PCS01", "high", 2)]
    assert summary.counters["unrouted"] == 1
    [note] = [e for e in summary.errors if e["code"] == "precinct"]
    assert "写明了城东派出所，这条预警已并入该所的任务" in note["message"] and "待分派队列" not in note["message"]


def test_a_queued_case_is_routed_when_a_later_push_names_the_precinct(directory, clock):
    clock(dt.datetime(2026, 11, 16, 1, 0, tzinfo=UTC))
    import_file("one.csv", pf.csv_bytes([pf.row(1, 风险等级="高", 所属派出所="外县派出所", 所属社区="")]))
    db.session.commit()
    assert _case_places() == [(None, "high", 1)]
    clock(dt.datetime(2026, 11, 16, 3, 0, tzinfo=UTC))
    summary = import_file("two.csv", pf.csv_bytes([pf.row(2, 姓名="测试1", 身份证号=pf.id_number(1),
                                                          手机号="13800000001", 风险等级="低")]))
    db.session.commit()
    assert _case_places() == [("PCS01", "high", 2)] and summary.counters["unrouted"] == 0
    case = db.session.scalar(db.select(Case))
    assert case.sign_deadline > dt.datetime(2026, 11, 16, 3, 0, tzinfo=UTC)  # the precinct's clock starts now
    assert "routed" in [e.kind.value for e in case.events]


def test_a_row_naming_an_unknown_precinct_about_a_person_whose_case_is_routed_says_it_joined_that_case(directory):
    import_file("one.csv", pf.csv_bytes([pf.row(1, 风险等级="低")]))
    db.session.commit()
    summary = import_file("two.csv", pf.csv_bytes([pf.row(2, 姓名="测试1", 身份证号=pf.id_number(1),
                                                          手机号="13800000001", 所属派出所="外县派出所")]))
    db.session.commit()
    assert _case_places() == [("PCS01", "medium", 2)]
    [note] = [e for e in summary.errors if e["code"] == "precinct"]
    assert "并入该所的任务" in note["message"] and "待分派队列" not in note["message"]


def test_a_cell_longer_than_its_field_is_kept_cut_and_said(directory):
    summary = import_file("long.csv", pf.csv_bytes([pf.row(1, 备注="长" * 30_000, 姓名="名" * 120)]))
    db.session.commit()
    cut = {e["column"]: e["message"] for e in summary.errors if e["code"] == "cut"}
    assert set(cut) == {"备注", "姓名"} and "只保存了前 1000 个字" in cut["备注"]
    assert len(db.session.scalar(db.select(EarlyWarning)).notes) == 1000


def test_one_id_with_two_names_is_one_person_and_the_later_row_says_so(directory):
    rows = [pf.row(1, 姓名="谢玲"), pf.row(2, 姓名="冯凤玉", 身份证号=pf.id_number(1))]
    summary = import_file("two-names.csv", pf.csv_bytes(rows))
    db.session.commit()
    assert _count(Person) == 1
    [note] = [e for e in summary.errors if e["code"] == "same_id_other_name"]
    assert note["row"] == 3 and "第 2 行是“谢玲”" in note["message"]


def test_cells_are_normalised(directory):
    import_file("push.csv", pf.csv_bytes([MESSY[-1]]))
    db.session.commit()
    person = db.session.scalar(db.select(Person))
    assert person.name == "张三" and person.phone == "13800000011"
    assert person.id_number == pf.id_number(11).upper() and person.id_valid
    warning = db.session.scalar(db.select(EarlyWarning))
    assert warning.pushed_at == dt.datetime(2026, 11, 16, 0, 30, tzinfo=UTC)  # 08:30 in Asia/Shanghai
    assert str(warning.amount_at_risk) == "5000.00"


@pytest.mark.parametrize("name,data,words", [
    ("empty.csv", b"", "空"),
    ("blank.csv", b"\r\n\r\n  \r\n", "空"),
    ("header-only.csv", pf.csv_bytes([]), "只有表头"),
    ("random.xlsx", bytes(range(256)) * 40, "不是有效的 Excel"),
    ("web-page.xls", "<html><body><table><tr><td>预警编号</td><td>姓名</td></tr></table></body></html>".encode(),
     "网页表格（HTML），不是真正的 Excel 文件"),
    ("tab-separated.xls", pf.csv_bytes([pf.row(1)]).replace(b",", b"\t"), "文本表格（以逗号或制表符分隔）"),
    ("zipped.xlsx", b"PK\x03\x04" + b"\x00" * 200, "不是有效的 .xlsx"),
    ("disguised.csv", pf.xlsx_bytes([pf.row(1)]), "不是 CSV"),
    ("unrelated.csv", "日期,品名,数量,单价\n2026-11-01,大米,10,5.5\n".encode(), "找不到表头"),
    ("no-id.csv", "姓名,身份证号,手机号,风险等级\n张三,,13800000000,高\n".encode(), "预警编号"),
])
def test_bad_files_are_refused_with_a_chinese_message_and_nothing_written(directory, name, data, words):
    with pytest.raises(ImportRefused) as refused:
        import_file(name, data)
    db.session.rollback()
    assert words in str(refused.value)
    assert _count(Push) == _count(EarlyWarning) == _count(Person) == 0


def test_the_same_file_twice_changes_nothing(directory):
    data = pf.csv_bytes(MESSY)
    first = import_file("push.csv", data)
    db.session.commit()
    counts = (_count(Push), _count(EarlyWarning), _count(Person), _count(Case), _count(PushRowError))
    again = import_file("push-copy.csv", data)
    db.session.commit()
    assert first.status == "committed" and again.status == "duplicate_file"
    assert "已于" in again.message and again.push_id == first.push_id
    assert (_count(Push), _count(EarlyWarning), _count(Person), _count(Case), _count(PushRowError)) == counts


def test_fixing_rejected_rows_and_reimporting_adds_only_the_fixed_rows(directory):
    import_file("v1.csv", pf.csv_bytes(MESSY))
    db.session.commit()
    before = _count(EarlyWarning)
    fixed = list(MESSY)
    fixed[4] = pf.row(5)  # name and ID filled in
    fixed[6] = pf.row(7, 风险等级="高")
    summary = import_file("v2.csv", pf.csv_bytes(fixed))
    db.session.commit()
    assert summary.counters["imported"] == 2 and _count(EarlyWarning) == before + 2


def test_repush_with_higher_tier_raises_cases_and_creates_no_person(directory, clock):
    clock(dt.datetime(2026, 11, 16, 1, 0, tzinfo=UTC))
    import_file("low.csv", pf.csv_bytes([pf.row(n, 风险等级="低") for n in range(1, 4)]))
    db.session.commit()
    deadlines = {c.person_id: c.sign_deadline for c in db.session.scalars(db.select(Case))}
    clock(dt.datetime(2026, 11, 16, 2, 0, tzinfo=UTC))
    rows = [pf.row(n, 预警编号=f"YJ9{n:06d}", 风险等级="高") for n in range(1, 4)]
    summary = import_file("high.csv", pf.csv_bytes(rows))
    db.session.commit()
    assert summary.counters["persons_created"] == 0 and summary.counters["cases_escalated"] == 3
    assert summary.counters["cases_created"] == 0 and _count(Person) == 3 and _count(Case) == 3
    for case in db.session.scalars(db.select(Case)):
        assert case.tier == Tier.HIGH and len(case.warnings) == 2
        assert case.sign_deadline == dt.datetime(2026, 11, 16, 2, 30, tzinfo=UTC) < deadlines[case.person_id]


def test_a_push_that_fails_half_way_leaves_the_database_as_it_was(directory):
    import_file("first.csv", pf.csv_bytes([pf.row(1)]))
    db.session.commit()
    before = (_count(Push), _count(EarlyWarning), _count(Person), _count(Case))
    from dissuasion.cases.merge import stage_written

    def fail_before_warnings(stage):
        if stage == "cases":  # persons and cases are written, the warnings are not
            raise RuntimeError("disk full at row 5")
    with stage_written.connected_to(fail_before_warnings), pytest.raises(RuntimeError):
        import_file("second.csv", pf.csv_bytes([pf.row(n) for n in range(2, 9)]))
    db.session.rollback()
    assert (_count(Push), _count(EarlyWarning), _count(Person), _count(Case)) == before


def test_summary_has_the_keys_spec_fixes(directory):
    summary = import_file("push.csv", pf.csv_bytes(MESSY)).as_json()
    db.session.commit()
    for key in ("status", "message", "rows_total", "imported", "flagged", "rejected", "duplicates", "unrouted",
                "persons_created", "cases_created", "cases_updated", "cases_escalated", "errors"):
        assert key in summary
    assert summary["rows_total"] == 11 and summary["rejected"] == 4 and summary["flagged"] == 3
    assert summary["duplicates"] == 1 and summary["unrouted"] == 1 and summary["imported"] == 6
    error = next(e for e in summary["errors"] if e["code"] == "tier")
    assert error == {"row": 8, "column": "风险等级", "code": "tier", "message": error["message"]}
    assert "极高" in error["message"] and "无法识别" in error["message"]


def test_json_rows_use_the_english_field_names(directory):
    rows = [{"warning_id": "API1", "pushed_at": "2026-11-16T08:00:00+08:00", "name": "李四", "phone": "13900000001",
             "tier": "extra_high", "precinct": "城东派出所", "community": "朝阳社区", "amount_at_risk": "1200.50",
             "away_from_home": True}]
    summary = import_rows(rows)
    db.session.commit()
    assert summary.counters["imported"] == 1
    case = db.session.scalar(db.select(Case))
    assert case.tier == Tier.EXTRA_HIGH and case.community.name == "朝阳社区" and case.away_from_home


def test_a_known_precinct_with_an_unknown_community_goes_to_the_precincts_pool(directory):
    import_file("push.csv", pf.csv_bytes([pf.row(1, 所属社区="新建小区")]))
    db.session.commit()
    case = db.session.scalar(db.select(Case))
    assert case.precinct.code == "PCS01" and case.community is None and case.assignee is None
    note = db.session.scalar(db.select(PushRowError))
    assert note.verdict == "note" and "新建小区" in note.message


def test_rows_missing_a_phone_or_an_id_import_beside_complete_ones(directory):
    rows = [pf.row(1), pf.row(2, 手机号=""), pf.row(3, 身份证号=""), pf.row(4, 手机号="", 户籍地址="", 现住址="")]
    summary = import_file("partial.csv", pf.csv_bytes(rows))
    db.session.commit()
    assert summary.counters["imported"] == 4 and _count(Person) == 4
    no_phone = db.session.scalar(db.select(Person).filter_by(name="测试2"))
    assert no_phone.phone is None and not no_phone.phone_valid and no_phone.id_valid
    no_id = db.session.scalar(db.select(Person).filter_by(name="测试3"))
    assert no_id.id_number is None and no_id.phone == "13800000003"
    again = import_file("update.csv", pf.csv_bytes([pf.row(2, 预警编号="YJ9000002", 手机号="13911112222")]))
    db.session.commit()
    assert again.counters["persons_created"] == 0
    db.session.refresh(no_phone)
    assert no_phone.phone == "13911112222" and no_phone.phone_valid


def test_after_an_import_the_database_file_holds_no_plain_id_or_phone(directory, database_file_bytes):
    rows = MESSY + [pf.row(12, 姓名="", 身份证号="", 手机号="13877776666")]  # a rejected row keeps its cells too
    import_file("push.csv", pf.csv_bytes(rows))
    db.session.commit()
    data = database_file_bytes()
    assert "测试1".encode() in data  # the file was really read
    for r in rows:
        for number in (r["身份证号"], r["手机号"]):
            if len(number) >= 7:
                assert number.encode() not in data and number.upper().encode() not in data, number
    error = db.session.scalar(db.select(PushRowError).filter_by(code="id_checksum"))
    assert error.cells[4] == rows[1]["身份证号"]  # the error report still gets the original cells back


def _person_named(name: str) -> Person:
    return db.session.scalar(db.select(Person).filter_by(name=name))


def test_a_row_without_an_id_is_the_known_person_with_that_name_and_phone(directory):
    """SPEC "Person": without a valid ID, a person is their name + mobile, also when we know their ID already."""
    import_file("first.csv", pf.csv_bytes([pf.row(1)]))
    db.session.commit()
    person = _person_named("测试1")
    summary = import_file("again.csv", pf.csv_bytes([pf.row(1, 预警编号="YJ9000001", 身份证号="", 风险等级="高")]))
    db.session.commit()
    assert summary.counters["persons_created"] == 0 and summary.counters["cases_escalated"] == 1
    assert _count(Person) == 1 and _count(Case) == 1
    db.session.refresh(person)
    assert person.id_valid and person.id_number == pf.id_number(1)  # the ID stays


def test_a_person_known_by_name_and_phone_gets_the_id_a_later_row_brings(directory):
    import_file("first.csv", pf.csv_bytes([pf.row(1, 身份证号="")]))
    db.session.commit()
    person = _person_named("测试1")
    assert not person.id_valid
    summary = import_file("with-id.csv", pf.csv_bytes([pf.row(1, 预警编号="YJ9000001")]))
    db.session.commit()
    assert summary.counters["persons_created"] == 0 and summary.counters["cases_updated"] == 1
    db.session.refresh(person)
    assert person.id_valid and person.id_number == pf.id_number(1) and person.match_key.startswith("i")
    # and afterwards: by the ID, and by name + phone again
    third = import_file("third.csv", pf.csv_bytes([pf.row(1, 预警编号="YJ9000002", 身份证号="", 风险等级="高"),
                                                   pf.row(1, 预警编号="YJ9000003", 手机号="13999999999")]))
    db.session.commit()
    assert third.counters["persons_created"] == 0 and _count(Person) == 1 and _count(Case) == 1
    assert len(db.session.scalar(db.select(Case)).warnings) == 4


def test_rows_with_and_without_the_id_in_one_file_are_one_person(directory):
    rows = [pf.row(1, 身份证号=""), pf.row(1, 预警编号="YJ9000001"),
            pf.row(2), pf.row(2, 预警编号="YJ9000002", 身份证号="")]
    summary = import_file("both.csv", pf.csv_bytes(rows))
    db.session.commit()
    assert summary.counters["persons_created"] == 2 and summary.counters["cases_created"] == 2
    assert all(p.id_valid for p in db.session.scalars(db.select(Person)))


def test_name_and_phone_shared_by_two_ids_match_neither(directory):
    """Two people with valid IDs, the same name and the same phone (a family's one phone): a row without an ID is
    not guessed into either of them; a different name with the same phone is a different person."""
    import_file("two.csv", pf.csv_bytes([pf.row(1, 姓名="王芳", 手机号="13800000001"),
                                         pf.row(2, 姓名="王芳", 手机号="13800000001"),
                                         pf.row(3, 姓名="王强", 手机号="13800000003")]))
    db.session.commit()
    summary = import_file("loose.csv", pf.csv_bytes([
        pf.row(4, 预警编号="YJ9000004", 姓名="王芳", 手机号="13800000001", 身份证号=""),
        pf.row(5, 预警编号="YJ9000005", 姓名="王伟", 手机号="13800000003", 身份证号="")]))
    db.session.commit()
    assert summary.counters["persons_created"] == 2 and _count(Person) == 5


def test_two_new_ids_claiming_one_name_and_phone_person_leave_them_as_they_were(directory):
    import_file("first.csv", pf.csv_bytes([pf.row(1, 姓名="李娜", 身份证号="")]))
    db.session.commit()
    person = _person_named("李娜")
    rows = [pf.row(1, 预警编号="YJ9000001", 姓名="李娜"),
            pf.row(2, 预警编号="YJ9000002", 姓名="李娜", 手机号="13800000001")]
    summary = import_file("twins.csv", pf.csv_bytes(rows))
    db.session.commit()
    assert summary.counters["persons_created"] == 2
    db.session.refresh(person)
    assert not person.id_valid and person.match_key.startswith("p")


def test_one_new_id_with_two_phones_known_separately_merges_neither(directory):
    """The same valid ID arrives with two phones, each known as a name + phone person: which one it is cannot be
    told, so both stay as they are and the ID becomes a person of its own (the push does not fail)."""
    import_file("first.csv", pf.csv_bytes([pf.row(1, 姓名="张三", 身份证号="", 手机号="13800000001"),
                                           pf.row(2, 姓名="张三", 身份证号="", 手机号="13800000002")]))
    db.session.commit()
    rows = [pf.row(1, 预警编号="YJ9000001", 姓名="张三", 手机号="13800000001"),
            pf.row(1, 预警编号="YJ9000002", 姓名="张三", 手机号="13800000002")]
    summary = import_file("both.csv", pf.csv_bytes(rows))
    db.session.commit()
    assert summary.counters["persons_created"] == 1 and _count(Person) == 3
    assert sum(p.id_valid for p in db.session.scalars(db.select(Person))) == 1


def test_a_stored_name_and_phone_person_takes_the_id_and_the_rows_without_it_in_one_push(directory):
    """Stored: 张三 with mobile Y and no ID, with an open case. A push brings 张三 + Y with a valid ID and 张三 + Y
    without one: both rows are that person (who gets the ID), in their one case."""
    import_file("first.csv", pf.csv_bytes([pf.row(1, 姓名="张三", 身份证号="")]))
    db.session.commit()
    rows = [pf.row(1, 预警编号="YJ9000001", 姓名="张三"), pf.row(1, 预警编号="YJ9000002", 姓名="张三", 身份证号="")]
    summary = import_file("second.csv", pf.csv_bytes(rows))
    db.session.commit()
    assert summary.counters["persons_created"] == 0 and _count(Person) == 1 and _count(Case) == 1
    assert db.session.scalar(db.select(Person)).id_valid

