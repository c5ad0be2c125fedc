"""What the two SQL backends share, and the little in which their SQL differs.

The queries of each concern (papers.py, community.py, signals.py, digests.py) are written once,
with SQLite's ``?`` placeholders, against :class:`Queries`: a backend lends them a connection-like
object for a transaction (``execute`` and ``executemany`` returning a cursor with ``fetchone``,
``fetchall``, ``rowcount``) and answers single reads (``_all``, ``_one``). The PostgreSQL store's
connections turn ``?`` into psycopg's ``%s`` (postgres.py). The rest of what differs is asked of the
store's :class:`Dialect`: how a list travels (``IN (?, ?)`` in chunks, or one array), how an insert
skips a taken key, how a bulk write goes in, a case-insensitive match, the column that numbers rows
in insertion order, the row lock of a claim, the id of a new row, and which driver error means
"that key is taken". Booleans need nothing: SQLite stores Python's True and False as 1 and 0, and
both read ``NOT column`` the same way.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Iterable, Iterator, Protocol, Sequence, cast

# (column, PostgreSQL type): the types say what the arrays of a bulk write are (SQLite ignores them)
Columns = Sequence[tuple[str, str]]


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Cursor(Protocol):
    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """What a backend's ``_transaction()`` yields (sqlite3's connection has it already)."""

    def execute(self, sql: str, args: Sequence | None = ...) -> Cursor: ...
    def executemany(self, sql: str, rows: Iterable[Sequence]) -> Cursor: ...


@dataclass(frozen=True)
class Dialect:
    """The SQLite form of each difference; :class:`PostgresDialect` the other."""

    duplicate: type[Exception]  # the driver's error for a taken unique key
    chunk: int = 500  # the most values in one IN list (SQLite's limit on parameters is 999 in old builds)
    insertion_order: str = "rowid"  # the column that numbers a table's rows as they were inserted

    def chunks(self, values: Iterable) -> Iterator[list]:
        """The distinct values, in their first order, a chunk at a time (none for none)."""
        values = list(dict.fromkeys(values))
        for start in range(0, len(values), self.chunk):
            yield values[start:start + self.chunk]

    def among(self, column: str, values: list) -> tuple[str, list]:
        """``column`` is one of ``values``: (the condition, its parameters)."""
        return f"{column} IN ({','.join('?' * len(values))})", values

    def nocase(self, column: str) -> str:
        """``column`` equals a parameter, ASCII letters matched without case (an index answers it)."""
        return f"{column} = ? COLLATE NOCASE"

    def ignoring(self, insert: str) -> str:
        """``INSERT INTO ...`` that skips a row whose key is taken instead of failing."""
        return "INSERT OR IGNORE INTO" + insert.removeprefix("INSERT INTO")

    def claiming(self, alias: str) -> str:
        """What a claim's SELECT adds so that two claimers never take the same row: nothing here,
        where a write transaction already holds the whole database."""
        return ""

    def inserted_id(self, conn: Connection, insert: str, args: Sequence) -> int | None:
        """Run an insert into a table with an ``id`` key; the new row's id, None if it skipped."""
        cur = cast(sqlite3.Cursor, conn.execute(insert, args))  # this form runs on SQLite's connections alone
        return cur.lastrowid if cur.rowcount > 0 else None

    def new_id(self, conn: Connection, insert: str, args: Sequence) -> int:
        """Run an insert that cannot skip (a taken key raises) into a table with an ``id`` key; the new id."""
        new = self.inserted_id(conn, insert, args)
        if new is None:
            raise RuntimeError(f"an insert that cannot skip a row skipped one: {insert}")
        return new

    def insert_many(self, conn: Connection, table: str, columns: Columns, rows: list[tuple], *,
                    key: tuple[str, ...] = (), new: str | None = None) -> set:
        """Insert ``rows`` in their order; a row whose key is taken updates the stored one when
        ``key`` names it (give each key once), else is skipped. With ``new``: that column's values
        of the rows that went in."""
        if not rows:
            return set()
        names = [name for name, _ in columns]
        head = f"INSERT INTO {table}({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
        if key:
            conn.executemany(head + _update(key, names), rows)
            return set()
        if new is None:
            conn.executemany(self.ignoring(head), rows)
            return set()
        at = names.index(new)
        return {row[at] for row in rows if conn.execute(self.ignoring(head), row).rowcount > 0}


@dataclass(frozen=True)
class PostgresDialect(Dialect):
    chunk: int = 1 << 62  # one array parameter, however long
    insertion_order: str = "n"  # an identity column where SQLite has its rowid

    def among(self, column: str, values: list) -> tuple[str, list]:
        return f"{column} = ANY(?)", [values]

    def nocase(self, column: str) -> str:
        # under COLLATE "C" lower() folds ASCII only, as NOCASE does; the indexes are on lower(...)
        return f"lower({column}) = lower(?)"

    def ignoring(self, insert: str) -> str:
        return insert + " ON CONFLICT DO NOTHING"

    def claiming(self, alias: str) -> str:
        # a row another sender is claiming is skipped, not waited for; once that claim commits the
        # row is 'sending', which no claim matches
        return f" FOR UPDATE OF {alias} SKIP LOCKED"

    def inserted_id(self, conn: Connection, insert: str, args: Sequence) -> int | None:
        row = conn.execute(insert + " RETURNING id", args).fetchone()
        return row[0] if row else None

    def insert_many(self, conn: Connection, table: str, columns: Columns, rows: list[tuple], *,
                    key: tuple[str, ...] = (), new: str | None = None) -> set:
        # one statement over arrays in binary (%b: no quoting of each string), in the given order
        # (WITH ORDINALITY) so identity columns number the rows as SQLite's rowid would
        if not rows:
            return set()
        names = [name for name, _ in columns]
        arrays = ", ".join(f"%b::{kind}[]" for _, kind in columns)
        sql = (f"INSERT INTO {table}({', '.join(names)}) SELECT {', '.join(names)} FROM unnest({arrays})"
               f" WITH ORDINALITY AS r({', '.join(names)}, i) ORDER BY i")
        sql += _update(key, names) if key else " ON CONFLICT DO NOTHING"
        if new is None:
            conn.execute(sql, [list(column) for column in zip(*rows, strict=True)])
            return set()
        return {r[0] for r in conn.execute(f"{sql} RETURNING {new}", [list(c) for c in zip(*rows, strict=True)])}


def _update(key: tuple[str, ...], names: list[str]) -> str:
    sets = ", ".join(f"{name} = excluded.{name}" for name in names if name not in key)
    return f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}"


class Queries:
    """The interface the shared queries are written against (each backend class provides it)."""

    dialect: Dialect
    _now = staticmethod(now)

    def _transaction(self):
        """A context manager: a :class:`Connection` inside one write transaction."""
        raise NotImplementedError

    def _all(self, sql: str, args: Sequence = ()) -> list[tuple]:
        raise NotImplementedError

    def _one(self, sql: str, args: Sequence = ()) -> tuple | None:
        raise NotImplementedError

    def _value(self, sql: str, args: Sequence = ()):
        row = self._one(sql, args)
        return row[0] if row else None

    def _single(self, sql: str, args: Sequence = ()) -> tuple:
        """The row of a query that always answers one (an aggregate without GROUP BY)."""
        row = self._one(sql, args)
        if row is None:
            raise RuntimeError(f"no row from a query that always answers one: {sql}")
        return row

    def _rows_among(self, select: str, column: str, values: Iterable, args: Sequence = (), tail: str = "",
                    conn: Connection | None = None) -> list[tuple]:
        """The rows of ``select`` (which ends in WHERE or AND, after ``args``' placeholders) where
        ``column`` is one of ``values``, then ``tail``; a chunk of values at a time, on ``conn`` if given."""
        rows: list[tuple] = []
        for chunk in self.dialect.chunks(values):
            among, more = self.dialect.among(column, chunk)
            sql, params = f"{select} {among}{tail}", (*args, *more)
            rows += conn.execute(sql, params).fetchall() if conn is not None else self._all(sql, params)
        return rows
