"""The Daily Papers feed: one day, one ISO week or one month, ranked.

Trending (documented in docs/API.md, tested in tests/unit/test_feed.py) is upvotes with time decay:

    trending = (upvotes + 1) / (age_hours + 2) ** GRAVITY

where ``age_hours`` runs from the start of the paper's feed day to the reference time
(now, or the end of the period when the period is over, so old periods rank the same
tomorrow as today). Within one day every paper has the same age, so trending there equals
"most upvoted"; across a week or month it favours papers that gathered votes quickly.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone

from papersift.errors import BadInput
from papersift.model import FeedEntry, Paper
from papersift.store.protocol import Store

GRAVITY = 1.5
SORTS = ("trending", "upvotes", "published")
MAX_LIMIT = 100

# ASCII digits only: "\d" alone also takes "²" or "٢", which int() or date() then reject or reread
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_WEEK = re.compile(r"(\d{4})-W(\d{2})", re.ASCII)
_MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


@dataclass(frozen=True)
class Period:
    """One day, ISO week or month. Python's calendar ends at 0001-01-01 and 9999-12-31: the week
    that contains 9999-12-31 is cut short there, and the periods next to the edges have no
    previous/next period (None) rather than an overflow."""

    kind: str  # "date" | "week" | "month"
    label: str  # 2024-05-27, 2024-W22, 2024-05
    start: date
    end: date  # inclusive

    def shifted(self, steps: int) -> "Period | None":
        """The period ``steps`` away, or None when it would lie beyond the calendar."""
        try:
            if self.kind == "date":
                return period_for_date(self.start + timedelta(days=steps))
            if self.kind == "week":
                return period_for_week((self.start + timedelta(weeks=steps)).isocalendar())
        except OverflowError:
            return None
        month = self.start.year * 12 + self.start.month - 1 + steps
        if not 12 <= month < 10_000 * 12:  # years 1..9999
            return None
        return period_for_month(date(month // 12, month % 12 + 1, 1))

    @property
    def previous(self) -> "Period | None":
        """The period before, for "previous" links (None before 0001-01-01)."""
        return self.shifted(-1)

    @property
    def next(self) -> "Period | None":
        """The period after, for "next" links (None after 9999-12-31)."""
        return self.shifted(1)


def period_for_date(day: date) -> Period:
    return Period("date", day.isoformat(), day, day)


def period_for_month(day: date) -> Period:
    """The month containing ``day``. (Not ``f"{day:%Y-%m}"``: strftime writes year 1 as "1".)"""
    start = day.replace(day=1)
    end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    return Period("month", f"{start.year:04d}-{start.month:02d}", start, end)


def period_for_week(iso) -> Period:
    year, week = iso[0], iso[1]
    start = date.fromisocalendar(year, week, 1)
    # 9999-W52 runs Mon 27 Dec 9999 to a Sunday the calendar cannot hold: it ends on 31 Dec.
    end = start + timedelta(days=6) if start <= date.max - timedelta(days=6) else date.max
    return Period("week", f"{year:04d}-W{week:02d}", start, end)


def parse_period(kind: str, value: str) -> Period:
    """``kind`` is date|week|month; a malformed or impossible value is BadInput."""
    value = (value or "").strip()
    try:
        if kind == "date":
            return period_for_date(date.fromisoformat(value) if _DAY.fullmatch(value) else _bad())
        if kind == "week":
            m = _WEEK.fullmatch(value) or _bad()
            return period_for_week((int(m[1]), int(m[2])))
        if kind == "month":
            m = _MONTH.fullmatch(value) or _bad()
            return period_for_month(date(int(m[1]), int(m[2]), 1))
    except ValueError:
        pass
    formats = {"date": "YYYY-MM-DD", "week": "YYYY-Www (ISO week)", "month": "YYYY-MM"}
    if kind not in formats:
        raise BadInput(f"unknown period kind {kind!r}: use date, week or month")
    raise BadInput(f"bad {kind} {value[:40]!r}: expected {formats[kind]}")


def _bad():
    raise ValueError


def period_end(period: Period) -> datetime:
    """The instant a period is over: the midnight after its last day (or, for a period ending on
    9999-12-31, the last instant the calendar holds)."""
    if period.end == date.max:
        return datetime.max.replace(tzinfo=timezone.utc)
    return datetime.combine(period.end + timedelta(days=1), time(), tzinfo=timezone.utc)


def trending_score(upvotes: int, day: str, reference: datetime) -> float:
    start = datetime.combine(date.fromisoformat(day), time(), tzinfo=timezone.utc)
    age_hours = max(0.0, (reference - start).total_seconds() / 3600)
    return (upvotes + 1) / (age_hours + 2) ** GRAVITY


@dataclass
class FeedItem:
    paper: Paper
    entry: FeedEntry
    upvotes: int
    trending: float


@dataclass
class FeedPage:
    period: Period
    sort: str
    page: int
    limit: int
    total: int
    items: list[FeedItem] = field(default_factory=list)
    previous_day_with_papers: str | None = None
    next_day_with_papers: str | None = None


def daily_papers(
    store: Store, period: Period, sort: str = "trending", page: int = 1, limit: int = 50,
    now: datetime | None = None,
) -> FeedPage:
    if sort not in SORTS:
        raise BadInput(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}")
    if not 1 <= page <= 10_000:
        raise BadInput("page must be between 1 and 10000")
    now = now or datetime.now(timezone.utc)
    reference = min(now, period_end(period))
    latest: dict[str, tuple[Paper, FeedEntry]] = {}
    for paper, entry in store.feed_entries(period.start.isoformat(), period.end.isoformat()):
        latest[paper.id] = (paper, entry)  # rows come by day: the last one is the newest
    items = []
    for paper, entry in latest.values():
        votes = max(paper.upvotes or 0, entry.upvotes or 0)
        items.append(FeedItem(paper, entry, votes, trending_score(votes, entry.day, reference)))
    keys = {
        "trending": lambda it: (-it.trending, -it.upvotes, it.paper.id),
        "upvotes": lambda it: (-it.upvotes, it.entry.rank if it.entry.rank is not None else 1 << 30, it.paper.id),
        # newest first; a paper with no date goes last (an empty key would sort before every date)
        "published": lambda it: (not it.paper.published, _neg(it.paper.published or ""), it.paper.id),
    }
    items.sort(key=keys[sort])
    result = FeedPage(period, sort, page, limit, len(items), items[(page - 1) * limit: page * limit])
    if not items:
        before, after = store.nearest_feed_days(period.start.isoformat())
        result.previous_day_with_papers = before
        result.next_day_with_papers = after if after is None or after > period.end.isoformat() else None
    return result


def _neg(text: str) -> tuple:
    """Sort key for 'newest first' on ISO strings."""
    return tuple(-ord(c) for c in text)
