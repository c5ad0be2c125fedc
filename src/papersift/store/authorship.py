"""Claimed authorship: a user's claim of an author position on a paper, verified or queued for an admin.
The queries, written once for both backends (sql.py says what differs between them).

One claim per (user, paper); a position verified for one user cannot be claimed by another (Conflict),
checked under the write lock so two claims at once cannot both win."""

from __future__ import annotations

from typing import Iterable

from papersift.errors import Conflict
from papersift.model import AuthorClaim
from papersift.store.sql import Queries

_CLAIM = ("SELECT a.id, a.user_id, a.paper_id, a.position, a.status, a.how, a.hidden, a.created_at, a.decided_at,"
          " u.username, u.name, u.hidden FROM author_claims a JOIN users u ON u.id = a.user_id")


def _claim(row) -> AuthorClaim:
    cid, uid, pid, pos, status, how, hidden, created, decided, handle, name, user_hidden = row
    return AuthorClaim(cid, uid, pid, pos, status, how, bool(hidden), created, decided, handle or f"user{uid}", name,
                       bool(user_hidden))


class AuthorshipTables(Queries):
    """Queries on the author claims (mixed into each backend's store)."""

    def add_claim(self, user_id: int, paper_id: str, position: int, status: str = "pending",
                  how: str | None = None) -> AuthorClaim:
        now = self._now()
        with self._transaction() as conn:
            if conn.execute("SELECT 1 FROM author_claims WHERE user_id = ? AND paper_id = ?", (user_id, paper_id)).fetchone():
                raise Conflict("you have claimed an authorship of this paper already")
            if conn.execute("SELECT 1 FROM author_claims WHERE paper_id = ? AND position = ? AND status = 'verified'",
                            (paper_id, position)).fetchone():
                raise Conflict("another user is the verified author at this position")
            cid = self.dialect.new_id(conn, "INSERT INTO author_claims(user_id, paper_id, position, status, how,"
                                      " created_at, decided_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                      (user_id, paper_id, position, status, how, now,
                                       now if status != "pending" else None))
        found = self.get_claim(cid)
        assert found is not None
        return found

    def get_claim(self, claim_id: int) -> AuthorClaim | None:
        row = self._one(f"{_CLAIM} WHERE a.id = ?", (claim_id,))
        return _claim(row) if row else None

    def paper_claims(self, paper_id: str) -> list[AuthorClaim]:
        return [_claim(r) for r in self._all(f"{_CLAIM} WHERE a.paper_id = ? ORDER BY a.position, a.id", (paper_id,))]

    def verified_claims(self, paper_ids: Iterable[str]) -> list[AuthorClaim]:
        return [_claim(r) for r in self._rows_among(
            f"{_CLAIM} WHERE a.status = 'verified' AND NOT a.hidden AND NOT u.hidden AND", "a.paper_id", list(paper_ids),
            tail=" ORDER BY a.paper_id, a.position")]

    def user_claims(self, user_id: int) -> list[AuthorClaim]:
        return [_claim(r) for r in self._all(f"{_CLAIM} WHERE a.user_id = ? ORDER BY a.id DESC", (user_id,))]

    def pending_claims(self, limit: int = 100) -> list[AuthorClaim]:
        return [_claim(r) for r in self._all(f"{_CLAIM} WHERE a.status = 'pending' ORDER BY a.id LIMIT ?", (limit,))]

    def decide_claim(self, claim_id: int, status: str, by_user: int | None, how: str | None = None) -> bool:
        with self._transaction() as conn:
            row = conn.execute("SELECT paper_id, position FROM author_claims WHERE id = ?", (claim_id,)).fetchone()
            if row is None:
                return False
            if status == "verified" and conn.execute(
                    "SELECT 1 FROM author_claims WHERE paper_id = ? AND position = ? AND status = 'verified' AND id <> ?",
                    (row[0], row[1], claim_id)).fetchone():
                raise Conflict("another user is the verified author at this position")
            return conn.execute("UPDATE author_claims SET status = ?, how = COALESCE(?, how), decided_at = ?,"
                                " decided_by = ? WHERE id = ?",
                                (status, how, self._now(), by_user, claim_id)).rowcount > 0

    def set_claim_hidden(self, claim_id: int, hidden: bool) -> bool:
        with self._transaction() as conn:
            return conn.execute("UPDATE author_claims SET hidden = ? WHERE id = ?", (hidden, claim_id)).rowcount > 0

    def delete_claim(self, claim_id: int) -> bool:
        with self._transaction() as conn:
            return conn.execute("DELETE FROM author_claims WHERE id = ?", (claim_id,)).rowcount > 0
