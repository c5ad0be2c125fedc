"""The JSON API: papersift's own routes under ``/api/v1`` (reads anonymous; actions and
recommendations with a bearer token), ``/api/health``, and the Hugging Face–compatible routes on
HF's own paths (``/api/daily_papers``, ``/api/papers/...``, ``/papers/{id}.md``)."""

from fastapi import APIRouter

from papersift.api.actions import make_router as make_action_router
from papersift.api.arxiv import make_router as make_arxiv_router
from papersift.api.collections import make_router as make_collections_router
from papersift.api.discussion import make_router as make_discussion_router
from papersift.api.exports import make_router as make_export_router
from papersift.api.hf import make_hf_router
from papersift.api.hf_collections import make_router as make_hf_collections_router
from papersift.api.models import PREFIX
from papersift.api.profiles import make_router as make_profiles_router
from papersift.api.recommendations import IMPORT_PATH, make_router as make_recommendation_router
from papersift.api.routes import health_router, make_read_router
from papersift.api.webhooks import make_router as make_webhooks_router
from papersift.service import LIBRARY_MAX_BYTES, Papersift

__all__ = ["PREFIX", "make_api_router", "LARGER_BODIES"]

# The one API route whose body may exceed the server's cap: a library file (and a little slack)
LARGER_BODIES = {IMPORT_PATH: LIBRARY_MAX_BYTES + 64 * 1024}


def make_api_router(service: Papersift) -> APIRouter:
    router = APIRouter()
    router.include_router(health_router(service))
    # before the read routes: /papers/{id:path}/comments and /claims would match /papers/{id:path} there
    router.include_router(make_discussion_router(service))
    router.include_router(make_profiles_router(service))
    router.include_router(make_read_router(service))
    router.include_router(make_arxiv_router(service))  # New on arXiv: anonymous reads, a token's own view
    router.include_router(make_action_router(service))
    router.include_router(make_webhooks_router(service))  # /me/webhooks before /me/... of recommendations
    router.include_router(make_recommendation_router(service))
    router.include_router(make_export_router(service))
    router.include_router(make_collections_router(service))
    router.include_router(make_hf_collections_router(service))
    router.include_router(make_hf_router(service))  # HF's paths; /papers/{id}.md before the website's pages
    return router
