"""The page checks themselves catch what they are for, so a journey that passes them means something."""
import pytest

from .browser import DESKTOP, PHONE, PageWatch

WIDE = '<div style="width: 600px">一行很长很长的内容</div>'


@pytest.fixture
def blank(browser):
    """make(html, viewport) -> a PageWatch on a page holding that html (no server, no CSP)."""
    contexts = []

    def make(html: str, viewport: dict = PHONE) -> PageWatch:
        context = browser.new_context(viewport=viewport)
        contexts.append(context)
        page = context.new_page()
        watch = PageWatch(page, "blank")
        page.set_content(f"<!doctype html><meta name=viewport content='width=device-width'><body>{html}</body>")
        return watch
    yield make
    for context in contexts:
        context.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP])
def test_a_page_wider_than_a_phone_fails_at_either_window_size(blank, viewport):
    watch = blank(WIDE, viewport)
    with pytest.raises(AssertionError, match=r"scrolls sideways at 375 px(.|\n)*div right edge 6\d\d px"):
        watch.check()
    assert watch.page.viewport_size == viewport  # the window is put back as the journey had it


def test_a_wide_table_in_its_own_scrolling_box_passes(blank):
    blank(f'<div style="overflow-x: auto">{WIDE}</div>').check()


@pytest.mark.parametrize("control", ['<input name="q">', '<select name="s"><option>1</option></select>',
                                     '<textarea name="t"></textarea>', '<label for="x"> </label><input id="x">'])
def test_an_input_without_a_label_fails(blank, control):
    with pytest.raises(AssertionError, match="inputs without a label"):
        blank(control).check()


def test_every_way_of_labelling_passes(blank):
    blank('<label for="a">姓名</label><input id="a"> <label>电话 <input></label> <input aria-label="搜索">'
          '<span id="l">备注</span><textarea aria-labelledby="l"></textarea>'
          '<input type="hidden" name="csrf"><input type="submit" value="提交">').check()


@pytest.mark.parametrize("script", ["console.error('boom')", "setTimeout(() => { throw new Error('boom'); })"])
def test_a_console_error_or_uncaught_exception_fails(blank, script):
    watch = blank("<p>内容</p>")
    watch.page.evaluate(f"() => {{ {script}; }}")
    watch.page.wait_for_timeout(100)
    with pytest.raises(AssertionError, match="boom"):
        watch.check()
