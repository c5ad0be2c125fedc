"""Tune the hybrid search on SciFact *train* queries, then report bm25 / dense / hybrid on *test*.

    python -m bench run tune_fusion [--data ../shared/data/scifact]

Prints one JSON line per tuning result; the result holds the chosen parameters and the test metrics
(with bootstrap 95% CIs). Nothing is tuned on the test queries.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

from bench.common import DATA
from papersift.evaluate.beir_eval import open_corpus
from papersift.evaluate.metrics import evaluate, ndcg_at_k, per_query
from papersift.index.lexical.bm25 import FieldWeights
from papersift.ingest import beir
from papersift.query import plain_query
from papersift.search.fusion import FusionParams, fuse
from papersift.search.searcher import Searcher

NEEDS = "../shared/data/scifact (embedded once into papersift's eval cache)"
DEPTH = 200


def legs(searcher: Searcher, queries: dict[str, str], namespace: str) -> dict[str, tuple[list, list]]:
    """Both legs' top-DEPTH rankings per query, computed once, fused many times below."""
    prefix = namespace + ":"
    def strip(ranking):
        return [(d.removeprefix(prefix), s) for d, s in ranking]
    out = {}
    for qid, text in queries.items():
        q = plain_query(text)
        lexical = list(searcher.indexes.lexical.search(q, None, limit=DEPTH).hits)
        dense = searcher._dense(q, None, DEPTH)
        out[qid] = (strip(lexical), strip(dense))
    return out


def score(runs: dict[str, list], qrels) -> float:
    values = per_query(runs, qrels, lambda r, j: ndcg_at_k(r, j, 10))
    return sum(values.values()) / max(1, len(values))


def fused_runs(cached, params: FusionParams) -> dict[str, list[str]]:
    return {qid: [d for d, _ in fuse(lex, dense, params)][:100] for qid, (lex, dense) in cached.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run tune_fusion", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DATA / "scifact"))
    args = parser.parse_args(argv)
    folder = Path(args.data)
    queries = beir.read_beir_queries(folder)
    train_qrels, test_qrels = beir.read_qrels(folder, "train"), beir.read_qrels(folder, "test")
    train = {q: queries[q] for q in train_qrels if q in queries}
    test = {q: queries[q] for q in test_qrels if q in queries}
    started = time.perf_counter()

    # 1. lexical field weights (title vs abstract), on train, BM25 alone. The product requires
    # title > abstract > authors; weights outside that are measured for the record, not chosen.
    best_weights, best_bm25 = None, -1.0
    for title in (0.5, 1.0, 1.1, 1.25, 1.5, 2.0, 3.0):
        weights = FieldWeights(title=title, abstract=1.0, authors=0.5)
        svc, ns = open_corpus(folder, embedder=False, lexical_weights=weights)
        runs = {qid: [d.removeprefix(ns + ":") for d, _ in
                      svc.indexes.lexical.search(plain_query(t), None, limit=100).hits] for qid, t in train.items()}
        value = score(runs, train_qrels)
        allowed = title > 1.0
        print(json.dumps({"stage": "weights", "title": title, "abstract": 1.0, "train_ndcg@10": round(value, 4),
                          "eligible": allowed}), flush=True)
        if allowed and value > best_bm25:
            best_weights, best_bm25 = weights, value

    # 2. fusion method, weight and depth, on train
    svc, ns = open_corpus(folder, lexical_weights=best_weights)
    searcher = Searcher(svc.indexes)
    cached = legs(searcher, train, ns)
    best, best_value = None, -1.0
    for method, depth in itertools.product(("convex", "zscore", "rrf"), (20, 50, 100, 200)):
        for w in [i / 20 for i in range(21)]:
            params = FusionParams(lexical_weight=w, depth=depth, method=method)
            value = score(fused_runs(cached, params), train_qrels)
            if value > best_value:
                best, best_value = params, value
        print(json.dumps({"stage": "fusion", "method": method, "depth": depth, "best_so_far": best.__dict__,
                          "train_ndcg@10": round(best_value, 4)}), flush=True)

    # 3. report on test with the chosen parameters
    test_cached = legs(searcher, test, ns)
    report = {"chosen": {"weights": best_weights.__dict__, "fusion": best.__dict__},
              "train_ndcg@10": {"bm25": round(best_bm25, 4), "hybrid": round(best_value, 4)}}
    report["test"] = {
        "bm25": evaluate({q: [d for d, _ in lex][:100] for q, (lex, _) in test_cached.items()}, test_qrels),
        "dense": evaluate({q: [d for d, _ in dense][:100] for q, (_, dense) in test_cached.items()}, test_qrels),
        "hybrid": evaluate(fused_runs(test_cached, best), test_qrels),
        "hybrid_plain_rrf": evaluate(fused_runs(test_cached, FusionParams(lexical_weight=0.5, depth=100, method="rrf")),
                                     test_qrels),
    }
    report["seconds"] = round(time.perf_counter() - started, 1)
    return report
