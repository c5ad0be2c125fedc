"""Collections: a user's public or private lists of papers with a note each (the library is the
private one every reader has), their upvotes, and which public collections hold a paper."""

from __future__ import annotations

from papersift.model import User
from papersift.service.catalog import Catalog


class Collections:
    def __init__(self, catalog: Catalog, settings, clock):
        self.catalog, self.store, self.settings, self.clock = catalog, catalog.store, settings, clock

    def containing(self, viewer: User | None, paper_id: str) -> list:
        """The public collections (and the viewer's own) that hold the paper."""
        return []

    def of_user(self, viewer: User | None, owner: User) -> list:
        """``owner``'s collections that ``viewer`` may see (their private ones and library only to them)."""
        return []
