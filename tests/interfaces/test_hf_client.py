"""The official ``huggingface_hub`` client (pinned) against a live papersift server.

A real SQLite store loaded with the first 3,000 lines of the real HF Daily Papers archive, served
by uvicorn on 127.0.0.1; ``HfApi(endpoint=..., token=False)`` calls it exactly as it calls
huggingface.co. Every answer is checked against the store (which papers a day, week or month
lists, their titles, authors, times and votes), not against numbers written here.
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import subprocess
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import httpx
import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import BadRequestError, HfHubHTTPError

from papersift.feed.daily import FeedItem
from papersift.formats.hf_api import hf_feed_item, hf_paper, hf_search_item, hf_time, paper_markdown
from papersift.ingest.hf import HFDailyClient
from papersift.model import FeedEntry, Paper
from papersift.search.searcher import Hit
from papersift.server.app import create_app
from papersift.service import Papersift
from tests.fakes.server import fixture

from ..helpers import HF_SAMPLE, head_jsonl, running_server
from ..web_support import planted_papers, served

ARCHIVE = HF_SAMPLE
UNKNOWN = "2401.99999"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("hf")
    svc = Papersift(tmp / "hf.db", embedder=False)
    svc.ingest_file("hf-daily", head_jsonl(ARCHIVE, tmp / "hf.jsonl", 3000))
    svc.indexes_lexical_only().sync_lexical()
    with served(svc, website=False) as base:
        yield {"svc": svc, "base": base, "api": HfApi(endpoint=base, token=False)}


def stored(svc: Papersift, day_from: str, day_to: str) -> dict:
    """paper id -> (paper, its newest feed entry in the range), straight from the store."""
    return {paper.id: (paper, entry) for paper, entry in svc.store.feed_entries(day_from, day_to)}


def busiest_day(svc: Papersift) -> str:
    days = collections.Counter(entry.day for _, entry in svc.store.feed_entries("0001-01-01", "9999-12-31"))
    return days.most_common(1)[0][0]


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)


def all_pages(api: HfApi, **kw) -> list:
    """Every page of a period, as a client pages it (``p`` from 0 until a short page)."""
    out, p = [], 0
    while True:
        page = list(api.list_daily_papers(p=p, limit=100, **kw))
        out += page
        if len(page) < 100:
            return out
        p += 1


def assert_matches_store(info, paper, entry=None) -> None:
    """``entry``: the feed entry the item was listed for (None: a paper by id, its newest feed day)."""
    assert info.title == paper.title
    assert [a.name for a in info.authors or []] == paper.authors
    assert info.summary == paper.abstract
    assert info.published_at == utc(paper.published)
    # the client reads 0 upvotes as None; a feed counts the larger of the paper's and the day's votes
    upvotes = max(paper.upvotes or 0, entry.upvotes or 0) if entry else paper.upvotes or 0
    assert (info.upvotes or 0) == upvotes
    assert info.submitted_at.date() == date.fromisoformat(entry.day if entry else paper.feed_days[-1])
    assert info.github_repo == paper.github_repo and info.project_page == paper.project_page
    assert info.ai_summary == paper.ai_summary
    if paper.organization:
        assert info.organization.fullname == paper.organization


def test_a_day(env):
    svc, api = env["svc"], env["api"]
    day = busiest_day(svc)
    expected = stored(svc, day, day)
    assert len(expected) >= 20
    papers = list(api.list_daily_papers(date=day, limit=100))
    assert sorted(p.id for p in papers) == sorted(expected)
    for info in papers:
        assert_matches_store(info, *expected[info.id])
    # HF's default order, publishedAt: newest first (one feed day: newest on arXiv first)
    times = [p.published_at for p in papers]
    assert times == sorted(times, reverse=True)
    trending = list(api.list_daily_papers(date=day, sort="trending", limit=100))
    votes = [p.upvotes or 0 for p in trending]
    assert votes == sorted(votes, reverse=True) and set(p.id for p in trending) == set(expected)
    # pages: p counts from 0 and the pages do not overlap
    first, second = (list(api.list_daily_papers(date=day, sort="trending", limit=10, p=p)) for p in (0, 1))
    assert [p.id for p in first + second] == [p.id for p in trending[:20]]


def test_the_feed_time_is_the_capture_time_only_on_the_feed_day(env):
    """The archive captured its first week days later (2024-05-27 was captured on 2024-06-01, UTC):
    those items are listed at their feed day's midnight, never on the capture's later day; a day
    captured on the day keeps the capture time."""
    svc, api = env["svc"], env["api"]
    checked = collections.Counter()
    for day in ("2024-05-27", "2024-06-12", "2024-06-13"):
        expected = stored(svc, day, day)
        listed = list(api.list_daily_papers(date=day, limit=100))
        assert sorted(p.id for p in listed) == sorted(expected)
        for info in listed:
            captured = expected[info.id][1].captured_at
            same_day = captured[:10] == day
            checked[same_day] += 1
            assert info.submitted_at == (utc(captured) if same_day else utc(f"{day}T00:00:00Z")), (day, info.id)
        newest = expected[listed[0].id][0].feed_days[-1]  # by id: the newest feed day, no capture time
        assert api.paper_info(listed[0].id).submitted_at == utc(f"{newest}T00:00:00Z")
    assert checked[True] >= 10 and checked[False] >= 10  # both kinds were seen


def test_a_week_and_a_month(env):
    svc, api = env["svc"], env["api"]
    day = date.fromisoformat(busiest_day(svc))
    year, week, _ = day.isocalendar()
    monday = date.fromisocalendar(year, week, 1)
    expected = stored(svc, monday.isoformat(), date.fromisocalendar(year, week, 7).isoformat())
    listed = all_pages(api, week=f"{year}-W{week:02d}", sort="trending")
    assert sorted(p.id for p in listed) == sorted(expected) and len(listed) > 50
    for info in listed:
        assert_matches_store(info, *expected[info.id])
    month = f"{day.year:04d}-{day.month:02d}"
    expected = stored(svc, f"{month}-01", f"{month}-31")
    listed = all_pages(api, month=month)
    assert sorted(p.id for p in listed) == sorted(expected) and len(listed) > 100
    feed_times = [p.submitted_at for p in listed]
    assert feed_times == sorted(feed_times, reverse=True)  # publishedAt: newest on the feed first
    assert {p.submitted_at.date().isoformat()[:7] for p in listed} == {month}


def test_the_latest_day_by_default_and_a_submitter(env):
    svc, api = env["svc"], env["api"]
    latest = svc.store.latest_feed_day()
    assert sorted(p.id for p in api.list_daily_papers(limit=100)) == sorted(stored(svc, latest, latest))
    rows = svc.store.feed_entries("0001-01-01", "9999-12-31")
    (month, who), count = collections.Counter((e.day[:7], e.submitted_by) for _, e in rows
                                              if e.submitted_by).most_common(1)[0]
    assert count >= 2
    mine = {p.id for p, e in svc.store.feed_entries(f"{month}-01", f"{month}-31") if e.submitted_by == who}
    listed = list(api.list_daily_papers(month=month, submitter=who, limit=100))
    assert {p.id for p in listed} == mine
    assert all(p.submitted_by.username == who for p in listed)
    assert list(api.list_daily_papers(month=month, submitter="nobody-submits-this")) == []


def test_a_search(env):
    svc, api = env["svc"], env["api"]
    day = busiest_day(svc)
    paper = next(p for p, _ in stored(svc, day, day).values() if '"' not in p.title)
    found = list(api.list_papers(query=f'"{paper.title}"', limit=5))
    assert found and found[0].id == paper.id and found[0].title == paper.title
    results = list(api.list_papers(query="diffusion", limit=20))
    assert len(results) == 20
    papers = svc.store.get_papers(p.id for p in results)
    for info in results:  # every result is a stored paper about the word, described as stored
        assert "diffus" in (papers[info.id].title + " " + papers[info.id].abstract).lower()
        assert info.title == papers[info.id].title and info.summary == papers[info.id].abstract
    assert [p.id for p in results] == [h.paper.id for h in svc.search("diffusion", per_page=20).hits]
    assert list(api.list_papers(query="zxqvbnmw")) == []
    # no query (the client then sends no q): the latest feed day, most upvoted first
    latest = svc.store.latest_feed_day()
    listed = list(api.list_papers(limit=100))
    assert sorted(p.id for p in listed) == sorted(stored(svc, latest, latest))
    assert [p.upvotes or 0 for p in listed] == sorted((p.upvotes or 0 for p in listed), reverse=True)


def test_an_id_and_its_markdown(env):
    svc, api = env["svc"], env["api"]
    day = busiest_day(svc)
    paper = max((p for p, _ in stored(svc, day, day).values()), key=lambda p: bool(p.github_repo))
    for spelling in (paper.id, f"{paper.id}v1", f"arXiv:{paper.id}"):
        info = api.paper_info(spelling)
        assert info.id == paper.id
        assert_matches_store(info, paper)
    text = api.read_paper(paper.id)
    assert text.startswith("# ") and f"https://arxiv.org/abs/{paper.id}" in text
    words = [w for w in paper.title.split() if w.isalnum()][:3]
    assert all(w in text.splitlines()[0] for w in words)
    assert paper.authors[0].split()[-1] in text and "## Abstract" in text


def test_errors_become_the_clients_exceptions(env):
    api = env["api"]
    for kw in ({"date": "2024-02-30"}, {"date": "yesterday"}, {"week": "2024-W60"}, {"month": "2024-1"},
               {"date": "2024-05-27", "week": "2024-W22"}, {"limit": 0}, {"p": -1}, {"sort": "hot"}):
        with pytest.raises(BadRequestError) as bad:
            list(api.list_daily_papers(**kw))
        assert bad.value.response.status_code == 400 and bad.value.server_message, kw
    with pytest.raises(BadRequestError):
        list(api.list_papers(query='"unclosed'))
    for call in (api.paper_info, api.read_paper):
        with pytest.raises(HfHubHTTPError) as missing:
            call(UNKNOWN)
        assert missing.value.response.status_code == 404 and not isinstance(missing.value, BadRequestError)
        assert UNKNOWN in missing.value.server_message
        with pytest.raises(BadRequestError):
            call("not-an-id")


def test_the_front_door_rules_apply(env):
    """A hidden paper is gone from every HF route; a local upvote counts in the numbers shown."""
    svc, api = env["svc"], env["api"]
    day = busiest_day(svc)
    (hidden, _), (voted, _) = list(stored(svc, day, day).values())[:2]
    before = api.paper_info(voted.id).upvotes or 0
    user = svc.store.create_user("voter@example.org", "voter", "x")
    svc.store.set_vote(user.id, voted.id, True)
    svc.store.set_paper_hidden(hidden.id, True)
    try:
        assert api.paper_info(voted.id).upvotes == before + 1
        assert hidden.id not in {p.id for p in api.list_daily_papers(date=day, limit=100)}
        with pytest.raises(HfHubHTTPError) as gone:
            api.paper_info(hidden.id)
        assert gone.value.response.status_code == 404
    finally:
        svc.store.set_paper_hidden(hidden.id, False)
        svc.store.set_vote(user.id, voted.id, False)


def test_papersifts_own_harvester_reads_a_papersift_server(env):
    """The HF ingest client, pointed at papersift, gets the day back in the same order."""
    svc, day = env["svc"], busiest_day(env["svc"])
    client = HFDailyClient(base_url=env["base"], page_size=10, sleep=lambda s: None)
    harvested = client.fetch_day(day)
    listed = [p.id for p in env["api"].list_daily_papers(date=day, limit=100)]
    assert [p.id for p in harvested] == listed and not client.bad
    papers = svc.store.get_papers(listed)
    assert all(p.title == papers[p.id].title and p.authors == papers[p.id].authors for p in harvested)


def test_the_hf_command_line(env, tmp_path):
    """HF's own CLI (``hf papers``), pointed at papersift with HF_ENDPOINT."""
    hf_cli = Path(sys.executable).with_name("hf")
    run_env = {**os.environ, "HF_ENDPOINT": env["base"], "HOME": str(tmp_path), "HF_HOME": str(tmp_path / "hf"),
               "HF_HUB_DISABLE_TELEMETRY": "1", "NO_COLOR": "1"}
    run_env.pop("HF_TOKEN", None)

    def hf(*args):
        return subprocess.run([str(hf_cli), "papers", *args], env=run_env, capture_output=True, text=True, timeout=60)

    svc, day = env["svc"], busiest_day(env["svc"])
    listed = hf("ls", "--date", day, "--limit", "100", "--quiet")
    assert listed.returncode == 0, listed.stderr
    assert sorted(listed.stdout.split()) == sorted(stored(svc, day, day))
    missing = hf("info", UNKNOWN)
    assert missing.returncode != 0 and "not found" in (missing.stdout + missing.stderr).lower()


def test_markdown_and_times_carry_no_markup_or_forged_links():
    """The Markdown a renderer turns into HTML: hostile titles and javascript: links stay text."""
    hostile = planted_papers()[0]
    text = paper_markdown(hostile)
    assert "<" not in text and ">" not in text.replace("&gt;", "")  # no raw HTML at all
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text.splitlines()[0]
    assert "javascript:" not in text  # the repo and project links are not http(s): left out
    assert "[arXiv:2405.99901](https://arxiv.org/abs/2405.99901)" in text
    assert hf_time("2025-03-13T17:59:06Z") == "2025-03-13T17:59:06.000Z"
    assert hf_time("2025-03-13T17:59:06.250Z") == "2025-03-13T17:59:06.250Z"
    assert hf_time("2025-03-13") == "2025-03-13T00:00:00.000Z" and hf_time(None) is None


def _full_paper() -> Paper:
    return Paper(id="2405.15738", title="Tables & <b>tags</b>", abstract="An *abstract*   with [a](link) and #1.",
                 authors=["Ann One", "Bob Two"], published="2024-05-24T00:00:00Z", upvotes=7, num_comments=3,
                 organization="Some Lab", organization_id="somelab", ai_summary="In short: |tables|.",
                 github_repo="https://github.com/x/y", github_stars=5, project_page="http://p.example/x",
                 feed_days=["2024-05-27", "2024-05-28"])


def test_the_hf_wire_shapes_field_by_field():
    """What HF's own API sends, key for key (the client reads only some keys; tools built on the API read the rest)."""
    paper = _full_paper()
    inner = hf_paper(paper)
    assert inner == {
        "id": "2405.15738", "authors": [{"name": "Ann One", "hidden": False}, {"name": "Bob Two", "hidden": False}],
        "publishedAt": "2024-05-24T00:00:00.000Z", "title": "Tables & <b>tags</b>", "summary": paper.abstract,
        "upvotes": 7, "numComments": 3, "submittedOnDailyAt": "2024-05-28T00:00:00.000Z",
        "organization": {"name": "somelab", "fullname": "Some Lab", "avatarUrl": ""},
        "ai_summary": "In short: |tables|.", "githubRepo": "https://github.com/x/y", "githubStars": 5,
        "projectPage": "http://p.example/x"}
    bare = hf_paper(Paper(id="2405.15739"))
    assert bare == {"id": "2405.15739", "authors": [], "publishedAt": None, "title": "2405.15739", "summary": "",
                    "upvotes": 0, "numComments": 0}
    assert hf_paper(Paper(id="x", organization_id="only-id"))["organization"] == {
        "name": "only-id", "fullname": "only-id", "avatarUrl": ""}
    assert hf_paper(Paper(id="x", organization="Only Name"))["organization"]["name"] == "Only Name"
    entry = FeedEntry(day="2024-05-27", upvotes=9, num_comments=None, submitted_by="akhaliq",
                      captured_at="2024-05-27T10:00:00Z")
    item = hf_feed_item(FeedItem(paper, entry, upvotes=12, trending=0.5))
    user = {"name": "akhaliq", "user": "akhaliq", "fullname": "akhaliq", "avatarUrl": "", "type": "user"}
    assert item == {"paper": inner | {"upvotes": 12, "submittedOnDailyAt": "2024-05-27T10:00:00.000Z",
                                      "submittedOnDailyBy": user},
                    "publishedAt": "2024-05-27T10:00:00.000Z", "title": paper.title, "summary": paper.abstract,
                    "numComments": 3, "isAuthorParticipating": False, "submittedBy": user,
                    "organization": inner["organization"]}
    counted = hf_feed_item(FeedItem(paper, dataclasses.replace(entry, num_comments=1), upvotes=12, trending=0.5))
    assert counted["numComments"] == 1  # the day's own count, when the capture has one
    found = hf_search_item(Hit(Paper(id="2405.15740", title="Plain", num_comments=2), 1.0))
    assert found == {"paper": hf_paper(Paper(id="2405.15740", title="Plain", num_comments=2)),
                     "publishedAt": None, "title": "Plain", "summary": "", "numComments": 2,
                     "isAuthorParticipating": False}
    assert hf_search_item(Hit(Paper(id="2405.15741"), 1.0))["numComments"] == 0
    listed = hf_search_item(Hit(paper, 1.0))
    assert listed["publishedAt"] == "2024-05-28T00:00:00.000Z" and listed["organization"] == inner["organization"]


def test_the_markdown_page_line_by_line():
    paper = _full_paper()
    assert paper_markdown(paper).split("\n") == [
        r"# Tables &amp; &lt;b&gt;tags&lt;/b&gt;", "",
        "Authors: Ann One, Bob Two", "",
        "Published: 2024-05-24 · Upvotes: 7 · Organization: Some Lab · "
        "[arXiv:2405.15738](https://arxiv.org/abs/2405.15738) · [Code](https://github.com/x/y) · "
        "[Project page](http://p.example/x)", "",
        "## Abstract", "", r"An \*abstract\* with \[a\](link) and \#1.", "",
        "## AI summary", "", r"In short: \|tables\|.", ""]
    assert paper_markdown(Paper(id="scifact:4983")).split("\n") == ["# scifact:4983", "", "Upvotes: 0", ""]


def test_errors_openapi_and_orders_of_a_small_hf_site(tmp_path):
    """Its own small site, so that the app (and its HF route class) is built inside this test."""
    at, day = "2024-05-27T09:00:00Z", "2024-05-27"
    papers = [Paper(id=f"2405.1000{n}", title=f"Paper {n}", source="hf-jsonl", observed_at=at,
                    published=None if n == 3 else f"2024-05-2{n}T00:00:00Z", upvotes=n,
                    feed_entry=FeedEntry(day=day, upvotes=n, rank=n, captured_at=at,
                                         submitted_by="akhaliq" if n % 2 else "someone"))
              for n in range(1, 5)]
    earlier = "2024-05-20T09:00:00Z"  # the month has an earlier day too
    papers.append(Paper(id="2405.10005", title="Paper 5", source="hf-jsonl", observed_at=earlier,
                        feed_entry=FeedEntry(day="2024-05-20", upvotes=0, rank=0, captured_at=earlier)))
    svc = Papersift(tmp_path / "p.db", embedder=False)
    svc.store.upsert_papers(papers)
    svc.indexes_lexical_only().sync_lexical()
    with running_server(create_app(svc, background=False, website=False)) as base, \
            httpx.Client(base_url=base, timeout=30) as http:
        bad = http.get("/api/daily_papers", params={"limit": 0})
        assert bad.status_code == 400 and bad.json() == {"error": "limit: Input should be greater than or equal to 1"}
        bad_date = http.get("/api/daily_papers", params={"date": "2024-02-30"})
        assert bad_date.status_code == 400 and bad_date.json() == {
            "error": _front_door_message(svc, "2024-02-30")}
        missing = http.get("/api/papers/2401.99999")
        assert missing.status_code == 404 and set(missing.json()) == {"error"} and "2401.99999" in missing.json()["error"]
        assert None not in http.get("/api/papers/2405.10001").json().values()  # absent fields are left out, not null
        daily = http.get("/api/daily_papers", params={"date": day}).json()  # HF's default: newest on the feed first
        assert [i["paper"]["id"] for i in daily] == ["2405.10004", "2405.10002", "2405.10001", "2405.10003"]
        month = http.get("/api/daily_papers", params={"month": "2024-05", "sort": "trending"}).json()
        assert sorted(i["paper"]["id"] for i in month) == [p.id for p in papers]
        theirs = http.get("/api/daily_papers", params={"date": day, "sort": "trending", "submitter": "akhaliq"}).json()
        assert sorted(i["paper"]["id"] for i in theirs) == ["2405.10001", "2405.10003"]
        spec = http.get("/openapi.json").json()["paths"]["/api/daily_papers"]["get"]
        assert spec["tags"] == ["Hugging Face compatible"] and "4XX" in spec["responses"]  # declared in HF's error shape
    svc.close()


def _front_door_message(svc: Papersift, day: str) -> str:
    from papersift.errors import BadInput

    with pytest.raises(BadInput) as bad:
        svc.daily(day)
    return bad.value.message


def test_a_submitter_without_a_period_is_every_paper_they_submitted(env):
    """``list_daily_papers(submitter=...)`` alone (the client then sends no date): every day's papers of
    that submitter, each once, newest on the feed first, or most upvoted first for trending."""
    svc, api = env["svc"], env["api"]
    rows = svc.store.feed_entries("0001-01-01", "9999-12-31")
    (who, _), = collections.Counter(e.submitted_by for _, e in rows if e.submitted_by).most_common(1)
    theirs = {p.id for p, e in rows if e.submitted_by == who}
    days = {e.day for _, e in rows if e.submitted_by == who}
    assert len(days) >= 2 and len(theirs) >= 2  # papers of more than one day
    listed = all_pages(api, submitter=who)
    assert sorted(p.id for p in listed) == sorted(theirs)
    one_by_one = [list(api.list_daily_papers(submitter=who, limit=1, p=p)) for p in range(len(theirs) + 1)]
    assert [page[0].id for page in one_by_one[:-1]] == [p.id for p in listed] and one_by_one[-1] == []
    assert all(p.submitted_by.username == who for p in listed)
    feed_times = [p.submitted_at for p in listed]
    assert feed_times == sorted(feed_times, reverse=True)
    trending = all_pages(api, submitter=who, sort="trending")
    assert sorted(p.id for p in trending) == sorted(theirs)
    votes = [p.upvotes or 0 for p in trending]
    assert votes == sorted(votes, reverse=True)
    assert list(api.list_daily_papers(submitter="nobody-submits-this")) == []


def test_who_submitted_a_paper_local_or_harvested(tmp_path, fake_http):
    """``paper_info`` names the submitter: HF's for a harvested paper, this site's user for a paper
    submitted here (its newest feed day); a hidden paper's submissions are left out of the listing."""
    fake_http.script("/api/daily_papers", fixture("hf_daily_2025-03-17.json"), query={"date": "2025-03-17"})
    svc = Papersift(tmp_path / "p.db", embedder=False)
    svc.harvest_hf(["2025-03-17"], base_url=fake_http.url)  # no page of either paper: 404, no links
    user = svc.store.create_user("ann@example.org", "ann", "x")
    submitted = svc.actions.submit(user, "2503.11647")  # stored already: no arXiv request
    with served(svc, website=False) as base:
        api = HfApi(endpoint=base, token=False)
        harvested = api.paper_info("2503.10622")
        assert harvested.submitted_by.username == "akhaliq" and harvested.submitted_at.date() == date(2025, 3, 17)
        local = api.paper_info("2503.11647")
        assert local.submitted_by.username == "ann" and local.submitted_at.date().isoformat() == submitted.day
        assert [p.id for p in api.list_daily_papers(submitter="ann")] == ["2503.11647"]
        svc.store.set_paper_hidden("2503.11647", True)
        assert list(api.list_daily_papers(submitter="ann")) == []


def test_linked_models_datasets_and_spaces_through_the_client(tmp_path, fake_http):
    """Harvested from a server in HF's wire format, served in it again: ``paper_info`` reads the linked
    repositories as HF's own answer would give them, and the Markdown page counts them."""
    fake_http.script("/api/daily_papers", fixture("hf_daily_2025-03-17.json"), query={"date": "2025-03-17"})
    fake_http.script("/api/papers/2503.10622", fixture("hf_paper_2503.10622.json"))
    source = json.loads(fixture("hf_paper_2503.10622.json"))
    svc = Papersift(tmp_path / "p.db", embedder=False)
    svc.harvest_hf(["2025-03-17"], base_url=fake_http.url)
    with served(svc, website=False) as base:
        api = HfApi(endpoint=base, token=False)
        info = api.paper_info("2503.10622")
        assert [m.id for m in info.linked_models] == [m["id"] for m in source["linkedModels"][:10]]
        first = source["linkedModels"][0]
        assert (info.linked_models[0].likes, info.linked_models[0].downloads) == (first["likes"], first["downloads"])
        assert info.linked_models[0].author == first["author"] and info.linked_models[0].pipeline_tag == first["pipeline_tag"]
        assert info.num_total_models == 14 and info.num_total_datasets == 1
        assert [d.id for d in info.linked_datasets] == ["jiachenzhu/dyt-ablations"]
        assert [s.id for s in info.linked_spaces] == [s["id"] for s in source["linkedSpaces"]]
        assert info.numTotalSpaces == 2  # the client keeps keys it does not name as attributes
        bare = api.paper_info("2503.11647")  # HF had no page for it: nothing said, as HF says nothing
        assert bare.linked_models is None and bare.num_total_models is None
        raw = httpx.get(f"{base}/api/papers/2503.10622").json()
        assert raw["linkedSpaces"][0] == {"id": "jiachenzhu/DyT-demo", "author": "jiachenzhu", "repoType": "space",
                                          "likes": 21, "emoji": "🌌", "title": "DyT Demo",
                                          "shortDescription": "Dynamic Tanh in place of LayerNorm, live"}
        text = api.read_paper("2503.10622")
        assert "Linked on Hugging Face: 14 models, 1 dataset, 2 Spaces" in text
        assert "[Hugging Face](https://huggingface.co/papers/2503.10622)" in text
        # feed items stay as HF's feed has them: without the linked repositories
        item = httpx.get(f"{base}/api/daily_papers", params={"date": "2025-03-17"}).json()[0]["paper"]
        assert "linkedModels" not in item
