"""Profiles and claimed authorship: /users/NAME, claiming an author position, the admins' claim queue."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
