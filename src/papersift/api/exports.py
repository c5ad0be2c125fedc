"""Exports on the JSON API: ``GET /api/v1/export/...?format=bibtex|ris|csl-json|csv``.

The same targets and files as the website's ``/export/...`` downloads (``formats/exports.py`` writes
them, the front door picks the papers: hidden ones never leave): one paper, a search's results, a
day / ISO week / month of the feed, and the token holder's library. Each answer is the file with its
Content-Type and a ``Content-Disposition`` file name; the OpenAPI document declares those types.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from papersift.api.actions import token_user
from papersift.api.models import DAY_EXAMPLE, ERRORS, MONTH_EXAMPLE, PAPER_ID, PREFIX, WEEK_EXAMPLE
from papersift.errors import BadInput
from papersift.formats.exports import FORMATS, render
from papersift.query import Filters
from papersift.service import MAX_PAPERS, ExportTarget, Papersift

Format = Literal["bibtex", "ris", "csl-json", "csv"]
FORMAT = Query("bibtex", description="bibtex (.bib), ris (.ris), csl-json (.json) or csv (.csv)")
# CSL-JSON is JSON (an array of items); the other three are text
FILE = {200: {"description": "The file", "content": {
    spec.content_type.split(";")[0]: {"schema": {"type": "array", "items": {"type": "object"}} if name == "csl-json"
                                      else {"type": "string"}} for name, spec in FORMATS.items()}}}
DAY = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_ROUTE: dict[str, Any] = {"response_class": Response, "responses": FILE}


def _file(rendered) -> Response:
    return Response(rendered.body, media_type=rendered.content_type, headers={
        "Content-Disposition": f'attachment; filename="{rendered.filename}"', "Cache-Control": "no-store"})


def make_router(service: Papersift) -> APIRouter:
    router = APIRouter(prefix=PREFIX + "/export", tags=["exports"], responses=ERRORS)

    @router.get("/papers/{paper_id:path}", summary="One paper as a citation file", **_ROUTE)
    def paper(paper_id: str = Path(..., **PAPER_ID), format: Format = FORMAT):
        return _file(render(service, None, ExportTarget.paper(paper_id), format))

    @router.get("/search", summary="A search's results as a citation file", **_ROUTE)
    def search(q: str = Query(..., min_length=1, max_length=2000),
               mode: Literal["hybrid", "bm25", "dense"] = "hybrid",
               sort: Literal["relevance", "date", "upvotes"] = "relevance",
               date_from: Optional[str] = Query(None, alias="from", pattern=DAY),
               date_to: Optional[str] = Query(None, alias="to", pattern=DAY),
               cat: list[str] = Query(default_factory=list), org: Optional[str] = Query(None, max_length=200),
               has_code: Optional[bool] = None, limit: int = Query(100, ge=1, le=1000), format: Format = FORMAT):
        filters = Filters(date_from=date_from, date_to=date_to, categories=cat, organization=org, has_code=has_code)
        return _file(render(service, None, ExportTarget.search(q, filters, sort, limit, mode), format))

    @router.get("/daily_papers", summary=f"A day, ISO week or month of the feed (at most {MAX_PAPERS} papers)",
                **_ROUTE)
    def daily(date: Optional[str] = Query(None, examples=DAY_EXAMPLE), week: Optional[str] = Query(
              None, examples=WEEK_EXAMPLE), month: Optional[str] = Query(None, examples=MONTH_EXAMPLE),
              sort: Literal["trending", "upvotes", "published"] = "trending", format: Format = FORMAT):
        given = [(kind, label) for kind, label in (("date", date), ("week", week), ("month", month)) if label]
        if len(given) != 1:
            raise BadInput("give exactly one of date, week or month")
        kind, label = given[0]
        return _file(render(service, None, ExportTarget.period(kind, label, sort), format))

    @router.get("/library", summary="Your saved papers as a citation file (token auth)", **_ROUTE)
    def library(request: Request, format: Format = FORMAT):
        return _file(render(service, token_user(service, request), ExportTarget.library(), format))

    return router
