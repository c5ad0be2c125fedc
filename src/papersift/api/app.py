"""The JSON API (FastAPI), and the app that also serves the website (``web/``).

Every route calls a service function. Errors under ``/api`` are JSON 4xx; anywhere else they
render the website's error page. An unexpected exception is logged with its traceback and
answered with a generic 500 (JSON or page), never a stack trace.

Every request body is capped (``MAX_BODY_BYTES``, see api/middleware.py); HEAD and OPTIONS work
on every route. The API's reads go through the community catalog, as the pages do: the same
upvote counts (source + this site's votes), and papers an admin hid are left out.

There is no Swagger page: it would load swagger-ui from a CDN (a third-party script on this
origin). The machine-readable description is at ``/openapi.json``.
"""

from __future__ import annotations

import logging
import threading
from contextlib import asynccontextmanager
from typing import Optional

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.body_limit import RequestBodyLimitMiddleware

from ..community import Community
from ..config import Config, load_config
from ..digest import Digests
from ..errors import BadInput, PapersiftError
from ..index.query import Filters
from ..serialize import feed_page_json, hit_json, search_json
from ..service import Papersift
from ..web import error_page, mount_website
from .actions import make_router
from .middleware import DeclaredBodyLimit, HeadAndOptions, NoSniff, too_large_message

log = logging.getLogger("papersift.api")
MAX_QUERY_LENGTH = 2000
# One cap for every route: the largest thing anyone sends is a web form (64 KB is already
# the forms' own limit, web/session.py); the API takes only small JSON objects.
MAX_BODY_BYTES = 64 * 1024


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


class CatchAll:
    """Turns an unexpected exception into the generic 500 answer (page or JSON).

    A plain ``exception_handler(Exception)`` would answer too, but Starlette then re-raises,
    and the server drops the keep-alive connection; here the exception ends with the answer.
    """

    def __init__(self, app, handler):
        self.app, self.handler = app, handler

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def tracking_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # half a response is out: nothing sensible left to send
                raise
            await self.handler(Request(scope), exc)(scope, receive, send)


class BackgroundIndexer:
    """Catches the indexes up with the store while the server runs (new papers, embeddings)."""

    def __init__(self, service: Papersift, interval: float = 5.0):
        self.service, self.interval = service, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="papersift-indexer", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                indexes = self.service.indexes
                indexes.sync_lexical()
                busy = indexes.sync_vectors(limit=256) > 0 or indexes.pending_vectors() > 0
            except Exception:  # keep serving; the next round retries
                log.exception("background indexing failed")
                busy = False
            if not busy:
                self._stop.wait(self.interval)


# Hugging Face's spelling of the feed sorts, accepted beside papersift's own
DAILY_SORT_ALIASES = {"publishedAt": "published", "newest": "published"}


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path == "/api" or path.startswith("/api/") or path == "/openapi.json"


def create_app(service: Papersift, background: bool = True, community: Community | None = None,
               website: bool = True, cookie_secure: str = "auto", config: Config | None = None,
               scheduler=None) -> FastAPI:
    """``community``: the accounts/votes layer (built from ``service`` if not given);
    ``website``: also serve the HTML pages; ``cookie_secure``: auto|true|false (see web/session.py);
    ``config``: email, links and schedule (``load_config()`` if not given); ``scheduler``: started
    and stopped with the app (``papersift run``)."""
    hub = community or Community(service)
    config = config or load_config()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        indexer = BackgroundIndexer(service) if background else None
        if indexer:
            indexer.start()
        if scheduler:
            scheduler.start()
        yield
        if scheduler:
            scheduler.stop()
        if indexer:
            indexer.stop()

    app = FastAPI(title="papersift", version="0.1.0", lifespan=lifespan,
                  description="Search, feeds and similar papers. Errors: {\"error\": {\"code\", \"message\"}}.",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")

    def respond(request: Request, status: int, code: str, message: str):
        if website and not _is_api(request):
            return error_page(request, status, message)
        response = _error(status, code, message)
        if status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response

    @app.exception_handler(PapersiftError)
    async def _papersift_error(request: Request, exc: PapersiftError):
        return respond(request, exc.http_status, exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path"))
        return respond(request, 400, "bad_input", f"{where}: {first.get('msg', 'invalid value')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        code = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}.get(exc.status_code, "error")
        if exc.status_code == 413:  # a body without Content-Length that grew past the cap
            return respond(request, 413, code, too_large_message(MAX_BODY_BYTES))
        message = {404: f"there is nothing at {request.url.path[:200]}"}.get(exc.status_code, str(exc.detail))
        return respond(request, exc.status_code, code, message if website and not _is_api(request)
                       else str(exc.detail))

    def unexpected(request: Request, exc: Exception):
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return respond(request, 500, "internal_error",
                       "something went wrong on our side; it has been logged. Please try again later.")

    # the last added runs first: nosniff on everything, HEAD/OPTIONS, then the body caps
    app.add_middleware(CatchAll, handler=unexpected)
    app.add_middleware(RequestBodyLimitMiddleware, max_body_size=MAX_BODY_BYTES)  # counts chunked bodies
    app.add_middleware(DeclaredBodyLimit, limit=MAX_BODY_BYTES, respond=respond)
    app.add_middleware(HeadAndOptions)
    app.add_middleware(NoSniff)

    @app.get("/api/health")
    def health():
        return {"status": "ok", "papers": service.store.count_papers()}

    @app.get("/api/search")
    def search(
        q: str = Query(..., description='Query: words, "phrase", -exclude, author:NAME, cat:cs.LG, org:NAME'),
        mode: str = "hybrid", sort: str = "relevance",
        date_from: Optional[str] = Query(None, alias="from"), date_to: Optional[str] = Query(None, alias="to"),
        cat: list[str] = Query(default_factory=list), org: Optional[str] = None,
        has_code: Optional[bool] = None, page: int = 1, per_page: int = 10,
    ):
        if len(q) > MAX_QUERY_LENGTH:
            raise BadInput(f"query too long ({len(q)} characters, at most {MAX_QUERY_LENGTH})")
        filters = Filters(date_from=date_from, date_to=date_to, categories=cat, organization=org, has_code=has_code)
        view = hub.catalog.search(None, q, filters, sort=sort, page=page, per_page=per_page, mode=mode)
        return search_json(view.results, {c.paper.id: c.upvotes for c in view.cards})

    @app.get("/api/papers/{paper_id:path}/similar")
    def similar(paper_id: str, k: int = 10):
        return {"id": paper_id, "results": [hit_json(h, c.upvotes) for h, c in hub.catalog.similar(None, paper_id, k)]}

    @app.get("/api/papers/{paper_id:path}")
    def paper(paper_id: str):
        card = hub.catalog.card(None, paper_id)  # 404 for a paper an admin hid
        return card.paper.to_dict() | {"upvotes": card.upvotes}

    @app.get("/api/daily_papers")
    def daily_papers(
        date: Optional[str] = None, week: Optional[str] = None, month: Optional[str] = None,
        sort: str = Query("trending", description="trending | upvotes | published (also publishedAt, newest)"),
        p: int = Query(0, description="Page, counted from 0 as on Hugging Face."),
        limit: int = 50,
    ):
        if p < 0:
            raise BadInput("p must be 0 or more")
        # upvotes include this site's votes; papers an admin hid are left out
        return feed_page_json(hub.catalog.feed_page(None, date, week, month, sort=DAILY_SORT_ALIASES.get(sort, sort),
                                                    page=p + 1, limit=limit))

    app.state.config = config
    app.include_router(make_router(hub))
    if website:
        mount_website(app, hub, cookie_secure, Digests(service, config))
    return app
