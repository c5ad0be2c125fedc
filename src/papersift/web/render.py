"""Jinja2 rendering: one autoescaping environment, the template filters, and the error page.

Everything harvested or typed by a user reaches HTML only through autoescaping. The one
exception is search snippets, which arrive as HTML with ``<mark>`` around matches; they go
through :func:`marked`, which re-escapes every piece and lets only ``<mark>``/``</mark>`` through.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from papersift.formats.bibtex import bibtex
from papersift.formats.markdown import render as render_markdown
from papersift.service import slug_words
from papersift.web.citation import citation_meta
from papersift.web.session import service, viewer

log = logging.getLogger("papersift.web")

HERE = Path(__file__).resolve().parent
TEMPLATES, STATIC = HERE / "templates", HERE / "static"
MANY_AUTHORS = 5

# The pages need nothing from elsewhere: no CDN, no inline script or style, no framing.
SECURITY_HEADERS = {
    "Content-Security-Policy": ("default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                                "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",  # pages carry per-user state (votes, CSRF tokens)
}


def excerpt(text: str | None, chars: int = 280) -> str:
    text = " ".join((text or "").split())
    if len(text) <= chars:
        return text
    cut = text.rfind(" ", 0, chars)
    return text[: cut if cut > chars // 2 else chars].rstrip(" ,;:.") + "\u2026"


_MARK = re.compile(r"(</?mark>)")


def marked(snippet: str | None) -> Markup:
    """Snippet HTML with only <mark> kept: each text piece is unescaped, then escaped again,
    so it is safe whether or not the producer escaped it (and ``&amp;`` round-trips)."""
    parts = _MARK.split(snippet or "")
    depth, out = 0, []
    for part in parts:
        if part == "<mark>":
            depth += 1
            out.append(part)
        elif part == "</mark>":
            depth -= 1
            out.append(part)
        else:
            out.append(html.escape(html.unescape(part)))
        if depth not in (0, 1):
            break
    if depth != 0:  # unbalanced or nested: show the plain text
        return Markup(html.escape(html.unescape(_MARK.sub("", snippet or ""))))
    return Markup("".join(out))


def sentence(message: str | None) -> str:
    """An error message as a sentence: capital first letter (not for names like "arXiv"), full stop."""
    text = (message or "").strip()
    if not text:
        return ""
    first = text.split()[0]
    if first[:1].islower() and not any(ch.isupper() for ch in first[1:]):
        text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def paper_url(paper_id: str) -> str:
    return "/papers/" + quote(paper_id, safe="/:")


def org_url(name: str) -> str:
    return "/orgs/" + quote(name, safe="")


def author_url(name: str) -> str:
    return "/authors/" + quote(name, safe="")


def slug(paper_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", paper_id)


def url_with(path: str, params: dict, **changes) -> str:
    """``path`` with the query ``params`` updated by ``changes``; empty values are dropped."""
    merged = {**params, **changes}
    items = []
    for key, value in merged.items():
        for v in value if isinstance(value, (list, tuple)) else [value]:
            if v not in (None, "", False):
                items.append((key, str(v)))
    return path + ("?" + urlencode(items) if items else "")


def alternates(feed_path: str, title: str, query: dict | None = None) -> list[dict]:
    """``<link rel=alternate>`` entries (and visible links) for a page's Atom and RSS feeds."""
    return [{"type": "application/atom+xml", "format": "Atom", "title": f"{title} (Atom)",
             "href": url_with(feed_path + ".atom", query or {})},
            {"type": "application/rss+xml", "format": "RSS", "title": f"{title} (RSS)",
             "href": url_with(feed_path + ".rss", query or {})}]


def human_day(day: str | date | None) -> str:
    if not day:
        return ""
    value = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    return f"{value:%a} {value.day} {value:%b %Y}"


def short_day(day: str | None) -> str:
    if not day:
        return ""
    value = date.fromisoformat(day[:10])
    return f"{value.day} {value:%b %Y}"


def compact(n: int | None) -> str:
    n = n or 0
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return str(n)


def _static_version() -> str:
    digest = hashlib.sha1()
    for path in sorted(STATIC.iterdir()):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


# auto_reload off: the templates ship with the package, so no stat() of every template per page
env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                  trim_blocks=True, lstrip_blocks=True, auto_reload=False)
def comment_html(view) -> Markup:
    """A comment's Markdown as safe HTML (formats/markdown.py sanitises it; its mentions become links)."""
    return Markup(render_markdown(view.comment.body, view.mentions))


env.filters.update(comment_html=comment_html, collection_words=slug_words)
env.filters.update(excerpt=excerpt, marked=marked, sentence=sentence, human_day=human_day, short_day=short_day, compact=compact,
                   slug=slug)
env.globals.update(paper_url=paper_url, org_url=org_url, author_url=author_url, url_with=url_with,
                   bibtex=bibtex, citation_meta=citation_meta, MANY_AUTHORS=MANY_AUTHORS, static_version=_static_version())


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    current = viewer(request)
    page = env.get_template(template).render(
        request=request, user=current.user, csrf_token=current.csrf_token, path=request.url.path,
        here=_here(request), section=_section(request.url.path),
        # links to the email digest appear only where it works (smtp.host set)
        email_enabled=service(request).mail.email_enabled, **context)
    response = HTMLResponse(page, status_code=status, headers=SECURITY_HEADERS)
    current.apply(response, request)
    return response


def _section(path: str) -> str:
    """Which main-navigation entry this page belongs to (for aria-current)."""
    if path in ("/", "/papers") or path.startswith(("/papers/date/", "/papers/week/", "/papers/month/")):
        return "feed"
    return path.strip("/").split("/")[0]


def _here(request: Request) -> str:
    """This page's path and query: where a form sends the user back to."""
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


TITLES = {400: "Bad request", 401: "Please log in", 403: "Not allowed", 404: "Not found",
          405: "Method not allowed", 409: "Already done", 410: "Link no longer valid", 413: "Too large",
          422: "Bad request",
          429: "Too many attempts", 500: "Something went wrong", 503: "Temporarily unavailable",
          507: "The server's disk is full"}


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    try:
        return render(request, "error.html", status, title=TITLES.get(status, "Error"), code=status,
                      message=message)
    except Exception:  # the error page must never fail: fall back to plain escaped HTML
        log.exception("the error page failed to render")
        body = (f"<!doctype html><title>{status}</title><h1>{TITLES.get(status, 'Error')}</h1>"
                f"<p>{html.escape(message)}</p><p><a href='/'>Daily papers</a></p>")
        return HTMLResponse(body, status_code=status, headers=SECURITY_HEADERS)
