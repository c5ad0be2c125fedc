"""Fusing the lexical and the semantic ranking.

Reciprocal-rank fusion throws the score gaps away and, on SciFact, adds little over the better
leg (test nDCG@10 0.697 vs 0.713 for the tuned fusion, docs/BENCHMARKS.md). Instead each leg's
scores are normalised per query and combined:

    fused(d) = w * norm_bm25(d) + (1 - w) * norm_cos(d)

``norm`` is a z-score (default) or min-max over that leg's top ``depth`` candidates; a
document a leg did not return gets that leg's lowest normalised score. Method, ``w`` and depth
were tuned on SciFact's train queries (bench/tune_fusion.py): z-score, w = 0.5, depth 200.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

Ranking = list[tuple[str, float]]


@dataclass(frozen=True)
class FusionParams:
    lexical_weight: float = 0.5
    depth: int = 100  # candidates taken from each leg
    method: str = "convex"  # "convex" | "zscore" | "rrf"
    rrf_k: int = 60


def _minmax(scores: np.ndarray) -> np.ndarray:
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-12:
        return np.ones_like(scores)
    return (scores - low) / (high - low)


def _zscore(scores: np.ndarray) -> np.ndarray:
    std = float(scores.std())
    if std < 1e-12:
        return np.zeros_like(scores)
    return (scores - float(scores.mean())) / std


def fuse(lexical: Ranking, dense: Ranking, params: FusionParams = FusionParams()) -> Ranking:
    """Merge two rankings (best first) into one fused ranking, best first."""
    lexical, dense = lexical[: params.depth], dense[: params.depth]
    if params.method == "rrf":
        fused: dict[str, float] = {}
        for ranking, weight in ((lexical, params.lexical_weight), (dense, 1 - params.lexical_weight)):
            for rank, (doc, _) in enumerate(ranking):
                fused[doc] = fused.get(doc, 0.0) + 2 * weight / (params.rrf_k + rank + 1)
        return sorted(fused.items(), key=lambda item: (-item[1], item[0]))
    norm = _zscore if params.method == "zscore" else _minmax
    parts_of: dict[str, dict[int, float]] = {}  # doc -> leg -> its weighted normalised score
    floor: dict[int, float] = {}
    for ranking, weight, leg in ((lexical, params.lexical_weight, 0), (dense, 1 - params.lexical_weight, 1)):
        if not ranking:
            continue
        values = norm(np.array([s for _, s in ranking], dtype=np.float64))
        # a document missing from one leg gets that leg's lowest normalised score
        floor[leg] = weight * float(values.min())
        for (doc, _), value in zip(ranking, values, strict=False):
            parts_of.setdefault(doc, {})[leg] = weight * float(value)
    scored = {doc: sum(parts.get(leg, floor[leg]) for leg in floor) for doc, parts in parts_of.items()}
    return sorted(scored.items(), key=lambda item: (-item[1], item[0]))
