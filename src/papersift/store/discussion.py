"""Discussion: comments on papers (one level of replies), their earlier texts, reactions and reports.
The queries, written once for both backends (sql.py says what differs between them).

Rows are never removed: a deleted comment keeps its text for moderators (``deleted_at``), an edit
keeps the text it replaced (``comment_revisions``, in the same transaction). What a reader sees of
them is the front door's decision (service/discussion.py); the store answers what it holds."""

from __future__ import annotations

from typing import Iterable

from papersift.model import Comment
from papersift.store.sql import Queries

_COMMENT = ("SELECT c.id, c.paper_id, c.user_id, c.parent_id, c.body, c.created_at, c.edited_at, c.deleted_at,"
            " c.hidden_at, u.name, u.username, u.hidden FROM comments c JOIN users u ON u.id = c.user_id")
# A comment any reader may see: not deleted, not hidden, its writer not hidden
VISIBLE = "c.deleted_at IS NULL AND c.hidden_at IS NULL AND NOT u.hidden"


def _comment(row) -> Comment:
    cid, paper_id, user_id, parent_id, body, created, edited, deleted, hidden_at, name, handle, hidden = row
    return Comment(cid, paper_id, user_id, parent_id, body, created, edited, deleted, hidden_at, author_name=name,
                   author_handle=handle or f"user{user_id}", author_hidden=bool(hidden))


class DiscussionTables(Queries):
    """Queries on the discussion tables (mixed into each backend's store)."""

    def add_comment(self, paper_id: str, user_id: int, body: str, parent_id: int | None = None) -> Comment:
        with self._transaction() as conn:
            cid = self.dialect.new_id(conn, "INSERT INTO comments(paper_id, user_id, parent_id, body, created_at)"
                                      " VALUES (?, ?, ?, ?, ?)", (paper_id, user_id, parent_id, body, self._now()))
        found = self.get_comment(cid)
        assert found is not None
        return found

    def get_comment(self, comment_id: int) -> Comment | None:
        row = self._one(f"{_COMMENT} WHERE c.id = ?", (comment_id,))
        return _comment(row) if row else None

    def paper_comments(self, paper_id: str) -> list[Comment]:
        return [_comment(r) for r in self._all(f"{_COMMENT} WHERE c.paper_id = ? ORDER BY c.id", (paper_id,))]

    def user_comments(self, user_id: int, limit: int) -> list[Comment]:
        return [_comment(r) for r in self._all(f"{_COMMENT} WHERE c.user_id = ? AND {VISIBLE} ORDER BY c.id DESC"
                                               " LIMIT ?", (user_id, limit))]

    def count_user_comments_since(self, user_id: int, since: str) -> int:
        return self._value("SELECT COUNT(*) FROM comments WHERE user_id = ? AND created_at >= ?", (user_id, since))

    def edit_comment(self, comment_id: int, body: str) -> None:
        now = self._now()
        with self._transaction() as conn:
            conn.execute("INSERT INTO comment_revisions(comment_id, body, replaced_at)"
                         " SELECT id, body, ? FROM comments WHERE id = ?", (now, comment_id))
            conn.execute("UPDATE comments SET body = ?, edited_at = ? WHERE id = ?", (body, now, comment_id))

    def comment_revisions(self, comment_id: int) -> list[tuple[str, str]]:
        return self._all(f"SELECT body, replaced_at FROM comment_revisions WHERE comment_id = ?"
                         f" ORDER BY replaced_at, {self.dialect.insertion_order}", (comment_id,))

    def delete_comment(self, comment_id: int) -> bool:
        with self._transaction() as conn:
            return conn.execute("UPDATE comments SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
                                (self._now(), comment_id)).rowcount > 0

    def set_comment_hidden(self, comment_id: int, hidden: bool, by_user: int | None = None) -> bool:
        with self._transaction() as conn:
            if hidden:
                changed = conn.execute("UPDATE comments SET hidden_at = ?, hidden_by = ? WHERE id = ?"
                                       " AND hidden_at IS NULL", (self._now(), by_user, comment_id)).rowcount > 0
            else:
                changed = conn.execute("UPDATE comments SET hidden_at = NULL, hidden_by = NULL WHERE id = ?"
                                       " AND hidden_at IS NOT NULL", (comment_id,)).rowcount > 0
            if changed and hidden:  # a moderator's decision answers the reports
                conn.execute("UPDATE comment_reports SET resolved_at = ? WHERE comment_id = ? AND resolved_at IS NULL",
                             (self._now(), comment_id))
            return changed

    # ---- reactions
    def set_reaction(self, comment_id: int, user_id: int, reaction: str, on: bool) -> bool:
        with self._transaction() as conn:
            if on:
                cur = conn.execute(self.dialect.ignoring("INSERT INTO comment_reactions(comment_id, user_id, reaction,"
                                                         " created_at) VALUES (?, ?, ?, ?)"),
                                   (comment_id, user_id, reaction, self._now()))
            else:
                cur = conn.execute("DELETE FROM comment_reactions WHERE comment_id = ? AND user_id = ? AND reaction = ?",
                                   (comment_id, user_id, reaction))
            return cur.rowcount > 0

    def reaction_counts(self, comment_ids: Iterable[int]) -> dict[int, dict[str, int]]:
        counts: dict[int, dict[str, int]] = {}
        for cid, reaction, count in self._rows_among(
                "SELECT r.comment_id, r.reaction, COUNT(*) FROM comment_reactions r JOIN users u ON u.id = r.user_id"
                " AND NOT u.hidden WHERE", "r.comment_id", list(comment_ids), tail=" GROUP BY r.comment_id, r.reaction"):
            counts.setdefault(cid, {})[reaction] = count
        return counts

    def user_reactions(self, user_id: int, comment_ids: Iterable[int]) -> set[tuple[int, str]]:
        return {(c, r) for c, r in self._rows_among("SELECT comment_id, reaction FROM comment_reactions WHERE user_id = ?"
                                                    " AND", "comment_id", list(comment_ids), (user_id,))}

    # ---- reports
    def report_comment(self, comment_id: int, user_id: int, reason: str) -> bool:
        with self._transaction() as conn:
            return conn.execute(self.dialect.ignoring("INSERT INTO comment_reports(comment_id, user_id, reason, created_at)"
                                                      " VALUES (?, ?, ?, ?)"),
                                (comment_id, user_id, reason, self._now())).rowcount > 0

    def open_reports(self, limit: int = 100) -> list[tuple[Comment, int, list[str]]]:
        """(comment, open reports, their reasons) of comments with unresolved reports, most reported first."""
        rows = self._all("SELECT comment_id, COUNT(*) FROM comment_reports WHERE resolved_at IS NULL"
                         " GROUP BY comment_id ORDER BY COUNT(*) DESC, comment_id LIMIT ?", (limit,))
        reasons: dict[int, list[str]] = {}
        for cid, reason in self._rows_among("SELECT comment_id, reason FROM comment_reports WHERE resolved_at IS NULL AND",
                                            "comment_id", [r[0] for r in rows]):
            reasons.setdefault(cid, []).append(reason)
        found = []
        for cid, count in rows:
            comment = self.get_comment(cid)
            if comment is not None:
                found.append((comment, count, reasons.get(cid, [])))
        return found

    def resolve_reports(self, comment_id: int) -> int:
        with self._transaction() as conn:
            return conn.execute("UPDATE comment_reports SET resolved_at = ? WHERE comment_id = ? AND resolved_at IS NULL",
                                (self._now(), comment_id)).rowcount

    def comment_counts(self, paper_ids: Iterable[str]) -> dict[str, int]:
        return dict(self._rows_among(f"SELECT c.paper_id, COUNT(*) FROM comments c JOIN users u ON u.id = c.user_id"
                                     f" WHERE {VISIBLE} AND", "c.paper_id", list(paper_ids), tail=" GROUP BY c.paper_id"))
