"""Who is calling a tool, and how papersift's errors become tool errors.

The caller is resolved on every tool call, the same way the JSON API does it
(``accounts.user_for_token``): over HTTP from that request's ``Authorization: Bearer <api token>``
header, over stdio from the token the process was started with (``papersift mcp --token``). No
token means anonymous: the public tools answer as the website does for a visitor, the personal
ones return a tool error that says a token is needed.

A tool whose annotations say it writes (``read_only_hint`` false) is registered through
:func:`writes`: while it runs, resolving the caller demands a read-and-write token, so a read-only
token gets a tool error from every such tool without each one having to ask.
"""

from __future__ import annotations

import functools
from contextvars import ContextVar
from typing import Callable, TypeVar

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError

from papersift.errors import PapersiftError
from papersift.model import User
from papersift.service import Papersift

NEEDS_TOKEN = ("this tool needs a token: send 'Authorization: Bearer <api token>' over HTTP, or start "
               "`papersift mcp --token TOKEN` (or set PAPERSIFT_TOKEN); create a token at /settings "
               "or with `papersift admin create-token EMAIL`")

F = TypeVar("F", bound=Callable)
_WRITING: ContextVar[bool] = ContextVar("papersift_mcp_writing", default=False)


def writes(fn: F) -> F:
    """A tool that changes the reader's data: the caller it resolves must hold a read-and-write token."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        mark = _WRITING.set(True)
        try:
            return fn(*args, **kwargs)
        finally:
            _WRITING.reset(mark)

    return call  # type: ignore[return-value]


def guarded(fn: F) -> F:
    """Let papersift's own errors (bad date, unknown id, bad query syntax...) reach the caller as a
    tool error with their message; the SDK would otherwise hide them as an unexpected crash."""

    @functools.wraps(fn)
    def call(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except PapersiftError as exc:
            raise ToolError(getattr(exc, "public_message", exc.message)) from None

    return call  # type: ignore[return-value]


def tool_description(fn: Callable, personal: bool = False, write: bool = False) -> str:
    """The tool's docstring as one paragraph (clients show it as it comes), saying whether it needs a
    token, and for a write one that is not read-only."""
    text = " ".join((fn.__doc__ or "").split())
    if not personal:
        return text
    return f"{text} Needs an API token{' with the write scope' if write else ''} (the reader's own data)."


class Readers:
    """Who a tool call comes from. ``token``: the stdio process's token (HTTP calls ignore it)."""

    def __init__(self, hub: Papersift, token: str | None = None):
        self.hub, self.token = hub, (token or "").strip() or None

    def secret(self, ctx: Context | None) -> str | None:
        headers = _headers(ctx)
        if headers is None:  # stdio: the process's own token
            return self.token
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        return (token.strip() or None) if scheme.lower() == "bearer" else None

    def viewer(self, ctx: Context | None) -> User | None:
        """The caller, or None when anonymous; a wrong or revoked token is an error, not anonymity,
        so that a misconfigured client hears about it on its first call."""
        secret = self.secret(ctx)
        return None if secret is None else self.hub.accounts.user_for_token(secret, write=_WRITING.get())

    def reader(self, ctx: Context | None) -> User:
        user = self.viewer(ctx)
        if user is None:
            raise ToolError(NEEDS_TOKEN)
        return user


def _headers(ctx: Context | None):
    if ctx is None:
        return None
    try:
        return ctx.headers
    except ValueError:  # no request (a direct call outside a session)
        return None
