"""Choosing each subscriber's papers for a period and putting the digest in the outbox.

Periods. A daily digest goes out on weekdays; its key is the date (``2026-11-23``) and it
looks at papers from the previous weekday through the send day (Monday's covers Friday to
Monday, so weekend papers are not lost). A weekly digest's key is the ISO week (``2026-W48``);
it is due on the configured weekday or at the first run after it in that week, and looks at
the last eight days. Windows overlap on purpose: ``sent_papers`` removes repeats, and a paper
harvested late is still caught by the next digest.

Per period everything shared is computed once (trending, the candidate pool, topic
matches, one lexical query per distinct saved search), then each subscriber's digest is a
few set operations: 10,000 subscribers cost little more than one.

Sections. "Trending": the period's feed ranked by trending (displayed upvotes, hidden papers
left out: the catalog's rule, as on the website). "For your topics": pool papers matching the subscriber's categories,
organisations, authors or saved searches, ranked by how many topics they match, then
upvotes, then newest. "For you": a signed-in subscriber's recommendations from the pool
(service/recommendations.py), with why. The pool is both feeds: the period's Daily Papers, the papers
published in it, and every paper arXiv announced in it (its listings: new and cross-lists). A paper
sent before, or already in an earlier section, is left out; a digest with nothing left is not made.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.utils import parseaddr
from typing import Any, Callable

from papersift.config import WEEKDAYS, Settings
from papersift.errors import BadInput
from papersift.feed.daily import Period, daily_papers
from papersift.model import Paper, Subscriber
from papersift.query import Filters, parse_query
from papersift.search.searcher import Searcher
from papersift.service.catalog import Catalog, CommunityFeedStore
from papersift.service.corpus import Corpus

# (user id, candidate ids, last day, k, hidden ids) -> [(paper id, why)]: service/recommendations.py
Recommend = Callable[[int, list[str], str, int, set[str]], list[tuple[str, str]]]
SEARCH_DEPTH = 100  # lexical hits per saved search before intersecting with the pool
SEARCH_LOOKBACK = timedelta(days=14)  # feed papers are often published days before their feed day


@dataclass(frozen=True)
class DigestPeriod:
    cadence: str
    key: str
    start: date  # window, inclusive
    end: date
    feed_path: str  # the website page of this period ("see the whole feed")


def due_periods(today: date, config: Settings) -> list[DigestPeriod]:
    """The digests due on ``today`` (a calendar day in the digest time zone)."""
    periods = []
    if today.weekday() < 5:
        start = today - timedelta(days=3 if today.weekday() == 0 else 1)
        key = today.isoformat()
        periods.append(DigestPeriod("daily", key, start, today, feed_path("daily", key)))
    if today.weekday() >= WEEKDAYS.index(config.digest.weekly_day):
        iso = today.isocalendar()
        key = f"{iso.year:04d}-W{iso.week:02d}"
        periods.append(DigestPeriod("weekly", key, today - timedelta(days=7), today, feed_path("weekly", key)))
    return periods


@dataclass
class Choice:
    trending: list[dict] = field(default_factory=list)  # [{"id": ...}]
    topics: list[dict] = field(default_factory=list)  # [{"id": ..., "why": [...]}]
    for_you: list[dict] = field(default_factory=list)  # [{"id": ..., "why": ["close to ..."]}]

    @property
    def paper_ids(self) -> list[str]:
        return [e["id"] for e in self.trending + self.topics + self.for_you]

    def __bool__(self) -> bool:
        return bool(self.trending or self.topics or self.for_you)


@dataclass
class BuildReport:
    periods: dict[str, str] = field(default_factory=dict)  # cadence -> key
    subscribers: int = 0
    built: int = 0
    empty: int = 0
    existing: int = 0

    def as_dict(self) -> dict:
        return {"periods": self.periods, "subscribers": self.subscribers, "built": self.built,
                "empty": self.empty, "already_built": self.existing}


def topic_label(kind: str, value: str) -> str:
    return {"category": value, "organization": value, "author": f"author {value}",
            "search": f"\u201c{value}\u201d"}[kind]


class PeriodPlan:
    """Everything about one period that does not depend on the subscriber."""

    def __init__(self, catalog: Catalog, period: DigestPeriod, config: Settings, searcher: Callable[[], Searcher],
                 recommend: Recommend | None = None):
        self.store, self.period, self.config = catalog.store, period, config
        self._searcher, self._recommend = searcher, recommend
        self.hidden = hidden = catalog.hidden_ids()
        start, end = period.start.isoformat(), period.end.isoformat()
        # the feed's own ranking, on the same view the website shows (local votes, no hidden papers)
        feed_view = CommunityFeedStore(self.store, hidden)
        window = Period("range", f"{start}..{end}", period.start, period.end)  # daily_papers reads start/end
        feed = daily_papers(feed_view, window, sort="trending", limit=100) if config.digest.trending_count else None
        self.trending: list[str] = [it.paper.id for it in feed.items] if feed else []
        pool: dict[str, Paper] = {p.id: p for p, _ in self.store.feed_entries(start, end)}
        for paper in self.store.papers_published_between(start, end):
            pool.setdefault(paper.id, paper)
        # arXiv's new announcements of the period, whatever their submission date (both feeds)
        listed = [pid for pid, _, kind, _ in self.store.listings(start, end) if kind != "replace" and pid not in pool]
        pool.update(self.store.get_papers(listed))
        self.pool = {p.id: p for p in catalog.visible(pool.values(), None, hidden)}
        self.upvotes = catalog.displayed_upvotes(self.pool.values())
        self._index: dict[tuple[str, str], list[str]] = {}
        for pid, paper in self.pool.items():
            for cat in paper.categories or []:
                self._index.setdefault(("category", cat.casefold()), []).append(pid)
            if paper.organization:
                self._index.setdefault(("organization", " ".join(paper.organization.split()).casefold()), []).append(pid)
            for name in paper.authors or []:
                self._index.setdefault(("author", " ".join(name.split()).casefold()), []).append(pid)
        self._searches: dict[str, list[str]] = {}

    def matches(self, kind: str, value: str) -> list[str]:
        if kind != "search":
            return self._index.get((kind, " ".join(value.split()).casefold()), [])
        key = value.strip()
        if key not in self._searches:
            self._searches[key] = self._search(key)
        return self._searches[key]

    def _search(self, query: str) -> list[str]:
        if not self.pool:
            return []
        filters = Filters(date_from=(self.period.start - SEARCH_LOOKBACK).isoformat(),
                          date_to=self.period.end.isoformat())
        try:
            ranking, _, _ = self._searcher().rank(parse_query(query), filters, mode="bm25", k=SEARCH_DEPTH)
        except BadInput:  # a saved search the query syntax no longer accepts matches nothing
            return []
        return [pid for pid, _ in ranking if pid in self.pool]

    def choose(self, subscriber: Subscriber) -> Choice:
        candidates: dict[str, list[str]] = {}  # paper id -> why
        for kind, value in subscriber.topics:
            for pid in self.matches(kind, value):
                candidates.setdefault(pid, []).append(topic_label(kind, value))
        trending = self.trending if subscriber.trending else []
        wanted = set(trending[: self.config.digest.trending_count * 3]) | set(candidates)
        sent = self.store.sent_paper_ids(subscriber.id, wanted) if wanted else set()
        choice = Choice()
        if subscriber.trending:
            picked = [pid for pid in trending if pid not in sent][: self.config.digest.trending_count]
            choice.trending = [{"id": pid} for pid in picked]
        shown = {e["id"] for e in choice.trending} | sent
        ranked = sorted((pid for pid in candidates if pid not in shown),
                        key=lambda pid: (-len(candidates[pid]), -self.upvotes.get(pid, 0),
                                         _newest_first(self.pool[pid].published), pid))
        choice.topics = [{"id": pid, "why": candidates[pid]} for pid in ranked[: self.config.digest.topics_count]]
        choice.for_you = self._for_you(subscriber, shown | {e["id"] for e in choice.topics})
        return choice

    def _for_you(self, subscriber: Subscriber, shown: set[str]) -> list[dict]:
        """A signed-in subscriber's recommendations from the pool, none sent before or shown above."""
        count = self.config.digest.for_you_count
        if self._recommend is None or subscriber.user_id is None or count <= 0:
            return []
        sent = self.store.sent_paper_ids(subscriber.id, self.pool)  # one query: explanations cost more
        pool = [pid for pid in self.pool if pid not in shown and pid not in sent]
        picks = self._recommend(subscriber.user_id, pool, self.period.end.isoformat(), count, self.hidden)
        return [{"id": pid, "why": [why] if why else []} for pid, why in picks]


def _newest_first(published: str | None) -> tuple:
    return tuple(-ord(c) for c in (published or ""))


def new_message_id(kind: str, subscriber_id: int, config: Settings) -> str:
    """Unique, and fixed for the row's lifetime (a resend carries the same Message-ID)."""
    return f"<papersift.{kind}.{subscriber_id}.{secrets.token_hex(10)}@{sender_domain(config.smtp.sender)}>"


class DigestBuilder:
    def __init__(self, corpus: Corpus, catalog: Catalog, config: Settings, recommend: Recommend | None = None):
        self.corpus, self.catalog, self.store, self.config = corpus, catalog, corpus.store, config
        self._searcher: Searcher | None = None
        self._recommend = recommend
        self.webhooks: Any = None  # service/webhooks.py, set by the front door

    def searcher(self) -> Searcher:
        # one lexical-only searcher per run: saved searches never need the embedding model
        if self._searcher is None:
            self._searcher = Searcher(self.corpus.indexes_lexical_only())
        return self._searcher

    def build(self, today: date, dry_run: bool = False, progress: Callable[[int], None] | None = None,
              only: set[int] | None = None) -> BuildReport:
        """Put every due, non-empty digest for ``today`` in the outbox (each at most once)."""
        report = BuildReport()
        for period in due_periods(today, self.config):
            report.periods[period.cadence] = period.key
            subscribers = self.store.active_subscribers([period.cadence])
            if only is not None:
                subscribers = [s for s in subscribers if s.id in only]
            report.subscribers += len(subscribers)
            done = self.store.outbox_subscribers("digest", period.key)
            todo = [s for s in subscribers if s.id not in done]
            report.existing += len(subscribers) - len(todo)
            if not todo:
                continue
            plan = PeriodPlan(self.catalog, period, self.config, self.searcher, self._recommend)
            for subscriber in todo:
                choice = plan.choose(subscriber)
                if progress:
                    progress(1)
                if not choice:
                    report.empty += 1
                    continue
                if dry_run:
                    report.built += 1
                    continue
                payload = {"period": period.key, "cadence": period.cadence, "window": [
                    period.start.isoformat(), period.end.isoformat()], "feed_path": period.feed_path,
                    "trending": choice.trending, "topics": choice.topics, "for_you": choice.for_you}
                made = self.store.enqueue(subscriber.id, "digest", period.key, subscriber.email,
                                          new_message_id("digest", subscriber.id, self.config), payload,
                                          choice.paper_ids)
                if made is None:  # another builder got there first: the constraint kept it to one
                    report.existing += 1
                else:
                    report.built += 1
                if subscriber.user_id is not None and self.webhooks is not None:  # the same digest, to their hooks
                    self.webhooks.enqueue_digest(subscriber.user_id, period.key, payload, choice.paper_ids)
        return report


_DAY_KEY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WEEK_KEY = re.compile(r"[0-9]{4}-W[0-9]{2}")


def feed_path(cadence: str | None, key: str | None) -> str:
    """The website page of a digest's own period ("see the whole feed"): the day or the ISO week
    the digest is named after (its heading and subject), not the first day of its window."""
    key = key or ""
    if cadence == "weekly" and _WEEK_KEY.fullmatch(key):
        return f"/papers/week/{key}"
    if cadence == "daily" and _DAY_KEY.fullmatch(key):
        return f"/papers/date/{key}"
    return "/"


def sender_domain(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rsplit("@", 1)[-1] if "@" in address else "localhost"
