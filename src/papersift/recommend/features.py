"""The two views of a paper the reader model learns from: its embedding and its tf-idf words.

Only the title and the abstract are read, never the author list: a per-reader model that sees
names learns "papers by people I already read", which the author-as-user evaluation would reward
as name matching and which hides new authors from readers. The embeddings are the default model's
vectors that the product already keeps (store embeddings cache / vector index); nothing here embeds.
"""

from __future__ import annotations

import copy
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from papersift.errors import BadInput
from papersift.model import Paper


def paper_words(paper: Paper) -> str:
    """The text the tf-idf words come from: title and abstract (the embedder reads the same)."""
    title, abstract = (paper.title or "").strip(), (paper.abstract or "").strip()
    return f"{title}. {abstract}" if title and abstract else title or abstract


@dataclass(frozen=True)
class TextFeatures:
    """The tf-idf settings. 1-2 grams as arxiv-sanity-lite uses (phrases such as "diffusion model"
    carry the topic better than either word); sublinear tf so one word repeated in an abstract
    does not dominate; words in more than half the papers say nothing about a reader."""

    ngram_range: tuple[int, int] = (1, 2)
    min_df: int = 2
    max_df: float = 0.5
    max_features: int | None = 100_000

    def vectorizer(self) -> TfidfVectorizer:
        return TfidfVectorizer(strip_accents="unicode", lowercase=True, stop_words="english",
                               token_pattern=r"(?u)\b[a-zA-Z_][a-zA-Z0-9_]+\b", ngram_range=self.ngram_range,
                               min_df=self.min_df, max_df=self.max_df, max_features=self.max_features,
                               sublinear_tf=True, dtype=np.float32)


def author_key(name: str) -> str:
    """One person's name as the co-author signal compares it: "José  García-López" and "Jose Garcia
    Lopez" are one key (accents, case, punctuation and spacing removed), as the author-as-user
    evaluation merges them. Different people sharing a name share a key: a known limit."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^a-z]+", " ", text).split())


def _day_number(value: str | None) -> float:
    try:
        return float(date.fromisoformat((value or "")[:10]).toordinal())
    except ValueError:
        return np.nan


EXTRA_WORDS_MAX = 50_000  # tf-idf rows of outside papers a space keeps (readers' older liked papers)


class FeatureSpace:
    """Every paper the recommender may train on or rank, as aligned rows.

    ``embeddings`` (n x d, L2-normalised) and ``words`` (n x V sparse tf-idf, L2-normalised rows) are
    the features; ``days`` (listing day ordinal), ``votes``, ``categories`` and ``authors`` feed the
    prior and the follows, never the linear model. Built once per corpus refresh, shared by readers.
    """

    def __init__(self, papers: Sequence[Paper], embeddings: np.ndarray, text: TextFeatures = TextFeatures(),
                 vectorizer: TfidfVectorizer | None = None):
        if len(papers) != len(embeddings):
            raise BadInput(f"{len(papers)} papers but {len(embeddings)} embeddings: they must be aligned")
        if not papers:
            raise BadInput("a feature space needs at least one paper")
        self.ids = [p.id for p in papers]
        self.row = {pid: i for i, pid in enumerate(self.ids)}
        self.embeddings = _unit_rows(np.asarray(embeddings, dtype=np.float32))
        self.vectorizer = vectorizer or text.vectorizer()
        texts = [paper_words(p) for p in papers]
        # A vectorizer fitted elsewhere (on a bigger corpus) is reused as is; otherwise fit here.
        self.words = (self.vectorizer.transform(texts) if vectorizer is not None
                      else self.vectorizer.fit_transform(texts)).tocsr()
        self.vocabulary = self.vectorizer.get_feature_names_out()
        self.days = np.array([_day_number(p.published) for p in papers], dtype=np.float64)
        self.votes = np.array([max(p.upvotes or 0, 0) for p in papers], dtype=np.float64)
        self.categories = [tuple(p.categories) for p in papers]
        self.authors = [tuple(p.authors) for p in papers]

    def __len__(self) -> int:
        return len(self.ids)

    def extended(self, papers: Sequence[Paper], embeddings: np.ndarray) -> FeatureSpace:
        """This space plus ``papers`` (a reader's signal papers outside it), words from the fitted
        vocabulary: the fit is the expensive part and stays shared, an extension costs milliseconds."""
        if not papers:
            return self
        new = copy.copy(self)
        new.__dict__["_base"] = self  # whose per-row caches (author keys and index) the copy builds on
        new.__dict__.pop("_author_keys", None)
        new.__dict__.pop("_author_rows", None)
        new.ids = self.ids + [p.id for p in papers]
        new.row = dict(self.row)
        new.row.update((p.id, len(self.ids) + i) for i, p in enumerate(papers))
        new.embeddings = np.vstack([self.embeddings, _unit_rows(np.asarray(embeddings, dtype=np.float32))])
        new.words = sparse.vstack([self.words, self._words_of(papers)]).tocsr()
        new.days = np.concatenate([self.days, [_day_number(p.published) for p in papers]])
        new.votes = np.concatenate([self.votes, [max(p.upvotes or 0, 0) for p in papers]])
        new.categories = self.categories + [tuple(p.categories) for p in papers]
        new.authors = self.authors + [tuple(p.authors) for p in papers]
        return new

    def author_keys(self) -> list[frozenset[str]]:
        """Per row, the :func:`author_key` of each author: computed once per space and shared by every
        reader (the co-author prior looks at every candidate's authors on every list). An extended
        space starts from its parent's keys and adds its own rows'."""
        keys: list[frozenset[str]] | None = self.__dict__.get("_author_keys")
        if keys is None or len(keys) != len(self.ids):
            base: FeatureSpace | None = self.__dict__.get("_base")
            known = base.author_keys() if base is not None else []  # kept on the shared space, not per copy
            keys = known + [frozenset(k for k in map(author_key, names) if k) for names in self.authors[len(known):]]
            self.__dict__["_author_keys"] = keys
        return keys

    def rows_with_author(self, key: str) -> list[int]:
        """The rows whose authors include ``key`` (an :func:`author_key`): an index kept on the shared
        space, plus a scan of the few rows an extended copy adds."""
        base: FeatureSpace | None = self.__dict__.get("_base")
        index, covered = base._author_index() if base is not None else self._author_index()
        keys = self.author_keys()
        return index.get(key, []) + [r for r in range(covered, len(self.ids)) if key in keys[r]]

    def _author_index(self) -> tuple[dict[str, list[int]], int]:
        base: FeatureSpace | None = self.__dict__.get("_base")
        if base is not None:
            return base._author_index()
        if "_author_rows" not in self.__dict__:
            index: dict[str, list[int]] = {}
            for r, keys in enumerate(self.author_keys()):
                for key in keys:
                    index.setdefault(key, []).append(r)
            self.__dict__["_author_rows"] = (index, len(self.ids))
        return self.__dict__["_author_rows"]

    def _words_of(self, papers: Sequence[Paper]) -> sparse.csr_matrix:
        """tf-idf rows of papers outside the space, kept: readers share their older liked papers,
        and a vectorizer call costs ~5 ms however few texts it gets (a digest run makes thousands)."""
        cache = self.__dict__.setdefault("_extra_words", {})
        missing = [p for p in papers if p.id not in cache]
        if len(cache) + len(missing) > EXTRA_WORDS_MAX:  # bounded: a space lives for a few periods
            cache.clear()
            missing = list(papers)
        if missing:
            for paper, row in zip(missing, self.vectorizer.transform([paper_words(p) for p in missing]), strict=True):
                cache[paper.id] = row
        return sparse.vstack([cache[p.id] for p in papers])

    def rows(self, ids: Sequence[str]) -> np.ndarray:
        """Row numbers of the ids this space knows, in order (unknown ids are dropped, not errors:
        a signal on a paper outside the space, e.g. older than its window, just does not count)."""
        return np.array([self.row[i] for i in ids if i in self.row], dtype=np.int64)

    def design(self, rows: np.ndarray, embedding_weight: float, words_weight: float) -> sparse.csr_matrix:
        """The linear model's input for ``rows``: the two blocks side by side, each scaled so one
        weight sets how much of a score comes from meaning (embedding) and how much from words."""
        blocks = []
        if embedding_weight > 0:
            blocks.append(sparse.csr_matrix(self.embeddings[rows] * embedding_weight))
        if words_weight > 0:
            blocks.append(self.words[rows] * words_weight)
        if not blocks:
            raise BadInput("at least one of the embedding and words weights must be positive")
        return sparse.hstack(blocks, format="csr")


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)
