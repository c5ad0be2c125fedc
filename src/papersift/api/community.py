"""papersift's community routes under ``/api/v1``: discussion, collections, claimed authors, profiles."""

from __future__ import annotations

from fastapi import APIRouter

from papersift.service import Papersift


def make_router(service: Papersift) -> APIRouter:
    router = APIRouter()
    return router
