"""How candidates are ordered beyond the reader's own model.

The prior is what every reader shares: fresher papers and papers the community voted for rank a
little higher, and a followed category or author is a direct signal. It is added to the reader
model's standardised score, so each weight reads as "how many standard deviations of taste this is
worth".

Co-authors: the people a reader writes with are whose papers they most want to see. They are the
other authors of the liked papers that carry the reader's own name (``Reader.name``: papers they
imported from their library, say); a paper by them rises by a weight times log(1 + how many of the
reader's papers those co-authors are on). The reader's own name never counts (a paper of their own
is not raised by it), and without a name there are no co-authors. Names are compared as
:func:`~papersift.recommend.features.author_key` writes them; they reach no model feature.

Then maximal marginal relevance over embeddings: the top of a reader's list should not be ten
papers on one sub-topic. Each next pick trades its relevance against its closeness to the
papers already picked (Carbonell and Goldstein, 1998).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from papersift.recommend.features import FeatureSpace, author_key
from papersift.recommend.reader import Reader


@dataclass(frozen=True)
class PriorParams:
    # Tuned on the cutoffs 2025-10-01 and 2025-12-01 (bench/tune_recs.py): within a month's window
    # recency did not help; community votes did a little.
    recency: float = 0.0  # per 30 days younger
    votes: float = 0.3  # per unit of log(1 + upvotes)
    follows: float = 1.0  # a paper in a followed category or by a followed author
    # x log(1 + the reader's papers its co-authors are on), see the module's docstring. Tuned through the
    # service on the same cutoffs (bench/recs_service.py --tune, 150 authors each): mean For-you nDCG@10
    # 0.127 at 0, 0.529 at 3, 0.587 at 5, 0.603 at 8, 0.605 at 12. At 8 one shared paper is worth 5.5
    # standard deviations of taste: a co-author's paper comes before nearly every other.
    coauthors: float = 8.0


def _normal_name(name: str) -> str:
    return " ".join(name.lower().split())


def prior(space: FeatureSpace, rows: np.ndarray, reader: Reader, params: PriorParams,
          now_day: float | None = None) -> np.ndarray:
    """The shared part of the score for candidate ``rows``; ``now_day`` is a date ordinal
    (default: the newest candidate, so "today's" papers have age 0)."""
    score = np.zeros(len(rows), dtype=np.float64)
    if params.recency:
        days = space.days[rows]
        now = now_day if now_day is not None else np.nanmax(days) if np.isfinite(days).any() else 0.0
        age = np.nan_to_num(now - days, nan=np.nanmax(now - days) if np.isfinite(days).any() else 0.0)
        score -= params.recency * np.maximum(age, 0.0) / 30.0
    if params.votes:
        score += params.votes * np.log1p(space.votes[rows])
    if params.follows and (reader.followed_categories or reader.followed_authors):
        score += params.follows * _follow_matches(space, rows, reader)
    if params.coauthors and reader.name:
        known = coauthors(space, reader)
        if known:
            score += params.coauthors * np.log1p(_coauthor_matches(space, rows, known))
    return score


def coauthors(space: FeatureSpace, reader: Reader) -> dict[str, int]:
    """The reader's co-authors: author key -> how many of the reader's liked papers (those in the
    space that carry the reader's own name) they are on. The reader is never their own co-author."""
    own = author_key(reader.name)
    if not own:
        return {}
    keys = space.author_keys()
    counts: Counter[str] = Counter()
    for r in space.rows(reader.positives):
        if own in keys[r]:
            counts.update(keys[r] - {own})
    return dict(counts)


def _coauthor_matches(space: FeatureSpace, rows: np.ndarray, known: dict[str, int]) -> np.ndarray:
    """Per candidate row, the sum over its authors of the reader's papers each co-author is on."""
    total = np.zeros(len(space), dtype=np.float64)
    for key, count in known.items():
        total[space.rows_with_author(key)] += count  # a paper names an author once: no repeated row
    return total[rows]


def _follow_matches(space: FeatureSpace, rows: np.ndarray, reader: Reader) -> np.ndarray:
    # Author names are used here only because the reader named them: never as model features.
    cats = {c.lower() for c in reader.followed_categories}
    names = {_normal_name(a) for a in reader.followed_authors}
    return np.array([float(bool(cats.intersection(c.lower() for c in space.categories[r]))
                           or bool(names and names.intersection(_normal_name(a) for a in space.authors[r])))
                     for r in rows])


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
