import math

import numpy as np
import pytest

from papersift.evaluate.metrics import bootstrap_ci, evaluate, mrr_at_k, ndcg_at_k, recall_at_k


def test_ndcg_hand_computed():
    judged = {"a": 1, "b": 2}
    # ranking: x, b, a  -> DCG = 2/log2(3) + 1/log2(4); ideal = 2/1 + 1/log2(3)
    dcg = 2 / math.log2(3) + 1 / 2
    idcg = 2 + 1 / math.log2(3)
    assert ndcg_at_k(["x", "b", "a"], judged, 10) == pytest.approx(dcg / idcg)
    assert ndcg_at_k(["b", "a"], judged, 10) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "b", "a"], judged, 1) == 0.0


def test_recall_and_mrr():
    judged = {"a": 1, "b": 1, "c": 0}
    assert recall_at_k(["c", "a", "z"], judged, 100) == 0.5
    assert mrr_at_k(["c", "z", "b"], judged, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(["c", "z", "b"], judged, 2) == 0.0


def test_bootstrap_ci_brackets_the_mean_and_is_seeded():
    values = [0.0, 1.0] * 50
    mean, low, high = bootstrap_ci(values)
    assert low < mean == 0.5 < high and high - low < 0.25
    assert bootstrap_ci(values) == (mean, low, high)


def test_evaluate_skips_queries_without_relevant_docs():
    report = evaluate({"q1": ["a"], "q2": ["b"]}, {"q1": {"a": 1}, "q2": {"b": 0}})
    assert report["ndcg@10"]["queries"] == 1 and report["ndcg@10"]["mean"] == 1.0


def _percentile_bootstrap(values, resamples, seed, low_q, high_q):
    """The percentile bootstrap written out: resample queries with replacement, take quantiles of the means."""
    data = np.asarray(values, dtype=np.float64)
    rng = np.random.default_rng(seed)
    means = np.array([data[rng.integers(0, data.size, size=data.size)].mean() for _ in range(resamples)])
    return float(np.percentile(means, low_q)), float(np.percentile(means, high_q))


def test_bootstrap_interval_is_95_percent():
    # reports (docs/BENCHMARKS.md, `papersift eval`) say "95% CI": the 2.5th and 97.5th percentiles
    values = [0.1, 0.9, 0.35, 0.0, 1.0, 0.62, 0.48, 0.77, 0.05, 0.3] * 7
    mean, low, high = bootstrap_ci(values)
    assert mean == pytest.approx(float(np.mean(values)), abs=1e-12)
    assert (low, high) == pytest.approx(_percentile_bootstrap(values, 2000, 0, 2.5, 97.5), abs=1e-12)
    narrower = _percentile_bootstrap(values, 2000, 0, 5, 95)
    assert low < narrower[0] and high > narrower[1]  # a 90% interval would be strictly inside
    assert bootstrap_ci(values, level=0.9)[1:] == pytest.approx(narrower, abs=1e-12)
    assert bootstrap_ci(values, resamples=500, seed=7)[1:] == pytest.approx(
        _percentile_bootstrap(values, 500, 7, 2.5, 97.5), abs=1e-12)


def test_evaluate_reports_the_95_percent_interval():
    qrels = {f"q{i}": {"a": 1} for i in range(40)}
    run = {f"q{i}": (["a"] if i % 3 else ["x", "y", "a"]) for i in range(40)}
    report = evaluate(run, qrels)
    # one relevant doc per query, at rank 1 (nDCG 1, RR 1) or at rank 3 (nDCG 1/log2(4), RR 1/3)
    ndcg = [1.0 if i % 3 else 1 / math.log2(4) for i in range(40)]
    low, high = _percentile_bootstrap(ndcg, 2000, 0, 2.5, 97.5)
    assert report["ndcg@10"] == pytest.approx({"mean": float(np.mean(ndcg)), "ci_low": low, "ci_high": high,
                                               "queries": 40}, abs=1e-12)
    mrr = [1.0 if i % 3 else 1 / 3 for i in range(40)]
    assert report["mrr@10"]["mean"] == pytest.approx(float(np.mean(mrr)))
    assert report["recall@100"]["mean"] == 1.0 and report["recall@100"]["ci_low"] == 1.0


def test_bootstrap_of_nothing_and_of_a_constant():
    assert bootstrap_ci([]) == (0.0, 0.0, 0.0)
    assert bootstrap_ci([0.4] * 10) == pytest.approx((0.4, 0.4, 0.4))


def test_queries_without_relevant_documents_or_without_a_run():
    assert ndcg_at_k(["a", "b"], {"a": 0}, 10) == 0.0 and ndcg_at_k([], {}, 10) == 0.0
    assert recall_at_k(["a"], {"a": 0}, 100) == 0.0
    # a query the run never answered scores 0 (it still counts)
    report = evaluate({"q1": ["a"]}, {"q1": {"a": 1}, "q2": {"b": 1}})
    assert report["ndcg@10"]["mean"] == 0.5 and report["ndcg@10"]["queries"] == 2
