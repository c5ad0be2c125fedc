"""Choosing the ANN library: faiss HNSW-SQ8 vs usearch HNSW-i8 (vs hnswlib's memory) on real vectors.

    pip install usearch==2.26.6   # only for this comparison; faiss-cpu is a dependency
    python -m bench run ann_choice [--papers 1000000] [--queries 200]

Vectors: the 80,317 real paper embeddings of ``../shared/data/embeddings``; above that, each extra row is a
real vector chosen uniformly (seed 0) plus Gaussian noise (sigma 0.75 / sqrt(384) per coordinate, so a copy
has cosine ~0.8 with its source), re-normalised. Queries: 200 real vectors plus small noise
(sigma 0.5 / sqrt(384)). Ground truth: exact top 10 by inner product. Both graphs: M = 16,
efConstruction = 64, 2 build threads, 1 search thread; recall@10 from the graph's own int8 scores, and
after rescoring its ``ef`` candidates with the float rows (what ``GraphVectorIndex`` does).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import faiss
import numpy as np

from bench.common import DATA

NEEDS = "../shared/data/embeddings; usearch==2.26.6 for its half (skipped without it)"


def vectors(n: int, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    real = np.load(DATA / "embeddings" / "papers-80k-minilm-int8.f16.npy").astype(np.float32)
    rng = np.random.default_rng(0)
    d = real.shape[1]
    if n > len(real):
        extra = real[rng.integers(0, len(real), n - len(real))]
        extra += rng.standard_normal(extra.shape, dtype=np.float32) * (0.75 / np.sqrt(d))
        extra /= np.linalg.norm(extra, axis=1, keepdims=True)
        real = np.vstack([real, extra])
    queries = real[rng.choice(min(n, 80_317), n_queries, replace=False)]
    queries = queries + rng.standard_normal(queries.shape, dtype=np.float32) * (0.5 / np.sqrt(d))
    return real[:n], queries / np.linalg.norm(queries, axis=1, keepdims=True)


def truth(x: np.ndarray, q: np.ndarray, k: int = 10) -> np.ndarray:
    out = []
    for start in range(0, len(q), 50):
        scores = q[start:start + 50] @ x.T
        out.append(np.argpartition(-scores, k, axis=1)[:, :k])
    return np.vstack(out)


def recall(found: np.ndarray, gt: np.ndarray) -> float:
    return float(np.mean([len(set(f[:10]) & set(g)) / 10 for f, g in zip(found, gt, strict=True)]))


def rescored(x: np.ndarray, q: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    rows = [c[c >= 0] for c in candidates]
    return np.array([r[np.argsort(-(x[r] @ qi))][:10] for r, qi in zip(rows, q, strict=True)])


def scores(x, q, gt, labels, ms) -> dict:
    return {"recall_int8": round(recall(labels, gt), 3), "recall_rescored": round(recall(rescored(x, q, labels), gt), 3),
            "search_ms": round(ms, 3)}


def run_faiss(x, q, gt, efs) -> dict:
    faiss.omp_set_num_threads(2)
    started = time.perf_counter()
    index = faiss.IndexHNSWSQ(x.shape[1], faiss.ScalarQuantizer.QT_8bit, 16, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = 64
    index.train(x[:: max(1, len(x) // 100_000)])
    index.add(x)
    out = {"build_s": round(time.perf_counter() - started, 1)}
    faiss.omp_set_num_threads(1)
    for ef in efs:
        params = faiss.SearchParametersHNSW(efSearch=ef)
        started = time.perf_counter()
        _, labels = index.search(q, ef, params=params)
        ms = (time.perf_counter() - started) / len(q) * 1000
        out[f"ef{ef}"] = scores(x, q, gt, labels, ms)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ann_choice.faiss"
        faiss.write_index(index, str(path))
        out["file_mb"] = round(path.stat().st_size / 2**20)
    return out


def run_usearch(x, q, gt, efs) -> dict:
    try:
        from usearch.index import Index
    except ImportError:
        return {"skipped": "usearch not installed"}
    started = time.perf_counter()
    index = Index(ndim=x.shape[1], metric="ip", dtype="i8", connectivity=16, expansion_add=64)
    index.add(np.arange(len(x)), x, threads=2)
    out = {"build_s": round(time.perf_counter() - started, 1), "memory_mb": round(index.memory_usage / 2**20)}
    for ef in efs:
        index.expansion_search = ef
        started = time.perf_counter()
        labels = index.search(q, ef, threads=1).keys.astype(np.int64)
        ms = (time.perf_counter() - started) / len(q) * 1000
        out[f"ef{ef}"] = scores(x, q, gt, labels, ms)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run ann_choice", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--papers", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)
    x, q = vectors(args.papers, args.queries)
    gt = truth(x, q)
    efs = (32, 64, 96, 128, 256)
    result = {"papers": len(x), "faiss_hnsw_sq8": run_faiss(x, q, gt, efs), "usearch_hnsw_i8": run_usearch(x, q, gt, efs),
              "hnswlib_float32_mb (vectors alone, it has no int8)": round(len(x) * x.shape[1] * 4 / 2**20)}
    return result
