"""PostgreSQL tables of the website: accounts, sessions, API tokens, votes, saves, moderation,
and the organisation / author listings (the schema is migration 2 in postgres_schema.py).

A mixin of :class:`~papersift.store.postgres.PostgresStore`, the counterpart of
``sqlite_community.py`` with the same behaviour. Concurrency comes from the constraints: a vote
or a save is ``INSERT ... ON CONFLICT DO NOTHING`` on its primary key, so however many workers
on however many machines click at once, one row exists and exactly one click reports a change.
"""

from __future__ import annotations

import string
from contextlib import suppress
from typing import Iterable

from psycopg import errors

from papersift.errors import Conflict, DiskFull
from papersift.model import ApiToken, Paper, User

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def author_key(name: str) -> str:
    """How an author name is matched: ASCII letters folded, as SQLite's COLLATE NOCASE does."""
    return name.translate(_ASCII_LOWER)


_USER_COLUMNS = "u.id, u.email, u.name, u.password_hash, u.is_admin, u.hidden, u.created_at"


def _user(row) -> User | None:
    if row is None:
        return None
    uid, email, name, pw, admin, hidden, created = row[:7]
    return User(uid, email, name, pw, bool(admin), bool(hidden), created)


def _ids(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


class CommunityTables:
    """Queries on the website's tables (mixed into PostgresStore)."""

    # ---- listings (NULLS LAST: SQLite's order for a descending sort)
    def _page_of_papers(self, sql: str, count_sql: str, args: tuple, limit: int, offset: int):
        total = self._value(count_sql, args)
        rows = self._all(sql + " LIMIT %s OFFSET %s", args + (limit, offset))
        return [self._row_to_paper(r[0]) for r in rows], total

    def papers_by_organization(self, name: str, limit: int, offset: int) -> tuple[list[Paper], int]:
        where = " FROM papers WHERE lower(organization) = lower(%s)"  # the papers_organization index
        return self._page_of_papers("SELECT data" + where + " ORDER BY published DESC NULLS LAST, id",
                                    "SELECT COUNT(*)" + where, (name,), limit, offset)

    def papers_by_author(self, name: str, limit: int, offset: int) -> tuple[list[Paper], int]:
        where = " FROM papers WHERE author_keys @> ARRAY[%s]::text[]"  # the papers_authors GIN index
        return self._page_of_papers("SELECT data" + where + " ORDER BY published DESC NULLS LAST, id",
                                    "SELECT COUNT(*)" + where, (author_key(name),), limit, offset)

    # ---- users
    def create_user(self, email: str, name: str, password_hash: str, is_admin: bool = False) -> User:
        now = self._now()
        with self._transaction() as conn:
            try:
                uid = conn.execute(
                    "INSERT INTO users(email, name, password_hash, is_admin, created_at) VALUES (%s, %s, %s, %s, %s)"
                    " RETURNING id", (email, name, password_hash, is_admin, now)).fetchone()[0]
            except errors.UniqueViolation:
                raise Conflict(f"an account with the email {email} already exists") from None
        return User(uid, email, name, password_hash, is_admin, False, now)

    def get_user(self, user_id: int) -> User | None:
        return _user(self._one(f"SELECT {_USER_COLUMNS} FROM users u WHERE u.id = %s", (user_id,)))

    def get_user_by_email(self, email: str) -> User | None:
        return _user(self._one(f"SELECT {_USER_COLUMNS} FROM users u WHERE lower(u.email) = lower(%s)", (email,)))

    def update_user(self, user_id: int, *, is_admin: bool | None = None, hidden: bool | None = None,
                    password_hash: str | None = None) -> None:
        changes = [(col, val) for col, val in (("is_admin", is_admin), ("hidden", hidden),
                                              ("password_hash", password_hash)) if val is not None]
        if not changes:
            return
        sets = ", ".join(f"{col} = %s" for col, _ in changes)  # column names are fixed above
        with self._transaction() as conn:
            conn.execute(f"UPDATE users SET {sets} WHERE id = %s", (*[v for _, v in changes], user_id))

    def list_users(self, hidden: bool | None = None, limit: int = 100) -> list[User]:
        where, args = ("WHERE u.hidden = %s", (hidden,)) if hidden is not None else ("", ())
        rows = self._all(f"SELECT {_USER_COLUMNS} FROM users u {where} ORDER BY u.id LIMIT %s", (*args, limit))
        return [_user(r) for r in rows]

    # ---- sessions
    def create_session(self, session_hash: str, user_id: int, csrf_token: str, expires_at: str) -> None:
        now = self._now()
        with self._transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE expires_at < %s", (now,))  # housekeeping
            conn.execute("INSERT INTO sessions(session_hash, user_id, csrf_token, created_at, expires_at)"
                         " VALUES (%s, %s, %s, %s, %s)", (session_hash, user_id, csrf_token, now, expires_at))

    def get_session(self, session_hash: str, now: str) -> tuple[User, str] | None:
        row = self._one(
            f"SELECT {_USER_COLUMNS}, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id"
            " WHERE s.session_hash = %s AND s.expires_at > %s AND NOT u.hidden", (session_hash, now))
        return (_user(row), row[7]) if row else None

    def delete_session(self, session_hash: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE session_hash = %s", (session_hash,))

    def delete_user_sessions(self, user_id: int) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE user_id = %s", (user_id,))

    # ---- API tokens
    def create_api_token(self, token_hash: str, user_id: int, name: str, scope: str = "write") -> ApiToken:
        now = self._now()
        with self._transaction() as conn:
            tid = conn.execute("INSERT INTO api_tokens(token_hash, user_id, name, created_at, scope)"
                               " VALUES (%s, %s, %s, %s, %s) RETURNING id",
                               (token_hash, user_id, name, now, scope)).fetchone()[0]
        return ApiToken(tid, user_id, name, now, scope=scope)

    def user_for_api_token(self, token_hash: str) -> User | None:
        row = self._one(
            f"SELECT {_USER_COLUMNS}, t.id, t.last_used_at, t.scope FROM api_tokens t JOIN users u ON u.id = t.user_id"
            " WHERE t.token_hash = %s AND NOT u.hidden", (token_hash,))
        if row is None:
            return None
        now = self._now()
        if (row[8] or "")[:16] != now[:16]:  # note use at most once a minute: reads stay reads
            with suppress(DiskFull), self._transaction() as conn:  # a full disk: the note waits, the read goes on
                conn.execute("UPDATE api_tokens SET last_used_at = %s WHERE id = %s", (now, row[7]))
        user = _user(row)
        user.token_scope = row[9]
        return user

    def list_api_tokens(self, user_id: int) -> list[ApiToken]:
        rows = self._all("SELECT id, user_id, name, created_at, last_used_at, scope FROM api_tokens"
                         " WHERE user_id = %s ORDER BY id", (user_id,))
        return [ApiToken(*r) for r in rows]

    def delete_api_token(self, user_id: int, token_id: int) -> bool:
        with self._transaction() as conn:
            return conn.execute("DELETE FROM api_tokens WHERE id = %s AND user_id = %s",
                                (token_id, user_id)).rowcount > 0

    # ---- login throttling
    def record_login_failure(self, key: str, at: str) -> None:
        with self._transaction() as conn:
            conn.execute("INSERT INTO login_failures(key, at) VALUES (%s, %s)", (key, at))

    def count_login_failures(self, key: str, since: str) -> int:
        return self._value("SELECT COUNT(*) FROM login_failures WHERE key = %s AND at > %s", (key, since))

    def clear_login_failures(self, key: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM login_failures WHERE key = %s", (key,))

    # ---- votes and saves: one statement each; the primary key keeps one row per user and
    # ON CONFLICT DO NOTHING makes a concurrent second insert wait for the first, then do nothing
    def _toggle(self, table: str, user_id: int, paper_id: str, on: bool) -> bool:
        with self._transaction() as conn:
            if on:
                cur = conn.execute(f"INSERT INTO {table}(user_id, paper_id, created_at) VALUES (%s, %s, %s)"
                                   " ON CONFLICT DO NOTHING", (user_id, paper_id, self._now()))
            else:
                cur = conn.execute(f"DELETE FROM {table} WHERE user_id = %s AND paper_id = %s", (user_id, paper_id))
            return cur.rowcount > 0

    def set_vote(self, user_id: int, paper_id: str, on: bool) -> bool:
        return self._toggle("votes", user_id, paper_id, on)

    def set_saved(self, user_id: int, paper_id: str, on: bool) -> bool:
        return self._toggle("saves", user_id, paper_id, on)

    def vote_counts(self, paper_ids: Iterable[str]) -> dict[str, int]:
        ids = _ids(paper_ids)
        if not ids:
            return {}
        return dict(self._all("SELECT v.paper_id, COUNT(*) FROM votes v JOIN users u ON u.id = v.user_id"
                              " AND NOT u.hidden WHERE v.paper_id = ANY(%s) GROUP BY v.paper_id", (ids,)))

    def _mine(self, table: str, user_id: int, paper_ids: Iterable[str]) -> set[str]:
        ids = _ids(paper_ids)
        if not ids:
            return set()
        return {r[0] for r in self._all(f"SELECT paper_id FROM {table} WHERE user_id = %s AND paper_id = ANY(%s)",
                                        (user_id, ids))}

    def user_votes(self, user_id: int, paper_ids: Iterable[str]) -> set[str]:
        return self._mine("votes", user_id, paper_ids)

    def user_saves(self, user_id: int, paper_ids: Iterable[str]) -> set[str]:
        return self._mine("saves", user_id, paper_ids)

    def saved_papers(self, user_id: int, limit: int, offset: int) -> tuple[list[Paper], int]:
        return self._page_of_papers(
            "SELECT p.data FROM saves s JOIN papers p ON p.id = s.paper_id WHERE s.user_id = %s"
            " ORDER BY s.created_at DESC, s.n DESC",
            "SELECT COUNT(*) FROM saves WHERE user_id = %s", (user_id,), limit, offset)

    # ---- moderation
    def set_paper_hidden(self, paper_id: str, hidden: bool, by_user: int | None = None) -> bool:
        with self._transaction() as conn:
            if hidden:
                cur = conn.execute("INSERT INTO hidden_papers(paper_id, hidden_by, hidden_at) VALUES (%s, %s, %s)"
                                   " ON CONFLICT DO NOTHING", (paper_id, by_user, self._now()))
            else:
                cur = conn.execute("DELETE FROM hidden_papers WHERE paper_id = %s", (paper_id,))
            return cur.rowcount > 0

    def hidden_paper_ids(self) -> set[str]:
        return {r[0] for r in self._all("SELECT paper_id FROM hidden_papers")}
