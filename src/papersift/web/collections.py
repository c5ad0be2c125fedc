"""Collection pages and forms: a collection's page, RSS/Atom and exports; create, edit, add, reorder,
remove, upvote."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
