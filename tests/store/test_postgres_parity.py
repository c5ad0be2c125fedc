"""The two backends give the same answers: the same real records (the first lines of the real
Hugging Face feed and arXiv listings in ../shared/data) go into a SQLite file and a PostgreSQL
database, in the same batches, and every read above the store uses compares equal, change
numbers included, and rows in the order they come (ties are ordered by id on both)."""

from __future__ import annotations

import gzip
import itertools
import json
from collections import Counter
from dataclasses import replace

import numpy as np

from papersift.ingest.arxiv import parse_arxiv_jsonl
from papersift.ingest.hf import parse_hf_jsonl
from papersift.store import open_store

from ..pg_support import raw_rows


def _records(path, parse, n):
    out = []
    with gzip.open(path, "rt") as handle:
        for line in itertools.islice(handle, n):
            try:
                out.append(parse(json.loads(line)))
            except Exception:  # noqa: BLE001 - a bad line is the ingest tests' business, not this one's
                continue
    return out


def _recaptured(paper, at: str):
    """The same feed day captured again at ``at`` with more votes (what a later harvest sees)."""
    votes = (paper.upvotes or 0) + int(at[8:10])
    return replace(paper, upvotes=votes, observed_at=at, feed_entry=replace(paper.feed_entry, upvotes=votes, captured_at=at))


def _load(store, batches):
    return [store.upsert_papers(batch).as_dict() for batch in batches]


def test_both_backends_answer_the_same(shared_data, tmp_path, pg_url):
    feed = _records(shared_data / "hf-daily-papers-2024-2026.jsonl.gz", parse_hf_jsonl, 20000)
    arxiv = _records(shared_data / "arxiv-cs-2025-2026.jsonl.gz", parse_arxiv_jsonl, 3000)
    listed = {p.id for p in arxiv}
    # the feed's papers that the listings have too (so the merge rule has work to do), and others
    overlap = [p for p in feed if p.id in listed]
    hf = feed[:1500] + [p for p in feed[1500:] if p.organization][:300]  # the early feed names no organisations
    assert len(overlap) > 100
    # a batch that changes one paper twice with another in between ([A, B, A']), for a new paper and
    # for a stored one: a later capture of the same feed day, with more votes
    loaded = {p.id for p in hf + arxiv + overlap}
    fresh_a, fresh_b = [p for p in feed[1500:] if p.id not in loaded][:2]
    batches = [hf[:700], hf[700:], arxiv, overlap, hf[:300] + overlap[:50],
               [fresh_a, fresh_b, _recaptured(fresh_a, "2026-01-01T00:00:00Z")],
               [_recaptured(hf[0], "2026-01-02T00:00:00Z"), hf[1], _recaptured(hf[0], "2026-01-03T00:00:00Z")]]
    lite, pg = open_store(tmp_path / "p.db"), open_store(pg_url)
    assert _load(lite, batches) == _load(pg, batches)
    assert lite.count_papers() == pg.count_papers() > 4000 and lite.max_seq() == pg.max_seq()
    assert [(s, p) for s, p in lite.iter_changes(0)] == [(s, p) for s, p in pg.iter_changes(0)]
    # the stored documents are the same text, byte for byte
    assert sorted(raw_rows(lite, "SELECT id, data FROM papers")) == sorted(raw_rows(pg, "SELECT id, data FROM papers"))
    ids = [p.id for p in hf[:200]] + [p.id for p in overlap[:200]] + ["2405.99999"]
    assert lite.get_papers(ids) == pg.get_papers(ids) and lite.get_paper(ids[0]) == pg.get_paper(ids[0])

    first, last = min(p.feed_entry.day for p in hf), lite.latest_feed_day()
    assert last > "2025-03-18"  # the overlap's feed days are there too
    assert last == pg.latest_feed_day()
    assert lite.feed_entries(first, last) == pg.feed_entries(first, last)
    assert lite.feed_rows(first, last) == pg.feed_rows(first, last)
    for day in (first, "2024-06-15", last, "2030-01-01"):
        assert lite.nearest_feed_days(day) == pg.nearest_feed_days(day)

    loaded = hf + overlap
    orgs = Counter(p.organization for p in loaded if p.organization).most_common(3)
    authors = Counter(a for p in loaded for a in p.authors).most_common(3)
    assert len(orgs) == len(authors) == 3
    for name, _ in orgs:
        for variant in (name, name.upper()):
            assert lite.papers_by_organization(variant, 5, 1) == pg.papers_by_organization(variant, 5, 1)
    for name, _ in authors:
        assert lite.papers_by_author(name.lower(), 5, 0) == pg.papers_by_author(name.lower(), 5, 0)
    assert lite.papers_published_between("2025-03-01", "2025-06-30") == pg.papers_published_between(
        "2025-03-01", "2025-06-30")

    vectors = [(p.id, f"h{n}", np.random.default_rng(n).standard_normal(8).astype(np.float32))
               for n, p in enumerate(hf[:50])]
    for store in (lite, pg):
        store.put_embeddings("m", vectors + [(vectors[0][0], "newer", np.ones(8, dtype=np.float32))])
    keys = {pid: h for pid, h, _ in vectors} | {vectors[0][0]: "newer"}
    got_lite, got_pg = lite.get_embeddings("m", keys), pg.get_embeddings("m", keys)
    assert set(got_lite) == set(got_pg) == set(keys)
    assert all(np.array_equal(got_lite[k], got_pg[k]) for k in keys)
    assert [k for k, _ in lite.iter_embeddings("m")] == [k for k, _ in pg.iter_embeddings("m")]
    lite.close()
    pg.close()
