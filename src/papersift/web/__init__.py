"""The Daily Papers website: server-rendered pages over the front door (``papersift.service``).

``mount_website(app, service)`` adds the pages and ``/static`` to the FastAPI app that also
serves the JSON API; the app's error handlers render :func:`render.error_page` for any path
outside ``/api``.
"""

from __future__ import annotations

from typing import Callable

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from papersift.service import Papersift
from papersift.web.arxiv import router as arxiv_router
from papersift.web.collections import router as collections_router
from papersift.web.discussion import router as discussion_router
from papersift.web.exports import router as exports_router
from papersift.web.for_you import router as for_you_router
from papersift.web.forms import router as forms_router
from papersift.web.page_cache import AnonymousPages
from papersift.web.pages import router as pages_router
from papersift.web.profiles import router as profiles_router
from papersift.web.render import STATIC, error_page
from papersift.web.rss_atom import router as feeds_router
from papersift.web.session import UPLOAD_BYTES
from papersift.web.settings import router as settings_router
from papersift.web.subscribe import router as subscribe_router
from papersift.web.webhooks import router as webhooks_router

__all__ = ["mount_website", "error_page", "LARGER_BODIES"]

# Paths whose requests may be larger than the server's cap for every other route: a library file
LARGER_BODIES = {"/for-you/start/library": UPLOAD_BYTES}


def mount_website(app: FastAPI, service: Papersift, send_soon: Callable[[int | None], None] | None = None,
                  send_hook_soon: Callable[[int | None], None] | None = None) -> None:
    """``send_soon``: sends one outbox message at once (a confirmation mail; see ``subscribe.send_soon``).
    Everything else, the settings included (links' base URL, cookies), comes from ``service``."""
    app.state.service = service
    app.state.send_soon = send_soon
    app.state.send_hook_soon = send_hook_soon  # posts one webhook delivery at once ("send a test")
    app.state.anonymous_pages = AnonymousPages()
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(forms_router)  # POST routes first: /papers/ID/vote before GET /papers/ID
    app.include_router(discussion_router)  # POST /papers/ID/comments... before GET /papers/ID
    app.include_router(collections_router)
    app.include_router(profiles_router)
    app.include_router(for_you_router)
    app.include_router(subscribe_router)
    app.include_router(settings_router)
    app.include_router(webhooks_router)
    app.include_router(arxiv_router)
    app.include_router(feeds_router)
    app.include_router(exports_router)  # /export/..., /sitemap.xml, /robots.txt
    app.include_router(pages_router)
