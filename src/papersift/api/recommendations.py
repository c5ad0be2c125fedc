"""JSON API of personal recommendations under ``/api/v1`` (token auth, as the other actions): the
list, feedback ("more like this", "not for me") and its undo, a library file as a cold start, and the
reader's signals (export, forget).

As in api/actions.py the token is checked before a body is read.
"""

from __future__ import annotations

from typing import Literal, Optional

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from papersift.api.actions import BEARER, read_json, token_user
from papersift.api.models import (
    ERRORS,
    PAPER_ID,
    PREFIX,
    FeedbackOut,
    ForgetOut,
    ImportOut,
    RecommendationsOut,
    SignalsOut,
)
from papersift.errors import BadInput
from papersift.service import Papersift

Kind = Literal["more", "not_for_me"]
Period = Literal["day", "today", "week", "month"]
MAX_K = 50  # service/recommendations.py checks it too
IMPORT_PATH = PREFIX + "/me/library-import"  # the server lets this path's body be a library file (5 MB)
IMPORT_TYPES = ("text/plain", "application/octet-stream")  # any text: the format is read from the name or the content


class FeedbackBody(BaseModel):
    kind: Kind = Field(..., description='"more" (more like this) or "not_for_me"')


def make_router(hub: Papersift) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["recommendations (token auth)"], responses=ERRORS,
                       dependencies=[BEARER])

    @router.get("/recommendations", response_model=RecommendationsOut,
                summary="Papers for you from the last day, week or month, with why")
    def recommendations(request: Request, period: Period = Query("week", description="day (= today), week, month"),
                        k: int = Query(10, ge=1, le=MAX_K)):
        return hub.for_you.recommendations(token_user(hub, request), period=period, k=k).as_dict()

    @router.post("/papers/{paper_id:path}/feedback", response_model=FeedbackOut,
                 summary='Mark a paper "more" or "not_for_me" (idempotent)',
                 openapi_extra={"requestBody": {"required": True, "content": {
                     "application/json": {"schema": FeedbackBody.model_json_schema()}}}})
    async def feedback(request: Request, paper_id: str = Path(..., **PAPER_ID)):
        user = await run_in_threadpool(token_user, hub, request)  # 401 before the body is read
        body = await read_json(request, FeedbackBody)
        return await run_in_threadpool(hub.for_you.feedback, user, paper_id, body.kind)

    @router.delete("/papers/{paper_id:path}/feedback", response_model=FeedbackOut,
                   summary="Undo feedback (kind as ?kind= or in the body)")
    async def undo_feedback(request: Request, paper_id: str = Path(..., **PAPER_ID),
                            kind: Optional[Kind] = None):
        user = await run_in_threadpool(token_user, hub, request)
        if kind is None:
            if not await request.body():
                raise BadInput('say which feedback to undo: ?kind=more|not_for_me or {"kind": ...}')
            kind = (await read_json(request, FeedbackBody)).kind
        return await run_in_threadpool(hub.for_you.undo_feedback, user, paper_id, kind)

    @router.post("/me/library-import", response_model=ImportOut,
                 summary="Cold start: the arXiv papers of a library file become 'more like this'",
                 openapi_extra={"requestBody": {"required": True, "content": {
                     t: {"schema": {"type": "string"}} for t in IMPORT_TYPES}}})
    async def library_import(request: Request, name: str = Query("", max_length=200, description=(
            "the file's name; its extension (.bib, .ris, .json, .txt) picks the format, else it is detected"))):
        user = await run_in_threadpool(token_user, hub, request)  # 401 before the body is read
        body = await request.body()
        return (await run_in_threadpool(hub.personal.seed_library, user, body, name)).as_dict()

    @router.get("/me/signals", response_model=SignalsOut,
                summary="Every signal stored about you (upvotes, saves, feedback, follows)")
    def signals(request: Request):
        return hub.for_you.signals(token_user(hub, request))

    @router.delete("/me/signals", response_model=ForgetOut, summary="Delete your signals: feedback, upvotes and saves")
    def forget(request: Request):
        return hub.for_you.forget_signals(token_user(hub, request))

    return router
