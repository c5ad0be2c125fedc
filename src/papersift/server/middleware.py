"""Pure ASGI middleware that every response passes through, whatever route answers.

* :class:`DeclaredBodyLimit`: a request whose ``Content-Length`` is over the cap gets its 413
  (JSON under /api, the error page elsewhere) before anything reads a byte of the body.
  Bodies without a length (chunked) are counted as they arrive by :class:`CountedBodyLimit`
  (Starlette's responder), installed just inside this one (see ``create_app``). A few paths (a
  library file's upload) have a larger cap.
* :class:`HeadAndOptions`: HEAD is answered as GET without the body (same status and headers);
  OPTIONS answers 204 with the ``Allow`` header of the path's routes.
* :class:`NoSniff`: ``X-Content-Type-Options: nosniff`` on every response (JSON, static files,
  feeds, errors), not only on the pages that set their own security headers.
"""

from __future__ import annotations

from typing import Callable

from fastapi import Request
from starlette.datastructures import Headers
from starlette.middleware.body_limit import RequestBodyLimitResponder
from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

Respond = Callable[[Request, int, str, str], Response]


def _kb(n: int) -> str:
    return f"{n // 1024} KB" if n >= 1024 else f"{n} bytes"


class DeclaredBodyLimit:
    """413 for a declared ``Content-Length`` over ``limit``; the body is never read.

    The answer closes the connection: the client may still be sending, and reading (even only
    to discard) what it sends is what the limit is there to avoid."""

    def __init__(self, app: ASGIApp, limit: int, respond: Respond, larger: dict[str, int] | None = None):
        self.app, self.limit, self.respond, self.larger = app, limit, respond, larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = Headers(scope=scope).get("content-length")
        limit = self.larger.get(scope.get("path", ""), self.limit)
        if declared is not None and _over(declared, limit):
            message = f"{too_large_message(limit)}: Content-Length is {declared[:20]}"
            response = self.respond(Request(scope), 413, "too_large", message)
            response.headers["Connection"] = "close"
            return await response(scope, receive, send)
        await self.app(scope, receive, send)


class CountedBodyLimit:
    """Counts bodies as they arrive (chunked ones have no length to check first): Starlette's
    responder, with the cap chosen by path like :class:`DeclaredBodyLimit`."""

    def __init__(self, app: ASGIApp, limit: int, larger: dict[str, int] | None = None):
        self.app, self.limit, self.larger = app, limit, larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.larger.get(scope.get("path", ""), self.limit)
        await RequestBodyLimitResponder(self.app, limit)(scope, receive, send)


def _over(declared: str, limit: int) -> bool:
    # h11 lets only ASCII digits through; the checks keep int() cheap and exact behind any server
    if not (declared.isascii() and declared.isdigit()) or len(declared) > 18:
        return True
    return int(declared) > limit


def too_large_message(limit: int) -> str:
    return f"the request body is too large (at most {_kb(limit)})"


class HeadAndOptions:
    """HEAD as GET minus the body; OPTIONS as 204 + ``Allow`` (routes register GET, POST...)."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method") if scope["type"] == "http" else None
        if method == "HEAD":
            return await self.app(dict(scope, method="GET"), receive, _without_body(send))
        if method == "OPTIONS":
            allowed = _allowed_methods(scope)
            if allowed:
                headers = {"Allow": ", ".join(sorted(allowed))}
                return await Response(status_code=204, headers=headers)(scope, receive, send)
        await self.app(scope, receive, send)


def _without_body(send: Send) -> Send:
    """Forward the response with every body chunk emptied (headers, Content-Length included, kept)."""

    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _allowed_methods(scope: Scope) -> set[str]:
    """The methods the app would route at this path (empty: no route has the path).

    Each method is probed the way the router matches (included routers nest, so a route's
    own method list is not enough): the first route that fully matches wins."""
    routes = getattr(getattr(scope.get("app"), "router", None), "routes", [])
    methods: set[str] = set()
    for method in _METHODS:
        probe = dict(scope, method=method)
        route = next((r for r in routes if r.matches(probe)[0] is Match.FULL), None)
        if route is not None and (method == "GET" or not isinstance(route, Mount)):  # static files: read-only
            methods.add(method)
    if "GET" in methods:
        methods.add("HEAD")
    return methods | {"OPTIONS"} if methods else set()


class NoSniff:
    """``X-Content-Type-Options: nosniff`` on every HTTP response that does not set it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"x-content-type-options" for k, _ in headers):
                    headers.append((b"x-content-type-options", b"nosniff"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_header)


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
