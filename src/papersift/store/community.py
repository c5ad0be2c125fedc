"""Accounts, sessions, API tokens, login throttling, votes, saves and moderation: the queries,
written once for both backends (sql.py says what differs between them).

Secrets (session ids, API tokens) arrive here already hashed: the database never holds a value that
would let someone act as a user. Concurrency comes from the constraints: a vote or a save is an
insert that skips a taken primary key, so however many clicks arrive at once (threads, processes,
machines), one row exists and exactly one click reports a change.
"""

from __future__ import annotations

from contextlib import suppress
from typing import Iterable, Sequence, overload

from papersift.errors import Conflict, DiskFull
from papersift.model import ApiToken, Paper, User
from papersift.store.papers import page_of_papers
from papersift.store.sql import Queries

USER_COLUMNS = ("u.id, u.email, u.name, u.password_hash, u.is_admin, u.hidden, u.created_at, u.username,"
                " u.notify_email, u.show_upvotes, u.email_verified_at")
N_USER_COLUMNS = 11


@overload
def user(row: None) -> None: ...
@overload
def user(row: Sequence) -> User: ...
def user(row: Sequence | None) -> User | None:
    if row is None:
        return None
    uid, email, name, pw, admin, hidden, created, username, notify, show_upvotes, verified = row[:N_USER_COLUMNS]
    return User(uid, email, name, pw, bool(admin), bool(hidden), created, username=username,
                notify_email=bool(notify), show_upvotes=bool(show_upvotes), email_verified_at=verified)


# The reader's library: their one collection marked ``is_library`` (a subquery taking the user's id)
_LIBRARY = "SELECT id FROM collections WHERE owner_id = ? AND is_library"


class CommunityTables(Queries):
    """Queries on the website's tables (mixed into each backend's store)."""

    # ---- users
    def create_user(self, email: str, name: str, password_hash: str, is_admin: bool = False,
                    username: str | None = None) -> User:
        now = self._now()
        with self._transaction() as conn:
            if username is not None and conn.execute(f"SELECT 1 FROM users WHERE {self.dialect.nocase('username')}",
                                                     (username,)).fetchone():
                raise Conflict(f"the username {username} is taken")
            # without a handle, the columns every schema version has (a tool may write an older database)
            columns, values = "email, name, password_hash, is_admin, created_at", [email, name, password_hash, is_admin, now]
            if username is not None:
                columns, values = columns + ", username", values + [username]
            try:
                uid = self.dialect.new_id(conn, f"INSERT INTO users({columns}) VALUES ({', '.join('?' * len(values))})",
                                          values)
            except self.dialect.duplicate:
                raise Conflict(f"an account with the email {email} already exists") from None
        return User(uid, email, name, password_hash, is_admin, False, now, username=username)

    def get_user(self, user_id: int) -> User | None:
        return user(self._one(f"SELECT {USER_COLUMNS} FROM users u WHERE u.id = ?", (user_id,)))

    def get_user_by_email(self, email: str) -> User | None:
        return user(self._one(f"SELECT {USER_COLUMNS} FROM users u WHERE {self.dialect.nocase('u.email')}", (email,)))

    def get_user_by_username(self, username: str) -> User | None:
        return user(self._one(f"SELECT {USER_COLUMNS} FROM users u WHERE {self.dialect.nocase('u.username')}",
                              (username,)))

    def users_by_username(self, usernames: Iterable[str]) -> dict[str, User]:
        wanted = {n.lower(): n for n in usernames}
        found: dict[str, User] = {}
        for row in self._rows_among(f"SELECT {USER_COLUMNS} FROM users u WHERE", "lower(u.username)", list(wanted)):
            found_user = user(row)
            found[wanted.get((found_user.username or "").lower(), found_user.username or "")] = found_user
        return found

    def users_without_username(self) -> list[User]:
        return [user(r) for r in self._all(f"SELECT {USER_COLUMNS} FROM users u WHERE u.username IS NULL ORDER BY u.id")]

    def update_user(self, user_id: int, *, is_admin: bool | None = None, hidden: bool | None = None,
                    password_hash: str | None = None, username: str | None = None, name: str | None = None,
                    notify_email: bool | None = None, show_upvotes: bool | None = None,
                    email_verified_at: str | None = None) -> None:
        changes = [(col, val) for col, val in (("is_admin", is_admin), ("hidden", hidden),
                                              ("password_hash", password_hash), ("name", name),
                                              ("notify_email", notify_email), ("show_upvotes", show_upvotes),
                                              ("email_verified_at", email_verified_at))
                   if val is not None]
        if not changes and username is None:
            return
        sets = ", ".join(f"{col} = ?" for col, _ in changes)  # column names are fixed above
        with self._transaction() as conn:
            if username is not None:  # a handle is unique whatever its case: checked under the write lock
                taken = conn.execute(f"SELECT id FROM users WHERE {self.dialect.nocase('username')} AND id <> ?",
                                     (username, user_id)).fetchone()
                if taken:
                    raise Conflict(f"the username {username} is taken")
                conn.execute("UPDATE users SET username = ? WHERE id = ?", (username, user_id))
            if changes:
                conn.execute(f"UPDATE users SET {sets} WHERE id = ?", (*[v for _, v in changes], user_id))

    def list_users(self, hidden: bool | None = None, limit: int = 100) -> list[User]:
        where, args = ("WHERE u.hidden = ?", (hidden,)) if hidden is not None else ("", ())
        rows = self._all(f"SELECT {USER_COLUMNS} FROM users u {where} ORDER BY u.id LIMIT ?", (*args, limit))
        return [user(r) for r in rows]

    # ---- sessions
    def create_session(self, session_hash: str, user_id: int, csrf_token: str, expires_at: str) -> None:
        now = self._now()
        with self._transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))  # housekeeping
            conn.execute("INSERT INTO sessions(session_hash, user_id, csrf_token, created_at, expires_at)"
                         " VALUES (?, ?, ?, ?, ?)", (session_hash, user_id, csrf_token, now, expires_at))

    def get_session(self, session_hash: str, now: str) -> tuple[User, str] | None:
        row = self._one(
            f"SELECT {USER_COLUMNS}, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id"
            " WHERE s.session_hash = ? AND s.expires_at > ? AND NOT u.hidden", (session_hash, now))
        return (user(row), row[N_USER_COLUMNS]) if row else None

    def delete_session(self, session_hash: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE session_hash = ?", (session_hash,))

    def delete_user_sessions(self, user_id: int) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    # ---- API tokens
    def create_api_token(self, token_hash: str, user_id: int, name: str, scope: str = "write") -> ApiToken:
        now = self._now()
        with self._transaction() as conn:
            tid = self.dialect.new_id(conn, "INSERT INTO api_tokens(token_hash, user_id, name, created_at, scope)"
                                      " VALUES (?, ?, ?, ?, ?)", (token_hash, user_id, name, now, scope))
        return ApiToken(tid, user_id, name, now, scope=scope)

    def user_for_api_token(self, token_hash: str) -> User | None:
        row = self._one(
            f"SELECT {USER_COLUMNS}, t.id, t.last_used_at, t.scope FROM api_tokens t JOIN users u ON u.id = t.user_id"
            " WHERE t.token_hash = ? AND NOT u.hidden", (token_hash,))
        if row is None:
            return None
        now = self._now()
        token_id, last_used, scope = row[N_USER_COLUMNS:]
        if (last_used or "")[:16] != now[:16]:  # note use at most once a minute: reads stay reads
            with suppress(DiskFull), self._transaction() as conn:  # a full disk: the note waits, the read goes on
                conn.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (now, token_id))
        found = user(row)
        found.token_scope = scope
        return found

    def list_api_tokens(self, user_id: int) -> list[ApiToken]:
        rows = self._all("SELECT id, user_id, name, created_at, last_used_at, scope FROM api_tokens"
                         " WHERE user_id = ? ORDER BY id", (user_id,))
        return [ApiToken(*r) for r in rows]

    def delete_api_token(self, user_id: int, token_id: int) -> bool:
        with self._transaction() as conn:
            return conn.execute("DELETE FROM api_tokens WHERE id = ? AND user_id = ?", (token_id, user_id)).rowcount > 0

    # ---- login throttling
    def record_login_failure(self, key: str, at: str) -> None:
        with self._transaction() as conn:
            conn.execute("INSERT INTO login_failures(key, at) VALUES (?, ?)", (key, at))

    def count_login_failures(self, key: str, since: str) -> int:
        return self._value("SELECT COUNT(*) FROM login_failures WHERE key = ? AND at > ?", (key, since))

    def clear_login_failures(self, key: str) -> None:
        with self._transaction() as conn:
            conn.execute("DELETE FROM login_failures WHERE key = ?", (key,))

    # ---- votes and saves: one statement each inside a write transaction, the primary key
    # keeping one row per user, so a click is atomic however many arrive at once
    def _toggle(self, table: str, user_id: int, paper_id: str, on: bool) -> bool:
        with self._transaction() as conn:
            if on:
                cur = conn.execute(self.dialect.ignoring(f"INSERT INTO {table}(user_id, paper_id, created_at)"
                                                         " VALUES (?, ?, ?)"), (user_id, paper_id, self._now()))
            else:
                cur = conn.execute(f"DELETE FROM {table} WHERE user_id = ? AND paper_id = ?", (user_id, paper_id))
            return cur.rowcount > 0

    def set_vote(self, user_id: int, paper_id: str, on: bool) -> bool:
        return self._toggle("votes", user_id, paper_id, on)

    def set_saved(self, user_id: int, paper_id: str, on: bool) -> bool:
        """The library is the reader's private collection (``is_library``): made at the first save; a
        save is an insert that skips a taken (collection, paper), appended after the last item."""
        now = self._now()
        with self._transaction() as conn:
            if not on:
                return conn.execute(f"DELETE FROM collection_items WHERE paper_id = ? AND collection_id = ({_LIBRARY})",
                                    (paper_id, user_id)).rowcount > 0
            conn.execute(self.dialect.ignoring(
                "INSERT INTO collections(owner_id, title, description, private, is_library, created_at, updated_at)"
                " VALUES (?, 'Library', '', ?, ?, ?, ?)"), (user_id, True, True, now, now))
            library = conn.execute(_LIBRARY, (user_id,)).fetchone()[0]
            added = conn.execute(self.dialect.ignoring(
                "INSERT INTO collection_items(collection_id, paper_id, note, position, added_at) SELECT ?, ?, '',"
                " COALESCE(MAX(position), 0) + 1, ? FROM collection_items WHERE collection_id = ?"),
                (library, paper_id, now, library)).rowcount > 0
            if added:
                conn.execute("UPDATE collections SET updated_at = ? WHERE id = ?", (now, library))
            return added

    def vote_counts(self, paper_ids: Iterable[str]) -> dict[str, int]:
        return dict(self._rows_among("SELECT v.paper_id, COUNT(*) FROM votes v JOIN users u ON u.id = v.user_id"
                                     " AND NOT u.hidden WHERE", "v.paper_id", paper_ids, tail=" GROUP BY v.paper_id"))

    def voted_listings(self, day_from: str, day_to: str) -> list[tuple[str, str]]:
        """(paper id, its first listing day in the range) of the papers arXiv announced in [day_from,
        day_to] that someone here upvoted (a hidden user's vote does not count)."""
        return self._all("SELECT l.paper_id, MIN(l.day) FROM listings l"
                         " WHERE l.day BETWEEN ? AND ? AND l.kind <> 'replace' AND EXISTS (SELECT 1 FROM votes v"
                         " JOIN users u ON u.id = v.user_id AND NOT u.hidden WHERE v.paper_id = l.paper_id)"
                         " GROUP BY l.paper_id ORDER BY l.paper_id", (day_from, day_to))

    def _mine(self, table: str, user_id: int, paper_ids: Iterable[str]) -> set[str]:
        return {r[0] for r in self._rows_among(f"SELECT paper_id FROM {table} WHERE user_id = ? AND", "paper_id",
                                               paper_ids, (user_id,))}

    def user_votes(self, user_id: int, paper_ids: Iterable[str]) -> set[str]:
        return self._mine("votes", user_id, paper_ids)

    def user_saves(self, user_id: int, paper_ids: Iterable[str]) -> set[str]:
        return {r[0] for r in self._rows_among(f"SELECT paper_id FROM collection_items WHERE collection_id = ({_LIBRARY})"
                                               " AND", "paper_id", paper_ids, (user_id,))}

    def saved_papers(self, user_id: int, limit: int, offset: int) -> tuple[list[Paper], int]:
        return page_of_papers(
            self, "SELECT p.data FROM collection_items s JOIN papers p ON p.id = s.paper_id"
            f" WHERE s.collection_id = ({_LIBRARY}) ORDER BY s.added_at DESC, s.id DESC",
            f"SELECT COUNT(*) FROM collection_items WHERE collection_id = ({_LIBRARY})", (user_id,), limit, offset)

    # ---- moderation
    def set_paper_hidden(self, paper_id: str, hidden: bool, by_user: int | None = None) -> bool:
        with self._transaction() as conn:
            if hidden:
                cur = conn.execute(self.dialect.ignoring("INSERT INTO hidden_papers(paper_id, hidden_by, hidden_at)"
                                                         " VALUES (?, ?, ?)"), (paper_id, by_user, self._now()))
            else:
                cur = conn.execute("DELETE FROM hidden_papers WHERE paper_id = ?", (paper_id,))
            return cur.rowcount > 0

    def hidden_paper_ids(self) -> set[str]:
        return {r[0] for r in self._all("SELECT paper_id FROM hidden_papers")}
