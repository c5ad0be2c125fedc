"""What the graph index and its int8 codes cost in retrieval quality: SciFact with the graph forced on.

    python -m bench run vector_quality [--data ../shared/data/scifact]

SciFact (5,183 abstracts) is below ``GRAPH_MIN``, so the product searches it exactly. Here the same
cached vectors go into three indexes: the exact reference (``ExactVectorIndex``), the on-disk index
as shipped (exact below 20K rows), and the on-disk index with the graph forced on (``graph_min=1``:
HNSW over int8 codes, float rescoring, as at 1M papers). The 300 test queries run dense and hybrid
through ``Searcher.rank``; nDCG@10 with a bootstrap 95% CI, and the paired bootstrap of the difference.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from bench.common import DATA, paired
from papersift.evaluate.beir_eval import open_corpus, run_queries
from papersift.evaluate.metrics import bootstrap_ci, ndcg_at_k, per_query
from papersift.index.vectors.exact import ExactVectorIndex
from papersift.index.vectors.hnsw import GraphVectorIndex
from papersift.ingest import beir
from papersift.search.searcher import Searcher

NEEDS = "../shared/data/scifact (embedded once into papersift's eval cache)"


def filled(index, svc):
    ids, rows = zip(*svc.indexes.store.iter_embeddings(svc.indexes.embedder.name), strict=True)
    index.add(list(ids), np.vstack(rows))
    if hasattr(index, "catch_up_graph"):
        index.catch_up_graph(force=True)
    return index


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run vector_quality", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(DATA / "scifact"))
    args = parser.parse_args(argv)
    folder = Path(args.data)
    svc, namespace = open_corpus(folder)
    qrels = beir.read_qrels(folder, "test")
    queries = {q: t for q, t in beir.read_beir_queries(folder).items() if q in qrels}
    dim = svc.indexes.embedder.dim
    with tempfile.TemporaryDirectory() as tmp:
        variants = {"exact (reference)": filled(ExactVectorIndex(dim), svc),
                    "on disk, as shipped": filled(GraphVectorIndex(dim, Path(tmp) / "a", "m"), svc),
                    "on disk, graph forced (int8 HNSW)": filled(GraphVectorIndex(dim, Path(tmp) / "b", "m", graph_min=1), svc)}
        results, scores = {}, {}
        for mode in ("dense", "hybrid"):
            for name, index in variants.items():
                svc.indexes.vectors = index
                run = run_queries(Searcher(svc.indexes), queries, namespace, mode)
                per = per_query(run, qrels, lambda r, j: ndcg_at_k(r, j, 10))
                scores[(mode, name)] = per
                mean, lo, hi = bootstrap_ci(list(per.values()))
                results[f"{mode} / {name}"] = {"ndcg10": round(mean, 4), "ci95": [round(lo, 4), round(hi, 4)]}
            ref = scores[(mode, "exact (reference)")]
            results[f"{mode}: graph forced minus exact"] = paired(ref, scores[(mode, "on disk, graph forced (int8 HNSW)")])
    return results
