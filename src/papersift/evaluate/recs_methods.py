"""Everything `papersift eval-recs` ranks with: the baselines, and the product's
recommender with its ablations. Each method turns one user into their window papers best first
(rows of the evaluation's feature space). Author names reach no feature: BM25's index has no
authors field filled, both tf-idf vocabularies read title and abstract only. The product's one
author-based signal, its co-author prior, is given the user's name and leaves it out.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from papersift.evaluate.recs_data import EvalUser
from papersift.index.lexical.bm25 import FieldWeights, LexicalIndex
from papersift.model import Paper
from papersift.query import plain_query
from papersift.recommend import Reader, Recommender, RecParams
from papersift.recommend.features import FeatureSpace, paper_words

SIMULATED_NEGATIVES = 10  # "not for me" clicks simulated per user (see simulated_negatives)


@dataclass
class Setup:
    """One cutoff's shared state: the space, the candidate window, where negatives come from."""

    space: FeatureSpace
    window: np.ndarray  # candidate rows: every paper listed in the 30 days from T
    background: np.ndarray  # rows listed before T: the unseen papers sampled as negatives
    last_month: np.ndarray  # rows listed in the 30 days before T: the feed a reader saw last
    names: list[frozenset[str]]  # per row: normalised authors (protocol bookkeeping only)
    now_day: float  # the ordinal of T + 30 days, "today" for the recency prior
    seed: int = 0
    tiebreak: np.ndarray = field(init=False)

    def __post_init__(self):
        # Ties (category prior, papers BM25 does not match) are broken in one seeded random order,
        # never by file order, which follows arXiv ids and so dates.
        self.tiebreak = np.random.default_rng(self.seed).permutation(len(self.window))


@dataclass
class Case:
    index: int
    user: EvalUser
    profile: np.ndarray  # rows
    negatives: np.ndarray  # rows (simulated explicit negatives)


Method = Callable[[Case], np.ndarray]


def order_by(setup: Setup, score: np.ndarray) -> np.ndarray:
    return setup.window[np.lexsort((setup.tiebreak, -score))]


def simulated_negatives(setup: Setup, user: EvalUser, profile: np.ndarray) -> np.ndarray:
    """The user's "not for me" clicks, simulated without looking at the window: last month's papers
    in their main category, by nobody on their profile, that are farthest in meaning from the
    profile, i.e. the off-topic part of the category feed they follow."""
    cats = [setup.space.categories[r][0] for r in profile if setup.space.categories[r]]
    if not cats:
        return np.empty(0, dtype=np.int64)
    main = max(set(cats), key=cats.count)
    known = user.coauthors | {user.name}
    pool = np.array([r for r in setup.last_month if setup.space.categories[r][:1] == (main,)
                     and not known.intersection(setup.names[r])], dtype=np.int64)
    if len(pool) == 0:
        return pool
    centroid = setup.space.embeddings[profile].mean(axis=0)
    return pool[np.argsort(setup.space.embeddings[pool] @ centroid)[:SIMULATED_NEGATIVES]]


def baselines(setup: Setup, papers: list[Paper]) -> dict[str, Method]:
    space = setup.space

    def random(case: Case) -> np.ndarray:
        return setup.window[np.random.default_rng([setup.seed, case.index]).permutation(len(setup.window))]

    def recency(case: Case) -> np.ndarray:
        return order_by(setup, space.days[setup.window])

    def category(case: Case) -> np.ndarray:
        # The share of the user's profile papers in each category, summed over a paper's categories.
        counts: dict[str, float] = {}
        for r in case.profile:
            for c in space.categories[r]:
                counts[c] = counts.get(c, 0.0) + 1.0 / len(case.profile)
        return order_by(setup, np.array([sum(counts.get(c, 0.0) for c in space.categories[r]) for r in setup.window]))

    def centroid(case: Case) -> np.ndarray:
        return order_by(setup, space.embeddings[setup.window] @ space.embeddings[case.profile].mean(axis=0))

    return {"random": random, "recency": recency, "category prior": category,
            "BM25 (profile as query)": bm25_method(setup, papers), "arxiv-sanity-lite replica": asl_method(setup, papers),
            "MiniLM centroid": centroid}


def bm25_method(setup: Setup, papers: list[Paper]) -> Method:
    """The product's own tantivy BM25 (stemming, stopwords) over the window's titles and abstracts;
    the query is every word of the profile's titles and abstracts (OR, as a search box would)."""
    index = LexicalIndex(None, FieldWeights(title=1.1, abstract=1.0, authors=0.0))
    index.add(replace(papers[r], authors=[], organization=None) for r in setup.window)
    index.commit()
    position = {setup.space.ids[r]: i for i, r in enumerate(setup.window)}

    def bm25(case: Case) -> np.ndarray:
        text = " ".join(paper_words(papers[r]) for r in case.profile)
        score = np.full(len(setup.window), -1.0)
        for pid, value in index.search(plain_query(text), limit=200).hits:
            score[position[pid]] = value
        return order_by(setup, score)

    return bm25


def asl_method(setup: Setup, papers: list[Paper]) -> Method:
    """arxiv-sanity-lite as it ships (compute.py, serve.py): tf-idf 1-2 grams (10,000 features,
    min_df 5, max_df 0.5, sublinear tf) and a LinearSVC (C=0.01, balanced classes) trained with the
    user's papers as positives and every other paper of its database as negatives, candidates
    included. Its database here: last month's papers and the window. Authors stripped (ASL adds them)."""
    vectorizer = TfidfVectorizer(strip_accents="unicode", lowercase=True, stop_words="english",
                                 token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=(1, 2),
                                 max_features=10_000, norm="l2", sublinear_tf=True, max_df=0.5, min_df=5,
                                 dtype=np.float32)
    vectorizer.fit(paper_words(p) for p in papers)
    database = np.concatenate([setup.last_month, setup.window])
    words = vectorizer.transform([paper_words(papers[r]) for r in database]).tocsr()
    window_part = words[len(setup.last_month):]

    def asl(case: Case) -> np.ndarray:
        own = vectorizer.transform([paper_words(papers[r]) for r in case.profile])
        x = sparse.vstack([own, words], format="csr")
        y = np.concatenate([np.ones(own.shape[0]), np.zeros(words.shape[0])])
        clf = LinearSVC(class_weight="balanced", max_iter=10_000, tol=1e-6, C=0.01).fit(x, y)
        return order_by(setup, clf.decision_function(window_part))

    return asl


class ProductMethods:
    """The product's recommender and its ablations; variants that differ only in the prior or the
    diversity share one trained model per user (the fit is the expensive part)."""

    def __init__(self, setup: Setup, params: RecParams, pool: str = "recent"):
        self.setup, self.params = setup, params
        # "recent": unseen papers are drawn from last month's and the window's papers, as a reader's
        # feed would supply them (arxiv-sanity-lite contrasts with its whole database the same way);
        # random draws read no label. "background": from everything listed before T.
        rows = np.concatenate([setup.last_month, setup.window]) if pool == "recent" else setup.background
        self.pool = [setup.space.ids[r] for r in rows]
        self._models: dict = {}
        self.train_seconds: list[float] = []
        self.total_seconds: list[float] = []

    def method(self, params: RecParams, negatives: bool = True, timed: bool = False) -> Method:
        recommender = Recommender(self.setup.space, params, unseen_pool=self.pool)

        def product(case: Case) -> np.ndarray:
            ids = self.setup.space.ids
            # the author's own name: it finds the profile papers they wrote (all of them), whose other
            # authors are the co-author prior's; the name itself never counts (recommend/ordering.py)
            reader = Reader(positives=tuple(ids[r] for r in case.profile),
                            negatives=tuple(ids[r] for r in case.negatives) if negatives else (), name=case.user.name)
            key = (case.index, params.model, negatives, params.seed)
            started = time.perf_counter()
            if key not in self._models:
                self._models = {k: v for k, v in self._models.items() if k[0] == case.index}
                self._models[key] = recommender.train(reader)
            trained = time.perf_counter()
            ranked, _ = recommender.rank(reader, self.setup.window, self._models[key], self.setup.now_day)
            if timed:  # what a click costs: retrain, then rank every candidate (with the diversity pass)
                self.train_seconds.append(trained - started)
                self.total_seconds.append(time.perf_counter() - started)
            return ranked

        return product

    def variants(self) -> dict[str, Method]:
        p = self.params
        return {
            "papersift recommender": self.method(p, timed=True),
            "  ablation: embedding only": self.method(replace(p, model=replace(p.model, words_weight=0.0))),
            "  ablation: tf-idf only": self.method(replace(p, model=replace(p.model, embedding_weight=0.0))),
            "  ablation: without negatives": self.method(p, negatives=False),
            "  ablation: without prior, diversity": self.method(replace(p, prior=replace(p.prior, recency=0.0, votes=0.0),
                                                                        diversity=1.0)),
        }
