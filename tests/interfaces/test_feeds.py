"""RSS and Atom feeds over a real server and a real sample: every kind parses with feedparser
without complaint (bozo == 0), ids are stable paper URLs, dates are real, hostile text stays
text, and the pages advertise their feeds with <link rel="alternate">."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import quote

import feedparser
import httpx
import pytest

from ..web_support import ORG, XSS_DAY, XSS_ID, XSS_TITLE, assert_html_error, served_site

FEEDS = [
    "/feeds/daily",
    "/feeds/date/2024-05-28",
    f"/feeds/date/{XSS_DAY}",
    "/feeds/week/2024-W22",
    "/feeds/month/2024-06",
    "/feeds/search?q=diffusion&sort=date",
    "/feeds/search?q=quokka&org=Example+Lab",
    "/feeds/orgs/" + quote(ORG),
    "/feeds/authors/" + quote("Ada Example"),
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    # links use base_url, whatever host served the feed
    with served_site(tmp_path_factory.mktemp("feeds"), base_url="https://papers.example.org") as (_, base), \
            httpx.Client(base_url=base, timeout=30) as client:
        yield client


def fetch(site, path: str, fmt: str):
    base, _, query = path.partition("?")
    response = site.get(f"{base}.{fmt}" + (f"?{query}" if query else ""))
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return response, feedparser.parse(response.content)


@pytest.mark.parametrize("path", FEEDS)
@pytest.mark.parametrize("fmt", ["atom", "rss"])
def test_every_feed_is_valid_with_stable_ids_and_dates(site, path, fmt):
    response, parsed = fetch(site, path, fmt)
    expected_type = {"atom": "application/atom+xml", "rss": "application/rss+xml"}[fmt]
    assert response.headers["content-type"].startswith(expected_type)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == {"atom": "atom10", "rss": "rss20"}[fmt]
    assert parsed.entries, f"{path} has no entries"
    assert parsed.feed.title.startswith("papersift: ")
    for entry in parsed.entries:
        assert re.fullmatch(r"https://papers\.example\.org/papers/[\w./:-]+", entry.id), entry.id
        assert entry.link == entry.id and entry.title
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        assert stamp and datetime(*stamp[:6], tzinfo=timezone.utc) < datetime.now(timezone.utc)
    # the same request gives the same document (stable ids, no time-of-request in it)
    assert site.get(response.request.url).content == response.content


def test_entries_carry_authors_summary_and_categories(site):
    _, atom = fetch(site, "/feeds/orgs/" + quote(ORG), "atom")
    _, rss = fetch(site, "/feeds/orgs/" + quote(ORG), "rss")
    assert [e.id for e in atom.entries] == [e.id for e in rss.entries]  # same ids in both formats
    first = atom.entries[0]
    assert first.id == "https://papers.example.org/papers/2405.99904"  # newest first
    assert [a.name for a in first.authors] == ["Ada Example", "Coauthor 4"]
    assert "Quokka retrieval" in first.summary and first.tags[0].term == "cs.IR"
    assert first.published.startswith("2024-05-24")
    assert rss.entries[0].author == "Ada Example, Coauthor 4"


def test_hostile_metadata_stays_text(site):
    response, parsed = fetch(site, f"/feeds/date/{XSS_DAY}", "atom")
    entry = next(e for e in parsed.entries if e.id.endswith(XSS_ID))
    assert entry.title == XSS_TITLE  # exactly the text, escaped on the wire
    assert b"<script>" not in response.content and b"&lt;script&gt;" in response.content


def test_period_feeds_follow_the_page(site):
    page = site.get("/papers/week/2024-W22").text
    ids = re.findall(r'<li class="card[^"]*" id="paper-([^"]+)"', page)
    _, parsed = fetch(site, "/feeds/week/2024-W22", "atom")
    assert [e.id.rsplit("/", 1)[1].replace(".", "-") for e in parsed.entries] == ids[: len(parsed.entries)]
    assert parsed.feed.link == "https://papers.example.org/papers/week/2024-W22"


def test_etag_answers_304(site):
    first = site.get("/feeds/daily.atom")
    again = site.get("/feeds/daily.atom", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and not again.content
    assert "public" in first.headers["cache-control"]


def test_pages_link_their_feeds(site):
    checks = {
        "/": "/feeds/daily",
        "/papers/date/2024-05-28": "/feeds/date/2024-05-28",
        "/papers/month/2024-06": "/feeds/month/2024-06",
        "/search?q=diffusion&cat=cs.CV": "/feeds/search",
        "/orgs/" + quote(ORG): "/feeds/orgs/" + quote(ORG),
        "/authors/" + quote("Ada Example"): "/feeds/authors/" + quote("Ada Example"),
    }
    for page, feed in checks.items():
        html = site.get(page).text
        links = re.findall(r'<link rel="alternate" type="(application/(?:atom|rss)\+xml)" title="[^"]+" href="([^"]+)"',
                           html)
        assert {t for t, _ in links} == {"application/atom+xml", "application/rss+xml"}, page
        for _, href in links:
            assert href.replace("&amp;", "&").startswith(feed), (page, href)
            target = site.get(href.replace("&amp;", "&"))
            assert target.status_code == 200 and feedparser.parse(target.content).bozo == 0
    search = site.get("/search?q=diffusion&cat=cs.CV").text
    assert 'href="/feeds/search.atom?q=diffusion&amp;cat=cs.CV"' in search
    # "email me these" needs a mail server, which this site lacks (test_email_links.py has one)
    assert 'href="/subscribe' not in search


def test_bad_feed_requests_are_clear_4xx(site):
    assert_html_error(site.get("/feeds/daily.json"), 404)
    assert_html_error(site.get("/feeds/date/2024-05-28"), 404)  # no format
    assert_html_error(site.get("/feeds/date/2024-13-01.atom"), 400)
    assert_html_error(site.get("/feeds/week/2024-W99.rss"), 400)
    assert_html_error(site.get("/feeds/search.atom"), 400)  # no query
    assert_html_error(site.get("/feeds/search.atom", params={"q": '"unclosed'}), 400)
    assert_html_error(site.get("/feeds/search.rss", params={"q": "x", "sort": "sideways"}), 400)
    assert_html_error(site.get("/feeds/orgs/No Such Org Anywhere.atom"), 404)
    assert "end in .atom or .rss" in site.get("/feeds/daily.json").text
