"""The Daily Papers website: server-rendered pages over the community layer.

``mount_website(app, community)`` adds the pages and ``/static`` to the FastAPI app that also
serves the JSON API; the app's error handlers render :func:`render.error_page` for any path
outside ``/api``.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from ..community import Community
from .forms import router as forms_router
from .pages import router as pages_router
from .render import STATIC, error_page

__all__ = ["mount_website", "error_page"]


def mount_website(app: FastAPI, community: Community, cookie_secure: str = "auto") -> None:
    app.state.community = community
    app.state.cookie_secure = cookie_secure
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(forms_router)  # POST routes first: /papers/ID/vote before GET /papers/ID
    app.include_router(pages_router)
