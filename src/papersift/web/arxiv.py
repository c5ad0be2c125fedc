""""New on arXiv": the pages, their RSS/Atom feeds and exports, and following categories.

``/arxiv`` is the latest listing day; ``/arxiv/date/D``, ``/arxiv/week/W`` and ``/arxiv/month/M`` a
period, with ``?category=cs.CL`` (repeatable, or comma-separated), ``&tab=new|cross|replace`` and
``&page``. A signed-in reader who names no category sees the ones they follow, in their own order.
Pages for signed-in readers are theirs (not cached); anonymous pages are cached like the feed's.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from papersift.errors import BadInput
from papersift.service import ARXIV_TABS, ArxivView, Period, period_for_date, period_for_month, period_for_week
from papersift.web.page_cache import anonymous_pages
from papersift.web.pages import FEED_PER_PAGE, int_param, parse_period, period_title
from papersift.web.posted import handled_in_thread
from papersift.web.render import alternates, render, url_with
from papersift.web.session import field, redirect, require_user, safe_next, service, viewer

router = APIRouter(include_in_schema=False)

TAB_LABELS = {"new": "New", "cross": "Cross-lists", "replace": "Replacements"}
ORDERS = ("listing", "score")


def categories_param(request: Request) -> list[str]:
    """``?category=cs.CL&category=cs.LG`` or ``?category=cs.CL,cs.LG`` (checked by the service)."""
    return [c.strip() for value in request.query_params.getlist("category") for c in value.split(",") if c.strip()]


def arxiv_path(period: Period) -> str:
    return f"/arxiv/{period.kind}/{period.label}"


def _tab(value: str | None) -> str:
    if value in (None, ""):
        return "new"
    if value not in ARXIV_TABS:
        raise BadInput(f"unknown tab {value[:20]!r}: use new, cross or replace")
    return value


def _order(value: str | None) -> str | None:
    if value in (None, ""):
        return None
    if value not in ORDERS:
        raise BadInput(f"unknown order {value[:20]!r}: use listing or score")
    return value


def _view(request: Request, **period) -> ArxivView:
    params = request.query_params
    return service(request).arxiv.page(
        viewer(request).user, categories=categories_param(request), tab=_tab(params.get("tab")),
        order=_order(params.get("order")), page=int_param(params.get("page"), "page"), limit=FEED_PER_PAGE,
        **period)


def _page(request: Request, **period):
    if viewer(request).user is not None:  # the reader's own categories and order
        return _render(request, **period)
    return anonymous_pages(request).respond(request, lambda: _render(request, **period))


def _render(request: Request, **period):
    view = _view(request, **period)
    shown = view.page.period
    query = {"category": view.page.categories if categories_param(request) else None,
             "tab": view.page.tab if view.page.tab != "new" else None, "order": _order(request.query_params.get("order"))}
    day = shown.start
    periods = [("date", "Day", period_for_date(day)), ("week", "Week", period_for_week(day.isocalendar())),
               ("month", "Month", period_for_month(day))]
    base = arxiv_path(shown)
    feed_query = {"category": view.page.categories or None}
    return render(
        request, "arxiv.html", view=view, period=shown, title=period_title(shown), query=query, base_path=base,
        periods=[(label, url_with(arxiv_path(p), query), p.kind == shown.kind) for _, label, p in periods],
        tabs=[(label, url_with(base, query, tab=tab if tab != "new" else None), tab == view.page.tab,
               view.page.counts.get(tab, 0)) for tab, label in TAB_LABELS.items()],
        prev_url=url_with(arxiv_path(shown.previous), query) if shown.previous else None,
        next_url=url_with(arxiv_path(shown.next), query) if shown.next else None,
        feed_links=alternates("/feeds/arxiv", "New on arXiv", feed_query),
        export_path=f"/export/arxiv/{shown.kind}/{shown.label}", export_query={"category": query["category"],
                                                                                  "tab": query["tab"]})


@router.get("/arxiv")
def latest(request: Request, date: str | None = None, view: str | None = None):
    if date:  # the date picker (works without JS): the canonical page for that date
        picked = parse_period("date", date).start
        targets = {"date": period_for_date, "week": lambda d: period_for_week(d.isocalendar()),
                   "month": period_for_month}
        if (view or "date") not in targets:
            raise BadInput(f"unknown view {str(view)[:20]!r}: use date, week or month")
        keep = {k: request.query_params.getlist(k) for k in ("category", "tab")}
        return RedirectResponse(url_with(arxiv_path(targets[view or "date"](picked)), keep), status_code=302)
    return _page(request)


@router.get("/arxiv/date/{day}")
def by_day(request: Request, day: str):
    return _page(request, date_=day)


@router.get("/arxiv/week/{week}")
def by_week(request: Request, week: str):
    return _page(request, week=week)


@router.get("/arxiv/month/{month}")
def by_month(request: Request, month: str):
    return _page(request, month=month)


# ---- following categories (settings and the cold start post here)
@router.post("/settings/categories")
@handled_in_thread()
def follow(request: Request, form: FormData):
    """Replace the categories the reader follows: checkboxes named ``category`` and a free-text field
    ``more`` (spaces or commas between names)."""
    user = require_user(request)
    chosen = [v for v in form.getlist("category") if isinstance(v, str)]
    chosen += field(form, "more", 400).replace(",", " ").split()
    service(request).arxiv.follow(user, chosen)
    return redirect(request, safe_next(field(form, "next", 2000), "/settings") + "#categories")
