"""The dense leg under filters: exactly the best papers that pass, at every selectivity.

A small real corpus (arXiv listings for categories, Daily Papers rows for organisations and dates)
embedded with the real default model; every dense ranking is compared with brute-force exact
filtered search: all stored vectors, the filter evaluated by the lexical index over all ids,
sorted by cosine. Both plans (exact scan of the passing set, widening post-filter) are forced in
turn by moving the planner's limits, so each is checked against the same answer.
"""

from __future__ import annotations

import gzip
import itertools
import json
from collections import Counter

import numpy as np
import pytest

from papersift.ids import paper_key
from papersift.query import Filters, ParsedQuery, parse_query
from papersift.search import searcher as searcher_module
from papersift.search.fusion import FusionParams
from papersift.search.searcher import Searcher, filtered_dense
from papersift.service import Papersift

from ..helpers import SHARED

ARXIV = SHARED / "arxiv-cs-2025-2026.jsonl.gz"
HF = SHARED / "hf-daily-papers-2024-2026.jsonl.gz"
QUERIES = SHARED / "queries" / "computer_science_ai_search_queries.json"


@pytest.fixture(scope="module")
def svc(tmp_path_factory, shared_data):
    if not (ARXIV.exists() and HF.exists() and QUERIES.exists()):
        pytest.skip("../shared/data not found: the filtered dense tests need the real arXiv and HF files")
    tmp = tmp_path_factory.mktemp("filtered-dense")
    # HF rows from December 2025 carry organisations (older ones do not); arXiv rows carry
    # categories, one in 400 so that they spread over a year of listing days
    for name, src, rows in (("arxiv.jsonl", ARXIV, (0, 60_000, 400)), ("hf.jsonl", HF, (6000, 6150, 1))):
        with gzip.open(src, "rt") as handle, open(tmp / name, "w") as out:
            out.writelines(itertools.islice(handle, *rows))
    service = Papersift(tmp / "p.db")
    service.ingest_file("arxiv-jsonl", tmp / "arxiv.jsonl")
    service.ingest_file("hf-daily", tmp / "hf.jsonl")
    service.index()
    return service


@pytest.fixture(scope="module")
def queries():
    return [q["search_query"] for q in itertools.islice(json.loads(QUERIES.read_text()).values(), 4)]


def small_org(svc) -> str:
    """An organisation with a handful of papers (fewer than a page of 10)."""
    counts = Counter(p.organization for p in svc.store.get_papers(_all_ids(svc)).values() if p.organization)
    return sorted((n, org) for org, n in counts.items() if 2 <= n <= 8)[-1][1]


def _all_ids(svc) -> list[str]:
    return [pid for pid, _ in svc.store.iter_embeddings(svc.indexes.embedder.name)]


def passing_ids(svc, q, filters=None) -> set[str]:
    """The ids behind the lexical index's passing keys (checked against filter_ids below)."""
    keys = set(svc.indexes.lexical.passing_keys(q, filters).tolist())
    return {pid for pid in _all_ids(svc) if paper_key(pid) in keys}


def filters_of(svc) -> dict[str, Filters]:
    days = sorted(p.published[:10] for p in svc.store.get_papers(_all_ids(svc)).values() if p.published)
    week = days[len(days) * 3 // 4]  # a few days holding part of the corpus
    cats = Counter(c for p in svc.store.get_papers(_all_ids(svc)).values() for c in p.categories or [])
    top = cats.most_common(1)[0][0]
    return {
        "org": Filters(organization=small_org(svc)),
        "dates": Filters(date_from=days[len(days) // 2], date_to=week),
        "category": Filters(categories=[top]),
        "category+dates": Filters(categories=[top], date_from=days[len(days) // 4], date_to=days[len(days) // 2]),
    }


def exact_filtered(svc, vector: np.ndarray, q: ParsedQuery, filters: Filters | None) -> list[tuple[str, float]]:
    ids, rows = zip(*svc.store.iter_embeddings(svc.indexes.embedder.name), strict=True)
    allowed = svc.indexes.lexical.filter_ids(list(ids), q, filters)
    # the vectors as the index stores them (float16 rows: docs/BENCHMARKS.md measures what that costs)
    scores = np.vstack(rows).astype(np.float16).astype(np.float32) @ vector
    ranked = sorted(((s, pid) for pid, s in zip(ids, scores.tolist(), strict=True) if pid in allowed), key=lambda t: -t[0])
    return [(pid, s) for s, pid in ranked]


def assert_same_ranking(got, want, depth: int) -> None:
    want = want[:depth]
    assert len(got) == len(want)
    assert [d for d, _ in got] == [d for d, _ in want]
    assert np.allclose([s for _, s in got], [s for _, s in want], atol=1e-5)


@pytest.fixture(scope="module")
def shallow(svc):
    """The product's searcher with a fusion depth of 10, so that 10 x 5 candidates (the old rule)
    are a small part of this 300-paper corpus, as 200 x 5 are of a large one."""
    return Searcher(svc.indexes, FusionParams(lexical_weight=0.5, depth=10, method="zscore"))


@pytest.fixture(params=["subset", "widening"])
def plan(request, monkeypatch):
    if request.param == "widening":
        monkeypatch.setattr(searcher_module, "SUBSET_MAX", 0)
    else:
        monkeypatch.setattr(searcher_module, "CHECK_US", 1e9)
    return request.param


def test_filters_cover_several_selectivities(svc):
    total = svc.store.count_papers()
    counts = {name: svc.indexes.lexical.count_passing(ParsedQuery(), f) for name, f in filters_of(svc).items()}
    assert all(0 < n < total for n in counts.values()), counts
    assert counts["org"] < 10 < max(counts.values())
    assert len(set(counts.values())) == len(counts)


def test_count_and_list_of_passing_papers_agree_with_the_filter(svc):
    ids = _all_ids(svc)
    for f in filters_of(svc).values():
        want = svc.indexes.lexical.filter_ids(ids, ParsedQuery(), f)
        assert passing_ids(svc, ParsedQuery(), f) == want
        assert svc.indexes.lexical.count_passing(ParsedQuery(), f) == len(want)


@pytest.mark.parametrize("depth", [10, 60])
def test_dense_ranking_is_exact_filtered_search(svc, queries, plan, depth):
    for text in queries:
        vector = svc.indexes.embedder.embed([text])[0]
        for query in (text, f"{text} -model"):
            q = parse_query(query)
            for f in filters_of(svc).values():
                got = filtered_dense(svc.indexes, vector, depth, q, f)
                want = exact_filtered(svc, vector, q, f)
                assert_same_ranking(got, want, depth)


@pytest.mark.parametrize("deep", [True, False])
def test_search_pages_hold_min_k_and_passing(svc, shallow, queries, deep):
    search = svc.search if deep else shallow.search
    for f in filters_of(svc).values():
        passing = svc.indexes.lexical.count_passing(ParsedQuery(), f)
        for text in queries:
            for mode in ("dense", "hybrid"):
                res = search(text, f, mode=mode, per_page=10)
                assert len(res.hits) == min(10, passing), (mode, f)
                allowed = svc.indexes.lexical.filter_ids([h.paper.id for h in res.hits], ParsedQuery(), f)
                assert {h.paper.id for h in res.hits} == allowed


def test_query_constraints_count_like_filters(svc, queries):
    org = small_org(svc)
    text = f'{queries[0]} org:"{org}"'
    res = svc.search(text, mode="dense", per_page=10)
    passing = svc.indexes.lexical.count_passing(parse_query(text))
    assert 0 < passing < 10 and len(res.hits) == passing
    assert {h.paper.id for h in res.hits} == passing_ids(svc, parse_query(text))


def test_similar_with_filters_is_exact(svc, shallow, plan):
    searcher = shallow
    papers = svc.store.get_papers(_all_ids(svc)[:3])
    for paper in papers.values():
        vector = svc.indexes.vectors.vector(paper.id)
        for f in filters_of(svc).values():
            got = searcher.rank_similar(paper, 20, f, mode="dense")
            assert_same_ranking(got, exact_filtered(svc, vector, ParsedQuery(), f), 20)
            hits = svc.similar(paper.id, k=10, filters=f)
            passing = svc.indexes.lexical.count_passing(ParsedQuery(), f)
            assert len(hits) == min(10, passing - (paper.id in passing_ids(svc, ParsedQuery(), f)))
