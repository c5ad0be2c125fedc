"""The public pages over a real server: feeds, search, paper, organisation and author pages,
escaping of hostile metadata, and a clear 4xx page for every kind of bad input."""

from __future__ import annotations

import re

import httpx
import pytest

from papersift.server.app import create_app
from papersift.web.render import marked

from ..helpers import running_server
from ..web_support import ORG, XSS_AUTHOR, XSS_DAY, XSS_ID, XSS_ORG, assert_html_error, build_service


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    svc = build_service(tmp_path_factory.mktemp("web-pages"))
    app = create_app(svc, background=False)

    def boom():  # an unexpected error: proves the catch-all answers (and logs) without a trace
        raise RuntimeError("kaboom")

    app.add_api_route("/boom", boom)
    app.add_api_route("/api/boom", boom)
    with running_server(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client


def card_ids(html: str) -> list[str]:
    return re.findall(r'<li class="card[^"]*" id="paper-([^"]+)"', html)


def test_day_page_lists_cards_with_everything(site):
    page = site.get("/papers/date/2024-05-27")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "ConvLLaVA" in html and 'href="/papers/2405.15738"' in html
    assert 'href="https://arxiv.org/abs/2405.15738"' in html and 'href="https://arxiv.org/pdf/2405.15738"' in html
    assert re.search(r'class="vote-count">\d+<', html) and "comment" in html
    assert "9 authors" in html  # many authors: a count, not a wall of names
    assert 'rel="prev" class="button-link" href="/papers/date/2024-05-26"' in html
    assert 'rel="next" class="button-link" href="/papers/date/2024-05-28"' in html
    assert '<input type="date" id="pick-date" name="date" value="2024-05-27"' in html
    # security headers: no inline script allowed, nothing from other hosts
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in html.replace('<script src="/static/site.js', "")


def test_sorts_order_the_day(site):
    def votes(sort):
        html = site.get("/papers/date/2024-05-28", params={"sort": sort}).text
        return [int(v) for v in re.findall(r'class="vote-count">(\d+)<', html)]

    assert votes("upvotes") == sorted(votes("upvotes"), reverse=True) and len(votes("upvotes")) > 5
    # within one day every paper has the same age, so trending equals most upvoted
    assert votes("trending") == votes("upvotes")
    newest = site.get("/papers/date/2024-05-28", params={"sort": "newest"}).text
    published = re.findall(r'<time datetime="([\d-]+)">', newest)
    assert published == sorted(published, reverse=True)


def test_week_and_month_pages(site):
    week = site.get("/papers/week/2024-W22").text
    assert "Week 22, 2024" in week and 'href="/papers/week/2024-W21"' in week and len(card_ids(week)) > 20
    month = site.get("/papers/month/2024-06", params={"page": "2"})
    assert month.status_code == 200 and "Page 2 of" in month.text
    assert 'href="/papers/month/2024-05"' in month.text


def test_home_shows_latest_day_when_today_is_empty(site):
    html = site.get("/").text
    assert "showing the latest day with papers" in html and card_ids(html)
    assert site.get("/papers").text.count('class="card') == html.count('class="card')


def test_date_picker_redirects_without_js(site):
    for view, target in (("date", "/papers/date/2024-05-29"), ("week", "/papers/week/2024-W22"),
                         ("month", "/papers/month/2024-05")):
        response = site.get("/papers", params={"date": "2024-05-29", "view": view, "sort": "upvotes"})
        assert response.status_code == 302 and response.headers["location"] == f"{target}?sort=upvotes"


def test_empty_day_points_to_nearest_days_with_papers(site):
    html = site.get("/papers/date/2024-06-01").text  # a Saturday: no feed
    assert "No papers on" in html
    assert 'href="/papers/date/2024-05-31"' in html and 'href="/papers/date/2024-06-03"' in html


def test_search_page_highlights_filters_and_paginates(site):
    page = site.get("/search", params={"q": "diffusion video", "has_code": "true", "sort": "relevance"})
    html = page.text
    assert page.status_code == 200 and re.search(r"[\d,]+ papers? match the words", html)
    assert "<mark>" in html.lower() and 'value="diffusion video"' in html
    assert '<option value="true" selected>' in html
    second = site.get("/search", params={"q": "model", "page": "2"})
    assert second.status_code == 200 and "Page 2 of" in second.text and 'start="21"' in second.text
    # shareable: the pagination links keep every filter
    linked = site.get("/search", params={"q": "model", "org": "", "has_code": "true", "from": "2024-05-01"}).text
    assert "/search?q=model&amp;from=2024-05-01&amp;has_code=true&amp;page=2" in linked
    windowed = site.get("/search", params={"q": "model", "from": "2024-05-24", "to": "2024-05-24"}).text
    assert set(re.findall(r'<time datetime="([\d-]+)">', windowed)) == {"2024-05-24"}


def test_search_without_query_shows_the_form(site):
    html = site.get("/search").text
    assert 'id="q"' in html and "author:hinton" in html and "results" not in html


def test_malformed_query_is_a_friendly_400_with_the_form(site):
    page = site.get("/search", params={"q": '"unclosed'})
    assert page.status_code == 400 and "Unbalanced quote" in page.text and 'id="q"' in page.text
    assert 'value="&#34;unclosed"' in page.text or 'value="&quot;unclosed"' in page.text


def test_paper_page(site):
    html = site.get("/papers/2405.15738").text
    assert "<h1 id=\"paper-title\">ConvLLaVA" in html and "Chunjiang Ge" in html
    assert 'href="/authors/Chunjiang%20Ge"' in html and 'href="/papers/date/2024-05-27"' in html
    assert '<textarea id="bibtex" class="bibtex" readonly' in html and "@misc{ge2024convllava" in html
    assert "eprint = {2405.15738}" in html and "Similar papers" in html
    similar = re.findall(r'id="paper-([^"]+)"', html.split('id="similar-h"')[1])
    assert similar and "2405-15738" not in similar  # BM25 fallback works without an embedder


def test_paper_ids_in_other_shapes_redirect_to_one_url(site):
    for raw in ("arXiv:2405.15738v2", "2405.15738v1"):
        response = site.get(f"/papers/{raw}")
        assert response.status_code == 301 and response.headers["location"] == "/papers/2405.15738"


def test_org_and_author_pages(site):
    org = site.get(f"/orgs/{ORG}")
    assert org.status_code == 200 and "3 papers" in org.text
    assert re.findall(r'<time datetime="([\d-]+)">', org.text) == ["2024-05-24", "2024-05-23", "2024-05-22"]
    assert site.get("/orgs/example LAB").status_code == 200  # case-insensitive
    author = site.get("/authors/Ada Example")
    assert author.status_code == 200 and "3 papers" in author.text
    two = site.get("/authors/Chunjiang Ge")
    assert two.status_code == 200 and "ConvLLaVA" in two.text


def test_hostile_metadata_is_escaped_everywhere(site):
    pages = {
        "feed": site.get(f"/papers/date/{XSS_DAY}", params={"sort": "newest"}).text,
        "paper": site.get(f"/papers/{XSS_ID}").text,
        "search": site.get("/search", params={"q": "zanzibarian"}).text,
        "org": site.get(f"/orgs/{XSS_ORG}").text,
        "author": site.get(f"/authors/{XSS_AUTHOR}").text,
    }
    for name, html in pages.items():
        assert XSS_ID.replace(".", "-") in html, name
        for raw in ("<script>alert", "<img src=x", "onerror=alert(2)>", "<b>Co</b>", "</textarea><img",
                    "document.title='pwned'</script>", 'href="javascript:'):
            assert raw not in html, (name, raw)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages["paper"]
    assert "$a&lt;b$" in pages["paper"] and "Evil &amp; &lt;b&gt;Co&lt;/b&gt;" in pages["paper"]
    assert "&lt;/textarea&gt;&lt;img src=x onerror=alert(2)&gt;" in pages["paper"]  # the BibTeX box holds
    assert "<mark>zanzibarian</mark>" in pages["search"]
    assert "&lt;img src=x onerror=alert(3)&gt;" in pages["search"]


def test_marked_keeps_only_mark_tags():
    assert marked("a <mark>b</mark> &lt;i&gt;") == "a <mark>b</mark> &lt;i&gt;"
    assert marked("<script>x</script><mark>y</mark>") == "&lt;script&gt;x&lt;/script&gt;<mark>y</mark>"
    assert marked("&amp;lt; <mark>&amp;</mark>") == "&amp;lt; <mark>&amp;</mark>"
    assert marked("<mark>open") == "open" and marked("<mark><mark>x</mark></mark>") == "x"


@pytest.mark.parametrize("path,params,status", [
    ("/papers/2401.99999", {}, 404),
    ("/papers/not-an-id", {}, 400),
    ("/papers/date/2024-13-45", {}, 400),
    ("/papers/date/2024-02-30", {}, 400),
    ("/papers/date/yesterday", {}, 400),
    ("/papers/week/2024-W99", {}, 400),
    ("/papers/week/2024-22", {}, 400),
    ("/papers/month/2024-13", {}, 400),
    ("/", {"page": str(10**9)}, 400),
    ("/papers/date/2024-05-27", {"page": "0"}, 400),
    ("/papers/date/2024-05-27", {"page": "abc"}, 400),
    ("/papers/date/2024-05-27", {"page": "50"}, 404),
    ("/papers/date/2024-05-27", {"sort": "hot"}, 400),
    ("/papers", {"date": "2024-13-45"}, 400),
    ("/papers", {"date": "2024-05-27", "view": "year"}, 400),
    ("/search", {"q": "y" * 5000}, 400),
    ("/search", {"q": '"unclosed'}, 400),
    ("/search", {"q": "cat:cs_LG"}, 400),  # a known field's bad value is an error (foo:bar is text)
    ("/search", {"q": "-only"}, 400),
    ("/search", {"q": "x", "sort": "random"}, 400),
    ("/search", {"q": "x", "page": str(10**9)}, 400),
    ("/search", {"q": "model", "page": "51"}, 400),
    ("/search", {"q": "zanzibarian", "page": "3"}, 404),
    ("/search", {"q": "x", "from": "2024-99-01"}, 400),
    ("/search", {"q": "x", "from": "2025-01-02", "to": "2025-01-01"}, 400),
    ("/search", {"q": "x", "has_code": "maybe"}, 400),
    ("/search", {"q": "x", "cat": "not a category!"}, 400),
    ("/search", {"q": "x\x00"}, 400),
    ("/orgs/No Such Organisation", {}, 404),
    ("/orgs/" + ORG, {"page": "-1"}, 400),
    ("/orgs/" + ORG, {"page": "99"}, 404),
    ("/authors/Nobody Here At All", {}, 404),
    ("/authors/" + "x" * 300, {}, 400),
    ("/nothing-here", {}, 404),
    ("/static/missing.css", {}, 404),
])
def test_bad_input_is_a_clear_html_4xx(site, path, params, status):
    response = site.get(path, params=params)
    if status == 400 and path == "/search":
        assert response.status_code == 400 and 'role="alert"' in response.text  # the form, with the reason
    else:
        assert_html_error(response, status)


def test_wrong_method_and_unexpected_errors(site):
    assert_html_error(site.get("/logout"), 405)
    page = site.get("/boom")
    assert page.status_code == 500 and "Something went wrong" in page.text and "kaboom" not in page.text
    api = site.get("/api/boom")
    assert api.status_code == 500 and api.json()["error"]["code"] == "internal_error"
    assert site.get("/papers/date/2024-05-27").status_code == 200  # the connection survives
    assert site.get("/api/nothing").json()["error"]["code"] == "not_found"  # /api stays JSON
