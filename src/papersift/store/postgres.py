"""PostgreSQL store: the same ``Store`` as SQLite, for several processes and machines at once.

Selected by ``open_store("postgresql://...")``. The queries are the shared ones (papers.py,
community.py, signals.py, digests.py), whose ``?`` placeholders this store's connections turn into
psycopg's ``%s``; this file keeps what is PostgreSQL's own. psycopg 3 with a connection pool
(postgres_pool.py): each call takes a connection for the length of one statement or one
transaction, so the store is safe to share between threads. Every paper write takes the next
numbers of the ``paper_changes`` sequence inside the writing transaction, and paper writers hold an
advisory lock for their transaction, so change numbers commit in order: an indexer that has seen
change N never later finds a smaller one appear (what ``iter_changes`` and the watermarks rely
on, on every machine). Papers go in with one ``INSERT ... SELECT FROM unnest(...)`` per batch,
their author keys included (the schema's form of SQLite's ``paper_authors``: postgres_schema.py).

Failures become papersift errors that the interfaces answer with 503 (postgres_pool.py): no free
connection within the pool's timeout, a server that cannot be reached, a connection lost
mid-call; once the server is back the next call works again.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from functools import lru_cache

import psycopg
from psycopg.conninfo import conninfo_to_dict

from papersift.errors import BadInput
from papersift.model import Paper
from papersift.store.authorship import AuthorshipTables
from papersift.store.collections import CollectionTables
from papersift.store.community import CommunityTables
from papersift.store.digests import DigestTables, WebhookTables
from papersift.store.discussion import DiscussionTables
from papersift.store.papers import PaperTables, document
from papersift.store.postgres_pool import Connections, describe, first_line, pool_settings
from papersift.store.postgres_schema import PAPER_WRITE_LOCK, SCHEMA_VERSION, author_key, current_version, migrate
from papersift.store.signals import SignalTables
from papersift.store.sql import Connection, PostgresDialect

__all__ = ["PostgresStore", "SCHEMA_VERSION", "pool_settings"]

POSTGRES = PostgresDialect(duplicate=psycopg.errors.UniqueViolation)
# %b: the arrays go in PostgreSQL's binary format, which needs no quoting of every string (the
# text format's escaping was half the time of a bulk load). Each paper's author keys travel as one
# JSON array text (unnest cannot take an array of arrays).
_WRITE_PAPERS = (
    "INSERT INTO papers(id, seq, data, title, published, organization, upvotes, has_code, author_keys,"
    " created_at, updated_at) SELECT i, s, d, t, p, o, u, c, ARRAY(SELECT json_array_elements_text(a::json)), %s, %s"
    " FROM unnest(%b::text[], %b::bigint[], %b::text[], %b::text[], %b::text[], %b::text[], %b::bigint[],"
    " %b::boolean[], %b::text[]) AS r(i, s, d, t, p, o, u, c, a)"
    " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, data = excluded.data, title = excluded.title,"
    " published = excluded.published, organization = excluded.organization, upvotes = excluded.upvotes,"
    " has_code = excluded.has_code, author_keys = excluded.author_keys, updated_at = excluded.updated_at")


@lru_cache(maxsize=1024)
def _placeholders(sql: str) -> str:
    return sql.replace("?", "%s")


def _pg(query):
    """A shared query with psycopg's placeholders (a psycopg ``sql.Composed`` passes as it is)."""
    return _placeholders(query) if isinstance(query, str) else query


class _Connection:
    """A pooled psycopg connection that takes the shared queries' ``?`` placeholders; everything
    else is the connection's own (store/migrate.py uses its cursors)."""

    __slots__ = ("raw",)

    def __init__(self, raw: psycopg.Connection):
        self.raw = raw

    def execute(self, query, args=None) -> psycopg.Cursor:
        return self.raw.execute(_pg(query), args)

    def executemany(self, query, rows) -> psycopg.Cursor:
        cursor = self.raw.cursor()
        cursor.executemany(_pg(query), rows)
        return cursor

    def __getattr__(self, name):
        return getattr(self.raw, name)


class PostgresStore(PaperTables, CommunityTables, SignalTables, DigestTables, DiscussionTables, CollectionTables,
                    AuthorshipTables, WebhookTables):
    dialect = POSTGRES

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
                migrate(conn, self._now(), self.where)
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
                yield _Connection(conn)

    def _all(self, sql, args=()) -> list[tuple]:
        with self._conn() as conn:
            return conn.execute(_pg(sql), args).fetchall()

    def _one(self, sql, args=()) -> tuple | None:
        with self._conn() as conn:
            return conn.execute(_pg(sql), args).fetchone()

    def schema_version(self) -> int:
        with self._conn() as conn:
            return current_version(conn)

    def close(self) -> None:
        self._connections.close()

    def data_stamp(self) -> str:
        """Changes whenever anyone commits to the server: where its write-ahead log is inserted up to."""
        return self._single("SELECT pg_current_wal_insert_lsn()::text")[0]

    # ---- what PostgreSQL does its own way
    def _lock_paper_writes(self, conn: Connection) -> None:
        # two harvesters cannot interleave their read-merge-write of the same paper (no lost merge),
        # and change numbers commit in the order they were taken
        conn.execute("SELECT pg_advisory_xact_lock(?)", (PAPER_WRITE_LOCK,))

    def _take_seqs(self, conn: Connection, count: int) -> list[int]:
        # one statement's nextval calls need not come back in row order
        return sorted(r[0] for r in conn.execute("SELECT nextval('paper_changes') FROM generate_series(1, ?)", (count,)))

    def _write_papers(self, conn: Connection, papers: list[tuple[Paper, int]],
                      authors_before: dict[str, list[str]]) -> None:
        now = self._now()
        rows = [(p.id, seq, document(p), p.title, p.published, p.organization, p.upvotes, p.has_code,
                 json.dumps([author_key(a) for a in p.authors or [] if a])) for p, seq in papers]
        conn.execute(_WRITE_PAPERS, [now, now, *[list(column) for column in zip(*rows, strict=True)]])

    def _by_author(self, name: str) -> tuple[str, tuple]:
        return "author_keys @> ARRAY[?]::text[]", (author_key(name),)  # the papers_authors GIN index
