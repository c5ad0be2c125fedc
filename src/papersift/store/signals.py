"""The recommender's own signals ("more like this", "not for me") and the private recommendations
feed's token: the queries, written once for both backends.

Upvotes and saves are already stored (``votes``, ``saves``) and count as positive signals as they
are: they are read, not copied here, so un-voting also un-teaches the recommender. One row per
(user, paper, kind): a second click is a no-op, and "more" and "not for me" on one paper can both
exist (the reader decides which wins: recommend.Reader counts the dismissal).
"""

from __future__ import annotations

from typing import Iterable

from papersift.errors import BadInput
from papersift.model import User
from papersift.store.community import USER_COLUMNS, user
from papersift.store.protocol import SIGNAL_KINDS
from papersift.store.sql import Queries

_SIGNAL_COLUMNS = (("user_id", "bigint"), ("paper_id", "text"), ("kind", "text"), ("created_at", "text"))
_FOLLOW_COLUMNS = (("user_id", "bigint"), ("category", "text"), ("created_at", "text"))


def _check_kind(kind: str) -> str:
    if kind not in SIGNAL_KINDS:
        raise BadInput(f"signal kind must be one of {', '.join(SIGNAL_KINDS)}, not {kind!r}")
    return kind


class SignalTables(Queries):
    """Queries on the signals and feed token tables (mixed into each backend's store)."""

    def add_signal(self, user_id: int, paper_id: str, kind: str) -> bool:
        return bool(self.add_signals(user_id, [paper_id], kind))

    def add_signals(self, user_id: int, paper_ids: Iterable[str], kind: str) -> set[str]:
        kind, now = _check_kind(kind), self._now()
        with self._transaction() as conn:
            return self.dialect.insert_many(conn, "signals", _SIGNAL_COLUMNS,
                                            [(user_id, pid, kind, now) for pid in dict.fromkeys(paper_ids)],
                                            new="paper_id")

    def remove_signal(self, user_id: int, paper_id: str, kind: str) -> bool:
        kind = _check_kind(kind)
        with self._transaction() as conn:
            return conn.execute("DELETE FROM signals WHERE user_id = ? AND paper_id = ? AND kind = ?",
                                (user_id, paper_id, kind)).rowcount > 0

    def user_signals(self, user_id: int) -> list[tuple[str, str, str]]:
        """(kind, paper id, created_at) of every signal of the user, upvotes ("upvote") and saves
        ("save") included, oldest first."""
        n = self.dialect.insertion_order
        rows = self._all(
            "SELECT kind, paper_id, created_at, r FROM ("
            f" SELECT kind, paper_id, created_at, {n} AS r FROM signals WHERE user_id = ?"
            f" UNION ALL SELECT 'upvote', paper_id, created_at, {n} FROM votes WHERE user_id = ?"
            " UNION ALL SELECT 'save', i.paper_id, i.added_at, i.id FROM collection_items i"
            " JOIN collections c ON c.id = i.collection_id AND c.is_library WHERE c.owner_id = ?) AS s"
            " ORDER BY created_at, r", (user_id, user_id, user_id))
        return [(k, p, at) for k, p, at, _ in rows]

    def delete_user_signals(self, user_id: int, votes_and_saves: bool = False) -> int:
        """Delete the user's signals (and, if asked, their upvotes, saves and followed categories) in
        one transaction; returns how many rows went."""
        tables = ("signals", "votes", "followed_categories") if votes_and_saves else ("signals",)
        with self._transaction() as conn:
            deleted = sum(conn.execute(f"DELETE FROM {t} WHERE user_id = ?", (user_id,)).rowcount for t in tables)
            if votes_and_saves:  # the saves: the library's items (the library itself stays, empty)
                deleted += conn.execute("DELETE FROM collection_items WHERE collection_id IN"
                                        " (SELECT id FROM collections WHERE owner_id = ? AND is_library)",
                                        (user_id,)).rowcount
            return deleted

    # ---- the arXiv categories a reader follows: the list is replaced whole (settings, the cold start)
    def followed_categories(self, user_id: int) -> list[str]:
        return [r[0] for r in self._all("SELECT category FROM followed_categories WHERE user_id = ? ORDER BY category",
                                        (user_id,))]

    def set_followed_categories(self, user_id: int, categories: Iterable[str]) -> None:
        rows = [(user_id, c, self._now()) for c in dict.fromkeys(categories)]
        with self._transaction() as conn:
            conn.execute("DELETE FROM followed_categories WHERE user_id = ?", (user_id,))
            self.dialect.insert_many(conn, "followed_categories", _FOLLOW_COLUMNS, rows)

    # ---- the private feed's token: one per reader, kept as its hash; replacing it is one
    # statement, so two requests at once leave one token, never an error
    def set_feed_token(self, user_id: int, token_hash: str | None) -> None:
        with self._transaction() as conn:
            if token_hash is None:
                conn.execute("DELETE FROM feed_tokens WHERE user_id = ?", (user_id,))
            else:
                conn.execute("INSERT INTO feed_tokens(user_id, token_hash, created_at) VALUES (?, ?, ?)"
                             " ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash,"
                             " created_at = excluded.created_at", (user_id, token_hash, self._now()))

    def feed_token_created(self, user_id: int) -> str | None:
        return self._value("SELECT created_at FROM feed_tokens WHERE user_id = ?", (user_id,))

    def user_for_feed_token(self, token_hash: str) -> User | None:
        return user(self._one(f"SELECT {USER_COLUMNS} FROM feed_tokens t JOIN users u ON u.id = t.user_id"
                              " WHERE t.token_hash = ? AND NOT u.hidden", (token_hash,)))
