"""What a logged-in user does to a paper: vote, save, submit; and what an admin does: hide.

Votes and saves are idempotent: voting twice leaves one vote (the store's primary key is
(user, paper) and the write is one INSERT OR IGNORE), so a double click or a retried request
is harmless and the count stays exact under concurrent clicks.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timezone

from papersift.config import Settings
from papersift.errors import BadInput, Conflict, Forbidden, NotFound
from papersift.ids import parse_arxiv_id
from papersift.ingest.arxiv import DEFAULT_OAI_URL
from papersift.model import FeedEntry, Paper, User
from papersift.service.catalog import Catalog
from papersift.service.corpus import Corpus


@dataclass
class VoteState:
    paper_id: str
    voted: bool
    upvotes: int  # displayed upvotes after the change (source + local)


@dataclass
class Submission:
    paper: Paper
    day: str
    fetched: bool  # False when the paper was already in the store and needed no fetch


class Actions:
    def __init__(self, service: Corpus, catalog: Catalog, settings: Settings):
        """``settings.arxiv_oai_url``: where submissions fetch from (the setting `papersift harvest` uses
        too; empty: arXiv's own)."""
        self.service, self.catalog, self.store, self.settings = service, catalog, service.store, settings
        # one submission at a time, so "already on today's feed" cannot be raced past
        self._submit_lock = threading.Lock()

    # ---- votes and saves
    def vote(self, user: User, paper_id: str, on: bool = True) -> VoteState:
        paper = self.catalog.visible_paper(paper_id, user)
        self.store.set_vote(user.id, paper.id, on)
        voted = bool(self.store.user_votes(user.id, [paper.id]))
        return VoteState(paper.id, voted, self.catalog.displayed_upvotes([paper])[paper.id])

    def save(self, user: User, paper_id: str, on: bool = True) -> bool:
        """Add to (or remove from) the user's library; return whether it is saved now."""
        paper = self.catalog.visible_paper(paper_id, user)
        self.store.set_saved(user.id, paper.id, on)
        return bool(self.store.user_saves(user.id, [paper.id]))

    # ---- moderation
    def hide_paper(self, actor: User | None, paper_id: str, hidden: bool = True) -> Paper:
        """``actor`` None: the command line (whoever runs it owns the database)."""
        if actor is not None and not actor.is_admin:
            raise Forbidden("only administrators can hide papers")
        paper = self.service.paper(paper_id)
        self.store.set_paper_hidden(paper.id, hidden, actor.id if actor else None)
        return paper

    # ---- submissions
    @property
    def oai_url(self) -> str:
        return self.settings.arxiv_oai_url or DEFAULT_OAI_URL

    def submit(self, user: User, raw_id: str) -> Submission:
        """Put an arXiv paper on today's feed, credited to ``user``; fetch it if it is new here."""
        raw = (raw_id or "").strip()
        if self.settings.community.submit_requires_claim and not user.is_admin and not any(
                c.status == "verified" for c in self.store.user_claims(user.id)):
            raise Forbidden("on this site only authors with a verified claimed paper submit papers: claim your "
                            "authorship on one of your papers' pages first")
        if not raw:
            raise BadInput("enter an arXiv id, e.g. 2405.15738 or hep-th/9901001")
        try:
            pid = parse_arxiv_id(raw)[0]
        except BadInput:
            raise BadInput(f"{raw[:80]!r} is not an arXiv id (expected e.g. 2405.15738, "
                           "arXiv:2405.15738v2, an arxiv.org/abs link, or hep-th/9901001)") from None
        now = datetime.now(timezone.utc)
        today, stamp = now.date().isoformat(), now.strftime("%Y-%m-%dT%H:%M:%SZ")
        with self._submit_lock:
            existing = self.store.get_paper(pid)
            if existing is not None and pid in self.store.hidden_paper_ids():
                raise Conflict(f"{pid} has been hidden by an administrator and cannot be submitted")
            if existing is not None and today in existing.feed_days:
                raise Conflict(f"{pid} is already on today's feed ({today})")
            records = []
            if existing is None or not existing.title:
                records.append(self.service.fetch_arxiv_record(pid, self.oai_url))  # NotFound: arXiv has none
            # the feed entry is its own record, from the "submit" source (lowest rank in the
            # merge, so it never overrides bibliographic fields)
            records.append(Paper(id=pid, source="submit", observed_at=stamp, feed_entry=FeedEntry(
                day=today, upvotes=0, num_comments=0, submitted_by=user.name, captured_at=stamp)))
            self.store.upsert_papers(records)
        self.service.indexes_lexical_only().sync_lexical()  # searchable now, not at the next sync
        paper = self.store.get_paper(pid)
        if paper is None:  # upserted just above: the checker cannot know
            raise NotFound(f"{pid} is no longer stored")
        return Submission(paper, today, fetched=len(records) == 2)
