"""SQLite tables of the website: accounts, sessions, API tokens, votes, saves, moderation,
and the organisation / author listings.

A mixin of :class:`~papersift.store.sqlite.SQLiteStore` (kept apart so neither file grows past
a readable size); it uses the store's per-thread connection and write transaction. The
schema is migration 2 in ``sqlite.py``. Secrets (session ids, API tokens) arrive here already
hashed: the database never holds a value that would let someone act as a user.
"""

from __future__ import annotations

import sqlite3
from contextlib import suppress
from typing import Iterable

from papersift.errors import Conflict, DiskFull
from papersift.model import ApiToken, FeedEntry, Paper, User

# Migration 2 (appended to sqlite.MIGRATIONS). The author rows of existing papers are filled
# from their JSON here; new and changed papers keep them current in SQLiteStore.upsert_papers.
COMMUNITY_SCHEMA = """
    CREATE INDEX papers_organization ON papers(organization COLLATE NOCASE, published);
    CREATE TABLE paper_authors (
        paper_id TEXT NOT NULL REFERENCES papers(id),
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (paper_id, position)
    );
    CREATE INDEX paper_authors_name ON paper_authors(name COLLATE NOCASE);
    INSERT INTO paper_authors(paper_id, position, name)
        SELECT p.id, j.key, j.value FROM papers p, json_each(p.data, '$.authors') j
        WHERE j.type = 'text' AND j.value != '';
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        is_admin INTEGER NOT NULL DEFAULT 0,
        hidden INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE sessions (
        session_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        csrf_token TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        user_id INTEGER NOT NULL REFERENCES users(id),
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_used_at TEXT
    );
    CREATE TABLE login_failures (key TEXT NOT NULL, at TEXT NOT NULL);
    CREATE INDEX login_failures_key ON login_failures(key, at);
    CREATE TABLE votes (
        user_id INTEGER NOT NULL REFERENCES users(id),
        paper_id TEXT NOT NULL REFERENCES papers(id),
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, paper_id)
    );
    CREATE INDEX votes_paper ON votes(paper_id);
    CREATE TABLE saves (
        user_id INTEGER NOT NULL REFERENCES users(id),
        paper_id TEXT NOT NULL REFERENCES papers(id),
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, paper_id)
    );
    CREATE TABLE hidden_papers (
        paper_id TEXT PRIMARY KEY REFERENCES papers(id),
        hidden_by INTEGER REFERENCES users(id),
        hidden_at TEXT NOT NULL
    )
"""

# Migration 6: what an API token may do. Every token made before could vote and save: they stay "write".
TOKEN_SCOPE_SCHEMA = """
    ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'write' CHECK (scope IN ('read', 'write'))
"""

_USER_COLUMNS = "u.id, u.email, u.name, u.password_hash, u.is_admin, u.hidden, u.created_at"


def _user(row) -> User | None:
    if row is None:
        return None
    uid, email, name, pw, admin, hidden, created = row[:7]
    return User(uid, email, name, pw, bool(admin), bool(hidden), created)


def _chunks(ids: Iterable[str], size: int = 500):
    ids = list(dict.fromkeys(ids))
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


class CommunityTables:
    """Queries on the website's tables (mixed into SQLiteStore)."""

    _db: sqlite3.Connection  # provided by SQLiteStore

    @staticmethod
    def _write_authors(db: sqlite3.Connection, paper: Paper, replace: bool) -> None:
        if replace:
            db.execute("DELETE FROM paper_authors WHERE paper_id = ?", (paper.id,))
        db.executemany("INSERT INTO paper_authors(paper_id, position, name) VALUES (?, ?, ?)",
                       [(paper.id, i, a) for i, a in enumerate(paper.authors or []) if a])

    # ---- feed ranking without decoding every paper's JSON
    def feed_rows(self, day_from: str, day_to: str) -> list[tuple[Paper, FeedEntry]]:
        rows = self._db.execute(
            "SELECT p.id, p.upvotes, p.published, f.day, f.upvotes, f.num_comments, f.rank, f.submitted_by,"
            " f.captured_at FROM feed_entries f JOIN papers p ON p.id = f.paper_id"
            " WHERE f.day BETWEEN ? AND ? ORDER BY f.day, f.rank", (day_from, day_to)).fetchall()
        return [(Paper(id=r[0], upvotes=r[1], published=r[2]), FeedEntry(*r[3:])) for r in rows]

    # ---- listings
    def _page_of_papers(self, sql: str, count_sql: str, args: tuple, limit: int, offset: int):
        total = self._db.execute(count_sql, args).fetchone()[0]
        rows = self._db.execute(sql + " LIMIT ? OFFSET ?", args + (limit, offset)).fetchall()
        return [self._row_to_paper(r[0]) for r in rows], total

    def papers_by_organization(self, name: str, limit: int, offset: int) -> tuple[list[Paper], int]:
        # COLLATE NOCASE on both sides so the papers_organization index answers (and orders) it
        where = " FROM papers WHERE organization = ? COLLATE NOCASE"
        return self._page_of_papers("SELECT data" + where + " ORDER BY published DESC, id",
                                    "SELECT COUNT(*)" + where, (name,), limit, offset)

    def papers_by_author(self, name: str, limit: int, offset: int) -> tuple[list[Paper], int]:
        ids = "SELECT DISTINCT paper_id FROM paper_authors WHERE name = ? COLLATE NOCASE"
        return self._page_of_papers(
            f"SELECT data FROM papers WHERE id IN ({ids}) ORDER BY published DESC, id",
            f"SELECT COUNT(*) FROM ({ids})", (name,), limit, offset)

    # ---- users
    def create_user(self, email: str, name: str, password_hash: str, is_admin: bool = False) -> User:
        now = self._now()
        with self._transaction() as db:
            try:
                cur = db.execute(
                    "INSERT INTO users(email, name, password_hash, is_admin, created_at) VALUES (?, ?, ?, ?, ?)",
                    (email, name, password_hash, int(is_admin), now))
            except sqlite3.IntegrityError:
                raise Conflict(f"an account with the email {email} already exists") from None
        return User(cur.lastrowid, email, name, password_hash, is_admin, False, now)

    def get_user(self, user_id: int) -> User | None:
        return _user(self._db.execute(f"SELECT {_USER_COLUMNS} FROM users u WHERE u.id = ?", (user_id,)).fetchone())

    def get_user_by_email(self, email: str) -> User | None:
        return _user(self._db.execute(f"SELECT {_USER_COLUMNS} FROM users u WHERE u.email = ?", (email,)).fetchone())

    def update_user(self, user_id: int, *, is_admin: bool | None = None, hidden: bool | None = None,
                    password_hash: str | None = None) -> None:
        changes = [(col, val) for col, val in (("is_admin", is_admin), ("hidden", hidden),
                                              ("password_hash", password_hash)) if val is not None]
        if not changes:
            return
        sets = ", ".join(f"{col} = ?" for col, _ in changes)  # column names are fixed above
        values = [int(v) if isinstance(v, bool) else v for _, v in changes]
        with self._transaction() as db:
            db.execute(f"UPDATE users SET {sets} WHERE id = ?", (*values, user_id))

    def list_users(self, hidden: bool | None = None, limit: int = 100) -> list[User]:
        where, args = ("WHERE u.hidden = ?", (int(hidden),)) if hidden is not None else ("", ())
        rows = self._db.execute(f"SELECT {_USER_COLUMNS} FROM users u {where} ORDER BY u.id LIMIT ?",
                                (*args, limit)).fetchall()
        return [_user(r) for r in rows]

    # ---- sessions
    def create_session(self, session_hash: str, user_id: int, csrf_token: str, expires_at: str) -> None:
        now = self._now()
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (now,))  # housekeeping
            db.execute("INSERT INTO sessions(session_hash, user_id, csrf_token, created_at, expires_at)"
                       " VALUES (?, ?, ?, ?, ?)", (session_hash, user_id, csrf_token, now, expires_at))

    def get_session(self, session_hash: str, now: str) -> tuple[User, str] | None:
        row = self._db.execute(
            f"SELECT {_USER_COLUMNS}, s.csrf_token FROM sessions s JOIN users u ON u.id = s.user_id"
            " WHERE s.session_hash = ? AND s.expires_at > ? AND u.hidden = 0", (session_hash, now)).fetchone()
        return (_user(row), row[7]) if row else None

    def delete_session(self, session_hash: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE session_hash = ?", (session_hash,))

    def delete_user_sessions(self, user_id: int) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))

    # ---- API tokens
    def create_api_token(self, token_hash: str, user_id: int, name: str, scope: str = "write") -> ApiToken:
        now = self._now()
        with self._transaction() as db:
            cur = db.execute("INSERT INTO api_tokens(token_hash, user_id, name, created_at, scope)"
                             " VALUES (?, ?, ?, ?, ?)", (token_hash, user_id, name, now, scope))
        return ApiToken(cur.lastrowid, user_id, name, now, scope=scope)

    def user_for_api_token(self, token_hash: str) -> User | None:
        row = self._db.execute(
            f"SELECT {_USER_COLUMNS}, t.id, t.last_used_at, t.scope FROM api_tokens t JOIN users u ON u.id = t.user_id"
            " WHERE t.token_hash = ? AND u.hidden = 0", (token_hash,)).fetchone()
        if row is None:
            return None
        now = self._now()
        if (row[8] or "")[:16] != now[:16]:  # note use at most once a minute: reads stay reads
            with suppress(DiskFull), self._transaction() as db:  # a full disk: the note waits, the read goes on
                db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", (now, row[7]))
        user = _user(row)
        user.token_scope = row[9]
        return user

    def list_api_tokens(self, user_id: int) -> list[ApiToken]:
        rows = self._db.execute("SELECT id, user_id, name, created_at, last_used_at, scope FROM api_tokens"
                                " WHERE user_id = ? ORDER BY id", (user_id,)).fetchall()
        return [ApiToken(*r) for r in rows]

    def delete_api_token(self, user_id: int, token_id: int) -> bool:
        with self._transaction() as db:
            return db.execute("DELETE FROM api_tokens WHERE id = ? AND user_id = ?",
                              (token_id, user_id)).rowcount > 0

    # ---- login throttling
    def record_login_failure(self, key: str, at: str) -> None:
        with self._transaction() as db:
            db.execute("INSERT INTO login_failures(key, at) VALUES (?, ?)", (key, at))

    def count_login_failures(self, key: str, since: str) -> int:
        return self._db.execute("SELECT COUNT(*) FROM login_failures WHERE key = ? AND at > ?",
                                (key, since)).fetchone()[0]

    def clear_login_failures(self, key: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM login_failures WHERE key = ?", (key,))

    # ---- votes and saves: the primary key makes each one-per-user; INSERT OR IGNORE and
    # DELETE inside one write transaction make a click atomic however many arrive at once
    def _toggle(self, table: str, user_id: int, paper_id: str, on: bool) -> bool:
        with self._transaction() as db:
            if on:
                cur = db.execute(f"INSERT OR IGNORE INTO {table}(user_id, paper_id, created_at) VALUES (?, ?, ?)",
                                 (user_id, paper_id, self._now()))
            else:
                cur = db.execute(f"DELETE FROM {table} WHERE user_id = ? AND paper_id = ?", (user_id, paper_id))
            return cur.rowcount > 0

    def set_vote(self, user_id: int, paper_id: str, on: bool) -> bool:
        return self._toggle("votes", user_id, paper_id, on)

    def set_saved(self, user_id: int, paper_id: str, on: bool) -> bool:
        return self._toggle("saves", user_id, paper_id, on)

    def vote_counts(self, paper_ids: Iterable[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for chunk in _chunks(paper_ids):
            marks = ",".join("?" * len(chunk))
            counts.update(self._db.execute(
                "SELECT v.paper_id, COUNT(*) FROM votes v JOIN users u ON u.id = v.user_id AND u.hidden = 0"
                f" WHERE v.paper_id IN ({marks}) GROUP BY v.paper_id", chunk).fetchall())
        return counts

    def _mine(self, table: str, user_id: int, paper_ids: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(paper_ids):
            marks = ",".join("?" * len(chunk))
            found.update(r[0] for r in self._db.execute(
                f"SELECT paper_id FROM {table} WHERE user_id = ? AND paper_id IN ({marks})", (user_id, *chunk)))
        return found

    def user_votes(self, user_id: int, paper_ids: Iterable[str]) -> set[str]:
        return self._mine("votes", user_id, paper_ids)

    def user_saves(self, user_id: int, paper_ids: Iterable[str]) -> set[str]:
        return self._mine("saves", user_id, paper_ids)

    def saved_papers(self, user_id: int, limit: int, offset: int) -> tuple[list[Paper], int]:
        return self._page_of_papers(
            "SELECT p.data FROM saves s JOIN papers p ON p.id = s.paper_id WHERE s.user_id = ?"
            " ORDER BY s.created_at DESC, s.rowid DESC",
            "SELECT COUNT(*) FROM saves WHERE user_id = ?", (user_id,), limit, offset)

    # ---- moderation
    def set_paper_hidden(self, paper_id: str, hidden: bool, by_user: int | None = None) -> bool:
        with self._transaction() as db:
            if hidden:
                cur = db.execute("INSERT OR IGNORE INTO hidden_papers(paper_id, hidden_by, hidden_at)"
                                 " VALUES (?, ?, ?)", (paper_id, by_user, self._now()))
            else:
                cur = db.execute("DELETE FROM hidden_papers WHERE paper_id = ?", (paper_id,))
            return cur.rowcount > 0

    def hidden_paper_ids(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT paper_id FROM hidden_papers")}
