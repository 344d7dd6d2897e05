"""Watch lists in a real browser at 375 px (issue 25): the lead puts a repeat-warned person on the list from the
case page in one tap, and 孙警官 finds a weekly meeting due on 我的任务 and records it with its alarm flag.
Runs after the journeys (it adds a watch entry; their counts do not include it)."""
import re

from .browser import PHONE
from .serve import REPEAT_CASE, WATCHED
from .test_journeys import go, log_in

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips (under CI: fails) these tests and says why
    expect = None


def test_lead_puts_a_repeat_warned_person_on_the_watch_list_from_the_case_page(open_page):
    page, watch = open_page("lead", viewport=PHONE)
    log_in(page, watch, "lead01")
    go(page, watch, "本所看板")
    page.get_by_role("link", name=REPEAT_CASE).first.click()
    expect(page.get_by_role("heading", name=re.compile(REPEAT_CASE))).to_be_visible()
    watch.check()
    page.get_by_role("button", name="列入重点关注（每周见面）").click()
    expect(page.get_by_role("status").filter(has_text="已列入重点关注")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_contain_text("重复预警关注")
    watch.check()
    expect(page.locator(".facts")).to_contain_text("孙警官")
    expect(page.locator(".countdown-big")).to_contain_text("下次应见面")
    page.get_by_role("link", name="查看任务").click()  # back on the case page: it says the person is watched
    expect(page.locator("section.watch")).to_contain_text("已列入重点关注")
    expect(page.get_by_role("button", name="列入重点关注（每周见面）")).to_have_count(0)
    watch.check()
    go(page, watch, "重点关注")  # the 台账 at 375 px: both people, the two responsible people of each
    expect(page.locator(".watchlist > li")).to_have_count(2)
    expect(page.locator(".watchlist > li", has_text=WATCHED)).to_contain_text("钱书记")
    go(page, watch, "考评")  # the table scrolls in its own box; the page does not
    expect(page.locator("table.assessment").first).to_contain_text("枫树村")


def test_officer_records_a_due_meeting_from_the_worklist_row(open_page):
    page, watch = open_page("officer", viewport=PHONE)
    log_in(page, watch, "officer05")
    go(page, watch, "我的任务")
    row = page.locator(".caselist > li.task-watch", has_text=WATCHED)
    expect(row).to_have_class(re.compile("is-overdue"))
    expect(row).to_contain_text("重点关注见面")
    expect(row).to_contain_text("钱书记")
    row.get_by_role("link", name="登记见面").click()
    expect(page.get_by_role("heading", name=re.compile(WATCHED))).to_be_visible()
    watch.check()
    form = page.locator("#meet form")
    form.get_by_label("方式").select_option(label="电话")
    form.get_by_label("见面情况").fill("家属称其已前往缅甸")
    form.get_by_label("疑似再次出境").check()
    form.get_by_role("button", name="登记见面").click()
    expect(page.get_by_role("status").filter(has_text="已通知所领导和中心")).to_be_visible()
    watch.check()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(page.locator(".caselist > li.task-watch", has_text=WATCHED)).to_have_count(0)  # back on 我的任务, done
