"""The HTTP server's wiring: one FastAPI app with the JSON API (``api/``) and the website (``web/``),
and the MCP tools' streamable HTTP transport at ``/mcp`` (``mcp/``, its session manager run by the lifespan).

Errors under ``/api`` are JSON 4xx; anywhere else they render the website's error page. An
unexpected exception is logged in one line with the request's id (server/logs.py) and answered with
a generic 500 (JSON or page) naming that id, never a stack trace. Every request body is capped
(``MAX_BODY_BYTES``, server/middleware.py); HEAD and OPTIONS work on every route. The background
indexer and the scheduler start and stop with it.

There is no Swagger page: it would load swagger-ui from a CDN (a third-party script on this
origin). The machine-readable description is at ``/openapi.json``.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from papersift.api import LARGER_BODIES as API_LARGER_BODIES, make_api_router
from papersift.digest import Digests
from papersift.errors import PapersiftError
from papersift.mcp import HttpEndpoint
from papersift.server.access_log import mask_private_paths
from papersift.server.indexer import BackgroundIndexer
from papersift.server.kernels import single_threaded_kernels
from papersift.server.logs import RequestIds, configure_logging, describe, request_id
from papersift.server.middleware import (
    CatchAll,
    CountedBodyLimit,
    DeclaredBodyLimit,
    HeadAndOptions,
    NoSniff,
    too_large_message,
)
from papersift.server.scheduler import Scheduler
from papersift.service import Papersift
from papersift.web import LARGER_BODIES as WEB_LARGER_BODIES, error_page, mount_website

log = logging.getLogger("papersift.server")
# One cap for every route: the largest thing anyone sends is a web form (64 KB is already
# the forms' own limit, web/session.py); the API takes only small JSON objects.
MAX_BODY_BYTES = 64 * 1024


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def _is_api(request: Request) -> bool:
    path = request.url.path
    return path == "/api" or path.startswith("/api/") or path in ("/openapi.json", "/mcp")


def create_app(service: Papersift, background: bool = True, website: bool = True,
               scheduler: Scheduler | None = None) -> FastAPI:
    """``service``: the front door every route calls, with the settings it was built with (email,
    links, cookies); ``website``: also serve the HTML pages; ``background``: run the indexer;
    ``scheduler``: started and stopped with the app (``papersift run``)."""
    mcp = HttpEndpoint(service)  # the MCP tools over streamable HTTP at /mcp (docs/MCP.md)
    configure_logging()  # after the MCP SDK has put its rich handler on the root logger: see server/logs.py

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        single_threaded_kernels()  # server/kernels.py
        mask_private_paths()  # after uvicorn configured logging, in every worker: server/access_log.py
        indexer = BackgroundIndexer(service) if background else None
        for job in (indexer, scheduler):
            if job:
                job.start()
        async with mcp.running():  # the MCP session manager: without it every /mcp call fails
            yield
        for job in (scheduler, indexer):
            if job:
                job.stop()

    app = FastAPI(title="papersift", version="0.1.0", lifespan=lifespan,
                  description="Search, feeds and similar papers. Errors: {\"error\": {\"code\", \"message\"}}.",
                  docs_url=None, redoc_url=None, openapi_url="/openapi.json")
    respond = _responder(website)
    _install_error_handlers(app, respond, website)
    # the last added runs first: nosniff on everything, HEAD/OPTIONS, then the body caps
    app.add_middleware(CatchAll, handler=lambda request, exc: _unexpected(respond, request, exc))
    larger = {**API_LARGER_BODIES, **(WEB_LARGER_BODIES if website else {})}  # library-file uploads
    app.add_middleware(CountedBodyLimit, limit=MAX_BODY_BYTES, larger=larger)  # counts chunked bodies
    app.add_middleware(DeclaredBodyLimit, limit=MAX_BODY_BYTES, respond=respond, larger=larger)
    app.add_middleware(HeadAndOptions)
    app.add_middleware(NoSniff)
    app.add_middleware(RequestIds)  # outermost: every answer, a 413 or a 500 included, carries the id

    app.state.service = service
    app.include_router(make_api_router(service))
    app.router.routes.append(mcp.route)
    if website:
        digests = Digests(service)
        mount_website(app, service, send_soon=digests.send_soon, send_hook_soon=digests.send_hook_soon)
    return app


def _responder(website: bool):
    """An error as JSON under /api (and without a website), as the site's error page elsewhere."""
    def respond(request: Request, status: int, code: str, message: str):
        if website and not _is_api(request):
            return error_page(request, status, message)
        response = _error(status, code, message)
        if status == 401:
            response.headers["WWW-Authenticate"] = "Bearer"
        return response
    return respond


def _install_error_handlers(app: FastAPI, respond, website: bool) -> None:
    @app.exception_handler(PapersiftError)
    async def _papersift_error(request: Request, exc: PapersiftError):
        if exc.http_status >= 500:  # the server's own trouble (arXiv unreachable, a full disk): the operator's to see
            log.warning("request %s %s %s: %s", request_id(request.scope), request.method, request.url.path[:200],
                        exc.message)
        return respond(request, exc.http_status, exc.code, getattr(exc, "public_message", exc.message))

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


def _unexpected(respond, request: Request, exc: Exception):
    rid = request_id(request.scope)
    # one line, no traceback rendered on the event loop (server/logs.py); the whole one only at DEBUG
    log.error("request %s %s %s failed: %s", rid, request.method, request.url.path[:200], describe(exc))
    log.debug("request %s traceback", rid, exc_info=exc)
    return respond(request, 500, "internal_error",
                   f"something went wrong on our side; it has been logged as request {rid}. Please try again later.")
