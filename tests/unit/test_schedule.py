"""arXiv's announcement schedule (ingest/schedule.py) and the listing days each arXiv source gives a
paper (the archive's dates folded onto weekdays, OAI-PMH's estimate from the submission date)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from papersift.ingest.arxiv import _estimated_listing, parse_arxiv_jsonl
from papersift.ingest.schedule import (
    EASTERN,
    listing_day_of_submission,
    listing_day_of_submission_date,
    listing_weekday,
    next_weekday,
)


def eastern(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=EASTERN)


@pytest.mark.parametrize("submitted, listed", [
    ("2025-09-15 13:59", "2025-09-16"),  # Monday before the 14:00 cutoff: announced that evening, Tuesday's listing
    ("2025-09-15 14:00", "2025-09-17"),  # at the cutoff: the next evening's announcement
    ("2025-09-18 09:00", "2025-09-19"),  # Thursday morning: Friday's listing
    ("2025-09-18 15:00", "2025-09-22"),  # Thursday afternoon: announced Sunday evening, Monday's listing
    ("2025-09-19 10:00", "2025-09-22"),  # Friday morning: Monday's listing
    ("2025-09-19 14:30", "2025-09-23"),  # Friday afternoon: announced Monday evening, Tuesday's
    ("2025-09-20 12:00", "2025-09-23"),  # Saturday
    ("2025-09-21 23:59", "2025-09-23"),  # Sunday night
])
def test_a_submission_is_listed_after_the_next_cutoff(submitted, listed):
    assert listing_day_of_submission(eastern(submitted)).isoformat() == listed


def test_the_cutoff_is_in_eastern_time_whatever_zone_the_time_comes_in():
    # 17:30 UTC is 13:30 EDT (before the cutoff) in September and 12:30 EST in December
    assert listing_day_of_submission(datetime(2025, 9, 15, 17, 30, tzinfo=timezone.utc)) == date(2025, 9, 16)
    assert listing_day_of_submission(datetime(2025, 9, 15, 18, 30, tzinfo=timezone.utc)) == date(2025, 9, 17)
    assert listing_day_of_submission(datetime(2025, 12, 15, 18, 30, tzinfo=timezone.utc)) == date(2025, 12, 16)


def test_weekdays_and_weekend_listings():
    assert next_weekday(date(2025, 9, 19)) == date(2025, 9, 22)  # Friday -> Monday
    assert next_weekday(date(2025, 9, 16)) == date(2025, 9, 17)
    assert [listing_weekday(date(2025, 9, d)).day for d in (18, 19, 20, 21, 22)] == [18, 19, 19, 19, 22]
    assert listing_day_of_submission_date(date(2025, 9, 19)) == date(2025, 9, 22)


def test_the_archive_folds_weekend_repeats_and_keeps_later_listings_as_replacements():
    paper = parse_arxiv_jsonl({"id": "2503.21208", "title": "T", "first_listing_date": "2025-03-28",
                               "listing_dates": ["2025-03-28", "2025-03-29", "2025-03-30", "2025-12-12"]})
    assert paper.listed == "2025-03-28" and paper.replaced == ["2025-12-12"]
    weekend = parse_arxiv_jsonl({"id": "2503.21209", "title": "T", "first_listing_date": "2025-03-29",
                                 "listing_dates": ["2025-03-29", "2025-03-30"]})
    assert weekend.listed == "2025-03-28" and weekend.replaced == []  # a Saturday capture of Friday's listing
    no_first = parse_arxiv_jsonl({"id": "2503.21210", "title": "T", "listing_dates": ["2025-04-02", "2025-04-01"]})
    assert no_first.listed == "2025-04-01" and no_first.replaced == ["2025-04-02"]


def test_oai_pmh_estimates_the_day_from_the_submission_date():
    assert _estimated_listing("2025-09-19") == "2025-09-22"
    assert _estimated_listing(None) is None
    assert _estimated_listing("9999-12-31") is None  # no weekday after the calendar's last day
