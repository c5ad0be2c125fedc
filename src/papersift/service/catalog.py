"""What the website and the API show: feeds, search results, papers and listings, as a viewer sees them.

Two things separate these from the corpus's viewer-blind reads:

* **Displayed upvotes = source upvotes + local votes.** Source upvotes are what Hugging Face
  reported (the feed entry's capture, or the paper's newest one); local votes are this
  site's users' votes (votes of users an admin has hidden do not count). The feed ranks on
  the sum, so a local vote moves a paper up the trending and most-upvoted orders.
* **Hidden papers** (hidden by an admin) are left out for everyone but admins, who see them
  marked so they can restore them. Search results are filtered after ranking, so a page that
  contained a hidden paper has one result fewer; the total leaves hidden matches out.

The JSON API reads papers, search results and similar papers through here too, and so do the
digests (what they choose, and how their papers look when the email is rendered), so a number or a
hidden paper is the same on a page, in the API and in an email. The rule is written once:
:meth:`Catalog.displayed_upvotes` and :meth:`Catalog.visible`.
"""

from __future__ import annotations

import dataclasses
import string
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from papersift.errors import BadInput, NotFound, PapersiftError
from papersift.feed.daily import FeedPage
from papersift.model import FeedEntry, Paper, User
from papersift.query import Filters, parse_query
from papersift.search.searcher import MAX_PER_PAGE, Hit, SearchResults
from papersift.service.corpus import Corpus
from papersift.store.protocol import Store

MAX_PAGE = 10_000
SIMILAR_K = 6


@dataclass
class Card:
    """One paper as a list or page shows it."""

    paper: Paper
    upvotes: int
    comments: int = 0
    voted: bool = False
    saved: bool = False
    hidden: bool = False
    snippets: dict[str, str] = field(default_factory=dict)
    feed_day: str | None = None
    submitted_by: str | None = None
    feedback: frozenset[str] = frozenset()  # the viewer's "more" / "not_for_me" on this paper
    listing: str | None = None  # on "New on arXiv": new, cross or replace


@dataclass
class FeedView:
    feed: FeedPage
    cards: list[Card]
    pages: int


@dataclass
class SearchView:
    results: SearchResults
    cards: list[Card]
    pages: int


@dataclass
class PaperView:
    card: Card
    similar: list[Card]


@dataclass
class Listing:
    cards: list[Card]
    total: int
    page: int
    pages: int


class CommunityFeedStore:
    """The store as the feed sees it: hidden papers left out, arXiv's announcements that readers here
    upvoted added, local votes added to both the paper's and the feed entry's counts (the feed takes
    the larger of the two, so adding to both keeps "larger source count + local votes").

    It ranks from light rows (id, upvotes, published): a month has ~600 feed entries and
    decoding every paper would cost more than the rest of the page; :meth:`Catalog.feed_page`
    then loads the papers of the page being shown."""

    def __init__(self, store: Store, hidden: set[str]):
        self._store, self._hidden = store, hidden

    def feed_entries(self, day_from: str, day_to: str) -> list[tuple[Paper, FeedEntry]]:
        rows = [(p, e) for p, e in self._store.feed_rows(day_from, day_to) if p.id not in self._hidden]
        rows += self._voted_listings(day_from, day_to, {p.id for p, _ in rows})
        votes = self._store.vote_counts(p.id for p, _ in rows)
        out = []
        for paper, entry in rows:
            local = votes.get(paper.id, 0)
            if local:
                paper = dataclasses.replace(paper, upvotes=(paper.upvotes or 0) + local)
                entry = dataclasses.replace(entry, upvotes=(entry.upvotes or 0) + local)
            out.append((paper, entry))
        return out

    def _voted_listings(self, day_from: str, day_to: str, shown: set[str]) -> list[tuple[Paper, FeedEntry]]:
        """arXiv's announcements that readers here upvoted join the community's picks on their listing day
        (a vote is what puts a paper on Hugging Face's feed too), so trending ranks both feeds."""
        voted = [(pid, day) for pid, day in self._store.voted_listings(day_from, day_to)
                 if pid not in shown and pid not in self._hidden]
        papers = self._store.get_papers(pid for pid, _ in voted)
        return [(Paper(id=pid, upvotes=papers[pid].upvotes, published=papers[pid].published), FeedEntry(day=day))
                for pid, day in voted if pid in papers]

    def __getattr__(self, name):  # everything else is the plain store
        return getattr(self._store, name)


def pages_for(total: int, per_page: int) -> int:
    return max(1, -(-total // per_page))


def check_page(page: int, total: int, per_page: int, what: str) -> int:
    """Raise a clear 4xx for a page past the end (page 1 of nothing is an empty page, not an error)."""
    pages = pages_for(total, per_page)
    if page > pages:
        raise NotFound(f"page {page} is past the end: {what} has {pages} page{'s' * (pages != 1)}")
    return pages


class Catalog:
    def __init__(self, service: Corpus):
        self.service = service
        self.store = service.store

    # ---- the pieces every view shares
    def hidden_ids(self) -> set[str]:
        return self.store.hidden_paper_ids()

    def anonymous_stamp(self) -> int | str:
        """Changes whenever what a visitor who is not logged in sees may have: at every commit to the
        store by anyone (this process, another worker, the CLI); web/page_cache.py keeps pages by it."""
        return self.store.data_stamp()

    @staticmethod
    def _excluded(viewer: User | None, hidden: set[str]) -> set[str]:
        return set() if viewer is not None and viewer.is_admin else hidden

    def visible(self, papers: Iterable[Paper], viewer: User | None, hidden: set[str] | None = None) -> list[Paper]:
        """The papers ``viewer`` may see: those an admin hid are left out, except for admins."""
        excluded = self._excluded(viewer, self.hidden_ids() if hidden is None else hidden)
        return [p for p in papers if p.id not in excluded]

    def displayed_upvotes(self, papers: Iterable[Paper]) -> dict[str, int]:
        """Each paper's displayed upvotes: the source's plus this site's votes (the store counts no
        vote of a hidden user)."""
        papers = list(papers)
        votes = self.store.vote_counts(p.id for p in papers)
        return {p.id: (p.upvotes or 0) + votes.get(p.id, 0) for p in papers}

    def cards(self, papers: Iterable[Paper], viewer: User | None, hidden: set[str] | None = None,
              snippets: dict[str, dict[str, str]] | None = None) -> list[Card]:
        hidden = self.hidden_ids() if hidden is None else hidden
        papers = self.visible(papers, viewer, hidden)
        ids = [p.id for p in papers]
        upvotes = self.displayed_upvotes(papers)
        voted, saved = self._marks(viewer, ids)
        feedback = self._feedback(viewer, ids)
        local = self.store.comment_counts(ids)  # this site's discussion, beside the count imported from HF
        return [Card(p, upvotes[p.id], (p.num_comments or 0) + local.get(p.id, 0), p.id in voted,
                     p.id in saved, p.id in hidden, (snippets or {}).get(p.id, {}),
                     feedback=frozenset(feedback.get(p.id, ()))) for p in papers]

    def _feedback(self, viewer: User | None, ids: list[str]) -> dict[str, set[str]]:
        if viewer is None or not ids:
            return {}
        wanted = set(ids)
        marks: dict[str, set[str]] = {}
        for kind, pid, _ in self.store.user_signals(viewer.id):
            if pid in wanted and kind in ("more", "not_for_me"):
                marks.setdefault(pid, set()).add(kind)
        return marks

    def _marks(self, viewer: User | None, ids: list[str]) -> tuple[set[str], set[str]]:
        if viewer is None or not ids:
            return set(), set()
        return self.store.user_votes(viewer.id, ids), self.store.user_saves(viewer.id, ids)

    def feed_page(self, viewer: User | None, date_: str | None = None, week: str | None = None,
                  month: str | None = None, sort: str = "trending", page: int = 1, limit: int = 50,
                  home: bool = False, hidden: set[str] | None = None) -> FeedPage:
        """``Papersift.daily`` with local votes and hidden papers, its items' papers loaded in full.

        ``home``: today's feed once a source has listed papers today, else the latest day one has."""
        hidden = self.hidden_ids() if hidden is None else hidden
        view = CommunityFeedStore(self.store, self._excluded(viewer, hidden))
        feed = None
        if home:
            today = datetime.now(timezone.utc).date().isoformat()
            latest = self.store.latest_feed_day(harvested=True)
            if latest is not None and latest >= today:
                feed = self.service.daily(today, sort=sort, page=page, limit=limit, store=view)
            if feed is None or feed.total == 0:
                feed = self.service.daily(sort=sort, page=page, limit=limit, store=view)
        else:
            feed = self.service.daily(date_, week, month, sort=sort, page=page, limit=limit, store=view)
        full = self.store.get_papers(it.paper.id for it in feed.items)
        local = self.store.comment_counts(it.paper.id for it in feed.items)  # this site's discussion
        for item in feed.items:
            if item.paper.id in full:  # keep the ranked upvotes (source + local)
                item.paper = dataclasses.replace(full[item.paper.id], upvotes=item.paper.upvotes)
            if local.get(item.paper.id):
                imported = item.entry.num_comments or item.paper.num_comments or 0
                item.entry = dataclasses.replace(item.entry, num_comments=imported + local[item.paper.id])
                item.paper = dataclasses.replace(item.paper, num_comments=(item.paper.num_comments or 0)
                                                 + local[item.paper.id])
        return feed

    def hidden_papers(self, viewer: User) -> list[Card]:
        """The papers admins have hidden (for the admin page)."""
        hidden = self.hidden_ids()
        return self.cards(self.store.get_papers(sorted(hidden)).values(), viewer, hidden)

    def visible_paper(self, paper_id: str, viewer: User | None) -> Paper:
        paper = self.service.paper(paper_id)
        if paper.id in self._excluded(viewer, self.hidden_ids()):
            raise NotFound(f"no paper {paper.id}")  # hidden: as if it were not there
        return paper

    # ---- feed
    def feed(self, viewer: User | None, date_: str | None = None, week: str | None = None,
             month: str | None = None, sort: str = "trending", page: int = 1, limit: int = 50,
             home: bool = False) -> FeedView:
        """``home``: today's feed, or the latest day with papers when today has none yet."""
        hidden = self.hidden_ids()
        feed = self.feed_page(viewer, date_, week, month, sort, page, limit, home, hidden)
        pages = check_page(page, feed.total, limit, f"the feed for {feed.period.label}")
        ids = [it.paper.id for it in feed.items]
        voted, saved = self._marks(viewer, ids)
        feedback = self._feedback(viewer, ids)
        cards = [Card(it.paper, it.upvotes, it.entry.num_comments or it.paper.num_comments or 0,  # local ones in
                      it.paper.id in voted, it.paper.id in saved, it.paper.id in hidden,
                      feed_day=it.entry.day, submitted_by=it.entry.submitted_by,
                      feedback=frozenset(feedback.get(it.paper.id, ()))) for it in feed.items]
        return FeedView(feed, cards, pages)

    # ---- search
    def search(self, viewer: User | None, query: str, filters: Filters | None = None, sort: str = "relevance",
               page: int = 1, per_page: int = 20, mode: str = "hybrid") -> SearchView:
        """``mode``: hybrid (the pages; the searcher falls back to BM25 without vectors), bm25 or dense.

        The view's ``results`` hold only the hits this viewer may see, and their total. A page past
        the end is empty here (the API's answer); the search page makes it a 404."""
        results = self.service.search(query, filters, mode=mode, sort=sort, page=page, per_page=per_page)
        hidden = self.hidden_ids()
        excluded = self._excluded(viewer, hidden)
        if excluded:
            words_out, meaning_out = self._hidden_matches(query, filters, excluded, results)
            matched = None if results.matched is None else max(0, results.matched - words_out)
            related = max(0, results.related - meaning_out)
            results = dataclasses.replace(results, total=(matched or 0) + related, matched=matched, related=related,
                                          hits=[h for h in results.hits if h.paper.id not in excluded])
        snippets = {h.paper.id: h.snippets for h in results.hits}
        cards = self.cards([h.paper for h in results.hits], viewer, hidden, snippets=snippets)
        return SearchView(results, cards, pages_for(min(results.total, 1000), per_page))

    def _hidden_matches(self, query: str, filters: Filters | None, excluded: set[str],
                        results: SearchResults) -> tuple[int, int]:
        """How many of ``results.matched`` and of ``results.related`` are papers in ``excluded``.

        The keyword leg counts them exactly: the same query restricted (``id:``) to those papers.
        Papers only the semantic leg found are known only on the page shown."""
        on_page = {h.paper.id for h in results.hits} & excluded
        if results.mode == "dense":
            return 0, len(on_page)
        parsed = parse_query(query)
        wanted = excluded & set(parsed.fields["id"]) if "id" in parsed.fields else excluded
        if not wanted:
            return 0, len(on_page)
        restricted = dataclasses.replace(parsed, fields={**parsed.fields, "id": sorted(wanted)})
        lexical = self.service.indexes_lexical_only().lexical
        matched = {d for d, _ in lexical.search(restricted, filters, limit=len(wanted)).hits}
        return len(matched), len(on_page - matched)

    # ---- one paper
    def card(self, viewer: User | None, paper_id: str) -> Card:
        """One paper with its displayed upvotes (404 when hidden from this viewer)."""
        (card,) = self.cards([self.visible_paper(paper_id, viewer)], viewer)
        return card

    def similar(self, viewer: User | None, paper_id: str, k: int = 10,
                filters: Filters | None = None) -> list[tuple[Hit, Card]]:
        """Papers like this one, hidden ones left out (404 when the paper itself is hidden)."""
        if not 1 <= k <= MAX_PER_PAGE:
            raise BadInput(f"k must be between 1 and {MAX_PER_PAGE}")
        paper = self.visible_paper(paper_id, viewer)
        hidden = self.hidden_ids()
        excluded = self._excluded(viewer, hidden)
        # ask for enough that k remain after leaving hidden papers out
        hits = self.service.similar(paper.id, k=min(k + len(excluded), MAX_PER_PAGE), filters=filters)
        hits = [h for h in hits if h.paper.id not in excluded][:k]
        return list(zip(hits, self.cards([h.paper for h in hits], viewer, hidden), strict=False))

    def paper(self, viewer: User | None, paper_id: str) -> PaperView:
        paper = self.visible_paper(paper_id, viewer)
        hidden = self.hidden_ids()
        (card,) = self.cards([paper], viewer, hidden)
        try:
            hits = self.service.similar(paper.id, k=SIMILAR_K + 4)
        except PapersiftError:  # an index that cannot answer must not take the page down
            hits = []
        similar = self.cards([h.paper for h in hits], viewer, hidden)[:SIMILAR_K]
        return PaperView(card, similar)

    # ---- listings
    def _listing(self, fetch, viewer: User | None, page: int, per_page: int, what: str, left_out,
                 empty_is_404: bool = True) -> Listing:
        """``left_out(ids)``: how many of the store's total are among these (hidden) papers, so that
        the count ("3 papers", the API's total) does not give away what this viewer may not see."""
        if not 1 <= page <= MAX_PAGE:
            raise BadInput(f"page must be between 1 and {MAX_PAGE}")
        papers, total = fetch(per_page, (page - 1) * per_page)
        hidden = self.hidden_ids()
        excluded = self._excluded(viewer, hidden)
        if excluded and total:
            total = max(0, total - left_out(sorted(excluded)))
        if total == 0 and empty_is_404:
            raise NotFound(f"no papers {what}")
        pages = check_page(page, total, per_page, f"the list of papers {what}")
        return Listing(self.cards(papers, viewer, hidden), total, page, pages)

    def _count_hidden(self, ids: list[str], matches) -> int:
        return sum(1 for paper in self.store.get_papers(ids).values() if matches(paper))

    def by_organization(self, viewer: User | None, name: str, page: int = 1, per_page: int = 20) -> Listing:
        name = _clean_name(name, "organisation")
        return self._listing(lambda n, o: self.store.papers_by_organization(name, n, o), viewer, page,
                             per_page, f"from the organisation {name!r}",
                             lambda ids: self._count_hidden(ids, lambda p: _nocase(p.organization) == _nocase(name)))

    def by_author(self, viewer: User | None, name: str, page: int = 1, per_page: int = 20) -> Listing:
        name = _clean_name(name, "author")
        return self._listing(lambda n, o: self.store.papers_by_author(name, n, o), viewer, page,
                             per_page, f"by the author {name!r}", lambda ids: self._count_hidden(
                                 ids, lambda p: _nocase(name) in {_nocase(a) for a in p.authors or []}))

    def library(self, viewer: User, page: int = 1, per_page: int = 20) -> Listing:
        return self._listing(lambda n, o: self.store.saved_papers(viewer.id, n, o), viewer, page, per_page,
                             "in your library", lambda ids: len(self.store.user_saves(viewer.id, ids)),
                             empty_is_404=False)


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _nocase(text: str | None) -> str:
    """The store's name match (SQL ``COLLATE NOCASE`` folds ASCII letters only)."""
    return (text or "").translate(_ASCII_LOWER)


def _clean_name(name: str, what: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise BadInput(f"{what} name is empty")
    if len(name) > 200:
        raise BadInput(f"{what} name is too long (at most 200 characters)")
    return name
