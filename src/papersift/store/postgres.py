"""PostgreSQL store: the same ``Store`` as SQLite, for several processes and machines at once.

Selected by ``open_store("postgresql://...")``. psycopg 3 with a connection pool: each call takes
a connection for the length of one statement or one transaction, so the store is safe to share
between threads. Papers are a JSON document plus the columns queries filter or sort on, as in
SQLite, and every paper write takes the next number of the ``paper_changes`` sequence inside
the writing transaction. Paper writers hold an advisory lock for their transaction, so change
numbers commit in order: an indexer that has seen change N never later finds a smaller one
appear (what ``iter_changes`` and the watermarks rely on, on every machine).

Failures become papersift errors that the interfaces answer with 503 (postgres_pool.py): no free
connection within the pool's timeout, a server that cannot be reached, a connection lost
mid-call; once the server is back the next call works again.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Iterator

import numpy as np
import psycopg
from psycopg.conninfo import conninfo_to_dict

from papersift.errors import BadInput
from papersift.model import FeedEntry, Paper
from papersift.store.postgres_community import CommunityTables
from papersift.store.postgres_community_signals import SignalTables
from papersift.store.postgres_digest import DigestTables
from papersift.store.postgres_papers import PaperWrites
from papersift.store.postgres_pool import Connections, describe, first_line, pool_settings
from papersift.store.postgres_schema import SCHEMA_VERSION, current_version, migrate

__all__ = ["PostgresStore", "SCHEMA_VERSION", "pool_settings"]


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class PostgresStore(PaperWrites, CommunityTables, SignalTables, DigestTables):
    _now = staticmethod(_now)

    def __init__(self, url: str, *, min_size: int = 1, max_size: int | None = None, timeout: float | None = None):
        """``max_size`` (connections) and ``timeout`` (seconds to wait for one) default to
        :func:`~papersift.store.postgres_pool.pool_settings` (the environment)."""
        self.url = url
        self.where = describe(url)
        try:
            conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise BadInput(f"not a valid PostgreSQL URL ({self.where}): {first_line(exc)}") from None
        size, wait = pool_settings()
        self._connections = Connections(url, min_size, max_size or size, timeout or wait)
        try:
            with self._conn() as conn:
                migrate(conn, _now(), self.where)
        except BaseException:
            self._connections.close()
            raise

    # ---- connections
    def _conn(self):
        """A pooled connection for one statement or transaction (postgres_pool.py)."""
        return self._connections.lend()

    @contextmanager
    def _transaction(self):
        with self._conn() as conn:
            with conn.transaction():
                yield conn

    def _all(self, sql: str, args: tuple | list = ()) -> list[tuple]:
        with self._conn() as conn:
            return conn.execute(sql, args).fetchall()

    def _one(self, sql: str, args: tuple | list = ()) -> tuple | None:
        with self._conn() as conn:
            return conn.execute(sql, args).fetchone()

    def _value(self, sql: str, args: tuple | list = ()):
        row = self._one(sql, args)
        return row[0] if row else None

    def schema_version(self) -> int:
        with self._conn() as conn:
            return current_version(conn)

    def close(self) -> None:
        self._connections.close()

    def data_stamp(self) -> str:
        """Changes whenever anyone commits to the server: where its write-ahead log is inserted up to."""
        return self._one("SELECT pg_current_wal_insert_lsn()::text")[0]

    # ---- papers (the writes are in postgres_papers.py)
    @staticmethod
    def _row_to_paper(data: str) -> Paper:
        return Paper.from_dict(json.loads(data))

    def get_paper(self, paper_id: str) -> Paper | None:
        data = self._value("SELECT data FROM papers WHERE id = %s", (paper_id,))
        return self._row_to_paper(data) if data else None

    def get_papers(self, ids: Iterable[str]) -> dict[str, Paper]:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return {}
        rows = self._all("SELECT id, data FROM papers WHERE id = ANY(%s)", (ids,))
        return {pid: self._row_to_paper(data) for pid, data in rows}

    def known_ids(self, ids: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(ids))
        return {r[0] for r in self._all("SELECT id FROM papers WHERE id = ANY(%s)", (ids,))} if ids else set()

    def count_papers(self) -> int:
        return self._value("SELECT COUNT(*) FROM papers")

    def max_seq(self) -> int:
        # the highest committed change, not the sequence's position: a rolled-back write
        # takes numbers too, and those name no change
        return self._value("SELECT COALESCE(MAX(seq), 0) FROM papers")

    def iter_changes(self, after_seq: int, batch: int = 1000) -> Iterator[tuple[int, Paper]]:
        last = after_seq
        while True:  # one short query per batch: no connection is held while the caller works
            rows = self._all("SELECT seq, data FROM papers WHERE seq > %s ORDER BY seq LIMIT %s", (last, batch))
            if not rows:
                return
            for seq, data in rows:
                yield seq, self._row_to_paper(data)
            last = rows[-1][0]

    # ---- feed (SQLite sorts NULL first ascending and last descending: said explicitly here)
    def feed_entries(self, day_from: str, day_to: str) -> list[tuple[Paper, FeedEntry]]:
        rows = self._all(
            "SELECT p.data, f.day, f.upvotes, f.num_comments, f.rank, f.submitted_by, f.captured_at"
            " FROM feed_entries f JOIN papers p ON p.id = f.paper_id"
            " WHERE f.day BETWEEN %s AND %s ORDER BY f.day, f.rank NULLS FIRST, f.paper_id", (day_from, day_to))
        return [(self._row_to_paper(r[0]), FeedEntry(*r[1:])) for r in rows]

    def feed_rows(self, day_from: str, day_to: str) -> list[tuple[Paper, FeedEntry]]:
        rows = self._all(
            "SELECT p.id, p.upvotes, p.published, f.day, f.upvotes, f.num_comments, f.rank, f.submitted_by,"
            " f.captured_at FROM feed_entries f JOIN papers p ON p.id = f.paper_id"
            " WHERE f.day BETWEEN %s AND %s ORDER BY f.day, f.rank NULLS FIRST, f.paper_id", (day_from, day_to))
        return [(Paper(id=r[0], upvotes=r[1], published=r[2]), FeedEntry(*r[3:])) for r in rows]

    def nearest_feed_days(self, day: str) -> tuple[str | None, str | None]:
        row = self._one("SELECT (SELECT MAX(day) FROM feed_entries WHERE day < %s),"
                        " (SELECT MIN(day) FROM feed_entries WHERE day > %s)", (day, day))
        return row[0], row[1]

    def latest_feed_day(self) -> str | None:
        return self._value("SELECT MAX(day) FROM feed_entries")

    def papers_published_between(self, day_from: str, day_to: str) -> list[Paper]:
        until = (date.fromisoformat(day_to) + timedelta(days=1)).isoformat()
        rows = self._all("SELECT data FROM papers WHERE published >= %s AND published < %s ORDER BY published, id",
                         (day_from, until))
        return [self._row_to_paper(r[0]) for r in rows]

    # ---- cursors and watermarks
    def get_cursor(self, name: str) -> dict | None:
        value = self._value("SELECT value FROM cursors WHERE name = %s", (name,))
        return json.loads(value) if value else None

    def set_cursor(self, name: str, value: dict | None) -> None:
        with self._transaction() as conn:
            self._write_cursor(conn, name, value)

    def _write_cursor(self, conn, name: str, value: dict | None) -> None:
        conn.execute("INSERT INTO cursors(name, value, updated_at) VALUES (%s, %s, %s) ON CONFLICT (name)"
                     " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                     (name, json.dumps(value) if value is not None else None, _now()))

    def get_watermark(self, name: str) -> int:
        return self._value("SELECT seq FROM watermarks WHERE name = %s", (name,)) or 0

    def set_watermark(self, name: str, seq: int) -> None:
        with self._transaction() as conn:
            conn.execute("INSERT INTO watermarks(name, seq) VALUES (%s, %s)"
                         " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq", (name, seq))

    # ---- embeddings: float32 bytes in bytea (the source of truth; no pgvector needed)
    def get_embeddings(self, model: str, keys: dict[str, str]) -> dict[str, np.ndarray]:
        if not keys:
            return {}
        rows = self._all("SELECT paper_id, text_hash, vector FROM embeddings WHERE model = %s AND paper_id = ANY(%s)",
                         (model, list(keys)))
        return {pid: np.frombuffer(blob, dtype=np.float32) for pid, text_hash, blob in rows if keys[pid] == text_hash}

    def put_embeddings(self, model: str, rows: list[tuple[str, str, np.ndarray]]) -> None:
        # one row per paper (the last given wins, as with SQLite's executemany): one INSERT may
        # not update the same row twice
        latest = {pid: (h, np.asarray(v, dtype=np.float32).tobytes()) for pid, h, v in rows}
        if not latest:
            return
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO embeddings(paper_id, model, text_hash, vector)"
                " SELECT p, %s, h, v FROM unnest(%s::text[], %s::text[], %s::bytea[]) AS r(p, h, v)"
                " ON CONFLICT (model, paper_id) DO UPDATE SET text_hash = excluded.text_hash, vector = excluded.vector",
                (model, list(latest), [h for h, _ in latest.values()], [v for _, v in latest.values()]))

    def iter_embeddings(self, model: str, batch: int = 5000) -> Iterator[tuple[str, np.ndarray]]:
        last = ""
        while True:
            rows = self._all("SELECT paper_id, vector FROM embeddings WHERE model = %s AND paper_id > %s"
                             " ORDER BY paper_id LIMIT %s", (model, last, batch))
            if not rows:
                return
            for pid, blob in rows:
                yield pid, np.frombuffer(blob, dtype=np.float32)
            last = rows[-1][0]
