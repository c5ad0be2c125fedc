"""papersift's discussion routes under ``/api/v1``: a paper's comments (anonymous reads, as the front
door shows them: hidden comments and hidden users' comments left out), and with a token: post, reply,
edit, delete, react, report. Each comment carries its Markdown source (``body``) and the sanitised HTML
the site shows (``html``)."""

from __future__ import annotations

from typing import Optional

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from papersift.api.actions import BEARER, json_body, read_json, token_user
from papersift.api.models import ERRORS, PAPER_ID, PREFIX
from papersift.formats.markdown import render as render_markdown
from papersift.service import Papersift

BODY_MAX = 100_000  # the request's own cap; the site's (smaller) limit gives the message


class CommentBody(BaseModel):
    model_config = {"json_schema_extra": {"examples": [{"body": "Does the bound in **section 3** hold for small batches?"}]}}
    body: str = Field(..., max_length=BODY_MAX, description="Markdown; @username mentions a reader")
    parent_id: Optional[int] = Field(None, ge=1, le=2**62, description="the comment this replies to")


class EditBody(BaseModel):
    body: str = Field(..., max_length=BODY_MAX)


class ReactionBody(BaseModel):
    reaction: str = Field(..., max_length=20, description="one of 👍 🎉 ❤️ 🤔 👀 🚀")
    on: bool = True


class ReportBody(BaseModel):
    reason: str = Field(..., max_length=2000)


def comment_json(view) -> dict:
    c = view.comment
    return {"id": c.id, "paper_id": c.paper_id, "parent_id": c.parent_id,
            "author": {"username": c.author_handle, "name": c.author_name, "verified_author": view.by_author},
            "body": None if view.deleted else c.body,
            "html": None if view.deleted else render_markdown(c.body, view.mentions),
            "created_at": c.created_at, "edited_at": c.edited_at, "deleted": view.deleted,
            "reactions": view.reactions, "replies": [comment_json(r) for r in view.replies]}


def make_router(hub: Papersift) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["discussion"], responses=ERRORS)
    discussion = hub.discussion

    def thread(viewer, paper_id: str) -> dict:
        found = discussion.thread(viewer, paper_id)
        return {"paper": found.paper_id, "count": found.count, "comments": [comment_json(v) for v in found.comments]}

    @router.get("/papers/{paper_id:path}/comments", summary="A paper's discussion, replies under their comment")
    def comments(paper_id: str = Path(..., **PAPER_ID)):
        return thread(None, paper_id)

    @router.post("/papers/{paper_id:path}/comments",
                 status_code=201,
                 dependencies=[BEARER],
                 openapi_extra=json_body(CommentBody),
                 summary="Comment on a paper, or reply (parent_id)")
    async def post(request: Request, paper_id: str = Path(..., **PAPER_ID)):
        user = await run_in_threadpool(token_user, hub, request)
        body = await read_json(request, CommentBody)
        made = await run_in_threadpool(discussion.post, user, paper_id, body.body, body.parent_id)
        return JSONResponse({"id": made.id, "paper_id": made.paper_id, "parent_id": made.parent_id,
                             "body": made.body, "created_at": made.created_at}, status_code=201)

    @router.patch("/comments/{comment_id}", dependencies=[BEARER], summary="Edit your comment",
                  openapi_extra=json_body(EditBody))
    async def edit(request: Request, comment_id: int = Path(..., ge=1, le=2**62)):
        user = await run_in_threadpool(token_user, hub, request)
        body = await read_json(request, EditBody)
        made = await run_in_threadpool(discussion.edit, user, comment_id, body.body)
        return {"id": made.id, "body": made.body, "edited_at": made.edited_at}

    @router.delete("/comments/{comment_id}", dependencies=[BEARER], summary="Delete your comment")
    def delete(request: Request, comment_id: int = Path(..., ge=1, le=2**62)):
        return {"id": comment_id, "deleted": discussion.delete(token_user(hub, request), comment_id)}

    @router.post("/comments/{comment_id}/reactions",
                 dependencies=[BEARER],
                 openapi_extra=json_body(ReactionBody),
                 summary="React to a comment")
    async def react(request: Request, comment_id: int = Path(..., ge=1, le=2**62)):
        user = await run_in_threadpool(token_user, hub, request)
        body = await read_json(request, ReactionBody)
        counts = await run_in_threadpool(discussion.react, user, comment_id, body.reaction, body.on)
        return {"id": comment_id, "reactions": counts}

    @router.post("/comments/{comment_id}/report",
                 dependencies=[BEARER],
                 openapi_extra=json_body(ReportBody),
                 summary="Report a comment to the moderators")
    async def report(request: Request, comment_id: int = Path(..., ge=1, le=2**62)):
        user = await run_in_threadpool(token_user, hub, request)
        body = await read_json(request, ReportBody)
        return {"id": comment_id, "reported": await run_in_threadpool(discussion.report, user, comment_id, body.reason)}

    return router
