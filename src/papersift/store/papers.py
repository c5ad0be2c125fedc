"""Papers, their feed rows, the listings, cursors, watermarks and cached embeddings: the queries,
written once for both backends (sql.py says what differs between them).

Papers are a JSON document plus the columns that queries filter or sort on. Every write to a paper
takes the next change number (``seq``); derived indexes remember the last change they saw, so a
crash between a store write and an index update is repaired by the next catch-up.

Writing: each batch of records is read with one query, merged in Python by the rule of merge.py
(record by record, in order, a later record seeing the earlier ones), and written in bulk. Every
change takes a number, as if the records were written one at a time: after n, [A, B, A'] leaves B at
n+2 and A at n+3 (A's first number is used up), so ``max_seq`` and ``iter_changes`` agree across
backends (tests/store/test_postgres_parity.py). The backend gives what truly differs: the numbers
(``_take_seqs``), the lock that makes them commit in order (``_lock_paper_writes``) and the papers'
own write with their authors (``_write_papers``), and the author match of a listing (``_by_author``).
"""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import date, timedelta
from itertools import islice
from typing import Iterable, Iterator, Sequence

import numpy as np

from papersift.model import FeedEntry, Paper, UpsertResult
from papersift.store.merge import merge
from papersift.store.sql import Connection, Queries

BATCH = 1000  # records read and written per round of statements
_DOCUMENT_FIELDS = [f.name for f in fields(Paper) if f.name not in ("source", "observed_at", "feed_entry")]
FEED_COLUMNS = (("paper_id", "text"), ("day", "text"), ("upvotes", "bigint"), ("num_comments", "bigint"),
                ("rank", "bigint"), ("submitted_by", "text"), ("captured_at", "text"))
LISTING_COLUMNS = (("category", "text"), ("day", "text"), ("paper_id", "text"), ("kind", "text"))
LISTING_KINDS = ("new", "cross", "replace")
_ANNOUNCED = " AND kind <> 'replace'"
_EMBEDDING_COLUMNS = (("paper_id", "text"), ("model", "text"), ("text_hash", "text"), ("vector", "bytea"))
_FEED_ROW = ("FROM feed_entries f JOIN papers p ON p.id = f.paper_id WHERE f.day BETWEEN ? AND ?"
             # NULLS FIRST is SQLite's order of an ascending sort; said for PostgreSQL, and ties by id
             " ORDER BY f.day, f.rank NULLS FIRST, f.paper_id")


def document(paper: Paper) -> str:
    """The JSON the papers table keeps: ``Paper.to_dict()`` with the derived has_code, url and
    pdf_url left null, made without to_dict's copies of every list."""
    data = {name: getattr(paper, name) for name in _DOCUMENT_FIELDS}
    data.update(has_code=None, url=None, pdf_url=None)
    return json.dumps(data)


def _paper(data: str) -> Paper:
    return Paper.from_dict(json.loads(data))


def listing_rows(paper: Paper) -> list[tuple[str, str, str, str]]:
    """A paper's rows in ``listings``: (category, day, paper id, kind). On its first listing day it
    is new in its primary category (the first) and a cross-list in the others; on each later day a
    replacement in all of them."""
    categories = list(dict.fromkeys(c for c in paper.categories if c))
    rows = [(c, paper.listed, paper.id, "new" if i == 0 else "cross") for i, c in enumerate(categories)
            if paper.listed]
    return rows + [(c, day, paper.id, "replace") for day in paper.replaced for c in categories]


def _listing_key(paper: Paper) -> tuple:
    return paper.listed, tuple(paper.replaced), tuple(paper.categories)


def _batches(records: Iterable[Paper], size: int = BATCH):
    it = iter(records)
    while chunk := list(islice(it, size)):
        yield chunk


def page_of_papers(store: Queries, sql: str, count_sql: str, args: tuple, limit: int,
                   offset: int) -> tuple[list[Paper], int]:
    """A page of a listing (``sql`` selects papers' data) and how many the whole listing has."""
    total = store._value(count_sql, args)
    rows = store._all(sql + " LIMIT ? OFFSET ?", args + (limit, offset))
    return [_paper(r[0]) for r in rows], total


def _entry_tuple(entry: FeedEntry) -> tuple:
    return (entry.upvotes, entry.num_comments, entry.rank, entry.submitted_by, entry.captured_at)


class PaperTables(Queries):
    """Queries on papers and what hangs off them (mixed into each backend's store)."""

    # ---- writes
    def upsert_papers(self, records: Iterable[Paper], cursor: tuple[str, dict | None] | None = None) -> UpsertResult:
        result = UpsertResult()
        with self._transaction() as conn:
            self._lock_paper_writes(conn)
            for chunk in _batches(records):
                self._upsert_chunk(conn, chunk, result)
            if cursor is not None:
                self._write_cursor(conn, *cursor)
        return result

    def _upsert_chunk(self, conn: Connection, chunk: list[Paper], result: UpsertResult) -> None:
        # the stored papers stay JSON text until a record needs one: a batch of decoded papers kept
        # alive at once made the garbage collector's rounds a third of an unchanged re-harvest
        stored = dict(self._rows_among("SELECT id, data FROM papers WHERE", "id", [r.id for r in chunk], conn=conn))
        entries = self._stored_entries(conn, chunk)
        current: dict[str, Paper] = {}  # each paper the records so far changed, as they left it
        authors_before: dict[str, list[str]] = {}  # a changed paper's stored authors (none when it is new)
        listing_before: dict[str, tuple] = {}  # and what its listing rows were made of
        last_change: dict[str, int] = {}  # id -> the index of its last change in the chunk
        changes = 0
        entry_writes: dict[tuple[str, str], tuple] = {}
        for record in chunk:
            existing = current.get(record.id) or (_paper(stored[record.id]) if record.id in stored else None)
            merged, changed = merge(existing, record)
            if changed:
                if existing is not None and record.id not in current:  # stored before this chunk
                    authors_before[record.id] = existing.authors
                    listing_before[record.id] = _listing_key(existing)
                current[record.id] = merged
                last_change[record.id] = changes
                changes += 1
            entry_changed = record.feed_entry is not None and _newer_entry(record.id, record.feed_entry, entries,
                                                                           entry_writes)
            if not changed and not entry_changed:
                result.unchanged += 1
            elif existing is None:
                result.inserted += 1
            else:
                result.updated += 1
        if changes:
            seqs = self._take_seqs(conn, changes)  # the paper changed last gets the highest
            self._write_papers(conn, [(current[pid], seqs[index]) for pid, index in last_change.items()],
                               authors_before)
            self._write_listings(conn, [current[pid] for pid in last_change], listing_before)
        self.dialect.insert_many(conn, "feed_entries", FEED_COLUMNS, [k + v for k, v in entry_writes.items()],
                                 key=("paper_id", "day"))

    def _write_listings(self, conn: Connection, papers: list[Paper], before: dict[str, tuple]) -> None:
        """Rewrite the listing rows of the papers whose listing days or categories changed."""
        changed = [p for p in papers if before.get(p.id) != _listing_key(p)]
        stale = [(p.id,) for p in changed if p.id in before]
        if stale:
            conn.executemany("DELETE FROM listings WHERE paper_id = ?", stale)
        self.dialect.insert_many(conn, "listings", LISTING_COLUMNS, [row for p in changed for row in listing_rows(p)])

    def _stored_entries(self, conn: Connection, chunk: list[Paper]) -> dict[tuple[str, str], tuple]:
        keys = {(r.id, r.feed_entry.day) for r in chunk if r.feed_entry is not None}
        rows = self._rows_among("SELECT paper_id, day, upvotes, num_comments, rank, submitted_by, captured_at"
                                " FROM feed_entries WHERE", "paper_id", (pid for pid, _ in keys), conn=conn)
        return {(r[0], r[1]): tuple(r[2:]) for r in rows if (r[0], r[1]) in keys}

    def _lock_paper_writes(self, conn: Connection) -> None:
        """Hold off other paper writers until this transaction ends (SQLite's write transaction does)."""

    def _take_seqs(self, conn: Connection, count: int) -> list[int]:
        """``count`` new change numbers, ascending."""
        raise NotImplementedError

    def _write_papers(self, conn: Connection, papers: list[tuple[Paper, int]],
                      authors_before: dict[str, list[str]]) -> None:
        """Insert or update each (paper, its change number); ``authors_before``: the stored authors of
        those that were stored before."""
        raise NotImplementedError

    # ---- reads
    def get_paper(self, paper_id: str) -> Paper | None:
        data = self._value("SELECT data FROM papers WHERE id = ?", (paper_id,))
        return _paper(data) if data else None

    def get_papers(self, ids: Iterable[str]) -> dict[str, Paper]:
        return {pid: _paper(data) for pid, data in self._rows_among("SELECT id, data FROM papers WHERE", "id", ids)}

    def known_ids(self, ids: Iterable[str]) -> set[str]:
        return {r[0] for r in self._rows_among("SELECT id FROM papers WHERE", "id", ids)}

    def count_papers(self) -> int:
        return self._value("SELECT COUNT(*) FROM papers")

    def count_changes(self, after_seq: int) -> int:
        return self._value("SELECT COUNT(*) FROM papers WHERE seq > ?", (after_seq,))

    def max_seq(self) -> int:
        # the highest committed change (on PostgreSQL not the sequence's position: a rolled-back
        # write takes numbers too, and those name no change)
        return self._value("SELECT COALESCE(MAX(seq), 0) FROM papers")

    def iter_changes(self, after_seq: int, batch: int = 1000) -> Iterator[tuple[int, Paper]]:
        last = after_seq
        while True:  # one short query per batch: no connection is held while the caller works
            rows = self._all("SELECT seq, data FROM papers WHERE seq > ? ORDER BY seq LIMIT ?", (last, batch))
            if not rows:
                return
            for seq, data in rows:
                yield seq, _paper(data)
            last = rows[-1][0]

    # ---- feed
    def feed_entries(self, day_from: str, day_to: str) -> list[tuple[Paper, FeedEntry]]:
        rows = self._all("SELECT p.data, f.day, f.upvotes, f.num_comments, f.rank, f.submitted_by, f.captured_at "
                         + _FEED_ROW, (day_from, day_to))
        return [(_paper(r[0]), FeedEntry(*r[1:])) for r in rows]

    def feed_rows(self, day_from: str, day_to: str) -> list[tuple[Paper, FeedEntry]]:
        rows = self._all("SELECT p.id, p.upvotes, p.published, f.day, f.upvotes, f.num_comments, f.rank,"
                         " f.submitted_by, f.captured_at " + _FEED_ROW, (day_from, day_to))
        return [(Paper(id=r[0], upvotes=r[1], published=r[2]), FeedEntry(*r[3:])) for r in rows]

    def paper_feed_entries(self, paper_id: str) -> list[FeedEntry]:
        rows = self._all("SELECT day, upvotes, num_comments, rank, submitted_by, captured_at FROM feed_entries"
                         " WHERE paper_id = ? ORDER BY day", (paper_id,))
        return [FeedEntry(*r) for r in rows]

    def submitter_feed_rows(self, login: str, limit: int) -> list[tuple[Paper, FeedEntry]]:
        # the feed_entries_submitter index answers it, newest day first
        rows = self._all("SELECT p.id, p.upvotes, p.published, f.day, f.upvotes, f.num_comments, f.rank,"
                         " f.submitted_by, f.captured_at FROM feed_entries f JOIN papers p ON p.id = f.paper_id"
                         " WHERE f.submitted_by = ? ORDER BY f.day DESC, f.paper_id LIMIT ?", (login, limit))
        return [(Paper(id=r[0], upvotes=r[1], published=r[2]), FeedEntry(*r[3:])) for r in rows]

    def nearest_feed_days(self, day: str) -> tuple[str | None, str | None]:
        row = self._single("SELECT (SELECT MAX(day) FROM feed_entries WHERE day < ?),"
                        " (SELECT MIN(day) FROM feed_entries WHERE day > ?)", (day, day))
        return row[0], row[1]

    def latest_feed_day(self, harvested: bool = False) -> str | None:
        # a feed row with a rank came from a source's ranked list (Hugging Face); a local submission
        # has none, and with ``harvested`` does not move the day a feed opens on
        return self._value("SELECT MAX(day) FROM feed_entries" + (" WHERE rank IS NOT NULL" if harvested else ""))

    def latest_listing_day(self) -> str | None:
        row = self._single("SELECT (SELECT MAX(day) FROM listings WHERE kind <> 'replace'),"
                           " (SELECT MAX(day) FROM feed_entries WHERE rank IS NOT NULL)")
        return max((day for day in row if day), default=None)

    # ---- arXiv's listings
    def listings(self, day_from: str, day_to: str, categories: Sequence[str] = ()) -> list[tuple[str, str, str, str]]:
        """(paper id, day, kind, category) listed in [day_from, day_to], in ``categories`` if any are
        given; by day, then paper id (arXiv lists by id)."""
        select = "SELECT paper_id, day, kind, category FROM listings WHERE day BETWEEN ? AND ?"
        order = " ORDER BY day, paper_id, category"
        if not categories:
            return self._all(select + order, (day_from, day_to))
        rows = self._rows_among(select + " AND", "category", list(dict.fromkeys(categories)), (day_from, day_to))
        return sorted(rows, key=lambda r: (r[1], r[0], r[3]))

    # days that count as listing days: those with new papers (a replacement alone makes no day's listing)
    def nearest_listing_days(self, day: str, categories: Sequence[str] = ()) -> tuple[str | None, str | None]:
        if not categories:
            row = self._single(f"SELECT (SELECT MAX(day) FROM listings WHERE day < ?{_ANNOUNCED}),"
                               f" (SELECT MIN(day) FROM listings WHERE day > ?{_ANNOUNCED})", (day, day))
            return row[0], row[1]
        before = self._rows_among(f"SELECT MAX(day) FROM listings WHERE day < ?{_ANNOUNCED} AND", "category",
                                  list(dict.fromkeys(categories)), (day,))
        after = self._rows_among(f"SELECT MIN(day) FROM listings WHERE day > ?{_ANNOUNCED} AND", "category",
                                 list(dict.fromkeys(categories)), (day,))
        return (max((r[0] for r in before if r[0]), default=None), min((r[0] for r in after if r[0]), default=None))

    def listing_categories(self, day_from: str, day_to: str) -> list[tuple[str, int]]:
        """The categories with listings in [day_from, day_to] and how many papers each lists, most first."""
        rows = self._all("SELECT category, COUNT(*) FROM listings WHERE day BETWEEN ? AND ? AND kind <> 'replace'"
                         " GROUP BY category",
                         (day_from, day_to))
        return sorted(((c, n) for c, n in rows), key=lambda r: (-r[1], r[0]))

    # ---- listings, newest first (NULLS LAST: SQLite's order of a descending sort, said for PostgreSQL)
    def papers_by_organization(self, name: str, limit: int, offset: int) -> tuple[list[Paper], int]:
        where = f" FROM papers WHERE {self.dialect.nocase('organization')}"  # the papers_organization index
        return page_of_papers(self, "SELECT data" + where + " ORDER BY published DESC NULLS LAST, id",
                                    "SELECT COUNT(*)" + where, (name,), limit, offset)

    def papers_by_author(self, name: str, limit: int, offset: int) -> tuple[list[Paper], int]:
        condition, args = self._by_author(name)
        where = f" FROM papers WHERE {condition}"
        return page_of_papers(self, "SELECT data" + where + " ORDER BY published DESC NULLS LAST, id",
                                    "SELECT COUNT(*)" + where, args, limit, offset)

    def _by_author(self, name: str) -> tuple[str, tuple]:
        """The condition on papers that one of the authors is ``name`` (ASCII case folded)."""
        raise NotImplementedError

    def papers_published_between(self, day_from: str, day_to: str) -> list[Paper]:
        until = (date.fromisoformat(day_to) + timedelta(days=1)).isoformat()
        rows = self._all("SELECT data FROM papers WHERE published >= ? AND published < ? ORDER BY published, id",
                         (day_from, until))
        return [_paper(r[0]) for r in rows]

    # ---- cursors and watermarks
    def get_cursor(self, name: str) -> dict | None:
        value = self._value("SELECT value FROM cursors WHERE name = ?", (name,))
        return json.loads(value) if value else None

    def set_cursor(self, name: str, value: dict | None) -> None:
        with self._transaction() as conn:
            self._write_cursor(conn, name, value)

    def _write_cursor(self, conn: Connection, name: str, value: dict | None) -> None:
        conn.execute("INSERT INTO cursors(name, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (name)"
                     " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                     (name, json.dumps(value) if value is not None else None, self._now()))

    def get_watermark(self, name: str) -> int:
        return self._value("SELECT seq FROM watermarks WHERE name = ?", (name,)) or 0

    def set_watermark(self, name: str, seq: int) -> None:
        with self._transaction() as conn:
            conn.execute("INSERT INTO watermarks(name, seq) VALUES (?, ?)"
                         " ON CONFLICT (name) DO UPDATE SET seq = excluded.seq", (name, seq))

    # ---- embeddings: float32 bytes (the source of truth; no vector extension needed)
    def get_embeddings(self, model: str, keys: dict[str, str]) -> dict[str, np.ndarray]:
        rows = self._rows_among("SELECT paper_id, text_hash, vector FROM embeddings WHERE model = ? AND", "paper_id",
                                keys, (model,))
        return {pid: np.frombuffer(blob, dtype=np.float32) for pid, text_hash, blob in rows if keys[pid] == text_hash}

    def put_embeddings(self, model: str, rows: list[tuple[str, str, np.ndarray]]) -> None:
        # one row per paper, the last given wins (one statement may not update the same row twice)
        latest = {pid: (h, np.asarray(v, dtype=np.float32).tobytes()) for pid, h, v in rows}
        if not latest:
            return
        with self._transaction() as conn:
            self.dialect.insert_many(conn, "embeddings", _EMBEDDING_COLUMNS,
                                     [(pid, model, h, v) for pid, (h, v) in latest.items()], key=("model", "paper_id"))

    def iter_embeddings(self, model: str, batch: int = 5000) -> Iterator[tuple[str, np.ndarray]]:
        last = ""
        while True:
            rows = self._all("SELECT paper_id, vector FROM embeddings WHERE model = ? AND paper_id > ?"
                             " ORDER BY paper_id LIMIT ?", (model, last, batch))
            if not rows:
                return
            for pid, blob in rows:
                yield pid, np.frombuffer(blob, dtype=np.float32)
            last = rows[-1][0]


def _newer_entry(paper_id: str, entry: FeedEntry, entries: dict, writes: dict) -> bool:
    """Note a record's feed row for writing when it is new, or changed and captured no earlier
    than the stored one; whether it was."""
    key, new = (paper_id, entry.day), _entry_tuple(entry)
    row = entries.get(key)
    if row is not None and (row == new or (row[4] or "") > (new[4] or "")):
        return False
    entries[key] = writes[key] = new
    return True
