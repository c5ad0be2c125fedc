import re
from datetime import date, datetime, timezone

import pytest

from papersift.errors import BadInput
from papersift.feed.daily import GRAVITY, daily_papers, parse_period, period_end, trending_score
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
    def ids(sort):
        return [i.paper.id for i in daily_papers(store, week, sort, now=now).items]
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


def test_gravity_and_trending_formula_are_pinned():
    # trending = (upvotes + 1) / (age_hours + 2) ** 1.5, the age counted from the feed day's midnight (UTC);
    # docs/API.md documents exactly this
    assert GRAVITY == 1.5
    ref = datetime(2024, 6, 1, 12, tzinfo=timezone.utc)
    assert trending_score(10, "2024-06-01", ref) == pytest.approx(11 / 14 ** 1.5, rel=1e-12)
    assert trending_score(0, "2024-05-30", ref) == pytest.approx(1 / 62 ** 1.5, rel=1e-12)
    assert trending_score(99, "2024-05-01", ref) == pytest.approx(100 / (756 + 2) ** 1.5, rel=1e-12)
    # a reference before the day starts counts as age 0, never a negative age
    assert trending_score(3, "2024-06-02", ref) == pytest.approx(4 / 2 ** 1.5, rel=1e-12)


def _week_store(tmp_path):
    store = open_store(tmp_path / "p.db")
    # "old" has more votes but came on Monday; "fresh" came on Friday with fewer
    store.upsert_papers([entry("2405.00001", "2024-05-27", 50), entry("2405.00002", "2024-05-31", 30),
                         entry("2405.00003", "2024-05-29", 0)])
    return store


def test_trending_scores_of_a_week_hand_computed(tmp_path):
    store = _week_store(tmp_path)
    week = parse_period("week", "2024-W22")  # Mon 27 May to Sun 2 Jun: over at 3 Jun 00:00 UTC
    page = daily_papers(store, week, "trending", now=datetime(2024, 6, 20, tzinfo=timezone.utc))
    scores = {i.paper.id: i.trending for i in page.items}
    assert scores == pytest.approx({"2405.00001": 51 / (7 * 24 + 2) ** 1.5,
                                    "2405.00002": 31 / (3 * 24 + 2) ** 1.5,
                                    "2405.00003": 1 / (5 * 24 + 2) ** 1.5}, rel=1e-12)
    assert [i.paper.id for i in page.items] == ["2405.00002", "2405.00001", "2405.00003"]
    # while the week runs the reference is now: Friday noon, the Friday paper is 12 hours old
    live = daily_papers(store, week, "trending", now=datetime(2024, 5, 31, 12, tzinfo=timezone.utc))
    live_scores = {i.paper.id: i.trending for i in live.items}
    assert live_scores["2405.00002"] == pytest.approx(31 / 14 ** 1.5, rel=1e-12)
    assert live_scores["2405.00001"] == pytest.approx(51 / (4 * 24 + 12 + 2) ** 1.5, rel=1e-12)


@pytest.mark.parametrize("kind,value", [("week", "2024-W22"), ("date", "2024-05-31"), ("month", "2024-05")])
def test_a_past_period_ranks_the_same_as_time_passes(tmp_path, kind, value):
    store = _week_store(tmp_path)
    period = parse_period(kind, value)

    def snapshot(now):
        page = daily_papers(store, period, "trending", now=now)
        return [(i.paper.id, i.trending) for i in page.items]

    soon = snapshot(datetime(2024, 6, 3, 0, 0, 1, tzinfo=timezone.utc))
    # two years on, an unfrozen reference would flip the week (votes dominate as ages even out)
    assert snapshot(datetime(2026, 6, 3, tzinfo=timezone.utc)) == soon
    assert snapshot(datetime(2024, 7, 1, tzinfo=timezone.utc)) == soon
    assert soon  # the period has papers


def ranked(pid, day, votes, rank, paper_votes=None):
    return Paper(id=pid, title=pid, source="hf-jsonl", observed_at=f"{day}T09:00:00Z",
                 upvotes=votes if paper_votes is None else paper_votes, published="2024-05-20T00:00:00Z",
                 feed_entry=FeedEntry(day=day, upvotes=votes, rank=rank))


def test_trending_ties_go_to_the_more_upvoted_paper(tmp_path):
    # at 06:00 a fresh paper with no votes scores 1 / 8**1.5 and yesterday's with 7 votes 8 / 32**1.5:
    # exactly equal, so the votes decide
    store = open_store(tmp_path / "p.db")
    store.upsert_papers([ranked("2405.00001", "2024-05-29", 0, 0), ranked("2405.00002", "2024-05-28", 7, 0)])
    page = daily_papers(store, parse_period("week", "2024-W22"), "trending",
                        now=datetime(2024, 5, 29, 6, tzinfo=timezone.utc))
    assert page.items[0].trending == page.items[1].trending
    assert [i.paper.id for i in page.items] == ["2405.00002", "2405.00001"]


def test_upvote_ties_follow_the_day_rank_and_unranked_come_last(tmp_path):
    store = open_store(tmp_path / "p.db")
    store.upsert_papers([ranked("2405.00001", "2024-05-27", 5, None), ranked("2405.00002", "2024-05-27", 5, 3),
                         ranked("2405.00003", "2024-05-27", 5, 1), ranked("2405.00004", "2024-05-27", 9, None),
                         ranked("2405.00005", "2024-05-27", 5, None)])
    ids = [i.paper.id for i in daily_papers(store, parse_period("date", "2024-05-27"), "upvotes").items]
    assert ids == ["2405.00004", "2405.00003", "2405.00002", "2405.00001", "2405.00005"]


def test_shown_votes_are_the_larger_of_the_paper_and_the_day(tmp_path):
    store = open_store(tmp_path / "p.db")
    store.upsert_papers([ranked("2405.00001", "2024-05-27", 10, 0, paper_votes=40),
                         ranked("2405.00002", "2024-05-27", 12, 1, paper_votes=3)])
    page = daily_papers(store, parse_period("date", "2024-05-27"), "upvotes")
    assert {i.paper.id: i.upvotes for i in page.items} == {"2405.00001": 40, "2405.00002": 12}


def test_page_fields_defaults_and_bounds(tmp_path):
    store = _week_store(tmp_path)
    week = parse_period("week", "2024-W22")
    page = daily_papers(store, week)  # the real clock: the week is long over, so frozen scores
    assert (page.period, page.sort, page.page, page.limit, page.total) == (week, "trending", 1, 50, 3)
    assert [i.paper.id for i in page.items] == ["2405.00002", "2405.00001", "2405.00003"]
    second = daily_papers(store, week, "upvotes", page=2, limit=1)
    assert (second.sort, second.page, second.limit) == ("upvotes", 2, 1)
    assert [i.paper.id for i in second.items] == ["2405.00002"]
    for ok in ({"limit": 1}, {"limit": 100}, {"page": 10_000}):
        daily_papers(store, week, **ok)
    for bad, message in (({"sort": "hot"}, "unknown sort 'hot': use one of trending, upvotes, published"),
                         ({"limit": 101}, "limit must be between 1 and 100"),
                         ({"limit": 0}, "limit must be between 1 and 100"),
                         ({"page": 10_001}, "page must be between 1 and 10000")):
        with pytest.raises(BadInput, match=f"^{re.escape(message)}$"):
            daily_papers(store, week, **bad)


def test_empty_periods_point_to_the_nearest_days(tmp_path):
    store = _week_store(tmp_path)
    after = daily_papers(store, parse_period("date", "2024-06-05"))
    assert (after.previous_day_with_papers, after.next_day_with_papers) == ("2024-05-31", None)
    before = daily_papers(store, parse_period("week", "2024-W20"))
    assert (before.previous_day_with_papers, before.next_day_with_papers) == (None, "2024-05-27")


@pytest.mark.parametrize("kind,value,message", [
    ("date", "2024-02-30", "bad date '2024-02-30': expected YYYY-MM-DD"),
    ("date", "20240527", "bad date '20240527': expected YYYY-MM-DD"),  # date.fromisoformat would take it
    ("date", "2024-W22-1", "bad date '2024-W22-1': expected YYYY-MM-DD"),
    ("date", None, "bad date '': expected YYYY-MM-DD"),
    ("week", "2024-W54", "bad week '2024-W54': expected YYYY-Www (ISO week)"),
    ("month", "2024-13", "bad month '2024-13': expected YYYY-MM"),
    ("month", "x" * 60, f"bad month {'x' * 40!r}: expected YYYY-MM"),
    ("year", "2024", "unknown period kind 'year': use date, week or month"),
])
def test_bad_period_messages(kind, value, message):
    with pytest.raises(BadInput, match=f"^{re.escape(message)}$"):
        parse_period(kind, value)


def test_periods_at_the_calendar_edges():
    assert parse_period("month", "2024-05").kind == "month"
    assert parse_period("month", "0001-02").shifted(-1).label == "0001-01"
    assert parse_period("month", "0001-01").shifted(-1) is None
    assert parse_period("month", "9999-11").shifted(1).label == "9999-12"
    assert parse_period("month", "9999-12").shifted(1) is None
    last_week = parse_period("week", "9999-W52")
    assert (last_week.start, last_week.end) == (date(9999, 12, 27), date(9999, 12, 31))
    assert parse_period("week", "9999-W51").end == date(9999, 12, 26)
    now = datetime(2024, 6, 1, tzinfo=timezone.utc)
    for kind, value in (("date", "9999-12-31"), ("month", "9999-12"), ("week", "9999-W52")):
        assert period_end(parse_period(kind, value)) == datetime.max.replace(tzinfo=timezone.utc)
    assert period_end(parse_period("date", "2024-05-31")) == datetime(2024, 6, 1, tzinfo=timezone.utc)
    assert period_end(parse_period("date", "9999-12-31")) > now  # comparable with an aware "now"


def test_newest_first_puts_papers_without_a_date_last(tmp_path):
    store = open_store(tmp_path / "s.db")
    store.upsert_papers([entry("2405.00001", "2024-05-21", 1, published="2024-05-18T00:00:00Z"),
                         entry("2405.00002", "2024-05-21", 2, published=None),
                         entry("2405.00003", "2024-05-21", 3, published="2024-05-20T00:00:00Z")])
    page = daily_papers(store, parse_period("date", "2024-05-21"), "published")
    assert [i.paper.id for i in page.items] == ["2405.00003", "2405.00001", "2405.00002"]
