"""End to end in real Chromium (Debian's package, driven by Playwright): the feed, date
navigation, search with filters, sign up, log in, upvote without a reload, save, submit a
paper served by the local fake arXiv, and hostile metadata that must stay inert."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.fakes.server import FakeHTTP, fixture

from ..browser_support import CHROMIUM, require_chromium
from ..web_support import XSS_DAY, XSS_ID, served_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]
require_chromium()
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")
expect = sync_api.expect


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    arxiv = FakeHTTP()
    arxiv.script("/oai", fixture("oai_getrecord.xml"), query={"identifier": "oai:arXiv.org:2503.11731"})
    arxiv.script("/oai", fixture("oai_id_does_not_exist.xml"))
    try:
        with served_site(tmp_path_factory.mktemp("e2e"), lines=1500, arxiv_oai_url=arxiv.url + "/oai") as (_, base):
            yield base
    finally:
        arxiv.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(15_000)
    dialogs: list[str] = []
    tab.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    tab.dialogs = dialogs
    yield tab
    context.close()


def test_feed_and_date_navigation(site, page):
    page.goto(site + "/")
    expect(page.locator("h1")).to_contain_text("Daily papers")
    assert page.locator("li.card").count() > 0
    page.fill("#pick-date", "2024-05-28")
    page.click(".date-pick button")
    page.wait_for_url(re.compile(r"/papers/date/2024-05-28$"))
    expect(page.locator("h1")).to_contain_text("Tuesday 28 May 2024")
    page.click("a[rel=prev].button-link")
    page.wait_for_url(re.compile(r"/papers/date/2024-05-27$"))
    page.click("a[rel=next].button-link")
    page.wait_for_url(re.compile(r"/papers/date/2024-05-28$"))
    page.click("nav.tabs >> text=Week")
    page.wait_for_url(re.compile(r"/papers/week/2024-W22$"))
    page.click("nav.sort-tabs >> text=Most upvoted")
    page.wait_for_url(re.compile(r"/papers/week/2024-W22\?sort=upvotes$"))
    counts = [int(t) for t in page.locator(".vote-count").all_inner_texts()]
    assert counts == sorted(counts, reverse=True)
    # keyboard users: the skip link is the first stop and lands on the content
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"


def test_search_with_filters(site, page):
    page.goto(site + "/search")
    page.fill("#q", "language model")
    page.click(".filters > summary")  # "Filters and sort"
    page.fill("#from", "2024-06-01")
    page.fill("#to", "2024-12-31")
    page.select_option("#sort", "date")
    page.click(".search-form button.primary")
    page.wait_for_url(re.compile(r"/search\?q=language\+model&from=2024-06-01&to=2024-12-31&.*sort=date"))
    expect(page.locator(".result-count")).to_contain_text("match the words")
    assert page.locator("li.card mark").count() > 0
    days = page.locator("li.card time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert days == sorted(days, reverse=True) and all("2024-06-01" <= d <= "2024-12-31" for d in days)
    expect(page.locator("#from")).to_have_value("2024-06-01")  # the form keeps its state
    page.click("a[rel=next]")
    page.wait_for_url(re.compile(r"page=2"))
    assert "from=2024-06-01" in page.url and "sort=date" in page.url


def test_account_vote_save_submit(site, page):
    page.goto(site + "/papers/date/2024-05-28")
    page.click("text=Sign up")
    page.fill("#email", "e2e@example.com")
    page.fill("#name", "E2E Tester")
    page.fill("#password", "a long password")
    page.fill("#password2", "a long password")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(r"/papers/date/2024-05-28$"))  # back where we came from
    expect(page.locator(".account-name")).to_have_text("E2E Tester")
    page.click(".account-menu > summary")  # the account menu: Settings, Log out
    page.click(".account-menu >> text=Log out")
    expect(page.locator(".account")).to_contain_text("Log in")
    page.click(".account >> text=Log in")
    page.fill("#email", "e2e@example.com")
    page.fill("#password", "a long password")
    page.click("form.stacked button[type=submit]")
    expect(page.locator(".account-name")).to_have_text("E2E Tester")

    page.goto(site + "/papers/date/2024-05-28")
    card = page.locator("li.card").first
    count = card.locator(".vote-count")
    before = int(count.inner_text())
    page.evaluate("window.__noReload = true")
    card.locator(".vote-button").click()
    expect(count).to_have_text(str(before + 1))
    expect(card.locator(".vote-button")).to_have_attribute("aria-pressed", "true")
    assert page.evaluate("window.__noReload") is True  # updated in place, no page load
    card.locator(".vote-button").click()  # un-upvote
    expect(count).to_have_text(str(before))
    card.locator(".vote-button").click()
    expect(count).to_have_text(str(before + 1))
    page.reload()
    expect(page.locator("li.card").first.locator(".vote-count")).to_have_text(str(before + 1))

    title = page.locator("li.card").first.locator(".card-title").inner_text()
    page.locator("li.card").first.locator(".save-button").click()
    expect(page.locator("li.card").first.locator(".save-button")).to_have_text("Saved")
    page.click("nav.site-nav >> text=Library")
    expect(page.locator("li.card .card-title")).to_have_text(title)

    page.click("nav.site-nav >> text=Submit")
    page.fill("#arxiv_id", "2503.99999")
    page.click("form.stacked button[type=submit]")
    expect(page.locator(".error-box")).to_contain_text("arXiv has no paper 2503.99999")
    page.fill("#arxiv_id", "arXiv:2503.11731")
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(re.compile(r"/papers/date/\d{4}-\d{2}-\d{2}\?submitted=2503.11731"))
    submitted = page.locator("#paper-2503-11731")
    expect(submitted).to_contain_text("Industrial-Grade Sensor Simulation")
    expect(submitted).to_contain_text("Submitted by E2E Tester")
    page.goto(site + "/")  # the home page stays on the latest harvested day; it links to today so far
    expect(page.locator("#paper-2503-11731")).to_have_count(0)
    page.click("text=today so far")
    expect(page.locator("#paper-2503-11731")).to_be_visible()


def test_hostile_metadata_stays_inert(site, page):
    for path in (f"/papers/date/{XSS_DAY}", f"/papers/{XSS_ID}", "/search?q=zanzibarian"):
        page.goto(site + path)
        expect(page.locator(f"#paper-{XSS_ID.replace('.', '-')}").first).to_be_visible()
        injected = page.evaluate("""() => ({
            imgs: document.querySelectorAll('img[src="x"]').length,
            scripts: [...document.scripts].filter(s => !s.src.includes('/static/site.js')).length,
            title: document.title})""")
        assert injected["imgs"] == 0 and injected["scripts"] == 0 and "pwned" not in injected["title"], path
    expect(page.locator("mark").first).to_have_text("zanzibarian")
    page.goto(site + f"/papers/{XSS_ID}")
    expect(page.locator("h1#paper-title")).to_contain_text("<script>alert(1)</script>")  # shown as text
    assert "</textarea>" in page.locator("#bibtex").input_value()
    page.wait_for_timeout(300)
    assert page.dialogs == []


def test_mobile_layout_has_no_horizontal_scroll(site, browser):
    context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
    try:
        tab = context.new_page()
        for path in ("/papers/date/2024-05-28", "/search?q=model", "/papers/2405.15738"):
            tab.goto(site + path)
            assert tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    finally:
        context.close()


def test_chromium_is_debians(site):
    assert shutil.which("chromium") or CHROMIUM.exists()
