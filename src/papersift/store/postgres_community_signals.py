"""PostgreSQL tables of the recommender's own signals ("more like this", "not for me") and of
the private recommendations feed's token.

The counterpart of ``sqlite_community_signals.py`` (upvotes and saves are read from their own
tables, not copied); a mixin of :class:`~papersift.store.postgres.PostgresStore`; the schema is
migrations 4 and 5 in postgres_schema.py.
"""

from __future__ import annotations

from typing import Iterable

from papersift.model import User
from papersift.store.postgres_community import _USER_COLUMNS, _user
from papersift.store.sqlite_community_signals import _check_kind  # one rule and message for both backends


class SignalTables:
    """Queries on the signals table (mixed into PostgresStore)."""

    def add_signal(self, user_id: int, paper_id: str, kind: str) -> bool:
        kind = _check_kind(kind)
        with self._transaction() as conn:
            return conn.execute("INSERT INTO signals(user_id, paper_id, kind, created_at) VALUES (%s, %s, %s, %s)"
                                " ON CONFLICT DO NOTHING", (user_id, paper_id, kind, self._now())).rowcount > 0

    def add_signals(self, user_id: int, paper_ids: Iterable[str], kind: str) -> set[str]:
        ids = list(dict.fromkeys(paper_ids))
        if not ids:
            return set()
        with self._transaction() as conn:
            rows = conn.execute("INSERT INTO signals(user_id, paper_id, kind, created_at)"
                                " SELECT %s, p, %s, %s FROM unnest(%s::text[]) AS p ON CONFLICT DO NOTHING"
                                " RETURNING paper_id", (user_id, _check_kind(kind), self._now(), ids)).fetchall()
        return {r[0] for r in rows}

    def remove_signal(self, user_id: int, paper_id: str, kind: str) -> bool:
        kind = _check_kind(kind)
        with self._transaction() as conn:
            return conn.execute("DELETE FROM signals WHERE user_id = %s AND paper_id = %s AND kind = %s",
                                (user_id, paper_id, kind)).rowcount > 0

    def user_signals(self, user_id: int) -> list[tuple[str, str, str]]:
        """(kind, paper id, created_at) of every signal of the user, upvotes ("upvote") and saves
        ("save") included, oldest first."""
        rows = self._all(
            "SELECT kind, paper_id, created_at, n FROM ("
            " SELECT kind, paper_id, created_at, n FROM signals WHERE user_id = %s"
            " UNION ALL SELECT 'upvote', paper_id, created_at, n FROM votes WHERE user_id = %s"
            " UNION ALL SELECT 'save', paper_id, created_at, n FROM saves WHERE user_id = %s) AS s"
            " ORDER BY created_at, n", (user_id, user_id, user_id))
        return [(k, p, at) for k, p, at, _ in rows]

    def delete_user_signals(self, user_id: int, votes_and_saves: bool = False) -> int:
        tables = ("signals", "votes", "saves") if votes_and_saves else ("signals",)
        with self._transaction() as conn:
            return sum(conn.execute(f"DELETE FROM {t} WHERE user_id = %s", (user_id,)).rowcount for t in tables)

    # ---- the private feed's token: one per reader; replacing it is one statement, so two
    # requests at once leave one token, never an error
    def set_feed_token(self, user_id: int, token_hash: str | None) -> None:
        with self._transaction() as conn:
            if token_hash is None:
                conn.execute("DELETE FROM feed_tokens WHERE user_id = %s", (user_id,))
            else:
                conn.execute("INSERT INTO feed_tokens(user_id, token_hash, created_at) VALUES (%s, %s, %s)"
                             " ON CONFLICT (user_id) DO UPDATE SET token_hash = excluded.token_hash,"
                             " created_at = excluded.created_at", (user_id, token_hash, self._now()))

    def feed_token_created(self, user_id: int) -> str | None:
        return self._value("SELECT created_at FROM feed_tokens WHERE user_id = %s", (user_id,))

    def user_for_feed_token(self, token_hash: str) -> User | None:
        return _user(self._one(f"SELECT {_USER_COLUMNS} FROM feed_tokens t JOIN users u ON u.id = t.user_id"
                               " WHERE t.token_hash = %s AND NOT u.hidden", (token_hash,)))
