"""Claimed authorship and profiles: a user claims an author position on a paper, verified at once where
the site can prove it and otherwise queued for an admin; each user's public page."""

from __future__ import annotations

from papersift.model import User
from papersift.service.catalog import Catalog


class Authorship:
    def __init__(self, catalog: Catalog, settings, clock):
        self.catalog, self.store, self.settings, self.clock = catalog, catalog.store, settings, clock

    def paper_authors(self, viewer: User | None, paper_id: str) -> dict:
        """Author position -> the verified user who claimed it (claims their authors hid left out)."""
        return {}
