"""The reader's "For you" pages: recommendations with why, the feedback buttons every
card carries, the cold start (pick papers, name an author, import a library file), and the signals
page (every signal stored, delete one or all, export JSON, the private feed's link).

No JavaScript needed: every button is a form that posts (CSRF-checked) and redirects back.
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from papersift.errors import BadInput, PapersiftError
from papersift.service import MAX_PICKS
from papersift.web.posted import handled_in_thread
from papersift.web.render import paper_url, render, slug
from papersift.web.session import (
    field,
    login_redirect,
    read_upload_form,
    redirect,
    require_user,
    safe_next,
    service,
    site_base,
    viewer,
)

router = APIRouter(include_in_schema=False)
PERIODS = {"day": "Today", "week": "This week", "month": "This month"}
PER_PAGE = 20
MAX_CATEGORIES = 10


def _period(value: str | None) -> str:
    if not value:
        return "week"
    if value not in PERIODS:
        raise BadInput(f"unknown period {value[:20]!r}: use day, week or month")
    return value


@router.get("/for-you")
def for_you(request: Request, period: str | None = None):
    current = viewer(request)
    if current.user is None:
        return login_redirect(request)
    chosen = _period(period)
    hub = service(request)
    result = hub.for_you.recommendations(current.user, chosen, k=PER_PAGE)
    cards = {c.paper.id: c for c in hub.catalog.cards([p.paper for p in result.picks], current.user)}
    picks = [(cards[p.paper.id], p.as_dict(result.titles)) for p in result.picks if p.paper.id in cards]
    return render(request, "for_you.html", title="For you", result=result, picks=picks, period=chosen,
                  periods=PERIODS, notice=request.query_params.get("notice"), coverage=hub.semantic_coverage())


@router.post("/papers/{paper_id:path}/feedback")
@handled_in_thread()
def feedback(request: Request, form: FormData, paper_id: str):
    current = viewer(request)
    if current.user is None:
        return login_redirect(request, field(form, "next") or paper_url(paper_id))
    kind, action = field(form, "kind", 20), field(form, "action", 10) or "on"
    if action not in ("on", "off"):
        raise BadInput(f"unknown action {action!r}: use on or off")
    done = service(request).for_you.feedback(current.user, paper_id, kind, on=action == "on")
    back = safe_next(field(form, "next"), paper_url(done["id"]))
    return redirect(request, back if "#" in back or back.startswith("/for-you") else f"{back}#paper-{slug(done['id'])}")


# ---- the cold start
@router.get("/for-you/start")
def start(request: Request):
    current = viewer(request)
    if current.user is None:
        return login_redirect(request)
    categories = [c[:40] for c in request.query_params.getlist("cat")[:MAX_CATEGORIES]]
    starters = service(request).personal.starters(current.user, categories)
    return render(request, "for_you_start.html", title="Get started", starters=starters, report=None, error=None,
                  **follow_context(request, starters))


def follow_context(request: Request, starters) -> dict:
    """The "categories you follow" form on the start page: this month's categories to tick."""
    user = viewer(request).user
    return {"followed": service(request).arxiv.followed(user) if user else [], "follow_next": "/for-you/start",
            "follow_choices": starters.categories[:24]}


def _seeded_page(request: Request, report=None, error: PapersiftError | None = None):
    """The start page again, with what the last cold-start form did (or why it failed)."""
    starters = service(request).personal.starters(viewer(request).user, [])
    return render(request, "for_you_start.html", error.http_status if error else 200, title="Get started",
                  starters=starters, report=report, error=error.message if error else None,
                  **follow_context(request, starters))


@router.post("/for-you/start/papers")
# room for a few more ticks than the service takes, so too many get its message, not a broken form
@handled_in_thread(max_fields=MAX_PICKS + 10)
def start_papers(request: Request, form: FormData):
    user = require_user(request)
    ids = [v for v in form.getlist("paper") if isinstance(v, str)]
    try:
        report = service(request).personal.seed_papers(user, [i[:100] for i in ids])
    except PapersiftError as exc:
        return _seeded_page(request, error=exc)
    return _seeded_page(request, report)


@router.post("/for-you/start/author")
@handled_in_thread()
def start_author(request: Request, form: FormData):
    user = require_user(request)
    try:
        report = service(request).personal.seed_author(user, field(form, "author", 200))
    except PapersiftError as exc:
        return _seeded_page(request, error=exc)
    return _seeded_page(request, report)


@router.post("/for-you/start/library")
@handled_in_thread(read_upload_form)
def start_library(request: Request, form: FormData):
    user = require_user(request)
    upload, pasted = form.get("library"), field(form, "text", 5 * 1024 * 1024)
    try:
        if upload is not None and not isinstance(upload, str) and upload.filename:
            report = service(request).personal.seed_library(user, upload.file.read(), upload.filename or "")
        elif pasted.strip():
            report = service(request).personal.seed_library(user, pasted)
        else:
            raise BadInput("choose a library file (BibTeX, RIS, CSL-JSON or a list of arXiv ids), or paste one")
    except PapersiftError as exc:
        return _seeded_page(request, error=exc)
    return _seeded_page(request, report)


# ---- what is stored about the reader
def signals_page(request: Request, status: int = 200, feed_url: str | None = None):
    user = require_user(request)
    hub = service(request)
    return render(request, "signals.html", status, title="Your signals", export=hub.for_you.signals(user),
                  feed_created=hub.personal.feed_token_created(user), feed_url=feed_url,
                  notice=request.query_params.get("notice"))


@router.get("/for-you/signals")
def signals(request: Request):
    if viewer(request).user is None:
        return login_redirect(request)
    return signals_page(request)


@router.get("/for-you/signals.json")
def signals_json(request: Request):
    user = require_user(request)
    body = json.dumps(service(request).for_you.signals(user), ensure_ascii=False, indent=1)
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": 'attachment; filename="papersift-signals.json"', "Cache-Control": "no-store"})


@router.post("/for-you/signals/delete")
@handled_in_thread()
def delete_signal(request: Request, form: FormData):
    user = require_user(request)
    service(request).personal.forget_signal(user, field(form, "paper_id", 100), field(form, "kind", 20))
    return redirect(request, "/for-you/signals?notice=deleted")


@router.post("/for-you/signals/forget")
@handled_in_thread()
def forget_signals(request: Request, form: FormData):
    user = require_user(request)
    if field(form, "confirm", 10) != "yes":
        raise BadInput("tick the box to confirm that every signal should be deleted")
    service(request).for_you.forget_signals(user)
    return redirect(request, "/for-you/signals?notice=forgotten")


@router.post("/for-you/feed-token")
@handled_in_thread()
def feed_token(request: Request, form: FormData):
    user = require_user(request)
    action = field(form, "action", 10)
    personal = service(request).personal
    if action == "revoke":
        personal.revoke_feed_token(user)
        return redirect(request, "/for-you/signals?notice=revoked#feed")
    if action != "new":
        raise BadInput("unknown action: use new or revoke")
    secret = personal.new_feed_token(user)
    # the link is shown once, in this response (only its hash is kept)
    return signals_page(request, 201, feed_url=f"{site_base(request)}/for-you/feed/{secret}.atom")
