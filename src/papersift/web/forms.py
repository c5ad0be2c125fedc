"""The pages that change something: accounts, votes, the library, submissions, settings, admin.

Every POST reads its form through :func:`session.read_form` (the CSRF check) first, then does its work
in a worker thread (:mod:`web.posted`: password hashes and arXiv calls never hold the event loop). A failed
form is shown again with its message and a 4xx status; a successful one redirects (303), so a
reload never posts twice. Vote and save answer JSON when asked (the page's small script uses
that to update the count without a reload); without JavaScript they redirect back.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import FormData

from papersift.errors import BadInput, Conflict, Forbidden, PapersiftError, TooManyAttempts, Unauthorized
from papersift.model import User
from papersift.web.pages import LIST_PER_PAGE, int_param
from papersift.web.posted import handled_in_thread
from papersift.web.render import paper_url, render, slug
from papersift.web.session import (
    field,
    log_in_viewer,
    log_out_viewer,
    login_redirect,
    redirect,
    require_user,
    safe_next,
    service,
    viewer,
    wants_json,
)

router = APIRouter(include_in_schema=False)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


# ---- sign up, log in, log out
@router.get("/signup")
def signup_form(request: Request, next: str | None = None):
    return render(request, "signup.html", error=None, email="", name="", next_url=safe_next(next))


@router.post("/signup")
@handled_in_thread()
def signup(request: Request, form: FormData):
    email, name, next_url = field(form, "email", 300), field(form, "name", 200), safe_next(field(form, "next"))
    password, confirm = field(form, "password", 600), field(form, "password2", 600)
    accounts = service(request).accounts
    try:
        if password != confirm:
            raise BadInput("the two passwords differ")
        user = accounts.create_user(email, password, name)
    except (BadInput, Conflict) as exc:
        return render(request, "signup.html", exc.http_status, error=exc.message, email=email, name=name,
                      next_url=next_url)
    session_id, csrf = accounts.start_session(user)
    log_in_viewer(request, user, session_id, csrf)
    return redirect(request, next_url)


@router.get("/login")
def login_form(request: Request, next: str | None = None):
    return render(request, "login.html", error=None, email="", next_url=safe_next(next))


@router.post("/login")
@handled_in_thread()
def login(request: Request, form: FormData):
    email, password, next_url = field(form, "email", 300), field(form, "password", 600), safe_next(field(form, "next"))
    try:
        user, session_id, csrf = service(request).accounts.log_in(email, password, _client(request))
    except (BadInput, Unauthorized, Forbidden, TooManyAttempts) as exc:
        return render(request, "login.html", exc.http_status, error=exc.message, email=email, next_url=next_url)
    log_in_viewer(request, user, session_id, csrf)
    return redirect(request, next_url)


@router.post("/logout")
@handled_in_thread()
def logout(request: Request, form: FormData):  # the form is read for its CSRF check
    log_out_viewer(request)
    return redirect(request, "/")


# ---- votes and saves
def _toggle(request: Request, form: FormData, paper_id: str, kind: str):
    current = viewer(request)
    if current.user is None:
        if wants_json(request):
            raise Unauthorized("log in to vote or save papers")
        return login_redirect(request, field(form, "next") or paper_url(paper_id))
    action = field(form, "action", 20) or ("vote" if kind == "vote" else "save")
    valid = ("vote", "unvote") if kind == "vote" else ("save", "unsave")
    if action not in valid:
        raise BadInput(f"unknown action {action[:20]!r}: use {valid[0]} or {valid[1]}")
    actions = service(request).actions
    if kind == "vote":
        state = actions.vote(current.user, paper_id, on=action == "vote")
        data = {"id": state.paper_id, "voted": state.voted, "upvotes": state.upvotes}
    else:
        saved = actions.save(current.user, paper_id, on=action == "save")
        data = {"id": paper_id, "saved": saved}
    if wants_json(request):
        return JSONResponse(data)
    back = safe_next(field(form, "next"), paper_url(paper_id))
    return redirect(request, back if "#" in back else f"{back}#paper-{slug(paper_id)}")


@router.post("/papers/{paper_id:path}/vote")
@handled_in_thread()
def vote(request: Request, form: FormData, paper_id: str):
    return _toggle(request, form, paper_id, "vote")


@router.post("/papers/{paper_id:path}/save")
@handled_in_thread()
def save(request: Request, form: FormData, paper_id: str):
    return _toggle(request, form, paper_id, "save")


# ---- library and submissions
@router.get("/library")
def library(request: Request, page: str | None = None):
    current = viewer(request)
    if current.user is None:
        return login_redirect(request)
    listing = service(request).catalog.library(current.user, page=int_param(page, "page"), per_page=LIST_PER_PAGE)
    return render(request, "listing.html", listing=listing, kind="library", heading="Your library",
                  title="Your library", empty_message="You have not saved any papers yet: use "
                  "\u201cSave\u201d on a paper to keep it here.")


@router.get("/submit")
def submit_form(request: Request):
    if viewer(request).user is None:
        return login_redirect(request)
    return render(request, "submit.html", error=None, arxiv_id="")


@router.post("/submit")
@handled_in_thread()
def submit(request: Request, form: FormData):
    current = viewer(request)
    if current.user is None:
        return login_redirect(request, "/submit")
    raw = field(form, "arxiv_id", 200)
    try:
        result = service(request).actions.submit(current.user, raw)
    except PapersiftError as exc:  # bad id, unknown on arXiv, duplicate, arXiv unreachable
        return render(request, "submit.html", exc.http_status, error=exc.message, arxiv_id=raw)
    return redirect(request, f"/papers/date/{result.day}?submitted={result.paper.id}#paper-{slug(result.paper.id)}")


# ---- settings: API tokens
# ---- admin
def require_admin(request: Request) -> User:
    user = require_user(request)
    if not user.is_admin:
        raise Forbidden("this page is for administrators")
    return user


@router.get("/admin")
def admin(request: Request):
    if viewer(request).user is None:
        return login_redirect(request)
    admin_user = require_admin(request)
    hub = service(request)
    return render(request, "admin.html", hidden_users=hub.accounts.hidden_users(),
                  hidden_papers=hub.catalog.hidden_papers(admin_user))


@router.post("/admin/users")
@handled_in_thread()
def admin_user(request: Request, form: FormData):
    admin_user_ = require_admin(request)
    action = field(form, "action", 20)
    if action not in ("hide", "unhide"):
        raise BadInput("action must be hide or unhide")
    service(request).accounts.set_hidden(admin_user_, field(form, "email", 300), action == "hide")
    return redirect(request, "/admin")


@router.post("/admin/papers/{paper_id:path}/hide")
@handled_in_thread()
def admin_paper(request: Request, form: FormData, paper_id: str):
    admin_user_ = require_admin(request)
    action = field(form, "action", 20) or "hide"
    if action not in ("hide", "unhide"):
        raise BadInput("action must be hide or unhide")
    paper = service(request).actions.hide_paper(admin_user_, paper_id, action == "hide")
    return redirect(request, safe_next(field(form, "next"), paper_url(paper.id)))
