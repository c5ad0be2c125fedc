"""Personal recommendations through the front door: signals, the "For you"
list, and the reader's own view of what is stored about them.

Signals: upvotes and saves (already stored, read as they are), "more like this" and "not for me"
(the store's ``signals``), the categories the reader follows and the follows of their email
subscription. They become a :class:`~papersift.recommend.Reader`; the candidates are the papers of
both feeds in the period, Daily Papers and arXiv's own listings (the last day, week or month, counted
back from the latest day a source listed papers on: a local submission never moves it), minus hidden
papers and whatever the reader already acted on; the vectors come from the vector index. The model
retrains on every call, so a click changes the next list.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, AbstractSet

import numpy as np

from papersift.errors import BadInput, Unauthorized, Unavailable
from papersift.model import Paper, User
from papersift.service.catalog import Catalog
from papersift.service.corpus import Corpus
from papersift.store.protocol import SIGNAL_KINDS

if TYPE_CHECKING:  # the recommender pulls in scikit-learn: loaded on the first list, not by every command
    from papersift.recommend import FeatureSpace, Reader, Recommender, RecParams
    from papersift.recommend.recommender import Explanation

PERIOD_DAYS = {"day": 1, "today": 1, "week": 7, "month": 30}
MAX_K = 50
# Background papers (listed before the period) that the model samples its "ordinary" papers from
# and the tf-idf vocabulary is fitted on: a day's feed alone is too few for either. The space holds
# the newest MAX_SPACE papers of those days, the candidates among them: a month of arXiv's cs listings
# (2,600 to 7,400 new papers a month in 2025-2026) must fit, or its first weeks are never ranked. At
# 3,000 For you saw only the last 2 to 3 weeks of a month (nDCG@10 0.075 against 0.112 at 10,000 on the
# 2025-10-01 cutoff, through the service: docs/BENCHMARKS.md); fitting 8,300 papers takes ~7 s on 2 busy cores.
BACKGROUND_DAYS, MAX_SPACE = 60, 10_000
CACHED_SPACES = 8  # feature spaces kept: a few periods x recent changes; a stale one (a paper written since) goes


@dataclass
class Pick:
    paper: Paper
    score: float
    why: Explanation

    def as_dict(self, titles: dict[str, str]) -> dict:
        why = self.why.as_dict()
        for liked in why["liked"]:
            liked["title"] = titles.get(liked["id"], "")
        return {"id": self.paper.id, "title": self.paper.title, "published": self.paper.published,
                "score": round(self.score, 4), "why": why, "because": _because(why)}


@dataclass
class ForYou:
    period: str
    day_from: str | None
    day_to: str | None
    picks: list[Pick] = field(default_factory=list)
    reason: str | None = None  # why the list is empty, in words for the reader
    titles: dict[str, str] = field(default_factory=dict)  # liked papers named in the explanations

    def as_dict(self) -> dict:
        return {"period": self.period, "from": self.day_from, "to": self.day_to, "reason": self.reason,
                "results": [p.as_dict(self.titles) for p in self.picks]}


def _because(why: dict) -> str:
    """The explanation in plain words: "by your co-author X — close to <liked title> — words: a, b"."""
    parts = []
    if why.get("coauthors"):
        names = [x["name"] for x in why["coauthors"][:2]]
        parts.append(f"by your co-author{'s' if len(names) > 1 else ''} " + " and ".join(names))
    if why["liked"]:
        parts.append("close to " + "; ".join(f"“{x['title'] or x['id']}”" for x in why["liked"][:2]))
    if why["words"]:
        parts.append("words: " + ", ".join(w["word"] for w in why["words"][:3]))
    return " — ".join(parts)


_blas_limited = False


def _one_blas_thread() -> None:
    """One BLAS thread for the process, set on the first list. A reader's fit and scoring are small
    matrices: on 2 cores, BLAS threads only fight the request threads (a For-you list took 108 ms
    with OpenBLAS's default threads and 62 ms with one, measured under load)."""
    global _blas_limited
    if not _blas_limited:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
        _blas_limited = True


def _signed_in(viewer: User | None) -> User:
    if viewer is None:
        raise Unauthorized("recommendations and feedback need a signed-in reader (or an API token)")
    return viewer


def _kind(kind: str) -> str:
    if kind not in SIGNAL_KINDS:
        raise BadInput(f"kind must be one of {', '.join(SIGNAL_KINDS)}, not {str(kind)[:40]!r}")
    return kind


class Recommendations:
    def __init__(self, corpus: Corpus, catalog: Catalog):
        self.corpus, self.catalog, self.store = corpus, catalog, corpus.store
        self._spaces: OrderedDict[tuple, FeatureSpace | None] = OrderedDict()
        self._listings: OrderedDict[tuple, tuple[str, ...]] = OrderedDict()
        self._lock = threading.Lock()  # one fit per key when requests arrive together
        # The recommender's settings: None, its defaults; and the space's size (the offline evaluation
        # sets others to compare)
        self.params: RecParams | None = None
        self.max_space = MAX_SPACE

    # ---- signals
    def feedback(self, viewer: User | None, paper_id: str, kind: str, on: bool = True) -> dict:
        """Record (or with ``on=False`` undo) "more" or "not_for_me" on a paper the viewer may see."""
        user, kind = _signed_in(viewer), _kind(kind)
        paper = self.catalog.visible_paper(paper_id, user)
        if on:
            self.store.add_signal(user.id, paper.id, kind)
        else:
            self.store.remove_signal(user.id, paper.id, kind)
        return {"id": paper.id, "kind": kind, "on": on}

    def undo_feedback(self, viewer: User | None, paper_id: str, kind: str) -> dict:
        return self.feedback(viewer, paper_id, kind, on=False)

    def signals(self, viewer: User | None) -> dict:
        """Every signal stored about the reader, JSON-able: the privacy export."""
        user = _signed_in(viewer)
        rows = self.store.user_signals(user.id)
        titles = {pid: p.title or "" for pid, p in self.store.get_papers(p for _, p, _ in rows).items()}
        sub = self.store.subscriber_for_user(user.id)
        return {"user": {"email": user.email, "name": user.name},
                "signals": [{"kind": k, "paper_id": p, "title": titles.get(p, ""), "created_at": at}
                            for k, p, at in rows],
                "follows": [{"kind": k, "value": v} for k, v in (sub.topics if sub else [])]}

    def forget_signals(self, viewer: User | None, votes_and_saves: bool = True) -> dict:
        """Delete the reader's signals; by default their upvotes and saves too (all the export lists
        but the follows, which the subscription settings manage)."""
        user = _signed_in(viewer)
        return {"deleted": self.store.delete_user_signals(user.id, votes_and_saves=votes_and_saves)}

    def reader(self, user: User, hidden: set[str]) -> Reader:
        from papersift.recommend import Reader

        positives: list[str] = []
        negatives: list[str] = []
        saved: list[str] = []
        for kind, pid, _ in self.store.user_signals(user.id):
            (negatives if kind == "not_for_me" else positives).append(pid)
            if kind == "save":
                saved.append(pid)
        sub = self.store.subscriber_for_user(user.id)
        topics = sub.topics if sub and sub.status == "active" else []
        categories = [*self.store.followed_categories(user.id), *(v for k, v in topics if k == "category")]
        # the reader's name finds the liked papers they wrote, whose other authors are their co-authors
        return Reader(positives=tuple(positives), negatives=tuple(negatives), seen=(*saved, *sorted(hidden)),
                      followed_categories=tuple(categories),
                      followed_authors=tuple(v for k, v in topics if k == "author"), name=user.name or "")

    # ---- the list
    def recommendations(self, viewer: User | None, period: str = "week", k: int = 10) -> ForYou:
        user = _signed_in(viewer)
        if period not in PERIOD_DAYS:
            raise BadInput(f"period must be one of {', '.join(PERIOD_DAYS)}, not {str(period)[:40]!r}")
        if not 1 <= k <= MAX_K:
            raise BadInput(f"k must be between 1 and {MAX_K}")
        latest = self.latest_day()
        if latest is None:
            return ForYou(period, None, None, reason="there are no papers on the feed yet")
        end = date.fromisoformat(latest)
        start = (end - timedelta(days=PERIOD_DAYS[period] - 1)).isoformat()
        hidden = self.catalog.hidden_ids()
        reader = self.reader(user, hidden)
        result = ForYou(period, start, latest)
        if not reader.positives:
            result.reason = ("no positive signal yet: upvote, save or mark “more like this” on a few papers "
                             "and recommendations will follow")
            return result
        if self.corpus.indexes.vectors is None:
            result.reason = "recommendations need the semantic index, and this server runs without an embedder"
            return result
        candidates = self._listed(start, latest, hidden)
        space = self._space_for((end - timedelta(days=BACKGROUND_DAYS)).isoformat(), latest, reader)
        if space is None or not len(space.rows(reader.positives)):
            result.reason = self._too_few_reason()
            return result
        _one_blas_thread()
        recs = self._recommender(space).recommend(reader, candidates, k=k)
        named = {x["id"] for r in recs for x in r.why.as_dict()["liked"]}  # the liked papers the reasons name
        papers = self.store.get_papers([r.paper_id for r in recs] + sorted(named))
        result.picks = [Pick(papers[r.paper_id], r.score, r.why) for r in recs if r.paper_id in papers]
        result.titles = {pid: p.title or "" for pid, p in papers.items()}
        if not result.picks:
            result.reason = f"nothing new for you between {start} and {latest}"
        return result

    def _recommender(self, space: FeatureSpace) -> Recommender:
        from papersift.recommend import Recommender

        return Recommender(space) if self.params is None else Recommender(space, self.params)

    def latest_day(self) -> str | None:
        """The day every period ends on: the latest a source listed papers on (local submissions only
        when nothing was ever harvested)."""
        return self.store.latest_listing_day() or self.store.latest_feed_day()

    def scores(self, viewer: User | None, ids: list[str], day_to: str) -> dict[str, float]:
        """The reader's score of each of ``ids`` (higher: more for them), for ordering a listing; {}
        when there is no model to score with (no positive signal, no vectors). Papers the reader
        already acted on get none."""
        user = _signed_in(viewer)
        if self.corpus.indexes.vectors is None or not ids:
            return {}
        reader = self.reader(user, self.catalog.hidden_ids())
        if not reader.positives:
            return {}
        start = (date.fromisoformat(day_to) - timedelta(days=BACKGROUND_DAYS)).isoformat()
        space = self._space_for(start, day_to, reader)
        if space is None or not len(space.rows(reader.positives)):
            return {}
        excluded = reader.excluded()
        papers, rows = self._with_vectors([pid for pid in dict.fromkeys(ids) if pid not in space.row])
        space = space.extended(papers, np.vstack(rows)) if papers else space
        _one_blas_thread()
        recommender = self._recommender(space)
        wanted = space.rows([pid for pid in ids if pid not in excluded])
        values = recommender.scores(reader, wanted, recommender.train(reader))
        return {space.ids[int(r)]: float(v) for r, v in zip(wanted, values, strict=True)}

    def _too_few_reason(self) -> str:
        """Why no model could be fitted: the vectors still being made (a start, a big ingest) is
        something to wait minutes for, not a harvest away."""
        coverage = self.corpus.coverage()
        if coverage.catching_up:
            return (f"the semantic index is still being built ({coverage.indexed} of {coverage.papers} papers "
                    "have their vectors so far): your recommendations appear once it has caught up, "
                    "try again in a few minutes")
        return ("too few papers are indexed around your liked ones to learn from yet: "
                "try again after the next harvest and indexing")

    def digest_picks(self, user_id: int, candidates: list[str], day_to: str, k: int,
                     hidden: set[str]) -> list[tuple[str, str]]:
        """A subscriber's best ``k`` of ``candidates`` (a digest's pool), with the reason in plain
        words; [] without a positive signal or vectors. The digest keeps each paper to one send."""
        user = self.store.get_user(user_id)
        if user is None or user.hidden or self.corpus.indexes.vectors is None or k <= 0:
            return []
        reader = self.reader(user, hidden)
        if not reader.positives:
            return []
        start = (date.fromisoformat(day_to) - timedelta(days=BACKGROUND_DAYS)).isoformat()
        space = self._space_for(start, day_to, reader)
        if space is None or not len(space.rows(reader.positives)):
            return []
        _one_blas_thread()
        recs = self._recommender(space).recommend(reader, candidates, k=k)
        named = {x["id"] for r in recs for x in r.why.as_dict()["liked"]}
        titles = {pid: p.title or "" for pid, p in self.store.get_papers(sorted(named)).items()}
        picks = []
        for rec in recs:
            why = rec.why.as_dict()
            for liked in why["liked"]:
                liked["title"] = titles.get(liked["id"], "")
            picks.append((rec.paper_id, _because(why)))
        return picks

    def _listed(self, day_from: str, day_to: str, hidden: AbstractSet[str] = frozenset()) -> list[str]:
        """The ids of both feeds in [day_from, day_to]: the Daily Papers and arXiv's new
        announcements (not replacements), by day. Kept per change number: reading the rows was a
        fifth of a page's time, and only a written paper changes them."""
        key = (day_from, day_to, self.store.max_seq())
        with self._lock:
            ids = self._listings.get(key)
        if ids is None:
            days = [(entry.day, paper.id) for paper, entry in self.store.feed_rows(day_from, day_to)]
            days += [(day, pid) for pid, day, kind, _ in self.store.listings(day_from, day_to) if kind != "replace"]
            ids = tuple(dict.fromkeys(pid for _, pid in sorted(days, key=lambda row: row[0])))
            with self._lock:
                self._listings[key] = ids
                while len(self._listings) > 4 * CACHED_SPACES:
                    self._listings.popitem(last=False)
        return [pid for pid in ids if pid not in hidden]

    def _space_for(self, day_from: str, day_to: str, reader: Reader) -> FeatureSpace | None:
        """The papers listed in [day_from, day_to] (the newest ``max_space``), extended by the reader's
        signal papers outside them. Fitting tf-idf is most of a request's time (~0.4 s for 600
        papers), so the window's space is kept and shared by every reader (a click changes nothing
        in it; a new paper, ``max_seq``, does); a reader's older signal papers are added to a copy
        with the fitted vocabulary, which costs milliseconds. Hidden papers stay in the space (the
        reader's ``seen`` keeps them off the list), so hiding one costs no refit."""
        window = self._listed(day_from, day_to)[-self.max_space:]
        key = (day_from, day_to, len(window), self.store.max_seq())
        with self._lock:
            if key not in self._spaces:
                for stale in [k for k in self._spaces if k[:2] == key[:2] and k[3] < key[3]]:
                    del self._spaces[stale]  # the same days before a paper was written: never asked for again
                self._spaces[key] = self._space(window)
                while len(self._spaces) > CACHED_SPACES:
                    self._spaces.popitem(last=False)
            self._spaces.move_to_end(key)
            space = self._spaces[key]
        if space is None:
            return None
        extra = [pid for pid in dict.fromkeys([*reader.positives, *reader.negatives]) if pid not in space.row]
        papers, rows = self._with_vectors(extra)
        return space.extended(papers, np.vstack(rows)) if papers else space

    def _with_vectors(self, ids: list[str]) -> tuple[list[Paper], list[np.ndarray]]:
        vectors = self.corpus.indexes.vectors
        if vectors is None:  # each caller answers without the semantic index before it gets here
            raise Unavailable("recommendations need the semantic index, and this server runs without an embedder")
        kept, rows = [], []
        for pid, paper in self.store.get_papers(dict.fromkeys(ids)).items() if ids else ():
            vector = vectors.vector(pid)
            if vector is not None:
                kept.append(paper)
                rows.append(np.asarray(vector, dtype=np.float32))
        return kept, rows

    def _space(self, ids: list[str]) -> FeatureSpace | None:
        """The feature space over ``ids`` that have a vector (None when too few have one to fit words on)."""
        from papersift.recommend import FeatureSpace

        kept, rows = self._with_vectors(ids)
        if not kept:
            return None
        try:
            return FeatureSpace(kept, np.vstack(rows))
        except ValueError:  # tf-idf on a handful of papers: no word in two of them, nothing to learn from
            return None
