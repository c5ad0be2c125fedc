"""`papersift eval-recs --through-service`: the author-as-user protocol measured through the product.

`eval-recs` builds its own feature space and candidate list (a copy of what the product does). This
evaluation asks the product itself. At the cutoff T, a real store (a temporary SQLite file) holds every
arXiv paper listed before T + 30 days, ingested the product's way (``ingest_file("arxiv-jsonl")`` on a
copy of the archive cut at T + 29, listing days included), embedded from the shared precomputed vectors
(the store's embeddings cache, so indexing embeds nothing) and indexed (``svc.index()``). Each sampled
author (recs_data's users: profile = their papers before T, relevant = their papers listed in the 30
days from T) becomes a real account named as on their newest paper, imports the profile as a library
(``personal.seed_library``), follows the primary categories of their profile papers (the 3 most
common), and asks For you for the month that ends on the store's latest day, T + 29 (``k`` = 50, the
most a list holds). The same accounts ask the baselines, through the product too:

* **hybrid search**: the product's own search (``svc.search``, hybrid) with the profile's titles as the
  query (newest first, as many whole titles as the searcher accepts), published in [T, T + 29];
* **followed categories, newest first**: the "New on arXiv" tab of the followed categories in arXiv's
  listing order (``svc.arxiv.page``, ``order="listing"``);
* **arxiv-sanity-lite replica** (``recs_methods.asl_method``, optional): over the archive's window.

The product's text features read titles and abstracts only; its one author-based signal, co-authors
(recommend/ordering.py), takes the account's name and leaves it out. "No shared co-author" drops from
every list, and from the relevant set, the window papers that share a co-author with the profile.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import sqlite3
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence, cast

import numpy as np

from papersift.errors import BadInput
from papersift.evaluate.recs_data import (
    ARXIV_FILE,
    VECTOR_IDS,
    VECTORS,
    Corpus,
    EvalUser,
    normal_name,
    parse_cutoff,
    read_papers,
    read_vectors,
    sample_users,
    select_users,
    window_bounds,
)
from papersift.evaluate.recs_stats import METRIC_NAMES, paired_bootstrap, summarise, user_scores
from papersift.model import Paper, User
from papersift.query import Filters, parse_query
from papersift.recommend import RecParams

if TYPE_CHECKING:
    from papersift.service import Papersift

Progress = Callable[[int], None] | None
FOR_YOU = "For you"
BEFORE = "  For you before (3,000-paper space, no co-author prior)"
NO_COAUTHORS = "  ablation: For you without the co-author prior"
SEARCH = "hybrid search, profile titles as the query"
CATEGORIES = "followed categories, newest first"
ASL = "arxiv-sanity-lite replica"
VARIANTS = ("all window papers", "no shared co-author")
K = 50  # the most a For-you list holds (service/recommendations.MAX_K), and Recall@50's depth
PASSWORD = "eval password, never used to log in"
SITE_FILE = "site.json"
BUILD_VERSION = 1  # bump when the built store would differ: a kept workdir is rebuilt then


@dataclass(frozen=True)
class ForYouSettings:
    """One For-you variant: the recommender's settings and the size of its feature space (None: the
    product's own)."""

    params: RecParams | None = None
    max_space: int | None = None


def default_variants() -> dict[str, ForYouSettings]:
    """The product, what it was before the co-author prior and the larger space, and without the prior."""
    from dataclasses import replace

    base = RecParams()
    without = replace(base, prior=replace(base.prior, coauthors=0.0))
    return {FOR_YOU: ForYouSettings(), BEFORE: ForYouSettings(without, 3000), NO_COAUTHORS: ForYouSettings(without)}


@dataclass
class Site:
    """One cutoff's store, ready to ask: the folder it lives in and what the evaluation needs of it."""

    folder: Path
    db: Path
    index_dir: Path
    papers: int
    seconds: float  # to build it; 0 when a kept one was reused


def window_days(cutoff: date) -> tuple[str, str]:
    """The window's first and last day, inclusive: T and T + 29."""
    start, end = window_bounds(cutoff)
    return start, (date.fromisoformat(end) - timedelta(days=1)).isoformat()


def cut_archive(source: Path, target: Path, until: str) -> int:
    """The archive as it stood before ``until``: the papers first listed before it, each with its later
    listing days (replacements) dropped, so that the store's latest listing day is the window's last."""
    kept = 0
    with gzip.open(source, "rt", encoding="utf-8") as handle, open(target, "w", encoding="utf-8") as out:
        for line in handle:
            row = json.loads(line)
            if not row.get("first_listing_date") or row["first_listing_date"] >= until:
                continue
            if isinstance(row.get("listing_dates"), list):
                row["listing_dates"] = [d for d in row["listing_dates"] if isinstance(d, str) and d < until]
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            kept += 1
    return kept


def _papersift(db: Path, index_dir: Path):
    from argon2 import PasswordHasher

    from papersift.service import Papersift

    # accounts the evaluation makes never log in: the lightest argon2 cost
    return Papersift(db, index_dir=index_dir, password_hasher=PasswordHasher(time_cost=1, memory_cost=8 * 1024,
                                                                              parallelism=1))


def seed_embeddings(svc, data_dir: Path) -> int:
    """The store's embeddings cache filled from the shared precomputed vectors of the default model
    (so ``svc.index()`` embeds nothing); 0 when the folder has none (indexing then embeds every paper)."""
    from papersift.index.indexes import paper_text, text_hash

    if not (data_dir / VECTORS).is_file() or not (data_dir / VECTOR_IDS).is_file():
        return 0
    with gzip.open(data_dir / VECTOR_IDS, "rt") as handle:
        known = {line.strip() for line in handle if line.strip()}
    store = svc.corpus.store
    papers = [p for _, p in store.iter_changes(0) if p.id in known and paper_text(p)]
    name = svc.indexes.embedder.name
    for start in range(0, len(papers), 5000):
        part = papers[start:start + 5000]
        vectors = read_vectors(data_dir, [p.id for p in part])
        store.put_embeddings(name, [(p.id, text_hash(paper_text(p)), vectors[i]) for i, p in enumerate(part)])
    return len(papers)


def build_site(data_dir: Path, cutoff: date, folder: Path, say: Callable[[str], None] = lambda _: None) -> Site:
    """The store for ``cutoff`` in ``folder`` (made once: a folder holding one for the same cutoff and
    archive is reused)."""
    _, until = window_bounds(cutoff)
    source = data_dir / ARXIV_FILE
    stamp = {"version": BUILD_VERSION, "cutoff": cutoff.isoformat(), "archive": str(source.resolve()),
             "archive_bytes": source.stat().st_size, "vectors": (data_dir / VECTORS).is_file()}
    record = folder / SITE_FILE
    db, index_dir = folder / "base.db", folder / "index"
    if record.is_file():
        built = json.loads(record.read_text())
        if {k: built.get(k) for k in stamp} == stamp and db.is_file():
            return Site(folder, db, index_dir, built["papers"], 0.0)
    started = time.perf_counter()
    for leftover in (db, index_dir, record):
        if leftover.is_dir():
            shutil.rmtree(leftover)
        elif leftover.exists():
            leftover.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    cut = folder / "listings.jsonl"
    say(f"cutting the archive at {until}")
    cut_archive(source, cut, until)
    svc = _papersift(db, index_dir)
    try:
        say("ingesting (arxiv-jsonl) and indexing the words")
        report = svc.ingest_file("arxiv-jsonl", cut)
        if report.bad:
            raise BadInput(f"{len(report.bad)} records of {source} did not ingest (first: line {report.bad[0][0]}: "
                           f"{report.bad[0][1]})")
        say("seeding the embeddings cache from the shared vectors")
        seed_embeddings(svc, data_dir)
        say("indexing the vectors")
        svc.index()
        papers = svc.count_papers()
    finally:
        svc.close()
    cut.unlink()
    seconds = time.perf_counter() - started
    record.write_text(json.dumps({**stamp, "papers": papers, "build_seconds": round(seconds, 1)}))
    return Site(folder, db, index_dir, papers, seconds)


def _copy_db(source: Path, target: Path) -> None:
    """A fresh copy of the built store for one run (its accounts and signals stay out of the next)."""
    for leftover in target.parent.glob(target.name + "*"):
        leftover.unlink()
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


# ---- the readers and what each method answers them


def display_name(user: EvalUser, by_id: dict[str, Paper]) -> str:
    """The author's name as written on their newest profile paper (the user's key is normalised)."""
    for pid in user.profile:
        for name in by_id[pid].authors:
            if normal_name(name) == user.name:
                return " ".join(name.split())
    return user.name


def followed_categories(user: EvalUser, by_id: dict[str, Paper], top: int = 3) -> list[str]:
    """The primary categories of the profile papers, the ``top`` most common (ties: the newer paper's first)."""
    counts = Counter(by_id[pid].categories[0] for pid in user.profile if by_id[pid].categories)
    return [c for c, _ in counts.most_common(top)]


def title_query(titles: Sequence[str]) -> str:
    """The titles (newest first) as one search-box query: as many whole titles as the searcher takes
    (query.MAX_QUERY_CHARS characters, MAX_QUERY_TERMS content words), punctuation as spaces so that no
    word reads as an operator or a field."""
    words: list[str] = []
    for title in titles:
        more = re.sub(r"\W+", " ", title or "").split()
        if not more:
            continue
        if not _fits(words + more):
            if not words:  # one title past the limits: its words up to them
                for word in more:
                    if not _fits(words + [word]):
                        break
                    words.append(word)
            break
        words += more
    return " ".join(words)


def _fits(words: list[str]) -> bool:
    """Whether the searcher takes these words whole: within the characters, and nothing cut."""
    try:
        return not parse_query(" ".join(words)).cut_words
    except BadInput:
        return False


@dataclass
class Reader:
    user: EvalUser
    account: User
    categories: list[str]


class Methods:
    """Each method: one reader's list, paper ids best first, asked of the product."""

    def __init__(self, svc, corpus: Corpus, cutoff: date, variants: dict[str, ForYouSettings],
                 asl: bool, seed: int):
        self.svc, self.corpus, self.cutoff = svc, corpus, cutoff
        self.by_id = {p.id: p for p in corpus.papers}
        self.first, self.last = window_days(cutoff)
        self.variants = variants
        self.seconds: dict[str, list[float]] = {}
        self.asl = self._asl(seed) if asl else None
        self.periods: Counter[tuple[str | None, str | None]] = Counter()

    def names(self) -> list[str]:
        return [*self.variants, SEARCH, CATEGORIES, *([ASL] if self.asl else [])]

    def baselines(self) -> list[str]:
        return [SEARCH, CATEGORIES, *([ASL] if self.asl else [])]

    def rank(self, reader: Reader) -> dict[str, list[str]]:
        out = {}
        for_you, default_space = self.svc.for_you, self.svc.for_you.max_space
        for name, settings in self.variants.items():
            for_you.params, for_you.max_space = settings.params, settings.max_space or default_space
            try:
                out[name] = self._timed(name, lambda: self._for_you(reader))
            finally:
                for_you.params, for_you.max_space = None, default_space
        out[SEARCH] = self._timed(SEARCH, lambda: self._search(reader))
        out[CATEGORIES] = self._timed(CATEGORIES, lambda: self._categories(reader))
        if self.asl is not None:
            out[ASL] = self._timed(ASL, lambda: self.asl(reader.user) if self.asl else [])
        return out

    def _timed(self, name: str, fn: Callable[[], list[str]]) -> list[str]:
        started = time.perf_counter()
        ranked = fn()
        self.seconds.setdefault(name, []).append(time.perf_counter() - started)
        return ranked

    def _for_you(self, reader: Reader) -> list[str]:
        result = self.svc.for_you.recommendations(reader.account, "month", k=K)
        self.periods[(result.day_from, result.day_to)] += 1
        return [pick.paper.id for pick in result.picks]

    def _search(self, reader: Reader) -> list[str]:
        query = title_query([self.by_id[pid].title or "" for pid in reader.user.profile])
        if not query:
            return []
        found = self.svc.search(query, Filters(date_from=self.first, date_to=self.last), mode="hybrid",
                                per_page=K, viewer=reader.account)
        return [hit.paper.id for hit in found.hits]

    def _categories(self, reader: Reader) -> list[str]:
        """The "new" tab of the followed categories in arXiv's order (newest day first), month by month
        back from the window's last, kept to the window."""
        ranked: list[str] = []
        month = date.fromisoformat(self.last).replace(day=1)
        while len(ranked) < K and month.isoformat()[:7] >= self.first[:7]:
            page = self.svc.arxiv.page(reader.account, month=month.isoformat()[:7], tab="new", order="listing",
                                       limit=K)
            ranked += [it.paper_id for it in page.page.items if self.first <= it.day <= self.last]
            month = (month - timedelta(days=1)).replace(day=1)
        return ranked[:K]

    def _asl(self, seed: int) -> Callable[[EvalUser], list[str]]:
        """arxiv-sanity-lite as eval-recs replicates it (recs_methods.asl_method) over the archive's window
        (papers first listed in the 30 days from T) and the month before it, as its database."""
        from papersift.evaluate.recs_methods import Setup, asl_method
        from papersift.recommend import FeatureSpace

        papers = self.corpus.papers
        start, end = window_bounds(self.cutoff)
        month_ago = (self.cutoff - timedelta(days=30)).isoformat()
        days = [self.corpus.listed[p.id] for p in papers]
        rows = np.arange(len(papers))
        window = rows[[start <= d < end for d in days]]
        setup = Setup(cast(FeatureSpace, None), window=window, background=rows[[d < start for d in days]],
                      last_month=rows[[month_ago <= d < start for d in days]], names=[], now_day=0.0, seed=seed)
        method = asl_method(setup, papers)  # reads no feature space: the replica has its own tf-idf
        row = {p.id: i for i, p in enumerate(papers)}
        from papersift.evaluate.recs_methods import Case

        def asl(user: EvalUser) -> list[str]:
            ranked = method(Case(0, user, np.array([row[p] for p in user.profile]), np.empty(0, dtype=np.int64)))
            return [papers[int(r)].id for r in ranked[:K]]

        return asl


def _reader(svc, i: int, user: EvalUser, by_id: dict[str, Paper]) -> Reader:
    account = svc.accounts.create_user(f"reader-{i}@eval.example.org", PASSWORD, display_name(user, by_id)[:60])
    seeded = svc.personal.seed_library(account, "\n".join(user.profile) + "\n", "library.txt")
    if seeded.missing:
        raise BadInput(f"the store lacks profile papers of {user.name!r}: {seeded.missing[:3]}")
    categories = followed_categories(user, by_id)
    svc.arxiv.follow(account, categories)
    return Reader(user, account, categories)


def _shared(corpus: Corpus, user: EvalUser, window: set[str]) -> set[str]:
    return {pid for pid in window if user.coauthors & corpus.names[pid]}


def evaluate_recs_service(cutoff: str, data_dir: str | Path | None = None, limit: int | None = None, seed: int = 0,
                          workdir: str | Path | None = None, variants: dict[str, ForYouSettings] | None = None,
                          asl: bool = True, progress: Progress = None, on_start: Callable | None = None,
                          say: Callable[[str], None] = lambda _: None) -> dict:
    """Run the protocol through the service at ``cutoff``. ``workdir``: where the built store is kept
    (and reused by the next run at the same cutoff); default a temporary folder, removed at the end.
    ``variants``: For-you lists to compare (default :func:`default_variants`); the first is the one
    tested against every other method."""
    from papersift.evaluate.recs import _data_dir

    when = parse_cutoff(cutoff)
    if limit is not None and limit < 1:
        raise BadInput("--limit must be at least 1 (users)")
    variants = variants or default_variants()
    folder = _data_dir(data_dir)
    started = time.perf_counter()
    start, end = window_bounds(when)
    corpus = read_papers(folder, end)
    window = {pid for pid, day in corpus.listed.items() if day >= start}
    if not window:
        raise BadInput(f"no paper is listed from {start} to {end} in {folder}: pick a cutoff inside the listings")
    eligible = select_users(corpus, when)
    if not eligible:
        raise BadInput(f"no author has enough papers before {start} and one from {start} to {end}")
    users = sample_users(eligible, limit, seed)
    temporary = workdir is None
    work = Path(tempfile.mkdtemp(prefix="papersift-recs-")) if workdir is None else Path(workdir)
    try:
        site = build_site(folder, when, work / f"cutoff-{when.isoformat()}", say)
        run_db = site.folder / "run.db"
        _copy_db(site.db, run_db)
        svc = _papersift(run_db, site.index_dir)
        try:
            latest = svc.for_you.latest_day()
            methods = Methods(svc, corpus, when, variants, asl, seed)
            prepared = time.perf_counter() - started
            if on_start:
                on_start(len(users))
            per_user = _score_users(svc, methods, corpus, users, window, progress)
        finally:
            svc.close()
            for leftover in run_db.parent.glob(run_db.name + "*"):
                leftover.unlink()
    finally:
        if temporary:
            shutil.rmtree(work, ignore_errors=True)
    ours = next(iter(variants))
    return {
        "cutoff": when.isoformat(), "window": list(window_days(when)), "latest_day": latest,
        "for_you_periods": [{"from": a, "to": b, "lists": n} for (a, b), n in methods.periods.items()],
        "window_papers": len(window), "store_papers": site.papers, "eligible_users": len(eligible),
        "users": len(users), "seed": seed, "ours": ours, "baselines": methods.baselines(),
        "variants": {v: {"users": len(next(iter(rows.values()), [])), "methods": summarise(rows),
                         "paired": _paired(rows, ours, [m for m in methods.names() if m != ours])}
                     for v, rows in per_user.items()},
        "method_ms": {name: _ms(values) for name, values in methods.seconds.items()},
        "build_seconds": round(site.seconds, 1), "store_reused": site.seconds == 0.0, "prepare_seconds": round(prepared, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }


def _score_users(svc: Papersift, methods: Methods, corpus: Corpus, users: list[EvalUser], window: set[str],
                 progress: Progress) -> dict[str, dict[str, list[dict[str, float]]]]:
    """{variant: {method: per-user scores}}: each user's lists from every method, scored on both variants
    (all window papers; without the papers that share a co-author with the profile)."""
    per_user: dict[str, dict[str, list[dict[str, float]]]] = {v: {m: [] for m in methods.names()} for v in VARIANTS}
    for i, user in enumerate(users):
        ranked = methods.rank(_reader(svc, i, user, methods.by_id))
        numbers = {pid: n for n, pid in enumerate(dict.fromkeys(
            [*user.relevant, *(p for r in ranked.values() for p in r)]))}
        relevant = {numbers[p] for p in user.relevant}
        shared = {numbers[p] for p in _shared(corpus, user, window) if p in numbers}
        kept = relevant - shared
        for name, ids in ranked.items():
            rows = [numbers[p] for p in ids]
            per_user[VARIANTS[0]][name].append(user_scores(rows, relevant))
            if kept:
                per_user[VARIANTS[1]][name].append(user_scores([r for r in rows if r not in shared], kept))
        if progress:
            progress(1)
    return per_user


def _paired(rows: dict[str, list[dict[str, float]]], ours: str, others: list[str]) -> dict:
    """For you against each other method: the paired bootstrap of the per-user difference, every metric."""
    if not rows[ours]:
        return {}
    return {other: {m: paired_bootstrap([r[m] for r in rows[ours]], [r[m] for r in rows[other]])
                    for m in METRIC_NAMES} for other in others}


def _ms(seconds: list[float]) -> dict:
    ms = np.array(seconds) * 1000
    return {"median": float(np.median(ms)) if ms.size else None, "p99": float(np.percentile(ms, 99)) if ms.size else None}
