"""RSS and Atom feeds of the lists the website shows (``/feeds/...``; ``.atom`` or ``.rss``).

| feed | same list as |
|---|---|
| ``/feeds/daily.atom`` | ``/`` (today, or the latest day with papers) |
| ``/feeds/date/2026-05-15.atom``, ``/feeds/week/2026-W20.atom``, ``/feeds/month/2026-05.atom`` | that page |
| ``/feeds/search.atom?q=&from=&to=&cat=&org=&has_code=&sort=`` | ``/search`` with the same parameters |
| ``/feeds/orgs/NAME.atom``, ``/feeds/authors/NAME.atom`` | the organisation / author page |
| ``/for-you/feed/SECRET.atom`` | a reader's ``/for-you`` (this week), private: the secret is the login |

A search feed is newest first unless ``sort`` says otherwise.
Feeds are public and the same for everyone (hidden papers left out, no per-user state), so
they may be cached (``Cache-Control: public``, an ``ETag`` answered with 304). The private
feed is the exception: ``Cache-Control: private, no-store`` and ``noindex``; an unknown or revoked
secret is a 404, and the server's logs show its path as ``/for-you/feed/***.atom`` (server/access_log.py).
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime, timezone
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response

from papersift.errors import BadInput, NotFound
from papersift.formats import rss_atom as feeds
from papersift.service import Card
from papersift.web.arxiv import TAB_LABELS, arxiv_path, categories_param
from papersift.web.pages import FEED_PER_PAGE, period_title, search_args
from papersift.web.render import url_with
from papersift.web.session import service, site_base

router = APIRouter(include_in_schema=False)
FEED_ITEMS = 50
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)  # the time of an entry with neither date
CACHE_SECONDS = 900
PRIVATE_FEED = "/for-you/feed/"  # then the secret: the logs mask what follows (server/access_log.py)


def _split(name: str) -> tuple[str, str]:
    for fmt in ("atom", "rss"):
        if name.endswith("." + fmt) and len(name) > len(fmt) + 1:
            return name[: -len(fmt) - 1], fmt
    raise NotFound(f"no feed {name[:80]!r}: feed addresses end in .atom or .rss")


def _entry(base: str, card: Card) -> feeds.Entry:
    paper = card.paper
    url = base + "/papers/" + quote(paper.id, safe="/:")
    published = feeds.parse_time(paper.published)
    updated = feeds.parse_time(card.feed_day) or published
    if updated is None or (published and published > updated):
        updated = published or _EPOCH
    summary = " ".join((paper.abstract or "").split())
    if len(summary) > feeds.SUMMARY_CHARS:
        summary = summary[: summary.rfind(" ", 0, feeds.SUMMARY_CHARS)].rstrip(" ,;:.") + "\u2026"
    return feeds.Entry(id=url, url=url, title=paper.title or paper.id, summary=summary, authors=paper.authors or [],
                       updated=updated, published=published, categories=paper.categories or [])


def _respond(request: Request, fmt: str, title: str, subtitle: str, page_path: str, cards: list[Card],
             private: bool = False) -> Response:
    base = site_base(request)
    query = request.url.query
    doc = feeds.FeedDoc(title=f"papersift: {title}", subtitle=subtitle,
                        self_url=base + request.url.path + (f"?{query}" if query else ""),
                        page_url=base + page_path, entries=[_entry(base, c) for c in cards])
    body = feeds.render(doc, fmt)
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    cache = "private, no-store" if private else f"public, max-age={CACHE_SECONDS}"
    headers = {"ETag": etag, "Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
    if private:
        headers["X-Robots-Tag"] = "noindex"
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=feeds.MEDIA_TYPES[fmt], headers=headers)


def _feed_cards(request: Request, date_=None, week=None, month=None, home=False):
    view = service(request).catalog.feed(None, date_, week, month, sort="trending", page=1,
                                           limit=min(FEED_ITEMS, FEED_PER_PAGE), home=home)
    return view, view.cards


@router.get("/feeds/daily.{fmt}")
def daily(request: Request, fmt: str):
    _, fmt = _split("daily." + fmt)
    view, cards = _feed_cards(request, home=True)
    period = view.feed.period
    return _respond(request, fmt, f"daily papers, {period_title(period)}",
                    "Today's trending research papers (or the latest day with papers).", "/", cards)


def _period_feed(request: Request, kind: str, name: str):
    label, fmt = _split(name)
    view, cards = _feed_cards(request, **{{"date": "date_"}.get(kind, kind): label})
    period = view.feed.period
    return _respond(request, fmt, f"daily papers, {period_title(period)}",
                    f"Trending research papers of {period_title(period)}.", f"/papers/{kind}/{period.label}", cards)


@router.get("/feeds/date/{name}")
def by_date(request: Request, name: str):
    return _period_feed(request, "date", name)


@router.get("/feeds/week/{name}")
def by_week(request: Request, name: str):
    return _period_feed(request, "week", name)


@router.get("/feeds/month/{name}")
def by_month(request: Request, name: str):
    return _period_feed(request, "month", name)


@router.get("/feeds/search.{fmt}")
def search(request: Request, fmt: str):
    _, fmt = _split("search." + fmt)
    params = request.query_params
    q, filters, sort = search_args(params, default_sort="date")  # a feed wants the newest first
    if not q.strip():
        raise BadInput("a search feed needs a query: add ?q=words (the same syntax as /search)")
    view = service(request).catalog.search(None, q, filters, sort=sort, page=1, per_page=FEED_ITEMS)
    page = url_with("/search", {k: v for k, v in params.multi_items() if k != "page"})
    return _respond(request, fmt, f"search \u201c{q.strip()[:100]}\u201d", f"Papers matching {q.strip()[:200]}.",
                    page, view.cards)


def _arxiv_feed(request: Request, fmt: str, **period) -> Response:
    """"New on arXiv" as a feed: one tab (``?tab=``, default new) of a period, in ``?category=``."""
    tab = request.query_params.get("tab") or "new"
    view = service(request).arxiv.page(None, categories=categories_param(request), tab=tab, order="listing",
                                       limit=min(FEED_ITEMS, FEED_PER_PAGE), **period)
    shown = view.page.period
    where = ", ".join(view.page.categories) or "all categories"
    what = TAB_LABELS.get(view.page.tab, "").lower()
    page = url_with(arxiv_path(shown), {"category": view.page.categories or None,
                                        "tab": tab if tab != "new" else None})
    return _respond(request, fmt, f"new on arXiv ({where}), {period_title(shown)}",
                    f"arXiv's {what} in {where}, {period_title(shown)}.", page, view.cards)


@router.get("/feeds/arxiv.{fmt}")
def arxiv_latest(request: Request, fmt: str):
    _, fmt = _split("arxiv." + fmt)
    return _arxiv_feed(request, fmt)


@router.get("/feeds/arxiv/{kind}/{name}")
def arxiv_period(request: Request, kind: str, name: str):
    if kind not in ("date", "week", "month"):
        raise NotFound(f"no feed /feeds/arxiv/{kind[:20]}: use date, week or month")
    label, fmt = _split(name)
    return _arxiv_feed(request, fmt, **{{"date": "date_"}.get(kind, kind): label})


def _listing_feed(request: Request, kind: str, name: str):
    stem, fmt = _split(name)
    catalog = service(request).catalog
    fetch = catalog.by_organization if kind == "orgs" else catalog.by_author
    listing = fetch(None, stem, page=1, per_page=FEED_ITEMS)
    heading = " ".join(stem.split())
    what = "organisation" if kind == "orgs" else "author"
    return _respond(request, fmt, heading, f"The newest papers of the {what} {heading}.",
                    f"/{kind}/" + quote(heading, safe=""), listing.cards)


@router.get("/feeds/orgs/{name:path}")
def organization(request: Request, name: str):
    return _listing_feed(request, "orgs", name)


@router.get("/feeds/authors/{name:path}")
def author(request: Request, name: str):
    return _listing_feed(request, "authors", name)


@router.get(PRIVATE_FEED + "{name}")
def for_you(request: Request, name: str):
    secret, fmt = _split(name)
    hub = service(request)
    reader = hub.personal.feed_reader(secret)
    result = hub.for_you.recommendations(reader, "week", k=FEED_ITEMS)
    cards = hub.catalog.cards([p.paper for p in result.picks], reader)
    return _respond(request, fmt, f"for {reader.name}", "Papers recommended for you this week.", "/for-you",
                    cards, private=True)


def collection_feed(request: Request, fmt: str, view, page_path: str) -> Response:
    """A public collection's RSS/Atom: its papers in the collection's order, each with its note."""
    base = site_base(request)
    entries = []
    for entry in view.entries:
        item = _entry(base, entry.card)
        if entry.item.note:
            item = dataclasses.replace(item, summary=f"Note: {entry.item.note}\n\n{item.summary}")
        entries.append(item)
    owner = view.collection.owner_handle
    doc = feeds.FeedDoc(title=f"papersift: {view.collection.title} (a collection by {owner})",
                        subtitle=view.collection.description or f"A collection by {owner}",
                        self_url=base + request.url.path, page_url=base + page_path, entries=entries)
    body = feeds.render(doc, fmt)
    return Response(body, media_type=feeds.MEDIA_TYPES[fmt], headers={
        "Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"})
