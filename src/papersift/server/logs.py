"""The server's log: one line a record, and an id for every request.

A failed request is logged as one line: its id (also sent back in ``X-Request-Id`` and in the 500's
message, so a user's report can be matched to the log), the route, the exception and where it was
raised. No traceback is rendered: the MCP SDK installs rich's traceback handler on the root logger,
which took 1-7 s of the event loop per error (syntax-highlighted source of every frame) while every
other request waited. The whole traceback is logged too, at DEBUG level (logger ``papersift.server``),
for whoever turns that on.
"""

from __future__ import annotations

import logging
import re
import secrets
import sys
import traceback

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID = "X-Request-Id"
_GIVEN_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")  # a proxy's id is kept when it is this tame
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLineFormatter(logging.Formatter):
    """Records on one line; an exception as its type, message and the place it was raised."""

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno <= logging.DEBUG:  # asked for on purpose: the whole traceback
            return super().format(record)
        exc_info, record.exc_info, record.exc_text = record.exc_info, None, None
        try:
            line = super().format(record)
        finally:
            record.exc_info = exc_info
        if exc_info and exc_info[1] is not None:
            line = f"{line} | {describe(exc_info[1])}"
        return line.replace("\n", " | ")


def describe(exc: BaseException) -> str:
    """``Type: message (at file.py:12 in function)``, without reading any source file."""
    message = " ".join(str(exc).split())[:300]
    frames = list(traceback.walk_tb(exc.__traceback__))
    where = ""
    if frames:
        frame, line = frames[-1]
        where = f" (at {frame.f_code.co_filename.rsplit('/', 1)[-1]}:{line} in {frame.f_code.co_name})"
    return f"{type(exc).__name__}: {message}{where}"


def configure_logging() -> None:
    """One plain stderr handler on the root logger in place of any rich one (idempotent; levels untouched)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if type(handler).__name__ == "RichHandler":
            root.removeHandler(handler)
    if not any(getattr(h, "papersift", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(OneLineFormatter(FORMAT))
        handler.papersift = True  # type: ignore[attr-defined]
        root.addHandler(handler)


def request_id(scope: Scope) -> str:
    return scope.get("state", {}).get("request_id", "-")


class RequestIds:
    """Gives each HTTP request an id (a sane incoming ``X-Request-Id``, else a new one) and echoes it."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        given = next((v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-request-id"), "")
        rid = given if _GIVEN_ID.fullmatch(given) else secrets.token_hex(6)
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                MutableHeaders(scope=message)[REQUEST_ID] = rid
            await send(message)

        await self.app(scope, receive, send_with_id)
