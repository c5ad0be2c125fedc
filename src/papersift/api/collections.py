"""papersift's collection routes under ``/api/v1``: public collections (by upvotes or newest, or those
holding a paper), one collection with its papers and notes, and with a token: your collections,
create one, add a paper with a note. The Hugging Face-compatible routes (api/hf_collections.py) do
the rest of the editing in HF's shape."""

from __future__ import annotations

from typing import Literal, Optional

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from papersift.api.actions import BEARER, json_body, read_json, token_user
from papersift.api.models import ERRORS, PREFIX
from papersift.service import Papersift, collection_slug


class NewCollection(BaseModel):
    title: str = Field(..., max_length=1000)
    description: str = Field("", max_length=10_000)
    private: bool = False


class NewItem(BaseModel):
    paper_id: str = Field(..., max_length=200)
    note: str = Field("", max_length=5000)


def summary_json(c) -> dict:
    return {"id": c.id, "slug": collection_slug(c), "title": c.title, "description": c.description,
            "owner": c.owner_handle, "private": c.private or c.is_library, "library": c.is_library,
            "items": c.items, "upvotes": c.upvotes, "updated_at": c.updated_at}


def view_json(view) -> dict:
    return summary_json(view.collection) | {"papers": [
        {"item_id": e.item.id, "position": e.item.position, "note": e.item.note, "id": e.card.paper.id,
         "title": e.card.paper.title, "upvotes": e.card.upvotes} for e in view.entries]}


def make_router(hub: Papersift) -> APIRouter:
    router = APIRouter(prefix=PREFIX, tags=["collections"], responses=ERRORS)
    collections = hub.collections

    @router.get("/collections", summary="Public collections")
    def public(sort: Literal["upvotes", "newest", "lastModified"] = "upvotes",
               paper: Optional[str] = Query(None, max_length=200, description="only those holding this paper"),
               page: int = Query(1, ge=1, le=1000), per_page: int = Query(30, ge=1, le=100)):
        return {"collections": [summary_json(c) for c in collections.public(sort, page, per_page, paper_id=paper)]}

    @router.get("/collections/mine", dependencies=[BEARER], summary="Your collections, the library first")
    def mine(request: Request):
        user = token_user(hub, request)
        return {"collections": [summary_json(c) for c in collections.of_user(user, user)]}

    @router.get("/collections/{collection_id}", summary="One collection with its papers and notes")
    def one(request: Request, collection_id: int = Path(..., ge=1, le=2**62)):
        user = token_user(hub, request) if request.headers.get("authorization") else None
        return view_json(collections.view(user, collections.get(user, collection_id)))

    @router.post("/collections",
                 status_code=201,
                 dependencies=[BEARER],
                 openapi_extra=json_body(NewCollection),
                 summary="Create a collection")
    async def create(request: Request):
        user = await run_in_threadpool(token_user, hub, request)
        body = await read_json(request, NewCollection)
        made = await run_in_threadpool(collections.create, user, body.title, body.description, body.private)
        return JSONResponse(summary_json(made), status_code=201)

    @router.post("/collections/{collection_id}/papers", dependencies=[BEARER], openapi_extra=json_body(NewItem),
                 summary="Add a paper (with a note) to one of your collections")
    async def add(request: Request, collection_id: int = Path(..., ge=1, le=2**62)):
        user = await run_in_threadpool(token_user, hub, request)
        body = await read_json(request, NewItem)
        item, added = await run_in_threadpool(collections.add, user, collection_id, body.paper_id, body.note)
        return {"item_id": item.id, "position": item.position, "note": item.note, "added": added}

    return router
