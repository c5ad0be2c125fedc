"""The front door: the one object that every interface calls.

The CLI, the HTTP server, the JSON API, the website, RSS/Atom, the email digests and the MCP server
go through :class:`Papersift` and nothing below it; this package is all they import of it (the
names they need are re-exported below). It owns the corpus (the store, its indexes and the
searcher), accounts, votes, the library, moderation and email. Its read methods take the
**viewer** (``None`` for anonymous, a :class:`~papersift.model.User`, or an admin) and decide in
one place (``catalog.py``) what that viewer may see:

* papers an admin hid are left out everywhere (404 when asked for by id); admins still see them;
* displayed upvotes are the source's plus this site's votes, and votes of hidden users do not
  count: one number on every page, feed, API answer, email and command;
* saved / voted marks are the viewer's own (``catalog``'s views).

The viewer-blind parts (``corpus``: ingest, harvest, index, raw search) stay inside the service
package. Everything that returns cards for pages (votes, saves, snippets) is on ``catalog``;
writes by a person (vote, save, submit, hide) are on ``actions``; log-in, sessions and tokens on
``accounts``; subscriptions, digests and the outbox on ``mail``; signals ("more", "not for me"),
their export and deletion, and recommendations on ``for_you``; "New on arXiv" and the categories a
reader follows on ``arxiv``; who submitted what on ``submissions``.
"""

from __future__ import annotations

import dataclasses
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable, Literal

from argon2 import PasswordHasher

from papersift.config import Settings, load_settings
from papersift.errors import BadInput
from papersift.feed.arxiv import MAX_CATEGORIES, TABS as ARXIV_TABS
from papersift.feed.daily import (
    FeedItem,
    FeedPage,
    Period,
    parse_period,
    period_for_date,
    period_for_month,
    period_for_week,
)
from papersift.model import Paper, User
from papersift.query import Filters
from papersift.search.searcher import Hit, SearchResults
from papersift.service.accounts import SESSION_LIFETIME, Accounts
from papersift.service.actions import Actions
from papersift.service.authorship import Authorship
from papersift.service.catalog import Card, Catalog, Listing, check_page
from papersift.service.collections import Collections, collection_slug, slug_words
from papersift.service.corpus import Corpus, Coverage, IngestReport, Progress, days_back
from papersift.service.digests import BuildReport, due_periods, feed_path
from papersift.service.discussion import Discussion
from papersift.service.exports import MAX_PAPERS, MAX_RESULTS, Exports, ExportTarget
from papersift.service.listings import ArxivView, Listings
from papersift.service.mail import DigestPapers, Mail, Outbox
from papersift.service.outbound import Refused, post as post_signed, verify_signature
from papersift.service.personal import LIBRARY_MAX_BYTES, MAX_PICKS, Personal
from papersift.service.recommendations import Recommendations
from papersift.service.submissions import Submissions
from papersift.service.subscriptions import CADENCES, Choices, Outcome, Subscriptions, clean_choices
from papersift.service.webhooks import HookDelivery, Webhooks

__all__ = [
    "Papersift", "Corpus", "Coverage", "IngestReport", "days_back", "migrate_store",
    # what the interfaces show and take, re-exported so that they import nothing else of the service
    "Card", "Listing", "check_page", "FeedItem", "FeedPage", "Period", "parse_period", "period_for_date", "period_for_week",
    "period_for_month", "ExportTarget", "MAX_PAPERS", "MAX_RESULTS", "LIBRARY_MAX_BYTES", "MAX_PICKS",
    "SESSION_LIFETIME", "CADENCES", "Choices", "Outcome", "Subscriptions", "clean_choices", "BuildReport",
    "due_periods", "feed_path", "Mail", "Outbox", "DigestPapers", "ArxivView", "ARXIV_TABS", "MAX_CATEGORIES",
    "collection_slug", "slug_words", "HookDelivery", "Refused", "post_signed", "verify_signature",
]

Viewer = User | None  # None: anonymous
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Papersift:
    def __init__(self, db: str | Path | None = None, index_dir: str | Path | None = None,
                 embedder: str | Literal[False] | None = None, *, settings: Settings | None = None, follower: bool = False,
                 password_hasher: PasswordHasher | None = None, clock: Clock = utc_now):
        """``settings``: every setting (``load_settings()`` when not given: defaults, papersift.toml, the
        environment); ``db`` and ``index_dir`` override its own; ``embedder``: a spec for load_embedder,
        None for the configured one, False for keyword search only; ``follower``: a web worker beside the
        machine's indexer process (indexes read-only, following its commits); ``password_hasher``: argon2
        parameters (tests use a lighter cost); ``clock``: now, for subscriptions, email links and the outbox."""
        settings = settings if settings is not None else load_settings()
        if db is not None or index_dir is not None:
            settings = dataclasses.replace(settings, db=str(db or settings.db),
                                           index_dir=str(index_dir or settings.index_dir))
        self.settings = settings
        self.corpus = Corpus(embedder=embedder, follower=follower, settings=settings)
        self.store = self.corpus.store  # for tests and tools at the shell; interfaces call the methods below
        self.catalog = Catalog(self.corpus)
        self.for_you = Recommendations(self.corpus, self.catalog)  # signals and recommendations
        self.arxiv = Listings(self.catalog, self.for_you.scores)  # "New on arXiv", followed categories
        self.exports = Exports(self.catalog)  # which papers an export holds (formats.exports writes the file)
        self.personal = Personal(self.corpus, self.catalog)  # cold start, the private feed, one signal
        self.accounts = Accounts(self.store, password_hasher)
        self.actions = Actions(self.corpus, self.catalog, settings)
        self.mail = Mail(self.corpus, self.catalog, settings, self.for_you.digest_picks, clock)
        self.submissions = Submissions(self.catalog)  # one submitter's papers, a paper's submitter
        self.authors = Authorship(self.catalog, settings, clock)  # claimed authorship, profiles, handles
        self.discussion = Discussion(self.catalog, settings, clock, self.authors)  # comments, moderation
        self.collections = Collections(self.catalog, settings, clock)  # collections, the library among them
        self.exports.collections = self.collections
        self.webhooks = Webhooks(self.catalog, settings, clock)  # a reader's digest, also to their URLs
        self.mail.attach_webhooks(self.webhooks)
        self.accounts.assign_missing_usernames()

    # ---- the corpus: where the papers and indexes are, and how papers get in
    @property
    def db(self) -> str:
        return self.corpus.db

    @property
    def index_dir(self) -> Path:
        return self.corpus.index_dir

    @property
    def indexes(self):
        return self.corpus.indexes

    @property
    def follower(self) -> bool:
        """Whether another process on this machine keeps the indexes current (this one follows)."""
        return self.corpus.follower

    def warm_up(self) -> None:
        """Open the indexes (and the model) and run one query through them, before serving."""
        self.corpus.searcher.warm_up()

    def indexes_lexical_only(self):
        return self.corpus.indexes_lexical_only()

    def count_papers(self) -> int:
        return self.corpus.count_papers()

    def semantic_coverage(self) -> Coverage:
        """How much of the corpus semantic search covers while papers wait for their vectors (health,
        the website's banner, For you, the CLI); cheap enough for every page, opens nothing."""
        return self.corpus.coverage()

    def schema_version(self) -> int:
        return self.store.schema_version()

    def ingest_records(self, rows: Iterable[tuple[int, Paper | BadInput]], limit: int | None = None,
                       progress: Progress = None, batch: int = 500) -> IngestReport:
        return self.corpus.ingest_records(rows, limit=limit, progress=progress, batch=batch)

    def ingest_file(self, kind: str, path: str | Path, limit: int | None = None, progress: Progress = None,
                    index: bool = True, in_bytes: bool = False) -> IngestReport:
        """``in_bytes``: ``progress`` counts bytes of :meth:`file_size` read, not records."""
        return self.corpus.ingest_file(kind, path, limit=limit, progress=progress, index=index, in_bytes=in_bytes)

    def file_size(self, kind: str, path: str | Path) -> int:
        return self.corpus.file_size(kind, path)

    def papers_to_index(self, embed: bool = True, rebuild: bool = False) -> int:
        """How many papers :meth:`index` will go through (a progress bar's total)."""
        return self.corpus.papers_to_index(embed=embed, rebuild=rebuild)

    def harvest_arxiv(self, from_date: str | None = None, until_date: str | None = None,
                      set_spec: str | None = "cs", base_url: str | None = None, max_pages: int | None = None,
                      progress: Progress = None, stop: threading.Event | None = None) -> IngestReport:
        """``base_url``: the OAI-PMH endpoint (default: the ``arxiv_oai_url`` setting, else arXiv's)."""
        return self.corpus.harvest_arxiv(from_date, until_date, set_spec, base_url or self.settings.arxiv_oai_url,
                                         max_pages=max_pages, progress=progress, stop=stop)

    def harvest_arxiv_listings(self, categories: list[str], fmt: str = "rss", base_url: str | None = None,
                               progress: Progress = None, stop: threading.Event | None = None) -> IngestReport:
        """arXiv's daily RSS/Atom listing of ``categories``; ``base_url``: default the ``arxiv_rss_url``
        setting, else rss.arxiv.org."""
        return self.corpus.harvest_arxiv_listings(categories, fmt, base_url or self.settings.arxiv_rss_url or None,
                                                  progress=progress, stop=stop)

    def harvest_hf(self, days: Iterable[str], base_url: str | None = None, progress: Progress = None,
                   stop: threading.Event | None = None) -> IngestReport:
        """``base_url``: Hugging Face (default: the ``hf_url`` setting, else huggingface.co)."""
        return self.corpus.harvest_hf(days, base_url or self.settings.hf_url or None, progress=progress, stop=stop)

    def index(self, progress: Progress = None, limit: int | None = None, rebuild: bool = False,
              embed: bool = True) -> dict[str, int | str | None]:
        return self.corpus.index(progress=progress, limit=limit, rebuild=rebuild, embed=embed)

    def load_initial_papers(self, days: int = 7, limit: int | None = None, progress: Progress = None) -> str:
        """The quick start's first load (live Hugging Face, else the local archive); the message to show."""
        from papersift.service.bootstrap import load_initial_papers

        return load_initial_papers(self.corpus, days=days, limit=limit, progress=progress,
                                   hf_url=self.settings.hf_url or None, shared_data=self.settings.shared_data)

    def index_status(self) -> dict:
        """This process's role for the indexes and how far behind the store they are (for health checks;
        opens nothing: before the first search the lags are unknown)."""
        indexes = self.corpus.opened_indexes
        status: dict[str, str | int | None] = {"role": "follower" if self.corpus.follower else "indexer",
                                               "lexical_behind": None, "vectors_behind": None}
        if indexes is not None:
            status["lexical_behind"] = indexes.pending_lexical()
            status["vectors_behind"] = indexes.pending_vectors() if indexes.vectors is not None else None
        return status

    # ---- the scheduler's memory: when each job last ran
    def job_record(self, name: str) -> dict:
        return self.store.get_cursor(f"schedule:{name}") or {}

    def record_job(self, name: str, record: dict) -> None:
        self.store.set_cursor(f"schedule:{name}", record)

    def close(self) -> None:
        self.corpus.close()

    # ---- reads, as the viewer may see them
    def search(self, query: str, filters: Filters | None = None, mode: str = "hybrid", sort: str = "relevance",
               page: int = 1, per_page: int = 10, viewer: Viewer = None) -> SearchResults:
        view = self.catalog.search(viewer, query, filters, sort=sort, page=page, per_page=per_page, mode=mode)
        hits = [_with_counts(hit, card) for hit, card in zip(view.results.hits, view.cards, strict=False)]
        return dataclasses.replace(view.results, hits=hits)

    def similar(self, paper_id: str, k: int = 10, filters: Filters | None = None, viewer: Viewer = None) -> list[Hit]:
        return [_with_counts(hit, card) for hit, card in self.catalog.similar(viewer, paper_id, k, filters)]

    def paper(self, paper_id: str, viewer: Viewer = None) -> Paper:
        card = self.catalog.card(viewer, paper_id)
        return dataclasses.replace(card.paper, upvotes=card.upvotes, num_comments=_comments(card))

    def daily(self, date_: str | None = None, week: str | None = None, month: str | None = None,
              sort: str = "trending", page: int = 1, limit: int = 50, viewer: Viewer = None) -> FeedPage:
        return self.catalog.feed_page(viewer, date_, week, month, sort=sort, page=page, limit=limit)


def _comments(card: Card) -> int | None:
    """Imported plus this site's comments (None when neither source knows of any, as before)."""
    return card.comments if card.comments or card.paper.num_comments is not None else None


def _with_counts(hit: Hit, card: Card) -> Hit:
    return dataclasses.replace(hit, paper=dataclasses.replace(hit.paper, upvotes=card.upvotes,
                                                              num_comments=_comments(card)))


def migrate_store(source: str, target: str, batch: int, progress: Callable[[str, int, int], None] | None = None):
    """Copy the SQLite store ``source`` into the PostgreSQL database ``target`` (store/migrate.py):
    one report per table, and what is not copied and why. Imported here: psycopg is needed only then."""
    from papersift.store.migrate import NOT_COPIED, migrate_sqlite_to_postgres

    return migrate_sqlite_to_postgres(source, target, batch=batch, progress=progress), NOT_COPIED
