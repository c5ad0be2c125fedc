"""Who put papers on the feed: one submitter's feed rows across every day, and a paper's submitter.

Hugging Face's ``/api/daily_papers?submitter=NAME`` with no day, week or month lists that user's
submissions, newest first; and a paper by id names who submitted it. Both are read as the feed is
(catalog.py): papers an admin hid are left out for everyone but admins, and the upvotes shown are the
larger of the paper's and the day's source count plus this site's votes.
"""

from __future__ import annotations

import dataclasses

from papersift.errors import BadInput
from papersift.feed.daily import MAX_LIMIT, FeedItem
from papersift.model import FeedEntry, Paper, User
from papersift.service.catalog import Catalog

MAX_ROWS = 20_000  # a submitter's rows read at most (the busiest submitter of the archive has under 9,000)
SORTS = ("newest", "upvotes")


class Submissions:
    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self.store = catalog.store

    def by_submitter(self, viewer: User | None, login: str, sort: str = "newest", page: int = 1,
                     limit: int = 50) -> list[FeedItem]:
        """A page of the papers ``login`` submitted. ``newest``: the latest feed day first (within a day
        the latest capture, then the latest on arXiv); ``upvotes``: the most upvoted first."""
        if sort not in SORTS:
            raise BadInput(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
        if not 1 <= limit <= MAX_LIMIT or page < 1:
            raise BadInput(f"limit must be between 1 and {MAX_LIMIT}, page at least 1")
        excluded = self.catalog._excluded(viewer, self.catalog.hidden_ids())
        newest: dict[str, tuple[Paper, FeedEntry]] = {}  # a paper submitted on two days is listed once
        for paper, entry in self.store.submitter_feed_rows(login, MAX_ROWS):
            if paper.id not in excluded:
                newest.setdefault(paper.id, (paper, entry))
        rows = list(newest.values())
        votes = self.store.vote_counts({p.id for p, _ in rows})
        items = [FeedItem(p, e, max(p.upvotes or 0, e.upvotes or 0) + votes.get(p.id, 0), 0.0) for p, e in rows]
        if sort == "upvotes":
            items.sort(key=lambda it: (-it.upvotes, it.paper.id))
        else:
            items.sort(key=_newest, reverse=True)
        items = items[(page - 1) * limit: page * limit]
        full = self.store.get_papers(it.paper.id for it in items)
        return [dataclasses.replace(it, paper=dataclasses.replace(full[it.paper.id], upvotes=it.upvotes))
                for it in items if it.paper.id in full]

    def paper_with_entry(self, viewer: User | None, paper_id: str) -> tuple[Paper, FeedEntry | None]:
        """The paper as the viewer sees it (404 when hidden) and its newest feed row, whose submitter is
        the newest one any of its rows names (older captures of the archive name none)."""
        card = self.catalog.card(viewer, paper_id)
        paper = dataclasses.replace(card.paper, upvotes=card.upvotes)
        entries = self.store.paper_feed_entries(paper.id)
        if not entries:
            return paper, None
        submitter = next((e.submitted_by for e in reversed(entries) if e.submitted_by), None)
        return paper, dataclasses.replace(entries[-1], submitted_by=submitter)


def _newest(item: FeedItem) -> tuple:
    entry = item.entry
    captured = entry.captured_at if entry.captured_at and entry.captured_at.startswith(entry.day) else ""
    return entry.day, captured, item.paper.published or "", item.paper.id
