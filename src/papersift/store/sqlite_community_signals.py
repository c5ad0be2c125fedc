"""SQLite table of the recommender's own signals: "more like this" and "not for me" (issue 11).

Upvotes and saves are already stored (``votes``, ``saves`` in sqlite_community.py) and count as
positive signals as they are: they are read, not copied here, so un-voting also un-teaches the
recommender. A mixin of :class:`~papersift.store.sqlite.SQLiteStore`; the schema is migration 4.
"""

from __future__ import annotations

import sqlite3

from papersift.errors import BadInput
from papersift.store.protocol import SIGNAL_KINDS

# Migration 4 (appended to sqlite.MIGRATIONS). One row per (user, paper, kind): a second click
# is a no-op, and "more" and "not for me" on one paper can both exist (the reader decides which
# wins: recommend.Reader counts the dismissal).
SIGNALS_SCHEMA = """
    CREATE TABLE signals (
        user_id INTEGER NOT NULL REFERENCES users(id),
        paper_id TEXT NOT NULL REFERENCES papers(id),
        kind TEXT NOT NULL CHECK (kind IN ('more', 'not_for_me')),
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, paper_id, kind)
    );
    CREATE INDEX signals_paper ON signals(paper_id)
"""


def _check_kind(kind: str) -> str:
    if kind not in SIGNAL_KINDS:
        raise BadInput(f"signal kind must be one of {', '.join(SIGNAL_KINDS)}, not {kind!r}")
    return kind


class SignalTables:
    """Queries on the signals table (mixed into SQLiteStore)."""

    _db: sqlite3.Connection  # provided by SQLiteStore

    def add_signal(self, user_id: int, paper_id: str, kind: str) -> bool:
        with self._transaction() as db:
            return db.execute("INSERT OR IGNORE INTO signals(user_id, paper_id, kind, created_at) VALUES (?, ?, ?, ?)",
                              (user_id, paper_id, _check_kind(kind), self._now())).rowcount > 0

    def remove_signal(self, user_id: int, paper_id: str, kind: str) -> bool:
        with self._transaction() as db:
            return db.execute("DELETE FROM signals WHERE user_id = ? AND paper_id = ? AND kind = ?",
                              (user_id, paper_id, _check_kind(kind))).rowcount > 0

    def user_signals(self, user_id: int) -> list[tuple[str, str, str]]:
        """(kind, paper id, created_at) of every signal of the user, upvotes ("upvote") and saves
        ("save") included, oldest first."""
        rows = self._db.execute(
            "SELECT kind, paper_id, created_at, r FROM ("
            " SELECT kind, paper_id, created_at, rowid AS r FROM signals WHERE user_id = ?"
            " UNION ALL SELECT 'upvote', paper_id, created_at, rowid FROM votes WHERE user_id = ?"
            " UNION ALL SELECT 'save', paper_id, created_at, rowid FROM saves WHERE user_id = ?)"
            " ORDER BY created_at, r", (user_id, user_id, user_id)).fetchall()
        return [(k, p, at) for k, p, at, _ in rows]

    def delete_user_signals(self, user_id: int, votes_and_saves: bool = False) -> int:
        """Delete the user's signals (and, if asked, their upvotes and saves) in one transaction;
        returns how many rows went."""
        tables = ("signals", "votes", "saves") if votes_and_saves else ("signals",)
        with self._transaction() as db:
            return sum(db.execute(f"DELETE FROM {t} WHERE user_id = ?", (user_id,)).rowcount for t in tables)
