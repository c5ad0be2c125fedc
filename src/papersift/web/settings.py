"""The settings page: API tokens and the account's email digest.

Its own module so that the token forms (``forms.py``) and the digest forms (``subscribe.py``)
each stay on one side: this page uses both, neither uses it.
"""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.datastructures import FormData

from papersift.errors import BadInput, Unauthorized
from papersift.model import User
from papersift.service import CADENCES, Choices
from papersift.web.pages import whole_number
from papersift.web.posted import handled_in_thread
from papersift.web.render import render
from papersift.web.session import field, login_redirect, redirect, require_user, service, viewer
from papersift.web.subscribe import (
    choices_from,
    email_enabled,
    form_values,
    posted_values,
    require_email,
    send_soon,
    subscriptions,
)

router = APIRouter(include_in_schema=False)


def settings_page(request: Request, user, status: int = 200, new_token: str | None = None, **digest):
    """The settings page: API tokens and the email digest section (web/subscribe.py)."""
    context = settings_context(request, user) | digest
    return render(request, "settings.html", status, tokens=service(request).accounts.tokens(user),
                  new_token=new_token, **context)


@router.get("/settings")
def settings(request: Request):
    if viewer(request).user is None:
        return login_redirect(request)
    return settings_page(request, viewer(request).user)


@router.post("/settings/tokens")
@handled_in_thread()
def create_token(request: Request, form: FormData):
    user = require_user(request)
    scope = field(form, "scope", 20) or "write"  # a form from before scopes existed made read-and-write tokens
    _, secret = service(request).accounts.create_token(user, field(form, "name", 200), scope)
    # shown once, in this response only (never stored, never put in a URL)
    return settings_page(request, user, 201, new_token=secret)


@router.post("/settings/tokens/{token_id}/revoke")
@handled_in_thread()
def revoke_token(request: Request, form: FormData, token_id: str):  # the form is read for its CSRF check
    user = require_user(request)
    number = whole_number(token_id, "the token id", high=2**63 - 1)
    service(request).accounts.revoke_token(user, number)
    return redirect(request, "/settings")


def settings_context(request: Request, user: User) -> dict:
    """What settings.html needs for its digest section."""
    sub = subscriptions(request).for_user(user)
    choices = Choices(sub.cadence, sub.trending, sub.topics) if sub else None
    hub = service(request)
    return {"followed": hub.arxiv.followed(user), "follow_next": "/settings", "follow_choices": [],
            "subscription": sub, "digest_enabled": email_enabled(request), "cadences": CADENCES,
            "digest_values": form_values(choices, user.email), "digest_error": None,
            "digest_notice": request.query_params.get("digest"), "webhooks": hub.webhooks.of(user),
            "new_webhook": None}


@router.post("/settings/digest")
@handled_in_thread()
def settings_digest(request: Request, form: FormData, tasks: BackgroundTasks):
    user = viewer(request).user
    if user is None:
        raise Unauthorized("log in first")
    subs = subscriptions(request)
    if field(form, "action", 20) == "unsubscribe":
        subs.unsubscribe_user(user)
        return redirect(request, "/settings?digest=unsubscribed#digest")
    require_email(request)
    values = posted_values(form) | {"email": user.email}
    try:
        outcome = subs.subscribe(user.email, choices_from(values), user)
    except BadInput as exc:
        return settings_page(request, user, 400, digest_values=values, digest_error=exc.message)
    tasks.add_task(send_soon(request), outcome.outbox_id)
    notice = "saved" if outcome.changed and outcome.subscriber.status == "active" else "check-inbox"
    return redirect(request, f"/settings?digest={notice}#digest")
