"""The MCP server as built, tool by tool, and what its answers look like.

tests/interfaces/test_mcp.py drives one long-lived server through every transport; here each test builds its own
server (in memory, through the SDK's own client) or its own app, so that what the construction decides
(titles, descriptions, which tools demand the write scope, the server's name and instructions, a
stateless JSON endpoint) is checked by the test that builds it. The answer shapes (``shapes.py``) are
checked against documents written out by hand.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date

import httpx
import pytest
from mcp import Client
from pydantic import TypeAdapter, ValidationError

from papersift.mcp.readers import NEEDS_TOKEN
from papersift.mcp.server import INSTRUCTIONS, argument_errors, build_server
from papersift.mcp.shapes import excerpt, feed_item, feed_json, links, markdown, md_text, paper_entry, paper_full
from papersift.mcp.tools_community import CommunityTools
from papersift.mcp.tools_personal import PersonalTools
from papersift.mcp.tools_public import PublicTools
from papersift.model import FeedEntry, Paper
from papersift.server.app import create_app
from papersift.service import FeedItem, FeedPage, Period

from ..helpers import running_server
from ..web_support import build_service

TITLES = {"search_papers": "Search papers", "get_paper": "Get a paper", "similar_papers": "Similar papers",
          "daily_papers": "Daily / weekly / monthly feed", "trending_papers": "Trending papers",
          "new_on_arxiv": "New on arXiv",
          "whoami": "Who am I", "my_library": "My library", "my_recommendations": "My recommendations",
          "save_paper": "Save a paper", "upvote_paper": "Upvote a paper",
          "paper_feedback": "More like this / not for me", "list_collections": "List collections",
          "read_collection": "Read a collection", "add_to_collection": "Add a paper to a collection",
          "paper_discussion": "A paper's discussion"}
WRITES = {"save_paper", "upvote_paper", "paper_feedback", "add_to_collection"}
PERSONAL_READS = {"whoami", "my_library", "my_recommendations"}
DOCS = {name: getattr(tools, name).__doc__ for tools in (PublicTools, PersonalTools, CommunityTools) for name in dir(tools)
        if not name.startswith("_")}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
INITIALIZE = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
    "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}}


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    svc = build_service(tmp_path_factory.mktemp("mcp-server"), lines=300)
    reader = svc.accounts.create_user("reader@example.org", "correct horse battery", "Reader")
    svc.tokens = {"write": svc.accounts.create_token(reader, "rw")[1],
                  "read": svc.accounts.create_token(reader, "ro", scope="read")[1]}
    return svc


def in_memory(server, body):
    async def main():
        async with Client(server) as client:
            return await body(client)

    return asyncio.run(main())


def test_every_tool_has_its_title_and_says_what_token_it_needs(svc):
    async def body(client):
        return (await client.list_tools()).tools

    tools = {tool.name: tool for tool in in_memory(build_server(svc), body)}
    assert {name: tool.title for name, tool in tools.items()} == TITLES
    for name, tool in tools.items():
        if name in WRITES:
            assert tool.description.endswith(" Needs an API token with the write scope (the reader's own data).")
            assert tool.annotations.read_only_hint is False
        elif name in PERSONAL_READS:
            assert tool.description.endswith(" Needs an API token (the reader's own data).")
            assert tool.annotations.read_only_hint is True
        else:
            assert "token" not in tool.description and tool.annotations.read_only_hint is True
        assert tool.description.startswith(" ".join(DOCS[name].split()))  # the docstring as one paragraph



def test_argument_errors_name_each_argument_by_its_path_in_one_line():
    def errors(shape, value) -> str:
        with pytest.raises(ValidationError) as caught:
            TypeAdapter(shape).validate_python(value)
        return argument_errors(caught.value)

    not_int = "Input should be a valid integer, unable to parse string as an integer"
    assert errors(int, "x") == f"arguments: {not_int}"  # the arguments as a whole
    assert errors(dict[str, list[int]], {"k": [1, "x"]}) == f"k.1: {not_int}"
    five = "; ".join(f"{i}: {not_int}" for i in range(5))
    assert errors(list[int], ["x"] * 5) == five  # five are all shown
    assert errors(list[int], ["x"] * 6) == errors(list[int], ["x"] * 7) == five + "; ..."


def test_the_server_introduces_itself(svc):
    async def body(client):
        return client.server_info, client.instructions

    info, instructions = in_memory(build_server(svc), body)
    assert (info.name, info.title, info.version) == ("papersift", "papersift", "0.1.0")
    assert instructions == INSTRUCTIONS


def test_where_nothing_configured_logging_the_sdk_logs_warnings_only(svc):
    """`papersift mcp` (stdio) builds the server before anything sets up logging: at the SDK's default,
    INFO, every tool call would be logged to stderr."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    root.handlers.clear()
    try:
        build_server(svc)
        assert root.level == logging.WARNING
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def call(server, name: str, arguments: dict | None = None):
    async def body(client):
        return await client.call_tool(name, arguments or {})

    return in_memory(server, body)


def test_a_read_only_token_reads_but_every_write_tool_refuses_it(svc):
    paper_id = svc.search("model", mode="bm25", per_page=1).hits[0].paper.id
    server = build_server(svc, token=f"  {svc.tokens['read']}\n")  # as pasted: the spaces are not the token's
    whoami = call(server, "whoami")
    assert not whoami.is_error and whoami.structured_content["scope"] == "read"
    assert not call(server, "my_library").is_error
    for name, arguments in (("save_paper", {"paper_id": paper_id}), ("upvote_paper", {"paper_id": paper_id}),
                            ("paper_feedback", {"paper_id": paper_id, "kind": "more"})):
        refused = call(server, name, arguments)
        assert refused.is_error and "read-only" in refused.content[0].text, (name, refused.content)
    writer = build_server(svc, token=svc.tokens["write"])
    saved = call(writer, "save_paper", {"paper_id": paper_id})
    assert not saved.is_error, saved.content
    library = call(writer, "my_library").structured_content
    assert paper_id in {paper["id"] for paper in library["papers"]}


@pytest.mark.parametrize("token", [None, "", "   "])
def test_no_token_is_anonymous_and_the_personal_tools_say_how_to_get_one(svc, token):
    server = build_server(svc, token=token)
    answer = call(server, "whoami")
    assert answer.is_error and answer.content[0].text.endswith(NEEDS_TOKEN)
    assert not call(server, "trending_papers").is_error


def test_the_http_endpoint_is_stateless_json_on_post_only_on_any_host(svc):
    app = create_app(svc, background=False)
    for _ in range(2):  # the same app served twice (a second uvicorn over it) starts a fresh session manager
        with running_server(app) as base, httpx.Client(base_url=base, timeout=30) as http:
            answer = http.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS | {"Host": "papers.example.org"})
            assert answer.status_code == 200, answer.text[:300]
            assert answer.headers["content-type"].startswith("application/json")  # not a server-sent stream
            assert "mcp-session-id" not in answer.headers  # stateless: no session to keep
            assert answer.json()["result"]["serverInfo"]["name"] == "papersift"
            trending = http.post("/mcp", headers=MCP_HEADERS, json={"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                                                                 "params": {"name": "trending_papers", "arguments": {}}})
            assert trending.status_code == 200 and not trending.json()["result"]["isError"], trending.text[:300]
            for header in (f"Bearer {svc.tokens['read']}", f"bearer  {svc.tokens['read']}"):  # as the JSON API reads it
                whoami = http.post("/mcp", headers=MCP_HEADERS | {"Authorization": header}, json={
                    "jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}})
                assert whoami.json()["result"]["structuredContent"]["scope"] == "read", whoami.text[:300]
                assert http.get("/api/v1/me", headers={"Authorization": header}).status_code == 200
            assert http.get("/mcp").status_code == 405
            assert http.options("/mcp").headers["allow"] == "OPTIONS, POST"
            assert "/mcp" not in http.get("/openapi.json").json()["paths"]


PAPER = Paper(id="2405.15738", title="ConvLLaVA: *Hierarchical* [Backbones]", authors=["Chunjiang Ge", "Sijie Cheng"],
              abstract="We  study\nhigh-resolution <b>inputs</b>.", published="2024-05-24T17:59:00Z",
              categories=["cs.CV", "cs.CL"], organization="Alibaba_Group", upvotes=0,
              ai_summary="A # summary.", github_repo="alibaba/conv-llava", project_page="https://example.org/a b<c>")


def test_markdown_is_the_whole_paper_with_every_markup_character_inert():
    assert markdown(PAPER) == "\n".join([
        r"# ConvLLaVA: \*Hierarchical\* \[Backbones\]", "",
        "**Authors:** Chunjiang Ge, Sijie Cheng", "",
        r"**id:** 2405.15738 · **published:** 2024-05-24 · **categories:** cs.CV, cs.CL · "
        r"**organization:** Alibaba\_Group · **upvotes:** 0", "",
        "## Abstract", "", r"We study high-resolution \<b\>inputs\</b\>.", "",
        "## Summary (AI-generated, from Hugging Face)", "", r"A \# summary.", "",
        "## Links", "",
        "- [arXiv](<https://arxiv.org/abs/2405.15738>)", "- [PDF](<https://arxiv.org/pdf/2405.15738>)",
        "- [Code](<https://github.com/alibaba/conv-llava>)", "- [Project page](<https://example.org/a%20b%3Cc%3E>)", ""])


def test_markdown_of_a_bare_record_says_what_is_missing():
    bare = Paper(id="scifact:42")
    assert markdown(bare) == "\n".join(["# scifact:42", "", r"**id:** scifact:42", "",
                                        "## Abstract", "", "No abstract.", ""])
    assert "upvotes" not in markdown(Paper(id="2405.15738", title="T", upvotes=None))


def test_md_text_is_one_line_with_markup_escaped():
    assert md_text("a  *b*\n_c_ [d](e)") == r"a \*b\* \_c\_ \[d\]\(e\)"
    assert md_text(None) == "" and md_text("") == ""


def test_paper_full_leaves_out_provenance_and_adds_links_and_markdown():
    data = paper_full(PAPER)
    assert "provenance" not in data and data["markdown"] == markdown(PAPER)
    assert data["links"]["code"] == "https://github.com/alibaba/conv-llava" and data["title"] == PAPER.title


def test_a_feed_as_json_names_its_period_its_neighbours_and_each_papers_day():
    week = Period("week", "2024-W22", date(2024, 5, 27), date(2024, 6, 2))
    item = FeedItem(PAPER, FeedEntry(day="2024-05-28", upvotes=3, submitted_by="akhaliq"), upvotes=17,
                    trending=1.23456789)
    page = FeedPage(week, "trending", 2, 10, 11, [item], previous_day_with_papers="2024-05-24",
                    next_day_with_papers=None)
    data = feed_json(page)
    assert data["period"] == {"kind": "week", "label": "2024-W22", "start": "2024-05-27", "end": "2024-06-02",
                              "previous": "2024-W21", "next": "2024-W23"}
    assert {k: v for k, v in data.items() if k not in ("period", "papers")} == {
        "sort": "trending", "page": 2, "limit": 10, "total": 11,
        "previous_day_with_papers": "2024-05-24", "next_day_with_papers": None}
    assert data["papers"] == [feed_item(item)]
    entry = feed_item(item)
    assert (entry["feed_day"], entry["trending_score"], entry["submitted_by"], entry["upvotes"]) == (
        "2024-05-28", 1.234568, "akhaliq", 17)  # the day's live count, not the paper's stored one (0)
    edge = feed_json(FeedPage(Period("date", "0001-01-01", date(1, 1, 1), date(1, 1, 1)), "new", 1, 50, 0))
    assert edge["period"]["previous"] is None and edge["period"]["next"] == "0001-01-02"
    last = feed_json(FeedPage(Period("date", "9999-12-31", date(9999, 12, 31), date(9999, 12, 31)), "new", 1, 50, 0))
    assert last["period"]["previous"] == "9999-12-30" and last["period"]["next"] is None


def test_a_list_entry_carries_what_decides_whether_to_open_a_paper():
    nine = [f"Author {i}" for i in range(9)]
    entry = paper_entry(Paper(id="2405.15738", title=None, authors=nine, abstract="word " * 200,
                              categories=["cs.CV"], organization="Alibaba", github_repo="a/b",
                              published="2024-05-24T17:59:00Z", upvotes=5))
    assert entry == {"id": "2405.15738", "title": "", "authors": nine[:8], "more_authors": 1,
                     "published": "2024-05-24", "upvotes": 5, "categories": ["cs.CV"], "organization": "Alibaba",
                     "has_code": True, "abstract_excerpt": excerpt("word " * 200),
                     "links": links(Paper(id="2405.15738", github_repo="a/b"))}
    assert paper_entry(PAPER, upvotes=17)["upvotes"] == 17  # the feed's live count wins over the stored one
    eight = paper_entry(Paper(id="2405.15738", authors=nine[:8]))
    assert eight["authors"] == nine[:8] and "more_authors" not in eight
    assert paper_entry(Paper(id="2405.15738"))["categories"] == []


def test_an_excerpt_ends_on_a_whole_word():
    assert excerpt(" a  b\nc ") == "a b c"
    assert excerpt(None) == "" and excerpt("x" * 400) == "x" * 400  # exactly the limit: whole
    long = "alpha beta gamma " * 30  # 510 characters
    assert excerpt(long) == ("alpha beta gamma " * 24)[:400].rsplit(" ", 1)[0] + " …"
    assert excerpt("one two three four", chars=12) == "one two …"


@pytest.mark.parametrize("repo, page, expected", [
    ("alibaba/conv-llava", "http://example.org/p", {"code": "https://github.com/alibaba/conv-llava",
                                                   "project_page": "http://example.org/p"}),
    ("http://gitlab.com/a/b", "https://example.org", {"code": "http://gitlab.com/a/b",
                                                      "project_page": "https://example.org"}),
    ("Owner_1/Repo.Name", " javascript:alert(1)", {"code": "https://github.com/Owner_1/Repo.Name"}),
    ("see our repo", "ftp://example.org", {}),
    (None, None, {}),
])
def test_links_are_http_only_and_a_bare_repo_is_on_github(repo, page, expected):
    arxiv = {"arxiv": "https://arxiv.org/abs/2405.15738", "pdf": "https://arxiv.org/pdf/2405.15738"}
    assert links(Paper(id="2405.15738", github_repo=repo, project_page=page)) == arxiv | expected
    assert links(Paper(id="scifact:42", github_repo=repo, project_page=page)) == expected  # no arXiv page

