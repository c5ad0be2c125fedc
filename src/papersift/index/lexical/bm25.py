"""BM25 over tantivy: the lexical index, its constraint checks and its snippets.

User text never reaches tantivy's query parser: every query is built from
:class:`~papersift.query.ParsedQuery` with ``tantivy.Query`` constructors, and every
word goes through the same ``TextAnalyzer`` objects that are registered on the index, so the
query side stems and folds exactly like the indexed side.

The writer is opened per batch and released at :meth:`LexicalIndex.commit` (tantivy allows one
writer per index directory, and the CLI and the API server may both sync the same folder).
"""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import tantivy
from tantivy import Occur, Query

from papersift.errors import BadInput, DiskFull, Unavailable, as_disk_full, free_mb
from papersift.ids import paper_key
from papersift.index.lexical.dates import date_range as _date_range
from papersift.index.lexical.passing import PassingSets, filter_key
from papersift.index.lexical.schema import FIELD_ANALYZER, INDEX_ANALYZERS, RANK_ANALYZERS, document, schema as _schema
from papersift.index.lexical.snippets import render as _render
from papersift.model import Paper
from papersift.query import Filters, ParsedQuery

SORTS = ("relevance", "date", "upvotes")
TITLE_CHARS, ABSTRACT_CHARS = 1000, 300  # longest snippet per field
_NS_PER_DAY = 86_400 * 10**9
# Abstract words in more than this share of papers rank through the title only (``_common``; 20% of
# 20/10/5% on SciFact train, bench/bm25_prune.py); not below COMMON_MIN_DOCS papers (BM25 is cheap).
COMMON_SHARE, COMMON_MIN_DOCS = 0.2, 1_000
ROOM = "the index catches up once there is room"  # what a full disk's message adds: the store has every paper


@dataclass(frozen=True)
class FieldWeights:
    """BM25 boosts per field (frozen: its repr keys cached indexes in evaluation)."""

    title: float = 1.1  # tuned on SciFact train within title > abstract > authors (bench/tune_fusion.py)
    abstract: float = 1.0
    authors: float = 0.5


DEFAULT = FieldWeights()


@dataclass
class SearchHits:
    """(id, score) best first, and how many papers match in all.

    ``score`` is BM25 for sort="relevance"; for "date" it is days since 1970-01-01 and for
    "upvotes" the upvote count (what the order is by).
    """

    hits: list[tuple[str, float]]
    total: int


def _dedup(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


class LexicalIndex:
    def __init__(self, path: Path | None, weights: FieldWeights = DEFAULT):
        self.path = Path(path) if path is not None else None
        self.weights = weights
        self.common_share: float | None = COMMON_SHARE  # None: every abstract word ranks
        self.schema = _schema()
        self._index = self._open()
        self._writer: tantivy.IndexWriter | None = None
        self._lock = threading.Lock()
        self._passing = PassingSets()
        self._meta_stamp: int | None = None  # meta.json's mtime at the last reload()

    def _open(self) -> tantivy.Index:
        if self.path is None:
            index = tantivy.Index(self.schema)
        else:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
                index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
            except OSError as exc:  # a read-only folder: say which, not a traceback
                raise Unavailable(f"cannot create the lexical index at {self.path}: {exc.strerror or exc}") from None
            except ValueError as exc:
                if "schema does not match" not in str(exc) or not (self.path / "meta.json").exists():
                    raise Unavailable(f"cannot open the lexical index at {self.path}: {exc}") from None
                # An index from an older layout: it is derived data, so start over; the
                # caller sees count() == 0 and re-indexes from the store.
                shutil.rmtree(self.path)
                self.path.mkdir(parents=True)
                index = tantivy.Index(self.schema, path=str(self.path), reuse=True)
        for name, analyzer in INDEX_ANALYZERS.items():
            index.register_tokenizer(name, analyzer)
        return index

    # ---- writing
    def _get_writer(self):
        if self._writer is None:
            heap = 64_000_000 if self.path is None else 128_000_000
            deadline = time.monotonic() + 30
            while True:
                try:
                    self._writer = self._index.writer(heap, 2)
                    break
                except ValueError as exc:  # LockBusy: another process is committing
                    if "Lock" not in str(exc) or time.monotonic() > deadline:
                        raise Unavailable(f"lexical index at {self.path} is busy: {exc}") from None
                    time.sleep(0.1)
        return self._writer

    def add(self, papers: Iterable[Paper]) -> int:
        """Upsert by id (visible after :meth:`commit`)."""
        n = 0
        with self._lock:
            writer = self._get_writer()
            try:
                for paper in papers:
                    # delete-then-add: a delete only hits documents added before it, so a paper
                    # repeated in one batch keeps its last version
                    writer.delete_documents_by_term("id", paper.id)
                    writer.add_document(document(paper))
                    n += 1
            except ValueError as exc:  # a worker thread failed writing a segment (a full disk...)
                del writer
                raise self._failed(exc) from None
        return n

    def delete(self, ids: Iterable[str]) -> None:
        with self._lock:
            writer = self._get_writer()
            for pid in ids:
                writer.delete_documents_by_term("id", pid)

    def commit(self) -> None:
        with self._lock:
            self._passing.clear()  # passing sets listed before this commit are stale
            if self._writer is not None:
                try:
                    self._writer.commit()
                    self._writer.wait_merging_threads()  # also releases the directory lock
                except ValueError as exc:  # e.g. a full disk
                    raise self._failed(exc) from None
                self._writer = None
            self._index.reload()

    def _failed(self, exc: ValueError) -> BaseException:
        """Drop the writer after a failed write (a failed tantivy writer stays failed; dropping it releases
        the directory lock); the caller's mark has not moved, so its next batch adds these papers again. A
        worker thread's error only says it was killed, so a disk without room then names the cause."""
        self._writer = None
        if "killed" in str(exc) and self.path is not None and free_mb(self.path) == 0:
            return DiskFull.at(self.path, ROOM)
        return as_disk_full(exc, self.path, ROOM) if self.path is not None else exc

    def reload(self) -> bool:
        """See commits made by another process (a web worker beside the machine's indexer); True when
        there was one. Its passing sets are dropped then, as a commit here drops them."""
        if self.path is None:
            return False
        try:
            stamp = (self.path / "meta.json").stat().st_mtime_ns
        except OSError:
            return False
        if stamp == self._meta_stamp:
            return False
        self._meta_stamp = stamp
        with self._lock:
            self._index.reload()
            self._passing.clear()
        return True

    def count(self) -> int:
        self._index.reload()  # see commits made by another process, too
        return self._index.searcher().num_docs

    def __len__(self) -> int:
        return self.count()

    # ---- query building
    def _tokens(self, field: str, text: str, rank: bool = False) -> list[str]:
        name = FIELD_ANALYZER[field]
        if rank:
            return RANK_ANALYZERS[name].analyze(text) or INDEX_ANALYZERS[name].analyze(text)
        return INDEX_ANALYZERS[name].analyze(text)

    def _text_query(self, field: str, text: str) -> Query | None:
        """``text`` as a term or an exact phrase in ``field`` (None if it has no words)."""
        tokens = self._tokens(field, text)
        if not tokens:
            return None
        if len(tokens) == 1:
            return Query.term_query(self.schema, field, tokens[0])
        # tantivy's stub takes a list invariant in its items (str or (position, str)): a list of str is one
        return Query.phrase_query(self.schema, field, tokens)  # type: ignore[arg-type]

    def _weighted(self) -> list[tuple[str, float]]:
        return [("title", self.weights.title), ("abstract", self.weights.abstract), ("authors", self.weights.authors)]

    def _anywhere(self, text: str, scored: bool = True) -> Query:
        """``text`` in title, abstract or authors; each field boosted by its weight."""
        parts = []
        for field, weight in self._weighted():
            sub = self._text_query(field, text)
            if sub is not None:
                parts.append((Occur.Should, Query.boost_query(sub, weight) if scored and weight > 0 and weight != 1 else sub))
        return Query.boolean_query(parts) if parts else Query.empty_query()

    def _ranked(self, q: ParsedQuery, prune: bool = False) -> Query | None:
        """The free terms: BM25, OR over (field, word), stopwords dropped unless all are; ``prune``:
        words in more than ``common_share`` of the abstracts score through the title only."""
        text = " ".join(q.terms)
        clauses = []
        for field, weight in self._weighted():
            if weight <= 0 or not text:
                continue
            tokens = _dedup(self._tokens(field, text, rank=True))
            common = self._common(field, tokens) if prune else set()
            for token in (t for t in tokens if t not in common):
                sub = Query.term_query(self.schema, field, token)
                clauses.append((Occur.Should, Query.boost_query(sub, weight) if weight != 1 else sub))
        return Query.boolean_query(clauses) if clauses else None

    def _common(self, field: str, tokens: list[str]) -> set[str]:
        """Abstract words left out of ranking: tantivy-py collects through a MultiCollector, so block-max
        WAND never runs and a union scores every posting, most of them a few common words' (idf < 1.7)
        in a long query. All kept when all are common (docs/BENCHMARKS.md, a million papers)."""
        searcher = self._index.searcher()
        if field != "abstract" or self.common_share is None or not tokens or searcher.num_docs < COMMON_MIN_DOCS:
            return set()
        limit = self.common_share * searcher.num_docs
        common = {t for t in tokens if searcher.doc_freq(field, t) > limit}
        return common if len(common) < len(tokens) else set()

    def _org(self, name: str) -> Query:
        parts = [(Occur.Should, Query.term_query(self.schema, "org_raw", name.strip().lower()))]
        words = self._text_query("org", name)
        if words is not None:
            parts.append((Occur.Should, words))
        return Query.boolean_query(parts)

    def _required(self, q: ParsedQuery) -> list[Query]:
        must = [self._anywhere(p) for p in q.phrases]
        for name, values in q.fields.items():
            if name == "id":
                must.append(Query.const_score_query(Query.term_set_query(self.schema, "id", values), 0.0))
                continue
            for value in values:
                if name == "cat":
                    must.append(Query.const_score_query(
                        Query.term_query(self.schema, "categories", value.lower()), 0.0))
                elif name == "venue":
                    must.append(Query.const_score_query(
                        Query.term_query(self.schema, "venue", value.strip().lower()), 0.0))
                elif name == "org":
                    must.append(Query.const_score_query(self._org(value), 0.0))
                else:
                    field = "authors" if name == "author" else "title"
                    must.append(self._text_query(field, value) or Query.empty_query())
        return must

    def _filters(self, filters: Filters | None) -> list[Query]:
        if filters is None or filters.is_empty():
            return []
        filters.validate()
        must = []
        if filters.date_from or filters.date_to:
            must.append(_date_range(self.schema, filters))
        if filters.categories:
            cats = _dedup(c.strip().lower() for c in filters.categories)
            must.append(Query.term_set_query(self.schema, "categories", cats))
        if filters.organization and filters.organization.strip():
            must.append(self._org(filters.organization))
        if filters.has_code is not None:
            must.append(Query.term_query(self.schema, "has_code", filters.has_code))
        return [Query.const_score_query(m, 0.0) for m in must]

    def _excluded(self, q: ParsedQuery) -> list[Query]:
        return [self._anywhere(t, scored=False) for t in q.excluded_terms + q.excluded_phrases]

    def _query(self, q: ParsedQuery, filters: Filters | None, ranked: bool = True,
               extra: Sequence[Query] = (), prune: bool = False) -> Query:
        must = list(extra) + self._required(q) + self._filters(filters)
        ranking = self._ranked(q, prune) if ranked else None
        excluded = self._excluded(q)
        if ranking is not None and not must and not excluded:
            # the bare union, not a one-clause boolean around it: same hits, scores, count; ~13% faster
            return ranking
        clauses = [(Occur.Must, m) for m in must]
        if ranking is not None:
            # one free term must match (OR); required parts and filters narrow further
            clauses.append((Occur.Must, ranking))
        elif not must:
            if ranked and q.terms:
                return Query.empty_query()  # words that analyse to nothing match nothing
            clauses.append((Occur.Must, Query.all_query()))
        clauses += [(Occur.MustNot, x) for x in excluded]
        return Query.boolean_query(clauses)

    # ---- reading
    def search(self, q: ParsedQuery, filters: Filters | None = None, limit: int = 10, offset: int = 0,
               sort: str = "relevance", prune: bool = True) -> SearchHits:
        """``prune``: common abstract words count through the title only (``_common``), in every sort
        (one total whatever the order); "similar papers" turns it off (CSFCube, docs/BENCHMARKS.md)."""
        if sort not in SORTS:
            raise BadInput(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
        if limit < 0 or offset < 0:
            raise BadInput("limit and offset must not be negative")
        query = self._query(q, filters, prune=prune)
        searcher = self._index.searcher()
        kwargs: dict[str, Any] = {"offset": offset}
        if sort != "relevance":
            kwargs["order_by_field"] = "published" if sort == "date" else "upvotes"
        result = searcher.search(query, max(limit, 1), count=True, **kwargs)
        hits = []
        for key, address in result.hits[:limit]:
            if sort == "date":
                key = key / _NS_PER_DAY if key is not None else 0.0
            hits.append((searcher.doc(address)["id"][0], float(key or 0.0)))
        return SearchHits(hits, result.count)  # type: ignore[attr-defined]  # set with count=True; not in tantivy's stub

    def scores_of(self, ids: Iterable[str], q: ParsedQuery, filters: Filters | None = None,
                  prune: bool = True) -> dict[str, float]:
        """The BM25 score :meth:`search` gives each of ``ids`` that matches (absent: it does not match): the
        exact scores of papers another leg found, wherever they would rank here."""
        ids = _dedup(ids)
        if not ids:
            return {}
        keys: dict[object, str] = {paper_key(pid): pid for pid in ids}  # read back from the fast field
        only = Query.const_score_query(Query.term_set_query(self.schema, "id", ids), 0.0)
        query = self._query(q, filters, extra=[only], prune=prune)
        searcher = self._index.searcher()
        hits = searcher.search(query, len(ids), count=False).hits
        found = searcher.fast_field_values("key", [address for _, address in hits])
        return {keys[key]: float(score) for key, (score, _) in zip(found, hits, strict=True) if key in keys}

    def filter_ids(self, ids: list[str], q: ParsedQuery, filters: Filters | None = None) -> set[str]:
        """The given ids that exist and satisfy the query's required parts and the filters.

        Free terms are ignored: they rank, they do not constrain. Matches are read back as keys (a fast
        field), not as stored documents: ~10x cheaper per candidate. (The set is matched on the string
        ids: a term set over the integer keys was 7x slower at 1M papers.)
        """
        ids = _dedup(ids)
        keys: dict[object, str] = {paper_key(pid): pid for pid in ids}  # looked up by what the fast field holds
        if not keys:
            return set()
        query = self._query(q, filters, ranked=False,
                            extra=[Query.term_set_query(self.schema, "id", ids)])
        searcher = self._index.searcher()
        hits = searcher.search(query, len(keys), count=False).hits
        return {keys[k] for k in searcher.fast_field_values("key", [a for _, a in hits]) if k in keys}

    def _positive(self, q: ParsedQuery) -> Query | None:
        """What a snippet highlights: free terms, phrases and title: values."""
        parts = [self._ranked(q)] + [self._anywhere(p) for p in q.phrases]
        parts += [self._text_query("title", v) for v in q.fields.get("title", [])]
        clauses = [(Occur.Should, p) for p in parts if p is not None]
        return Query.boolean_query(clauses) if clauses else None

    def snippets(self, papers: Iterable[Paper], q: ParsedQuery) -> dict[str, dict[str, str]]:
        """id -> {"title": html, "abstract": html}: HTML-escaped text, matches in ``<mark>``.

        Cut from the papers' own text (the index does not store it), scored by this index's statistics."""
        papers = list({p.id: p for p in papers}.values())
        positive = self._positive(q) if papers else None
        generators = {}
        if positive is not None:
            searcher = self._index.searcher()
            for field, chars in (("title", TITLE_CHARS), ("abstract", ABSTRACT_CHARS)):
                generators[field] = tantivy.SnippetGenerator.create(searcher, positive, self.schema, field)
                generators[field].set_max_num_chars(chars)
        out: dict[str, dict[str, str]] = {}
        for paper in papers:
            texts = {"title": (paper.title or "").strip(), "abstract": (paper.abstract or "").strip()}
            doc = tantivy.Document(**{f: t for f, t in texts.items() if t}) if generators else None
            out[paper.id] = {field: _render(generators[field].snippet_from_doc(doc) if doc is not None else None,
                                            texts[field], chars)
                             for field, chars in (("title", TITLE_CHARS), ("abstract", ABSTRACT_CHARS)) if texts[field]}
        return out

    # ---- the constraint-only set (what the dense leg may return)
    def count_passing(self, q: ParsedQuery, filters: Filters | None = None) -> int:
        """How many papers satisfy the query's required parts and the filters (free terms ignored):
        tantivy counts them from its posting lists (no document loaded); kept per filter too."""
        return self._passing.count(filter_key(q, filters), lambda: self._index.searcher().search(
            self._query(q, filters, ranked=False), 1, count=True).count)  # type: ignore[attr-defined]  # as in search

    def passing_keys(self, q: ParsedQuery, filters: Filters | None = None) -> np.ndarray:
        """The keys (:func:`papersift.ids.paper_key`) of every paper that satisfies the query's required
        parts and the filters, read from the fast field without loading a document; kept per filter
        for a while (:class:`papersift.index.lexical.passing.PassingSets`)."""
        return self._passing.get(filter_key(q, filters), lambda: self._list_passing_keys(q, filters))

    def _list_passing_keys(self, q: ParsedQuery, filters: Filters | None) -> np.ndarray:
        query = self._query(q, filters, ranked=False)
        searcher = self._index.searcher()
        n = searcher.search(query, 1, count=True).count  # type: ignore[attr-defined]  # as in search
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        hits = searcher.search(query, n, count=False).hits
        return np.asarray(searcher.fast_field_values("key", [a for _, a in hits]), dtype=np.int64)
