"""What people write (comments, collection titles, descriptions and notes, display names) carrying the
cross-site scripting corpus, read back raw from every way out: the pages' HTML, the collection's RSS
(whose descriptions readers render as HTML) and the JSON API's rendered ``html``. None may keep markup
that runs script or loads a script URL (tests/xss_support.py's checker, itself checked here); the
Chromium run of the same corpus is tests/system/test_community_browser.py."""

from __future__ import annotations

import dataclasses
from contextlib import suppress

import httpx
import pytest
from defusedxml import ElementTree

from papersift.config import Settings
from papersift.config.settings import CommunitySettings
from papersift.errors import BadInput
from papersift.formats.markdown import render as render_markdown

from ..web_support import build_service, served
from ..xss_support import CORPUS, dangerous_markup, test_the_checker_sees_each_kind_of_danger  # noqa: F401

PAPER = "2405.99903"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    settings = dataclasses.replace(Settings(), community=CommunitySettings(comments_per_hour=500,
                                                                          new_account_comments_per_hour=500))
    svc = build_service(tmp_path_factory.mktemp("xss"), lines=50, settings=settings)
    writer = svc.accounts.create_user("mallory@example.org", "correct horse battery", CORPUS[1])
    made = svc.collections.create(writer, CORPUS[0], "\n".join(v for v in CORPUS if "\x00" not in v))
    svc.collections.add(writer, made.id, PAPER, CORPUS[2])
    for vector in CORPUS:
        with suppress(BadInput):
            svc.discussion.post(writer, PAPER, vector)
    slug = svc.collections.view(None, made).slug
    with served(svc) as base:
        yield base, slug, made.id, writer.handle


@pytest.mark.parametrize("vector", CORPUS)
def test_the_renderer_keeps_no_vector(vector):
    assert dangerous_markup(render_markdown(vector, ["mallory"])) == []


def test_no_page_keeps_a_vector_as_markup(site):
    base, slug, _, handle = site
    pages = {}
    for path in (f"/papers/{PAPER}", f"/collections/{slug}", "/collections", f"/users/{handle}"):
        response = httpx.get(base + path)
        assert response.status_code == 200, path
        assert dangerous_markup(response.text) == [], path
        pages[path] = response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[f"/papers/{PAPER}"]  # shown, as text


def test_the_collection_feed_keeps_text_as_text(site):
    base, slug, _, _ = site
    rss = ElementTree.fromstring(httpx.get(f"{base}/collections/{slug}/feed.rss").content)
    descriptions = [node.text or "" for node in rss.iter("description")]
    assert any("onerror=alert(2)" in d for d in descriptions)  # the words are there, as text
    assert all(dangerous_markup(d) == [] for d in descriptions)


def test_the_api_renders_no_vector(site):
    base, _, collection_id, _ = site
    comments = httpx.get(f"{base}/api/v1/papers/{PAPER}/comments").json()["comments"]
    assert len(comments) >= len(CORPUS) - 2
    assert all(dangerous_markup(c["html"] or "") == [] for c in comments)
    assert {c["body"] for c in comments} <= set(CORPUS)  # the source comes back as it was written: text
    data = httpx.get(f"{base}/api/v1/collections/{collection_id}").json()
    assert data["title"] == CORPUS[0] and data["papers"][0]["note"] == CORPUS[2]
