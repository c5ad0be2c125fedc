"""The one searcher: lexical, semantic or hybrid ranking over the derived indexes.

``rank`` is the pure ranking (ids and scores) that evaluation measures; ``search`` and
``similar`` add pagination, papers and snippets for the interfaces.
"""

from __future__ import annotations

import math
import re
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, TypeVar

import numpy as np

from papersift.errors import BadInput, NotFound, Unavailable
from papersift.index.indexes import Indexes, paper_text
from papersift.index.vectors.protocol import VectorIndex
from papersift.model import Paper, normalize_paper_id
from papersift.query import Filters, ParsedQuery, parse_query
from papersift.search.fusion import FusionParams, fuse

MODES = ("hybrid", "bm25", "dense")
SORTS = ("relevance", "date", "upvotes")
MAX_PER_PAGE = 100
MAX_RESULTS = 1000  # deepest result a page may reach
# Tuned on SciFact train queries by bench/tune_fusion.py (see docs/BENCHMARKS.md).
BASE_FUSION = FusionParams(lexical_weight=0.5, depth=200, method="zscore")
# Each candidate on its real score in both legs, and short queries' own weights: chosen on the short-topic
# set's dev queries by bench/short_topics.py --tune (docs/BENCHMARKS.md).
DEFAULT_FUSION = FusionParams(lexical_weight=0.5, depth=200, method="zscore", short_weights=(0.9, 0.7, 0.7), exact=True)
# Tuned on CSFCube dev folds by bench/csfcube.py: w = 0.2 in both folds (docs/BENCHMARKS.md).
SIMILAR_FUSION = FusionParams(lexical_weight=0.2, depth=100, method="convex")
# Costs of the two filtered plans, for a vector index without its own filtering (ExactVectorIndex):
# listing a passing paper's key from the fast field ~0.7 us (timed on a 200K-document tantivy index),
# checking a candidate id against the filter ~1.5 us. The subset plan lists every passing key; the
# widening plan checks k' candidates. Both are exact; the planner only picks the cheaper one.
FETCH_US, CHECK_US = 0.7, 1.5
SUBSET_MAX = 200_000  # never list more keys than this (1.6 MB per request)
OVERSAMPLE = 1.5  # k' = depth / selectivity * 1.5: room for a query that leans away from the filter
T = TypeVar("T")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9\-]{2,}")


@dataclass
class Hit:
    paper: Paper
    score: float
    snippets: dict[str, str] = field(default_factory=dict)


@dataclass
class Ranked:
    """A ranking; ``matched``: papers the words match (None: not asked, a dense search); ``related``: more
    papers found by meaning only, that the words do not match."""

    ranking: list[tuple[str, float]]
    matched: int | None
    related: int
    mode: str

    @property
    def total(self) -> int:
        return (self.matched or 0) + self.related


@dataclass
class SearchResults:
    query: str
    mode: str
    sort: str
    page: int
    per_page: int
    total: int
    hits: list[Hit]
    took_ms: float
    matched: int | None = None  # papers the words match (None: a dense search, which does not ask)
    related: int = 0  # more papers related by meaning only
    notes: list[str] = field(default_factory=list)  # the query read otherwise than typed (query.ParsedQuery.notes)

    @property
    def counts(self) -> str:
        """What the total is made of, in words: "25 papers match the words; 191 more are related by meaning"."""
        def papers(n: int) -> str:
            return f"{n:,} paper{'' if n == 1 else 's'}"
        if self.matched is None:
            text = f"{papers(self.related)} nearest in meaning"
        else:
            verb = "matches" if self.matched == 1 else "match"
            text = f"{papers(self.matched)} {verb} the words"
            if self.related:
                text += f"; {self.related:,} more {'is' if self.related == 1 else 'are'} related by meaning"
        return text + (f" (the first {MAX_RESULTS:,} can be paged through)" if self.total > MAX_RESULTS else "")

class Searcher:
    def __init__(self, indexes: Indexes, fusion: FusionParams = DEFAULT_FUSION, overlap: bool = True):
        self.indexes = indexes
        self.fusion = fusion
        self.overlap = overlap  # hybrid: run the BM25 leg in a thread beside the dense leg
        self._embed_query = lru_cache(maxsize=1024)(self._embed_uncached)

    @property
    def dense_available(self) -> bool:
        return self.indexes.vectors is not None and len(self.indexes.vectors) > 0

    def _embed_uncached(self, text: str) -> np.ndarray:
        return self.indexes.embedder.embed([text])[0]

    # ---- ranking
    def rank(
        self, q: ParsedQuery, filters: Filters | None = None, mode: str = "hybrid", k: int = 100,
    ) -> tuple[list[tuple[str, float]], int, str]:
        """(ranking best first, total results, mode actually used)."""
        ranked = self.rank_counted(q, filters, mode, k)
        return ranked.ranking, ranked.total, ranked.mode

    def rank_counted(self, q: ParsedQuery, filters: Filters | None = None, mode: str = "hybrid",
                     k: int = 100) -> "Ranked":
        """The ranking, with how many papers the words match and how many more the meaning adds."""
        if mode not in MODES:
            raise BadInput(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        lexical = self.indexes.lexical
        text = q.free_text.strip()
        if mode != "bm25" and (not text or not self.dense_available):
            mode = "bm25"  # only filters, or nothing embedded yet: lexical is all we have
        depth = max(k, self.fusion.depth)
        if mode == "bm25":
            hits = lexical.search(q, filters, limit=k)
            return Ranked(list(hits.hits), hits.total, 0, mode)
        if mode == "dense":
            dense = self._dense(q, filters, depth)
            return Ranked(dense[:k], None, self._dense_total(q, filters, len(dense)), mode)
        # with exact scores the dense leg's candidates stay its top ``depth`` on every page (one count of
        # related papers, one order); the words' matches are read as deep as the page goes
        dense_depth = self.fusion.depth if self.fusion.exact else depth
        if self.overlap:
            # tantivy, onnxruntime and faiss all release the GIL: BM25 (~18 ms at 1M papers, one core)
            # runs while the query embeds and the dense leg searches, instead of after them
            bm25 = _in_background(lambda: lexical.search(q, filters, limit=depth))
            dense = self._dense(q, filters, dense_depth)
            hits = bm25()
        else:
            dense = self._dense(q, filters, dense_depth)
            hits = lexical.search(q, filters, limit=depth)
        fused, related = self._fuse(q, filters, list(hits.hits), dense)
        return Ranked(fused[:k], hits.total, related, mode)

    def _fuse(self, q: ParsedQuery, filters: Filters | None, lexical: list[tuple[str, float]],
              dense: list[tuple[str, float]]) -> tuple[list[tuple[str, float]], int]:
        """Both legs fused, each candidate on its real score in each leg (a paper without a vector on its
        words alone); and how many candidates the words do not match (found by meaning only)."""
        words = len(q.free_text.split())
        if not self.fusion.exact:
            fused = fuse(lexical, dense, self.fusion, words=words)
            return fused, len({d for d, _ in fused} - {d for d, _ in lexical})
        in_lexical, in_dense = {d for d, _ in lexical}, {d for d, _ in dense}
        lexical_of = self.indexes.lexical.scores_of([d for d in in_dense - in_lexical], q, filters)
        missing = in_lexical - in_dense
        dense_of = _vectors(self.indexes).cosines(missing, self._embed_query(q.free_text.strip()))
        unknown = missing - set(dense_of)  # no vector yet: judged on its words alone
        fused = fuse(lexical, dense, self.fusion, words=words, lexical_of=lexical_of,
                     dense_of=dense_of, unknown=unknown)
        return fused, len(in_dense - in_lexical - set(lexical_of))

    def _dense_total(self, q: ParsedQuery, filters: Filters | None, found: int) -> int:
        """A dense search's results: every paper with a vector that passes, up to the deepest page (the
        same on every page, however deep the page asked for)."""
        if found < MAX_RESULTS and not _has_constraints(q) and (filters is None or filters.is_empty()):
            return min(len(_vectors(self.indexes)), MAX_RESULTS)
        return min(max(found, self.indexes.lexical.count_passing(q, filters)), MAX_RESULTS)

    def _dense(self, q: ParsedQuery, filters: Filters | None, depth: int) -> list[tuple[str, float]]:
        vector = self._embed_query(q.free_text.strip())
        return filtered_dense(self.indexes, vector, depth, q, filters)

    def warm_up(self) -> None:
        """Before the first visitor (the server calls this at start): the model's sessions built and run
        once, and one hybrid search through every leg. Left to the first requests, this cost the first
        seconds of a load test a p99 above a second (docs/BENCHMARKS.md)."""
        if self.dense_available:
            self.indexes.embedder.warm_up()
        self.rank(parse_query("graph neural networks"), None, "hybrid", k=10)

    # ---- the interface-facing calls
    def search(
        self, query: str, filters: Filters | None = None, mode: str = "hybrid", sort: str = "relevance",
        page: int = 1, per_page: int = 10, snippets: bool = True,
    ) -> SearchResults:
        started = time.perf_counter()
        if sort not in SORTS:
            raise BadInput(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise BadInput(f"per_page must be between 1 and {MAX_PER_PAGE}")
        if page < 1 or page * per_page > MAX_RESULTS:
            raise BadInput(f"page must be between 1 and {MAX_RESULTS // per_page} at {per_page} per page")
        if filters is not None:
            filters.validate()
        parsed = parse_query(query)
        offset = (page - 1) * per_page
        if sort == "relevance":
            ranked = self.rank_counted(parsed, filters, mode, k=offset + per_page)
            window, matched, related, used = ranked.ranking[offset:], ranked.matched, ranked.related, ranked.mode
        else:
            hits = self.indexes.lexical.search(parsed, filters, limit=per_page, offset=offset, sort=sort)
            window, matched, related, used = list(hits.hits), hits.total, 0, "bm25"
        papers = self.indexes.store.get_papers(d for d, _ in window)
        marks = self.indexes.lexical.snippets(papers.values(), parsed) if snippets else {}
        results = [Hit(papers[d], s, marks.get(d, {})) for d, s in window if d in papers]
        took = (time.perf_counter() - started) * 1000
        return SearchResults(query, used, sort, page, per_page, (matched or 0) + related, results, took,
                             matched, related, parsed.notes)

    def similar(self, paper_id: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[Hit]:
        """Papers like this one: its embedding's neighbours fused with BM25 on its own words (BM25 alone
        when nothing is embedded yet)."""
        if not 1 <= k <= MAX_PER_PAGE:
            raise BadInput(f"k must be between 1 and {MAX_PER_PAGE}")
        pid = normalize_paper_id(paper_id)
        paper = self.indexes.store.get_paper(pid)
        if paper is None:
            raise NotFound(f"no paper {pid}")
        ranking = self.rank_similar(paper, k + 1, filters, mode)
        ranking = [(d, s) for d, s in ranking if d != pid][:k]
        papers = self.indexes.store.get_papers(d for d, _ in ranking)
        return [Hit(papers[d], s) for d, s in ranking if d in papers]

    def rank_similar(self, paper: Paper, k: int, filters: Filters | None = None, mode: str = "hybrid") -> list[tuple[str, float]]:
        if mode not in MODES:
            raise BadInput(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        lexical_query = more_like_this(paper)
        vectors = self.indexes.vectors
        vector = vectors.vector(paper.id) if vectors is not None else None
        if vector is None and self.dense_available:
            vector = self.indexes.embedder.embed([paper_text(paper)])[0]
        if mode == "bm25" or vector is None:
            return list(self.indexes.lexical.search(lexical_query, filters, limit=k, prune=False).hits)
        depth = max(k, self.fusion.depth)
        dense = filtered_dense(self.indexes, vector, depth, ParsedQuery(), filters)
        if mode == "dense":
            return dense[:k]
        # a paper's own 60 words, every one ranking: leaving common ones out cost CSFCube BM25 0.014
        lexical = list(self.indexes.lexical.search(lexical_query, filters, limit=depth, prune=False).hits)
        return fuse(lexical, dense, SIMILAR_FUSION)[:k]


def _in_background(call: Callable[[], T]) -> Callable[[], T]:
    """Start ``call`` in its own thread; the returned function waits for its value (or re-raises).

    A thread per call rather than a shared pool: a pool's queue would make a request wait behind
    other requests' BM25 legs under load, where running inline would not."""
    box: dict[str, Any] = {}  # "value" or "error"

    def run() -> None:
        try:
            box["value"] = call()
        except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller, raised there
            box["error"] = exc

    thread = threading.Thread(target=run, name="papersift-bm25", daemon=True)
    thread.start()

    def wait() -> T:
        thread.join()
        if "error" in box:
            raise box["error"]
        return box["value"]

    return wait


def more_like_this(paper: Paper, max_terms: int = 60) -> ParsedQuery:
    """A BM25 query from a paper's own words (title words first)."""
    words = _WORD.findall(f"{paper.title or ''} {paper.abstract or ''}")
    return ParsedQuery(terms=list(dict.fromkeys(w.lower() for w in words))[:max_terms])


def _has_constraints(q: ParsedQuery) -> bool:
    return bool(q.phrases or q.excluded_terms or q.excluded_phrases or q.fields)


def filtered_dense(indexes: Indexes, vector: np.ndarray, depth: int, q: ParsedQuery,
                   filters: Filters | None) -> list[tuple[str, float]]:
    """Exactly the ``depth`` nearest papers that pass the query's constraints and the filters.

    A narrow filter is answered by an exact scan of its passing set; a broad one by an exact scan of
    the whole index, post-filtered, widened until ``depth`` pass or the whole index was looked at.
    """
    vectors, lexical = _vectors(indexes), indexes.lexical
    if not (_has_constraints(q) or (filters is not None and not filters.is_empty())):
        return vectors.search(vector, depth)
    passing = lexical.count_passing(q, filters)
    size = len(vectors)
    if passing == 0 or size == 0:
        return []
    wide = min(size, math.ceil(depth * OVERSAMPLE * size / passing))
    if passing <= SUBSET_MAX and hasattr(vectors, "seq"):
        # an index that filters its own walk (GraphVectorIndex) takes the passing set as keys, which
        # the lexical index keeps per filter: cheaper than widening at every selectivity up to 20%
        return vectors.search_keys(vector, depth, lexical.passing_keys(q, filters))
    if subset_plan(passing, wide, depth):
        return vectors.search_keys(vector, depth, lexical.passing_keys(q, filters))
    return _widening(indexes, vector, depth, q, filters, wide)


def _vectors(indexes: Indexes) -> VectorIndex:
    if indexes.vectors is None:  # the searcher asks for dense results only when dense_available
        raise Unavailable("semantic search needs the vector index, and these indexes have none")
    return indexes.vectors


def subset_plan(passing: int, wide: int, depth: int) -> bool:
    """True when listing the ``passing`` ids is cheaper than checking ``wide`` candidates."""
    return passing <= SUBSET_MAX and FETCH_US * passing <= CHECK_US * wide + FETCH_US * depth * OVERSAMPLE


def _widening(indexes: Indexes, vector: np.ndarray, depth: int, q: ParsedQuery, filters: Filters | None,
              wide: int) -> list[tuple[str, float]]:
    # exact top k' of everything, then the filter: if ``depth`` of them pass, no passing paper outside
    # the k' can beat them, so the answer is exact; otherwise double k' (checking only new ids)
    checked: set[str] = set()
    allowed: set[str] = set()
    vectors = _vectors(indexes)
    while True:
        ranking = vectors.search(vector, wide)
        fresh = [d for d, _ in ranking if d not in checked]
        checked.update(fresh)
        allowed |= indexes.lexical.filter_ids(fresh, q, filters)
        kept = [(d, s) for d, s in ranking if d in allowed]
        size = len(vectors)
        if len(kept) >= depth or wide >= size:
            return kept[:depth]
        wide = min(size, wide * 2)
