"""The OAI-PMH harvester and the HF daily client against a real local HTTP server."""

from __future__ import annotations

import json
import socket

import httpx
import pytest

from papersift.errors import BadInput, Unavailable
from papersift.ingest.arxiv import OAIHarvester
from papersift.ingest.hf import HFDailyClient
from tests.fakes.server import DROP, Reply, fixture

FIRST = {"verb": "ListRecords", "metadataPrefix": "arXiv"}
TOKEN2, TOKEN3 = "6961524|1001", "6961524|2001"
ALL_IDS = ["2503.11731", "2503.11742", "cs/9901001", "2503.12000", "2503.12345"]


class Sleeps(list):
    """An injected ``sleep`` that records the waits instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def script_three_pages(fake_http):
    fake_http.script("/oai", fixture("oai_page1.xml"), query=FIRST)
    fake_http.script("/oai", fixture("oai_page2.xml"), query={"resumptionToken": TOKEN2})
    fake_http.script("/oai", fixture("oai_page3.xml"), query={"resumptionToken": TOKEN3})


def harvester(fake_http, sleep=None, **kw) -> OAIHarvester:
    return OAIHarvester(fake_http.url + "/oai", sleep=Sleeps() if sleep is None else sleep, polite_delay=0, **kw)


def test_three_pages_via_resumption_tokens(fake_http):
    script_three_pages(fake_http)
    pages = list(harvester(fake_http).harvest("2025-03-17", "2025-03-18", "cs"))
    assert [[p.id for p in page.papers] for page in pages] == [ALL_IDS[:2], ALL_IDS[2:4], ALL_IDS[4:]]
    assert [len(page.bad) for page in pages] == [0, 1, 0]
    assert pages[0].cursor == {"from": "2025-03-17", "until": "2025-03-18", "set": "cs",
                               "resumption_token": TOKEN2, "pages": 1}
    assert pages[1].cursor["resumption_token"] == TOKEN3 and pages[1].cursor["pages"] == 2
    assert pages[2].cursor is None
    assert json.loads(json.dumps(pages[0].cursor)) == pages[0].cursor  # storable as JSON
    first, second, third = (r.query for r in fake_http.requests_to("/oai"))
    assert first == {**FIRST, "from": "2025-03-17", "until": "2025-03-18", "set": "cs"}
    # OAI-PMH: a resumed request carries the token and nothing else
    assert second == {"verb": "ListRecords", "resumptionToken": TOKEN2}
    assert third == {"verb": "ListRecords", "resumptionToken": TOKEN3}


def test_killed_harvest_resumes_at_the_next_page(fake_http):
    script_three_pages(fake_http)
    stored: dict = {"papers": [], "cursor": None}

    def commit(page):  # what the store does: papers and cursor in one transaction
        stored["papers"] += [p.id for p in page.papers]
        stored["cursor"] = json.loads(json.dumps(page.cursor))

    run = harvester(fake_http).harvest("2025-03-17", "2025-03-18", "cs")
    commit(next(run))
    run.close()  # killed after committing page 1

    for page in harvester(fake_http).harvest("2025-03-17", "2025-03-18", "cs", cursor=stored["cursor"]):
        commit(page)
    assert stored["papers"] == ALL_IDS and len(set(stored["papers"])) == len(stored["papers"])
    asked = [r.query.get("resumptionToken", "first") for r in fake_http.requests_to("/oai")]
    assert asked == ["first", TOKEN2, TOKEN3]  # no page fetched twice
    assert stored["cursor"] is None


def test_resuming_a_finished_harvest_fetches_nothing(fake_http):
    assert list(harvester(fake_http).harvest(cursor={"done": True})) == []
    assert fake_http.requests == []


def test_cursor_for_another_harvest_is_refused(fake_http):
    cursor = {"from": "2025-03-17", "until": None, "set": "cs", "resumption_token": TOKEN2, "pages": 1}
    with pytest.raises(BadInput, match="set='cs'"):
        list(harvester(fake_http).harvest(set_spec="math", cursor=cursor))
    with pytest.raises(BadInput, match="resumption_token"):
        list(harvester(fake_http).harvest(cursor={"pages": 1}))


def test_503_retry_after_is_honoured(fake_http):
    fake_http.script("/oai", Reply(503, {"Retry-After": "7"}, "busy"), Reply(503, {"Retry-After": "2"}),
                     fixture("oai_page3.xml"), query=FIRST)
    sleeps = Sleeps()
    pages = list(harvester(fake_http, sleeps).harvest(set_spec="cs"))
    assert sleeps == [7.0, 2.0]
    assert [p.id for p in pages[0].papers] == ["2503.12345"] and pages[0].cursor is None
    assert len(fake_http.requests) == 3


def test_503_forever_gives_up_with_unavailable(fake_http):
    fake_http.script("/oai", Reply(503, {"Retry-After": "100000"}))
    sleeps = Sleeps()
    with pytest.raises(Unavailable, match="HTTP 503 3 times"):
        list(harvester(fake_http, sleeps, max_attempts=3, max_wait=30).harvest())
    assert sleeps == [30, 30]  # bounded: capped waits, limited attempts


def test_no_records_match_is_an_empty_harvest(fake_http):
    fake_http.script("/oai", fixture("oai_no_records.xml"))
    pages = list(harvester(fake_http).harvest("2030-01-01", set_spec="cs"))
    assert len(pages) == 1 and pages[0].papers == [] and pages[0].bad == [] and pages[0].cursor is None


def test_bad_resumption_token(fake_http):
    fake_http.script("/oai", fixture("oai_bad_token.xml"))
    cursor = {"from": None, "until": None, "set": "cs", "resumption_token": "expired|1", "pages": 4}
    with pytest.raises(BadInput, match="badResumptionToken: The value of the resumptionToken.*expired"):
        list(harvester(fake_http).harvest(set_spec="cs", cursor=cursor))
    assert fake_http.requests[0].query == {"verb": "ListRecords", "resumptionToken": "expired|1"}


def test_bad_argument_sent_with_http_400(fake_http):
    fake_http.script("/oai", Reply(400, {"Content-Type": "text/xml"}, fixture("oai_bad_argument.xml")))
    with pytest.raises(BadInput, match="badArgument: Illegal set argument"):
        list(harvester(fake_http).harvest(set_spec="nonsense"))


def test_malformed_page_is_a_clear_error_and_keeps_the_cursor(fake_http):
    fake_http.script("/oai", fixture("oai_page1.xml"), query=FIRST)
    fake_http.script("/oai", fixture("oai_malformed.xml"), query={"resumptionToken": TOKEN2})
    run = harvester(fake_http).harvest()
    first = next(run)
    with pytest.raises(Unavailable, match="page 2: arXiv OAI-PMH sent malformed XML"):
        next(run)
    assert first.cursor["resumption_token"] == TOKEN2  # still resumable from page 2


@pytest.mark.parametrize("reply, words", [
    (Reply(404, {}, "no such endpoint"), "HTTP 404"),
    (Reply(200, {"Content-Type": "text/html"}, "<html>maintenance</html>"), "not an OAI-PMH"),
])
def test_other_failures_are_unavailable(fake_http, reply, words):
    fake_http.script("/oai", reply)
    with pytest.raises(Unavailable, match=words):
        list(harvester(fake_http).harvest())


def test_arguments_checked_before_any_request(fake_http):
    with pytest.raises(BadInput, match="from date"):
        list(harvester(fake_http).harvest("17-03-2025"))
    with pytest.raises(BadInput, match="after until"):
        list(harvester(fake_http).harvest("2025-03-18", "2025-03-17"))
    with pytest.raises(BadInput, match="set spec"):
        list(harvester(fake_http).harvest(set_spec="cs&verb=Identify"))
    assert fake_http.requests == []


def test_polite_delay_between_pages_only(fake_http):
    script_three_pages(fake_http)
    sleeps = Sleeps()
    list(OAIHarvester(fake_http.url + "/oai", sleep=sleeps, polite_delay=1.5).harvest())
    assert sleeps == [1.5, 1.5]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_oai_refused_connection_is_not_retried_a_dropped_one_is(fake_http):
    sleeps, port = Sleeps(), _closed_port()
    with pytest.raises(Unavailable, match=rf"^cannot reach 127.0.0.1:{port}: connection refused \(nothing is listening"):
        list(OAIHarvester(f"http://127.0.0.1:{port}/oai", sleep=sleeps, max_attempts=2).harvest())
    assert sleeps == []  # nothing listens there: waiting would not change that
    fake_http.script("/oai", DROP, fixture("oai_page3.xml"))  # a server that drops a request may answer the next
    pages = list(harvester(fake_http, sleeps, max_attempts=2).harvest())
    assert sleeps == [5.0] and len(pages) == 1 and len(fake_http.requests) == 2


# ---------------------------------------------------------------- Hugging Face
def hf_client(fake_http, sleeps=None, **kw) -> HFDailyClient:
    return HFDailyClient(fake_http.url, sleep=Sleeps() if sleeps is None else sleeps, **kw)


def test_hf_fetch_day(fake_http):
    fake_http.script("/api/daily_papers", fixture("hf_daily_2025-03-17.json"), query={"p": "0"})
    fake_http.script("/api/daily_papers", "[]", query={"p": "1"})
    client = hf_client(fake_http, page_size=3)
    papers = client.fetch_day("2025-03-17")
    assert [p.id for p in papers] == ["2503.10622", "2503.11647"]
    assert [p.feed_entry.rank for p in papers] == [0, 1]
    assert all(p.source == "hf-api" and p.feed_entry.day == "2025-03-17" for p in papers)
    assert papers[0].observed_at == papers[0].feed_entry.captured_at and papers[0].observed_at.endswith("Z")
    (day, position, message), = client.bad  # the item with negative upvotes is skipped and reported
    assert (day, position) == ("2025-03-17", 2) and "upvotes" in message
    assert [r.query for r in fake_http.requests] == [
        {"date": "2025-03-17", "limit": "3", "p": "0"}, {"date": "2025-03-17", "limit": "3", "p": "1"}]


def test_hf_pages_until_short_page_and_survives_ignored_paging(fake_http):
    items = json.loads(fixture("hf_daily_2025-03-17.json"))[:2]
    fake_http.script("/api/daily_papers", json.dumps(items))  # same page whatever `p` says
    papers = hf_client(fake_http, page_size=2).fetch_day("2025-03-17")
    assert [p.id for p in papers] == ["2503.10622", "2503.11647"]
    assert len(fake_http.requests) == 2  # the second page added nothing new: stop


def test_hf_429_then_200(fake_http):
    fake_http.script("/api/daily_papers", Reply(429, {"Retry-After": "3"}, "slow down"),
                     fixture("hf_daily_2025-03-17.json"))
    sleeps = Sleeps()
    papers = hf_client(fake_http, sleeps).fetch_day("2025-03-17")
    assert sleeps == [3.0] and len(papers) == 2


def test_hf_errors(fake_http):
    fake_http.script("/api/daily_papers", Reply(400, {}, '{"error":"date in the future"}'), query={"date": "2099-01-01"})
    fake_http.script("/api/daily_papers", Reply(200, {}, '{"not": "a list"}'), query={"date": "2025-03-18"})
    fake_http.script("/api/daily_papers", Reply(502, {}, "bad gateway"), query={"date": "2025-03-19"})
    client = hf_client(fake_http, max_attempts=2)
    with pytest.raises(BadInput, match="HTTP 400"):
        client.fetch_day("2099-01-01")
    with pytest.raises(Unavailable, match="not a list"):
        client.fetch_day("2025-03-18")
    with pytest.raises(Unavailable, match="HTTP 502 for .* 2 times"):
        client.fetch_day("2025-03-19")
    with pytest.raises(BadInput, match="date"):
        client.fetch_day("March 17")


def test_hf_refused_connection_is_not_retried_dropped_ones_are(fake_http):
    sleeps, port = Sleeps(), _closed_port()
    client = HFDailyClient(f"http://127.0.0.1:{port}", sleep=sleeps, max_attempts=3)
    with pytest.raises(Unavailable, match=rf"^cannot reach 127.0.0.1:{port}: connection refused"):
        client.fetch_day("2025-03-17")
    assert sleeps == []
    fake_http.script("/api/daily_papers", DROP)
    with pytest.raises(Unavailable, match="Hugging Face is unreachable"):
        hf_client(fake_http, sleeps, max_attempts=3).fetch_day("2025-03-17")
    assert sleeps == [1.0, 2.0]  # backed off, bounded


def test_hf_uses_a_given_http_client(fake_http):
    fake_http.script("/api/daily_papers", "[]")
    with httpx.Client(headers={"X-Test": "1"}) as http:
        assert HFDailyClient(fake_http.url, http=http).fetch_day("2025-03-17") == []
        assert not http.is_closed
    assert fake_http.requests[0].headers.get("X-Test") == "1"
