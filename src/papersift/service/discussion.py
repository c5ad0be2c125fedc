"""The discussion of each paper: comments in Markdown, replies one level deep, reactions, reports and
moderation, and the mail it causes (replies, mentions, a verified author's paper discussed)."""

from __future__ import annotations

from papersift.model import User
from papersift.service.catalog import Catalog


class Discussion:
    def __init__(self, catalog: Catalog, settings, clock):
        self.catalog, self.store, self.settings, self.clock = catalog, catalog.store, settings, clock

    def thread(self, viewer: User | None, paper_id: str):
        """The paper's discussion as ``viewer`` may see it (None until the discussion exists)."""
        return None

    def recent_by_user(self, viewer: User | None, author: User, limit: int = 10) -> list:
        """``author``'s latest comments that ``viewer`` may see, newest first (for the profile page)."""
        return []
