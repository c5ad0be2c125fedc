"""JSON API actions with token auth (under ``/api/v1``): vote, save, submit, the caller's library.

Auth is ``Authorization: Bearer <token>`` only (tokens from /settings or ``papersift admin
create-token``). Cookies are never accepted here, so these routes need no CSRF token: a
browser does not attach a bearer token to a forged cross-site request.

A read-only token reads and nothing else: :func:`token_user`, which every route that takes a token
calls, refuses it (403) on any method but GET/HEAD/OPTIONS, so a new write route cannot forget to.

The token is checked before a request body is read: a route that takes a body reads it
itself, after :func:`caller` (a declared body parameter would be read, and buffered, first).
"""

from __future__ import annotations

from typing import TypeVar

from fastapi import APIRouter, Path, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, Field, ValidationError

from papersift.api.models import ERRORS, PAPER_ID, PREFIX, LibraryOut, MeOut, SaveOut, SubmitOut, VoteOut
from papersift.errors import BadInput
from papersift.model import User
from papersift.service import Papersift

MAX_LIMIT = 100
READ_METHODS = ("GET", "HEAD", "OPTIONS")
Body = TypeVar("Body", bound=BaseModel)
# Declares the bearer scheme in the OpenAPI document; it checks nothing (auto_error=False): each
# route calls token_user itself, so that a missing token is our JSON 401, not FastAPI's 403.
BEARER = Security(HTTPBearer(auto_error=False, description="an API token from /settings or "
                                                           "`papersift admin create-token`; a read-only token "
                                                           "gets 403 on every POST, PUT, PATCH and DELETE"))


class SubmitBody(BaseModel):
    arxiv_id: str = Field(..., description="arXiv id: 2405.15738, arXiv:2405.15738v2, an abs URL, hep-th/9901001")


def json_body(model: type[BaseModel]) -> dict:
    """``openapi_extra`` declaring a route's JSON body, for routes that read it themselves (after the token)."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


async def read_json(request: Request, model: type[Body]) -> Body:
    """The body as ``model``: a 400 naming the bad field, for broken JSON too."""
    body = await request.body()  # the app's body cap applies here (api/middleware.py)
    try:
        return model.model_validate_json(body or b"{}")
    except ValidationError as exc:
        errors = exc.errors()
        loc, msg = (errors[0]["loc"], errors[0]["msg"]) if errors else ((), "invalid JSON body")
        where = ".".join(str(p) for p in loc) or "body"
        raise BadInput(f"{where}: {msg}") from None


def _paper_json(paper) -> dict:
    data = paper.to_dict()
    data.pop("provenance", None)
    return data


def token_user(hub: Papersift, request: Request) -> User:
    """The user of the request's bearer token (Unauthorized without a valid one); a request that is
    not a read needs a read-and-write token (Forbidden for a read-only one)."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return hub.accounts.user_for_token(token.strip() if scheme.lower() == "bearer" else None,
                                       write=request.method not in READ_METHODS)


def make_router(hub: Papersift) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["actions (token auth)"], responses=ERRORS, dependencies=[BEARER])

    def caller(request: Request) -> User:
        return token_user(hub, request)

    def _vote(request: Request, paper_id: str, on: bool) -> dict:
        state = hub.actions.vote(caller(request), paper_id, on)
        return {"id": state.paper_id, "voted": state.voted, "upvotes": state.upvotes}

    def _save(request: Request, paper_id: str, on: bool) -> dict:
        user = caller(request)
        pid = hub.catalog.visible_paper(paper_id, user).id
        return {"id": pid, "saved": hub.actions.save(user, pid, on)}

    @router.post("/papers/{paper_id:path}/vote", response_model=VoteOut, summary="Upvote a paper (idempotent)")
    def vote(request: Request, paper_id: str = Path(..., **PAPER_ID)):
        return _vote(request, paper_id, True)

    @router.delete("/papers/{paper_id:path}/vote", response_model=VoteOut, summary="Remove your upvote (idempotent)")
    def unvote(request: Request, paper_id: str = Path(..., **PAPER_ID)):
        return _vote(request, paper_id, False)

    @router.post("/papers/{paper_id:path}/save", response_model=SaveOut,
                 summary="Save a paper to your library (idempotent)")
    def save(request: Request, paper_id: str = Path(..., **PAPER_ID)):
        return _save(request, paper_id, True)

    @router.delete("/papers/{paper_id:path}/save", response_model=SaveOut, summary="Remove a paper from your library")
    def unsave(request: Request, paper_id: str = Path(..., **PAPER_ID)):
        return _save(request, paper_id, False)

    @router.post("/submit", status_code=201, response_model=SubmitOut,
                 summary="Put an arXiv paper on today's feed, credited to you",
                 openapi_extra={"requestBody": {"required": True, "content": {
                     "application/json": {"schema": SubmitBody.model_json_schema()}}}})
    async def submit(request: Request):
        user = await run_in_threadpool(caller, request)  # 401 before the body is read
        body = await read_json(request, SubmitBody)
        result = await run_in_threadpool(hub.actions.submit, user, body.arxiv_id)
        return JSONResponse({"id": result.paper.id, "feed_day": result.day, "fetched": result.fetched,
                             "paper": _paper_json(result.paper)}, status_code=201)

    @router.get("/library", response_model=LibraryOut, summary="Your saved papers, most recently saved first")
    def library(request: Request, p: int = Query(0, ge=0, le=9999, description="page, from 0"),
                limit: int = Query(50, ge=1, le=MAX_LIMIT)):
        listing = hub.catalog.library(caller(request), page=p + 1, per_page=limit)
        return {"total": listing.total, "p": p, "limit": limit,
                "papers": [_paper_json(c.paper) | {"upvotes": c.upvotes} for c in listing.cards]}

    @router.get("/me", response_model=MeOut, summary="Who the token belongs to")
    def me(request: Request):
        user = caller(request)
        return {"email": user.email, "name": user.name, "is_admin": user.is_admin, "scope": user.token_scope}

    return router
