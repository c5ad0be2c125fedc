"""The recommender: train a reader's model, score candidates with the prior, diversify, explain.

Candidates are paper ids (e.g. today's, this week's feed); the reader is a :class:`Reader`.
Everything a reader has acted on (liked, dismissed, saved, hidden) is left out of the results.
Each pick comes with why, in terms a reader can check: the liked papers it is closest to (by
meaning), the words that weighed most in the reader's model for this paper, and the reader's
co-authors among its authors (when the co-author prior raised it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from papersift.recommend.features import FeatureSpace, author_key
from papersift.recommend.ordering import PriorParams, coauthors, mmr_order, prior
from papersift.recommend.reader import ModelParams, Reader, ReaderModel, sample_unseen, train


@dataclass
class Explanation:
    """Why a paper was picked: the liked papers closest to it, its words that weighed most, and the
    reader's co-authors who wrote it."""

    liked: list[tuple[str, float]] = field(default_factory=list)  # (liked paper id, cosine similarity)
    words: list[tuple[str, float]] = field(default_factory=list)  # (word or 2-gram, contribution)
    coauthors: list[tuple[str, int]] = field(default_factory=list)  # (name as on the paper, shared papers)

    def as_dict(self) -> dict:
        shown = {"liked": [{"id": i, "similarity": round(s, 4)} for i, s in self.liked],
                 "words": [{"word": w, "weight": round(x, 4)} for w, x in self.words]}
        if self.coauthors:  # only when there are some: a reader without co-authors sees the shape as before
            shown["coauthors"] = [{"name": n, "papers": k} for n, k in self.coauthors]
        return shown


def explain(space: FeatureSpace, model: ReaderModel | None, row: int, liked_rows: np.ndarray,
            top_liked: int = 3, top_words: int = 5, known: dict[str, int] | None = None,
            top_coauthors: int = 3) -> Explanation:
    """The explanation of paper ``row`` for a reader whose liked papers are ``liked_rows`` and whose
    co-authors are ``known`` (author key -> papers shared, :func:`~papersift.recommend.ordering.coauthors`)."""
    liked: list[tuple[str, float]] = []
    if len(liked_rows):
        similarity = space.embeddings[liked_rows] @ space.embeddings[row]
        for i in np.argsort(-similarity)[:top_liked]:
            liked.append((space.ids[int(liked_rows[i])], float(similarity[i])))
    words = model.word_contributions(space, row, top_words) if model is not None else []
    names: list[tuple[str, int]] = []
    if known:
        found = {author_key(a): a for a in space.authors[row]}
        names = sorted(((a, known[k]) for k, a in found.items() if k in known), key=lambda x: -x[1])[:top_coauthors]
    return Explanation(liked, words, names)


@dataclass(frozen=True)
class RecParams:
    model: ModelParams = ModelParams()
    prior: PriorParams = PriorParams()
    # MMR balance, 1 = relevance only. 0.9 costs ~0.001 nDCG@10 on the tuning cutoffs (noise level)
    # and keeps a list from being ten papers on one sub-topic, which the "For you" page asks for.
    diversity: float = 0.9
    diversify_top: int = 50  # MMR reorders this many best candidates; the rest keep their order
    seed: int = 0  # the unseen sample is drawn from a seeded generator: same signals, same list


@dataclass
class Recommendation:
    paper_id: str
    score: float
    why: Explanation = field(default_factory=Explanation)


class Recommender:
    """One per feature space; cheap per reader (a fit of a few hundred rows)."""

    def __init__(self, space: FeatureSpace, params: RecParams = RecParams(), unseen_pool: Sequence[str] | None = None):
        self.space = space
        self.params = params
        # Where background negatives come from; default every paper in the space.
        self.pool = space.rows(unseen_pool) if unseen_pool is not None else np.arange(len(space), dtype=np.int64)

    def train(self, reader: Reader) -> ReaderModel | None:
        positives, negatives = self.space.rows(reader.positives), self.space.rows(reader.negatives)
        rng = np.random.default_rng(self.params.seed)
        exclude = set(positives.tolist()) | set(negatives.tolist())
        unseen = sample_unseen(self.pool, self.params.model.unseen, exclude, rng)
        return train(self.space, positives, negatives, unseen, self.params.model)

    def scores(self, reader: Reader, rows: np.ndarray, model: ReaderModel | None,
               now_day: float | None = None) -> np.ndarray:
        """Standardised model score plus the prior, for candidate ``rows``."""
        total = prior(self.space, rows, reader, self.params.prior, now_day)
        if model is not None and len(rows):
            raw = model.decision(self.space, rows)
            spread = raw.std()
            total += (raw - raw.mean()) / (spread if spread > 0 else 1.0)
        return total

    def rank(self, reader: Reader, rows: np.ndarray, model: ReaderModel | None = None,
             now_day: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Every candidate row best first (diversified at the top) and its score."""
        score = self.scores(reader, rows, model, now_day)
        order = mmr_order(self.space.embeddings[rows], score, self.params.diversity, self.params.diversify_top)
        return rows[order], score[order]

    def recommend(self, reader: Reader, candidates: Sequence[str], k: int = 10,
                  now_day: float | None = None) -> list[Recommendation]:
        """The reader's top ``k`` of ``candidates`` with explanations (retrains: call per request)."""
        excluded = reader.excluded()
        rows = self.space.rows([c for c in dict.fromkeys(candidates) if c not in excluded])
        model = self.train(reader)
        ranked, score = self.rank(reader, rows, model, now_day)
        liked = self.space.rows(reader.positives)
        known = coauthors(self.space, reader) if self.params.prior.coauthors else {}
        return [Recommendation(self.space.ids[int(r)], float(s), explain(self.space, model, int(r), liked, known=known))
                for r, s in zip(ranked[:k], score[:k], strict=True)]
