"""papersift's discussion routes under ``/api/v1``: a paper's comments, posting, editing, reactions, reports."""

from __future__ import annotations

from fastapi import APIRouter

from papersift.service import Papersift


def make_router(service: Papersift) -> APIRouter:
    router = APIRouter()
    return router
