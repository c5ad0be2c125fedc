"""The Daily Papers website: server-rendered pages over the community layer.

``mount_website(app, community)`` adds the pages and ``/static`` to the FastAPI app that also
serves the JSON API; the app's error handlers render :func:`render.error_page` for any path
outside ``/api``.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ..community import Community
from ..digest import Digests
from .feeds import router as feeds_router
from .forms import router as forms_router
from .pages import router as pages_router
from .render import STATIC, error_page
from .subscribe import router as subscribe_router

__all__ = ["mount_website", "error_page"]


def mount_website(app: FastAPI, community: Community, cookie_secure: str = "auto",
                  digests: Digests | None = None) -> None:
    """``digests``: subscriptions and email (``app.state.config`` gives links their base URL)."""
    app.state.community = community
    app.state.cookie_secure = cookie_secure
    app.state.digests = digests
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(forms_router)  # POST routes first: /papers/ID/vote before GET /papers/ID
    app.include_router(subscribe_router)
    app.include_router(feeds_router)
    app.include_router(pages_router)
