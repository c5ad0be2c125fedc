""""New on arXiv" in the JSON API (under ``/api/v1``): a period's listings by tab, and the categories
a reader follows.

``GET /arxiv`` answers anyone; with a bearer token it is that reader's view (their followed categories
when none are asked for, their own order when they have signals). A token that is sent is checked:
a wrong or revoked one is a 401, not a quiet fall back to the anonymous view, so that a client hears
about it. ``/me/categories`` needs a token (a write one to change them); as in api/actions.py the
token is checked before the body is read.
"""

from __future__ import annotations

from typing import Literal, Optional

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from papersift.api.actions import BEARER, read_json, token_user
from papersift.api.models import (
    DAY_EXAMPLE,
    ERRORS,
    MONTH_EXAMPLE,
    PREFIX,
    WEEK_EXAMPLE,
    ArxivOut,
    CategoriesOut,
)
from papersift.formats.json_api import arxiv_json
from papersift.model import User
from papersift.service import MAX_CATEGORIES, Papersift

MAX_LIMIT = 100  # the feed's cap (the front door checks it too)
Tab = Literal["new", "cross", "replace"]
Order = Literal["listing", "score"]


class CategoriesBody(BaseModel):
    categories: list[str] = Field(..., max_length=MAX_CATEGORIES, description=(
        f"arXiv categories (cs.CL, math.AG, q-bio.NC), at most {MAX_CATEGORIES}; they replace the whole list"))


def optional_viewer(hub: Papersift, request: Request) -> User | None:
    """The token's reader when the request sends one (a bad one is a 401), else anonymous."""
    return token_user(hub, request) if request.headers.get("authorization") else None


def split_categories(given: list[str]) -> list[str]:
    """``?category=cs.CL&category=cs.LG`` and ``?category=cs.CL,cs.LG`` alike (the front door checks each)."""
    return [part.strip() for value in given for part in value.split(",") if part.strip()]


def make_router(hub: Papersift) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["new on arXiv"], responses=ERRORS)

    @router.get("/arxiv", response_model=ArxivOut, dependencies=[BEARER],
                summary="New on arXiv: every paper arXiv announced in a day, week or month, by tab",
                description=(
                    "The papers arXiv listed in the period, in three tabs: **new** (one of the categories asked "
                    "for is the paper's primary), **cross** (a cross-list: only a secondary one) and **replace** "
                    "(a later version listed again). `counts` gives all three tabs, `results` one page of `tab`. "
                    "No period: the latest listing day. Anonymous callers get arXiv's order; with a token, a "
                    "reader who names no category gets the categories they follow (`/api/v1/me/categories`), "
                    "and their own order once they have signals (`order=listing` asks for arXiv's)."))
    def arxiv(
        request: Request,
        date: Optional[str] = Query(None, description="YYYY-MM-DD (the latest listing day by default)",
                                    examples=DAY_EXAMPLE),
        week: Optional[str] = Query(None, description="YYYY-Www, an ISO week", examples=WEEK_EXAMPLE),
        month: Optional[str] = Query(None, description="YYYY-MM", examples=MONTH_EXAMPLE),
        category: list[str] = Query(default_factory=list, examples=[["cs.CL"]], description=(
            f"arXiv categories: repeat the parameter or separate them with commas (at most {MAX_CATEGORIES})")),
        tab: Tab = Query("new", description="new | cross | replace"),
        order: Optional[Order] = Query(None, description="listing (arXiv's) | score (the reader's own; a token "
                                                         "with signals); default: the reader's own when there is one"),
        page: int = Query(1, ge=1, le=10_000, description="from 1"),
        limit: int = Query(50, ge=1, le=MAX_LIMIT, description="papers per page"),
    ):
        view = hub.arxiv.page(optional_viewer(hub, request), date, week, month, split_categories(category),
                              tab=tab, order=order, page=page, limit=limit)
        return arxiv_json(view)

    @router.get("/me/categories", response_model=CategoriesOut, dependencies=[BEARER],
                summary="The arXiv categories you follow",
                description="What `GET /api/v1/arxiv` shows you when you name no category.")
    def followed(request: Request):
        return {"categories": hub.arxiv.followed(token_user(hub, request))}

    @router.put("/me/categories", response_model=CategoriesOut, dependencies=[BEARER],
                summary="Replace the arXiv categories you follow",
                description=f"The whole list at once (an empty list follows none), at most {MAX_CATEGORIES}; "
                            "needs a token with the write scope. Answers the list as stored.",
                openapi_extra={"requestBody": {"required": True, "content": {
                    "application/json": {"schema": CategoriesBody.model_json_schema()}}}})
    async def follow(request: Request):
        user = await run_in_threadpool(token_user, hub, request)  # 401 / 403 before the body is read
        body = await read_json(request, CategoriesBody)
        return {"categories": await run_in_threadpool(hub.arxiv.follow, user, body.categories)}

    return router
