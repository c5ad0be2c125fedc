"""The layout in real Chromium at a phone's, a tablet's and two desktops' widths, signed in and out:
the header is one row and no navigation label wraps, the first feed card is in the first screen,
tables keep their dates on one line, the phone menu works with the keyboard and without script, and
axe-core finds no WCAG A/AA violation at any width.

Each width's home page is saved as a PNG (viewport only): into a temporary folder, or into
``$PAPERSIFT_SCREENSHOTS`` when set, which is how docs/screenshots/home-*.png are made (docs/WEB.md).
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import pytest

from papersift.web.session import SESSION_COOKIE

from ..browser_support import axe_violations, require_chromium
from ..web_support import served_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]
require_chromium()
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect

# a phone, a tablet, a laptop and a desktop, each at a common screen height
SCREENS = {390: 844, 768: 1024, 1280: 800, 1440: 900}
LONG_NAME = "Alexandra Montgomery-Whitfield"  # long enough to crowd a header, as real names do
PASSWORD = "a long password"

# What a reader sees of the header: whether its controls sit in one row (every visible one overlaps
# the same horizontal band, so none went to a second row), and which labels broke over two lines
# (their text's line boxes start at more than one height).
HEADER = """() => {
  const row = document.querySelector('.header-row');
  const shown = e => e.checkVisibility({visibilityProperty: true}) && e.getBoundingClientRect().width > 0;
  const controls = [...row.querySelectorAll('a, button, summary, input')].filter(shown);
  const boxes = controls.map(e => e.getBoundingClientRect());
  const lines = e => {
    const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT), rects = [];
    while (walk.nextNode()) {  // the words a reader sees (not a screen reader's hidden prefix)
      if (walk.currentNode.parentElement.closest('.visually-hidden')) continue;
      const range = document.createRange();
      range.selectNodeContents(walk.currentNode);
      rects.push(...range.getClientRects());
    }
    const tops = rects.filter(r => r.width > 1 && r.height > 1).map(r => r.top).sort((a, b) => a - b);
    return tops.filter((t, i) => i === 0 || t - tops[i - 1] > 8).length;
  };
  return {height: row.getBoundingClientRect().height,
          oneRow: Math.max(...boxes.map(b => b.top)) < Math.min(...boxes.map(b => b.bottom)),
          labels: controls.filter(e => e.tagName !== 'INPUT').map(e => e.textContent.trim().replace(/\\s+/g, ' ')),
          wrapped: controls.filter(e => e.tagName !== 'INPUT' && lines(e) > 1).map(e => e.textContent.trim())};
}"""
LINES = """els => els.map(e => {
  const range = document.createRange();
  range.selectNodeContents(e);
  return new Set([...range.getClientRects()].filter(r => r.width > 1).map(r => Math.round(r.top))).size;
})"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The test site, a reader with a long name and some signals and an API token, their session."""
    tmp = tmp_path_factory.mktemp("layout")
    with served_site(tmp, lines=1500) as (svc, base):
        user = svc.accounts.create_user("layout@example.com", PASSWORD, LONG_NAME)
        _, session_id, _ = svc.accounts.log_in("layout@example.com", PASSWORD, "layout test")
        with sqlite3.connect(tmp / "site.db") as db:  # six papers with long titles: rows of several lines
            papers = [r[0] for r in db.execute("SELECT id FROM papers ORDER BY length(title) DESC LIMIT 6")]
        svc.store.add_signals(user.id, papers, "more")
        svc.accounts.create_token(user, "my notebook")
        yield base, session_id


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    out = os.environ.get("PAPERSIFT_SCREENSHOTS")
    folder = Path(out) if out else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def open_page(browser, site, width: int, signed_in: bool, **options):
    base, session_id = site
    context = browser.new_context(viewport={"width": width, "height": SCREENS.get(width, 900)},
                                  device_scale_factor=1, **options)
    if signed_in:
        context.add_cookies([{"name": SESSION_COOKIE, "value": session_id, "url": base}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def assert_header_fits(page, where: str) -> dict:
    header = page.evaluate(HEADER)
    assert header["oneRow"], f"{where}: the header wrapped to a second row ({header})"
    assert header["wrapped"] == [], f"{where}: labels broken over two lines: {header['wrapped']}"
    return header


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
@pytest.mark.parametrize("width", list(SCREENS))
def test_header_is_one_row_and_first_card_is_on_screen(site, browser, shots, width, signed_in):
    context, page = open_page(browser, site, width, signed_in)
    try:
        page.goto(site[0] + "/")
        where = f"{width} px, {'signed in' if signed_in else 'signed out'}"
        header = assert_header_fits(page, where)
        if width >= 960:  # the navigation itself is in the row, not behind a menu
            assert {"Daily papers", "New on arXiv", "Search", "Submit"} <= set(header["labels"]), header
            if signed_in:
                expect(page.locator(".account-name")).to_have_text(LONG_NAME)
        else:
            assert "Menu" in header["labels"], header
        card_top = page.locator("li.card").first.evaluate("e => e.getBoundingClientRect().top")
        assert card_top < SCREENS[width], f"{where}: the first card starts at {card_top} px, below the first screen"
        assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), where
        assert axe_violations(page) == [], where
        # signed in: the docs' screenshots (docs/screenshots/home-WIDTH.png)
        page.screenshot(path=str(shots / f"home-{width}.png" if signed_in else shots / f"home-signed-out-{width}.png"))
    finally:
        context.close()


@pytest.mark.parametrize("width", [1024, 1280, 1440])
def test_header_holds_at_desktop_widths_for_an_admin(site, browser, width):
    """1024 px is the narrowest desktop: every link still fits (the search box shows from 1200 px)."""
    context, page = open_page(browser, site, width, signed_in=True)
    try:
        page.goto(site[0] + "/for-you/signals")
        header = assert_header_fits(page, f"{width} px")
        assert "For you" in header["labels"] and "Library" in header["labels"]
        expect(page.locator(".header-search")).to_be_visible(visible=width >= 1200)
    finally:
        context.close()


@pytest.mark.parametrize("script", [True, False], ids=["with-script", "without-script"])
def test_phone_menu_opens_from_the_keyboard_and_leads_to_each_page(site, browser, script):
    context, page = open_page(browser, site, 390, signed_in=True, java_script_enabled=script)
    try:
        page.goto(site[0] + "/")
        menu = page.locator(".phone-menu > summary")
        expect(page.locator(".phone-nav")).to_be_hidden()
        for _ in range(3):  # the skip link, the brand, the menu's button
            page.keyboard.press("Tab")
        expect(menu).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator(".phone-nav")).to_be_visible()
        panel = page.locator(".phone-panel").bounding_box()
        assert panel["x"] >= 0 and panel["x"] + panel["width"] <= 390, panel
        if script:  # (a page without script runs none of ours either: measured once, with it)
            lines = page.locator(".phone-panel a, .phone-panel button").evaluate_all(LINES)
            assert lines and set(lines) == {1}, lines  # every label on one line
            assert axe_violations(page) == []
            page.keyboard.press("Escape")  # closes it and gives the focus back to its button
            expect(page.locator(".phone-nav")).to_be_hidden()
            expect(menu).to_be_focused()
            menu.click()
        page.locator(".phone-nav >> text=Library").click()
        page.wait_for_url(re.compile(r"/library$"))
        menu.click()
        expect(page.locator(".phone-account")).to_contain_text(LONG_NAME)
        page.locator(".phone-account >> text=Settings").click()
        page.wait_for_url(re.compile(r"/settings$"))
    finally:
        context.close()


def test_tables_keep_dates_on_one_line_and_scroll_in_their_own_box_on_a_phone(site, browser, shots):
    for width in (1280, 390):
        context, page = open_page(browser, site, width, signed_in=True)
        try:
            for path, dates in (("/for-you/signals", "table.signals td:nth-child(3)"),
                                ("/settings", "table.tokens td:nth-child(3)")):
                page.goto(site[0] + path)
                lines = page.locator(dates).evaluate_all(LINES)
                assert lines, path
                if width == 1280:
                    assert set(lines) == {1}, (path, lines)  # one line each
                # a wide table scrolls inside its box: the page itself never scrolls sideways
                assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), (width, path)
                assert axe_violations(page) == [], (width, path)
                page.screenshot(path=str(shots / f"{path.rsplit('/', 1)[-1]}-{width}.png"))
        finally:
            context.close()
