"""Claimed authorship: a user's claim of an author position on a paper, verified or queued for an admin.
The queries, written once for both backends (sql.py says what differs between them)."""

from __future__ import annotations

from papersift.store.sql import Queries


class AuthorshipTables(Queries):
    """Queries on the author claims (mixed into each backend's store)."""
