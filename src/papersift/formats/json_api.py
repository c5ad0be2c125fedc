"""JSON shapes shared by the CLI's --json output and the JSON API."""

from __future__ import annotations

from papersift.feed.daily import FeedPage
from papersift.search.searcher import Hit, SearchResults


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
        "per_page": res.per_page, "total": res.total, "took_ms": round(res.took_ms, 2),
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
