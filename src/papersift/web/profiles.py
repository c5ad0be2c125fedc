"""Profiles and claimed authorship: ``/users/NAME``, claiming an author position on a paper page,
hiding or withdrawing one's claim, the admins' claim queue, and the account's public side in the
settings (handle, display name, what the profile shows, mail, proving the email address)."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.datastructures import FormData

from papersift.errors import BadInput, Forbidden
from papersift.web.pages import ID_HIGH, whole_number
from papersift.web.posted import handled_in_thread
from papersift.web.render import paper_url, render
from papersift.web.session import field, redirect, require_user, service, viewer

router = APIRouter(include_in_schema=False)


def _number(raw: str, what: str) -> int:
    return whole_number(raw, f"the {what} number", low=0, high=ID_HIGH)


@router.get("/users/{name}")
def profile(request: Request, name: str):
    current = viewer(request).user
    hub = service(request)
    found = hub.authors.profile(current, name)
    return render(request, "profile.html", title=f"{found.user.name} (@{found.user.handle})", profile=found,
                  collections=hub.collections.of_user(current, found.user),
                  recent_comments=hub.discussion.recent_by_user(current, found.user))


@router.post("/papers/{paper_id:path}/claims")
@handled_in_thread()
def claim(request: Request, form: FormData, paper_id: str):
    user = require_user(request)
    made = service(request).authors.claim(user, paper_id, _number(field(form, "position", 10), "position"))
    return redirect(request, paper_url(made.paper_id) + "#authors")


@router.post("/claims/{claim_id}")
@handled_in_thread()
def change_claim(request: Request, form: FormData, claim_id: str):
    user, cid = require_user(request), _number(claim_id, "claim")
    authors = service(request).authors
    action = field(form, "action", 10)
    if action in ("hide", "show"):
        found = authors.hide(user, cid, action == "hide")
    elif action == "withdraw":
        found = authors.withdraw(user, cid)
    else:
        raise BadInput("action is hide, show or withdraw")
    return redirect(request, paper_url(found.paper_id) + "#authors")


@router.get("/admin/claims")
def queue(request: Request):
    user = require_user(request)
    if not user.is_admin:
        raise Forbidden("this page is for administrators")
    return render(request, "claims.html", title="Claims of authorship", claims=service(request).authors.pending(user))


@router.post("/admin/claims/{claim_id}")
@handled_in_thread()
def decide(request: Request, form: FormData, claim_id: str):
    user = require_user(request)
    action = field(form, "action", 10)
    if action not in ("verify", "reject"):
        raise BadInput("action is verify or reject")
    service(request).authors.decide(user, _number(claim_id, "claim"), action == "verify")
    return redirect(request, "/admin/claims")


# ---- the settings' public side
@router.post("/settings/profile")
@handled_in_thread()
def update_profile(request: Request, form: FormData):
    user = require_user(request)
    service(request).authors.update_profile(user, username=field(form, "username", 100) or None,
                                            name=field(form, "name", 200) or None,
                                            show_upvotes=field(form, "show_upvotes", 10) == "on",
                                            notify_email=field(form, "notify_email", 10) == "on")
    return redirect(request, "/settings#profile")


@router.post("/settings/verify-email")
@handled_in_thread()
def send_verification(request: Request, form: FormData, tasks: BackgroundTasks):
    user = require_user(request)
    hub = service(request)
    if not hub.mail.email_enabled:
        raise BadInput("email is not set up on this site: ask its administrator to verify your claims instead")
    queued = hub.authors.request_email_verification(user)
    send = getattr(request.app.state, "send_soon", None)
    if queued is not None and send is not None:
        tasks.add_task(send, queued)
    return redirect(request, "/settings?verification=sent#profile")


@router.get("/settings/verify-email")
def verify_email(request: Request, token: str = ""):
    service(request).authors.verify_email(token)
    return redirect(request, "/settings?verification=done#profile")
