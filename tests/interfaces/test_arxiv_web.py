""""New on arXiv" on the website, over a real server on 127.0.0.1, for a store that holds arXiv's
listings and nothing else (the committed sample: 400 papers listed 2025-03 to 2026-04): the pages
with their tabs and categories, their RSS/Atom feeds (read by feedparser) and exports (read by
bibtexparser), following categories from the settings page, and For you over the firehose after a
library import. What each tab should hold is worked out from the sample file alone
(tests/arxiv_support.py).
"""

from __future__ import annotations

import re
from datetime import date

import bibtexparser
import feedparser
import httpx
import pytest

from ..arxiv_support import expected_tabs, sample
from ..helpers import ARXIV_SAMPLE
from ..web_support import FAST_HASHER, assert_html_error, csrf_of, served, sign_up

_CARD_IDS = re.compile(r'id="paper-([^"]+)"')
W22 = (date(2025, 5, 26), date(2025, 6, 1))


def ids_on(html: str) -> list[str]:
    return [pid.replace("-", ".") for pid in _CARD_IDS.findall(html)]


@pytest.fixture(scope="module")
def arxiv_site(tmp_path_factory):
    from papersift.service import Papersift

    tmp = tmp_path_factory.mktemp("arxiv-site")
    svc = Papersift(tmp / "p.db", index_dir=tmp / "idx", embedder=False, password_hasher=FAST_HASHER)
    svc.ingest_file("arxiv-jsonl", ARXIV_SAMPLE)
    with served(svc) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield {"svc": svc, "client": client, "base": base}


def test_the_latest_listing_day_is_the_default_page(arxiv_site):
    latest = max(p.first for p in sample())
    page = arxiv_site["client"].get("/arxiv")
    assert page.status_code == 200
    expected = expected_tabs(latest, latest)
    assert sorted(ids_on(page.text)) == sorted(expected["new"]) and expected["new"]
    assert 'aria-current="page">New on arXiv' in page.text  # the navigation marks the section


@pytest.mark.parametrize("query, categories", [("", ()), ("?category=cs.CL", ("cs.CL",)),
                                               ("?category=cs.CV,cs.CL", ("cs.CV", "cs.CL"))])
def test_each_tab_of_a_week_holds_what_the_sample_says(arxiv_site, query, categories):
    expected = expected_tabs(*W22, categories)
    for tab in ("new", "cross", "replace"):
        url = "/arxiv/week/2025-W22" + query + ("&" if query else "?") + f"tab={tab}"
        page = arxiv_site["client"].get(url)
        assert page.status_code == 200, url
        assert sorted(ids_on(page.text)) == sorted(expected[tab]), url
        for other in ("new", "cross", "replace"):  # every tab shows every tab's count
            assert re.search(rf'{ {"new": "New", "cross": "Cross-lists", "replace": "Replacements"}[other]} '
                             rf'<span class="count">{len(expected[other])}</span>', page.text), (url, other)


def test_an_empty_day_names_the_nearest_listing_days(arxiv_site):
    page = arxiv_site["client"].get("/arxiv/date/2025-05-25")  # a Sunday
    assert page.status_code == 200 and ids_on(page.text) == []
    assert "The nearest listing days" in page.text and "/arxiv/date/2025-05-23" in page.text


def test_feeds_and_exports_hold_the_tab(arxiv_site):
    client = arxiv_site["client"]
    expected = expected_tabs(*W22, ["cs.CV"])["new"]
    for fmt in ("rss", "atom"):
        parsed = feedparser.parse(client.get(f"/feeds/arxiv/week/2025-W22.{fmt}?category=cs.CV").content)
        assert not parsed.bozo and {e.link.rsplit("/", 1)[-1] for e in parsed.entries} == expected
        assert "cs.CV" in parsed.feed.title
    bib = client.get("/export/arxiv/week/2025-W22?category=cs.CV&format=bibtex")
    assert bib.status_code == 200 and "attachment" in bib.headers["content-disposition"]
    entries = bibtexparser.parse_string(bib.text).entries
    assert {e["eprint"] for e in entries} == expected


@pytest.mark.parametrize("url, message", [
    ("/arxiv?category=cs.CL;drop", "is not an arXiv category"),
    ("/arxiv?category=%EF%BD%83%EF%BD%93.CL", "is not an arXiv category"),  # full-width letters
    ("/arxiv/week/2025-W22?tab=bogus", "unknown tab"),
    ("/arxiv/week/2025-W99", "bad week"),
    ("/arxiv/date/2025-02-30", "bad date"),
    ("/arxiv/month/2025-05?page=%C2%B2", "page must be a whole number"),
    ("/arxiv?category=" + ",".join(f"cs.A{chr(65 + i)}" for i in range(21)), "at most 20 categories"),
    ("/feeds/arxiv/year/2025.rss", "use date, week or month"),
    ("/export/arxiv/week/2025-W22?format=bibtex&tab=x", "unknown tab"),
])
def test_bad_input_is_a_4xx_naming_the_problem(arxiv_site, url, message):
    response = arxiv_site["client"].get(url)
    assert 400 <= response.status_code < 500, url
    assert message.lower() in response.text.lower(), (url, response.text[:300])
    if response.headers["content-type"].startswith("text/html"):
        assert_html_error(response, response.status_code)


def test_a_reader_follows_categories_and_sees_them_by_default(arxiv_site):
    with httpx.Client(base_url=arxiv_site["base"], timeout=60) as client:
        assert sign_up(client, "follower@example.org", name="Follower").status_code == 303
        settings = client.get("/settings")
        assert 'id="categories"' in settings.text
        token = csrf_of(settings.text)
        done = client.post("/settings/categories", data={"csrf_token": token, "category": ["cs.CL"],
                                                          "more": "cs.AI, stat.ML"})
        assert done.status_code == 303 and done.headers["location"] == "/settings#categories"
        user = arxiv_site["svc"].store.get_user_by_email("follower@example.org")
        assert arxiv_site["svc"].arxiv.followed(user) == ["cs.AI", "cs.CL", "stat.ML"]
        page = client.get("/arxiv/week/2025-W22")
        assert "the categories you follow" in page.text
        assert sorted(ids_on(page.text)) == sorted(expected_tabs(*W22, ["cs.AI", "cs.CL", "stat.ML"])["new"])
        bad = client.post("/settings/categories", data={"csrf_token": token, "more": "cs.CL; DROP"})
        assert_html_error(bad, 400)
        assert arxiv_site["svc"].arxiv.followed(user) == ["cs.AI", "cs.CL", "stat.ML"]  # nothing lost
        no_csrf = client.post("/settings/categories", data={"category": "cs.CV"})
        assert no_csrf.status_code == 403


def test_following_needs_a_signed_in_reader(arxiv_site):
    with httpx.Client(base_url=arxiv_site["base"], timeout=60) as client:
        response = client.post("/settings/categories", data={"category": "cs.CL"})
        assert response.status_code in (401, 403)


def test_the_daily_papers_page_points_to_the_arxiv_feed_when_it_is_empty(arxiv_site):
    home = arxiv_site["client"].get("/")
    assert home.status_code == 200 and 'href="/arxiv"' in home.text
