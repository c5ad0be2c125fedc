"""Hugging Face–compatible routes: ``huggingface_hub.HfApi(endpoint=...)`` works unchanged.

``GET /api/daily_papers``, ``/api/papers/search``, ``/api/papers/{id}`` and ``/papers/{id}.md``,
in HF's wire format (formats/hf_api.py), over the same front door as everything else (hidden
papers left out, displayed upvotes). Errors are HF's ``{"error": "message"}``: 400 for a bad
date or parameter (the client raises ``BadRequestError``), 404 for an unknown paper
(``HfHubHTTPError`` with status 404), which this module's route class makes of every failure.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from fastapi import APIRouter, Path, Query
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.routing import APIRoute
from starlette.convertors import PathConvertor, register_url_convertor

from papersift.api.hf_models import HF_ERRORS, HFItem, HFPaperPage
from papersift.api.models import DAY_EXAMPLE, MONTH_EXAMPLE, PAPER_ID, WEEK_EXAMPLE
from papersift.errors import PapersiftError
from papersift.formats.hf_api import hf_feed_item, hf_paper_page, hf_search_item, paper_markdown
from papersift.service import Papersift

MAX_LIMIT = 100  # the feed's and the searcher's page cap
WHOLE_PERIOD_PAGES = 200  # 20,000 papers: more than any month has had


class AnyText(PathConvertor):
    """``path`` across line breaks too: an id with one (``%0A``) would match no route and get the
    app's 404 in papersift's shape; matched, it gets the route's own 400 in HF's shape."""

    regex = "(?s:.*)"


register_url_convertor("anytext", AnyText())


class MarkdownResponse(PlainTextResponse):
    media_type = "text/markdown"


def hf_error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class HFRoute(APIRoute):
    """Answers our errors in HF's shape (the app's handlers would answer papersift's)."""

    def get_route_handler(self):
        handler = super().get_route_handler()

        async def route(request):
            try:
                return await handler(request)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
                return hf_error(400, f"{where}: {first.get('msg', 'invalid value')}")
            except PapersiftError as exc:
                return hf_error(exc.http_status, getattr(exc, "public_message", exc.message))

        return route


def _whole_period(service: Papersift, date, week, month) -> list:
    """Every item of the period (for HF's submitter filter and its feed-time order). Page by page:
    a vote between two pages can move a paper across them, so each paper is kept once."""
    items: dict[str, object] = {}
    for page in range(1, WHOLE_PERIOD_PAGES + 1):
        feed = service.daily(date, week, month, sort="trending", page=page, limit=MAX_LIMIT)
        for item in feed.items:
            items.setdefault(item.paper.id, item)
        if page * MAX_LIMIT >= feed.total:
            break
    return list(items.values())


def daily_items(service: Papersift, date, week, month, sort: str, p: int, limit: int,
                submitter: str | None) -> list[dict]:
    """``sort=trending`` pages the front door's trending order; ``publishedAt`` (HF's default) is
    newest on the feed first, then newest on arXiv; ``submitter`` keeps one submitter's papers, of
    the period when one is given, else of every day (as HF answers it: most upvoted first for trending)."""
    if submitter is not None and date is None and week is None and month is None:
        return [hf_feed_item(it) for it in service.submissions.by_submitter(
            None, submitter, sort="upvotes" if sort == "trending" else "newest", page=p + 1, limit=limit)]
    if sort == "trending" and submitter is None:
        return [hf_feed_item(it) for it in service.daily(date, week, month, sort="trending", page=p + 1,
                                                         limit=limit).items]
    items = [hf_feed_item(it) for it in _whole_period(service, date, week, month)
             if submitter is None or it.entry.submitted_by == submitter]
    if sort == "publishedAt":
        items.sort(key=lambda it: (it["publishedAt"], it["paper"].get("publishedAt") or ""), reverse=True)
    return items[p * limit:(p + 1) * limit]


def make_hf_router(service: Papersift) -> APIRouter:
    router = APIRouter(route_class=HFRoute, tags=["Hugging Face compatible"], responses=HF_ERRORS)
    common: dict[str, Any] = {"response_model_exclude_none": True}

    @router.get("/api/daily_papers", response_model=list[HFItem], **common,
                summary="Daily Papers as Hugging Face serves them (a list of items with a nested paper)")
    def daily_papers(
        date: Optional[str] = Query(None, description="YYYY-MM-DD (the latest day with papers by default)",
                                    examples=DAY_EXAMPLE),
        week: Optional[str] = Query(None, description="YYYY-Www, e.g. 2025-W09", examples=WEEK_EXAMPLE),
        month: Optional[str] = Query(None, description="YYYY-MM", examples=MONTH_EXAMPLE),
        sort: Literal["publishedAt", "trending"] = Query("publishedAt", description="newest on the feed first, "
                                                         "or trending (upvotes with time decay)"),
        p: int = Query(0, ge=0, le=9999, description="page, from 0"),
        limit: int = Query(50, ge=1, le=MAX_LIMIT),
        submitter: Optional[str] = Query(None, max_length=100, description="only papers this user submitted "
                                         "(of the period; without date, week or month: of every day)"),
    ):
        return daily_items(service, date, week, month, sort, p, limit, submitter)

    @router.get("/api/papers/search", response_model=list[HFItem], **common,
                summary="Search papers (papersift's query syntax; without q: the latest feed, trending)")
    def search(q: Optional[str] = Query(None, max_length=2000, examples=["diffusion"]),
               limit: int = Query(50, ge=1, le=MAX_LIMIT)):
        if q is None or not q.strip():
            return [hf_feed_item(it) for it in service.daily(sort="trending", limit=limit).items]
        return [hf_search_item(hit) for hit in service.search(q, per_page=limit).hits]

    @router.get("/api/papers/{paper_id:anytext}", response_model=HFPaperPage, **common,
                summary="One paper as Hugging Face describes it, with who submitted it and the models, "
                        "datasets and Spaces that link it")
    def paper(paper_id: str = Path(..., **PAPER_ID)):
        paper, entry = service.submissions.paper_with_entry(None, paper_id)
        return hf_paper_page(paper, entry, service.authors.paper_authors(None, paper.id))

    @router.get("/papers/{paper_id:anytext}.md", response_class=MarkdownResponse, summary="The paper page as Markdown")
    def markdown(paper_id: str = Path(..., **PAPER_ID)):
        return MarkdownResponse(paper_markdown(service.paper(paper_id)))

    return router
