""""New on arXiv" through the front door: a period's listings as a viewer sees them, and the
categories a signed-in reader follows.

A signed-in reader who asks for no category sees the categories they follow, in their own order
(their For-you score, best first) once the recommender has something to go on; anyone else sees
arXiv's order. Hidden papers are left out (admins see them marked), as everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Sequence

from papersift.errors import BadInput
from papersift.feed.arxiv import ArxivPage, check_categories, new_on_arxiv
from papersift.feed.daily import Period, parse_period, period_for_date
from papersift.model import User
from papersift.service.catalog import Card, Catalog, pages_for

Scores = Callable[[User, list[str], str], dict[str, float]]


@dataclass
class ArxivView:
    page: ArxivPage
    cards: list[Card]
    pages: int
    followed: list[str] = field(default_factory=list)  # the viewer's categories (signed in)
    available: list[tuple[str, int]] = field(default_factory=list)  # categories listed in the period

    def kinds(self) -> dict[str, str]:
        """paper id -> new | cross | replace, for the cards shown."""
        return {it.paper_id: it.kind for it in self.page.items}


class Listings:
    def __init__(self, catalog: Catalog, scores: Scores):
        self.catalog, self.store, self._scores = catalog, catalog.store, scores

    def latest_day(self, categories: Sequence[str] = ()) -> str | None:
        """The latest day arXiv listed papers on (in ``categories`` when given)."""
        return self.store.nearest_listing_days("9999-12-31", list(categories))[0]

    def page(self, viewer: User | None, date_: str | None = None, week: str | None = None, month: str | None = None,
             categories: Sequence[str] = (), tab: str = "new", order: str | None = None, page: int = 1,
             limit: int = 50) -> ArxivView:
        """One page of a tab; ``order`` None: the reader's own for a signed-in reader, else arXiv's."""
        followed = self.store.followed_categories(viewer.id) if viewer is not None else []
        chosen = check_categories(categories) or followed
        period = self._period(date_, week, month, chosen)
        hidden = self.catalog.hidden_ids()
        excluded = frozenset(self.catalog._excluded(viewer, hidden))
        scores = None
        if viewer is not None and order in (None, "score"):
            day_to = period.end.isoformat()
            scores = lambda ids: self._scores(viewer, ids, day_to)  # noqa: E731 - bound to this reader and day
        result = new_on_arxiv(self.store, period, chosen, tab, order or ("score" if scores else "listing"),
                              page, limit, excluded, scores)
        if order is None and scores is not None and all(it.score is None for it in result.items):
            result.order = "listing"  # nothing to score with yet: arXiv's order it was
        cards = self.catalog.cards([it.paper for it in result.items if it.paper is not None], viewer, hidden)
        items = {it.paper_id: it for it in result.items}
        for card in cards:
            card.feed_day, card.listing = items[card.paper.id].day, items[card.paper.id].kind
        available = self.store.listing_categories(period.start.isoformat(), period.end.isoformat())
        return ArxivView(result, cards, pages_for(result.total, limit), followed, available[:60])

    def _period(self, date_: str | None, week: str | None, month: str | None, categories: list[str]) -> Period:
        given = [(k, v) for k, v in (("date", date_), ("week", week), ("month", month)) if v]
        if len(given) > 1:
            raise BadInput("give only one of date, week, month")
        if given:
            return parse_period(*given[0])
        latest = self.latest_day(categories) or self.latest_day()
        return parse_period("date", latest) if latest else period_for_date(datetime.now(timezone.utc).date())

    # ---- the categories a reader follows
    def followed(self, viewer: User) -> list[str]:
        return self.store.followed_categories(viewer.id)

    def follow(self, viewer: User, categories: Sequence[str]) -> list[str]:
        """Replace the reader's followed categories (at most MAX_CATEGORIES, each checked)."""
        chosen = check_categories(categories)
        self.store.set_followed_categories(viewer.id, chosen)
        return self.store.followed_categories(viewer.id)

