"""The MCP tool ``new_on_arxiv`` driven by the official SDK's client: in memory against the server as
built, and over streamable HTTP against the real app on 127.0.0.1 with a reader's bearer token. The
store holds only the committed arXiv sample; every answer is compared with what the sample file says
(tests/arxiv_support.py).
"""

from __future__ import annotations

import asyncio
import json

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from papersift.mcp.server import build_server
from papersift.server.app import create_app

from ..arxiv_support import TABS, expected_counts, expected_tabs, latest_listing_day, sample, week_days
from ..helpers import ARXIV_SAMPLE, running_server
from ..web_support import site_service

WEEK = "2025-W22"


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    svc = site_service(tmp_path_factory.mktemp("mcp-arxiv") / "p.db")
    svc.ingest_file("arxiv-jsonl", ARXIV_SAMPLE)
    reader = svc.accounts.create_user("reader@example.org", "correct horse battery", "Reader")
    svc.reader, svc.token = reader, svc.accounts.create_token(reader, "mcp")[1]
    yield svc
    svc.close()


def call(server, arguments: dict | None = None):
    async def main():
        async with Client(server) as client:
            return await client.call_tool("new_on_arxiv", arguments or {})

    return asyncio.run(main())


def ok(result) -> dict:
    assert not result.is_error, result.content
    assert json.loads(result.content[0].text) == result.structured_content  # the same answer as text
    return result.structured_content


def test_the_tool_is_listed_read_only_with_its_arguments_described(svc):
    async def main():
        async with Client(build_server(svc)) as client:
            return {tool.name: tool for tool in (await client.list_tools()).tools}

    tool = asyncio.run(main())["new_on_arxiv"]
    assert tool.title == "New on arXiv" and tool.annotations.read_only_hint is True
    assert "token" not in tool.description  # a public tool
    properties = tool.input_schema["properties"]
    assert set(properties) == {"categories", "date", "week", "month", "tab", "page", "limit"}
    assert all(prop.get("description") for prop in properties.values())


def test_no_arguments_is_the_latest_listing_day(svc):
    latest = latest_listing_day()
    data = ok(call(build_server(svc)))
    assert data["period"]["kind"] == "date" and data["period"]["label"] == latest.isoformat()
    assert data["papers"] and {p["id"] for p in data["papers"]} == expected_tabs(latest, latest)["new"]
    assert data["counts"] == expected_counts(latest, latest)


@pytest.mark.parametrize("categories", [["cs.CV"], ["cs.CL", "cs.AI"]])
def test_each_tab_of_a_week_is_what_the_sample_says_in_compact_entries(svc, categories):
    start, end = week_days(WEEK)
    expected = expected_tabs(start, end, categories)
    server = build_server(svc)
    for tab in TABS:
        data = ok(call(server, {"week": WEEK, "categories": categories, "tab": tab, "limit": 100}))
        assert data["period"] == {"kind": "week", "label": WEEK, "start": start.isoformat(), "end": end.isoformat()}
        assert data["counts"] == {name: len(ids) for name, ids in expected.items()} and data["tab"] == tab
        assert {p["id"] for p in data["papers"]} == expected[tab] and data["total"] == len(expected[tab])
        for paper in data["papers"]:
            assert paper["kind"] == tab and paper["listed_in"] in categories
            assert start.isoformat() <= paper["listing_day"] <= end.isoformat()
            assert paper["links"]["arxiv"].endswith(paper["id"]) and "abstract" not in paper  # an excerpt only


def test_pages_and_an_empty_period(svc):
    server = build_server(svc)
    pages = [ok(call(server, {"week": WEEK, "limit": 5, "page": n})) for n in (1, 2, 3)]
    assert [len(p["papers"]) for p in pages] == [5, 5, 3] and pages[0]["pages"] == 3
    assert len({paper["id"] for p in pages for paper in p["papers"]}) == 13
    empty = ok(call(server, {"date": "2025-01-01"}))
    assert empty["papers"] == [] and empty["next_day_with_papers"] == min(p.first for p in sample()).isoformat()


@pytest.mark.parametrize("arguments,words", [
    ({"tab": "bogus"}, "tab"),
    ({"categories": ["cs.CL;drop"]}, "not an arXiv category"),
    ({"categories": ["ｃｓ.CL"]}, "not an arXiv category"),
    ({"categories": "cs.CL"}, "categories"),
    ({"limit": 0}, "limit"),
    ({"week": "2025-W99"}, "bad week"),
    ({"week": "2025-22"}, "week"),
    ({"date": "2025-05-27", "week": WEEK}, "only one of"),
])
def test_a_bad_argument_is_a_tool_error_that_says_what_is_wrong(svc, arguments, words):
    result = call(build_server(svc), arguments)
    text = " ".join(block.text for block in result.content)
    assert result.is_error and words in text and "Traceback" not in text, text


def test_over_http_a_readers_token_shows_their_followed_categories(svc):
    svc.arxiv.follow(svc.reader, ["cs.CL"])
    start, end = week_days(WEEK)

    async def main(base: str, token: str | None):
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
            async with Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client:
                return await client.call_tool("new_on_arxiv", {"week": WEEK, "limit": 100})

    with running_server(create_app(svc, background=False)) as base:  # svc stays open for the other tests
        mine = ok(asyncio.run(main(base, svc.token)))
        anonymous = ok(asyncio.run(main(base, None)))
        wrong = asyncio.run(main(base, "not-a-token"))
    assert mine["categories"] == ["cs.CL"] and mine["counts"] == expected_counts(start, end, ["cs.CL"])
    assert anonymous["categories"] == [] and anonymous["total"] == 13
    assert wrong.is_error and "token" in wrong.content[0].text
