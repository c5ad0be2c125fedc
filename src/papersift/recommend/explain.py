"""Why a paper was picked, in terms a reader can check: the liked papers it is closest to (by
meaning) and the words that weighed most in the reader's model for this paper."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from papersift.recommend.features import FeatureSpace
from papersift.recommend.linear import ReaderModel


@dataclass
class Explanation:
    liked: list[tuple[str, float]] = field(default_factory=list)  # (liked paper id, cosine similarity)
    words: list[tuple[str, float]] = field(default_factory=list)  # (word or 2-gram, contribution)

    def as_dict(self) -> dict:
        return {"liked": [{"id": i, "similarity": round(s, 4)} for i, s in self.liked],
                "words": [{"word": w, "weight": round(x, 4)} for w, x in self.words]}


def explain(space: FeatureSpace, model: ReaderModel | None, row: int, liked_rows: np.ndarray,
            top_liked: int = 3, top_words: int = 5) -> Explanation:
    """The explanation of paper ``row`` for a reader whose liked papers are ``liked_rows``."""
    liked: list[tuple[str, float]] = []
    if len(liked_rows):
        similarity = space.embeddings[liked_rows] @ space.embeddings[row]
        for i in np.argsort(-similarity)[:top_liked]:
            liked.append((space.ids[int(liked_rows[i])], float(similarity[i])))
    words = model.word_contributions(space, row, top_words) if model is not None else []
    return Explanation(liked, words)
