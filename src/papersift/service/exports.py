"""Which papers an export holds: a paper, a search's results, a feed period, a reader's library.

The front door's side of exports (``Papersift.exports``); the files themselves are written by
``papersift.formats`` (``formats.exports.render`` is the one call the interfaces make: the band
rule lets formats call the service, not the service call formats).

Hidden papers are never exported, whoever asks: an export leaves the site (a .bib file, a
spreadsheet), so the moderation view admins get on the pages does not extend to it. The viewer
matters for the library, which is the viewer's own (anonymous: 401). Displayed upvotes (source +
this site's votes) go into the papers, as on the pages. The sitemap's lists (public paper ids,
feed days with a visible paper) are here too, for the same reason.
"""

from __future__ import annotations

import dataclasses
import re
import threading
from dataclasses import dataclass
from typing import Any

from papersift.errors import BadInput, Unauthorized
from papersift.feed.arxiv import TABS, check_categories, new_on_arxiv
from papersift.feed.daily import parse_period
from papersift.model import Paper, User
from papersift.query import Filters
from papersift.search.searcher import MAX_PER_PAGE, MAX_RESULTS
from papersift.service.catalog import Catalog

KINDS = ("paper", "search", "date", "week", "month", "library", "arxiv", "collection")
FEED_SORTS = ("trending", "upvotes", "published")
SEARCH_SORTS = ("relevance", "date", "upvotes")
SEARCH_MODES = ("hybrid", "bm25", "dense")
MAX_PAPERS = 5000  # a feed period or a library beyond this is cut here (a month has ~600 feed papers)
SEARCH_LIMIT = 100  # results a search export holds unless asked for more (at most MAX_RESULTS)
_PAGE = 100
_UNSAFE = re.compile(r"[^A-Za-z0-9.]+")


@dataclass(frozen=True)
class ExportTarget:
    """What to export; build one with the class methods (they check their arguments)."""

    kind: str
    value: str = ""  # the paper id, the query, or the period's label
    filters: Filters | None = None
    sort: str | None = None
    limit: int | None = None
    mode: str = "hybrid"
    span: str | None = None  # "New on arXiv": date, week or month (``value`` is its label)
    categories: tuple[str, ...] = ()
    tab: str = "new"

    @classmethod
    def paper(cls, paper_id: str) -> "ExportTarget":
        return cls("paper", (paper_id or "").strip())

    @classmethod
    def search(cls, query: str, filters: Filters | None = None, sort: str = "relevance", limit: int | None = None,
               mode: str = "hybrid") -> "ExportTarget":
        if not (query or "").strip():
            raise BadInput("a search export needs a query")
        if sort not in SEARCH_SORTS:
            raise BadInput(f"unknown sort {str(sort)[:40]!r}: use {', '.join(SEARCH_SORTS)}")
        if mode not in SEARCH_MODES:
            raise BadInput(f"unknown mode {str(mode)[:20]!r}: use {', '.join(SEARCH_MODES)}")
        limit = SEARCH_LIMIT if limit is None else limit
        if not 1 <= limit <= MAX_RESULTS:
            raise BadInput(f"limit must be between 1 and {MAX_RESULTS}")
        return cls("search", query, (filters or Filters()).validate(), sort, limit, mode)

    @classmethod
    def period(cls, kind: str, label: str, sort: str = "trending") -> "ExportTarget":
        """``kind``: date, week or month; ``label``: 2026-05-15, 2026-W20 or 2026-05."""
        if kind not in ("date", "week", "month"):
            raise BadInput(f"unknown period {str(kind)[:20]!r}: use date, week or month")
        if sort not in FEED_SORTS:
            raise BadInput(f"unknown sort {str(sort)[:40]!r}: use {', '.join(FEED_SORTS)}")
        return cls(kind, (label or "").strip(), sort=sort)

    @classmethod
    def arxiv(cls, kind: str, label: str, categories: list[str] | tuple[str, ...] = (), tab: str = "new") -> "ExportTarget":
        """A period of "New on arXiv": one tab, in ``categories`` (all when empty)."""
        if kind not in ("date", "week", "month"):
            raise BadInput(f"unknown period {str(kind)[:20]!r}: use date, week or month")
        if tab not in TABS:
            raise BadInput(f"unknown tab {str(tab)[:20]!r}: use one of {', '.join(TABS)}")
        return cls("arxiv", (label or "").strip(), span=kind, categories=tuple(check_categories(categories)), tab=tab)

    @classmethod
    def library(cls) -> "ExportTarget":
        return cls("library")

    @classmethod
    def collection(cls, collection_id: int) -> "ExportTarget":
        return cls("collection", str(collection_id))


@dataclass
class Selection:
    papers: list[Paper]
    stem: str  # the file name without its extension (ASCII letters, digits, '.', '-')
    title: str  # what it is, in words


def file_stem(*parts: str) -> str:
    words = [_UNSAFE.sub("-", p).strip("-.")[:60].strip("-.") for p in parts]
    return "-".join(["papersift"] + [w for w in words if w])


def _unique(papers: list[Paper]) -> list[Paper]:
    return list({p.id: p for p in reversed(papers)}.values())[::-1]  # first place wins


class Exports:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.store = catalog.store
        self._ids: dict[str, None] = {}  # every paper id seen, in change order (public_paper_ids)
        self._ids_seq = 0
        self._ids_lock = threading.Lock()
        self.collections: Any = None  # the Collections part (who may see a collection), set by the front door

    def select(self, viewer: User | None, target: ExportTarget) -> Selection:
        if target.kind == "paper":
            (card,) = self.catalog.cards([self.catalog.visible_paper(target.value, None)], None)
            paper = dataclasses.replace(card.paper, upvotes=card.upvotes)
            return Selection([paper], file_stem(paper.id), paper.id if ":" in paper.id else f"arXiv:{paper.id}")
        if target.kind == "search":
            return self._search(target)
        if target.kind in ("date", "week", "month"):
            return self._period(target)
        if target.kind == "library":
            return self._library(viewer)
        if target.kind == "arxiv":
            return self._arxiv(target)
        if target.kind == "collection" and self.collections is not None:
            return self._collection(viewer, int(target.value))
        raise BadInput(f"unknown export {str(target.kind)[:20]!r}: use one of {', '.join(KINDS)}")

    def _search(self, target: ExportTarget) -> Selection:
        sort, limit = target.sort, target.limit
        if sort is None or limit is None:
            raise BadInput("a search export needs a sort and a limit: build it with ExportTarget.search")
        papers: list[Paper] = []
        per_page = min(MAX_PER_PAGE, _PAGE, limit)
        page = 1
        while len(papers) < limit and page * per_page <= MAX_RESULTS:
            view = self.catalog.search(None, target.value, target.filters, sort=sort, page=page,
                                       per_page=per_page, mode=target.mode)
            papers += [dataclasses.replace(c.paper, upvotes=c.upvotes) for c in view.cards]
            if page * per_page >= view.results.total or not view.cards:
                break
            page += 1
        return Selection(_unique(papers)[:limit], file_stem("search", target.value),
                         f"search {target.value.strip()[:100]!r}")

    def _period(self, target: ExportTarget) -> Selection:
        if target.sort is None:
            raise BadInput("a feed export needs a sort: build it with ExportTarget.period")
        sort = target.sort
        date_, week, month = (target.value if target.kind == kind else None for kind in ("date", "week", "month"))
        papers: list[Paper] = []
        page, label = 1, target.value
        while len(papers) < MAX_PAPERS:
            feed = self.catalog.feed_page(None, date_, week, month, sort=sort, page=page, limit=_PAGE)
            label = feed.period.label
            papers += [dataclasses.replace(it.paper, upvotes=it.upvotes) for it in feed.items]
            if page * _PAGE >= feed.total:
                break
            page += 1
        kind = "day" if target.kind == "date" else target.kind
        return Selection(_unique(papers)[:MAX_PAPERS], file_stem(kind, label), f"the feed of {label}")

    def _arxiv(self, target: ExportTarget) -> Selection:
        if target.span is None:
            raise BadInput("an arXiv export needs a period: build it with ExportTarget.arxiv")
        period = parse_period(target.span, target.value)
        hidden = frozenset(self.catalog.hidden_ids())
        papers: list[Paper] = []
        page = 1
        while len(papers) < MAX_PAPERS:
            found = new_on_arxiv(self.store, period, target.categories, target.tab, page=page, limit=_PAGE,
                                 hidden=hidden)
            papers += [it.paper for it in found.items if it.paper is not None]
            if page * _PAGE >= found.total:
                break
            page += 1
        upvotes = self.catalog.displayed_upvotes(papers)
        papers = [dataclasses.replace(p, upvotes=upvotes[p.id]) for p in papers]
        where = "+".join(target.categories) or "all"
        return Selection(papers[:MAX_PAPERS], file_stem("arxiv", where, target.tab, period.label),
                         f"arXiv {target.tab} listings of {period.label} ({where})")

    def _library(self, viewer: User | None) -> Selection:
        if viewer is None:
            raise Unauthorized("log in to export your library")
        hidden = self.catalog.hidden_ids()
        papers: list[Paper] = []
        page = 1
        while len(papers) < MAX_PAPERS:
            listing = self.catalog.library(viewer, page=page, per_page=_PAGE)
            papers += [dataclasses.replace(c.paper, upvotes=c.upvotes) for c in listing.cards
                       if c.paper.id not in hidden]  # admins' listings keep hidden papers; exports do not
            if page >= listing.pages:
                break
            page += 1
        return Selection(papers[:MAX_PAPERS], file_stem("library"), "your library")

    def _collection(self, viewer: User | None, collection_id: int) -> Selection:
        assert self.collections is not None
        view = self.collections.view(viewer, self.collections.get(viewer, collection_id))
        papers = [dataclasses.replace(e.card.paper, upvotes=e.card.upvotes) for e in view.entries
                  if not e.card.hidden]
        return Selection(papers[:MAX_PAPERS], file_stem("collection", view.slug.replace("/", "-")),
                         f"the collection {view.collection.title}")

    # ---- the sitemap's lists
    def public_paper_ids(self) -> list[str]:
        """Every paper anyone may see, oldest first. The store has no id-only scan, so the ids are
        kept here and caught up from the change counter: the first call decodes each paper once
        (~0.1 ms a paper), later ones only the papers written since."""
        with self._ids_lock:
            for seq, paper in self.store.iter_changes(self._ids_seq, batch=2000):
                self._ids[paper.id] = None
                self._ids_seq = seq
            ids = list(self._ids)
        hidden = self.catalog.hidden_ids()
        return [i for i in ids if i not in hidden]

    def feed_days(self) -> list[str]:
        """The days whose feed shows at least one paper anyone may see, oldest first."""
        hidden = self.catalog.hidden_ids()
        days = {entry.day for paper, entry in self.store.feed_rows("0001-01-01", "9999-12-31")
                if paper.id not in hidden}
        return sorted(days)
