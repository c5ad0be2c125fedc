from datetime import datetime, timezone

import pytest

from papersift.errors import BadInput
from papersift.feed.daily import daily_papers, parse_period, trending_score
from papersift.model import FeedEntry, Paper
from papersift.store import open_store


def entry(pid, day, votes, published="2024-05-20T00:00:00Z"):
    return Paper(id=pid, title=pid, source="hf-jsonl", observed_at=f"{day}T09:00:00Z", upvotes=votes,
                 published=published, feed_entry=FeedEntry(day=day, upvotes=votes, rank=0))


@pytest.mark.parametrize("kind,value,start,end", [
    ("date", "2024-05-27", "2024-05-27", "2024-05-27"),
    ("week", "2024-W22", "2024-05-27", "2024-06-02"),
    ("week", "2020-W53", "2020-12-28", "2021-01-03"),
    ("month", "2024-02", "2024-02-01", "2024-02-29"),
    ("month", "2024-12", "2024-12-01", "2024-12-31"),
])
def test_periods(kind, value, start, end):
    period = parse_period(kind, value)
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)


@pytest.mark.parametrize("kind,value", [("date", "2024-13-01"), ("date", "2024-02-30"), ("date", "yesterday"),
                                        ("week", "2024-W54"), ("week", "2021-W53"), ("month", "2024-13"),
                                        ("month", "24-01"), ("year", "2024")])
def test_bad_periods(kind, value):
    with pytest.raises(BadInput):
        parse_period(kind, value)


def test_navigation():
    assert parse_period("week", "2024-W01").shifted(-1).label == "2023-W52"
    assert parse_period("month", "2024-01").shifted(-1).label == "2023-12"
    assert parse_period("date", "2024-03-01").shifted(-1).label == "2024-02-29"


def test_trending_decays_with_age():
    ref = datetime(2024, 6, 1, 12, tzinfo=timezone.utc)
    assert trending_score(10, "2024-06-01", ref) > trending_score(10, "2024-05-30", ref)
    # an older paper needs many more votes to keep up
    assert trending_score(50, "2024-05-30", ref) < trending_score(20, "2024-06-01", ref)
    assert trending_score(30, "2024-06-01", ref) > trending_score(20, "2024-06-01", ref)


def test_daily_sorts_and_empty_days(tmp_path):
    store = open_store(tmp_path / "p.db")
    store.upsert_papers([entry("2405.00001", "2024-05-27", 5, "2024-05-24T00:00:00Z"),
                         entry("2405.00002", "2024-05-27", 50, "2024-05-22T00:00:00Z"),
                         entry("2405.00003", "2024-05-31", 30, "2024-05-30T00:00:00Z")])
    week = parse_period("week", "2024-W22")
    now = datetime(2024, 6, 10, tzinfo=timezone.utc)
    ids = lambda sort: [i.paper.id for i in daily_papers(store, week, sort, now=now).items]
    assert ids("upvotes") == ["2405.00002", "2405.00003", "2405.00001"]
    assert ids("published") == ["2405.00003", "2405.00001", "2405.00002"]
    assert ids("trending") == ["2405.00003", "2405.00002", "2405.00001"]  # fresh votes beat old ones
    day = daily_papers(store, parse_period("date", "2024-05-27"), "trending", now=now)
    assert [i.paper.id for i in day.items] == ["2405.00002", "2405.00001"]  # one day: trending == upvotes
    empty = daily_papers(store, parse_period("date", "2024-05-29"), now=now)
    assert empty.total == 0
    assert (empty.previous_day_with_papers, empty.next_day_with_papers) == ("2024-05-27", "2024-05-31")
    page2 = daily_papers(store, week, "upvotes", page=2, limit=2, now=now)
    assert [i.paper.id for i in page2.items] == ["2405.00001"] and page2.total == 3
    for bad in ({"sort": "hot"}, {"limit": 0}, {"limit": 1000}, {"page": 0}):
        with pytest.raises(BadInput):
            daily_papers(store, week, **bad)
