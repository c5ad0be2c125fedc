"""The "New on arXiv" feed: every paper arXiv announced in a period, in some categories, by kind.

A paper's kind is relative to the categories asked for, as on arXiv's own listing pages: on its
first listing day it is **new** where one of them is its primary category and a **cross-list**
where it is only a secondary one; a later version listed again is a **replacement**. Without
categories, every announcement is new. A paper listed twice in a week (new on Monday, replaced on
Wednesday) appears once per tab, on its latest day there.

Order: ``listing`` is arXiv's (newest day first, then by id within a day); ``score`` is a reader's
own order, given as a score per paper by the caller (the front door asks the recommender), best
first, listing order among equals and for papers without a score.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from papersift.errors import BadInput
from papersift.feed.daily import MAX_LIMIT, Period
from papersift.ids import check_category
from papersift.model import Paper
from papersift.store.protocol import Store

TABS = ("new", "cross", "replace")
ORDERS = ("listing", "score")
MAX_CATEGORIES = 20
_RANK = {"new": 0, "cross": 1, "replace": 2}

Scores = Callable[[list[str]], dict[str, float]]


@dataclass
class Listed:
    """One paper of a listing tab: the day it was listed on and the category that brought it."""

    paper_id: str
    day: str
    kind: str
    category: str
    score: float | None = None
    paper: Paper | None = None  # loaded for the page being shown


@dataclass
class ArxivPage:
    period: Period
    categories: list[str]
    tab: str
    order: str
    page: int
    limit: int
    total: int
    counts: dict[str, int] = field(default_factory=dict)  # papers per tab
    items: list[Listed] = field(default_factory=list)
    previous_day_with_papers: str | None = None
    next_day_with_papers: str | None = None


def classify(rows: Sequence[tuple[str, str, str, str]]) -> dict[str, list[Listed]]:
    """The store's listing rows (paper id, day, kind, category) as tabs: one entry per paper and
    tab, its strongest kind that day (new over cross-list), on its latest day."""
    per_day: dict[tuple[str, str], Listed] = {}
    for paper_id, day, kind, category in rows:
        held = per_day.get((paper_id, day))
        if held is None or _RANK[kind] < _RANK[held.kind]:
            per_day[(paper_id, day)] = Listed(paper_id, day, kind, category)
    tabs: dict[str, dict[str, Listed]] = {tab: {} for tab in TABS}
    for item in per_day.values():
        held = tabs[item.kind].get(item.paper_id)
        if held is None or item.day > held.day:
            tabs[item.kind][item.paper_id] = item
    return {tab: list(items.values()) for tab, items in tabs.items()}


def listing_order(items: list[Listed]) -> list[Listed]:
    return sorted(sorted(items, key=lambda it: it.paper_id), key=lambda it: it.day, reverse=True)


def new_on_arxiv(store: Store, period: Period, categories: Sequence[str] = (), tab: str = "new",
                 order: str = "listing", page: int = 1, limit: int = 50, hidden: frozenset[str] = frozenset(),
                 scores: Scores | None = None) -> ArxivPage:
    """One page of a tab of the period's listings; ``hidden``: papers left out; ``scores``: the
    reader's scores for ``order="score"``."""
    categories = check_categories(categories)
    if tab not in TABS:
        raise BadInput(f"unknown tab {str(tab)[:40]!r}: use one of {', '.join(TABS)}")
    if order not in ORDERS:
        raise BadInput(f"unknown order {str(order)[:40]!r}: use one of {', '.join(ORDERS)}")
    if not 1 <= limit <= MAX_LIMIT:
        raise BadInput(f"limit must be between 1 and {MAX_LIMIT}")
    if not 1 <= page <= 10_000:
        raise BadInput("page must be between 1 and 10000")
    rows = [r for r in store.listings(period.start.isoformat(), period.end.isoformat(), categories)
            if r[0] not in hidden]
    tabs = {name: listing_order(items) for name, items in classify(rows).items()}
    items = tabs[tab]
    if order == "score" and scores is not None and items:
        given = scores([it.paper_id for it in items])
        for it in items:
            it.score = given.get(it.paper_id)
        items = sorted(items, key=lambda it: -it.score if it.score is not None else float("inf"))
    result = ArxivPage(period, categories, tab, order, page, limit, len(items),
                       {name: len(found) for name, found in tabs.items()}, items[(page - 1) * limit: page * limit])
    papers = store.get_papers(it.paper_id for it in result.items)
    result.items = [it for it in result.items if it.paper_id in papers]
    for it in result.items:
        it.paper = papers[it.paper_id]
    if not any(result.counts.values()):
        before, after = store.nearest_listing_days(period.start.isoformat(), categories)
        result.previous_day_with_papers = before
        result.next_day_with_papers = after if after is not None and after > period.end.isoformat() else None
    return result


def check_categories(categories: Sequence[str]) -> list[str]:
    """arXiv category names (cs, cs.CL, math.AG, q-bio.NC), ASCII, at most MAX_CATEGORIES."""
    wanted = list(dict.fromkeys(check_category(c) for c in categories if c and c.strip()))
    if len(wanted) > MAX_CATEGORIES:
        raise BadInput(f"at most {MAX_CATEGORIES} categories at a time, not {len(wanted)}")
    return wanted
