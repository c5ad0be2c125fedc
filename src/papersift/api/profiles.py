"""papersift's profile and authorship routes under ``/api/v1``: a reader's public page, a paper's
verified authors, and with a token: claim an author position, hide or withdraw one's claim."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from papersift.api.actions import BEARER, json_body, read_json, token_user
from papersift.api.models import ERRORS, PAPER_ID, PREFIX
from papersift.service import Papersift


class ClaimBody(BaseModel):
    position: int = Field(..., ge=0, le=10_000, description="the author's place in the list, from 0")


class ClaimChange(BaseModel):
    hidden: bool


def claim_json(c) -> dict:
    return {"id": c.id, "paper_id": c.paper_id, "position": c.position, "status": c.status, "how": c.how,
            "hidden": c.hidden, "user": c.user_handle}


def make_router(hub: Papersift) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["profiles"], responses=ERRORS)
    authors = hub.authors

    @router.get("/users/{name}", summary="A reader's public profile")
    def profile(name: str = Path(..., max_length=100)):
        found = authors.profile(None, name)
        return {"username": found.user.handle, "name": found.user.name,
                "papers": [c.paper.id for c in found.claimed], "upvoted": [c.paper.id for c in found.upvoted],
                "collections": [c.id for c in hub.collections.of_user(None, found.user)]}

    @router.get("/papers/{paper_id:path}/claims", summary="A paper's verified authors on this site")
    def claims(paper_id: str = Path(..., **PAPER_ID)):
        return {"paper": paper_id, "claims": [claim_json(c) for c in authors.claims_of_paper(None, paper_id)]}

    @router.post("/papers/{paper_id:path}/claims",
                 status_code=201,
                 dependencies=[BEARER],
                 openapi_extra=json_body(ClaimBody),
                 summary="Claim an author position (verified at once where the site can prove it)")
    async def claim(request: Request, paper_id: str = Path(..., **PAPER_ID)):
        user = await run_in_threadpool(token_user, hub, request)
        body = await read_json(request, ClaimBody)
        made = await run_in_threadpool(authors.claim, user, paper_id, body.position)
        return JSONResponse(claim_json(made), status_code=201)

    @router.patch("/claims/{claim_id}", dependencies=[BEARER], summary="Hide or show your claim",
                  openapi_extra=json_body(ClaimChange))
    async def change(request: Request, claim_id: int = Path(..., ge=1, le=2**62)):
        user = await run_in_threadpool(token_user, hub, request)
        body = await read_json(request, ClaimChange)
        return claim_json(await run_in_threadpool(authors.hide, user, claim_id, body.hidden))

    @router.delete("/claims/{claim_id}", dependencies=[BEARER], summary="Withdraw your claim")
    def withdraw(request: Request, claim_id: int = Path(..., ge=1, le=2**62)):
        return claim_json(authors.withdraw(token_user(hub, request), claim_id))

    return router
