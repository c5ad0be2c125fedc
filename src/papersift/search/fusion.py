"""Fusing the lexical and the semantic ranking.

Reciprocal-rank fusion throws the score gaps away and, on SciFact, adds little over the better
leg (test nDCG@10 0.697 vs 0.713 for the tuned fusion, docs/BENCHMARKS.md). Instead each leg's
scores are normalised per query and combined:

    fused(d) = w * norm_bm25(d) + (1 - w) * norm_cos(d)

``norm`` is a z-score (default) or min-max over that leg's top ``depth`` candidates; a
document a leg did not return gets that leg's lowest normalised score. Method, ``w`` and depth
were tuned on SciFact's train queries (bench/tune_fusion.py): z-score, w = 0.5, depth 200.
Where a leg cannot know a document, the document is judged on the other leg alone, and where it can, on
its real score: with ``lexical_of`` / ``dense_of`` (the exact scores of the candidates missing from that
leg's list, which the searcher looks up), a paper the words do not match scores BM25 0 and a paper below
the dense list its own cosine, instead of both getting the list's lowest score; a paper in ``unknown``
(no vector yet) is ranked on its keyword score alone. Short queries may weigh the legs their own way
(``short_weights``: tuned on the short-topic set's dev queries, bench/short_topics.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Collection, Mapping

import numpy as np

Ranking = list[tuple[str, float]]


@dataclass(frozen=True)
class FusionParams:
    lexical_weight: float = 0.5
    depth: int = 100  # candidates taken from each leg
    method: str = "convex"  # "convex" | "zscore" | "rrf"
    rrf_k: int = 60
    short_weights: tuple[float, ...] = ()  # the lexical weight of queries of 1, 2, ... words; longer ones: lexical_weight
    exact: bool = False  # the searcher looks up each candidate's real score in the leg that missed it

    def weight_for(self, words: int | None) -> float:
        if words is not None and 1 <= words <= len(self.short_weights):
            return self.short_weights[words - 1]
        return self.lexical_weight


Normaliser = Callable[[np.ndarray], np.ndarray]


def _minmax(scores: np.ndarray) -> Normaliser:
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-12:  # one score (or all equal): that score maps to 1, others by their distance
        return lambda x: 1.0 + (x - high)
    return lambda x: (x - low) / (high - low)


def _zscore(scores: np.ndarray) -> Normaliser:
    mean, std = float(scores.mean()), float(scores.std())
    if std < 1e-12:  # one score (or all equal): 0, others by their distance
        return lambda x: x - mean
    return lambda x: (x - mean) / std


def fuse(lexical: Ranking, dense: Ranking, params: FusionParams = FusionParams(), *, words: int | None = None,
         lexical_of: Mapping[str, float] | None = None, dense_of: Mapping[str, float] | None = None,
         unknown: Collection[str] = ()) -> Ranking:
    """Merge two rankings (best first) into one fused ranking, best first.

    ``words``: the query's length (for ``short_weights``). ``lexical_of``: BM25 scores of the dense list's
    papers missing from the lexical list (a paper absent from it does not match: 0); ``dense_of``: cosines of
    the lexical list's papers missing from the dense list; ``unknown``: papers with no vector (lexical alone).
    Without them, a paper missing from a leg gets that leg's lowest normalised score. With ``exact``, each
    leg is normalised on its top ``depth`` and longer lists (deeper pages) keep every candidate: a paper's
    score does not depend on how deep the page is."""
    if not params.exact:
        lexical, dense = lexical[: params.depth], dense[: params.depth]
    weight = params.weight_for(words)
    if params.method == "rrf":
        return _rrf(lexical[: params.depth], dense[: params.depth], weight, params.rrf_k)
    norm = _zscore if params.method == "zscore" else _minmax
    docs = list(dict.fromkeys([d for d, _ in lexical] + [d for d, _ in dense]))
    total, weights = np.zeros(len(docs)), np.zeros(len(docs))
    for ranking, leg_weight, exact, default in ((lexical, weight, lexical_of, 0.0), (dense, 1 - weight, dense_of, None)):
        if ranking:
            f = norm(np.array([v for _, v in ranking[: params.depth]], dtype=np.float64))
            values = _leg_values(ranking, docs, f, exact, default, unknown if default is None else ())
            known = ~np.isnan(values)
            total[known] += leg_weight * values[known]
            weights[known] += leg_weight
    # a leg that cannot say (no vector yet) counts as agreeing with the one that can: the paper keeps its
    # own standing, w * v / w, where the others have w * v + (1 - w) * v'
    partial = weights < weights.max(initial=0.0) - 1e-12
    scores = np.where(partial & (weights > 0), total / np.where(weights > 0, weights, 1.0), total)
    return sorted(zip(docs, scores.tolist(), strict=True), key=lambda item: (-item[1], item[0]))


def _leg_values(ranking: Ranking, docs: list[str], f: Normaliser, exact: Mapping[str, float] | None,
                default: float | None, unknown: Collection[str]) -> np.ndarray:
    """Each doc's normalised score in this leg (``f``: fitted on the leg's top ``depth``); NaN: unknown."""
    own = dict(ranking)
    floor = float(f(np.array([min(own.values())], dtype=np.float64))[0])  # f is increasing: the lowest score's
    raw = np.full(len(docs), np.nan)
    for i, doc in enumerate(docs):
        if doc in own:
            raw[i] = own[doc]
        elif doc in unknown:
            continue
        elif exact is not None:
            raw[i] = exact.get(doc, default) if default is not None or doc in exact else np.nan
    values = f(raw)
    # without exact scores (or a dense paper the caller could not score), a missing paper takes the floor
    fill = np.isnan(raw) & np.array([doc not in unknown for doc in docs])
    values[fill] = floor
    return values


def _rrf(lexical: Ranking, dense: Ranking, weight: float, k: int) -> Ranking:
    fused: dict[str, float] = {}
    for ranking, leg_weight in ((lexical, weight), (dense, 1 - weight)):
        for rank, (doc, _) in enumerate(ranking):
            fused[doc] = fused.get(doc, 0.0) + 2 * leg_weight / (k + rank + 1)
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
