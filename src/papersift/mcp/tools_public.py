"""The public tools: search, one paper, similar papers, the feed, what is trending, and what is new
on arXiv.

Anyone may call them; with a token they answer as that reader sees the site (an admin also sees
papers an admin hid). Every argument is typed and bounded in the schema the client lists, and
the front door checks the rest (date values, query syntax, ids), so a bad argument comes back as
a tool error that says what is wrong.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Optional

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import ToolAnnotations
from pydantic import Field

from papersift.mcp import shapes
from papersift.mcp.readers import Readers, guarded, tool_description
from papersift.query import Filters
from papersift.service import MAX_CATEGORIES, Papersift

MAX_QUERY = 2000  # as the JSON API's search
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # ASCII: the schema's "\d" takes any script's digits
READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)

PaperId = Annotated[str, Field(min_length=1, max_length=200,
                               description="An arXiv id (2405.15738, arXiv:2405.15738v2, an arxiv.org/abs link, "
                                           "hep-th/9901001) or a corpus id such as scifact:4983.")]
Day = Annotated[Optional[str], Field(pattern=DAY_PATTERN, description="A day, YYYY-MM-DD.")]
Sort = Literal["trending", "upvotes", "published"]
Week = Annotated[Optional[str], Field(pattern=r"^[0-9]{4}-W[0-9]{2}$")]  # ASCII digits, as DAY_PATTERN
Month = Annotated[Optional[str], Field(pattern=r"^[0-9]{4}-[0-9]{2}$")]


class PublicTools:
    def __init__(self, hub: Papersift, readers: Readers):
        self.hub, self.readers = hub, readers

    @guarded
    def search_papers(
        self, ctx: Context,
        query: Annotated[str, Field(min_length=1, max_length=MAX_QUERY, description=(
            'The search. Words rank by relevance (keyword + semantic); "exact phrase"; -word or -"phrase" '
            'excludes; author:hinton or author:"Yann LeCun"; cat:cs.LG; org:"Google DeepMind"; '
            "title:transformer; id:2405.15738."))],
        date_from: Annotated[Day, Field(description="Published on or after this day (YYYY-MM-DD).")] = None,
        date_to: Annotated[Day, Field(description="Published on or before this day (YYYY-MM-DD).")] = None,
        categories: Annotated[Optional[list[Annotated[str, Field(max_length=40)]]], Field(
            max_length=20, description="arXiv categories, any of them (e.g. [\"cs.CL\", \"cs.LG\"]).")] = None,
        organization: Annotated[Optional[str], Field(max_length=200, description=(
            "Only papers of this organisation (as Hugging Face names it, e.g. Google DeepMind)."))] = None,
        has_code: Annotated[Optional[bool], Field(description="true: only papers with a code repository; "
                                                              "false: only papers without one.")] = None,
        mode: Annotated[Literal["hybrid", "bm25", "dense"], Field(description=(
            "hybrid: keyword + semantic (the default); bm25: keywords only; dense: semantic only."))] = "hybrid",
        sort: Annotated[Literal["relevance", "date", "upvotes"], Field(description=(
            "relevance (the default), date (newest first) or upvotes."))] = "relevance",
        page: Annotated[int, Field(ge=1, le=1000, description="Page of results, from 1.")] = 1,
        per_page: Annotated[int, Field(ge=1, le=50, description="Results per page.")] = 10,
    ) -> dict[str, Any]:
        """Search the papers: query syntax plus filters on publication date, arXiv category, organisation
        and code. Returns the total number of matches and one page of papers (id, title, authors, date,
        upvotes, an abstract excerpt, links). Open one with get_paper."""
        filters = Filters(date_from=date_from, date_to=date_to, categories=list(categories or []),
                          organization=organization, has_code=has_code)
        res = self.hub.search(query, filters, mode=mode, sort=sort, page=page, per_page=per_page,
                              viewer=self.readers.viewer(ctx))
        return {"query": res.query, "mode": res.mode, "sort": res.sort, "page": res.page, "per_page": res.per_page,
                "total": res.total, "matched": res.matched, "related": res.related, "counts": res.counts,
                "notes": res.notes,  # how the query was read, where it differs from what was typed
                "results": [shapes.paper_entry(h.paper) | {"score": round(h.score, 6)}
                                                for h in res.hits]}

    @guarded
    def get_paper(self, ctx: Context, paper_id: PaperId) -> dict[str, Any]:
        """One paper in full: title, all authors, abstract, dates, categories, organisation, upvotes,
        the days it was on the feed, links (arXiv, PDF, code, project page), and `markdown`, the same
        as one markdown document."""
        return shapes.paper_full(self.hub.paper(paper_id, viewer=self.readers.viewer(ctx)))

    @guarded
    def similar_papers(self, ctx: Context, paper_id: PaperId,
                       k: Annotated[int, Field(ge=1, le=50, description="How many papers.")] = 10) -> dict[str, Any]:
        """Papers similar to one paper (its words and its meaning), most similar first."""
        hits = self.hub.similar(paper_id, k=k, viewer=self.readers.viewer(ctx))
        return {"id": paper_id, "results": [shapes.paper_entry(h.paper) | {"score": round(h.score, 6)} for h in hits]}

    @guarded
    def daily_papers(
        self, ctx: Context,
        date: Annotated[Day, Field(description="One day's feed, YYYY-MM-DD.")] = None,
        week: Annotated[Optional[str], Field(pattern=r"^[0-9]{4}-W[0-9]{2}$",
                                             description="An ISO week's feed, e.g. 2025-W30.")] = None,
        month: Annotated[Optional[str], Field(pattern=r"^[0-9]{4}-[0-9]{2}$",
                                              description="A month's feed, e.g. 2025-07.")] = None,
        sort: Annotated[Sort, Field(description=(
            "trending (upvotes with time decay, the default), upvotes (most upvoted) or published (newest)."))] = "trending",
        page: Annotated[int, Field(ge=1, le=10000, description="Page, from 1.")] = 1,
        limit: Annotated[int, Field(ge=1, le=100, description="Papers per page.")] = 20,
    ) -> dict[str, Any]:
        """The Daily Papers feed for one day, ISO week or month (give at most one of date, week, month;
        none: the latest day with papers), sorted. An empty period names the nearest days with papers."""
        feed = self.hub.daily(date, week, month, sort=sort, page=page, limit=limit, viewer=self.readers.viewer(ctx))
        return shapes.feed_json(feed)

    @guarded
    def trending_papers(
        self, ctx: Context,
        period: Annotated[Literal["day", "week", "month"], Field(description=(
            "day: the latest day with papers; week / month: the ISO week / month that contains it."))] = "week",
        limit: Annotated[int, Field(ge=1, le=100, description="How many papers.")] = 10,
    ) -> dict[str, Any]:
        """What is trending now: the feed's latest day, week or month, ranked by upvotes with time decay
        (papers that gathered votes quickly first)."""
        viewer = self.readers.viewer(ctx)
        latest = self.hub.daily(limit=1, viewer=viewer).period.start  # the latest day with papers
        week = month = None
        if period == "week":
            iso = latest.isocalendar()
            week = f"{iso[0]:04d}-W{iso[1]:02d}"
        elif period == "month":
            month = f"{latest.year:04d}-{latest.month:02d}"
        day = latest.isoformat() if period == "day" else None
        return shapes.feed_json(self.hub.daily(day, week, month, sort="trending", limit=limit, viewer=viewer))

    @guarded
    def new_on_arxiv(
        self, ctx: Context,
        categories: Annotated[Optional[list[Annotated[str, Field(max_length=40)]]], Field(
            max_length=MAX_CATEGORIES, description=(
                'arXiv categories, e.g. ["cs.CL", "cs.LG"]. None: with a token, the categories the reader '
                "follows; without one, every category."))] = None,
        date: Annotated[Day, Field(description="One listing day, YYYY-MM-DD.")] = None,
        week: Annotated[Week, Field(description="An ISO week's listings, e.g. 2025-W30.")] = None,
        month: Annotated[Month, Field(description="A month's listings, e.g. 2025-07.")] = None,
        tab: Annotated[Literal["new", "cross", "replace"], Field(description=(
            "new (the default): papers whose primary category is one asked for; cross: cross-lists (only a "
            "secondary category is); replace: later versions listed again."))] = "new",
        page: Annotated[int, Field(ge=1, le=10000, description="Page, from 1.")] = 1,
        limit: Annotated[int, Field(ge=1, le=100, description="Papers per page.")] = 20,
    ) -> dict[str, Any]:
        """Every paper arXiv announced in a day, ISO week or month (give at most one of date, week,
        month; none: the latest listing day), in some categories, by tab: new, cross-lists or
        replacements. Returns how many papers each tab has and one page of the tab asked for, in
        arXiv's order (a signed-in reader's own order once they have signals, and their followed
        categories when none are given). An empty period names the nearest listing days."""
        view = self.hub.arxiv.page(self.readers.viewer(ctx), date, week, month, list(categories or []), tab=tab,
                                   page=page, limit=limit)
        return shapes.arxiv_json(view)


def register_public(server: MCPServer, hub: Papersift, readers: Readers) -> None:
    tools = PublicTools(hub, readers)
    for fn, title in ((tools.search_papers, "Search papers"), (tools.get_paper, "Get a paper"),
                      (tools.similar_papers, "Similar papers"), (tools.daily_papers, "Daily / weekly / monthly feed"),
                      (tools.trending_papers, "Trending papers"), (tools.new_on_arxiv, "New on arXiv")):
        server.add_tool(fn, title=title, description=tool_description(fn), annotations=READ_ONLY)


__all__ = ["register_public", "PublicTools"]
