"""The corpus: papers, their indexes, and how they get in.

`Corpus` ties one store to its derived indexes: ingest, harvest, index, and the viewer-blind
reads (search, similar, paper, daily) that the front door (``papersift.service.Papersift``)
builds its viewer-aware answers from. Interfaces never call it directly.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterable, Literal

from papersift.config import Settings, load_settings
from papersift.errors import BadInput, DiskFull, NotFound, Unavailable
from papersift.feed.daily import FeedPage, daily_papers, parse_period, period_for_date
from papersift.index.indexes import Indexes
from papersift.index.vectors.vector_file import writer_lock_held
from papersift.ingest import arxiv, arxiv_rss, beir, hf
from papersift.ingest.http import stoppable_sleep
from papersift.ingest.jsonl import JsonlReader, Unreadable, read_jsonl
from papersift.model import Paper, UpsertResult, normalize_paper_id
from papersift.query import Filters
from papersift.search.searcher import MODES, Searcher, SearchResults
from papersift.store import Store, default_index_dir, open_store

Progress = Callable[[int], None] | None

FILE_KINDS = {
    "hf-daily": hf.parse_hf_jsonl,
    "arxiv-jsonl": arxiv.parse_arxiv_jsonl,
}


@dataclass
class IngestReport:
    read: int = 0
    bad: list[tuple[int, str]] = field(default_factory=list)
    result: UpsertResult = field(default_factory=UpsertResult)
    indexed: int = 0
    stopped: tuple[int, str] | None = None  # (line, why): the file could not be read past that line

    def as_dict(self) -> dict:
        stopped = {"line": self.stopped[0], "error": self.stopped[1]} if self.stopped else None
        return {"read": self.read, **self.result.as_dict(), "bad": len(self.bad),
                "bad_lines": [{"line": n, "error": m} for n, m in self.bad[:100]], "indexed": self.indexed,
                "stopped": stopped}

    def summary(self) -> str:
        data = self.as_dict()
        return (f"read {data['read']}: {data['inserted']} new, {data['updated']} updated, "
                f"{data['unchanged']} unchanged, {data['bad']} bad; {data['indexed']} indexed")


@dataclass(frozen=True)
class Coverage:
    """How much of the corpus semantic search covers: ``indexed`` papers with a vector of ``papers``
    in the store; ``behind``: store changes the vector index has not absorbed yet. ``indexed`` and
    ``behind`` are None when this server has no embedder or has not opened its indexes yet."""

    enabled: bool  # an embedder is configured: semantic search exists on this server
    papers: int
    indexed: int | None = None
    behind: int | None = None

    @property
    def complete(self) -> bool | None:
        """Whether the vectors have caught up with the store (None: no semantic search, or not known
        yet). Caught up is not ``indexed == papers``: a paper without title or abstract has no vector."""
        return None if not self.enabled or self.behind is None else self.behind == 0

    @property
    def catching_up(self) -> bool:
        """Papers are waiting for their vectors: search finds them by keyword only for now."""
        return self.complete is False

    def as_dict(self) -> dict:
        return {"enabled": self.enabled, "indexed": self.indexed, "papers": self.papers,
                "complete": self.complete}


class Corpus:
    def __init__(self, db: str | Path | None = None, index_dir: str | Path | None = None,
                 embedder: str | Literal[False] | None = None, follower: bool = False, *, settings: Settings | None = None):
        """``db`` and ``index_dir`` override ``settings`` (``load_settings()`` when not given: defaults,
        papersift.toml, the environment); ``embedder``: a spec for load_embedder, None for the
        configured one, False for lexical only; ``follower``: another process on this machine keeps
        the indexes current (``serve --workers``): open them read-only and follow its commits
        (``indexes.refresh()``)."""
        settings = settings if settings is not None else load_settings()
        self.follower = follower
        self.db = str(db or settings.db)
        self.store: Store = open_store(self.db, pool_size=settings.db_pool_size, pool_timeout=settings.db_pool_timeout)
        # given > the index_dir setting > the store's default (beside a SQLite file)
        self.index_dir = Path(index_dir or settings.index_dir or default_index_dir(self.db))
        self._embedder_spec = settings.embedder if embedder is None else embedder
        self._threads, self._cache, self._device = settings.threads, settings.cache, settings.embed_device
        self._indexes: Indexes | None = None
        self._searcher: Searcher | None = None
        self._opening = threading.RLock()
        self._counted: tuple[int, int] = (-1, 0)  # (store change, papers): a count per page is not free

    # ---- lazily opened parts (the CLI's `ingest` never needs the model)
    @property
    def indexes(self) -> Indexes:
        # one Indexes per corpus even when the first requests arrive together: a second one would
        # load the model twice and find the vector folder locked by the first
        with self._opening:
            if self._indexes is None:
                embedder = None
                if self._embedder_spec is not False:
                    from papersift.embed.load import load_embedder

                    embedder = load_embedder(self._embedder_spec or None, threads=self._threads, cache=self._cache,
                                             device=self._device)
                self._indexes = Indexes(self.store, self.index_dir, embedder, read_only=self.follower)
        return self._indexes

    @property
    def opened_indexes(self) -> Indexes | None:
        """The indexes if something opened them already (None: not yet; nothing is loaded here)."""
        return self._indexes

    @property
    def searcher(self) -> Searcher:
        if self._searcher is None:
            self._searcher = Searcher(self.indexes)
        return self._searcher

    def close(self) -> None:
        if self._indexes is not None:
            self._indexes.close()  # saves the vector graph if it grew
        self.store.close()

    def count_papers(self) -> int:
        """Papers in the store, counted again only after a write (``max_seq`` is one index lookup; a
        COUNT over 200K rows is not, and the coverage banner asks on every search page)."""
        seq = self.store.max_seq()
        counted_at, papers = self._counted
        if seq != counted_at:
            papers = self.store.count_papers()
            self._counted = (seq, papers)
        return papers

    def coverage(self) -> Coverage:
        """How far the vector index covers the store; opens nothing (loading the model is seconds):
        before something opened the indexes (the server's indexer does at start) the rows are unknown."""
        enabled = self._embedder_spec is not False
        papers = self.count_papers()
        indexes = self._indexes
        if not enabled or indexes is None or indexes.vectors is None:
            return Coverage(enabled, papers)
        return Coverage(True, papers, indexed=len(indexes.vectors), behind=indexes.pending_vectors())

    # ---- ingestion
    def ingest_records(self, rows: Iterable[tuple[int, Paper | BadInput]], limit: int | None = None,
                       progress: Progress = None, batch: int = 500) -> IngestReport:
        """Upsert (line, record) pairs in transactional batches; bad records are reported and skipped."""
        if limit is not None and limit < 1:
            raise BadInput("--limit must be at least 1")
        report = IngestReport()
        pending: list[Paper] = []
        for line, record in rows:
            if limit is not None and report.read >= limit:
                break
            if isinstance(record, Unreadable):  # the end of the input, not a record
                report.stopped = (line, record.message)
                break
            report.read += 1
            if isinstance(record, BadInput):
                report.bad.append((line, record.message))
            else:
                pending.append(record)
            if len(pending) >= batch:
                self._store_batch(pending, report)
                pending = []
            if progress:
                progress(1)
        if pending:
            self._store_batch(pending, report)
        return report

    def _store_batch(self, papers: list[Paper], report: IngestReport) -> None:
        try:
            report.result += self.store.upsert_papers(papers)
        except DiskFull as exc:  # the batches before it are committed: say so, and how to go on
            kept = report.result.inserted + report.result.updated + report.result.unchanged
            raise DiskFull(f"{exc.message}: the {kept} records before this batch of {len(papers)} are stored; "
                           "run the same command again once there is room (stored records stay as they are)") from None

    def ingest_file(self, kind: str, path: str | Path, limit: int | None = None,
                    progress: Progress = None, index: bool = True, in_bytes: bool = False) -> IngestReport:
        """``in_bytes``: ``progress`` counts the file's bytes read (of :meth:`file_size`) instead of records:
        counting a gzipped file's records first would read it twice."""
        rows = _file_rows(kind, path)
        counted = _BytesRead(rows, progress) if in_bytes and progress is not None else None
        report = self.ingest_records(rows, limit=limit, progress=counted or progress)
        if counted is not None:
            counted.finish()
        if index:
            report.indexed = self.indexes_lexical_only().sync_lexical()
        return report

    def file_size(self, kind: str, path: str | Path) -> int:
        """The bytes :meth:`ingest_file` will read (compressed ones for gzip): a progress bar's total."""
        return _file_rows(kind, path).total_bytes

    def papers_to_index(self, embed: bool = True, rebuild: bool = False) -> int:
        """How many papers :meth:`index` goes through (each index's changed papers; all of them for the
        vectors of a rebuild): the CLI's progress total. ``embed`` loads the model, as indexing will."""
        if rebuild:
            return self.store.count_papers() if embed else 0
        lexical, vectors = self._indexes_to_sync(embed).papers_behind()
        return lexical + (vectors if embed else 0)

    def indexes_lexical_only(self) -> Indexes:
        """The indexes without loading the embedding model (cheap catch-up after ingest)."""
        if self._indexes is not None:
            return self._indexes
        return Indexes(self.store, self.index_dir, embedder=None)

    def harvest_arxiv(self, from_date: str | None = None, until_date: str | None = None,
                      set_spec: str | None = "cs", base_url: str | None = None,
                      max_pages: int | None = None, progress: Progress = None,
                      stop: threading.Event | None = None) -> IngestReport:
        """OAI-PMH harvest. Each page and its resumption cursor commit together, so a killed harvest
        resumes at the next page. Without ``from_date`` it continues from the day the last complete
        harvest of this set reached (or three days back on the first run). ``stop``: setting it ends
        a wait between pages or before a retry at once (raising ``Stopped``)."""
        for value in (from_date, until_date):
            if value is not None:
                _check_date(value)
        last_name = f"arxiv-oai-last:{set_spec or '*'}"
        if from_date is None:
            last = self.store.get_cursor(last_name)
            from_date = last["until"] if last else days_back(3)[0]
        name = f"arxiv-oai:{set_spec or '*'}:{from_date}:{until_date or ''}"
        cursor = self.store.get_cursor(name)
        harvester = arxiv.OAIHarvester(base_url or arxiv.DEFAULT_OAI_URL, **_waits(stop))
        report = IngestReport()
        pages, finished = 0, True
        for page in harvester.harvest(from_date, until_date, set_spec, cursor=cursor):
            report.read += len(page.papers) + len(page.bad)
            report.bad.extend((n, e.message) for n, e in page.bad)
            # The last page stores no cursor: a later run with the same arguments starts afresh.
            report.result += self.store.upsert_papers(page.papers, cursor=(name, page.cursor))
            pages += 1
            if progress:
                if page.total is not None and hasattr(progress, "total"):  # a bar that can show it
                    progress.total(page.total)
                progress(len(page.papers))
            if max_pages is not None and pages >= max_pages and page.cursor:
                finished = False
                break
        if finished:
            reached = until_date or datetime.now(timezone.utc).date().isoformat()
            self.store.upsert_papers([], cursor=(last_name, {"until": reached}))
        report.indexed = self.indexes_lexical_only().sync_lexical()
        return report

    def harvest_arxiv_listings(self, categories: list[str], fmt: str = "rss", base_url: str | None = None,
                               progress: Progress = None, stop: threading.Event | None = None) -> IngestReport:
        """arXiv's daily listing of ``categories`` (its RSS/Atom feed: today's new papers, cross-lists
        and replacements, with their exact listing day), in one transaction. Fetching the same day's
        listing again changes nothing."""
        with arxiv_rss.ArxivListingClient(base_url or arxiv_rss.DEFAULT_RSS_URL, **_waits(stop)) as client:
            listing = client.listing(list(categories), fmt)
        report = IngestReport(read=len(listing.items) + len(listing.bad))
        report.bad.extend((n, e.message) for n, e in listing.bad)
        report.result += self.store.upsert_papers(item.paper for item in listing.items)
        if progress:
            progress(len(listing.items))
        report.indexed = self.indexes_lexical_only().sync_lexical()
        return report

    def fetch_arxiv_record(self, paper_id: str, base_url: str | None = None) -> Paper:
        """One paper from arXiv's OAI-PMH GetRecord (a submission of a paper new here); NotFound
        when arXiv has none. The same client, retries and parsing as the harvest."""
        with arxiv.OAIHarvester(base_url or arxiv.DEFAULT_OAI_URL, timeout=30, max_attempts=3, max_wait=10) as client:
            return client.get_record(paper_id)

    def harvest_hf(self, days: Iterable[str], base_url: str | None = None, progress: Progress = None,
                   stop: threading.Event | None = None, links: bool = True) -> IngestReport:
        """Fetch Daily Papers day by day; a day the API rejects is reported and skipped. ``links``: ask
        for each paper's linked models, datasets and Spaces too (one more request a paper). ``stop`` as
        for :meth:`harvest_arxiv`."""
        days = list(days)
        for day in days:
            _check_date(day)
        options = _waits(stop)
        if base_url:
            options["base_url"] = base_url
        client = hf.HFDailyClient(**options)
        report = IngestReport()
        for number, day in enumerate(days, 1):
            try:
                papers = client.fetch_day(day)
                if links:
                    papers = client.fetch_links(papers)
            except BadInput as exc:
                report.bad.append((number, f"{day}: {exc.message}"))
                continue
            report.read += len(papers)
            report.result += self.store.upsert_papers(papers)
            if progress:
                progress(1)
        report.bad.extend((pos, f"{day} item {pos}: {msg}") for day, pos, msg in client.bad)
        report.indexed = self.indexes_lexical_only().sync_lexical()
        return report

    # ---- indexing
    def index(self, progress: Progress = None, limit: int | None = None, rebuild: bool = False,
              embed: bool = True) -> dict[str, int | str | None]:
        indexes = self._indexes_to_sync(embed)
        if rebuild:
            indexes.rebuild_lexical()
            lexical = len(indexes.lexical) if hasattr(indexes.lexical, "__len__") else indexes.lexical.count()
            vectors = indexes.rebuild_vectors(progress) if embed else 0
        else:
            lexical = indexes.sync_lexical(progress)
            vectors = indexes.sync_vectors(progress, limit=limit) if embed else 0
        device = indexes.embedder.device if embed and indexes.embedder is not None else None
        return {"lexical": lexical, "vectors": vectors, "papers": self.store.count_papers(), "device": device}

    def _indexes_to_sync(self, embed: bool) -> Indexes:
        if embed and self._indexes is None and self._embedder_spec is not False and not self.follower:
            self._refuse_a_second_vector_writer()
        return self.indexes if embed else self.indexes_lexical_only()

    def _refuse_a_second_vector_writer(self) -> None:
        """Another process writing the vector folder (a running server keeps it current) would let
        this one load the model and embed a batch, only to fail at its first write: say so first."""
        folder = self.index_dir / "vectors"
        if writer_lock_held(folder):
            raise Unavailable(f"another papersift process (a running server?) is updating the vector index in "
                              f"{folder} and indexes new papers itself: stop it to index from here")

    # ---- queries
    def search(self, query: str, filters: Filters | None = None, mode: str = "hybrid",
               sort: str = "relevance", page: int = 1, per_page: int = 10) -> SearchResults:
        if mode not in MODES:
            raise BadInput(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        if mode == "bm25" and self._searcher is None:
            # Keyword search never needs the embedding model: don't pay for loading it.
            return Searcher(self.indexes_lexical_only()).search(query, filters, mode=mode, sort=sort,
                                                                  page=page, per_page=per_page)
        return self.searcher.search(query, filters, mode=mode, sort=sort, page=page, per_page=per_page)

    def similar(self, paper_id: str, k: int = 10, filters: Filters | None = None):
        self.paper(paper_id)  # a clear 404 before the model is loaded
        return self.searcher.similar(paper_id, k=k, filters=filters)

    def paper(self, paper_id: str) -> Paper:
        pid = normalize_paper_id(paper_id)
        paper = self.store.get_paper(pid)
        if paper is None:
            raise NotFound(f"no paper {pid}")
        return paper

    def daily(self, date_: str | None = None, week: str | None = None, month: str | None = None,
              sort: str = "trending", page: int = 1, limit: int = 50, store: Store | None = None) -> FeedPage:
        """``store``: a view of the store to rank from (the website passes one that adds its
        local votes and leaves hidden papers out); the plain store by default."""
        store = store or self.store
        given = [(k, v) for k, v in (("date", date_), ("week", week), ("month", month)) if v]
        if len(given) > 1:
            raise BadInput("give only one of date, week, month")
        if given:
            period = parse_period(*given[0])
        else:
            # the latest day a source listed papers on: one local submission never makes "today" a feed of one
            latest = store.latest_feed_day(harvested=True) or store.latest_feed_day()
            period = parse_period("date", latest) if latest else period_for_date(datetime.now(timezone.utc).date())
        return daily_papers(store, period, sort=sort, page=page, limit=limit)


def _file_rows(kind: str, path: str | Path) -> JsonlReader:
    path = Path(path)
    if kind == "beir":
        return beir.read_beir_corpus(path)
    if kind not in FILE_KINDS:
        raise BadInput(f"unknown source kind {kind!r}")
    if not path.is_file():
        raise BadInput(f"no such file: {path}")
    return read_jsonl(path, FILE_KINDS[kind])


class _BytesRead:
    """A records progress turned into the reader's bytes: ``progress`` gets the bytes read since its last call."""

    def __init__(self, reader: JsonlReader, progress: Callable[[int], None]):
        self.reader, self.progress, self.done = reader, progress, 0

    def __call__(self, _records: int) -> None:
        now = self.reader.bytes_read
        if now > self.done:
            self.progress(now - self.done)
            self.done = now

    def finish(self) -> None:  # the last buffered block: a file read to its end reports all its bytes
        self(0)


def _check_date(value: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise BadInput(f"bad date {value[:40]!r}: expected YYYY-MM-DD") from None


def _waits(stop: threading.Event | None) -> dict:
    """A live source's waits (retries, pauses between pages): cut short once ``stop`` is set."""
    return {"sleep": stoppable_sleep(stop)} if stop is not None else {}


def days_back(n: int, until: date | None = None) -> list[str]:
    until = until or datetime.now(timezone.utc).date()
    return [(until - timedelta(days=i)).isoformat() for i in range(n)][::-1]

