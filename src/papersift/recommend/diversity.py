"""Maximal marginal relevance over embeddings: the top of a reader's list should not be ten
papers on one sub-topic. Each next pick trades its relevance against its closeness to the
papers already picked (Carbonell and Goldstein, 1998)."""

from __future__ import annotations

import numpy as np


def mmr_order(embeddings: np.ndarray, relevance: np.ndarray, balance: float, top: int) -> np.ndarray:
    """Positions 0..n-1 reordered: the best ``top`` by MMR, then the rest by relevance.

    ``embeddings`` are the candidates' unit vectors, ``relevance`` their scores, ``balance`` in
    [0, 1] (1 = relevance only). Relevance is rescaled to [0, 1] over the top so the two terms
    are comparable whatever the model's scale.
    """
    order = np.argsort(-relevance, kind="stable")
    if balance >= 1.0 or len(order) < 3:
        return order
    head, tail = order[:top], order[top:]
    rel = relevance[head]
    span = rel.max() - rel.min()
    rel = (rel - rel.min()) / span if span > 0 else np.ones_like(rel)
    similarity = embeddings[head] @ embeddings[head].T
    chosen = [0]  # the most relevant paper always leads
    closest = similarity[0].copy()
    left = np.ones(len(head), dtype=bool)
    left[0] = False
    for _ in range(len(head) - 1):
        gain = np.where(left, balance * rel - (1.0 - balance) * closest, -np.inf)
        pick = int(np.argmax(gain))
        chosen.append(pick)
        left[pick] = False
        closest = np.maximum(closest, similarity[pick])
    return np.concatenate([head[chosen], tail])
