"""A submitter's feed rows and a paper's feed rows in the store, the linked repositories kept with a paper,
and migration 8 on a database made before it (a submitter's index; papers whose text links a
repository renumbered so the indexes read their ``has_code`` again). Each test runs on a real SQLite
file and a real PostgreSQL server (tests/pg_support.py)."""

from __future__ import annotations

import json
import sqlite3

import psycopg

from papersift.model import FeedEntry, Paper
from papersift.store import open_store, postgres_schema, sqlite_schema

from ..pg_support import raw_rows


def entry_paper(pid: str, day: str, who: str | None, upvotes: int = 0, at: str | None = None) -> Paper:
    at = at or f"{day}T09:00:00Z"
    return Paper(id=pid, title=f"Paper {pid}", source="hf-jsonl", observed_at=at, upvotes=upvotes,
                 published=f"{day}T00:00:00Z",
                 feed_entry=FeedEntry(day=day, upvotes=upvotes, rank=0, submitted_by=who, captured_at=at))


def test_a_submitters_rows_newest_first_and_a_papers_rows(store):
    store.upsert_papers([entry_paper("2405.00001", "2024-05-27", "ann", 3),
                         entry_paper("2405.00002", "2024-05-28", "ann", 9),
                         entry_paper("2405.00003", "2024-05-28", "bob"),
                         entry_paper("2405.00001", "2024-06-03", "ann", 5),
                         entry_paper("2405.00004", "2024-06-04", None)])
    rows = store.submitter_feed_rows("ann", 10)
    assert [(p.id, e.day) for p, e in rows] == [("2405.00001", "2024-06-03"), ("2405.00002", "2024-05-28"),
                                                ("2405.00001", "2024-05-27")]
    paper, entry = rows[1]
    assert (paper.upvotes, paper.published, entry.upvotes, entry.submitted_by) == (9, "2024-05-28T00:00:00Z", 9, "ann")
    assert [p.id for p, _ in store.submitter_feed_rows("ann", 2)] == ["2405.00001", "2405.00002"]
    assert store.submitter_feed_rows("Ann", 10) == [] and store.submitter_feed_rows("nobody", 10) == []
    assert [(e.day, e.submitted_by) for e in store.paper_feed_entries("2405.00001")] == [
        ("2024-05-27", "ann"), ("2024-06-03", "ann")]
    assert store.paper_feed_entries("2405.99999") == []


def test_linked_repositories_are_kept_with_the_paper(store):
    links = {"models": {"total": 3, "top": [{"id": "a/m", "likes": 2, "pipeline_tag": "text-generation"}]},
             "datasets": {"total": 0, "top": []}, "spaces": {"total": 1, "top": [{"id": "a/s", "emoji": "🌌"}]}}
    store.upsert_papers([Paper(id="2405.00001", title="T", source="hf-api", observed_at="2024-05-27T09:00:00Z",
                               hf_links=links)])
    assert store.get_paper("2405.00001").hf_links == links


# ---- migration 8 on a database made by a papersift at version 7
OLD = [  # (id, data, has_code): the second has HF's repository; the first and last link one in their text
    ("2405.00001", {"abstract": "Code at https://github.com/alibaba/conv-llava."}, False),
    ("2405.00002", {"abstract": "See github.com/x/y.", "github_repo": "x/y"}, True),
    ("2405.00003", {"abstract": "No links at all."}, False),
    ("2405.00004", {"abstract": "Data.", "comment": "Data: HuggingFace.co/datasets/a/b"}, False),
]


def _version_7_sqlite(path: str) -> None:
    db = sqlite3.connect(path)
    for step in sqlite_schema.MIGRATIONS[:7]:
        db.executescript(step)
    db.execute("PRAGMA user_version = 7")
    _old_rows(lambda sql, args: db.execute(sql.replace("%s", "?"), args), "2024-05-27T00:00:00Z")
    db.commit()
    db.close()


def _version_7_postgres(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for step in postgres_schema.MIGRATIONS[:7]:
            for statement in step.split(";"):
                if statement.strip():
                    conn.execute(statement)
        conn.execute(postgres_schema._VERSION_TABLE)
        for number in range(1, 8):
            conn.execute("INSERT INTO schema_version VALUES (%s, 'x')", (number,))
        _old_rows(conn.execute, "2024-05-27T00:00:00Z")
        conn.execute("SELECT setval('paper_changes', %s)", (len(OLD),))  # as papersift's writes left it


def _old_rows(execute, at: str) -> None:
    for seq, (pid, fields, has_code) in enumerate(OLD, 1):
        data = json.dumps({"id": pid, "title": f"Paper {pid}", **fields})
        execute("INSERT INTO papers(id, seq, data, title, has_code, created_at, updated_at)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s)", (pid, seq, data, f"Paper {pid}", has_code, at, at))
        execute("INSERT INTO feed_entries(paper_id, day, submitted_by) VALUES (%s, %s, %s)",
                (pid, f"2024-05-2{seq + 3}", "ann" if seq % 2 else "bob"))


def test_migration_8_renumbers_the_papers_whose_text_links_a_repository(store_url):
    if store_url.startswith("postgresql"):
        _version_7_postgres(store_url)
    else:
        _version_7_sqlite(store_url)
    store = open_store(store_url)
    try:
        assert store.schema_version() >= 8
        # an index caught up to change 4 reads these two again, in their old order, and now sees their code
        changed = list(store.iter_changes(len(OLD)))
        assert [p.id for _, p in changed] == ["2405.00001", "2405.00004"]
        assert [seq for seq, _ in changed] == [5, 6] and store.max_seq() == 6
        assert all(p.has_code for _, p in changed)
        assert [p.id for p, _ in store.submitter_feed_rows("ann", 10)] == ["2405.00003", "2405.00001"]
        index = ("SELECT to_regclass('feed_entries_submitter') IS NOT NULL" if store_url.startswith("postgresql")
                 else "SELECT COUNT(*) FROM sqlite_master WHERE name = 'feed_entries_submitter'")
        assert raw_rows(store, index) == [(True,)] or raw_rows(store, index) == [(1,)]
        # the next write numbers after them
        store.upsert_papers([entry_paper("2405.00005", "2024-06-01", "ann")])
        assert store.max_seq() == 7
    finally:
        store.close()
