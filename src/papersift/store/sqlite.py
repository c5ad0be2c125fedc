"""SQLite store: one file, WAL, schema versioned by ``PRAGMA user_version``.

Papers are kept as a JSON document plus the columns that queries filter or sort on. Every
write bumps a change number (``seq``); derived indexes remember the last change they saw,
so a crash between a store write and an index update is repaired by the next catch-up.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from papersift.errors import BadInput, PapersiftError
from papersift.model import FeedEntry, Paper, UpsertResult
from papersift.store.merge import merge
from papersift.store.sqlite_community import COMMUNITY_SCHEMA, TOKEN_SCOPE_SCHEMA, CommunityTables
from papersift.store.sqlite_community_signals import FEED_TOKENS_SCHEMA, SIGNALS_SCHEMA, SignalTables
from papersift.store.sqlite_digest import DIGEST_SCHEMA, DigestTables
from papersift.store.sqlite_errors import cannot_write, disk_full, open_error, when_not_busy

# Each entry migrates the schema from version i to i+1. Append, never edit.
MIGRATIONS = [
    """
    CREATE TABLE papers (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        data TEXT NOT NULL,
        title TEXT,
        published TEXT,
        organization TEXT,
        upvotes INTEGER,
        has_code INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX papers_seq ON papers(seq);
    CREATE INDEX papers_published ON papers(published);
    CREATE TABLE feed_entries (
        paper_id TEXT NOT NULL REFERENCES papers(id),
        day TEXT NOT NULL,
        upvotes INTEGER,
        num_comments INTEGER,
        rank INTEGER,
        submitted_by TEXT,
        captured_at TEXT,
        PRIMARY KEY (paper_id, day)
    );
    CREATE INDEX feed_entries_day ON feed_entries(day);
    CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT, updated_at TEXT NOT NULL);
    CREATE TABLE watermarks (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
    CREATE TABLE embeddings (
        paper_id TEXT NOT NULL,
        model TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (model, paper_id)
    );
    """,
    # 2: the website (accounts, votes, saves, moderation) and the organisation/author listings
    COMMUNITY_SCHEMA,
    # 3: email digests (subscribers, topics, outbox, sent papers) and generated secrets
    DIGEST_SCHEMA,
    # 4: the recommender's signals ("more like this", "not for me")
    SIGNALS_SCHEMA,
    # 5: the private recommendations feed's token
    FEED_TOKENS_SCHEMA,
    TOKEN_SCOPE_SCHEMA,  # 6: API token scopes, read or write
]
SCHEMA_VERSION = len(MIGRATIONS)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class SQLiteStore(CommunityTables, SignalTables, DigestTables):
    _now = staticmethod(_now)

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
        self._stamp_lock, self._stamp_conn = threading.Lock(), None
        self._migrate()

    # connections: one per thread (the API server answers from a thread pool)
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

    # ---- papers
    def upsert_papers(
        self, records: Iterable[Paper], cursor: tuple[str, dict | None] | None = None
    ) -> UpsertResult:
        result = UpsertResult()
        with self._transaction() as db:
            seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM papers").fetchone()[0]
            for record in records:
                row = db.execute("SELECT data FROM papers WHERE id = ?", (record.id,)).fetchone()
                existing = Paper.from_dict(json.loads(row[0])) if row else None
                merged, changed = merge(existing, record)
                if changed:
                    seq += 1
                    self._write_paper(db, merged, seq, insert=existing is None)
                    if existing is None or existing.authors != merged.authors:
                        self._write_authors(db, merged, replace=existing is not None)
                entry_changed = record.feed_entry is not None and self._upsert_feed_entry(
                    db, record.id, record.feed_entry
                )
                if not changed and not entry_changed:
                    result.unchanged += 1
                elif existing is None:
                    result.inserted += 1
                else:
                    result.updated += 1
            if cursor is not None:
                name, value = cursor
                db.execute(
                    "INSERT INTO cursors(name, value, updated_at) VALUES (?, ?, ?) "
                    "ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                    (name, json.dumps(value) if value is not None else None, _now()),
                )
        return result

    @staticmethod
    def _write_paper(db: sqlite3.Connection, paper: Paper, seq: int, insert: bool) -> None:
        data = json.dumps(paper.to_dict() | {"has_code": None, "url": None, "pdf_url": None})
        values = (seq, data, paper.title, paper.published, paper.organization,
                  paper.upvotes, int(paper.has_code), _now(), paper.id)
        if insert:
            db.execute(
                "INSERT INTO papers(seq, data, title, published, organization, upvotes, has_code,"
                " updated_at, id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                values + (_now(),),
            )
        else:
            db.execute(
                "UPDATE papers SET seq = ?, data = ?, title = ?, published = ?, organization = ?,"
                " upvotes = ?, has_code = ?, updated_at = ? WHERE id = ?",
                values,
            )

    @staticmethod
    def _upsert_feed_entry(db: sqlite3.Connection, paper_id: str, entry: FeedEntry) -> bool:
        """Insert, or update when this capture is at least as new; return whether it changed."""
        row = db.execute(
            "SELECT upvotes, num_comments, rank, submitted_by, captured_at FROM feed_entries"
            " WHERE paper_id = ? AND day = ?",
            (paper_id, entry.day),
        ).fetchone()
        new = (entry.upvotes, entry.num_comments, entry.rank, entry.submitted_by, entry.captured_at)
        if row is not None and (tuple(row) == new or (row[4] or "") > (entry.captured_at or "")):
            return False
        db.execute(
            "INSERT INTO feed_entries(paper_id, day, upvotes, num_comments, rank, submitted_by, captured_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(paper_id, day) DO UPDATE SET"
            " upvotes = excluded.upvotes, num_comments = excluded.num_comments, rank = excluded.rank,"
            " submitted_by = excluded.submitted_by, captured_at = excluded.captured_at",
            (paper_id, entry.day) + new,
        )
        return True

    def _row_to_paper(self, data: str) -> Paper:
        return Paper.from_dict(json.loads(data))

    def get_paper(self, paper_id: str) -> Paper | None:
        row = self._db.execute("SELECT data FROM papers WHERE id = ?", (paper_id,)).fetchone()
        return self._row_to_paper(row[0]) if row else None

    def get_papers(self, ids: Iterable[str]) -> dict[str, Paper]:
        ids = list(dict.fromkeys(ids))
        found: dict[str, Paper] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for pid, data in self._db.execute(
                f"SELECT id, data FROM papers WHERE id IN ({marks})", chunk
            ):
                found[pid] = self._row_to_paper(data)
        return found

    def known_ids(self, ids: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(ids))
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            found.update(r[0] for r in self._db.execute(
                f"SELECT id FROM papers WHERE id IN ({','.join('?' * len(chunk))})", chunk))
        return found

    def count_papers(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM papers").fetchone()[0]

    def max_seq(self) -> int:
        return self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM papers").fetchone()[0]

    def iter_changes(self, after_seq: int, batch: int = 1000) -> Iterator[tuple[int, Paper]]:
        last = after_seq
        while True:
            rows = self._db.execute(
                "SELECT seq, data FROM papers WHERE seq > ? ORDER BY seq LIMIT ?", (last, batch)
            ).fetchall()
            if not rows:
                return
            for seq, data in rows:
                yield seq, self._row_to_paper(data)
            last = rows[-1][0]

    # ---- feed
    def feed_entries(self, day_from: str, day_to: str) -> list[tuple[Paper, FeedEntry]]:
        rows = self._db.execute(
            "SELECT p.data, f.day, f.upvotes, f.num_comments, f.rank, f.submitted_by, f.captured_at"
            " FROM feed_entries f JOIN papers p ON p.id = f.paper_id"
            " WHERE f.day BETWEEN ? AND ? ORDER BY f.day, f.rank",
            (day_from, day_to),
        ).fetchall()
        return [(self._row_to_paper(r[0]), FeedEntry(*r[1:])) for r in rows]

    def nearest_feed_days(self, day: str) -> tuple[str | None, str | None]:
        before = self._db.execute("SELECT MAX(day) FROM feed_entries WHERE day < ?", (day,)).fetchone()[0]
        after = self._db.execute("SELECT MIN(day) FROM feed_entries WHERE day > ?", (day,)).fetchone()[0]
        return before, after

    def latest_feed_day(self) -> str | None:
        return self._db.execute("SELECT MAX(day) FROM feed_entries").fetchone()[0]

    # ---- cursors and watermarks
    def get_cursor(self, name: str) -> dict | None:
        row = self._db.execute("SELECT value FROM cursors WHERE name = ?", (name,)).fetchone()
        return json.loads(row[0]) if row and row[0] else None

    def get_watermark(self, name: str) -> int:
        row = self._db.execute("SELECT seq FROM watermarks WHERE name = ?", (name,)).fetchone()
        return row[0] if row else 0

    def set_watermark(self, name: str, seq: int) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO watermarks(name, seq) VALUES (?, ?)"
                " ON CONFLICT(name) DO UPDATE SET seq = excluded.seq",
                (name, seq),
            )

    # ---- embeddings
    def get_embeddings(self, model: str, keys: dict[str, str]) -> dict[str, np.ndarray]:
        ids = list(keys)
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            marks = ",".join("?" * len(chunk))
            for pid, text_hash, blob in self._db.execute(
                f"SELECT paper_id, text_hash, vector FROM embeddings WHERE model = ? AND paper_id IN ({marks})",
                [model, *chunk],
            ):
                if keys[pid] == text_hash:
                    found[pid] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_embeddings(self, model: str, rows: list[tuple[str, str, np.ndarray]]) -> None:
        with self._transaction() as db:
            db.executemany(
                "INSERT INTO embeddings(paper_id, model, text_hash, vector) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(model, paper_id) DO UPDATE SET text_hash = excluded.text_hash,"
                " vector = excluded.vector",
                [(pid, model, h, np.asarray(v, dtype=np.float32).tobytes()) for pid, h, v in rows],
            )

    def close(self) -> None:
        for conn in (getattr(self._local, "conn", None), self._stamp_conn):
            if conn is not None:
                conn.close()
        self._local.conn = self._stamp_conn = None

    def iter_embeddings(self, model: str, batch: int = 5000) -> Iterator[tuple[str, np.ndarray]]:
        last = ""
        while True:
            rows = self._db.execute(
                "SELECT paper_id, vector FROM embeddings WHERE model = ? AND paper_id > ?"
                " ORDER BY paper_id LIMIT ?",
                (model, last, batch),
            ).fetchall()
            if not rows:
                return
            for pid, blob in rows:
                yield pid, np.frombuffer(blob, dtype=np.float32)
            last = rows[-1][0]
