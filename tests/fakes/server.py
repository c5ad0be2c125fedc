"""A real HTTP server on 127.0.0.1 whose answers each test scripts.

Clients under test talk real HTTP (httpx, sockets, status codes, headers) to it, so retries,
Retry-After, timeouts and paging are exercised exactly as against the live services::

    fake_http.script("/oai", Reply(503, {"Retry-After": "7"}), Reply(200, body=page1))
    fake_http.script("/oai", Reply(200, body=page2), query={"resumptionToken": "tok-2"})

Replies for a route are served in order; the last one repeats. A route with ``query`` matches
only requests whose query string contains those items, and wins over a route without.
Every request is recorded in ``fake_http.requests``. :data:`DROP` closes the connection without
an answer, as a server that dies or resets mid-request does.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

FIXTURES = Path(__file__).resolve().parent


def fixture(name: str) -> bytes:
    """The bytes of a recorded-shape response in tests/fakes/."""
    return (FIXTURES / name).read_bytes()


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | str = b""


DROP = Reply(0)  # no status line at all: the connection is closed unanswered


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


def _as_reply(value) -> Reply:
    if isinstance(value, Reply):
        return value
    if isinstance(value, (bytes, str)):
        return Reply(200, {}, value)
    status, headers, body = value
    return Reply(status, dict(headers or {}), body)


class FakeHTTP:
    def __init__(self) -> None:
        self._routes: list[tuple[str, dict[str, str] | None, deque[Reply]]] = []
        self._lock = threading.Lock()
        self.requests: list[Seen] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as real servers do

            def do_GET(self) -> None:  # noqa: N802 (http.server naming)
                fake._serve(self)

            def log_message(self, *args) -> None:  # keep pytest output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"

    def script(self, path: str, *replies, query: dict[str, str] | None = None) -> None:
        """Answer GET ``path`` (optionally only with ``query`` items) with ``replies`` in order."""
        if not replies:
            raise ValueError("script at least one reply")
        with self._lock:
            self._routes.append((path, dict(query) if query else None, deque(map(_as_reply, replies))))

    def requests_to(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    def _pick(self, path: str, query: dict[str, str]) -> Reply:
        with self._lock:
            matching = [(q, replies) for p, q, replies in self._routes
                        if p == path and (q is None or all(query.get(k) == v for k, v in q.items()))]
            if not matching:
                return Reply(404, {"Content-Type": "text/plain"}, f"fake_http: nothing scripted for {path} {query}")
            matching.sort(key=lambda item: item[0] is None)  # query-specific routes first
            replies = matching[0][1]
            return replies.popleft() if len(replies) > 1 else replies[0]

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        with self._lock:
            self.requests.append(Seen("GET", parts.path, query, dict(handler.headers.items())))
        reply = self._pick(parts.path, query)
        if reply.status == DROP.status:
            handler.close_connection = True
            return
        body = reply.body.encode("utf-8") if isinstance(reply.body, str) else reply.body
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
