"""Where a hybrid search's time goes at a million papers, step by step.

    python -m bench run hybrid_profile [--workdir DIR] [--queries 100] [--picks 100%,10%,1%]

For the first N of the 400 real queries and each filter of ``million_corpus.pick_filters``, times
every step of ``Papersift.search`` (hybrid, top 10) one after another as the searcher runs them:
the query embedding (cache cleared every call), the dense leg (``filtered_dense``), the BM25 leg
(``LexicalIndex.search`` at the fusion depth, with its count), fusion, the store fetch, the
snippets, all as before the changes of 2026-12-02 (and the BM25 leg as it is now); then the whole
``Papersift.search`` call (what ``bench/million.py`` reports) four ways, in rotating order so they
are paired under the same load: as before (a one-clause boolean around the ranked union, the legs
one after the other, every abstract word ranking), then with each change added in turn: the bare
union, BM25 in a thread beside the dense leg (``Searcher.overlap``), common abstract words left out
(``LexicalIndex.common_share``): the last is the default.
Medians (p50) and p99 in ms, the process CPU ms of each way (all threads: the work, which the
machine's load does not inflate as it does wall time), and the load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

from tantivy import Occur, Query

from bench import million_corpus
from bench.common import load_queries, percentile, workdir
from bench.million_corpus import pick_filters
from papersift.index.lexical.bm25 import COMMON_SHARE
from papersift.query import parse_query
from papersift.search.fusion import fuse
from papersift.search.searcher import filtered_dense
from papersift.service import Papersift

NEEDS = "the million-paper workdir (built first when missing)"


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


# (name, overlap, bare union, common_share): before 2026-12-02, then each change added in turn
VARIANTS = [("before", False, False, None), ("+ bare union", False, True, None),
            ("+ overlapped legs", True, True, None), ("+ common words pruned (default)", True, True, COMMON_SHARE)]


def configure(lexical, searcher, overlap: bool, bare: bool, share: float | None) -> None:
    """Set the three switches; ``bare=False`` wraps a bare ranked union in a one-clause boolean again,
    the query shape before 2026-12-02."""
    searcher.overlap, lexical.common_share = overlap, share
    lexical.__dict__.pop("_query", None)
    if bare:
        return
    product = type(lexical)._query

    def wrapped(q, filters, ranked=True, extra=(), prune=False):
        query = product(lexical, q, filters, ranked, extra, prune)
        plain = ranked and not extra and (filters is None or filters.is_empty()) and q.terms and not (
            q.phrases or q.fields or q.excluded_terms or q.excluded_phrases)
        return Query.boolean_query([(Occur.Must, query)]) if plain else query

    lexical._query = wrapped


def steps(svc: Papersift, text: str, filters, turn: int) -> dict[str, float]:
    searcher = svc.corpus.searcher
    indexes = searcher.indexes
    parsed = parse_query(text)
    depth = searcher.fusion.depth
    out = {}
    configure(indexes.lexical, searcher, *VARIANTS[0][1:])  # the steps as before the change
    t = time.perf_counter()
    vector = searcher._embed_uncached(parsed.free_text.strip())
    out["embed"] = _ms(t)
    t = time.perf_counter()
    dense = filtered_dense(indexes, vector, depth, parsed, filters)
    out["dense"] = _ms(t)
    t = time.perf_counter()
    hits = indexes.lexical.search(parsed, filters, limit=depth)
    out["bm25"] = _ms(t)
    configure(indexes.lexical, searcher, *VARIANTS[-1][1:])
    t = time.perf_counter()
    indexes.lexical.search(parsed, filters, limit=depth, prune=True)
    out["bm25 (default)"] = _ms(t)
    configure(indexes.lexical, searcher, *VARIANTS[0][1:])
    t = time.perf_counter()
    fused = fuse(list(hits.hits), dense, searcher.fusion)[:10]
    out["fuse"] = _ms(t)
    t = time.perf_counter()
    papers = indexes.store.get_papers(d for d, _ in fused)
    out["papers"] = _ms(t)
    t = time.perf_counter()
    indexes.lexical.snippets(papers.values(), parsed)
    out["snippets"] = _ms(t)
    # the whole call, four ways in rotating order so they share the load
    for name, *switches in VARIANTS[turn % 4:] + VARIANTS[: turn % 4]:
        configure(indexes.lexical, searcher, *switches)
        searcher._embed_query.cache_clear()
        t, cpu = time.perf_counter(), time.process_time()
        svc.search(text, filters, mode="hybrid", per_page=10)
        out[name] = _ms(t)
        out[f"cpu {name}"] = (time.process_time() - cpu) * 1000  # every thread: load-independent work
    configure(indexes.lexical, searcher, *VARIANTS[-1][1:])
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run hybrid_profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=workdir("1m"))
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--picks", default="100%,10%,1%")
    args = parser.parse_args(argv)
    work = million_corpus.ensure(args.workdir)
    svc = Papersift(work / "papersift.db", work / "index")
    texts = load_queries()[: args.queries]
    svc.search(texts[0])  # warm: the model session and the first searcher
    wanted = args.picks.split(",")
    out = {"load_before": os.getloadavg()[0]}
    for pick in pick_filters(svc.corpus):
        if pick.label not in wanted:
            continue
        filters = None if pick.filters.is_empty() else pick.filters
        rows = [steps(svc, t, filters, i) for i, t in enumerate(texts)]
        row = {k: round(statistics.median(r[k] for r in rows), 2) for k in rows[0]}
        names = [v[0] for v in VARIANTS]
        row["p99"] = {k: round(percentile([r[k] for r in rows], 99), 1) for k in names}
        row["/ before (median of per-query ratios)"] = {k: round(statistics.median(
            r[k] / r["before"] for r in rows), 3) for k in names[1:]}
        out[pick.label] = row
    out["load_after"] = os.getloadavg()[0]
    svc.close()
    return out
