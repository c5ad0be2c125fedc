"""Discussion: comments on papers (one level of replies), their earlier texts, reactions and reports.
The queries, written once for both backends (sql.py says what differs between them)."""

from __future__ import annotations

from papersift.store.sql import Queries


class DiscussionTables(Queries):
    """Queries on the discussion tables (mixed into each backend's store)."""
