"""JSON shapes shared by the CLI's --json output and the JSON API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from papersift.feed.daily import FeedPage
from papersift.search.searcher import Hit, SearchResults

if TYPE_CHECKING:
    from papersift.service import ArxivView, Card


def hit_json(hit: Hit) -> dict:
    """One result; its paper's upvotes are the displayed count (the front door puts it there)."""
    data = hit.paper.to_dict()
    data.pop("provenance", None)
    data["score"] = round(hit.score, 6)
    if hit.snippets:
        data["snippets"] = hit.snippets
    return data


def search_json(res: SearchResults) -> dict:
    return {
        "query": res.query, "mode": res.mode, "sort": res.sort, "page": res.page,
        "per_page": res.per_page, "total": res.total, "matched": res.matched, "related": res.related,
        "counts": res.counts, "took_ms": round(res.took_ms, 2), "notes": list(res.notes),
        "results": [hit_json(h) for h in res.hits],
    }


def feed_page_json(feed: FeedPage) -> dict:
    period = feed.period
    papers = []
    for item in feed.items:
        data = item.paper.to_dict()
        data.pop("provenance", None)
        data.update(upvotes=item.upvotes, trending_score=round(item.trending, 6), feed_day=item.entry.day,
                    rank=item.entry.rank, submitted_by=item.entry.submitted_by)
        papers.append(data)
    return {
        "period": {"kind": period.kind, "label": period.label, "start": period.start.isoformat(),
                   "end": period.end.isoformat(),
                   "previous": period.previous.label if period.previous else None,  # None at the calendar's edge
                   "next": period.next.label if period.next else None},
        "sort": feed.sort, "page": feed.page, "limit": feed.limit, "total": feed.total,
        "papers": papers,
        "previous_day_with_papers": feed.previous_day_with_papers,
        "next_day_with_papers": feed.next_day_with_papers,
    }


def listed_paper_json(card: Card, day: str, kind: str, category: str, score: float | None) -> dict:
    data = card.paper.to_dict()
    data.pop("provenance", None)  # where each field came from: /api/v1/papers/{id} has it
    data["upvotes"] = card.upvotes
    data["listing"] = {"day": day, "kind": kind, "category": category,
                       "score": round(score, 6) if score is not None else None}
    return data


def arxiv_json(view: ArxivView) -> dict:
    """One page of a tab as ``ArxivOut``."""
    page, period = view.page, view.page.period
    cards = {card.paper.id: card for card in view.cards}
    results = [listed_paper_json(cards[it.paper_id], it.day, it.kind, it.category, it.score)
               for it in page.items if it.paper_id in cards]
    return {
        "period": {"kind": period.kind, "label": period.label, "from": period.start.isoformat(),
                   "to": period.end.isoformat()},
        "categories": page.categories, "tab": page.tab, "order": page.order, "counts": page.counts,
        "total": page.total, "page": page.page, "limit": page.limit, "pages": view.pages,
        # an empty period says where the nearest listings are, so a client can step there
        "previous_day": page.previous_day_with_papers, "next_day": page.next_day_with_papers,
        "results": results,
    }
