"""Calibrated relevance: the product's hybrid scores mapped to a probability that the paper is relevant,
fitted on training queries and measured once on held-out ones (what an alert's threshold will rest on).

    python -m bench run calibration [--workdir DIR] [--depth 20]

Pairs: each query's top ``depth`` of the product's own hybrid search (``Searcher.rank`` with its default
fusion), labelled by the qrels: SciFact grade >= 1; the short-topic set (bench/short_topics/) grade >= 2
("relevant" or "about it"; unjudged papers count as not relevant, as in its nDCG).
Fitted on SciFact train (809 queries) + short-topic dev (32); measured on SciFact test (300) and short-topic
test (32), separately: the two are different corpora and query kinds. Calibrators (scikit-learn): Platt
(a logistic regression on the score), isotonic regression on the score, and isotonic per query length (1,
2-3, 4+ words: the fusion weighs the legs differently by length). Metrics: expected calibration error (10
equal-width bins, weighted by count), Brier score and ROC AUC, each with a bootstrap 95% interval over
queries; the paired bootstrap of each calibrator's per-query Brier against Platt's.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bench.common import paired, workdir

Pairs = dict[str, tuple[np.ndarray, np.ndarray, int]]  # query -> (scores, labels, query words)


def _length_bucket(words: int) -> int:
    return 0 if words <= 1 else 1 if words <= 3 else 2


def hybrid_pairs(searcher, queries: dict[str, str], qrels: dict[str, dict[str, int]], prefix: str, relevant: int,
                 depth: int) -> Pairs:
    from papersift.evaluate.beir_eval import plain_query

    pairs: Pairs = {}
    for qid, text in queries.items():
        ranking, _, _ = searcher.rank(plain_query(text), None, mode="hybrid", k=depth)
        judged = qrels.get(qid, {})
        scores = np.array([s for _, s in ranking], dtype=np.float64)
        labels = np.array([judged.get(d.removeprefix(prefix), 0) >= relevant for d, _ in ranking], dtype=np.float64)
        if len(ranking):
            pairs[qid] = (scores, labels, len(text.split()))
    return pairs


def scifact_pairs(depth: int) -> tuple[Pairs, Pairs]:
    from bench.common import DATA
    from papersift.evaluate.beir_eval import open_corpus
    from papersift.ingest import beir
    from papersift.search.searcher import Searcher

    folder = DATA / "scifact"
    queries = beir.read_beir_queries(folder)
    svc, namespace = open_corpus(folder)
    try:
        searcher = Searcher(svc.indexes)
        out = []
        for split in ("train", "test"):
            qrels = beir.read_qrels(folder, split)
            out.append(hybrid_pairs(searcher, {q: t for q, t in queries.items() if q in qrels}, qrels,
                                    namespace + ":", 1, depth))
    finally:
        svc.close()
    return out[0], out[1]


def short_topic_pairs(work: Path, depth: int) -> tuple[Pairs, Pairs]:
    from bench.short_topics import open_searcher, read_qrels, read_queries

    queries, qrels = read_queries(), read_qrels()
    svc, searcher = open_searcher(work)
    try:
        return tuple(hybrid_pairs(searcher, {q: v["query"] for q, v in queries.items() if v["split"] == split},
                                  qrels, "", 2, depth) for split in ("dev", "test"))  # type: ignore[return-value]
    finally:
        svc.close()


class Calibrators:
    """The three calibrators, fitted on the training pairs."""

    def __init__(self, train: Pairs):
        from sklearn.isotonic import IsotonicRegression
        from sklearn.linear_model import LogisticRegression

        x = np.concatenate([s for s, _, _ in train.values()])
        y = np.concatenate([lab for _, lab, _ in train.values()])
        self.platt = LogisticRegression(C=1e6).fit(x.reshape(-1, 1), y)
        self.isotonic = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(x, y)
        self.by_length = {}
        for bucket in range(3):
            part = [(s, lab) for s, lab, w in train.values() if _length_bucket(w) == bucket]
            if part:
                self.by_length[bucket] = IsotonicRegression(out_of_bounds="clip", y_min=0, y_max=1).fit(
                    np.concatenate([s for s, _ in part]), np.concatenate([lab for _, lab in part]))

    def predict(self, name: str, scores: np.ndarray, words: int) -> np.ndarray:
        if name == "platt":
            return self.platt.predict_proba(scores.reshape(-1, 1))[:, 1]
        if name == "isotonic":
            return self.isotonic.predict(scores)
        model = self.by_length.get(_length_bucket(words), self.isotonic)
        return model.predict(scores)


def ece(prob: np.ndarray, label: np.ndarray, bins: int = 10) -> float:
    edges = np.minimum((prob * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = edges == b
        if mask.any():
            total += mask.sum() * abs(prob[mask].mean() - label[mask].mean())
    return float(total / max(1, len(prob)))


def _metrics(per_query: dict[str, tuple[np.ndarray, np.ndarray]], seed: int = 0, resamples: int = 1000) -> dict:
    from sklearn.metrics import roc_auc_score

    qids = sorted(per_query)
    rng = np.random.default_rng(seed)

    def compute(chosen) -> tuple[float, float, float]:
        p = np.concatenate([per_query[q][0] for q in chosen])
        y = np.concatenate([per_query[q][1] for q in chosen])
        auc = roc_auc_score(y, p) if 0 < y.sum() < len(y) else float("nan")
        return ece(p, y), float(np.mean((p - y) ** 2)), float(auc)

    point = compute(qids)
    draws = np.array([compute([qids[i] for i in rng.integers(0, len(qids), len(qids))]) for _ in range(resamples)])
    out = {}
    for i, name in enumerate(("ece", "brier", "auc")):
        low, high = np.nanpercentile(draws[:, i], [2.5, 97.5])
        out[name] = round(point[i], 4)
        out[f"{name}_ci95"] = [round(float(low), 4), round(float(high), 4)]
    return out


def report(calibrators: Calibrators, held_out: Pairs) -> dict:
    out: dict = {"queries": len(held_out), "pairs": int(sum(len(s) for s, _, _ in held_out.values())),
                 "relevant_share": round(float(np.mean(np.concatenate([lab for _, lab, _ in held_out.values()]))), 4)}
    brier: dict[str, dict[str, float]] = {}
    for name in ("platt", "isotonic", "isotonic_by_length"):
        per_query = {q: (calibrators.predict(name, s, w), lab) for q, (s, lab, w) in held_out.items()}
        out[name] = _metrics(per_query)
        brier[name] = {q: float(np.mean((p - y) ** 2)) for q, (p, y) in per_query.items()}
    for name in ("isotonic", "isotonic_by_length"):
        out[f"brier {name} - platt"] = paired(brier["platt"], brier[name])
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench run calibration", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path, default=workdir("80k"), help="the corpus80k workdir (short topics)")
    ap.add_argument("--depth", type=int, default=20, help="pairs per query: its hybrid top N")
    args = ap.parse_args(argv)
    sci_train, sci_test = scifact_pairs(args.depth)
    short_dev, short_test = short_topic_pairs(args.workdir, args.depth)
    calibrators = Calibrators(sci_train | short_dev)
    return {"fitted_on": {"scifact_train_queries": len(sci_train), "short_topic_dev_queries": len(short_dev)},
            "scifact_test": report(calibrators, sci_test), "short_topic_test": report(calibrators, short_test),
            "platt": {"coef": round(float(calibrators.platt.coef_[0][0]), 4),
                      "intercept": round(float(calibrators.platt.intercept_[0]), 4)}}


if __name__ == "__main__":
    print(json.dumps(main()))
