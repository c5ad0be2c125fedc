"""papersift's collection routes under ``/api/v1``: list, read, create, add, reorder, remove."""

from __future__ import annotations

from fastapi import APIRouter

from papersift.service import Papersift


def make_router(service: Papersift) -> APIRouter:
    router = APIRouter()
    return router
