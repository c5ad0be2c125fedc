"""Moving up: copy a SQLite store into a PostgreSQL database (``papersift migrate``).

Every table is copied row for row with its ids (users, tokens, subscribers, outbox messages keep
their numbers, papers their change numbers ``seq`` and their JSON text as stored), then each
PostgreSQL sequence is moved past the highest copied value so new rows do not collide. The
tables SQLite orders by ``rowid`` (votes, saves, signals, topics) get that rowid as their
identity ``n``, so "newest first" lists come out in the same order. SQLite's ``paper_authors``
rows become each paper's ``author_keys`` column (the PostgreSQL schema's form of the same index).

What is not copied, on purpose: the index watermarks (``watermarks``) and the index folders. Both
belong to a machine's derived indexes; a fresh index folder on the target machine that found the
old watermark would believe it had absorbed every paper. The target runs ``papersift index``
(the cached embeddings are copied, so nothing is embedded twice).

Safe to re-run after an interruption: each batch is one transaction that also records how far it
got in the target's ``cursors`` table (``migrate:<table>``), so a second run continues where the
first stopped, and every insert is ``ON CONFLICT DO NOTHING``, so rows copied twice are copied
once. The one table without a key (``login_failures``) is copied in a single transaction, and only
into an empty table. At the end the rows of every table are counted on both sides; a difference
is an error. The target should be a fresh database that nothing else writes to meanwhile.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import psycopg
from psycopg import sql

from papersift.errors import BadInput
from papersift.store.postgres_pool import first_line
from papersift.store.postgres_schema import author_key

BATCH = 2000
CURSOR_PREFIX = "migrate:"


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...] = ()  # resume order (unique); () = copied whole in one transaction
    booleans: tuple[str, ...] = ()  # SQLite 0/1 -> PostgreSQL boolean
    identity: str | None = None  # a column whose sequence is moved past the copied values
    rowid_as: str | None = None  # SQLite's rowid goes into this identity column
    conflict: str = "DO NOTHING"


# In the order foreign keys need. Column names are the same on both sides.
TABLES = [
    Table("papers", ("id", "seq", "data", "title", "published", "organization", "upvotes", "has_code",
                     "created_at", "updated_at"), key=("seq",), booleans=("has_code",)),
    Table("feed_entries", ("paper_id", "day", "upvotes", "num_comments", "rank", "submitted_by", "captured_at"),
          key=("paper_id", "day")),
    Table("cursors", ("name", "value", "updated_at"), key=("name",)),
    Table("embeddings", ("paper_id", "model", "text_hash", "vector"), key=("model", "paper_id")),
    Table("users", ("id", "email", "name", "password_hash", "is_admin", "hidden", "created_at", "username",
                    "notify_email", "show_upvotes", "email_verified_at"), key=("id",),
          booleans=("is_admin", "hidden", "notify_email", "show_upvotes"), identity="id"),
    Table("sessions", ("session_hash", "user_id", "csrf_token", "created_at", "expires_at"), key=("session_hash",)),
    Table("api_tokens", ("id", "token_hash", "user_id", "name", "created_at", "last_used_at", "scope"), key=("id",),
          identity="id"),
    Table("login_failures", ("key", "at")),
    Table("votes", ("user_id", "paper_id", "created_at"), key=("n",), identity="n", rowid_as="n"),
    Table("hidden_papers", ("paper_id", "hidden_by", "hidden_at"), key=("paper_id",)),
    Table("signals", ("user_id", "paper_id", "kind", "created_at"), key=("n",), identity="n", rowid_as="n"),
    Table("feed_tokens", ("user_id", "token_hash", "created_at"), key=("user_id",)),
    Table("listings", ("category", "day", "paper_id", "kind"), key=("category", "day", "paper_id")),
    Table("followed_categories", ("user_id", "category", "created_at"), key=("user_id", "category")),
    # the old site's signed links (unsubscribe, confirm) must keep working: its secrets win
    Table("secrets", ("name", "value", "created_at"), key=("name",),
          conflict="(name) DO UPDATE SET value = excluded.value, created_at = excluded.created_at"
                   " WHERE secrets.value IS DISTINCT FROM excluded.value"),
    Table("subscribers", ("id", "email", "user_id", "cadence", "trending", "status", "confirm_nonce", "token_epoch",
                          "bounces", "created_at", "confirmed_at", "updated_at", "status_reason"), key=("id",),
          booleans=("trending",), identity="id"),
    Table("subscriber_topics", ("subscriber_id", "kind", "value"), key=("n",), identity="n", rowid_as="n"),
    Table("outbox", ("id", "subscriber_id", "kind", "period_key", "recipient", "message_id", "payload", "status",
                     "attempts", "next_attempt_at", "claimed_by", "claimed_at", "last_error", "smtp_reply",
                     "created_at", "sent_at", "user_id"), key=("id",), identity="id"),
    Table("sent_papers", ("subscriber_id", "paper_id", "outbox_id"), key=("subscriber_id", "paper_id")),
    Table("comments", ("id", "paper_id", "user_id", "parent_id", "body", "created_at", "edited_at", "deleted_at",
                       "hidden_at", "hidden_by"), key=("id",), identity="id"),
    Table("comment_revisions", ("comment_id", "body", "replaced_at"), key=("n",), identity="n", rowid_as="n"),
    Table("comment_reactions", ("comment_id", "user_id", "reaction", "created_at"), key=("n",), identity="n",
          rowid_as="n"),
    Table("comment_reports", ("comment_id", "user_id", "reason", "created_at", "resolved_at"),
          key=("comment_id", "user_id")),
    Table("collections", ("id", "owner_id", "title", "description", "private", "is_library", "theme", "hidden_at",
                          "hidden_by", "created_at", "updated_at"), key=("id",), booleans=("private", "is_library"),
          identity="id"),
    Table("collection_items", ("id", "collection_id", "paper_id", "note", "position", "added_at"), key=("id",),
          identity="id"),
    Table("collection_upvotes", ("collection_id", "user_id", "created_at"), key=("collection_id", "user_id")),
    Table("webhooks", ("id", "user_id", "url", "format", "secret", "active", "failures", "last_error", "created_at",
                       "updated_at"), key=("id",), booleans=("active",), identity="id"),
    Table("author_claims", ("id", "user_id", "paper_id", "position", "status", "how", "hidden", "created_at",
                            "decided_at", "decided_by"), key=("id",), booleans=("hidden",), identity="id"),
]
NOT_COPIED = {"watermarks": "each machine's index keeps its own; run `papersift index` on the target",
              "paper_authors": "becomes papers.author_keys"}

Progress = Callable[[str, int, int], None]  # (table, rows done in this call, rows in the table)


@dataclass
class TableReport:
    name: str
    source: int
    target: int
    copied: int  # rows this run inserted
    read: int = 0  # rows this run read from SQLite (less than the table after an interrupted run)

    @property
    def ok(self) -> bool:
        return self.source == self.target


def open_source(path: Path) -> tuple[sqlite3.Connection, int]:
    """The SQLite file, read-only (the migration never changes the old store), and its schema version."""
    if not path.is_file():
        raise BadInput(f"--from: no SQLite database at {path}")
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise BadInput(f"--from: {path} is not a SQLite database ({exc})") from None
    return conn, version


def _key_expr(table: Table) -> list[str]:
    return ["rowid" if k == table.rowid_as else k for k in table.key]


def _source_rows(src: sqlite3.Connection, table: Table, after: list | None, limit: int | None):
    """The next rows of ``table`` in key order (after the key ``after``), as tuples of
    (key values..., column values...)."""
    key_expr = _key_expr(table)
    cols = list(key_expr) + list(table.columns)
    query = f"SELECT {', '.join(cols)} FROM {table.name}"  # names are this module's constants
    args: list = []
    if after is not None:
        query += f" WHERE ({', '.join(key_expr)}) > ({', '.join('?' * len(key_expr))})"
        args = list(after)
    if key_expr:
        query += f" ORDER BY {', '.join(key_expr)}"
    if limit is not None:
        query += " LIMIT ?"
        args.append(limit)
    return src.execute(query, args).fetchall()


def _insert_sql(table: Table) -> sql.Composed:
    names = list(table.columns) + ([table.rowid_as] if table.rowid_as else [])
    if table.name == "papers":
        names.append("author_keys")
    return sql.SQL("INSERT INTO {} ({}) {}VALUES ({}) ON CONFLICT {}").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, names)),
        sql.SQL("OVERRIDING SYSTEM VALUE " if table.rowid_as else ""),
        sql.SQL(", ").join(sql.Placeholder() * len(names)), sql.SQL(table.conflict))


def _target_values(table: Table, row: tuple) -> tuple:
    nkey = len(table.key)
    values = list(row[nkey:])
    for name in table.booleans:
        index = table.columns.index(name)
        values[index] = None if values[index] is None else bool(values[index])
    if table.rowid_as:
        values.append(row[0])
    if table.name == "papers":
        authors = json.loads(values[table.columns.index("data")]).get("authors") or []
        values.append([author_key(a) for a in authors if isinstance(a, str) and a])
    return tuple(values)


def check_tables(src: sqlite3.Connection) -> None:
    """Refuse SQLite tables this migration does not know (a newer schema step): copying without
    them would lose their rows without a word."""
    names = {r[0] for r in src.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                       " AND name NOT LIKE 'sqlite_%'")}
    unknown = sorted(names - {t.name for t in TABLES} - set(NOT_COPIED))
    if unknown:
        raise BadInput(f"the SQLite store has tables this migration does not copy: {', '.join(unknown)}"
                       " (store/migrate.py's TABLES needs them)")


class Migration:
    """One copy from ``src`` (a sqlite3 connection) into ``target`` (a PostgresStore)."""

    def __init__(self, src: sqlite3.Connection, target, batch: int = BATCH, progress: Progress | None = None):
        if batch < 1:
            raise BadInput("--batch must be at least 1")
        self.src, self.target, self.batch = src, target, batch
        self.progress = progress or (lambda name, done, total: None)

    def count_source(self, table: str) -> int:
        return self.src.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]

    def count_target(self, table: str) -> int:
        return self.target._value(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table)))

    def run(self) -> list[TableReport]:
        copied = {table.name: self.copy_table(table) for table in TABLES}  # name -> (read, inserted)
        self.reset_sequences()
        reports = self.verify(copied)
        if all(r.ok for r in reports):  # done: a later run starts from the beginning (and finds every row there)
            with self.target._transaction() as conn:
                conn.execute("DELETE FROM cursors WHERE name LIKE %s", (CURSOR_PREFIX + "%",))
        return reports

    def copy_table(self, table: Table) -> tuple[int, int]:
        total = self.count_source(table.name)
        if not table.key:
            return self._copy_whole(table, total)
        cursor_name = CURSOR_PREFIX + table.name
        saved = self.target.get_cursor(cursor_name)
        after = saved["after"] if saved else None
        if after is not None:  # what an earlier, interrupted run already copied
            done_before = self.src.execute(
                f"SELECT COUNT(*) FROM {table.name} WHERE ({', '.join(_key_expr(table))})"
                f" <= ({', '.join('?' * len(table.key))})", after).fetchone()[0]
            self.progress(table.name, done_before, total)
        read = inserted = 0
        insert = _insert_sql(table)
        while rows := _source_rows(self.src, table, after, self.batch):
            after = list(rows[-1][:len(table.key)])
            with self._writing(table) as conn:
                cur = conn.cursor()
                cur.executemany(insert, [_target_values(table, r) for r in rows])
                inserted += max(cur.rowcount, 0)  # the rows ON CONFLICT did not skip
                self.target._write_cursor(conn, cursor_name, {"after": after})
            read += len(rows)
            self.progress(table.name, len(rows), total)
        if total == 0:
            self.progress(table.name, 0, 0)
        return read, inserted

    def _copy_whole(self, table: Table, total: int) -> tuple[int, int]:
        """A table without a key: in one transaction, and only into an empty table (a re-run finds
        it full, because the earlier copy either committed whole or not at all)."""
        rows = _source_rows(self.src, table, None, None)
        with self._writing(table) as conn:
            name = sql.Identifier(table.name)
            if conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(name)).fetchone()[0]:
                self.progress(table.name, total, total)
                return len(rows), 0
            if rows:
                conn.cursor().executemany(_insert_sql(table), [_target_values(table, r) for r in rows])
        self.progress(table.name, len(rows), total)
        return len(rows), len(rows)

    @contextmanager
    def _writing(self, table: Table):
        """A target transaction; a row PostgreSQL refuses (a constraint SQLite did not check) is
        named, not a traceback."""
        try:
            with self.target._transaction() as conn:
                yield conn
        except psycopg.IntegrityError as exc:
            raise BadInput(f"the {table.name} table cannot be copied: PostgreSQL refuses a row "
                           f"({first_line(exc)}); nothing of that batch was written") from None

    def reset_sequences(self) -> None:
        """Move each sequence past the copied values (``setval(max)``; an empty table's restarts at 1)."""
        with self.target._transaction() as conn:
            conn.execute("SELECT setval('paper_changes', GREATEST((SELECT MAX(seq) FROM papers),"
                         " (SELECT last_value FROM paper_changes), 1))")
            for table in TABLES:
                if table.identity:
                    conn.execute(sql.SQL(
                        "SELECT setval(pg_get_serial_sequence({t}, {c}), COALESCE((SELECT MAX({col}) FROM {tab}), 0) + 1,"
                        " false)").format(t=sql.Literal(table.name), c=sql.Literal(table.identity),
                                          col=sql.Identifier(table.identity), tab=sql.Identifier(table.name)))

    def verify(self, copied: dict[str, tuple[int, int]]) -> list[TableReport]:
        """Rows per table on both sides (the migration's own cursors left out), and the authors."""
        reports = []
        for table in TABLES:
            target = self.count_target(table.name)
            if table.name == "cursors":
                target -= self.target._value("SELECT COUNT(*) FROM cursors WHERE name LIKE %s", (CURSOR_PREFIX + "%",))
            read, inserted = copied[table.name]
            reports.append(TableReport(table.name, self.count_source(table.name), target, inserted, read))
        authors = self.target._value("SELECT COALESCE(SUM(cardinality(author_keys)), 0) FROM papers")
        reports.append(TableReport("paper_authors -> papers.author_keys", self.count_source("paper_authors"),
                                   authors, 0))
        return reports


def migrate_sqlite_to_postgres(source: str, target_url: str, batch: int = BATCH,
                               progress: Progress | None = None) -> list[TableReport]:
    """Copy the SQLite store ``source`` (a path or ``sqlite:///path``) into the PostgreSQL database
    ``target_url``; returns one report per table (``ok`` when the counts agree)."""
    from papersift.store import is_server_url
    from papersift.store.postgres import PostgresStore
    from papersift.store.sqlite import SCHEMA_VERSION

    if not is_server_url(target_url):
        raise BadInput(f"--to must be a postgresql://user@host:5432/database URL, not {target_url[:60]!r}")
    path = Path(source[len("sqlite:///"):] if source.startswith("sqlite:///") else source)
    if "://" in str(source) and not source.startswith("sqlite:///"):
        raise BadInput(f"--from must be a SQLite file or sqlite:///path, not {source[:60]!r}")
    src, version = open_source(path)
    try:
        if version != SCHEMA_VERSION:
            raise BadInput(f"--from: {path} has schema version {version}, this papersift writes {SCHEMA_VERSION}:"
                           " open it once with this version (`papersift --db FILE init`) to upgrade it first")
        check_tables(src)
        target = PostgresStore(target_url)
        try:
            return Migration(src, target, batch, progress).run()
        finally:
            target.close()
    finally:
        src.close()
