"""Issue 20 in a real browser, at 375x812 unless said: the officer's 回访 recorded from 我的任务; the lead's board
paging and assigning all matching cases in one action; an officer turning TOTP on with the server's QR code.
(Runs after test_journeys.py, whose first rows it leaves alone; the data is seeded by serve.py.)"""
import re

import pyotp

from .browser import PHONE
from .serve import POOL_CASES, REVISIT_CASE
from .test_journeys import expect, go, log_in


def _in_first_screen(locator) -> None:
    box = locator.bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"], box


def test_officer_records_a_due_revisit_from_my_tasks(open_page):
    page, watch = open_page("officer", viewport=PHONE)
    log_in(page, watch, "officer03")
    go(page, watch, "我的任务")
    row = page.locator(".caselist > li.task-followup", has_text=REVISIT_CASE)
    expect(row).to_contain_text("回访到期")
    expect(page.locator(".caselist > li").first).to_have_class(re.compile("task-followup"))  # overdue: first
    row.get_by_role("link", name="登记回访").click()
    watch.check()
    _in_first_screen(page.get_by_role("button", name=re.compile("^拨打")))  # 拨打 on the contact form too
    form = page.locator("#contact-form")
    form.get_by_label("电话", exact=True).check()
    form.get_by_label("本人", exact=True).check()
    form.get_by_role("button", name="登记回访").click()
    expect(page.get_by_role("status").filter(has_text="已登记回访")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("我的任务")  # back where it was recorded
    watch.check()
    expect(page.locator(".caselist > li.task-followup")).to_have_count(0)  # done: no longer a task
    page.get_by_role("link", name=REVISIT_CASE).first.click()
    watch.check()
    expect(page.locator(".followups").first).to_contain_text("本人")
    _in_first_screen(page.locator(".reach .address"))


def test_lead_pages_the_board_and_assigns_all_matching_in_one_action(open_page):
    page, watch = open_page("lead", viewport=PHONE)
    log_in(page, watch, "lead01")
    go(page, watch, "本所看板")
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height <= 3 * PHONE["height"], height  # the first page within three screens
    page.locator("details.filterbox > summary").click()
    page.get_by_label("风险等级").select_option(label="低风险")
    page.get_by_label("只看待分配").check()
    page.get_by_role("button", name="筛选").click()
    watch.check()
    expect(page.locator(".totals")).to_contain_text(f"共 {POOL_CASES} 件任务")
    expect(page.locator(".totals")).to_contain_text("第 1 / 2 页")
    bar = page.locator("#bulk-assign")
    expect(bar.get_by_role("button", name="指派", exact=True)).to_be_hidden()  # nothing ticked: no bar over the list
    bar.get_by_label("本页全选").check()
    expect(page.locator("input.pick:checked")).to_have_count(25)
    page.mouse.wheel(0, 800)
    # the bar stays next to the selection: wholly on the first screen once the wheel's scroll has landed (it lands
    # in its own time: read at once, the box was once taken before the page had moved, in a fresh clone's CI run)
    expect(bar.get_by_role("button", name="指派", exact=True)).to_be_in_viewport(ratio=1)
    bar.get_by_label(f"全部 {POOL_CASES} 件符合条件的任务").check()
    bar.get_by_label("责任民警").select_option(label="孙警官")
    bar.get_by_role("button", name="指派", exact=True).click()
    expect(page.get_by_role("status").filter(has_text=f"已指派 {POOL_CASES} 件任务")).to_be_visible()
    watch.check()
    expect(page.locator(".totals")).to_contain_text("共 0 件任务")  # none of them left in the pool


def test_an_officer_turns_totp_on_with_the_servers_qr_code(open_page):
    page, watch = open_page("officer", viewport=PHONE)
    log_in(page, watch, "officer04")
    page.locator("details.usermenu > summary").click()
    expect(page.get_by_role("link", name="修改密码")).to_be_visible()
    page.get_by_role("link", name="动态验证码").click()
    watch.check()
    qr = page.locator("figure.qr svg")
    expect(qr).to_be_visible()
    assert qr.bounding_box()["width"] >= 150  # big enough for a phone's camera
    secret = page.locator("code.secret").inner_text().strip()
    page.get_by_label(re.compile("动态验证码")).fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="开启动态验证码").click()
    expect(page.locator(".flash-success")).to_contain_text("已开启动态验证码")
    expect(page.locator("main p[role=status]")).to_contain_text("您的账号已开启动态验证码")
    watch.check()


def test_a_lead_taps_a_notice_from_the_bell_and_it_is_read(open_page):
    page, watch = open_page("lead", viewport=PHONE)
    log_in(page, watch, "lead01")
    badge = page.locator("a.bell .badge")
    unread = int(badge.inner_text())
    assert unread > 1, "the seed gives lead01 a notice for each new case of the precinct"
    page.locator("a.bell").click()
    watch.check()
    notice = page.locator(".notifications li.unread a", has_text="新预警任务：").first
    name = re.search(r"：(.+?)（", notice.inner_text()).group(1)  # 新预警任务：李建国（高风险）
    notice.click()
    watch.check()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)  # the case the notice is about
    expect(badge).to_have_text(str(unread - 1))  # and the bell counts one fewer
