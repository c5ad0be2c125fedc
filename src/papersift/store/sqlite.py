"""SQLite store: one file, WAL, schema versioned by ``PRAGMA user_version`` (sqlite_schema.py).

The queries are the shared ones (papers.py, community.py, signals.py, digests.py); this file keeps
what is SQLite's own: a connection per thread, one writer at a time (a process lock, then ``BEGIN
IMMEDIATE`` against other processes), the migration runner, the change counter (the highest number
so far, counted on under the write lock), a paper's authors as ``paper_authors`` rows, and
``PRAGMA data_version`` as the stamp of the last commit. What its errors mean: sqlite_errors.py.
"""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

from papersift.errors import BadInput, PapersiftError
from papersift.model import Paper
from papersift.store.authorship import AuthorshipTables
from papersift.store.collections import CollectionTables
from papersift.store.community import CommunityTables
from papersift.store.digests import DigestTables, WebhookTables
from papersift.store.discussion import DiscussionTables
from papersift.store.papers import PaperTables, document
from papersift.store.signals import SignalTables
from papersift.store.sql import Connection, Dialect
from papersift.store.sqlite_errors import cannot_write, disk_full, open_error, when_not_busy
from papersift.store.sqlite_schema import MIGRATIONS, SCHEMA_VERSION

__all__ = ["SQLiteStore", "MIGRATIONS", "SCHEMA_VERSION"]

SQLITE = Dialect(duplicate=sqlite3.IntegrityError)
_WRITE_PAPER = (
    "INSERT INTO papers(id, seq, data, title, published, organization, upvotes, has_code, created_at, updated_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, data = excluded.data,"
    " title = excluded.title, published = excluded.published, organization = excluded.organization,"
    " upvotes = excluded.upvotes, has_code = excluded.has_code, updated_at = excluded.updated_at")


class SQLiteStore(PaperTables, CommunityTables, SignalTables, DigestTables, DiscussionTables, CollectionTables,
                  AuthorshipTables, WebhookTables):
    dialect = SQLITE

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        if self.path.is_dir():
            raise BadInput(f"database path is a directory: {self.path}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BadInput(f"cannot create the folder {self.path.parent} for the database: "
                           f"{exc.strerror or exc}") from None
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._stamp_lock = threading.Lock()
        self._stamp_conn: sqlite3.Connection | None = None
        self._migrate()

    # ---- connections: one per thread (the API server answers from a thread pool)
    @property
    def _db(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
                when_not_busy(lambda: conn.execute("PRAGMA journal_mode=WAL"))
            except sqlite3.DatabaseError as exc:
                if conn is not None:
                    conn.close()
                raise self._open_error(exc) from None
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            self._local.conn = conn
        return conn

    def _all(self, sql: str, args=()) -> list[tuple]:
        return self._db.execute(sql, args).fetchall()

    def _one(self, sql: str, args=()) -> tuple | None:
        return self._db.execute(sql, args).fetchone()

    def data_stamp(self) -> int:
        """Changes whenever any connection (another thread's, another process's) commits to the file:
        ``PRAGMA data_version`` of a connection kept only for asking (web/page_cache.py keys on it)."""
        with self._stamp_lock:
            if self._stamp_conn is None:
                self._stamp_conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            return self._stamp_conn.execute("PRAGMA data_version").fetchone()[0]

    @contextmanager
    def _transaction(self):
        with self._write_lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    yield db
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
            except sqlite3.OperationalError as exc:  # a full disk: SQLite has rolled the transaction back
                if not (cannot_write(exc) or disk_full(exc, self.path)):
                    raise
                raise self._open_error(exc) from None

    def _open_error(self, exc: sqlite3.DatabaseError) -> PapersiftError:
        return open_error(exc, self.path)

    def close(self) -> None:
        for conn in (getattr(self._local, "conn", None), self._stamp_conn):
            if conn is not None:
                conn.close()
        self._local.conn = self._stamp_conn = None

    # ---- the schema
    def _migrate(self) -> None:
        try:
            version = when_not_busy(lambda: self._db.execute("PRAGMA user_version").fetchone()[0])
        except sqlite3.DatabaseError as exc:
            raise self._open_error(exc) from None
        if version > SCHEMA_VERSION:
            raise BadInput(
                f"{self.path} has schema version {version}; this papersift knows {SCHEMA_VERSION}: upgrade papersift"
            )
        for number in range(version, SCHEMA_VERSION):
            with self._transaction() as db:
                # Another process may have migrated since we looked: re-read under the write lock.
                if db.execute("PRAGMA user_version").fetchone()[0] > number:
                    continue
                for statement in MIGRATIONS[number].split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number + 1}")

    def schema_version(self) -> int:
        return self._db.execute("PRAGMA user_version").fetchone()[0]

    # ---- what SQLite does its own way
    def _take_seqs(self, conn: Connection, count: int) -> list[int]:
        # the write lock is held: nobody else numbers a change until this transaction ends
        last = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM papers").fetchone()[0]
        return list(range(last + 1, last + count + 1))

    def _write_papers(self, conn: Connection, papers: list[tuple[Paper, int]],
                      authors_before: dict[str, list[str]]) -> None:
        now = self._now()
        conn.executemany(_WRITE_PAPER, [(p.id, seq, document(p), p.title, p.published, p.organization, p.upvotes,
                                         p.has_code, now, now) for p, seq in papers])
        authors_changed = [p for p, _ in papers if p.id not in authors_before or authors_before[p.id] != p.authors]
        conn.executemany("DELETE FROM paper_authors WHERE paper_id = ?",
                         [(p.id,) for p in authors_changed if p.id in authors_before])
        conn.executemany("INSERT INTO paper_authors(paper_id, position, name) VALUES (?, ?, ?)",
                         [(p.id, i, a) for p in authors_changed for i, a in enumerate(p.authors or []) if a])

    def _by_author(self, name: str) -> tuple[str, tuple]:
        # COLLATE NOCASE on both sides: the paper_authors_name index answers it
        return "id IN (SELECT paper_id FROM paper_authors WHERE name = ? COLLATE NOCASE)", (name,)
