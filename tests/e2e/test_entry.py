"""录入预警 on a phone (issue 21): a lead enters a bank's call for a person with no case, gets a 高 case in their
precinct with an SD- number and deadlines from the time reported; the same person again joins that case."""
import datetime as dt
import re
from zoneinfo import ZoneInfo

from .browser import PHONE
from .test_journeys import go, log_in

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips (under CI: fails) these tests and says why
    expect = None

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _fill(page, phone: str, name: str, reported: dt.datetime, source: str = "银行阻截") -> None:
    page.get_by_label(source, exact=True).check()
    page.get_by_label("高风险", exact=True).check()
    page.get_by_label("手机号", exact=True).fill(phone)
    page.get_by_label("姓名", exact=True).fill(name)
    page.get_by_label("报告时间").fill(reported.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("报告人及联系方式").fill("工行城东支行 王柜员 0571-88886666")


def test_a_lead_on_a_phone_enters_a_bank_stop_and_the_same_person_again_joins_the_case(open_page):
    page, watch = open_page("lead", viewport=PHONE)
    log_in(page, watch, "lead01")
    go(page, watch, "录入预警")
    reported = (dt.datetime.now(SHANGHAI) - dt.timedelta(minutes=12)).replace(second=0, microsecond=0)
    _fill(page, "13700137000", "周银行", reported)
    page.get_by_role("button", name="查找此人已有任务").click()
    expect(page.locator("#found")).to_contain_text("本人没有您可见的在办任务")
    watch.check()
    page.get_by_role("button", name="保存预警").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("周银行")
    watch.check()
    expect(page.locator("body")).to_contain_text(re.compile(r"已录入预警 SD-PCS01-\d{8}-\d{4}，新建任务"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("高风险")
    sign_by = (reported + dt.timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M")
    expect(page.locator("body")).to_contain_text(sign_by)  # 签收期限: 30 min from the call, not from the entry
    expect(page.locator("body")).to_contain_text("城东派出所")
    case_url = page.url

    go(page, watch, "录入预警")
    _fill(page, "13700137000", "周银行", reported + dt.timedelta(minutes=5), source="110")
    # no button pressed: leaving the phone and name fields is enough for the form to show the open case
    expect(page.locator("#found")).to_contain_text("此人已有在办任务")
    expect(page.locator("#found")).to_contain_text("137****7000")
    watch.check()
    page.get_by_role("button", name="保存预警").click()
    expect(page.locator("body")).to_contain_text("并入此人已有的任务")
    watch.check()
    assert page.url == case_url
    expect(page.locator("body")).to_contain_text(re.compile(r"预警记录\s*[（(]2[)）]"))


def test_a_lead_sees_what_to_fix_on_a_phone(open_page):
    page, watch = open_page("lead", viewport=PHONE)
    log_in(page, watch, "lead01")
    go(page, watch, "录入预警")
    page.get_by_label("银行阻截", exact=True).check()
    page.get_by_label("身份证号").fill("110101199003077775")
    page.get_by_role("button", name="保存预警").click()
    expect(page.locator("[data-field=id_number] .error")).to_contain_text("校验位不对")
    expect(page.locator("[data-field=tier] .error")).to_contain_text("请选择风险等级")
    watch.check(form_refused=True)
