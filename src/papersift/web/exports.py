"""Downloads and what crawlers read: ``/export/...``, ``/sitemap.xml``, ``/robots.txt``.

| route | the papers of |
|---|---|
| ``/export/papers/ID?format=`` | one paper |
| ``/export/date/2026-05-15``, ``/export/week/2026-W20``, ``/export/month/2026-05`` (``&sort=``) | that feed, all its pages |
| ``/export/search?q=&from=&to=&cat=&org=&has_code=&sort=&limit=`` | ``/search`` with them (100 results; ``limit`` <= 1000) |
| ``/export/library`` | your saved papers (logged in) |

``format`` is bibtex (the default), ris, csl-json or csv; another name is a 400 that lists them.
A download is an attachment with a file name (``papersift-week-2026-W20.bib``). The sitemap lists
the home page, every feed day with a visible paper and every paper anyone may see; beyond 50,000
URLs ``/sitemap.xml`` is a sitemap index over ``/sitemap-1.xml``, ``/sitemap-2.xml``, ...
"""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response

from papersift.errors import NotFound
from papersift.formats import sitemap
from papersift.formats.exports import render
from papersift.model import normalize_paper_id
from papersift.service import MAX_RESULTS, ExportTarget
from papersift.web.arxiv import categories_param
from papersift.web.pages import FEED_SORTS, feed_sort, int_param, search_args, whole_number
from papersift.web.session import login_redirect, service, site_base, viewer

router = APIRouter(include_in_schema=False)
CACHE_SECONDS = 900
# the pages a crawler has no business in: infinite (search), personal, or forms
ROBOTS_DISALLOW = ("/api/", "/export/", "/search", "/feeds/search", "/library", "/settings", "/admin", "/login",
                   "/signup", "/submit", "/subscribe")


def _download(request: Request, target: ExportTarget, user=None, private: bool = False) -> Response:
    body, content_type, filename = render(service(request), user, target, request.query_params.get("format") or "bibtex")
    headers = {"Content-Disposition": f'attachment; filename="{filename}"', "X-Content-Type-Options": "nosniff",
               "Cache-Control": "private, no-store" if private else f"public, max-age={CACHE_SECONDS}"}
    return Response(body, media_type=content_type, headers=headers)


@router.get("/export/papers/{paper_id:path}")
def export_paper(request: Request, paper_id: str):
    return _download(request, ExportTarget.paper(normalize_paper_id(paper_id)))


def _period(request: Request, kind: str, label: str):
    sort = FEED_SORTS[feed_sort(request.query_params.get("sort"))]
    return _download(request, ExportTarget.period(kind, label, sort))


@router.get("/export/date/{day}")
def export_day(request: Request, day: str):
    return _period(request, "date", day)


@router.get("/export/week/{week}")
def export_week(request: Request, week: str):
    return _period(request, "week", week)


@router.get("/export/month/{month}")
def export_month(request: Request, month: str):
    return _period(request, "month", month)


@router.get("/export/arxiv/{kind}/{label}")
def export_arxiv(request: Request, kind: str, label: str):
    params = request.query_params
    return _download(request, ExportTarget.arxiv(kind, label, categories_param(request), params.get("tab") or "new"))


@router.get("/export/search")
def export_search(request: Request):
    q, filters, sort = search_args(request.query_params)
    limit = int_param(request.query_params.get("limit"), "limit", default=100, high=MAX_RESULTS)
    return _download(request, ExportTarget.search(q, filters, sort, limit))


@router.get("/export/library")
def export_library(request: Request):
    user = viewer(request).user
    if user is None:
        return login_redirect(request, "/library")
    return _download(request, ExportTarget.library(), user, private=True)


# ---- crawlers
def sitemap_urls(request: Request) -> list[sitemap.Url]:
    base = site_base(request)
    exports = service(request).exports
    urls = [sitemap.Url(base + "/")]
    urls += [sitemap.Url(f"{base}/papers/date/{day}") for day in exports.feed_days()]
    urls += [sitemap.Url(base + "/papers/" + quote(pid, safe="/:")) for pid in exports.public_paper_ids()]
    return urls


def sitemap_file(urls: list[sitemap.Url], base: str, part: int | None, per_file: int = sitemap.MAX_URLS) -> bytes:
    """``part`` None: /sitemap.xml (the URLs themselves, or an index when they need several files)."""
    files = sitemap.chunks(len(urls), per_file)
    if part is None:
        if files == 1:
            return sitemap.urlset(urls)
        return sitemap.sitemap_index([f"{base}/sitemap-{n}.xml" for n in range(1, files + 1)])
    if part > files:
        raise NotFound(f"no sitemap file {part}: there {'is' if files == 1 else 'are'} {files}")
    return sitemap.urlset(urls[(part - 1) * per_file: part * per_file])


def _xml(body: bytes) -> Response:
    return Response(body, media_type=sitemap.MEDIA_TYPE,
                    headers={"Cache-Control": f"public, max-age={CACHE_SECONDS}", "X-Content-Type-Options": "nosniff"})


@router.get("/sitemap.xml")
def sitemap_root(request: Request):
    return _xml(sitemap_file(sitemap_urls(request), site_base(request), None))


@router.get("/sitemap-{part}.xml")
def sitemap_part(request: Request, part: str):
    number = whole_number(part, "sitemap file number", high=10_000)
    return _xml(sitemap_file(sitemap_urls(request), site_base(request), number))


@router.get("/robots.txt")
def robots(request: Request):
    lines = ["User-agent: *", *(f"Disallow: {path}" for path in ROBOTS_DISALLOW), "Allow: /", "",
             f"Sitemap: {site_base(request)}/sitemap.xml", ""]
    return PlainTextResponse("\n".join(lines), headers={"Cache-Control": f"public, max-age={CACHE_SECONDS}"})
