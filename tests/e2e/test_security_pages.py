"""Issue 22's pages in a real browser: an officer revokes an API token on a phone; the admin sees the account's
tokens on its user page. Every page is checked (375 px, labels, console)."""
from .browser import PHONE
from .test_journeys import log_in

try:
    from playwright.sync_api import expect
except ImportError:  # the conftest skips (under CI: fails) these tests and says why
    expect = None


def test_an_officer_revokes_an_api_token_on_a_phone_and_the_admin_sees_it(open_page):
    page, watch = open_page("officer", viewport=PHONE)
    log_in(page, watch, "officer05")
    page.locator("details.usermenu > summary").click()  # the user's menu under their name: 修改密码, 接口令牌…
    page.get_by_role("link", name="接口令牌").click()
    expect(page.get_by_role("heading", name="我的接口令牌")).to_be_visible()
    watch.check()
    token = page.locator(".tokens > li", has_text="E2E 登记脚本")
    expect(token).to_contain_text("有效期至")
    page.once("dialog", lambda dialog: dialog.accept())
    token.get_by_role("button", name="吊销").click()
    expect(page.locator(".flash")).to_contain_text("已吊销，立即失效")
    watch.check()
    expect(page.locator(".tokens > li", has_text="E2E 登记脚本")).to_contain_text("已吊销")

    page, watch = open_page("admin", viewport=PHONE)
    log_in(page, watch, "admin01", totp=True)
    page.goto("/admin/users")
    watch.check()
    page.get_by_role("link", name="officer05").click()
    expect(page.get_by_role("heading", name="接口令牌")).to_be_visible()
    watch.check()
    expect(page.locator("#tokens")).to_contain_text("E2E 登记脚本")
    expect(page.locator("#tokens")).to_contain_text("已吊销")
