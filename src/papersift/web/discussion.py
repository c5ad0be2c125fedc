"""The discussion pages and forms: post, reply, edit, delete, react, report; the moderators' queue."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
