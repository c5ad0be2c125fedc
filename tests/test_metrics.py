import math

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
