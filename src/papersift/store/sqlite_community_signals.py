"""SQLite table of the recommender's own signals: "more like this" and "not for me" (issue 11).

Upvotes and saves are already stored (``votes``, ``saves`` in sqlite_community.py) and count as
positive signals as they are: they are read, not copied here, so un-voting also un-teaches the
recommender. A mixin of :class:`~papersift.store.sqlite.SQLiteStore`; the schema is migration 4.
"""

from __future__ import annotations

import sqlite3
from typing import Iterable

from papersift.errors import BadInput
from papersift.model import User
from papersift.store.protocol import SIGNAL_KINDS
from papersift.store.sqlite_community import _USER_COLUMNS, _user

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

# Migration 5: the secret of each reader's private recommendations feed (only its hash, like API
# tokens). One per reader: making a new one replaces (revokes) the old.
FEED_TOKENS_SCHEMA = """
    CREATE TABLE feed_tokens (
        user_id INTEGER PRIMARY KEY REFERENCES users(id),
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    )
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

    def add_signals(self, user_id: int, paper_ids: Iterable[str], kind: str) -> set[str]:
        kind, now, added = _check_kind(kind), self._now(), set()
        with self._transaction() as db:
            for paper_id in dict.fromkeys(paper_ids):
                if db.execute("INSERT OR IGNORE INTO signals(user_id, paper_id, kind, created_at) VALUES (?, ?, ?, ?)",
                              (user_id, paper_id, kind, now)).rowcount > 0:
                    added.add(paper_id)
        return added

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

    # the private feed's token
    def set_feed_token(self, user_id: int, token_hash: str | None) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM feed_tokens WHERE user_id = ?", (user_id,))
            if token_hash is not None:
                db.execute("INSERT INTO feed_tokens(user_id, token_hash, created_at) VALUES (?, ?, ?)",
                           (user_id, token_hash, self._now()))

    def feed_token_created(self, user_id: int) -> str | None:
        row = self._db.execute("SELECT created_at FROM feed_tokens WHERE user_id = ?", (user_id,)).fetchone()
        return row[0] if row else None

    def user_for_feed_token(self, token_hash: str) -> User | None:
        return _user(self._db.execute(
            f"SELECT {_USER_COLUMNS} FROM feed_tokens t JOIN users u ON u.id = t.user_id"
            " WHERE t.token_hash = ? AND u.hidden = 0", (token_hash,)).fetchone())
