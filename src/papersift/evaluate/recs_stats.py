"""Per-user scores, their macro means with bootstrap CIs, and the paired test.

The per-user metrics are metrics.py's (as BEIR computes them); MRR runs over the whole ranking.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from papersift.evaluate.metrics import bootstrap_ci, mrr_at_k, ndcg_at_k, recall_at_k

METRIC_NAMES = ("ndcg@10", "recall@50", "mrr")


def user_scores(ranked: Sequence[int], relevant: set[int]) -> dict[str, float]:
    judged = {r: 1 for r in relevant}
    return {"ndcg@10": ndcg_at_k(ranked, judged, 10), "recall@50": recall_at_k(ranked, judged, 50),
            "mrr": mrr_at_k(ranked, judged, len(ranked))}


def summarise(per_user: dict[str, list[dict[str, float]]]) -> dict[str, dict[str, dict[str, float]]]:
    """{method: {metric: {mean, ci_low, ci_high}}}, macro over users."""
    report: dict[str, dict[str, dict[str, float]]] = {}
    for method, rows in per_user.items():
        report[method] = {}
        for metric in METRIC_NAMES:
            mean, low, high = bootstrap_ci([r[metric] for r in rows])
            report[method][metric] = {"mean": mean, "ci_low": low, "ci_high": high}
    return report


def paired_bootstrap(ours: Sequence[float], theirs: Sequence[float], resamples: int = 10_000,
                     seed: int = 0) -> dict[str, float]:
    """Mean per-user difference (ours - theirs), its 95% percentile interval from resampling users
    (the same users for both, so shared difficulty cancels), and a two-sided bootstrap p-value."""
    diff = np.asarray(ours, dtype=np.float64) - np.asarray(theirs, dtype=np.float64)
    if diff.size == 0:
        return {"diff": 0.0, "ci_low": 0.0, "ci_high": 0.0, "p": 1.0}
    rng = np.random.default_rng(seed)
    means = diff[rng.integers(0, diff.size, size=(resamples, diff.size))].mean(axis=1)
    tail = min(float((means <= 0).mean()), float((means >= 0).mean()))
    return {"diff": float(diff.mean()), "ci_low": float(np.percentile(means, 2.5)),
            "ci_high": float(np.percentile(means, 97.5)), "p": min(1.0, 2 * tail)}


def paired_tests(per_user: dict[str, list[dict[str, float]]], ours: str,
                 baselines: Sequence[str]) -> dict:
    """The product against the baseline with the best mean nDCG@10, on every metric."""
    best = max(baselines, key=lambda m: np.mean([r["ndcg@10"] for r in per_user[m]]) if per_user[m] else -1)
    return {"ours": ours, "baseline": best,
            "metrics": {m: paired_bootstrap([r[m] for r in per_user[ours]], [r[m] for r in per_user[best]])
                        for m in METRIC_NAMES}}
