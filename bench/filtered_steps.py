"""The steps of filtered search at a million papers, timed in process (docs/BENCHMARKS.md, "A million
papers after kept passing counts and the code scan").

    python -m bench run filtered_steps [--workdir DIR] [--queries 60] [--phases legs,bm25,open]
    PYTHONPATH=OLD/src python -m bench run filtered_steps ...   # the same steps on another checkout's code

``legs``: for each filter of ``million_corpus.pick_filters``, the median ms of ``count_passing``,
``passing_keys``, ``GraphVectorIndex.search_keys`` (depth 100) and the whole ``filtered_dense`` leg.
``bm25``: the 1% filter's BM25 leg (depth 100) with no filter, the whole filter, its category alone,
its dates alone, and the passing keys as a term set; and the cost of reading 100 hits' ids from the
stored documents against reading their keys from the fast field. ``open``: open the service and
answer one hybrid query (run it under ``py-spy record`` after dropping the OS caches for a cold start).
Each is timed twice; the second pass is reported (the first fills the kept sets and the page cache).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from tantivy import Occur, Query

from bench import million_corpus
from bench.common import load_queries, workdir
from bench.million_corpus import pick_filters
from papersift.query import Filters, ParsedQuery, parse_query
from papersift.search.searcher import filtered_dense
from papersift.service import Papersift

NEEDS = "the million-paper workdir (built first when missing)"


def median_ms(calls, items) -> float:
    for _ in range(2):
        times = []
        for item in items:
            started = time.perf_counter()
            calls(item)
            times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 2)


def legs(svc: Papersift, vectors: list) -> dict:
    indexes, bare, out = svc.indexes, ParsedQuery(), {}
    for pick in pick_filters(svc):
        f = pick.filters
        keys = indexes.lexical.passing_keys(bare, f)
        out[pick.label] = {
            "passing": len(keys),
            "count_passing": median_ms(lambda v, f=f: indexes.lexical.count_passing(bare, f), vectors),
            "passing_keys": median_ms(lambda v, f=f: indexes.lexical.passing_keys(bare, f), vectors),
            "search_keys": median_ms(lambda v, keys=keys: indexes.vectors.search_keys(v, 100, keys), vectors),
            "filtered_dense": median_ms(lambda v, f=f: filtered_dense(indexes, v, 100, bare, f), vectors)}
    return out


def bm25(svc: Papersift, texts: list[str]) -> dict:
    lexical = svc.indexes.lexical
    queries = [parse_query(t) for t in texts]
    f = next(p for p in pick_filters(svc) if p.label == "1%").filters
    variants = {"no filter": None, "whole filter": f, "category alone": Filters(categories=f.categories),
                "dates alone": Filters(date_from=f.date_from, date_to=f.date_to)}
    out = {name: median_ms(lambda q, flt=flt: lexical.search(q, flt, limit=100), queries) for name, flt in variants.items()}
    keys = lexical.passing_keys(ParsedQuery(), f).tolist()
    searcher = lexical._index.searcher()

    def keyset(q):
        passing = Query.const_score_query(Query.term_set_query(lexical.schema, "key", keys), 0.0)
        searcher.search(Query.boolean_query([(Occur.Must, passing), (Occur.Must, lexical._ranked(q, True))]), 100)

    out["passing keys as a term set"] = median_ms(keyset, queries)
    hits = {id(q): searcher.search(lexical._query(q, None, prune=True), 100).hits for q in queries}
    out["100 hits: ids from stored documents"] = median_ms(
        lambda q: [searcher.doc(a)["id"][0] for _, a in hits[id(q)]], queries)
    out["100 hits: keys from the fast field"] = median_ms(
        lambda q: searcher.fast_field_values("key", [a for _, a in hits[id(q)]]), queries)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run filtered_steps", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=workdir("1m"))
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--phases", default="legs,bm25", help="legs, bm25, open")
    args = parser.parse_args(argv)
    work = million_corpus.ensure(args.workdir)
    started = time.perf_counter()
    svc = Papersift(work / "papersift.db", work / "index")
    phases = args.phases.split(",")
    if "open" in phases:
        svc.search("graph neural networks for molecules", mode="hybrid")
        print(json.dumps({"open_and_one_hybrid_s": round(time.perf_counter() - started, 2)}))
    texts = load_queries()[: args.queries]
    results = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    if "legs" in phases:
        results["legs"] = legs(svc, [svc.indexes.embedder.embed([t])[0] for t in texts])
    if "bm25" in phases:
        results["bm25"] = bm25(svc, texts)
    return results
