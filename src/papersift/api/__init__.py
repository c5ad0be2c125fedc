"""The JSON API under ``/api``: read routes (anonymous), actions and recommendations (bearer token)."""

from fastapi import APIRouter

from papersift.api.actions import make_router as make_action_router
from papersift.api.recommendations import make_router as make_recommendation_router
from papersift.api.routes import make_read_router
from papersift.service import Papersift


def make_api_router(service: Papersift) -> APIRouter:
    router = APIRouter()
    router.include_router(make_read_router(service))
    router.include_router(make_action_router(service))
    router.include_router(make_recommendation_router(service))
    return router
