"""The reader's side of recommendations: the cold start, the private feed's token, and
deleting one signal.

Cold start: a new reader has no signal, and a list of recommendations needs at least one positive.
Three ways in, each ending as "more like this" signals (so they show up, and can be deleted, with
every other signal): pick papers from the popular recent ones in categories they choose, name an
author whose papers they like, or import a library file (BibTeX, RIS, CSL-JSON, a list of ids).

The private feed (RSS/Atom of a reader's recommendations) is read by feed readers that cannot log
in, so its URL carries a secret. Only the secret's hash is stored (like API tokens); a new one
replaces the old, and revoking deletes it. It opens that one feed and nothing else: it is not an
API token, so a leaked feed URL cannot vote, save or read the library.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Sequence

from papersift.errors import BadInput, NotFound, Unauthorized
from papersift.ids import check_category
from papersift.ingest.library import MAX_BYTES as LIBRARY_MAX_BYTES, read_library
from papersift.ingest.sandbox import run_in_child
from papersift.model import User, normalize_paper_id
from papersift.service.catalog import Card, Catalog
from papersift.service.corpus import Corpus

STARTER_DAYS = 30  # "popular recent papers": the last month of the feed
STARTER_POOL = 2000  # the most upvoted of them, before the category filter
MAX_PICKS = 50  # papers one cold-start form may mark
AUTHOR_PAPERS = 20  # an author's latest papers become the reader's positives, as in the offline evaluation
FEED_TOKEN_BYTES = 32
SIGNAL_DELETERS = ("more", "not_for_me", "upvote", "save")
__all__ = ["Personal", "Seeded", "Starters", "LIBRARY_MAX_BYTES"]


@dataclass
class Starters:
    """Popular recent papers to pick from, and the categories there are to choose."""

    cards: list[Card]
    categories: list[tuple[str, int]]  # (category, papers in the window), most common first
    chosen: list[str]


@dataclass
class Seeded:
    """What a cold start did: papers marked "more like this", and what it could not use."""

    added: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # arXiv ids this server does not have
    problems: list[tuple[int, str]] = field(default_factory=list)  # a library file's (line, message)
    entries: int = 0
    format: str = ""

    def as_dict(self) -> dict:
        return {"added": self.added, "already": self.already, "missing": self.missing, "entries": self.entries,
                "format": self.format, "problems": [{"line": n, "message": m} for n, m in self.problems]}


def _signed_in(viewer: User | None) -> User:
    if viewer is None:
        raise Unauthorized("this needs a signed-in reader (or an API token)")
    return viewer


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class Personal:
    def __init__(self, corpus: Corpus, catalog: Catalog):
        self.corpus, self.catalog, self.store = corpus, catalog, corpus.store

    # ---- the cold start
    def starters(self, viewer: User | None, categories: Sequence[str] = (), k: int = 30) -> Starters:
        """Papers of the last month to pick from, in ``categories`` if any are given: the feed's most
        upvoted first, then arXiv's newest announcements (a store of arXiv papers alone has no votes)."""
        latest = self.store.latest_listing_day() or self.store.latest_feed_day()
        if latest is None:
            return Starters([], [], list(categories))
        start = (date.fromisoformat(latest) - timedelta(days=STARTER_DAYS - 1)).isoformat()
        rows = sorted(self.store.feed_rows(start, latest), key=lambda r: (-(r[1].upvotes or r[0].upvotes or 0), r[0].id))
        wanted = sorted({check_category(c) for c in categories if c.strip()})
        listed = sorted(((day, pid) for pid, day, kind, _ in self.store.listings(start, latest, wanted)
                         if kind != "replace"), key=lambda row: row[0], reverse=True)
        ids = list(dict.fromkeys([p.id for p, _ in rows][:STARTER_POOL] + [pid for _, pid in listed][:STARTER_POOL]))
        papers = self.store.get_papers(ids)
        counts = Counter(c for p in papers.values() for c in (p.categories or [])[:1] if p.listed is None)
        counts.update(dict(self.store.listing_categories(start, latest)))
        chosen = [papers[i] for i in ids if i in papers and (not wanted or set(wanted) & set(papers[i].categories or []))]
        return Starters(self.catalog.cards(chosen[:k], viewer), counts.most_common(40), wanted)

    def seed_papers(self, viewer: User | None, paper_ids: list[str]) -> Seeded:
        """Mark the chosen papers "more like this"."""
        user = _signed_in(viewer)
        if len(paper_ids) > MAX_PICKS:
            raise BadInput(f"pick at most {MAX_PICKS} papers at a time")
        if not paper_ids:
            raise BadInput("pick at least one paper")
        return self._seed(user, [normalize_paper_id(p) for p in paper_ids], Seeded())

    def seed_author(self, viewer: User | None, name: str) -> Seeded:
        """An author's latest papers (up to AUTHOR_PAPERS) become "more like this"."""
        user = _signed_in(viewer)
        name = " ".join((name or "").split())
        if not name or len(name) > 200:
            raise BadInput("give an author's name (at most 200 characters)")
        papers, _ = self.store.papers_by_author(name, AUTHOR_PAPERS, 0)
        if not papers:
            raise NotFound(f"no papers by {name!r} here: check the spelling as it appears on a paper")
        return self._seed(user, [p.id for p in papers], Seeded())

    def seed_library(self, viewer: User | None, data: str | bytes, filename: str = "") -> Seeded:
        """The arXiv papers of a library file become "more like this"; the rest is reported."""
        user = _signed_in(viewer)
        library = run_in_child(read_library, data, filename, what="the library file")
        seeded = Seeded(problems=list(library.problems), entries=library.entries, format=library.format)
        if not library.ids:
            seeded.problems.append((0, "no arXiv paper found in the file"))
        return self._seed(user, library.ids, seeded)

    def _seed(self, user: User, ids: list[str], seeded: Seeded) -> Seeded:
        """One transaction: a cold start killed half-way stores all of its signals or none."""
        known = self.store.known_ids(ids) - self.catalog.hidden_ids()
        added = self.store.add_signals(user.id, [pid for pid in dict.fromkeys(ids) if pid in known], "more")
        for pid in dict.fromkeys(ids):
            if pid not in known:
                seeded.missing.append(pid)
            else:
                (seeded.added if pid in added else seeded.already).append(pid)
        return seeded

    # ---- one signal
    def forget_signal(self, viewer: User | None, paper_id: str, kind: str) -> bool:
        """Delete one stored signal (an upvote and a save count: they are signals too)."""
        user = _signed_in(viewer)
        if kind not in SIGNAL_DELETERS:
            raise BadInput(f"kind must be one of {', '.join(SIGNAL_DELETERS)}, not {str(kind)[:40]!r}")
        paper_id = normalize_paper_id(paper_id)
        if kind == "upvote":
            return self.store.set_vote(user.id, paper_id, False)
        if kind == "save":
            return self.store.set_saved(user.id, paper_id, False)
        return self.store.remove_signal(user.id, paper_id, kind)

    # ---- the private feed
    def new_feed_token(self, viewer: User | None) -> str:
        """A new secret for the reader's feed URL (the old one stops working); shown once."""
        user = _signed_in(viewer)
        secret = secrets.token_urlsafe(FEED_TOKEN_BYTES)
        self.store.set_feed_token(user.id, token_hash(secret))
        return secret

    def revoke_feed_token(self, viewer: User | None) -> None:
        self.store.set_feed_token(_signed_in(viewer).id, None)

    def feed_token_created(self, viewer: User | None) -> str | None:
        return self.store.feed_token_created(_signed_in(viewer).id)

    def feed_reader(self, secret: str) -> User:
        """The reader a feed URL belongs to; NotFound for an unknown or revoked one (a feed reader
        shows the 404, and nobody learns whether a token ever existed)."""
        if not secret or len(secret) > 200:
            raise NotFound("there is no such feed")
        user = self.store.user_for_feed_token(token_hash(secret))
        if user is None:
            raise NotFound("there is no such feed: its link may have been revoked")
        return user
