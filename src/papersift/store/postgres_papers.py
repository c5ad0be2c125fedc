"""Writing papers into PostgreSQL: the merge rule of store/merge.py, in batches.

A mixin of :class:`~papersift.store.postgres.PostgresStore`. SQLite reads, merges and writes
one record at a time, which costs a round trip per statement on a server; here each batch of
records is read with one query, merged in Python exactly as SQLite does (record by record, in
order, a later record seeing the earlier ones), and written with one ``INSERT ... SELECT FROM
unnest(...)`` for the papers (their author keys included) and one for the feed rows. The result
(documents, change numbers, counts) is the same as SQLite's: tests/test_postgres_parity.py.

The whole call is one transaction under ``PAPER_WRITE_LOCK``: two harvesters cannot interleave
their read-merge-write of the same paper (no lost merge), change numbers are taken from the
``paper_changes`` sequence in the order the changes happen and commit in that order, and a
harvest cursor given with the batch commits or rolls back with it.
"""

from __future__ import annotations

import json
from dataclasses import fields
from itertools import islice
from typing import Iterable

from papersift.model import FeedEntry, Paper, UpsertResult
from papersift.store.merge import merge
from papersift.store.postgres_community import author_key
from papersift.store.postgres_schema import PAPER_WRITE_LOCK

BATCH = 1000  # records read and written per round of statements
_DOCUMENT_FIELDS = [f.name for f in fields(Paper) if f.name not in ("source", "observed_at", "feed_entry")]

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
_WRITE_FEED = (
    "INSERT INTO feed_entries(paper_id, day, upvotes, num_comments, rank, submitted_by, captured_at)"
    " SELECT * FROM unnest(%b::text[], %b::text[], %b::bigint[], %b::bigint[], %b::bigint[], %b::text[],"
    " %b::text[]) ON CONFLICT (paper_id, day) DO UPDATE SET upvotes = excluded.upvotes,"
    " num_comments = excluded.num_comments, rank = excluded.rank, submitted_by = excluded.submitted_by,"
    " captured_at = excluded.captured_at")


def _batches(records: Iterable[Paper], size: int = BATCH):
    it = iter(records)
    while chunk := list(islice(it, size)):
        yield chunk


def document(paper: Paper) -> str:
    """The JSON the papers table keeps: the text SQLite's store writes (``Paper.to_dict()`` with
    the derived has_code, url and pdf_url left null), made without dataclasses.asdict's deep copy."""
    data = {name: getattr(paper, name) for name in _DOCUMENT_FIELDS}
    data.update(has_code=None, url=None, pdf_url=None)
    return json.dumps(data)


def _entry_tuple(entry: FeedEntry) -> tuple:
    return (entry.upvotes, entry.num_comments, entry.rank, entry.submitted_by, entry.captured_at)


def _columns(rows: list[tuple]) -> list[list]:
    """Rows -> one list per column (what unnest takes)."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else []


class PaperWrites:
    """upsert_papers for PostgresStore."""

    def upsert_papers(self, records: Iterable[Paper], cursor: tuple[str, dict | None] | None = None) -> UpsertResult:
        result = UpsertResult()
        with self._transaction() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (PAPER_WRITE_LOCK,))
            for chunk in _batches(records):
                self._upsert_chunk(conn, chunk, result)
            if cursor is not None:
                self._write_cursor(conn, *cursor)
        return result

    def _upsert_chunk(self, conn, chunk: list[Paper], result: UpsertResult) -> None:
        ids = list(dict.fromkeys(r.id for r in chunk))
        stored = {pid: self._row_to_paper(data)
                  for pid, data in conn.execute("SELECT id, data FROM papers WHERE id = ANY(%s)", (ids,))}
        entries = self._stored_entries(conn, chunk)
        current = dict(stored)  # each paper as the records so far have left it
        # Every change takes a number, as in SQLite: after n, [A, B, A'] leaves B at n+2 and A at
        # n+3 (A's first number, n+1, is used up), so max_seq and the change feed agree across backends.
        last_change: dict[str, int] = {}  # id -> the index of its last change in the chunk
        changes = 0
        entry_writes: dict[tuple[str, str], tuple] = {}
        for record in chunk:
            existing = current.get(record.id)
            merged, changed = merge(existing, record)
            if changed:
                current[record.id] = merged
                last_change[record.id] = changes
                changes += 1
            entry_changed = False
            if record.feed_entry is not None:
                key, new = (record.id, record.feed_entry.day), _entry_tuple(record.feed_entry)
                row = entries.get(key)
                if row is None or (row != new and (row[4] or "") <= (new[4] or "")):
                    entries[key] = entry_writes[key] = new
                    entry_changed = True
            if not changed and not entry_changed:
                result.unchanged += 1
            elif existing is None:
                result.inserted += 1
            else:
                result.updated += 1
        self._write_papers(conn, [(current[pid], index) for pid, index in last_change.items()], changes)
        if entry_writes:
            conn.execute(_WRITE_FEED, _columns([key + value for key, value in entry_writes.items()]))

    @staticmethod
    def _stored_entries(conn, chunk: list[Paper]) -> dict[tuple[str, str], tuple]:
        keys = list({(r.id, r.feed_entry.day) for r in chunk if r.feed_entry is not None})
        if not keys:
            return {}
        rows = conn.execute(
            "SELECT f.paper_id, f.day, f.upvotes, f.num_comments, f.rank, f.submitted_by, f.captured_at"
            " FROM feed_entries f JOIN unnest(%b::text[], %b::text[]) AS k(p, d) ON f.paper_id = k.p AND f.day = k.d",
            _columns(keys)).fetchall()
        return {(r[0], r[1]): tuple(r[2:]) for r in rows}

    def _write_papers(self, conn, papers: list[tuple[Paper, int]], changes: int) -> None:
        """Insert or update ``papers`` (each with the index of its last change), numbering them from
        ``changes`` numbers of the change sequence: the paper changed last gets the highest."""
        if not papers:
            return
        seqs = [r[0] for r in conn.execute("SELECT nextval('paper_changes') FROM generate_series(1, %s)",
                                           (changes,))]
        seqs.sort()  # one statement's nextval calls need not come back in row order
        now = self._now()
        rows = [(p.id, seqs[index], document(p), p.title, p.published, p.organization, p.upvotes, p.has_code,
                 json.dumps([author_key(a) for a in p.authors or [] if a]))
                for p, index in papers]
        conn.execute(_WRITE_PAPERS, [now, now, *_columns(rows)])

