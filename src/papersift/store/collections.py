"""Collections: a user's lists of papers with a note each (the library is one, private), and their
upvotes. The queries, written once for both backends (sql.py says what differs between them)."""

from __future__ import annotations

from papersift.store.sql import Queries


class CollectionTables(Queries):
    """Queries on the collection tables (mixed into each backend's store)."""
