"""The discussion and collections in real Chromium: a thread posted, replied to, edited, reacted to,
reported and hidden through the page's own forms (no script needed), and the cross-site scripting
corpus (tests/xss_support.py) posted everywhere a reader writes: as comments, collection titles,
descriptions and notes, and display names. No vector may run (every one calls ``alert``: a dialog
fails the test) and no element may carry an event handler or a script URL."""

from __future__ import annotations

import dataclasses
from contextlib import suppress

import pytest

from papersift.config import Settings
from papersift.config.settings import CommunitySettings
from papersift.errors import BadInput
from papersift.web.session import SESSION_COOKIE

from ..browser_support import require_chromium
from ..web_support import build_service, served
from ..xss_support import CORPUS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
require_chromium()
pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")

PAPER = "2405.99902"
PASSWORD = "correct horse battery"
# every element of the page whose attributes could run script or load a script URL
DANGER = """() => [...document.querySelectorAll('*')].flatMap(e => [...e.attributes]
  .filter(a => !(e.tagName === 'LINK' && a.value === 'data:,'))  // the site's own empty favicon
  .filter(a => a.name.startsWith('on') || (['href', 'src', 'action', 'formaction', 'data'].includes(a.name)
         && /^\\s*(javascript|vbscript|data):/i.test(a.value)))
  .map(a => e.tagName + ' ' + a.name + '=' + a.value.slice(0, 40)))"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    settings = dataclasses.replace(Settings(), community=CommunitySettings(comments_per_hour=500,
                                                                          new_account_comments_per_hour=500))
    svc = build_service(tmp_path_factory.mktemp("community-browser"), lines=100, settings=settings)
    sessions = {}
    for email, name in (("ada@example.org", "Ada Admin"), ("bob@example.org", "Bob Smith"),
                        ("carol@example.org", "Carol Jones")):
        svc.accounts.create_user(email, PASSWORD, name)
        sessions[name.split()[0].lower()] = svc.accounts.log_in(email, PASSWORD, "browser test")[1]
    svc.accounts.set_admin("ada@example.org")
    with served(svc) as base:
        yield svc, base, sessions


def open_as(browser, site, who: str | None):
    svc, base, sessions = site
    context = browser.new_context()
    if who:
        context.add_cookies([{"name": SESSION_COOKIE, "value": sessions[who], "url": base}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    return context, page, dialogs


def test_a_thread_in_chromium(site, browser):
    svc, base, _ = site
    url = f"{base}/papers/{PAPER}"
    bob, page, _ = open_as(browser, site, "bob")
    page.goto(url)
    page.fill("#comment-body", "Is the **quokka** bound tight?")
    page.get_by_role("button", name="Comment", exact=True).click()
    comment = page.locator(".comment").filter(has_text="quokka").first
    cid = comment.get_attribute("id").removeprefix("comment-")
    assert comment.locator("strong").inner_text() == "quokka"
    carol, cpage, _ = open_as(browser, site, "carol")
    cpage.goto(url)
    cpage.locator(f"#comment-{cid} summary", has_text="Reply").click()
    cpage.fill(f"#reply-{cid}", "Tight, see the appendix.")
    cpage.locator(f"#comment-{cid} button", has_text="Reply").click()
    assert cpage.locator(f"#comment-{cid} .replies .comment").inner_text().count("appendix") == 1
    page.goto(url)
    page.locator(f"#comment-{cid} summary", has_text="Edit").first.click()
    page.fill(f"#edit-{cid}", "Is the quokka bound tight? (edited)")
    page.locator(f"#comment-{cid} button", has_text="Save").first.click()
    assert "(edited)" in page.locator(f"#comment-{cid} .comment-meta").first.inner_text()
    cpage.goto(url)
    cpage.locator(f"#comment-{cid} > .comment-actions button.reaction", has_text="👍").click()
    assert cpage.locator(f"#comment-{cid} > .comment-actions button.reacted").inner_text().strip() == "👍 1"
    cpage.locator(f"#comment-{cid} > .comment-actions summary", has_text="Report").click()
    cpage.fill(f"#report-{cid}", "spoils the ending")
    cpage.locator(f"#comment-{cid} > .comment-actions button", has_text="Report").click()
    admin, apage, _ = open_as(browser, site, "ada")
    apage.goto(base + "/admin/reports")
    assert "spoils the ending" in apage.content()
    apage.get_by_role("button", name="Hide").first.click()
    for viewer in (page, cpage):
        viewer.goto(url)
        assert viewer.locator(f"#comment-{cid}").count() == 0
    apage.goto(url)
    assert apage.locator(f"#comment-{cid} .badge", has_text="hidden").count() == 1
    for context in (bob, carol, admin):
        context.close()


def test_no_vector_of_the_corpus_runs_anywhere(site, browser):
    svc, base, _ = site
    writer = svc.accounts.create_user("mallory@example.org", PASSWORD, "Mallory")
    made = svc.collections.create(writer, "<img src=x onerror=alert('title')>", "<svg onload=alert('d')>")
    for vector in CORPUS:
        with suppress(BadInput):  # a vector with a control character is refused at the door: safe too
            svc.discussion.post(writer, PAPER, vector)
    for pid in ("2405.99902", "2405.99903", "2405.99904"):
        svc.collections.add(writer, made.id, pid, "")
    for n, vector in enumerate(CORPUS[:3]):
        svc.collections.update_item(writer, made.id, svc.store.collection_items(made.id)[n].id, note=vector)
    named = [v for v in CORPUS if len(v) <= 60 and v.isprintable()][:12]
    readers = []
    for n, vector in enumerate(named):
        reader = svc.accounts.create_user(f"name{n}@example.org", PASSWORD, vector)
        svc.discussion.post(reader, PAPER, f"comment by name {n}")
        readers.append(reader)
    slug = svc.collections.view(None, svc.collections.get(None, made.id)).slug
    paths = [f"/papers/{PAPER}", f"/collections/{slug}", "/collections", f"/users/{writer.handle}",
             *[f"/users/{r.handle}" for r in readers[:3]]]
    for who in (None, "ada"):
        context, page, dialogs = open_as(browser, site, who)
        for path in paths:
            page.goto(base + path)
            page.wait_for_load_state("load")
            assert page.evaluate(DANGER) == [], path
        page.goto(base + paths[0])
        for summary in page.locator(".discussion details summary").all()[:8]:  # what opens on a click, too
            if summary.is_visible():
                summary.click()
        assert dialogs == []
        context.close()
