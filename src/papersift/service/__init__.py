"""The front door: the one object that every interface calls.

The CLI, the HTTP server, the JSON API, the website, RSS/Atom, the digests (and the MCP server
to come) go through :class:`Papersift` and nothing below it. It owns the corpus (the store, its
indexes and the searcher), accounts, votes, the library and moderation. Its read methods take the
**viewer** (``None`` for anonymous, a :class:`~papersift.model.User`, or an admin) and decide in
one place what that viewer may see:

* papers an admin hid are left out everywhere (404 when asked for by id); admins still see them;
* displayed upvotes are the source's plus this site's votes, and votes of hidden users do not
  count: one number on every page, feed, API answer and command;
* saved / voted marks are the viewer's own (``catalog``'s views).

The viewer-blind parts (``corpus``: ingest, harvest, index, raw search) stay inside the service
package. Everything that returns cards for pages (votes, saves, snippets) is on ``catalog``;
writes by a person (vote, save, submit, hide) are on ``actions``; log-in, sessions and tokens on
``accounts``; email subscriptions on ``papersift.service.subscriptions``; signals ("more",
"not for me"), their export and deletion, and recommendations on ``for_you``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from papersift.feed.daily import FeedPage
from papersift.index.query import Filters
from papersift.model import Paper, User
from papersift.search.searcher import Hit, SearchResults
from papersift.service.accounts import Accounts
from papersift.service.actions import Actions
from papersift.service.catalog import Catalog
from papersift.service.corpus import Corpus, IngestReport, days_back, default_db
from papersift.service.exports import Exports
from papersift.service.personal import Personal
from papersift.service.recommendations import Recommendations

__all__ = ["Papersift", "Corpus", "IngestReport", "days_back", "default_db"]

Viewer = User | None  # None: anonymous


class Papersift:
    def __init__(self, db: str | Path | None = None, index_dir: str | Path | None = None,
                 embedder: str | None | bool = None, *, password_hasher=None, arxiv_oai_url: str | None = None,
                 follower: bool = False):
        """``db``: a SQLite path or URL (``PAPERSIFT_DB`` by default); ``index_dir``: where the derived
        indexes live (beside the database file by default); ``embedder``: a spec for load_embedder,
        None for the default, False for keyword search only; ``follower``: a web worker beside the
        machine's indexer process (indexes read-only, following its commits)."""
        self.corpus = Corpus(db, index_dir, embedder, follower=follower)
        self.store = self.corpus.store
        self.catalog = Catalog(self.corpus)
        self.for_you = Recommendations(self.corpus, self.catalog)  # signals and recommendations
        self.exports = Exports(self.catalog)  # which papers an export holds (formats.exports writes the file)
        self.personal = Personal(self.corpus, self.catalog)  # cold start, the private feed, one signal
        self.configure(password_hasher=password_hasher, arxiv_oai_url=arxiv_oai_url)

    def configure(self, password_hasher=None, arxiv_oai_url: str | None = None) -> "Papersift":
        """Set the password hasher (tests use a lighter argon2 cost) and the arXiv endpoint that
        submissions fetch from; returns the service."""
        self.accounts = Accounts(self.store, password_hasher)
        self.actions = Actions(self.corpus, self.catalog, arxiv_oai_url)
        return self

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

    def indexes_lexical_only(self):
        return self.corpus.indexes_lexical_only()

    def ingest_records(self, *args, **kwargs) -> IngestReport:
        return self.corpus.ingest_records(*args, **kwargs)

    def ingest_file(self, *args, **kwargs) -> IngestReport:
        return self.corpus.ingest_file(*args, **kwargs)

    def harvest_arxiv(self, *args, **kwargs) -> IngestReport:
        return self.corpus.harvest_arxiv(*args, **kwargs)

    def harvest_hf(self, *args, **kwargs) -> IngestReport:
        return self.corpus.harvest_hf(*args, **kwargs)

    def index(self, *args, **kwargs) -> dict[str, int]:
        return self.corpus.index(*args, **kwargs)

    def load_initial_papers(self, **kwargs) -> str:
        """The quick start's first load (live Hugging Face, else the local archive); the message to show."""
        from papersift.service.bootstrap import load_initial_papers

        return load_initial_papers(self.corpus, **kwargs)

    def digest_builder(self, config):
        """Chooses each subscriber's papers for a period into the outbox (the email interface sends them)."""
        from papersift.service.digests import DigestBuilder

        return DigestBuilder(self.corpus, config, self.for_you.digest_picks)

    def index_status(self) -> dict:
        """This process's role for the indexes and how far behind the store they are (for health checks;
        opens nothing: before the first search the lags are unknown)."""
        indexes = self.corpus.opened_indexes
        status = {"role": "follower" if self.corpus.follower else "indexer", "lexical_behind": None,
                  "vectors_behind": None}
        if indexes is not None:
            status["lexical_behind"] = indexes.pending_lexical()
            status["vectors_behind"] = indexes.pending_vectors() if indexes.vectors is not None else None
        return status

    def close(self) -> None:
        self.corpus.close()

    # ---- reads, as the viewer may see them
    def search(self, query: str, filters: Filters | None = None, mode: str = "hybrid", sort: str = "relevance",
               page: int = 1, per_page: int = 10, viewer: Viewer = None) -> SearchResults:
        view = self.catalog.search(viewer, query, filters, sort=sort, page=page, per_page=per_page, mode=mode)
        hits = [_with_upvotes(hit, card.upvotes) for hit, card in zip(view.results.hits, view.cards, strict=False)]
        return dataclasses.replace(view.results, hits=hits)

    def similar(self, paper_id: str, k: int = 10, filters: Filters | None = None, viewer: Viewer = None) -> list[Hit]:
        return [_with_upvotes(hit, card.upvotes) for hit, card in self.catalog.similar(viewer, paper_id, k, filters)]

    def paper(self, paper_id: str, viewer: Viewer = None) -> Paper:
        card = self.catalog.card(viewer, paper_id)
        return dataclasses.replace(card.paper, upvotes=card.upvotes)

    def daily(self, date_: str | None = None, week: str | None = None, month: str | None = None,
              sort: str = "trending", page: int = 1, limit: int = 50, viewer: Viewer = None) -> FeedPage:
        return self.catalog.feed_page(viewer, date_, week, month, sort=sort, page=page, limit=limit)


def _with_upvotes(hit: Hit, upvotes: int) -> Hit:
    return dataclasses.replace(hit, paper=dataclasses.replace(hit.paper, upvotes=upvotes))
