"""The MCP server driven by the official SDK's own client, over both transports.

* stdio: ``python -m papersift.cli mcp`` spawned as a real process by ``mcp.client.stdio``, with
  the token in ``PAPERSIFT_TOKEN`` when a test acts as a reader;
* streamable HTTP: the real app (``server/app.py``, its middleware, error handlers and lifespan)
  on uvicorn on 127.0.0.1, reached by ``mcp.client.streamable_http`` with an
  ``Authorization: Bearer`` header.

One real SQLite file with a real Hugging Face sample (tests/web_support.py) behind both. Every
answer is checked against the store (or the front door, for rankings), never against numbers
written here; each bad argument must come back as a tool error with a message.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from papersift.mcp.shapes import md_text

from ..web_support import XSS_ID, build_service, served

PUBLIC = {"search_papers", "get_paper", "similar_papers", "daily_papers", "trending_papers", "new_on_arxiv",
          "list_collections", "read_collection", "paper_discussion"}
PERSONAL = {"whoami", "my_library", "my_recommendations", "save_paper", "upvote_paper", "paper_feedback",
            "add_to_collection"}
HIDDEN_ID = "2405.99904"  # one of web_support's planted papers; an admin hides it below


@dataclass
class Site:
    svc: object
    tmp: Path
    base: str
    user: object
    token: str
    admin_token: str


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mcp")
    svc = build_service(tmp, lines=3000)  # the first papers with code come after line 2600
    user = svc.accounts.create_user("reader@example.org", "correct horse battery", "Reader")
    _, token = svc.accounts.create_token(user, "mcp test")
    _, admin_token = svc.accounts.create_token(svc.accounts.create_user("admin@example.org", "correct horse battery",
                                                                        "Admin", is_admin=True), "mcp admin")
    svc.actions.hide_paper(None, HIDDEN_ID, True)  # None: as the command line does
    with served(svc) as base:
        yield Site(svc, tmp, base, user, token, admin_token)


def over_stdio(site: Site, body, token: str | None = None):
    env = {"PAPERSIFT_DB": str(site.svc.db)} | ({"PAPERSIFT_TOKEN": token} if token else {})
    params = StdioServerParameters(command=sys.executable, args=["-m", "papersift.cli", "mcp", "--no-embed"], env=env)

    async def main():
        with open(site.tmp / "mcp-stderr.log", "a") as errlog:
            async with Client(stdio_client(params, errlog=errlog)) as client:
                return await body(client)

    return asyncio.run(main())


def over_http(site: Site, body, token: str | None = None, mode: str = "auto"):
    """``mode``: "auto" negotiates the newest protocol; "legacy", the initialize handshake that
    clients of the 2025 protocol versions (most desktop clients today) still use."""
    async def main():
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
            async with Client(streamable_http_client(f"{site.base}/mcp", http_client=http), mode=mode) as client:
                return await body(client)

    return asyncio.run(main())


@pytest.fixture(params=["stdio", "http", "http-legacy"])
def run(request, site):
    """``run(body, token=None)``: ``await body(client)`` in one MCP session over this transport."""
    if request.param == "stdio":
        return lambda body, token=None: over_stdio(site, body, token)
    mode = "legacy" if request.param == "http-legacy" else "auto"
    return lambda body, token=None: over_http(site, body, token, mode)


def ok(result) -> dict:
    assert not result.is_error, result.content
    data = result.structured_content
    assert json.loads(result.content[0].text) == data  # the text block is the same answer, for older clients
    return data


def failed(result) -> str:
    assert result.is_error, result.structured_content
    text = " ".join(block.text for block in result.content)
    assert text.strip() and "Traceback" not in text
    return text


# ---- what the store says (the oracle)
def feed_ids(svc, day_from: str, day_to: str) -> set[str]:
    hidden = svc.store.hidden_paper_ids()
    return {p.id for p, _ in svc.store.feed_rows(day_from, day_to)} - hidden


def iso_week(day: date) -> tuple[str, date, date]:
    iso = day.isocalendar()
    start = day - timedelta(days=iso.weekday - 1)
    return f"{iso.year:04d}-W{iso.week:02d}", start, start + timedelta(days=6)


def a_paper(svc, with_code: bool = False):
    """A real paper from the sample (not a planted one), plain-titled, with authors and an abstract."""
    ids = [p.id for p, _ in svc.store.feed_rows("2000-01-01", svc.store.latest_feed_day())]  # light rows: ids
    for paper in svc.store.get_papers(ids).values():
        if (paper.authors and paper.abstract and paper.title and ":" not in paper.id
                and not paper.id.startswith("2405.999") and (paper.has_code or not with_code)):
            return svc.store.get_paper(paper.id)
    raise AssertionError("no paper in the sample fits")


# ---- the tools
def test_lists_every_tool_with_a_described_schema(run):
    async def body(client):
        return (await client.list_tools()).tools

    tools = {t.name: t for t in run(body)}
    assert set(tools) == PUBLIC | PERSONAL
    for tool in tools.values():
        assert len(tool.description) > 30 and "\n" not in tool.description and tool.input_schema["type"] == "object"
        assert ("Needs an API token" in tool.description) == (tool.name in PERSONAL)
        for name, prop in tool.input_schema.get("properties", {}).items():
            assert prop.get("description"), (tool.name, name)
    search = tools["search_papers"].input_schema["properties"]
    assert search["per_page"]["maximum"] == 50 and search["page"]["minimum"] == 1
    assert set(search["mode"]["enum"]) == {"hybrid", "bm25", "dense"}
    assert tools["similar_papers"].input_schema["properties"]["k"]["maximum"] == 50
    assert tools["get_paper"].annotations.read_only_hint and not tools["save_paper"].annotations.read_only_hint


def test_search_matches_the_store(run, site):
    svc, paper = site.svc, a_paper(site.svc)
    word = max((w for w in paper.title.split() if w.isalpha()), key=len)
    everything = svc.store.get_papers(p.id for p, _ in svc.store.feed_rows("2000-01-01", "9999-12-31")).values()
    top = Counter(c for p in everything for c in p.categories[:1]).most_common(1)[0][0]
    day = paper.published_date

    async def body(client):
        return [ok(await client.call_tool("search_papers", {"query": word, "mode": "bm25", "per_page": 20})),
                ok(await client.call_tool("search_papers", {"query": word, "mode": "bm25", "date_from": day,
                                                            "date_to": day})),
                ok(await client.call_tool("search_papers", {"query": word, "categories": [top], "per_page": 50})),
                ok(await client.call_tool("search_papers", {"query": word, "has_code": True, "sort": "upvotes"})),
                ok(await client.call_tool("search_papers", {"query": "quokka", "mode": "bm25"}))]

    plain, dated, in_cat, with_code, quokka = run(body)
    expected = svc.search(word, mode="bm25", per_page=20)
    assert [r["id"] for r in plain["results"]] == [h.paper.id for h in expected.hits] and plain["total"] == expected.total
    assert paper.id in {r["id"] for r in plain["results"]} | {r["id"] for r in dated["results"]}
    for row in plain["results"]:
        stored = svc.store.get_paper(row["id"])
        assert row["title"] == stored.title and row["authors"] == stored.authors[:8]
        assert word.lower()[:max(4, len(word) - 3)] in f"{stored.title} {stored.abstract}".lower()  # stemmed
    assert with_code["results"] and dated["results"] and all(r["published"] == day for r in dated["results"])
    assert paper.id in {r["id"] for r in dated["results"]}
    assert all(top in svc.store.get_paper(r["id"]).categories for r in in_cat["results"])
    assert all(svc.store.get_paper(r["id"]).has_code and r["links"]["code"] for r in with_code["results"])
    assert [r["upvotes"] for r in with_code["results"]] == sorted((r["upvotes"] for r in with_code["results"]),
                                                                  reverse=True)
    lab = {p.id for p in svc.store.get_papers([f"2405.9990{i}" for i in (2, 3, 4)]).values()}
    assert {r["id"] for r in quokka["results"]} == lab - {HIDDEN_ID}  # the hidden one is left out


def test_get_paper_and_similar_match_the_store(run, site):
    svc, paper = site.svc, a_paper(site.svc, with_code=True)

    async def body(client):
        return (ok(await client.call_tool("get_paper", {"paper_id": f"arXiv:{paper.id}v1"})),
                ok(await client.call_tool("get_paper", {"paper_id": XSS_ID})),
                ok(await client.call_tool("similar_papers", {"paper_id": paper.id, "k": 5})))

    got, hostile, similar = run(body)
    assert got["id"] == paper.id and got["title"] == paper.title and got["authors"] == paper.authors
    assert got["abstract"] == paper.abstract and got["feed_days"] == paper.feed_days
    assert got["upvotes"] == svc.paper(paper.id).upvotes
    assert "provenance" not in got
    md = got["markdown"]
    assert md.startswith(f"# {md_text(paper.title)}\n")
    assert md_text(", ".join(paper.authors)) in md and md_text(paper.abstract) in md
    assert f"(<https://arxiv.org/abs/{paper.id}>)" in md and got["links"]["code"] in md
    # stored markup stays text, and a javascript: link is not written
    assert "<script>" not in hostile["markdown"] and "javascript:" not in hostile["markdown"]
    assert set(hostile["links"]) == {"arxiv", "pdf"}
    expected = [h.paper.id for h in svc.similar(paper.id, k=5)]
    assert [r["id"] for r in similar["results"]] == expected and len(expected) == 5 and paper.id not in expected


def test_feeds_and_trending_match_the_store(run, site):
    svc = site.svc
    latest = date.fromisoformat(svc.store.latest_feed_day())
    day = next(iter(svc.store.feed_rows("2000-01-01", latest.isoformat())))[1].day  # the sample's first day
    week, week_start, week_end = iso_week(date.fromisoformat(day))
    month = day[:7]

    async def body(client):
        return [ok(await client.call_tool("daily_papers", {"date": day, "sort": "upvotes", "limit": 100})),
                ok(await client.call_tool("daily_papers", {"week": week, "limit": 100})),
                ok(await client.call_tool("daily_papers", {"month": month, "sort": "published", "limit": 5, "page": 2})),
                ok(await client.call_tool("daily_papers", {})),
                ok(await client.call_tool("trending_papers", {"period": "week", "limit": 100})),
                ok(await client.call_tool("trending_papers", {"period": "day"}))]

    by_day, by_week, by_month, default, trending, today = run(body)
    assert {r["id"] for r in by_day["papers"]} == feed_ids(svc, day, day) and by_day["total"] == len(by_day["papers"])
    votes = [r["upvotes"] for r in by_day["papers"]]
    assert votes == sorted(votes, reverse=True)
    assert by_week["period"]["label"] == week and by_week["total"] == len(feed_ids(svc, str(week_start), str(week_end)))
    month_ids = feed_ids(svc, f"{month}-01", f"{month}-31")
    assert by_month["total"] == len(month_ids) and len(by_month["papers"]) == min(5, max(0, len(month_ids) - 5))
    assert default["period"]["label"] == latest.isoformat()
    latest_week, start, end = iso_week(latest)
    assert trending["period"]["label"] == latest_week
    assert {r["id"] for r in trending["papers"]} == feed_ids(svc, str(start), str(end))
    scores = [r["trending_score"] for r in trending["papers"]]
    assert scores == sorted(scores, reverse=True)
    assert today["period"]["label"] == latest.isoformat() and len(today["papers"]) == min(10, today["total"])


BAD_CALLS = [
    ("get_paper", {"paper_id": "2401.99999"}, "no paper 2401.99999"),
    ("get_paper", {"paper_id": "not-an-id"}, "not an arXiv id"),
    ("get_paper", {"paper_id": HIDDEN_ID}, f"no paper {HIDDEN_ID}"),
    ("get_paper", {}, "paper_id"),
    ("search_papers", {"query": '"unclosed'}, "unbalanced quote"),
    ("search_papers", {"query": "x", "date_from": "2024-13-45"}, "not a real day"),
    ("search_papers", {"query": "x", "date_to": "yesterday"}, "date_to"),
    ("search_papers", {"query": "x", "date_from": "2024-06-01", "date_to": "2024-05-01"}, "date range is empty"),
    ("search_papers", {"query": "x", "categories": ["not a cat"]}, "not an arXiv category"),
    ("search_papers", {"query": "x", "page": 1000, "per_page": 50}, "page must be between"),
    ("search_papers", {"query": "x", "per_page": 51}, "per_page"),
    ("search_papers", {"query": "x", "mode": "fuzzy"}, "mode"),
    ("search_papers", {"query": ""}, "query"),
    ("similar_papers", {"paper_id": "2405.99902", "k": 0}, "k"),
    ("similar_papers", {"paper_id": "2405.99902", "k": 51}, "k"),
    ("similar_papers", {"paper_id": "2401.99999"}, "no paper"),
    ("daily_papers", {"date": "2024-05-27", "month": "2024-05"}, "only one of date, week, month"),
    ("daily_papers", {"week": "2024-W99"}, "bad week"),
    ("daily_papers", {"date": "2024-02-30"}, "bad date"),
    ("daily_papers", {"limit": 101}, "limit"),
    ("trending_papers", {"period": "year"}, "period"),
    ("no_such_tool", {}, "no_such_tool"),
]


def test_bad_arguments_are_tool_errors_with_a_message(run):
    async def body(client):
        return [failed(await client.call_tool(name, args)) for name, args, _ in BAD_CALLS]

    for (name, args, needle), message in zip(BAD_CALLS, run(body), strict=True):
        assert needle in message, (name, args, message)


def test_personal_tools_need_a_valid_token(run, site):
    calls = [("whoami", {}), ("my_library", {}), ("my_recommendations", {}), ("save_paper", {"paper_id": "2405.99902"}),
             ("upvote_paper", {"paper_id": "2405.99902"}), ("paper_feedback", {"paper_id": "2405.99902", "kind": "more"})]

    async def anonymous(client):
        return [failed(await client.call_tool(name, args)) for name, args in calls]

    assert all("needs a token" in message for message in run(anonymous))
    token, secret = site.svc.accounts.create_token(site.user, "revoked mid-session")

    async def revoked(client):
        before = ok(await client.call_tool("whoami", {}))
        site.svc.accounts.revoke_token(site.user, token.id)  # checked on every call, not once per session
        return before, [failed(await client.call_tool(name, args)) for name, args in calls]

    before, after = run(revoked, token=secret)
    assert before["email"] == site.user.email
    assert all("unknown or revoked API token" in message for message in after)


def test_personal_tools_act_as_the_reader(run, site):
    svc, user = site.svc, site.user
    pid = a_paper(svc).id
    before = svc.paper(pid).upvotes

    async def body(client):
        me = ok(await client.call_tool("whoami", {}))
        saved = ok(await client.call_tool("save_paper", {"paper_id": pid}))
        library = ok(await client.call_tool("my_library", {"per_page": 100}))
        in_store = {c.paper.id for c in svc.catalog.library(user, per_page=100).cards}
        voted = ok(await client.call_tool("upvote_paper", {"paper_id": pid}))
        store_votes = svc.store.user_votes(user.id, [pid])
        more = ok(await client.call_tool("paper_feedback", {"paper_id": pid, "kind": "more"}))
        signals = {(k, p) for k, p, _ in svc.store.user_signals(user.id)}
        recs = ok(await client.call_tool("my_recommendations", {"period": "month", "k": 5}))
        expected_recs = svc.for_you.recommendations(user, period="month", k=5).as_dict()
        too_many = failed(await client.call_tool("my_recommendations", {"k": 51}))
        undone = [ok(await client.call_tool("save_paper", {"paper_id": pid, "saved": False})),
                  ok(await client.call_tool("upvote_paper", {"paper_id": pid, "upvoted": False})),
                  ok(await client.call_tool("paper_feedback", {"paper_id": pid, "kind": "more", "on": False}))]
        return me, saved, library, in_store, voted, store_votes, more, signals, recs, expected_recs, too_many, undone

    me, saved, library, in_store, voted, store_votes, more, signals, recs, expected_recs, too_many, undone = \
        run(body, token=site.token)
    assert me == {"email": user.email, "name": user.name, "is_admin": False, "scope": "write"}
    assert saved == {"id": pid, "saved": True}
    assert pid in {r["id"] for r in library["papers"]} and pid in in_store  # saved -> in the library, in the store
    assert library["total"] == len(in_store)
    assert voted == {"id": pid, "upvoted": True, "upvotes": (before or 0) + 1} and store_votes == {pid}
    assert more["on"] and ("more", pid) in signals
    assert recs == expected_recs and "k" in too_many
    assert [u.get("saved", u.get("upvoted", u.get("on"))) for u in undone] == [False, False, False]
    assert not svc.store.user_saves(user.id, [pid]) and not svc.store.user_votes(user.id, [pid])
    assert svc.paper(pid).upvotes == before
    assert ("more", pid) not in {(k, p) for k, p, _ in svc.store.user_signals(user.id)}


def test_a_token_is_the_viewer_of_the_public_tools_too(run, site):
    async def body(client):
        return (failed(await client.call_tool("get_paper", {"paper_id": HIDDEN_ID})),
                ok(await client.call_tool("search_papers", {"query": "quokka", "mode": "bm25"})))

    hidden_for_readers, reader_search = run(body, token=site.token)
    assert f"no paper {HIDDEN_ID}" in hidden_for_readers and HIDDEN_ID not in {r["id"] for r in reader_search["results"]}

    async def as_admin(client):
        return (ok(await client.call_tool("get_paper", {"paper_id": HIDDEN_ID})),
                ok(await client.call_tool("search_papers", {"query": "quokka", "mode": "bm25"})),
                ok(await client.call_tool("similar_papers", {"paper_id": HIDDEN_ID, "k": 5})))

    paper, admin_search, admin_similar = run(as_admin, token=site.admin_token)  # admins still see what they hid
    assert paper["title"] == site.svc.store.get_paper(HIDDEN_ID).title
    assert HIDDEN_ID in {r["id"] for r in admin_search["results"]}
    admin = site.svc.accounts.user_for_token(site.admin_token)
    assert [r["id"] for r in admin_similar["results"]] == [h.paper.id for h in site.svc.similar(HIDDEN_ID, k=5, viewer=admin)]
    assert admin_similar["id"] == HIDDEN_ID and admin_similar["results"]

    async def similar_as_reader(client):
        return failed(await client.call_tool("similar_papers", {"paper_id": HIDDEN_ID}))

    assert f"no paper {HIDDEN_ID}" in run(similar_as_reader, token=site.token)


def test_the_bearer_scheme_is_case_insensitive_as_in_the_json_api(site):
    """RFC 9110: the auth scheme is case-insensitive; the JSON API accepts "bearer" and "BEARER", so MCP must too."""
    call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}}
    headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    with httpx.Client(base_url=site.base, timeout=30) as http:
        for scheme in ("Bearer", "bearer", "BEARER"):
            auth = {"Authorization": f"{scheme} {site.token}"}
            assert http.get("/api/v1/library", headers=auth).status_code == 200, scheme
            answer = http.post("/mcp", json=call, headers=headers | auth).json()["result"]
            assert not answer.get("isError") and answer["structuredContent"]["email"] == site.user.email, scheme
        wrong = http.post("/mcp", json=call, headers=headers | {"Authorization": f"Basic {site.token}"}).json()["result"]
        assert wrong["isError"] and "needs a token" in wrong["content"][0]["text"]  # another scheme is no token


# ---- the stdio command
def mcp_command(site: Site, *args: str, env_token: str | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PAPERSIFT_DB": str(site.svc.db)} | (
        {"PAPERSIFT_TOKEN": env_token} if env_token else {})
    return subprocess.run([sys.executable, "-m", "papersift.cli", "mcp", "--no-embed", *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, env=env, timeout=120)


def test_cli_refuses_a_wrong_token_before_serving(site):
    for proc in (mcp_command(site, "--token", "pst_wrong"), mcp_command(site, env_token="pst_wrong")):
        assert proc.returncode == 2, (proc.returncode, proc.stderr)
        assert "unknown or revoked API token" in proc.stderr and "Traceback" not in proc.stderr
        assert proc.stdout == ""  # stdout is the protocol's: nothing else may be written there


def test_cli_ends_cleanly_when_the_client_closes_stdin(site):
    proc = mcp_command(site, env_token=site.token)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "" and "Traceback" not in proc.stderr


# ---- the HTTP mount inside the real app
def test_http_mount_keeps_the_apps_caps_and_errors(site):
    mcp_headers = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    huge = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": "search_papers", "arguments": {"query": "x" * 70_000}}}
    with httpx.Client(base_url=site.base, timeout=30) as http:
        response = http.post("/mcp", json=huge, headers=mcp_headers)
        assert response.status_code == 413 and response.json()["error"]["code"] == "too_large"
        streamed = http.post("/mcp", content=iter([json.dumps(huge).encode()[i:i + 8192] for i in range(0, 70_200, 8192)]),
                             headers=mcp_headers)  # chunked: no Content-Length to refuse it by
        assert "content-length" not in streamed.request.headers
        assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "too_large"
        for method in ("GET", "HEAD", "DELETE", "PUT"):  # stateless: no server-sent stream to GET (the spec's 405)
            response = http.request(method, "/mcp")
            assert response.status_code == 405, (method, response.status_code, response.text[:300])
        assert http.options("/mcp").headers["allow"] == "OPTIONS, POST"
        assert "/mcp" not in http.get("/openapi.json").json()["paths"]  # not part of the JSON API's contract
        raw = http.post("/mcp", json={"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {  # no SDK, no handshake
            "name": "get_paper", "arguments": {"paper_id": XSS_ID}}}, headers={"Authorization": f"Bearer {site.token}"})
        assert raw.status_code == 200 and raw.json()["id"] == 7
        assert raw.json()["result"]["structuredContent"]["title"] == site.svc.store.get_paper(XSS_ID).title
        garbage = http.post("/mcp", content=b"{not json", headers=mcp_headers)
        assert 400 <= garbage.status_code < 500 and "Traceback" not in garbage.text
