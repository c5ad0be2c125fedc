"""Similar papers on CSFCube: NDCG@20 after reranking each query paper's candidate pool.

    python -m bench run csfcube [--data ../shared/data/csfcube]

"Similar papers" is paper-level, so each query paper is represented by its own title and
abstract whatever the facet; the facet-specific numbers show where that costs. Gains are the
graded judgements (0-3), as in the CSFCube evaluation; recall counts grade >= 2. The hybrid
weight is tuned on each fold's dev queries and reported on its test queries (two folds
averaged); bm25 and dense have nothing tuned and are reported on all 50 queries too.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from bench.common import DATA
from papersift.evaluate.beir_eval import open_corpus
from papersift.evaluate.metrics import bootstrap_ci, ndcg_at_k
from papersift.ingest import beir
from papersift.search.fusion import FusionParams, fuse
from papersift.search.searcher import more_like_this

NEEDS = "../shared/data/csfcube (embedded once into papersift's eval cache)"


def pool_scores(svc, ns, paper_id, cands):
    """BM25 and cosine scores of every pool candidate for one query paper."""
    paper = svc.store.get_paper(f"{ns}:{paper_id}")
    # prune=False: what "similar papers" runs (the product keeps every abstract word there)
    lexical = dict(svc.indexes.lexical.search(more_like_this(paper), None, limit=5000, prune=False).hits)
    vectors = svc.indexes.vectors
    query = vectors.vector(paper.id)
    bm25, dense = [], []
    for cand in cands:
        key = f"{ns}:{cand}"
        bm25.append((cand, lexical.get(key, 0.0)))
        vec = vectors.vector(key)
        dense.append((cand, float(vec @ query) if vec is not None else -1.0))
    def order(pairs):
        return sorted(pairs, key=lambda p: (-p[1], p[0]))
    return order(bm25), order(dense)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run csfcube", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DATA / "csfcube"))
    args = parser.parse_args(argv)
    folder = Path(args.data)
    queries = {}
    with open(folder / "queries.jsonl") as handle:
        for line in handle:
            row = json.loads(line)
            queries[row["_id"]] = row
    qrels = beir.read_qrels(folder)
    pools = json.loads((folder / "pools.json").read_text())
    splits = json.loads((folder / "evaluation_splits.json").read_text())
    svc, ns = open_corpus(folder)

    legs = {qid: pool_scores(svc, ns, q["query_paper_id"], pools[q["query_paper_id"]]["cands"])
            for qid, q in queries.items()}
    def ndcg(ranking, qid):
        return ndcg_at_k([d for d, _ in ranking], qrels.get(qid, {}), 20)

    def hybrid(qid, w):
        bm25, dense = legs[qid]
        return fuse(bm25, dense, FusionParams(lexical_weight=w, depth=len(bm25)))

    report = {"queries": len(queries)}
    for name, pick in (("bm25", 0), ("dense", 1)):
        values = [ndcg(legs[qid][pick], qid) for qid in queries]
        mean, low, high = bootstrap_ci(values)
        per_facet = {f: round(statistics.mean(ndcg(legs[q][pick], q) for q in queries if queries[q]["facet"] == f), 4)
                     for f in ("background", "method", "result")}
        report[name] = {"ndcg@20": round(mean, 4), "ci95": [round(low, 4), round(high, 4)], "per_facet": per_facet}

    # hybrid: weight tuned per fold on dev, scored on test; folds pooled
    weights = [i / 10 for i in range(11)]
    test_scores, chosen = [], []
    for fold in ("fold1", "fold2"):
        dev = [q for facet in splits.values() for q in facet[f"{fold}_dev"]]
        test = [q for facet in splits.values() for q in facet[f"{fold}_test"]]
        w = max(weights, key=lambda w: statistics.mean(ndcg(hybrid(q, w), q) for q in dev))
        chosen.append(w)
        test_scores += [ndcg(hybrid(q, w), q) for q in test]
    mean, low, high = bootstrap_ci(test_scores)
    report["hybrid"] = {"ndcg@20": round(mean, 4), "ci95": [round(low, 4), round(high, 4)],
                        "lexical_weight_per_fold": chosen, "scored_queries": len(test_scores)}
    cv_dense = []
    for fold in ("fold1", "fold2"):
        cv_dense += [ndcg(legs[q][1], q) for facet in splits.values() for q in facet[f"{fold}_test"]]
    report["dense_same_folds"] = round(statistics.mean(cv_dense), 4)
    return report
