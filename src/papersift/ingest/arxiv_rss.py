"""arXiv's daily listings as feeds: RSS 2.0 at https://rss.arxiv.org/rss/{cat}, Atom at .../atom/{cat}.

A feed holds one announcement of one category (or several joined with '+', ``cs.CL+cs.LG``): the
new submissions, then the cross-lists, then the replacements. Each item says which it is in
``<arxiv:announce_type>`` (new, cross, replace, replace-cross) and again at the start of its
description: ``arXiv:2509.13338v1 Announce Type: new`` then ``Abstract: ...``. Authors come as one
``<dc:creator>`` string, categories one element each with the primary first. A new or cross-listed
item is the paper's first listing (``listed``, ``published`` that day); a replacement only adds its day
to ``replaced``, since the feed does not say when the paper first appeared.

The listing day is the feed's own date (RSS ``<pubDate>``, Atom ``<updated>``) as a calendar date in
US Eastern time, arXiv's zone: arXiv stamps each feed at the midnight that starts the listing day there
(``00:00:00 -0400``, 04:00 UTC), so the Eastern date is that day whatever offset a time is written in.
Over the weekend the feed still shows Friday's announcement, so a Saturday or Sunday date is Friday's
listing (:func:`~papersift.ingest.schedule.listing_weekday`). A day read here is exact: it wins over one
computed from a submission time.

An unknown category is answered with a well-formed feed titled "Feed error for query" and no items:
that is :class:`BadInput`, not an empty listing.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field as dc_field
from datetime import date, datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable
from xml.etree.ElementTree import Element, ParseError

import httpx
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from papersift.errors import BadInput, Unavailable
from papersift.ingest.fields import MAX_TEXT_CHARS, clean_text, paper_id, text_list, title_text
from papersift.ingest.http import LiveSource, RetryingClient
from papersift.ingest.schedule import EASTERN, listing_weekday
from papersift.model import Paper

DEFAULT_RSS_URL = "https://rss.arxiv.org"
FORMATS = ("rss", "atom")
ANNOUNCE_TYPES = ("new", "cross", "replace", "replace-cross")
MAX_CATEGORIES = 20
ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"
DC = "{http://purl.org/dc/elements/1.1/}"
ERROR_TITLE = "Feed error for query"
_CATEGORY = re.compile(r"[a-z][a-z-]{0,31}(\.[A-Za-z-]{1,31})?", re.ASCII)
_OAI_PREFIX = "oai:arxiv.org:"


@dataclass
class ListedPaper:
    """One item of a listing: the paper and how it was announced (one of ANNOUNCE_TYPES)."""

    paper: Paper
    announce: str


@dataclass
class Listing:
    """One parsed feed: the listing day (YYYY-MM-DD), the feed's title and its readable items."""

    day: str
    title: str
    items: list[ListedPaper] = dc_field(default_factory=list)
    bad: list[tuple[int, BadInput]] = dc_field(default_factory=list)  # (position, why), item skipped


@dataclass(frozen=True)
class _Shape:
    """Where RSS and Atom keep the same things."""

    items: str
    title: str
    date: str  # of the feed
    item_date: str
    ident: str
    text: str


_RSS = _Shape(items="item", title="title", date="pubDate", item_date="pubDate", ident="guid", text="description")
_ATOM = _Shape(items=ATOM + "entry", title=ATOM + "title", date=ATOM + "updated", item_date=ATOM + "published",
               ident=ATOM + "id", text=ATOM + "summary")


def parse_listing(body: bytes, requested: str | None = None) -> Listing:
    """Parse an RSS 2.0 or Atom listing; ``requested`` (e.g. "cs.CL+cs.LG") names it in errors.

    Raise Unavailable when the body is not a listing feed at all, BadInput when it is arXiv's
    error feed for an unknown category. An item that cannot be read goes to ``bad``.
    """
    channel, shape = _channel(body)
    title = clean_text(channel.findtext(shape.title), "feed title") or ""
    items = channel.findall(shape.items)
    if ERROR_TITLE.lower() in title.lower() and not items:
        raise BadInput(f"arXiv has no listing for {requested or title.partition(':')[2].strip()!r}")
    day = _listing_day(channel, items, shape).isoformat()
    listing = Listing(day=day, title=title)
    for number, item in enumerate(items, start=1):
        try:
            listing.items.append(_listed_paper(item, shape, day))
        except BadInput as exc:
            ident = " ".join((item.findtext(shape.ident) or "").split())[:80]
            listing.bad.append((number, BadInput(f"item {number} ({ident or 'no id'}): {exc.message}")))
    return listing


def _channel(body: bytes) -> tuple[Element, _Shape]:
    try:
        root = fromstring(body)  # defusedxml: entity expansion and external entities refused
    except DefusedXmlException as exc:
        raise Unavailable(f"arXiv's listing feed has forbidden XML constructs ({type(exc).__name__})") from None
    except ParseError as exc:
        raise Unavailable(f"arXiv's listing feed is malformed XML ({exc}); start: {body[:80]!r}") from None
    if root.tag == ATOM + "feed":
        return root, _ATOM
    if root.tag != "rss":
        raise Unavailable(f"not an RSS or Atom feed: root element is {root.tag!r}")
    channel = root.find("channel")
    if channel is None:
        raise Unavailable("RSS feed without a <channel>")
    return channel, _RSS


def _listing_day(channel: Element, items: list[Element], shape: _Shape) -> date:
    """The feed's date (else the first dated item's) in US Eastern time, a weekend taken as Friday."""
    raw = channel.findtext(shape.date)
    if not (raw and raw.strip()):
        raw = next((text for item in items if (text := item.findtext(shape.item_date)) and text.strip()), None)
    if raw is None:
        raise Unavailable("the listing has no date")
    try:
        day = _moment(raw, rfc822=shape is _RSS).astimezone(EASTERN).date()
    except BadInput as exc:
        raise Unavailable(f"the listing's date: {exc.message}") from None
    except (OverflowError, ValueError):
        raise Unavailable(f"the listing's date is out of range: {raw.strip()[:60]!r}") from None
    return listing_weekday(day)


def _moment(raw: str, rfc822: bool) -> datetime:
    """An RFC 822 (RSS) or ISO 8601 (Atom) time; one without an offset is taken as UTC."""
    text = raw.strip()
    try:
        moment = parsedate_to_datetime(text) if rfc822 else datetime.fromisoformat(text)
    except (TypeError, ValueError, IndexError):
        raise BadInput(f"not a date: {text[:60]!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _listed_paper(item: Element, shape: _Shape, day: str) -> ListedPaper:
    pid, version = _item_id(item, shape)
    preamble, abstract = _split_description(item.findtext(shape.text) or "")
    announce = _announce_type(item.findtext(ARXIV + "announce_type"), preamble)
    new = announce in ("new", "cross")  # a replacement's day is a later version's, not the paper's
    midnight = f"{day}T00:00:00Z"
    paper = Paper(
        id=pid, version=version,
        title=title_text(item.findtext(shape.title), "title"),
        abstract=clean_text(abstract, "abstract", MAX_TEXT_CHARS),
        authors=split_authors(item.findtext(DC + "creator")),
        categories=text_list(_categories(item, shape), "category"),
        comment=clean_text(item.findtext(ARXIV + "comment"), "arxiv:comment", MAX_TEXT_CHARS),
        published=midnight if new else None, source="arxiv-rss", observed_at=midnight,
        listed=day if new else None, replaced=[] if new else [day],
    )
    return ListedPaper(paper=paper, announce=announce)


def _item_id(item: Element, shape: _Shape) -> tuple[str, int | None]:
    """From the guid/id ``oai:arXiv.org:2509.13338v1``, else the abstract page's link."""
    raw = (item.findtext(shape.ident) or "").strip()
    if raw.lower().startswith(_OAI_PREFIX):
        return paper_id(raw[len(_OAI_PREFIX):], shape.ident.rpartition("}")[2])
    if raw:
        return paper_id(raw, shape.ident.rpartition("}")[2])
    return paper_id(_link(item, shape), "link")


def _link(item: Element, shape: _Shape) -> str | None:
    if shape is _RSS:
        return item.findtext("link")
    links = item.findall(ATOM + "link")
    chosen = next((link for link in links if link.get("rel", "alternate") == "alternate"), None)
    return chosen.get("href") if chosen is not None else None


def _split_description(text: str) -> tuple[str, str]:
    """``arXiv:ID Announce Type: T`` / ``Abstract: ...`` -> (that first part, the abstract)."""
    if not text.lstrip().startswith("arXiv:"):
        return "", text
    preamble, found, abstract = text.partition("Abstract:")
    return (preamble, abstract) if found else (text, "")


def _announce_type(element: str | None, preamble: str) -> str:
    raw = element if element is not None else preamble.partition("Announce Type:")[2]
    announce = raw.strip()
    if announce not in ANNOUNCE_TYPES:
        raise BadInput(f"unknown announce type {announce[:40]!r} (expected one of {', '.join(ANNOUNCE_TYPES)})")
    return announce


def _categories(item: Element, shape: _Shape) -> list[str | None]:
    if shape is _RSS:
        return [element.text for element in item.iterfind("category")]
    return [element.get("term") for element in item.iterfind(ATOM + "category")]


def split_authors(raw: str | None) -> list[str]:
    """``<dc:creator>`` -> names: "A, B, C", "A, B and C" and "A, B, and C" all give [A, B, C]."""
    text = clean_text(raw, "dc:creator", MAX_TEXT_CHARS)
    if text is None:
        return []
    names = text.split(", ")
    last = names.pop()
    if last.startswith("and ") and names:
        last = last[4:]
    names.extend(last.rsplit(" and ", 1))
    return text_list(names, "dc:creator")


def listing_path(categories: list[str]) -> str:
    """``cs.CL+cs.LG`` for a request, each category checked first (BadInput names the bad one)."""
    if isinstance(categories, str) or not isinstance(categories, (list, tuple)):
        raise BadInput(f"categories must be a list of arXiv categories, got {type(categories).__name__}")
    if not categories:
        raise BadInput("name at least one arXiv category (e.g. cs.CL)")
    if len(categories) > MAX_CATEGORIES:
        raise BadInput(f"at most {MAX_CATEGORIES} categories in one listing, got {len(categories)}")
    for category in categories:
        if not isinstance(category, str) or not _CATEGORY.fullmatch(category):
            raise BadInput(f"not an arXiv category: {category!r:.60} (e.g. cs.CL, math.AG, q-bio.NC)")
    return "+".join(categories)


class ArxivListingClient(LiveSource):
    """The latest listing of some categories, from arXiv's RSS service (RSS or Atom)."""

    def __init__(self, base_url: str = DEFAULT_RSS_URL, http: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep, timeout: float = 60.0, max_attempts: int = 4):
        self.base_url = base_url.rstrip("/")
        self.client = RetryingClient("arXiv RSS", http=http, user_agent="papersift (+arXiv daily listings)",
                                     timeout=timeout, max_attempts=max_attempts, sleep=sleep)

    def listing(self, categories: list[str], fmt: str = "rss") -> Listing:
        """The current listing of ``categories``; BadInput for a bad category or format, before any request."""
        path = listing_path(categories)
        if fmt not in FORMATS:
            raise BadInput(f"feed format must be one of {', '.join(FORMATS)}, got {fmt!r:.40}")
        response = self.client.get(f"{self.base_url}/{fmt}/{path}", what=f"listing {path}")
        status = response.status_code
        try:
            listing = parse_listing(response.content, path)
        except Unavailable as exc:
            if status != 200:
                raise Unavailable(f"arXiv RSS answered HTTP {status} for {path}: {response.text[:200]}") from None
            raise Unavailable(f"arXiv RSS listing {path}: {exc.message}") from None
        if status != 200:
            raise Unavailable(f"arXiv RSS answered HTTP {status} for {path}")
        return listing
