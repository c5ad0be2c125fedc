"""papersift's read routes under ``/api/v1``: health, search, a paper, similar papers, the daily feed.

Every answer comes from the front door as an anonymous viewer sees it: papers an admin hid are
left out (404 by id), upvotes are the source's plus this site's votes, the same numbers as the pages.
Parameters carry their ranges and choices, so the OpenAPI document says what is accepted; the
front door checks them again (and the cross-field rules, e.g. page x per_page <= 1000).
"""

from __future__ import annotations

from typing import Literal, Optional

from fastapi import APIRouter, Path, Query

from papersift.api.models import (
    DAY_EXAMPLE,
    ERRORS,
    MONTH_EXAMPLE,
    PAPER_ID,
    PREFIX,
    WEEK_EXAMPLE,
    FeedOut,
    Health,
    PaperDetail,
    SearchOut,
    SimilarOut,
)
from papersift.formats.json_api import feed_page_json, hit_json, search_json
from papersift.query import LIMITS, MAX_QUERY_CHARS, SYNTAX, Filters
from papersift.service import Papersift

MAX_QUERY_LENGTH = MAX_QUERY_CHARS  # the parser's hard cap: the document states the real limit
MAX_PER_PAGE = 100  # the searcher's and the feed's cap
MAX_RESULTS = 1000  # deepest search result a page may reach
Mode = Literal["hybrid", "bm25", "dense"]
SearchSort = Literal["relevance", "date", "upvotes"]
# Hugging Face's spelling of the feed sorts, accepted beside papersift's own
FeedSort = Literal["trending", "upvotes", "published", "publishedAt", "newest"]
DAILY_SORT_ALIASES = {"publishedAt": "published", "newest": "published"}
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


def health_router(service: Papersift) -> APIRouter:
    """``/api/health`` (kept for monitors and the quick start) and ``/api/v1/health``."""
    router = APIRouter(tags=["papers"])

    def health() -> dict:
        coverage = service.semantic_coverage()
        return {"status": "ok", "papers": coverage.papers, "index": service.index_status(),
                "semantic": coverage.as_dict()}

    for path in ("/api/health", PREFIX + "/health"):
        router.add_api_route(path, health, methods=["GET"], response_model=Health,
                             summary="Liveness, paper count and semantic coverage")
    return router


def make_read_router(service: Papersift) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["papers"], responses=ERRORS)

    @router.get("/search", response_model=SearchOut, summary="Search with filters and highlighted snippets")
    def search(
        q: str = Query(..., min_length=1, max_length=MAX_QUERY_LENGTH,
                       description=f"Query: {SYNTAX}. {LIMITS} The notes come back in `notes`.",
                       examples=["diffusion", '"video generation" -survey']),
        mode: Mode = "hybrid", sort: SearchSort = "relevance",
        date_from: Optional[str] = Query(None, alias="from", pattern=DAY, description="published on or after",
                                         examples=DAY_EXAMPLE),
        date_to: Optional[str] = Query(None, alias="to", pattern=DAY, description="published on or before"),
        cat: list[str] = Query(default_factory=list, description="arXiv categories (any of)"),
        org: Optional[str] = Query(None, max_length=200), has_code: Optional[bool] = None,
        page: int = Query(1, ge=1, le=MAX_RESULTS, description="from 1; page x per_page at most 1000"),
        per_page: int = Query(10, ge=1, le=MAX_PER_PAGE),
    ):
        filters = Filters(date_from=date_from, date_to=date_to, categories=cat, organization=org, has_code=has_code)
        return search_json(service.search(q, filters, mode=mode, sort=sort, page=page, per_page=per_page))

    @router.get("/papers/{paper_id:path}/similar", response_model=SimilarOut, summary="Similar papers")
    def similar(paper_id: str = Path(..., **PAPER_ID), k: int = Query(10, ge=1, le=MAX_PER_PAGE)):
        return {"id": paper_id, "results": [hit_json(h) for h in service.similar(paper_id, k)]}

    @router.get("/papers/{paper_id:path}", response_model=PaperDetail,
                summary="One paper, with where each field came from (hep-th/9901001 style ids work)")
    def paper(paper_id: str = Path(..., **PAPER_ID)):
        return service.paper(paper_id).to_dict()

    @router.get("/daily_papers", response_model=FeedOut, summary="The feed of a day, ISO week or month")
    def daily_papers(
        date: Optional[str] = Query(None, description="YYYY-MM-DD (the latest day with papers by default)",
                                    examples=DAY_EXAMPLE),
        week: Optional[str] = Query(None, description="YYYY-Www, an ISO week", examples=WEEK_EXAMPLE),
        month: Optional[str] = Query(None, description="YYYY-MM", examples=MONTH_EXAMPLE),
        sort: FeedSort = Query("trending", description="trending | upvotes | published (also publishedAt, newest)"),
        p: int = Query(0, ge=0, le=9999, description="Page, counted from 0 as on Hugging Face."),
        limit: int = Query(50, ge=1, le=MAX_PER_PAGE),
    ):
        return feed_page_json(service.daily(date, week, month, sort=DAILY_SORT_ALIASES.get(sort, sort),
                                            page=p + 1, limit=limit))

    return router
