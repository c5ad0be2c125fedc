"""Feed pages for visitors who are not logged in, rendered once per change of what they show.

A feed page is 50 cards through Jinja: ~15 ms of Python each on the 80K corpus, the same bytes for
every anonymous visitor, and a third of a public site's requests (docs/BENCHMARKS.md, load test). So
its body is kept, keyed by its URL, today's date and the front door's stamp
(``Catalog.anonymous_stamp``: the store's ``data_stamp``, which changes at every commit by anyone:
this process, another worker, a CLI harvest or an admin command; one cheap query per request).

Never kept: a logged-in viewer's page (their votes, saves, name), a page that is not a 200, and a
page holding the viewer's CSRF token (none of the anonymous feed does; checked, not assumed).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Callable

from fastapi import Request
from fastapi.responses import HTMLResponse, Response

from papersift.web.render import SECURITY_HEADERS
from papersift.web.session import service, viewer

PAGES_KEPT = 256  # ~50 KB each: ~13 MB at most


class AnonymousPages:
    def __init__(self, size: int = PAGES_KEPT):
        self.size = size
        self._lock = threading.Lock()
        self._bodies: OrderedDict[tuple, bytes] = OrderedDict()

    def respond(self, request: Request, render: Callable[[], Response]) -> Response:
        """The kept page for this URL when the viewer is anonymous and nothing changed; else ``render()``."""
        current = viewer(request)
        if current.user is not None:
            return render()
        today = datetime.now(timezone.utc).date().isoformat()
        key = (request.url.path, request.url.query, today, service(request).catalog.anonymous_stamp())
        with self._lock:
            body = self._bodies.get(key)
            if body is not None:
                self._bodies.move_to_end(key)
        if body is None:
            response = render()
            page = bytes(response.body)  # a rendered page's body is bytes already (no copy); typed to allow a view
            if response.status_code == 200 and current.csrf_token.encode() not in page:
                self._keep(key, page)
            return response
        response = HTMLResponse(body, headers=SECURITY_HEADERS)
        current.apply(response, request)  # a first visit still gets its CSRF cookie
        return response

    def _keep(self, key: tuple, body: bytes) -> None:
        with self._lock:
            self._bodies[key] = body
            while len(self._bodies) > self.size:
                self._bodies.popitem(last=False)  # the least recently used


def anonymous_pages(request: Request) -> AnonymousPages:
    """This site's cache (one per app: two apps in a process serve different stores)."""
    return request.app.state.anonymous_pages
