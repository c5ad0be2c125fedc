"""Email digest pages: subscribe, confirm, manage, unsubscribe, and the settings section.

| page | what |
|---|---|
| ``GET/POST /subscribe`` | the form (no account needed); prefilled by ``?search=&cat=&org=&author=`` |
| ``GET/POST /subscribe/confirm/TOKEN`` | the confirmation link shows a button; pressing it confirms |
| ``GET/POST /subscription/TOKEN`` | manage: change cadence and topics (signed link from any email) |
| ``GET/POST /unsubscribe/TOKEN`` | the page shows a button; any POST (RFC 8058 one-click) unsubscribes |
| ``POST /settings/digest`` | the logged-in version, on ``/settings`` |

Links in emails only ever lead to a page with a button: mail scanners that fetch every URL
must not confirm or unsubscribe anyone. The unsubscribe POST needs no CSRF token and no login
(RFC 8058: mail clients send ``List-Unsubscribe=One-Click`` to it); the signed token in the
URL is the authority. Every other form carries the CSRF token (``session.read_form``).
"""

from __future__ import annotations

from typing import Callable

from fastapi import APIRouter, BackgroundTasks, Request
from starlette.datastructures import FormData

from papersift.errors import BadInput, NotFound
from papersift.model import Subscriber
from papersift.service import CADENCES, Choices, Subscriptions, clean_choices
from papersift.web.posted import handled_in_thread
from papersift.web.render import render
from papersift.web.session import field, service, viewer

router = APIRouter(include_in_schema=False)
TOPIC_FIELDS = (("categories", "category", 300), ("organizations", "organization", 5000),
                ("authors", "author", 5000), ("searches", "search", 5000))


SendSoon = Callable[[int | None], None]  # send one outbox message now (None: nothing to send)


def subscriptions(request: Request) -> Subscriptions:
    return service(request).mail.subscriptions


def send_soon(request: Request) -> SendSoon:
    """How a confirmation mail goes out at once: the server passes the email interface's
    ``send_soon`` (the website never imports it); without one the scheduler or cron sends it."""
    return getattr(request.app.state, "send_soon", None) or (lambda outbox_id: None)


def email_enabled(request: Request) -> bool:
    return service(request).mail.email_enabled


def require_email(request: Request) -> None:
    if not email_enabled(request):
        # 404, not 503: the feature is switched off here, not down for a while (a 5xx invites retries)
        raise NotFound("email digests are not set up on this site (the administrator has not configured "
                          "an SMTP server); the RSS and Atom feeds work without it")


def form_values(choices: Choices | None = None, email: str = "") -> dict:
    """The form's fields as text (what the template shows)."""
    choices = choices or Choices("daily", True, [])
    values = {"email": email, "cadence": choices.cadence, "trending": choices.trending}
    for name, kind, _ in TOPIC_FIELDS:
        values[name] = choices.text(kind)
    return values


def posted_values(form) -> dict:
    values = {"email": field(form, "email", 300), "cadence": field(form, "cadence", 20),
              "trending": field(form, "trending", 10) in ("1", "on", "true", "yes")}
    for name, _, limit in TOPIC_FIELDS:
        values[name] = field(form, name, limit)
    return values


def choices_from(values: dict) -> Choices:
    return clean_choices(values["cadence"], values["trending"], values["categories"], values["organizations"],
                         values["authors"], values["searches"])


def _page(request: Request, template: str, status: int = 200, **context):
    return render(request, template, status, cadences=CADENCES, digest_enabled=email_enabled(request), **context)


# ---- subscribe (anyone)
@router.get("/subscribe")
def subscribe_form(request: Request, search: str | None = None, cat: str | None = None, org: str | None = None,
                   author: str | None = None):
    user = viewer(request).user
    values = form_values(email=user.email if user else "")
    values.update(searches=(search or "")[:1000], categories=(cat or "")[:300], organizations=(org or "")[:200],
                  authors=(author or "")[:200])
    if search or cat or org or author:
        values["trending"] = False  # came from "email me these": those papers, not the whole feed
    return _page(request, "subscribe.html", values=values, error=None, action="/subscribe",
                 title="Get trending papers by email")


@router.post("/subscribe")
@handled_in_thread()
def subscribe(request: Request, form: FormData, tasks: BackgroundTasks):
    require_email(request)
    values = posted_values(form)
    user = viewer(request).user
    try:
        choices = choices_from(values)
        # linked to the account only when it is the account's own address
        owner = user if user and user.email.lower() == values["email"].strip().lower() else None
        outcome = subscriptions(request).subscribe(values["email"], choices, owner)
    except BadInput as exc:
        return _page(request, "subscribe.html", 400, values=values, error=exc.message, action="/subscribe",
                     title="Get trending papers by email")
    tasks.add_task(send_soon(request), outcome.outbox_id)
    return _page(request, "subscribe_sent.html", email=outcome.subscriber.email, title="Check your inbox")


# ---- confirm
@router.get("/subscribe/confirm/{token}")
def confirm_page(request: Request, token: str):
    sub = subscriptions(request).check_confirm(token)
    return _page(request, "subscription_action.html", sub=sub, step="confirm", title="Confirm your subscription",
                 summary=summary(sub))


@router.post("/subscribe/confirm/{token}")
@handled_in_thread()
def confirm(request: Request, form: FormData, token: str):  # the form is read for its CSRF check
    subs = subscriptions(request)
    sub = subs.confirm(token)
    return _page(request, "subscription_action.html", sub=sub, step="confirmed", title="You are subscribed",
                 summary=summary(sub), manage_url="/subscription/" + subs.link_token(sub, "manage"))


# ---- unsubscribe: one click, no CSRF (the signed token is the authority)
@router.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str):
    sub = subscriptions(request).check_unsubscribe(token)
    if sub.status == "unsubscribed":  # opened again after unsubscribing: say so, no button
        return _page(request, "subscription_action.html", sub=sub, step="unsubscribed",
                     title="You are unsubscribed", summary=summary(sub))
    return _page(request, "subscription_action.html", sub=sub, step="unsubscribe", title="Unsubscribe",
                 summary=summary(sub))


@router.post("/unsubscribe/{token}")
def unsubscribe(request: Request, token: str):
    # RFC 8058: the body is "List-Unsubscribe=One-Click"; it is not needed to act, so not read
    sub = subscriptions(request).unsubscribe(token)
    return _page(request, "subscription_action.html", sub=sub, step="unsubscribed", title="You are unsubscribed",
                 summary=summary(sub))


# ---- manage through a signed link
def _manage_page(request: Request, token: str, sub: Subscriber, status: int = 200, values: dict | None = None,
                 error: str | None = None, saved: bool = False):
    subs = subscriptions(request)
    return _page(request, "manage.html", status, sub=sub, error=error, saved=saved, action=f"/subscription/{token}",
                 values=values or form_values(Choices(sub.cadence, sub.trending, sub.topics), sub.email),
                 unsubscribe_url="/unsubscribe/" + subs.link_token(sub, "unsubscribe"), title="Your subscription")


@router.get("/subscription/{token}")
def manage_page(request: Request, token: str):
    return _manage_page(request, token, subscriptions(request).check_link(token, "manage"))


@router.post("/subscription/{token}")
@handled_in_thread()
def manage(request: Request, form: FormData, token: str):
    subs = subscriptions(request)
    sub = subs.check_link(token, "manage")
    values = posted_values(form) | {"email": sub.email}
    try:
        sub = subs.update(token, choices_from(values))
    except BadInput as exc:
        return _manage_page(request, token, sub, 400, values, exc.message)
    return _manage_page(request, token, sub, saved=True)


def summary(sub: Subscriber) -> list[str]:
    """What this subscription sends, in words (shown before confirming or unsubscribing)."""
    lines = [CADENCES[sub.cadence]]
    if sub.trending:
        lines.append("The trending papers")
    names = {"category": "Category", "organization": "Organisation", "author": "Author", "search": "Saved search"}
    lines += [f"{names[kind]}: {value}" for kind, value in sub.topics]
    return lines
