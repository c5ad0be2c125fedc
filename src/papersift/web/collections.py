"""Collection pages and forms: the public collections, a reader's own, one collection's page with its
RSS/Atom and exports; create, edit, add a paper with a note, move, remove, upvote, and the admins'
hide. A collection's address is Hugging Face's ``/collections/OWNER/title-words-ID``: an old one (a
renamed title, another owner spelling) redirects to the current one."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from papersift.errors import BadInput, Forbidden, NotFound
from papersift.formats.exports import render as render_export
from papersift.service import ExportTarget, collection_slug
from papersift.web.pages import ID_HIGH, whole_number
from papersift.web.posted import handled_in_thread
from papersift.web.render import render
from papersift.web.session import field, login_redirect, redirect, require_user, service, viewer

router = APIRouter(include_in_schema=False)


def _id(raw: str) -> int:
    return whole_number(raw, "the collection or item number", high=ID_HIGH)


def page_url(collection) -> str:
    return "/collections/" + collection_slug(collection)


@router.get("/collections")
def public(request: Request, sort: str = "upvotes"):
    hub = service(request)
    return render(request, "collections.html", title="Collections", heading="Collections",
                  collections=hub.collections.public(sort=sort if sort in ("upvotes", "newest") else "upvotes"),
                  mine=False, sort=sort)


@router.get("/collections/mine")
def mine(request: Request):
    current = viewer(request).user
    if current is None:
        return login_redirect(request)
    return render(request, "collections.html", title="Your collections", heading="Your collections",
                  collections=service(request).collections.of_user(current, current), mine=True, sort="")


@router.post("/collections")
@handled_in_thread()
def create(request: Request, form: FormData):
    user = require_user(request)
    hub = service(request)
    made = hub.collections.create(user, field(form, "title", 1000), field(form, "description", 10_000),
                                  private=field(form, "private", 10) == "on")
    paper_id = field(form, "paper_id", 200)
    if paper_id:  # "new collection" from a paper page: add the paper to it at once
        hub.collections.add(user, made.id, paper_id, field(form, "note", 5000))
    return redirect(request, page_url(hub.collections.get(user, made.id)))


def _found(request: Request, owner: str, slug: str):
    hub = service(request)
    found = hub.collections.by_slug(viewer(request).user, slug)
    return hub, found, f"{owner}/{slug}" == collection_slug(found)


@router.get("/collections/{owner}/{slug}")
def page(request: Request, owner: str, slug: str):
    hub, found, current = _found(request, owner, slug)
    if not current:
        return RedirectResponse(page_url(found), status_code=301)
    view = hub.collections.view(viewer(request).user, found)
    return render(request, "collection.html", title=found.title, view=view, collection=found, url=page_url(found))


@router.get("/collections/{owner}/{slug}/feed.{fmt}")
def feed(request: Request, owner: str, slug: str, fmt: str):
    from papersift.web.rss_atom import collection_feed

    hub, found, _ = _found(request, owner, slug)
    if fmt not in ("rss", "atom"):
        raise NotFound("feed addresses end in .atom or .rss")
    if found.private or found.is_library:
        raise NotFound(f"no feed for collection {found.id}: it is private")
    return collection_feed(request, fmt, hub.collections.view(None, found), page_url(found))


@router.get("/collections/{owner}/{slug}/export")
def export(request: Request, owner: str, slug: str):
    hub, found, _ = _found(request, owner, slug)
    user = viewer(request).user
    body, content_type, filename = render_export(hub, user, ExportTarget.collection(found.id),
                                                 request.query_params.get("format") or "bibtex")
    private = found.private or found.is_library
    return Response(body, media_type=content_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store" if private else "public, max-age=300"})


def _after(request: Request, collection_id: int):
    hub = service(request)
    try:
        return redirect(request, page_url(hub.collections.get(viewer(request).user, collection_id)))
    except NotFound:
        return redirect(request, "/collections/mine")


@router.post("/collections/{collection_id}/edit")
@handled_in_thread()
def edit(request: Request, form: FormData, collection_id: str):
    user, cid = require_user(request), _id(collection_id)
    hub = service(request)
    library = hub.collections.get(user, cid).is_library
    hub.collections.update(user, cid, title=None if library else field(form, "title", 1000),
                           description=field(form, "description", 10_000),
                           private=None if library else field(form, "private", 10) == "on")
    return _after(request, cid)


@router.post("/collections/{collection_id}/delete")
@handled_in_thread()
def delete(request: Request, form: FormData, collection_id: str):
    if field(form, "confirm", 10) != "yes":
        raise BadInput("tick the box to confirm that the collection goes")
    service(request).collections.delete(require_user(request), _id(collection_id))
    return redirect(request, "/collections/mine")


@router.post("/collections/{collection_id}/items")
@handled_in_thread()
def add(request: Request, form: FormData, collection_id: str):
    user, cid = require_user(request), _id(collection_id)
    service(request).collections.add(user, cid, field(form, "paper_id", 200), field(form, "note", 5000))
    return _after(request, cid)


@router.post("/collections/{collection_id}/items/{item_id}")
@handled_in_thread()
def change_item(request: Request, form: FormData, collection_id: str, item_id: str):
    user, cid, iid = require_user(request), _id(collection_id), _id(item_id)
    collections = service(request).collections
    action = field(form, "action", 10)
    if action == "remove":
        collections.remove(user, cid, iid)
    elif action in ("up", "down"):
        position = whole_number(field(form, "position", 20) or "1", "position") + (-1 if action == "up" else 1)
        collections.update_item(user, cid, iid, position=max(1, position))
    elif action == "note":
        collections.update_item(user, cid, iid, note=field(form, "note", 5000))
    else:
        raise BadInput("action is remove, up, down or note")
    return _after(request, cid)


@router.post("/collections/{collection_id}/upvote")
@handled_in_thread()
def upvote(request: Request, form: FormData, collection_id: str):
    user, cid = require_user(request), _id(collection_id)
    service(request).collections.upvote(user, cid, field(form, "action", 10) != "remove")
    return _after(request, cid)


@router.post("/admin/collections/{collection_id}/hide")
@handled_in_thread()
def hide(request: Request, form: FormData, collection_id: str):
    user = require_user(request)
    if not user.is_admin:
        raise Forbidden("this is for administrators")
    cid = _id(collection_id)
    service(request).collections.hide(user, cid, field(form, "action", 10) != "unhide")
    return _after(request, cid)


