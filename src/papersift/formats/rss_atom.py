"""RSS 2.0 and Atom 1.0 documents for any list of papers (the daily feed, a period, a search,
an organisation, an author).

Written with the standard library's ElementTree, which escapes text and attributes itself, so
harvested titles and abstracts cannot break the XML; characters XML 1.0 forbids (C0
controls, lone surrogates, U+FFFE/FFFF) are removed first.

Markup. Atom says what its text is (``type="text"``), so harvested text goes in as it is. RSS
does not: readers treat ``<description>`` as HTML and guess for titles and names (feedparser
does), so an abstract holding ``<img onerror=...>`` that is only XML-escaped arrives as live
HTML. Every RSS text field is therefore HTML-escaped before ElementTree XML-escapes it: a
reader decodes it to escaped text and shows ``<img ...>`` (or ``a < b & c``) literally.

Ids are stable: an entry's Atom ``id`` and RSS ``guid`` are the paper's URL on this site
(``/papers/ARXIV_ID``, which never changes for a paper); a feed's Atom ``id`` is its own
canonical URL. Dates: RFC 3339 in Atom, RFC 822 in RSS, always UTC.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from email.utils import format_datetime

ATOM_NS = "http://www.w3.org/2005/Atom"
DC_NS = "http://purl.org/dc/elements/1.1/"
MEDIA_TYPES = {"atom": "application/atom+xml; charset=utf-8", "rss": "application/rss+xml; charset=utf-8"}
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
SUMMARY_CHARS = 600


def xml_text(text: str | None) -> str:
    return _NOT_XML.sub("", text or "")


def one_line(text: str | None) -> str:
    return " ".join(xml_text(text).split())


def html_text(text: str) -> str:
    """Text as HTML that shows exactly this text (for RSS, whose readers read HTML)."""
    return html.escape(text, quote=False)


def parse_time(value: str | None) -> datetime | None:
    """A stored ISO time or date as an aware UTC datetime (None when absent or unreadable)."""
    if not value:
        return None
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=timezone.utc)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class Entry:
    id: str  # the paper's URL on this site
    url: str
    title: str
    summary: str
    authors: list[str]
    updated: datetime
    published: datetime | None = None
    categories: list[str] = field(default_factory=list)


@dataclass
class FeedDoc:
    title: str
    subtitle: str
    self_url: str  # this feed's own URL (Atom id and rel=self)
    page_url: str  # the web page with the same list
    entries: list[Entry]
    updated: datetime | None = None

    @property
    def last_updated(self) -> datetime:
        if self.updated:
            return self.updated
        if self.entries:
            return max(e.updated for e in self.entries)
        return datetime(1970, 1, 1, tzinfo=timezone.utc)  # stable for an empty feed


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs) -> ET.Element:
    node = ET.SubElement(parent, tag, {k.rstrip("_"): v for k, v in attrs.items()})
    if text is not None:
        node.text = text
    return node


# Namespaces are written as plain attributes and prefixed names: ElementTree's namespace
# registry is process-global, and two requests rendering Atom and RSS at once must not race on it.
def atom(doc: FeedDoc) -> bytes:
    a = ""
    feed = ET.Element("feed", {"xmlns": ATOM_NS})
    _sub(feed, a + "id", doc.self_url)
    _sub(feed, a + "title", one_line(doc.title))
    _sub(feed, a + "subtitle", one_line(doc.subtitle))
    _sub(feed, a + "updated", _rfc3339(doc.last_updated))
    _sub(feed, a + "link", rel="self", type="application/atom+xml", href=doc.self_url)
    _sub(feed, a + "link", rel="alternate", type="text/html", href=doc.page_url)
    _sub(_sub(feed, a + "author"), a + "name", "papersift")
    _sub(feed, a + "generator", "papersift")
    for entry in doc.entries:
        node = _sub(feed, a + "entry")
        _sub(node, a + "id", entry.id)
        _sub(node, a + "title", one_line(entry.title), type="text")
        _sub(node, a + "link", rel="alternate", type="text/html", href=entry.url)
        _sub(node, a + "updated", _rfc3339(entry.updated))
        if entry.published:
            _sub(node, a + "published", _rfc3339(entry.published))
        for name in entry.authors:
            if one_line(name):
                _sub(_sub(node, a + "author"), a + "name", one_line(name))
        for term in entry.categories:
            if one_line(term):
                _sub(node, a + "category", term=one_line(term))
        if entry.summary:
            _sub(node, a + "summary", xml_text(entry.summary), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def rss(doc: FeedDoc) -> bytes:
    root = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS, "xmlns:dc": DC_NS})
    channel = _sub(root, "channel")
    _sub(channel, "title", html_text(one_line(doc.title)))
    _sub(channel, "link", doc.page_url)
    _sub(channel, "description", html_text(one_line(doc.subtitle) or one_line(doc.title)))
    _sub(channel, "atom:link", rel="self", type="application/rss+xml", href=doc.self_url)
    _sub(channel, "lastBuildDate", format_datetime(doc.last_updated.astimezone(timezone.utc), usegmt=True))
    _sub(channel, "generator", "papersift")
    for entry in doc.entries:
        item = _sub(channel, "item")
        _sub(item, "title", html_text(one_line(entry.title)))
        _sub(item, "link", entry.url)
        _sub(item, "guid", entry.id, isPermaLink="true" if entry.id == entry.url else "false")
        _sub(item, "pubDate", format_datetime((entry.published or entry.updated).astimezone(timezone.utc),
                                              usegmt=True))
        names = [one_line(n) for n in entry.authors if one_line(n)]
        if names:  # RSS's <author> must be an email address: names go in Dublin Core
            _sub(item, "dc:creator", html_text(", ".join(names)))
        for term in entry.categories:  # a category is a label, never rendered as HTML
            if one_line(term):
                _sub(item, "category", one_line(term))
        if entry.summary:
            _sub(item, "description", html_text(xml_text(entry.summary)))
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def render(doc: FeedDoc, fmt: str) -> bytes:
    if fmt == "atom":
        return atom(doc)
    if fmt == "rss":
        return rss(doc)
    raise ValueError(f"unknown feed format {fmt!r}")
