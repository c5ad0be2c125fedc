"""The pages anyone can read: feeds, search, a paper, an organisation's or an author's papers.

Query parameters arrive as text and are checked here, so a bad value gets a sentence that
names it (rendered as a 4xx page), never a framework validation dump or a 500.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from papersift.errors import BadInput
from papersift.model import normalize_paper_id
from papersift.query import MAX_QUERY_CHARS, MAX_QUERY_TERMS, Filters
from papersift.service import (
    Listing,
    Period,
    check_page,
    parse_period,
    period_for_date,
    period_for_month,
    period_for_week,
)
from papersift.web.page_cache import anonymous_pages
from papersift.web.render import alternates, paper_url, render, url_with
from papersift.web.session import service, viewer

router = APIRouter(include_in_schema=False)

FEED_SORTS = {"trending": "trending", "upvotes": "upvotes", "newest": "published", "published": "published"}
SEARCH_SORTS = ("relevance", "date", "upvotes")
FEED_PER_PAGE, SEARCH_PER_PAGE, LIST_PER_PAGE = 50, 20, 20
MAX_PAGE = 10_000


# ASCII digits only, and at most 18 (fits SQLite's 64-bit integers): str.isdigit() also accepts
# "²" (which int() refuses: that was a 500) and "٣" (which int() reads), and a long digit string
# costs time to convert.
_WHOLE_NUMBER = re.compile(r"[0-9]{1,18}")
_VENUE_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,79}", re.ASCII)


ID_HIGH = 2**62  # a row id in a path: inside both stores' integer range


def whole_number(value: str, name: str, low: int = 1, high: int = MAX_PAGE) -> int:
    """``value`` as an int in [low, high]; BadInput (a 400) naming ``name`` for anything else.

    The one parser for numbers typed into URLs (page numbers, ids in paths)."""
    if not _WHOLE_NUMBER.fullmatch(value) or not low <= int(value) <= high:
        raise BadInput(f"{name} must be a whole number from {low} to {high}, got {value[:20]!r}")
    return int(value)


def int_param(value: str | None, name: str, default: int = 1, low: int = 1, high: int = MAX_PAGE) -> int:
    """An optional query parameter: ``default`` when absent or empty, else :func:`whole_number`."""
    if value is None or value == "":
        return default
    return whole_number(value, name, low, high)


def feed_sort(value: str | None) -> str:
    if not value:
        return "trending"
    if value not in FEED_SORTS:
        raise BadInput(f"unknown sort {value[:40]!r}: use trending, upvotes or newest")
    return "newest" if value == "published" else value


def period_title(period: Period) -> str:
    if period.kind == "date":
        return f"{period.start:%A} {period.start.day} {period.start:%B %Y}"
    if period.kind == "week":
        end = period.end
        return (f"Week {period.start.isocalendar()[1]}, {period.start.isocalendar()[0]} "
                f"({period.start.day} {period.start:%b} \u2013 {end.day} {end:%b})")
    return f"{period.start:%B %Y}"


def period_path(period: Period) -> str:
    return f"/papers/{period.kind}/{period.label}"


def _feed_page(request: Request, sort_value: str | None, page_value: str | None, *, date_=None,
               week=None, month=None, home: bool = False):
    return anonymous_pages(request).respond(request, lambda: _render_feed(
        request, sort_value, page_value, date_=date_, week=week, month=month, home=home))


def _render_feed(request: Request, sort_value: str | None, page_value: str | None, *, date_=None,
                 week=None, month=None, home: bool = False):
    sort = feed_sort(sort_value)
    page = int_param(page_value, "page")
    current = viewer(request)
    view = service(request).catalog.feed(current.user, date_, week, month, sort=FEED_SORTS[sort], page=page,
                                           limit=FEED_PER_PAGE, home=home)
    period = view.feed.period
    day = period.start
    tabs = [("date", "Day", period_for_date(day)), ("week", "Week", period_for_week(day.isocalendar())),
            ("month", "Month", period_for_month(day))]
    sort_query = {"sort": sort if sort != "trending" else None}
    # no previous/next link beyond the calendar's first and last day (None there)
    prev_period, next_period = period.previous, period.next
    submitted = request.query_params.get("submitted")
    today = datetime.now(timezone.utc).date().isoformat()
    return render(
        request, "feed.html", view=view, period=period, title=period_title(period), sort=sort, page=page,
        sort_param=sort if sort != "trending" else None, home=home, today=today,
        showing_latest=home and period.label != today,
        prev_url=url_with(period_path(prev_period), sort_query) if prev_period else None,
        next_url=url_with(period_path(next_period), sort_query) if next_period else None,
        tabs=[(kind, label, period_path(p), p.kind == period.kind) for kind, label, p in tabs],
        sorts=[("trending", "Trending"), ("upvotes", "Most upvoted"), ("newest", "Newest")],
        base_path=period_path(period) if not home else request.url.path,
        feed_links=alternates("/feeds/daily" if home else f"/feeds/{period.kind}/{period.label}",
                              "Daily papers" if home else f"Daily papers: {period_title(period)}"),
        submitted=submitted if submitted and any(c.paper.id == submitted for c in view.cards) else None)


@router.get("/")
@router.get("/papers")
def home(request: Request, date: str | None = None, view: str | None = None, sort: str | None = None,
         page: str | None = None):
    if date:  # the date picker (works without JS): redirect to the canonical page for that date
        picked = parse_period("date", date).start
        kind = view or "date"
        if kind == "week":
            target = period_for_week(picked.isocalendar())
        elif kind == "month":
            target = period_for_month(picked)
        elif kind == "date":
            target = period_for_date(picked)
        else:
            raise BadInput(f"unknown view {kind[:20]!r}: use date, week or month")
        return RedirectResponse(url_with(period_path(target), {"sort": sort}), status_code=302)
    return _feed_page(request, sort, page, home=True)


@router.get("/papers/date/{day}")
def feed_day(request: Request, day: str, sort: str | None = None, page: str | None = None):
    return _feed_page(request, sort, page, date_=day)


@router.get("/papers/week/{week}")
def feed_week(request: Request, week: str, sort: str | None = None, page: str | None = None):
    return _feed_page(request, sort, page, week=week)


@router.get("/papers/month/{month}")
def feed_month(request: Request, month: str, sort: str | None = None, page: str | None = None):
    return _feed_page(request, sort, page, month=month)


def _has_code(value: str | None) -> bool | None:
    if value in (None, "", "any"):
        return None
    if value.lower() in ("1", "true", "yes", "on"):
        return True
    if value.lower() in ("0", "false", "no", "off"):
        return False
    raise BadInput(f"has_code must be true or false, got {value[:20]!r}")


def search_state(params) -> dict:
    """The search form's state: every value as the URL gave it (so the form shows it back)."""
    return {"q": params.get("q", ""), "from": params.get("from", ""), "to": params.get("to", ""),
            "cat": params.get("cat", ""), "org": params.get("org", ""),
            "has_code": params.get("has_code", ""), "sort": params.get("sort", "")}


def search_args(params, default_sort: str = "relevance") -> tuple[str, Filters, str]:
    """(query, filters, sort) from /search's query parameters (also the search feeds'); BadInput names the bad one."""
    q = params.get("q", "")
    if len(q) > MAX_QUERY_CHARS:
        raise BadInput(f"query too long ({len(q)} characters, at most {MAX_QUERY_CHARS})")
    sort = params.get("sort") or default_sort
    if sort not in SEARCH_SORTS:
        raise BadInput(f"unknown sort {sort[:40]!r}: use relevance, date or upvotes")
    cats = [c for part in params.getlist("cat") for c in part.replace(",", " ").split()]
    filters = Filters(date_from=params.get("from") or None, date_to=params.get("to") or None, categories=cats,
                      organization=(params.get("org") or "").strip() or None,
                      has_code=_has_code(params.get("has_code", "")))
    filters.validate()
    return q, filters, sort


@router.get("/search")
def search(request: Request):
    params = request.query_params
    state = search_state(params)
    q = state["q"]
    feed_query = {k: v for k, v in state.items() if v}
    context: dict[str, Any] = dict(state=state, view=None, error=None, page=1, max_chars=MAX_QUERY_CHARS,
                                   max_terms=MAX_QUERY_TERMS,
                                   feed_links=alternates("/feeds/search", f"Search: {q}", feed_query) if q.strip() else [])
    try:
        q, filters, sort = search_args(params)
        page = int_param(params.get("page"), "page", high=1000 // SEARCH_PER_PAGE)
        context["page"] = page
        if q.strip():
            view = service(request).catalog.search(viewer(request).user, q, filters, sort=sort, page=page,
                                                     per_page=SEARCH_PER_PAGE)
            if page > 1 and not view.cards:
                check_page(page, view.results.total, SEARCH_PER_PAGE, "this search")
            context["view"] = view
    except BadInput as exc:  # a malformed query: the form stays, with the reason
        context["error"] = exc.message
        context["feed_links"] = []
        return render(request, "search.html", 400, coverage=service(request).semantic_coverage(), **context)
    # read after the search: its first run opens the indexes, and before that the coverage is unknown
    return render(request, "search.html", coverage=service(request).semantic_coverage(), **context)


@router.get("/papers/{paper_id:path}")
def paper(request: Request, paper_id: str):
    canonical = normalize_paper_id(paper_id)
    if canonical != paper_id:  # arXiv:2405.15738v2, abs URLs, versions: one URL per paper
        return RedirectResponse(paper_url(canonical), status_code=301)
    hub = service(request)
    user = viewer(request).user
    view = hub.catalog.paper(user, canonical)
    return render(request, "paper.html", view=view, card=view.card, paper=view.card.paper,
                  coverage=hub.semantic_coverage(), discussion=hub.discussion.thread(user, canonical),
                  in_collections=hub.collections.containing(user, canonical),
                  my_collections=hub.collections.of_user(user, user) if user else [],
                  my_claims=hub.authors.my_claims(user, view.card.paper.id),
                  claimed=hub.authors.paper_authors(user, canonical))


def _listing(request: Request, kind: str, name: str, page: str | None):
    current = viewer(request).user
    catalog = service(request).catalog
    number = int_param(page, "page")
    fetch = catalog.by_organization if kind == "org" else catalog.by_author
    listing = fetch(current, name, page=number, per_page=LIST_PER_PAGE)
    heading = " ".join(name.split())
    feed = f"/feeds/{'orgs' if kind == 'org' else 'authors'}/" + quote(heading, safe="")
    claimed_by = service(request).authors.users_named(current, name) if kind == "author" else []
    return render(request, "listing.html", listing=listing, kind=kind, heading=heading,
                  title=heading, empty_message="", feed_links=alternates(feed, heading), claimed_by=claimed_by)


@router.get("/orgs/{name:path}")
def organization(request: Request, name: str, page: str | None = None):
    return _listing(request, "org", name, page)


@router.get("/authors/{name:path}")
def author(request: Request, name: str, page: str | None = None):
    return _listing(request, "author", name, page)


@router.get("/venues/{slug}")
def venue(request: Request, slug: str, page: str | None = None):
    """The papers whose arXiv comment names a venue: ``NeurIPS-2025`` (the main track of one year),
    ``NeurIPS-2025-Workshop``, or ``NeurIPS`` (every year and track), newest first."""
    number = int_param(page, "page")
    if not _VENUE_SLUG.fullmatch(slug):
        raise BadInput(f"not a venue: {slug[:40]!r} (a venue page is e.g. /venues/NeurIPS-2025 or /venues/ICLR)")
    view = service(request).catalog.search(viewer(request).user, f"venue:{slug}", None, sort="date", page=number,
                                           per_page=LIST_PER_PAGE, mode="bm25")
    total = view.results.total
    check_page(number, total, LIST_PER_PAGE, f"the venue {slug}")
    labels = {v.label for c in view.cards if (v := c.paper.venue) is not None and v.slug.lower() == slug.lower()}
    heading = min(labels) if len(labels) == 1 else slug.replace("-", " ")
    listing = Listing(view.cards, total, number, max(1, -(-total // LIST_PER_PAGE)))
    return render(request, "listing.html", listing=listing, kind="venue", heading=heading, title=heading,
                  empty_message=f"No paper here says it appeared at {heading}.")
