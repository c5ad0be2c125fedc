"""papersift's profile and authorship routes under ``/api/v1``: a user's public page, claims."""

from __future__ import annotations

from fastapi import APIRouter

from papersift.service import Papersift


def make_router(service: Papersift) -> APIRouter:
    router = APIRouter()
    return router
