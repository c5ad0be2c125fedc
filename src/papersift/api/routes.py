"""The JSON API's read routes: health, search, a paper, similar papers, the daily feed.

Every answer comes from the front door as an anonymous viewer sees it: papers an admin hid are
left out (404 by id), upvotes are the source's plus this site's votes, the same numbers as the pages.
"""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Query

from papersift.errors import BadInput
from papersift.formats.json_api import feed_page_json, hit_json, search_json
from papersift.index.query import Filters
from papersift.service import Papersift

MAX_QUERY_LENGTH = 2000
# Hugging Face's spelling of the feed sorts, accepted beside papersift's own
DAILY_SORT_ALIASES = {"publishedAt": "published", "newest": "published"}


def make_read_router(service: Papersift) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["papers"])

    @router.get("/health")
    def health():
        return {"status": "ok", "papers": service.store.count_papers()}

    @router.get("/search")
    def search(
        q: str = Query(..., description='Query: words, "phrase", -exclude, author:NAME, cat:cs.LG, org:NAME'),
        mode: str = "hybrid", sort: str = "relevance",
        date_from: Optional[str] = Query(None, alias="from"), date_to: Optional[str] = Query(None, alias="to"),
        cat: list[str] = Query(default_factory=list), org: Optional[str] = None,
        has_code: Optional[bool] = None, page: int = 1, per_page: int = 10,
    ):
        if len(q) > MAX_QUERY_LENGTH:
            raise BadInput(f"query too long ({len(q)} characters, at most {MAX_QUERY_LENGTH})")
        filters = Filters(date_from=date_from, date_to=date_to, categories=cat, organization=org, has_code=has_code)
        results = service.search(q, filters, mode=mode, sort=sort, page=page, per_page=per_page)
        return search_json(results)

    @router.get("/papers/{paper_id:path}/similar")
    def similar(paper_id: str, k: int = 10):
        return {"id": paper_id, "results": [hit_json(h) for h in service.similar(paper_id, k)]}

    @router.get("/papers/{paper_id:path}")
    def paper(paper_id: str):
        return service.paper(paper_id).to_dict()

    @router.get("/daily_papers")
    def daily_papers(
        date: Optional[str] = None, week: Optional[str] = None, month: Optional[str] = None,
        sort: str = Query("trending", description="trending | upvotes | published (also publishedAt, newest)"),
        p: int = Query(0, description="Page, counted from 0 as on Hugging Face."),
        limit: int = 50,
    ):
        if p < 0:
            raise BadInput("p must be 0 or more")
        return feed_page_json(service.daily(date, week, month, sort=DAILY_SORT_ALIASES.get(sort, sort),
                                            page=p + 1, limit=limit))

    return router
