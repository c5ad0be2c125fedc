"""The discussion forms: post, reply, edit, delete, react, report; the moderators' report queue and
hiding a comment or its writer. Every form posts with its CSRF token, does its work in a worker
thread (web/posted.py) and redirects back to the comment on the paper page (303), so a reload never
posts twice; a refused post is an error page with its 4xx and one line."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import FormData

from papersift.web.forms import require_admin
from papersift.web.pages import ID_HIGH, whole_number
from papersift.web.posted import handled_in_thread
from papersift.web.render import paper_url, render
from papersift.web.session import field, redirect, require_user, service

router = APIRouter(include_in_schema=False)
BODY_FIELD_MAX = 100_000  # the form's own cap; the service's (smaller) limit gives the message


def _comment_id(raw: str) -> int:
    return whole_number(raw, "the comment number", high=ID_HIGH)


def _back(paper_id: str, comment_id: int | None = None) -> str:
    return paper_url(paper_id) + (f"#comment-{comment_id}" if comment_id else "#discussion")


@router.post("/papers/{paper_id:path}/comments")
@handled_in_thread()
def post_comment(request: Request, form: FormData, paper_id: str):
    user = require_user(request)
    parent = field(form, "parent_id", 20)
    comment = service(request).discussion.post(user, paper_id, field(form, "body", BODY_FIELD_MAX),
                                               _comment_id(parent) if parent else None)
    return redirect(request, _back(comment.paper_id, comment.id))


def _on_comment(request: Request, comment_id: str, act) -> object:
    user = require_user(request)
    cid = _comment_id(comment_id)
    hub = service(request)
    act(hub, user, cid)
    paper_id = hub.discussion.paper_of(user, cid)
    return redirect(request, _back(paper_id, cid) if paper_id else "/")


@router.post("/comments/{comment_id}/edit")
@handled_in_thread()
def edit_comment(request: Request, form: FormData, comment_id: str):
    body = field(form, "body", BODY_FIELD_MAX)
    return _on_comment(request, comment_id, lambda hub, user, cid: hub.discussion.edit(user, cid, body))


@router.post("/comments/{comment_id}/delete")
@handled_in_thread()
def delete_comment(request: Request, form: FormData, comment_id: str):
    return _on_comment(request, comment_id, lambda hub, user, cid: hub.discussion.delete(user, cid))


@router.post("/comments/{comment_id}/react")
@handled_in_thread()
def react(request: Request, form: FormData, comment_id: str):
    reaction, on = field(form, "reaction", 20), field(form, "action", 10) != "remove"
    return _on_comment(request, comment_id, lambda hub, user, cid: hub.discussion.react(user, cid, reaction, on))


@router.post("/comments/{comment_id}/report")
@handled_in_thread()
def report(request: Request, form: FormData, comment_id: str):
    reason = field(form, "reason", 2000)
    return _on_comment(request, comment_id, lambda hub, user, cid: hub.discussion.report(user, cid, reason))


# ---- moderation
@router.post("/admin/comments/{comment_id}/hide")
@handled_in_thread()
def hide_comment(request: Request, form: FormData, comment_id: str):
    require_admin(request)
    hidden = field(form, "action", 10) != "unhide"
    return _on_comment(request, comment_id, lambda hub, user, cid: hub.discussion.hide(user, cid, hidden))


@router.post("/admin/comments/{comment_id}/resolve")
@handled_in_thread()
def resolve(request: Request, form: FormData, comment_id: str):
    admin = require_admin(request)
    service(request).discussion.resolve(admin, _comment_id(comment_id))
    return redirect(request, "/admin/reports")


@router.post("/admin/comments/{comment_id}/hide-writer")
@handled_in_thread()
def hide_writer(request: Request, form: FormData, comment_id: str):
    admin = require_admin(request)
    hub = service(request)
    writer, paper_id = hub.discussion.writer_of(admin, _comment_id(comment_id))
    hub.accounts.set_hidden(admin, writer.email, True)  # the one way a user is hidden (sessions, mail)
    return redirect(request, _back(paper_id))


@router.get("/admin/reports")
def reports(request: Request):
    admin = require_admin(request)
    return render(request, "reports.html", title="Reported comments", reports=service(request).discussion.reports(admin))
