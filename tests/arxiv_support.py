""""New on arXiv" as the committed arXiv sample says it should be: the oracle the interface tests of
the listings compare their answers with, worked out from the sample file alone.

The sample records the days a daily listing showed each paper (weekends included: arXiv's feeds keep
Friday's listing until Monday, so a Saturday or Sunday is Friday's listing). A paper's first listing
is its announcement: **new** in its primary category, a **cross**-list in each other one; every later
listing day is a **replace**ment (a new version), in all its categories.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Iterable

from .helpers import ARXIV_SAMPLE

TABS = ("new", "cross", "replace")


@dataclass(frozen=True)
class Listed:
    id: str
    categories: tuple[str, ...]  # primary first
    first: date
    replaced: tuple[date, ...]


def listing_weekday(day: date) -> date:
    return day - timedelta(days=max(0, day.weekday() - 4))  # Saturday, Sunday: Friday's listing


@cache
def sample() -> tuple[Listed, ...]:
    papers = []
    with gzip.open(ARXIV_SAMPLE, "rt") as handle:
        for line in handle:
            row = json.loads(line)
            days = {listing_weekday(date.fromisoformat(d)) for d in row["listing_dates"]}
            first = listing_weekday(date.fromisoformat(row["first_listing_date"]))
            papers.append(Listed(row["id"], tuple(row["categories"]), first,
                                 tuple(sorted(d for d in days if d > first))))
    return tuple(papers)


def expected_tabs(start: date, end: date, categories: Iterable[str] = ()) -> dict[str, set[str]]:
    """Paper ids per tab for the days ``start``..``end`` (inclusive) in ``categories`` (none: all)."""
    wanted = set(categories)
    tabs: dict[str, set[str]] = {tab: set() for tab in TABS}
    for paper in sample():
        inside = not wanted or bool(wanted & set(paper.categories))
        if not inside:
            continue
        if start <= paper.first <= end:
            primary = not wanted or paper.categories[0] in wanted
            tabs["new" if primary else "cross"].add(paper.id)
        if any(start <= day <= end for day in paper.replaced):
            tabs["replace"].add(paper.id)
    return tabs


def expected_counts(start: date, end: date, categories: Iterable[str] = ()) -> dict[str, int]:
    return {tab: len(ids) for tab, ids in expected_tabs(start, end, categories).items()}


def week_days(label: str) -> tuple[date, date]:
    year, week = label.split("-W")
    start = date.fromisocalendar(int(year), int(week), 1)
    return start, start + timedelta(days=6)


def latest_listing_day() -> date:
    return max(paper.first for paper in sample())
