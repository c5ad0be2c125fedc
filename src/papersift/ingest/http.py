"""HTTP for the live sources (arXiv OAI-PMH, Hugging Face): GET with bounded retries.

Both services shed load the same way: HTTP 429 or 503 with ``Retry-After`` (seconds or an
HTTP date), and the odd 5xx or dropped connection. `get_with_retries` waits what the server
asks (capped at ``max_wait``), else backs off exponentially, and after ``max_attempts`` raises
:class:`Unavailable` with a message naming the source, so a harvest stops with one line
instead of a traceback. Any other answer (200, 404, 400...) goes back to the caller, which
knows what it means for its protocol.

Only what a wait can cure is retried. No network (a name that does not resolve, no route) or
nothing listening (connection refused) will be the same in a minute, and a person is waiting:
those raise :class:`Unavailable` at once, in plain words naming the host. The waits themselves
can be cut short: :func:`stoppable_sleep` makes a sleep that ends, raising :class:`Stopped`,
as soon as its event is set (a server shutting down).
"""

from __future__ import annotations

import errno
import socket
import threading
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterator, Mapping, Self

import httpx

from papersift.errors import Unavailable

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
GAVE_UP = "{source} answered HTTP {status} for {url} {attempts} times; try again later"
UNREACHABLE = "{source} is unreachable at {url}: {error}"

CONNECT_TIMEOUT = 10.0  # a reachable server accepts within a second; a lost packet costs no longer than this
NAME_FAILED = "no network (name resolution failed)"
# Connection failures that waiting does not cure, by errno, in the words a person reads.
NO_RETRY_ERRNOS = {
    errno.ECONNREFUSED: "connection refused (nothing is listening there)",
    errno.EHOSTUNREACH: "no network (no route to the host)",
    errno.ENETUNREACH: "no network (the network is unreachable)",
    errno.ENETDOWN: "no network (the network is down)",
}
# How resolvers word a failed lookup when the socket.gaierror itself is not in the chain.
NAME_FAILURE_TEXTS = ("Name or service not known", "Temporary failure in name resolution",
                      "nodename nor servname", "No address associated with hostname")

Sleep = Callable[[float], None]


class Stopped(Unavailable):
    """The caller stopped the work (the server is shutting down) while it waited to retry."""


def stoppable_sleep(stop: threading.Event) -> Sleep:
    """A sleep that returns early, raising :class:`Stopped`, once ``stop`` is set."""
    def sleep(seconds: float) -> None:
        if stop.wait(seconds):
            raise Stopped("stopped: shutting down")
    return sleep


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def no_network_reason(exc: httpx.HTTPError) -> str | None:
    """Why retrying ``exc`` cannot help, in plain words; None when a retry may succeed (timeouts,
    resets, a dropped connection: a busy or flaky server)."""
    if not isinstance(exc, httpx.ConnectError):  # ConnectTimeout is a TimeoutException: retried
        return None
    for cause in _chain(exc):
        if isinstance(cause, socket.gaierror):
            return NAME_FAILED
        if isinstance(cause, OSError) and cause.errno in NO_RETRY_ERRNOS:
            return NO_RETRY_ERRNOS[cause.errno]
    text = str(exc)
    return NAME_FAILED if any(words in text for words in NAME_FAILURE_TEXTS) else None


def _host(exc: httpx.HTTPError, url: str) -> str:
    """``host`` or ``host:port`` (when the URL names a port) of the request that failed."""
    try:
        target = exc.request.url
    except RuntimeError:  # an error raised without its request
        target = httpx.URL(url)
    return f"{target.host}:{target.port}" if target.port else target.host


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: either a number or an HTTP date; None when absent/garbled."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


def get_with_retries(http: httpx.Client, url: str, params: Mapping[str, Any] | None = None, *,
                     source: str, max_attempts: int, max_wait: float, sleep: Sleep = time.sleep,
                     backoff: float = 1.0, gave_up: str = GAVE_UP, what: str = "") -> httpx.Response:
    """GET ``url``; retry timeouts, dropped connections and RETRY_STATUSES, at most ``max_attempts``
    tries. No network or a refused connection raises :class:`Unavailable` at once (no_network_reason).

    ``gave_up`` is the final message, formatted with ``source``, ``status``, ``url``,
    ``attempts`` and ``what`` (the caller's name for this request, e.g. "page 3").
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    for attempt in range(1, max_attempts + 1):
        last = attempt == max_attempts
        try:
            response = http.get(url, params=params)
        except httpx.HTTPError as exc:  # DNS, refused, reset, timeout
            reason = no_network_reason(exc)
            if reason is not None:
                raise Unavailable(f"cannot reach {_host(exc, url)}: {reason}") from None
            if last:
                raise Unavailable(UNREACHABLE.format(source=source, url=url,
                                                     error=str(exc) or type(exc).__name__)) from None
            wait = backoff
        else:
            if response.status_code not in RETRY_STATUSES:
                return response
            if last:
                raise Unavailable(gave_up.format(source=source, status=response.status_code, url=url,
                                                 attempts=max_attempts, what=what))
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            wait = backoff if asked is None else asked
        sleep(min(wait, max_wait))
        backoff *= 2
    raise AssertionError("unreachable")  # the last attempt always returns or raises


class RetryingClient:
    """One source's HTTP: an httpx client (given, or made and owned) plus its retry policy."""

    def __init__(self, source: str, *, http: httpx.Client | None = None, user_agent: str = "papersift",
                 timeout: float = 30.0, max_attempts: int = 4, max_wait: float = 60.0,
                 backoff: float = 1.0, sleep: Sleep = time.sleep):
        self.source = source
        self._own_http = http is None  # a client the caller gave is the caller's to close
        # a short connect timeout: a lost connection attempt should not hold a harvest for minutes
        limits = httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT))
        self.http = http or httpx.Client(timeout=limits, follow_redirects=True,
                                         headers={"User-Agent": user_agent})
        self.max_attempts, self.max_wait, self.backoff, self.sleep = max_attempts, max_wait, backoff, sleep

    def get(self, url: str, params: Mapping[str, Any] | None = None, *, gave_up: str = GAVE_UP,
            what: str = "") -> httpx.Response:
        return get_with_retries(self.http, url, params, source=self.source, max_attempts=self.max_attempts,
                                max_wait=self.max_wait, sleep=self.sleep, backoff=self.backoff,
                                gave_up=gave_up, what=what)

    def close(self) -> None:
        if self._own_http:
            self.http.close()

    def __enter__(self) -> "RetryingClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LiveSource:
    """What every live source shares: its RetryingClient (``self.client``), closed with it."""

    client: RetryingClient

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
