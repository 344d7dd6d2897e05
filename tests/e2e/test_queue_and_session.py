"""After the journeys (this file runs after test_journeys.py, whose counts it must not change): the center routes
a group from its queue and sees what happened where it pressed; an upload after the session is lost leads to a
working login page and back; a commit is followed on its progress page to its push."""
import json
import re

from tests.pushfiles import row, xlsx_bytes

from .browser import DESKTOP, PHONE, totp_now
from .conftest import SCREENSHOTS
from .serve import HOLD_JOBS, PASSWORD, TOTP_SECRET
from .test_journeys import commit_and_follow, expect, go, log_in


def test_center_routes_a_group_from_the_queue_and_reads_the_result_beside_it(open_page, tmp_path, server_folder):
    page, watch = open_page("center", viewport=PHONE)
    log_in(page, watch, "center01", totp=True)
    go(page, watch, "导入名单")
    path = tmp_path / "城南名单.xlsx"
    path.write_bytes(xlsx_bytes([row(n, 所属派出所="城南派出所") for n in (301, 302, 303)]))
    page.get_by_label(re.compile("预警名单文件")).set_input_files(path)
    page.get_by_role("button", name="上传并预览").click()
    held = []  # the commit is held on its way to the server: the page as it is while the import is queued

    def press():
        page.route("**/imports/commit", lambda route: held.append(route))
        page.get_by_role("button", name="确认导入").wait_for()  # the preview is in
        # The page as the form is sent, told through the console: once the held navigation is pending, a locator
        # waits for it, and page.evaluate could hang (it did, one run in three, on a busy machine).
        page.evaluate("""() => { const f = document.getElementById("commit-form");
            f.addEventListener("submit", () => console.log("commit-state " + JSON.stringify([
                f.querySelector("a.button").getAttribute("aria-disabled"), f.querySelector("[type=submit]").disabled,
                getComputedStyle(f.querySelector("a.button")).pointerEvents]))); }""")
        with page.expect_console_message(lambda m: m.text.startswith("commit-state "), timeout=10_000) as told:
            page.get_by_role("button", name="确认导入").click(no_wait_after=True)
        state = json.loads(told.value.text.removeprefix("commit-state "))
        assert state == ["true", True, "none"]  # 换一个文件 cannot be followed away from an import under way
        for _ in range(600):  # the held commit reaches the route within 30 s, or the test fails (never hangs)
            if held:
                break
            page.wait_for_timeout(50)
        assert held, "the commit never left the page"
        held[0].continue_()
        page.unroute("**/imports/commit")

    commit_and_follow(page, watch, server_folder, press)

    go(page, watch, "全县看板")
    group = page.locator("table.groups tr", has_text="城南派出所")
    group.get_by_role("button", name="全部分派").click()  # nothing chosen yet
    message = page.get_by_role("alert").filter(has_text="请先选择")
    expect(message).to_be_in_viewport()
    watch.check()
    group = page.locator("table.groups tr", has_text="城南派出所")
    group.get_by_role("combobox").select_option(label="城东派出所（所内待分配）")
    group.get_by_role("button", name="全部分派").click()
    expect(page.get_by_role("status").filter(has_text="已把 3 件分派到城东派出所")).to_be_in_viewport()
    watch.check()


def test_an_upload_after_the_session_is_lost_goes_to_a_login_that_works_and_back(open_page, tmp_path):
    page, watch = open_page("center")
    log_in(page, watch, "center01", totp=True)
    go(page, watch, "导入名单")
    page.context.clear_cookies()  # logged out meanwhile (another tab, or the session timed out)
    path = tmp_path / "名单.xlsx"
    path.write_bytes(xlsx_bytes([row(401)]))
    page.get_by_label(re.compile("预警名单文件")).set_input_files(path)
    page.get_by_role("button", name="上传并预览").click()
    expect(page).to_have_url(re.compile(r"/login\?next=/imports/upload$"))
    watch.check()
    log_in_here(page, watch)
    expect(page).to_have_url(re.compile(r"/imports/upload$"))
    expect(page.get_by_role("heading", name="导入名单")).to_be_visible()
    watch.check()


def log_in_here(page, watch) -> None:
    """The login page as it stands (log_in opens a fresh one, which would lose where login leads back to)."""
    page.get_by_label("用户名").fill("center01")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.get_by_role("heading", name="双因素验证")).to_be_visible()
    watch.check()
    page.get_by_label(re.compile("动态验证码")).fill(totp_now(TOTP_SECRET))
    page.get_by_role("button", name="验证").click()


def test_a_lead_reveals_both_numbers_in_place_and_back_needs_no_form_sent_again(open_page):
    """(reads the cases the queue test above routed to 城东派出所's pool)"""
    page, watch = open_page("lead", viewport=PHONE)
    log_in(page, watch, "lead01")
    go(page, watch, "我的任务")
    page.get_by_role("link", name="测试301").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("测试301")
    watch.check()
    case_url = page.url
    page.get_by_role("button", name="显示完整号码").first.click()
    expect(page.locator("strong.revealed")).to_have_count(1)
    page.get_by_role("button", name="显示完整号码").click()
    expect(page.locator("strong.revealed")).to_have_count(2)
    expect(page.locator(".reach strong.revealed")).to_have_text("13800000301")  # the phone comes first now
    assert page.url == case_url  # shown in place: nothing to send again on Back or reload
    page.reload()
    expect(page.locator("strong.revealed")).to_have_count(0)
    watch.check()


def test_center_follows_a_commit_on_its_progress_page_to_the_push(open_page, tmp_path, server_folder):
    """Upload, preview, commit: the commit is a job the server's worker runs; while it waits (the worker held),
    its progress page (phone and desktop) says so and asks for news; released, the page becomes the push."""
    page, watch = open_page("center", viewport=PHONE)
    log_in(page, watch, "center01", totp=True)
    go(page, watch, "导入名单")
    path = tmp_path / "南湖名单.xlsx"
    path.write_bytes(xlsx_bytes([row(n, 所属派出所="南湖派出所", 所属社区="南湖社区") for n in range(501, 541)]))
    page.get_by_label(re.compile("预警名单文件")).set_input_files(path)
    page.get_by_role("button", name="上传并预览").click()
    expect(page.get_by_role("heading", name=re.compile("导入预览"))).to_be_visible()
    watch.check()
    hold = server_folder / HOLD_JOBS
    hold.touch()  # the worker takes no job: the commit waits where the user can see it
    try:
        asked = []
        page.on("request", lambda r: asked.append(r.url) if r.url.endswith(".json") else None)
        page.get_by_role("button", name="确认导入").click()
        expect(page.get_by_role("heading", name=re.compile("正在导入"))).to_be_visible()
        watch.check()  # at 375 px: no sideways scrolling
        expect(page.get_by_role("status")).to_contain_text("排队中")
        expect(page.locator("progress#job-progress")).to_be_visible()
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "commit-progress-phone.png")
        page.set_viewport_size(DESKTOP)
        expect(page.locator("progress#job-progress")).to_be_visible()
        page.screenshot(path=SCREENSHOTS / "commit-progress-desktop.png")
        page.wait_for_timeout(1500)
        assert any("/imports/jobs/" in url for url in asked)  # the page asks for news every second
        assert "/imports/jobs/" in page.url  # and stays while the job waits
    finally:
        hold.unlink()
    expect(page.get_by_role("heading", name=re.compile(r"推送批次 #\d+"))).to_be_visible()
    watch.check()
    expect(page.get_by_role("status").filter(has_text="已导入 40 条预警")).to_be_visible()
    expect(page.locator(".stat", has_text="导入").first.locator(".value")).to_have_text("40")
