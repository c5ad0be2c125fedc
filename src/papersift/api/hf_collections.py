"""Hugging Face-compatible collection routes: ``huggingface_hub.HfApi(endpoint=..., token=...)``'s
collection calls work unchanged on papersift, for papers (another item type is a clear 400).

The paths and shapes are HF's (read off the pinned client, huggingface_hub 2.4): ``/api/whoami-v2``,
``/api/collections`` (list: no ``position`` in the items, the client numbers them; create: 409 with the
existing ``slug`` when the caller has a collection of that title), ``/api/collections/OWNER/SLUG``
(read; PATCH answers ``{"data": ...}``; DELETE), ``.../items`` and ``.../items/ITEM_ID``. Positions are
0-based here as on HF. The bearer token is a papersift API token; reads without one see public
collections only. Errors are HF's ``{"error": message}`` (api/hf.py's route class)."""

from __future__ import annotations

from typing import Any, Literal, Optional

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from papersift.api.actions import json_body, read_json, token_user
from papersift.api.hf import HFRoute
from papersift.api.hf_models import HF_ERRORS
from papersift.errors import BadInput, Conflict, Forbidden
from papersift.formats.hf_api import hf_time
from papersift.model import User
from papersift.service import Papersift, collection_slug

ITEM_PREFIX = "papers/"


class CreateBody(BaseModel):
    title: str = Field(..., max_length=1000)
    namespace: Optional[str] = Field(None, max_length=100)
    private: bool = False
    description: Optional[str] = Field(None, max_length=10_000)


class UpdateBody(BaseModel):
    title: Optional[str] = Field(None, max_length=1000)
    description: Optional[str] = Field(None, max_length=10_000)
    private: Optional[bool] = None
    theme: Optional[str] = Field(None, max_length=40)
    position: Optional[int] = None


class ItemRef(BaseModel):
    id: str = Field(..., max_length=200)
    type: str = Field(..., max_length=40)


class AddBody(BaseModel):
    item: ItemRef
    note: Optional[str] = Field(None, max_length=5000)


class ItemBody(BaseModel):
    note: Optional[str] = Field(None, max_length=5000)
    position: Optional[int] = Field(None, ge=0, le=100_000)


def _owner(c) -> dict:
    return {"name": c.owner_handle, "fullname": c.owner_name, "type": "user", "avatarUrl": ""}


def collection_json(view, with_position: bool = True) -> dict[str, Any]:
    c = view.collection
    data: dict[str, Any] = {
        "slug": view.slug, "title": c.title, "description": c.description, "owner": _owner(c),
        "private": c.private or c.is_library, "theme": c.theme or "orange", "upvotes": c.upvotes,
        "lastUpdated": hf_time(c.updated_at), "gating": False,
        "items": [{"_id": str(e.item.id), "id": e.item.paper_id, "type": "paper", "position": e.item.position - 1,
                   "note": {"text": e.item.note} if e.item.note else None, "title": e.card.paper.title,
                   "upvotes": e.card.upvotes, "publishedAt": hf_time(e.card.paper.published)} for e in view.entries]}
    if with_position:
        data["position"] = 0
    return data


def _optional_user(hub: Papersift, request: Request) -> User | None:
    return token_user(hub, request) if request.headers.get("authorization") else None


def _paper_id(item: ItemRef) -> str:
    if item.type != "paper":
        raise BadInput(f"papersift collections hold papers only (item type 'paper'), not {item.type[:40]!r}")
    return item.id


def make_router(hub: Papersift) -> APIRouter:
    router = APIRouter(route_class=HFRoute, tags=["Hugging Face compatible"], responses=HF_ERRORS)
    _reads(router, hub)
    _writes(router, hub)
    _item_writes(router, hub)
    return router


def _view(hub: Papersift, user: User | None, owner: str, slug: str):
    return hub.collections.view(user, hub.collections.by_slug(user, f"{owner}/{slug}"))


def _reads(router: APIRouter, hub: Papersift) -> None:
    collections = hub.collections

    @router.get("/api/whoami-v2", summary="Who the token belongs to, as Hugging Face answers it")
    def whoami(request: Request):
        user = token_user(hub, request)
        return {"type": "user", "name": user.handle, "fullname": user.name, "avatarUrl": "", "orgs": [],
                "auth": {"type": "access_token", "accessToken": {"displayName": "papersift token",
                                                                 "role": user.token_scope or "read"}}}

    @router.get("/api/collections", summary="Collections (public ones; with a token, also your own)")
    def list_collections(request: Request, owner: Optional[str] = Query(None, max_length=100),
                         item: Optional[str] = Query(None, max_length=300),
                         sort: Literal["lastModified", "trending", "upvotes"] = "lastModified",
                         limit: int = Query(100, ge=1, le=100)):
        user = _optional_user(hub, request)
        paper_id = None
        if item is not None:
            if not item.startswith(ITEM_PREFIX):
                raise BadInput("papersift collections hold papers only: item is papers/ID")
            paper_id = item[len(ITEM_PREFIX):]
        found = collections.public(sort=sort, per_page=limit, paper_id=paper_id, owner=owner)
        if user is not None and owner is not None and owner.lower() == user.handle.lower():
            found = [c for c in collections.of_user(user, user) if paper_id is None
                     or any(e.item.paper_id == paper_id for e in collections.view(user, c).entries)][:limit]
        return [collection_json(collections.view(user, c), with_position=False) for c in found]

    @router.post("/api/collections", summary="Create a collection",
                  openapi_extra=json_body(CreateBody))
    async def create(request: Request):
        user = await run_in_threadpool(token_user, hub, request)
        body = await read_json(request, CreateBody)
        if body.namespace and body.namespace.lower() != user.handle.lower():
            raise Forbidden(f"you can create collections in your own namespace ({user.handle}) only")

        def work():  # the store's reads and writes, off the event loop
            existing = [c for c in collections.of_user(user, user) if c.title == body.title.strip()]
            if existing:
                return JSONResponse({"error": "you have a collection with this title already",
                                     "slug": collection_slug(existing[0])}, status_code=409)
            made = collections.create(user, body.title, body.description or "", body.private)
            return collection_json(collections.view(user, made))
        return await run_in_threadpool(work)

    @router.get("/api/collections/{owner}/{slug}", summary="One collection")
    def get(request: Request, owner: str, slug: str):
        return collection_json(_view(hub, _optional_user(hub, request), owner, slug))


def _writes(router: APIRouter, hub: Papersift) -> None:
    collections = hub.collections

    @router.patch("/api/collections/{owner}/{slug}", summary="Change a collection's title, description, privacy",
                  openapi_extra=json_body(UpdateBody))
    async def update(request: Request, owner: str, slug: str):
        user = await run_in_threadpool(token_user, hub, request)
        body = await read_json(request, UpdateBody)
        def work():
            found = collections.by_slug(user, f"{owner}/{slug}")
            changed = collections.update(user, found.id, title=body.title, description=body.description,
                                         private=body.private, theme=body.theme)
            return {"data": collection_json(collections.view(user, changed))}
        return await run_in_threadpool(work)

    @router.delete("/api/collections/{owner}/{slug}", summary="Delete a collection")
    def delete(request: Request, owner: str, slug: str):
        user = token_user(hub, request)
        collections.delete(user, collections.by_slug(user, f"{owner}/{slug}").id)
        return {}


def _item_writes(router: APIRouter, hub: Papersift) -> None:
    collections = hub.collections

    @router.post("/api/collections/{owner}/{slug}/items", summary="Add a paper, with a note",
                  openapi_extra=json_body(AddBody))
    async def add(request: Request, owner: str, slug: str):
        user = await run_in_threadpool(token_user, hub, request)
        body = await read_json(request, AddBody)
        paper_id = _paper_id(body.item)

        def work():
            found = collections.by_slug(user, f"{owner}/{slug}")
            _, added = collections.add(user, found.id, paper_id, body.note or "")
            if not added:
                raise Conflict("this paper is in the collection already")
            return collection_json(collections.view(user, collections.get(user, found.id)))
        return await run_in_threadpool(work)

    @router.patch("/api/collections/{owner}/{slug}/items/{item_id}", summary="Change an item's note or position",
                  openapi_extra=json_body(ItemBody))
    async def update_item(request: Request, owner: str, slug: str, item_id: str):
        user = await run_in_threadpool(token_user, hub, request)
        body = await read_json(request, ItemBody)
        item = _item(item_id)

        def work():
            found = collections.by_slug(user, f"{owner}/{slug}")
            collections.update_item(user, found.id, item, note=body.note,
                                    position=None if body.position is None else body.position + 1)
            return {}
        return await run_in_threadpool(work)

    @router.delete("/api/collections/{owner}/{slug}/items/{item_id}", summary="Remove an item")
    def remove(request: Request, owner: str, slug: str, item_id: str):
        user = token_user(hub, request)
        collections.remove(user, collections.by_slug(user, f"{owner}/{slug}").id, _item(item_id))
        return {}


def _item(raw: str) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise BadInput(f"{raw[:30]!r} is not an item id")
    return int(raw)
