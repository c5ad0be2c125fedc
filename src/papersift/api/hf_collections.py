"""Hugging Face-compatible collection routes: ``huggingface_hub.HfApi(endpoint=..., token=...)``'s
collection calls work unchanged on papersift (papers only; another item type is a clear 400)."""

from __future__ import annotations

from fastapi import APIRouter

from papersift.service import Papersift


def make_router(service: Papersift) -> APIRouter:
    router = APIRouter(tags=["Hugging Face compatible"])
    return router
