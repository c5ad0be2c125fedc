"""The website's side of exports, over a real server: download links on the paper, feed, search and
library pages and what they return (Content-Type, a file name, a body the real parsers read),
the Highwire ``citation_*`` meta tags parsed from the real page HTML, ``sitemap.xml`` parsed as
XML (and split by a sitemap index beyond 50,000 URLs), ``robots.txt``; hidden papers nowhere."""

from __future__ import annotations

import csv
import io
import re
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import bibtexparser
import defusedxml.ElementTree as SafeET
import httpx
import pytest
import rispy

from papersift.formats import sitemap
from papersift.model import FeedEntry, Paper
from papersift.server.app import create_app
from papersift.service import Papersift
from papersift.web.exports import sitemap_file

from ..helpers import running_server
from ..web_support import FAST_HASHER, assert_html_error, sign_up

AT = "2024-05-28T09:00:00Z"
DAY = "2024-05-27"
HIDDEN = "2405.10003"
HOSTILE = "2405.10004"
HOSTILE_TITLE = 'Quokka "quoted" <script>alert(1)</script> & \'apostrophes\''
NS = {"s": sitemap.NAMESPACE}


def site_papers() -> list[Paper]:
    papers = [Paper(id=f"2405.1000{i}", title=f"Quokka retrieval part {i}", authors=["Ada Lovelace", "Grace Hopper"],
                    abstract=f"Quokka retrieval, part {i}.\nSecond line.", categories=["cs.IR"],
                    published=f"2024-05-2{i}T00:00:00Z", upvotes=i, source="hf-jsonl", observed_at=AT,
                    feed_entry=FeedEntry(day=DAY, upvotes=i, rank=i, captured_at=AT)) for i in (1, 2, 3)]
    papers.append(Paper(id=HOSTILE, title=HOSTILE_TITLE, authors=['Eve "<b>" Hacker', "José María Ñúñez"],
                        abstract="=cmd|' /C calc'!A0 quokka", categories=["cs.CR"], published="2024-05-24T00:00:00Z",
                        source="hf-jsonl", observed_at=AT, feed_entry=FeedEntry(day=DAY, upvotes=9, rank=4, captured_at=AT)))
    papers.append(Paper(id="hep-th/9901001", title="Old quokka strings", authors=["Edward Witten"],
                        published="1999-01-01T00:00:00Z", source="arxiv-jsonl", observed_at=AT))
    return papers


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("citation-web")
    svc = Papersift(tmp / "site.db", embedder=False, password_hasher=FAST_HASHER)
    svc.store.upsert_papers(site_papers())
    svc.indexes_lexical_only().sync_lexical()
    admin = svc.accounts.create_user("admin@lab.org", "correct horse battery", is_admin=True)
    svc.actions.hide_paper(admin, HIDDEN)
    app = create_app(svc, background=False)
    with running_server(app) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client, svc, base
    svc.close()


class MetaAndLinks(HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta: list[tuple[str, str]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "meta" and a.get("name", "").startswith("citation_"):
            self.meta.append((a["name"], a.get("content")))
        if tag == "a" and (a.get("href") or "").startswith("/export/"):
            self.links.append(a["href"])


def parsed(html: str) -> MetaAndLinks:
    parser = MetaAndLinks()
    parser.feed(html)
    return parser


def export_links(html: str) -> dict[str, str]:
    """format -> href of the page's download links."""
    return {parse_qs(urlsplit(href).query)["format"][0]: href for href in parsed(html).links}


def download(client, href: str, content_type: str, filename: str) -> httpx.Response:
    response = client.get(href)
    assert response.status_code == 200, (href, response.text[:300])
    assert response.headers["content-type"].startswith(content_type), response.headers["content-type"]
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert response.headers["x-content-type-options"] == "nosniff"
    return response


# ---- the paper page
def test_paper_page_carries_highwire_tags(site):
    client, _, base = site
    page = parsed(client.get("/papers/2405.10001").text)
    tags: dict[str, list[str]] = {}
    for name, content in page.meta:
        tags.setdefault(name, []).append(content)
    assert tags["citation_title"] == ["Quokka retrieval part 1"]
    assert tags["citation_author"] == ["Lovelace, Ada", "Hopper, Grace"]  # one tag per author, in order
    assert tags["citation_publication_date"] == ["2024/05/21"] and tags["citation_online_date"] == ["2024/05/21"]
    assert tags["citation_arxiv_id"] == ["2405.10001"] and tags["citation_doi"] == ["10.48550/arXiv.2405.10001"]
    assert tags["citation_pdf_url"] == ["https://arxiv.org/pdf/2405.10001"]
    assert tags["citation_abstract_html_url"] == [f"{base}/papers/2405.10001"]
    assert tags["citation_abstract"] == ["Quokka retrieval, part 1. Second line."]


def test_meta_tags_escape_hostile_values_and_take_old_ids(site):
    client, *_ = site
    html = client.get(f"/papers/{HOSTILE}").text
    head = html.split("</head>")[0]
    assert "<script>alert(1)" not in head and "<b>" not in head
    meta = dict(parsed(html).meta)  # the parser unescapes: the value is the title itself
    assert meta["citation_title"] == HOSTILE_TITLE
    authors = [c for n, c in parsed(html).meta if n == "citation_author"]
    assert authors == ['Hacker, Eve "<b>"', "Ñúñez, José María"]
    old = dict(parsed(client.get("/papers/hep-th/9901001").text).meta)
    assert old["citation_arxiv_id"] == "hep-th/9901001" and old["citation_pdf_url"] == "https://arxiv.org/pdf/hep-th/9901001"


def test_paper_page_downloads_in_four_formats(site):
    client, *_ = site
    links = export_links(client.get("/papers/hep-th/9901001").text)
    assert set(links) == {"bibtex", "ris", "csl-json", "csv"}
    bib = download(client, links["bibtex"], "application/x-bibtex", "papersift-hep-th-9901001.bib")
    assert bibtexparser.parse_string(bib.text).entries[0]["eprint"] == "hep-th/9901001"
    ris = download(client, links["ris"], "application/x-research-info-systems", "papersift-hep-th-9901001.ris")
    assert rispy.loads(ris.text)[0]["authors"] == ["Witten, Edward"]
    csl = download(client, links["csl-json"], "application/vnd.citationstyles.csl+json", "papersift-hep-th-9901001.json")
    assert csl.json()[0]["id"] == "hep-th/9901001"
    table = download(client, links["csv"], "text/csv", "papersift-hep-th-9901001.csv")
    assert table.content.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    assert next(csv.DictReader(io.StringIO(table.content.decode("utf-8-sig"), newline="")))["id"] == "hep-th/9901001"


# ---- lists: feed, search, library
def test_feed_page_links_export_the_whole_period_without_hidden_papers(site):
    client, *_ = site
    links = export_links(client.get(f"/papers/date/{DAY}", params={"sort": "upvotes"}).text)
    assert "sort=upvotes" in links["ris"]
    records = rispy.loads(download(client, links["ris"], "application/x-research-info-systems",
                                   f"papersift-day-{DAY}.ris").text)
    assert [r["accession_number"] for r in records] == [f"arXiv:{i}" for i in (HOSTILE, "2405.10002", "2405.10001")]
    for path, name in (("/export/week/2024-W22", "papersift-week-2024-W22.json"),
                       ("/export/month/2024-05", "papersift-month-2024-05.json")):
        items = download(client, path + "?format=csl-json", "application/vnd.citationstyles.csl+json", name).json()
        assert {i["id"] for i in items} == {HOSTILE, "2405.10002", "2405.10001"}


def test_search_page_links_export_the_results(site):
    client, *_ = site
    html = client.get("/search", params={"q": "quokka", "sort": "date"}).text
    links = export_links(html)
    assert "q=quokka" in links["csv"] and "sort=date" in links["csv"]
    body = download(client, links["csv"], "text/csv", "papersift-search-quokka.csv").content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    assert [r["id"] for r in rows] == [HOSTILE, "2405.10002", "2405.10001", "hep-th/9901001"]  # newest first
    hostile = next(r for r in rows if r["id"] == HOSTILE)
    assert hostile["abstract"].startswith("'=cmd")  # no formula runs when the file is opened
    limited = client.get("/export/search", params={"q": "quokka", "format": "bibtex", "limit": "2"})
    assert len(bibtexparser.parse_string(limited.text).entries) == 2


def test_library_page_exports_only_the_readers_papers(site, tmp_path):
    client, svc, base = site
    with httpx.Client(base_url=base, timeout=60) as reader:
        sign_up(reader, "reader@lab.org")
        user = svc.accounts.user_by_email("reader@lab.org")
        for pid in ("2405.10001", "hep-th/9901001"):
            svc.actions.save(user, pid, on=True)
        links = export_links(reader.get("/library").text)
        response = download(reader, links["bibtex"], "application/x-bibtex", "papersift-library.bib")
        assert "no-store" in response.headers["cache-control"]
        assert {e["eprint"] for e in bibtexparser.parse_string(response.text).entries} == {"2405.10001", "hep-th/9901001"}
    anonymous = client.get("/export/library?format=ris", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/login?next=/library"


@pytest.mark.parametrize("path,status", [
    ("/export/papers/2405.10001?format=endnote", 400),
    (f"/export/papers/{HIDDEN}?format=ris", 404),
    ("/export/papers/not-an-id", 400),
    ("/export/search?format=ris", 400),
    ("/export/search?q=quokka&limit=5000", 400),
    ("/export/search?q=%22unclosed&format=ris", 400),
    ("/export/date/2024-13-01", 400),
    ("/export/week/2024-W22?sort=best", 400),
    ("/sitemap-2.xml", 404),
    ("/sitemap-x.xml", 400),
])
def test_bad_export_requests_get_a_page_that_says_why(site, path, status):
    client, *_ = site
    response = client.get(path)
    assert_html_error(response, status)
    if "endnote" in path:
        assert "bibtex, ris, csl-json, csv" in response.text


def test_hidden_paper_is_in_no_export(site):
    client, *_ = site
    for path in (f"/export/date/{DAY}", "/export/week/2024-W22", "/export/month/2024-05", "/export/search?q=quokka"):
        for fmt in ("bibtex", "ris", "csl-json", "csv"):
            body = client.get(path, params={"format": fmt}).text
            assert HIDDEN not in body and "part 3" not in body, (path, fmt)


# ---- crawlers
def test_sitemap_lists_public_pages(site):
    client, _, base = site
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/xml")
    root = SafeET.fromstring(response.content)
    assert root.tag == f"{{{sitemap.NAMESPACE}}}urlset"
    locs = [loc.text for loc in root.findall("s:url/s:loc", NS)]
    assert f"{base}/" in locs and f"{base}/papers/date/{DAY}" in locs
    assert {f"{base}/papers/{i}" for i in ("2405.10001", "2405.10002", HOSTILE, "hep-th/9901001")} <= set(locs)
    assert f"{base}/papers/{HIDDEN}" not in locs and len(locs) == len(set(locs)) == 6
    for loc in locs:  # every URL the sitemap names is a page that answers
        assert client.get(urlsplit(loc).path).status_code == 200, loc
    assert SafeET.fromstring(client.get("/sitemap-1.xml").content).findall("s:url/s:loc", NS)[0].text == locs[0]


def test_robots_txt_points_to_the_sitemap(site):
    client, _, base = site
    text = client.get("/robots.txt").text
    assert f"Sitemap: {base}/sitemap.xml" in text.splitlines()
    assert re.search(r"^User-agent: \*$", text, re.M) and "Disallow: /export/" in text


def test_beyond_50000_urls_the_sitemap_is_an_index():
    urls = [sitemap.Url(f"https://papers.example.org/papers/2405.{i:05d}?a=1&b=2") for i in range(sitemap.MAX_URLS + 1)]
    base = "https://papers.example.org"
    index = SafeET.fromstring(sitemap_file(urls, base, None))
    assert index.tag == f"{{{sitemap.NAMESPACE}}}sitemapindex"
    parts = [loc.text for loc in index.findall("s:sitemap/s:loc", NS)]
    assert parts == [f"{base}/sitemap-1.xml", f"{base}/sitemap-2.xml"]
    first = SafeET.fromstring(sitemap_file(urls, base, 1)).findall("s:url/s:loc", NS)
    second = SafeET.fromstring(sitemap_file(urls, base, 2)).findall("s:url/s:loc", NS)
    assert len(first) == sitemap.MAX_URLS and [e.text for e in second] == [urls[-1].loc]  # & survives as &amp;
    assert b"&amp;b=2" in sitemap_file(urls, base, 2)
    with pytest.raises(ValueError):
        sitemap.urlset(urls)
    assert sitemap.chunks(0) == 1 and sitemap.chunks(sitemap.MAX_URLS) == 1
