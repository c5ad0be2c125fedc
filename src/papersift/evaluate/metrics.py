"""Retrieval metrics as BEIR/pytrec_eval compute them, per query, with bootstrap CIs.

nDCG uses graded gains (rel) and log2 discounts over the judged ideal ranking;
queries without any relevant judgement are left out, as in BEIR.
"""

from __future__ import annotations

import math
from typing import Callable, Hashable, Iterable, Mapping, Sequence, TypeVar

import numpy as np

Qrels = Mapping[str, Mapping[str, int]]
Run = Mapping[str, Sequence[str]]  # query id -> ranked doc ids, best first
Doc = TypeVar("Doc", bound=Hashable)  # a document: its id, or its row (the recommendation evaluation)


def ndcg_at_k(ranked: Sequence[Doc], judged: Mapping[Doc, int], k: int) -> float:
    dcg = sum(judged.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if judged.get(doc, 0) > 0)
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: Sequence[Doc], judged: Mapping[Doc, int], k: int, min_grade: int = 1) -> float:
    relevant = {d for d, g in judged.items() if g >= min_grade}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[Doc], judged: Mapping[Doc, int], k: int, min_grade: int = 1) -> float:
    for i, doc in enumerate(ranked[:k]):
        if judged.get(doc, 0) >= min_grade:
            return 1.0 / (i + 1)
    return 0.0


METRICS: dict[str, Callable[[Sequence[str], Mapping[str, int]], float]] = {
    "ndcg@10": lambda r, j: ndcg_at_k(r, j, 10),
    "recall@100": lambda r, j: recall_at_k(r, j, 100),
    "mrr@10": lambda r, j: mrr_at_k(r, j, 10),
}


def per_query(run: Run, qrels: Qrels, metric: Callable[[Sequence[str], Mapping[str, int]], float]) -> dict[str, float]:
    """Metric for every query with at least one relevant judgement (missing runs score 0)."""
    return {
        qid: metric(list(run.get(qid, ())), judged)
        for qid, judged in qrels.items()
        if any(g > 0 for g in judged.values())
    }


def bootstrap_ci(values: Iterable[float], resamples: int = 2000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high): percentile bootstrap over queries, seeded so reports are reproducible."""
    data = np.asarray(list(values), dtype=np.float64)
    if data.size == 0:
        return 0.0, 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = data[rng.integers(0, data.size, size=(resamples, data.size))].mean(axis=1)
    tail = (1 - level) / 2 * 100
    return float(data.mean()), float(np.percentile(means, tail)), float(np.percentile(means, 100 - tail))


def evaluate(run: Run, qrels: Qrels, metrics: Mapping[str, Callable] = METRICS) -> dict[str, dict[str, float]]:
    """{metric: {"mean", "ci_low", "ci_high", "queries"}}."""
    report = {}
    for name, metric in metrics.items():
        scores = per_query(run, qrels, metric)
        mean, low, high = bootstrap_ci(scores.values())
        report[name] = {"mean": mean, "ci_low": low, "ci_high": high, "queries": len(scores)}
    return report
