"""arXiv's daily listing feeds (RSS 2.0 and Atom): the parser, the listing day, and the client over HTTP."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from papersift.errors import BadInput, Unavailable
from papersift.ingest.arxiv_rss import ArxivListingClient, listing_path, parse_listing, split_authors
from tests.fakes.server import Reply, fixture

RSS_FIXTURE = "arxiv_rss/rss_cs.CV_2025-09-18.xml"
ATOM_FIXTURE = "arxiv_rss/atom_cs.AI_2025-08-20.xml"
RSS_NEW = ["2509.13338", "2509.13353", "2509.13361", "2509.13366", "2509.13375", "2509.13385", "2509.13388",
           "2509.13396", "2509.13399", "2509.13414", "2509.13474"]
RSS_IDS = RSS_NEW + ["2509.13379", "2508.21088", "2508.21090", "2508.21675"]
RSS_ANNOUNCE = ["new"] * 11 + ["cross", "replace", "replace", "replace-cross"]
ATOM_IDS = ["2508.13167", "2508.13171", "2508.13174", "2508.13176", "2508.13177", "2508.13178", "2508.13180",
            "2508.13186"]
HEAD = """<?xml version='1.0' encoding='UTF-8'?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0">
<channel><title>{title}</title>{date}
"""


class Sleeps(list):
    """An injected ``sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def item(ident="oai:arXiv.org:2509.13338v1", announce="new", description=None, extra="", title="A title"):
    """One RSS item; ``None`` leaves an element out."""
    if description is None:
        description = f"arXiv:2509.13338v1 Announce Type: {announce} \nAbstract: Some  text\n over lines."
    parts = [f"<title>{title}</title>", "<link>https://arxiv.org/abs/2509.13338</link>",
             f"<description>{description}</description>"]
    if ident is not None:
        parts.append(f'<guid isPermaLink="false">{ident}</guid>')
    parts += ["<category>cs.CV</category>", "<pubDate>Thu, 18 Sep 2025 00:00:00 -0400</pubDate>"]
    if announce is not None:
        parts.append(f"<arxiv:announce_type>{announce}</arxiv:announce_type>")
    parts += ["<dc:creator>Ann Lee, Bo Chen and Cy Diaz</dc:creator>", extra]
    return "<item>" + "".join(parts) + "</item>\n"


def rss(*items, title="cs.CV updates on arXiv.org", pub="Thu, 18 Sep 2025 00:00:00 -0400") -> bytes:
    date = f"<pubDate>{pub}</pubDate>" if pub is not None else ""
    return (HEAD.format(title=title, date=date) + "".join(items) + "</channel></rss>\n").encode()


def with_date(name: str, old: str, new: str) -> bytes:
    body = fixture(name).decode()
    assert old in body
    return body.replace(old, new, 1).encode()


# ---------------------------------------------------------------- the two real-format feeds
def test_rss_listing_of_cs_cv():
    listing = parse_listing(fixture(RSS_FIXTURE), "cs.CV")
    assert (listing.day, listing.title, listing.bad) == ("2025-09-18", "cs.CV updates on arXiv.org", [])
    assert [i.paper.id for i in listing.items] == RSS_IDS
    assert [i.announce for i in listing.items] == RSS_ANNOUNCE
    assert [i.paper.version for i in listing.items] == [1] * 12 + [2] * 3
    first = listing.items[0].paper
    assert first.title == "Proximity-Based Evidence Retrieval for Uncertainty-Aware Neural Networks"
    assert first.categories == ["cs.CV", "cs.AI", "cs.LG", "cs.NE"]
    assert first.authors[:2] == ["Hassan Gharoun", "Mohammad Sadegh Khorshidi"] and len(first.authors) == 5
    assert first.abstract.startswith("This work proposes an evidence-retrieval mechanism")
    assert (first.listed, first.replaced, first.published, first.observed_at, first.source, first.comment) == (
        "2025-09-18", [], "2025-09-18T00:00:00Z", "2025-09-18T00:00:00Z", "arxiv-rss", None)
    cross = listing.items[11].paper
    assert cross.categories == ["cs.AI", "cs.CV"] and cross.listed == "2025-09-18"  # primary first, not cs.CV
    for replaced in listing.items[12:]:
        paper = replaced.paper
        assert (paper.listed, paper.replaced, paper.published) == (None, ["2025-09-18"], None)
        assert paper.observed_at == "2025-09-18T00:00:00Z"
    assert listing.items[-1].paper.categories == ["cs.CL", "cs.CV", "cs.GR"]
    for listed in listing.items:
        assert "Announce Type" not in listed.paper.abstract and not listed.paper.abstract.startswith("arXiv:")
        assert "\n" not in listed.paper.abstract and listed.paper.authors


def test_atom_listing_of_cs_ai():
    listing = parse_listing(fixture(ATOM_FIXTURE))
    assert (listing.day, listing.title, listing.bad) == ("2025-08-20", "cs.AI updates on arXiv.org", [])
    assert [i.paper.id for i in listing.items] == ATOM_IDS
    assert [i.announce for i in listing.items] == ["new"] * 7 + ["cross"]
    assert {i.paper.version for i in listing.items} == {1}
    assert [i.paper.categories[0] for i in listing.items] == ["cs.AI"] * 7 + ["cs.CL"]
    assert listing.items[2].paper.categories == ["cs.AI", "cs.LG", "q-fin.CP", "stat.ML"]
    assert listing.items[1].paper.authors == ["Tao An"] and len(listing.items[0].paper.authors) == 30
    assert listing.items[0].paper.abstract.startswith("Recent advances in large language models (LLMs)")
    assert all(i.paper.listed == "2025-08-20" and i.paper.published == "2025-08-20T00:00:00Z" for i in listing.items)


@pytest.mark.parametrize("name", [RSS_FIXTURE, ATOM_FIXTURE])
def test_fixture_items_are_the_archive_records(shared_data, name):
    listed = {i.paper.id: i.paper for i in parse_listing(fixture(name)).items}
    with gzip.open(shared_data / "arxiv-cs-2025-2026.jsonl.gz", "rt", encoding="utf-8") as lines:
        archive = {r["id"]: r for r in map(json.loads, lines) if r["id"] in listed}
    assert archive.keys() == listed.keys()
    for pid, paper in listed.items():
        record = archive[pid]
        assert paper.title == " ".join(record["title"].split())
        assert paper.abstract == " ".join(record["abstract"].split())
        assert paper.authors == record["authors"]
        assert paper.categories == [c for c in record["categories"] if re.fullmatch(r"[a-z-]+(\.[A-Za-z-]+)?", c)]


# ---------------------------------------------------------------- the listing day
@pytest.mark.parametrize("pub, day", [
    ("Sat, 20 Sep 2025 00:00:00 -0400", "2025-09-19"),  # the weekend shows Friday's listing
    ("Sun, 21 Sep 2025 12:00:00 -0400", "2025-09-19"),
    ("Mon, 22 Sep 2025 00:00:00 -0400", "2025-09-22"),
    ("Fri, 19 Sep 2025 03:30:00 +0000", "2025-09-18"),  # 23:30 on Thursday in New York
    ("Tue, 16 Dec 2025 04:59:59 +0000", "2025-12-15"),  # EST: UTC-5
    ("Tue, 16 Dec 2025 05:00:00 GMT", "2025-12-16"),
])
def test_rss_day_is_the_eastern_date_and_a_weekend_is_friday(pub, day):
    body = with_date(RSS_FIXTURE, "<pubDate>Thu, 18 Sep 2025 00:00:00 -0400</pubDate>\n    <skipDays>",
                     f"<pubDate>{pub}</pubDate>\n    <skipDays>")
    listing = parse_listing(body)
    assert listing.day == day and len(listing.items) == 15
    assert listing.items[0].paper.listed == day and listing.items[-1].paper.replaced == [day]


@pytest.mark.parametrize("updated, day", [
    ("2025-08-23T04:00:31.062391+00:00", "2025-08-22"),  # Saturday
    ("2025-08-20T02:00:00Z", "2025-08-19"),
    ("2025-08-20T00:00:00-04:00", "2025-08-20"),
])
def test_atom_day_from_updated(updated, day):
    body = with_date(ATOM_FIXTURE, "<updated>2025-08-20T04:00:31.062391+00:00</updated>", f"<updated>{updated}</updated>")
    assert parse_listing(body).day == day


def test_day_falls_back_to_the_first_dated_item():
    no_date = item().replace("<pubDate>Thu, 18 Sep 2025 00:00:00 -0400</pubDate>", "")
    saturday = item("oai:arXiv.org:2509.13353v1").replace("Thu, 18 Sep", "Sat, 20 Sep")
    assert parse_listing(rss(no_date, saturday, pub=None)).day == "2025-09-19"
    atom = with_date(ATOM_FIXTURE, "<updated>2025-08-20T04:00:31.062391+00:00</updated>", "")
    assert parse_listing(atom).day == "2025-08-20"


def test_no_date_or_a_bad_date_is_unavailable():
    no_date = item().replace("<pubDate>Thu, 18 Sep 2025 00:00:00 -0400</pubDate>", "")
    with pytest.raises(Unavailable, match="the listing has no date"):
        parse_listing(rss(no_date, pub=None))
    with pytest.raises(Unavailable, match="the listing has no date"):
        parse_listing(rss(pub=None))
    with pytest.raises(Unavailable, match="not a date"):
        parse_listing(rss(item(), pub="yesterday"))


# ---------------------------------------------------------------- items
def test_announce_type_read_from_the_description_when_the_element_is_missing():
    body = re.sub(r"\s*<arxiv:announce_type>[a-z-]+</arxiv:announce_type>", "", fixture(RSS_FIXTURE).decode())
    assert "announce_type" not in body
    listing = parse_listing(body.encode())
    assert [i.announce for i in listing.items] == RSS_ANNOUNCE and listing.bad == []
    assert listing.items[12].paper.replaced == ["2025-09-18"]


def test_an_unreadable_item_is_reported_and_the_rest_kept():
    no_id = item(ident=None).replace("<link>https://arxiv.org/abs/2509.13338</link>", "")
    unknown = item("oai:arXiv.org:2509.13366v1", announce="withdrawn")
    untitled = item("oai:arXiv.org:2509.13375v1", title="")
    bad_id = item("oai:arXiv.org:2509.1v1")
    good = item("oai:arXiv.org:2509.13353v3")
    listing = parse_listing(rss(no_id, unknown, good, untitled, bad_id))
    assert [i.paper.id for i in listing.items] == ["2509.13353"] and listing.items[0].paper.version == 3
    assert [number for number, _ in listing.bad] == [1, 2, 4, 5]
    messages = [error.message for _, error in listing.bad]
    assert messages[0].startswith("item 1 (no id): missing field 'link'")
    assert "item 2 (oai:arXiv.org:2509.13366v1): unknown announce type 'withdrawn'" in messages[1]
    assert "title" in messages[2] and "not an arXiv id" in messages[3]


def test_id_from_the_link_when_there_is_no_guid():
    listing = parse_listing(rss(item(ident=None)))
    paper = listing.items[0].paper
    assert (paper.id, paper.version) == ("2509.13338", None)


def test_atom_id_from_the_alternate_link_when_there_is_no_id():
    body = fixture(ATOM_FIXTURE).decode().replace("<id>oai:arXiv.org:2508.13167v1</id>", "", 1).encode()
    first = parse_listing(body).items[0].paper
    assert (first.id, first.version) == ("2508.13167", None)


def test_item_fields_are_cleaned():
    extra = "<arxiv:comment>12 pages,\n 4 figures</arxiv:comment>"
    paper = parse_listing(rss(item(extra=extra, title="Two\n  lines &amp; more"))).items[0].paper
    assert paper.title == "Two lines & more" and paper.abstract == "Some text over lines."
    assert paper.authors == ["Ann Lee", "Bo Chen", "Cy Diaz"] and paper.comment == "12 pages, 4 figures"


def test_description_without_the_arxiv_preamble_is_all_abstract():
    paper = parse_listing(rss(item(description="Plain abstract text."))).items[0].paper
    assert paper.abstract == "Plain abstract text."


@pytest.mark.parametrize("creator, names", [
    ("A. Lee, B. Chen, C. Diaz", ["A. Lee", "B. Chen", "C. Diaz"]),
    ("A. Lee, B. Chen and C. Diaz", ["A. Lee", "B. Chen", "C. Diaz"]),
    ("A. Lee, B. Chen, and C. Diaz", ["A. Lee", "B. Chen", "C. Diaz"]),
    ("A. Lee and B. Chen", ["A. Lee", "B. Chen"]),
    ("  A.  Lee ", ["A. Lee"]),
    ("Andrea Anderson, Sandy Anders", ["Andrea Anderson", "Sandy Anders"]),
    ("", []),
    (None, []),
])
def test_authors_split(creator, names):
    assert split_authors(creator) == names


# ---------------------------------------------------------------- refused documents
def test_the_error_feed_for_an_unknown_category_is_bad_input():
    body = rss(title="Feed error for query: cs.XX")
    with pytest.raises(BadInput, match=r"arXiv has no listing for 'cs\.XX\+cs\.CL'"):
        parse_listing(body, "cs.XX+cs.CL")
    with pytest.raises(BadInput, match=r"arXiv has no listing for 'cs\.XX'"):
        parse_listing(body)
    atom = (b'<feed xmlns="http://www.w3.org/2005/Atom"><id>http://rss.arxiv.org/atom/cs.XX</id>'
            b"<title>Feed error for query: cs.XX</title><updated>2025-09-18T04:00:00+00:00</updated></feed>")
    with pytest.raises(BadInput, match="no listing"):
        parse_listing(atom, "cs.XX")


@pytest.mark.parametrize("body, words", [
    (b"<html><body>maintenance</body></html>", "not an RSS or Atom feed"),
    (b"Service Unavailable", "malformed XML"),
    (b"", "malformed XML"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><rss version="2.0"><channel><title>&a;</title>'
     b"</channel></rss>", "forbidden XML"),
    (b'<rss version="2.0"><item/></rss>', "without a <channel>"),
])
def test_not_a_listing_is_unavailable(body, words):
    with pytest.raises(Unavailable, match=words):
        parse_listing(body)


# ---------------------------------------------------------------- categories
def test_good_categories():
    good = ["cs", "cs.CL", "math.AG", "q-bio.NC", "physics.optics", "eess.IV", "cond-mat.stat-mech"]
    assert listing_path(good) == "+".join(good)


@pytest.mark.parametrize("categories, words", [
    (["cs.CL; DROP"], "cs.CL; DROP"),
    (["ｃｓ.CL"], "ｃｓ.CL"),
    (["cs.CL", "cs.CL\n"], "not an arXiv category"),
    (["CS.CL"], "CS.CL"),
    (["cs.CL+cs.LG"], "not an arXiv category"),
    (["../rss"], "not an arXiv category"),
    ([""], "not an arXiv category"),
    (["cs.CL", 3], "not an arXiv category: 3"),
    ([], "at least one"),
    ("cs.CL", "must be a list"),
    (["cs.CL"] * 21, "at most 20 categories"),
])
def test_bad_categories_are_refused_before_any_request(fake_http, categories, words):
    with ArxivListingClient(fake_http.url, sleep=Sleeps()) as client, pytest.raises(BadInput, match=re.escape(words)):
        client.listing(categories)
    assert fake_http.requests == []


def test_bad_format_is_refused_before_any_request(fake_http):
    with ArxivListingClient(fake_http.url, sleep=Sleeps()) as client, pytest.raises(BadInput, match="rss, atom"):
        client.listing(["cs.CV"], fmt="json")
    assert fake_http.requests == []


# ---------------------------------------------------------------- the client over HTTP
def test_client_fetches_and_parses_the_listing(fake_http):
    fake_http.script("/rss/cs.CV", fixture(RSS_FIXTURE))
    fake_http.script("/atom/cs.AI", fixture(ATOM_FIXTURE))
    with ArxivListingClient(fake_http.url + "/", sleep=Sleeps()) as client:
        listing = client.listing(["cs.CV"])
        atom = client.listing(["cs.AI"], fmt="atom")
    assert listing.day == "2025-09-18" and [i.paper.id for i in listing.items] == RSS_IDS
    assert atom.day == "2025-08-20" and [i.paper.id for i in atom.items] == ATOM_IDS
    assert [r.path for r in fake_http.requests] == ["/rss/cs.CV", "/atom/cs.AI"]
    assert fake_http.requests[0].headers["User-Agent"].startswith("papersift")


def test_client_joins_categories_with_plus(fake_http):
    fake_http.script("/rss/cs.CL+cs.LG", rss(item()))
    with ArxivListingClient(fake_http.url, sleep=Sleeps()) as client:
        assert [i.paper.id for i in client.listing(["cs.CL", "cs.LG"]).items] == ["2509.13338"]
    assert [(r.path, r.query) for r in fake_http.requests] == [("/rss/cs.CL+cs.LG", {})]


def test_client_retries_a_503_after_retry_after(fake_http):
    fake_http.script("/rss/cs.CV", Reply(503, {"Retry-After": "7"}, b"busy"), Reply(200, body=fixture(RSS_FIXTURE)))
    sleeps = Sleeps()
    with ArxivListingClient(fake_http.url, sleep=sleeps) as client:
        assert len(client.listing(["cs.CV"]).items) == 15
    assert sleeps == [7.0] and len(fake_http.requests) == 2


def test_client_gives_up_after_max_attempts(fake_http):
    fake_http.script("/rss/cs.CV", Reply(503, {}, b"busy"))
    sleeps = Sleeps()
    with ArxivListingClient(fake_http.url, sleep=sleeps, max_attempts=3) as client, \
            pytest.raises(Unavailable, match="arXiv RSS answered HTTP 503"):
        client.listing(["cs.CV"])
    assert len(fake_http.requests) == 3 and sleeps == [1.0, 2.0]


def test_client_unknown_category_and_http_errors(fake_http):
    fake_http.script("/rss/cs.XX", rss(title="Feed error for query: cs.XX"))
    fake_http.script("/rss/cs.CL", Reply(404, {"Content-Type": "text/html"}, b"<html>Not Found</html>"))
    fake_http.script("/rss/cs.LG", Reply(404, {}, fixture(RSS_FIXTURE)))
    with ArxivListingClient(fake_http.url, sleep=Sleeps()) as client:
        with pytest.raises(BadInput, match=r"no listing for 'cs\.XX'"):
            client.listing(["cs.XX"])
        with pytest.raises(Unavailable, match="HTTP 404 for cs.CL: <html>Not Found"):
            client.listing(["cs.CL"])
        with pytest.raises(Unavailable, match="HTTP 404 for cs.LG$"):
            client.listing(["cs.LG"])
