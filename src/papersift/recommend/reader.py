"""One reader: the signals the front door collected, and the model fitted to them.

The model is a logistic regression, positives against "not for me" and sampled unseen papers. Why a
linear model: it retrains in milliseconds on every click (tens of labelled rows), its weights on
tf-idf words are the explanation, and arxiv-sanity-lite showed a linear classifier per reader over
tf-idf is a strong recommender. Why sampled unseen papers: a reader gives few or no negatives, and
random papers are almost all not for them, so they teach the model what is ordinary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import sklearn
from sklearn.linear_model import LogisticRegression

from papersift.errors import BadInput
from papersift.recommend.features import FeatureSpace


@dataclass(frozen=True)
class Reader:
    """A reader's signals as paper ids and follows.

    ``positives``: upvoted, saved, "more like this", imported from a library, picked at cold start.
    ``negatives``: "not for me". A paper in both lists counts as negative: the later, more
    deliberate click is usually the dismissal, and showing a dismissed paper again is the worse error.
    ``name``: the reader's own name (their display name): which liked papers they wrote themselves,
    whose other authors are their co-authors (the co-author prior). It never counts as a co-author.
    """

    positives: tuple[str, ...] = ()
    negatives: tuple[str, ...] = ()
    followed_categories: tuple[str, ...] = ()
    followed_authors: tuple[str, ...] = ()
    seen: tuple[str, ...] = field(default=())  # saved, dismissed, hidden: never recommended again
    name: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise BadInput("Reader.name must be a string")
        for name in ("positives", "negatives", "followed_categories", "followed_authors", "seen"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise BadInput(f"Reader.{name} must be a list of strings, not one string")
            object.__setattr__(self, name, tuple(dict.fromkeys(value)))
        dismissed = set(self.negatives)
        object.__setattr__(self, "positives", tuple(p for p in self.positives if p not in dismissed))

    def excluded(self) -> set[str]:
        """Papers never to recommend: every paper the reader has already acted on."""
        return set(self.positives) | set(self.negatives) | set(self.seen)


@dataclass(frozen=True)
class ModelParams:
    # Defaults tuned by bench/tune_recs.py on the cutoffs 2025-10-01 and 2025-12-01 (docs/BENCHMARKS.md).
    # The embedding block is scaled down: at equal weight its 384 dense columns dominate the fit and
    # blur the specific words a reader's papers share (nDCG@10 0.09 at 1.0, 0.13 at 0.1).
    embedding_weight: float = 0.1  # scale of the embedding block (0 = words only)
    words_weight: float = 1.0  # scale of the tf-idf block (0 = embedding only)
    c: float = 10.0  # inverse regularisation (0.3 to 10 all score within 0.002)
    unseen: int = 150  # random unseen papers drawn as background negatives per training
    # One explicit "not for me" counts as much as this many unseen papers. 5 and 20 tie on the tuning
    # cutoffs (their negatives are simulated); 20 makes a dismissal visibly move its near-duplicates.
    negative_weight: float = 20.0
    use_negatives: bool = True  # ablation switch: ignore explicit negatives


@dataclass
class ReaderModel:
    """The fitted weights, split back into the two blocks so words can explain a score."""

    params: ModelParams
    coef_embedding: np.ndarray | None
    coef_words: np.ndarray | None
    intercept: float

    def decision(self, space: FeatureSpace, rows: np.ndarray) -> np.ndarray:
        """Linear scores for ``rows`` (higher = more for this reader), computed block by block so
        ranking a large candidate set never builds the stacked matrix."""
        score = np.full(len(rows), self.intercept, dtype=np.float64)
        if self.coef_embedding is not None:
            score += space.embeddings[rows] @ (self.coef_embedding * self.params.embedding_weight)
        if self.coef_words is not None:
            score += space.words[rows] @ (self.coef_words * self.params.words_weight)
        return score

    def word_contributions(self, space: FeatureSpace, row: int, top: int = 5) -> list[tuple[str, float]]:
        """The words of paper ``row`` that raised its score most: coefficient x the paper's tf-idf."""
        if self.coef_words is None:
            return []
        vector = space.words[row]
        contribution = vector.data * self.coef_words[vector.indices] * self.params.words_weight
        order = np.argsort(-contribution)[:top]
        return [(str(space.vocabulary[vector.indices[i]]), float(contribution[i]))
                for i in order if contribution[i] > 0]


def sample_unseen(pool: np.ndarray, count: int, exclude: set[int], rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct rows of ``pool`` outside ``exclude``; draws with replacement and drops
    repeats, so a million-paper pool costs ``count`` draws rather than a permutation."""
    if count <= 0 or len(pool) == 0:
        return np.empty(0, dtype=np.int64)
    drawn = np.unique(pool[rng.integers(0, len(pool), size=min(count * 2, count + len(pool)))])
    drawn = np.array([r for r in drawn if r not in exclude], dtype=np.int64)
    return rng.permutation(drawn)[:count]


def train(space: FeatureSpace, positives: np.ndarray, negatives: np.ndarray, unseen: np.ndarray,
          params: ModelParams) -> ReaderModel | None:
    """Fit one reader's model; None without positives (the caller falls back to the prior)."""
    if len(positives) == 0:
        return None
    if not params.use_negatives:
        negatives = np.empty(0, dtype=np.int64)
    rows = np.concatenate([positives, negatives, unseen]).astype(np.int64)
    labels = np.concatenate([np.ones(len(positives)), np.zeros(len(negatives) + len(unseen))])
    if len(negatives) + len(unseen) == 0:
        return _centroid(space, positives, params)
    # Balanced classes, with an explicit dismissal outweighing a random unseen paper.
    weights = np.concatenate([np.ones(len(positives)), np.full(len(negatives), params.negative_weight),
                              np.ones(len(unseen))])
    weights[: len(positives)] = weights[len(positives):].sum() / len(positives)
    x = space.design(rows, params.embedding_weight, params.words_weight)
    # The dual solver: a few hundred rows against ~100K word columns, where it is 20x the primal's speed.
    # The inputs are ours and finite: skipping scikit-learn's per-call parameter and finiteness checks
    # saves ~4 ms of a ~30 ms digest pick (they inspect signatures on every fit).
    with sklearn.config_context(assume_finite=True, skip_parameter_validation=True):
        fit = LogisticRegression(C=params.c, solver="liblinear", dual=True, max_iter=1000).fit(
            x, labels, sample_weight=weights)
    return _split(space, fit.coef_.ravel(), float(fit.intercept_[0]), params)


def _centroid(space: FeatureSpace, positives: np.ndarray, params: ModelParams) -> ReaderModel:
    """With no paper to contrast (a tiny corpus): score by closeness to the positives' mean."""
    x = space.design(positives, params.embedding_weight, params.words_weight)
    return _split(space, np.asarray(x.mean(axis=0)).ravel(), 0.0, params)


def _split(space: FeatureSpace, coef: np.ndarray, intercept: float, params: ModelParams) -> ReaderModel:
    dims = space.embeddings.shape[1]
    emb = coef[:dims] if params.embedding_weight > 0 else None
    words = coef[dims:] if params.embedding_weight > 0 else coef
    return ReaderModel(params, emb, words if params.words_weight > 0 else None, intercept)
