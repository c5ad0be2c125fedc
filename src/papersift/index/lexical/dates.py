"""Dates as tantivy holds them: the ``published`` value of a paper and the range query of a filter."""

from __future__ import annotations

from datetime import date, datetime, time as dtime, timedelta, timezone

import tantivy
from tantivy import Query

from papersift.query import Filters

# tantivy stores dates as i64 nanoseconds since 1970: these are the first and last instants it can
# hold (about 1677-09-21 to 2262-04-11). Python dates run from year 1 to 9999, so every date that
# reaches tantivy is clamped or checked against these first.
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
DATE_MIN = _EPOCH - timedelta(microseconds=2**63 // 1000)
DATE_MAX = _EPOCH + timedelta(microseconds=(2**63 - 1) // 1000)


def published_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None  # a bad date must not stop indexing; the paper just has no date
    dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
    return dt if DATE_MIN <= dt <= DATE_MAX else None  # beyond tantivy's range: no date, as above


def date_range(schema: tantivy.Schema, filters: Filters) -> Query:
    """``published`` within the filters' inclusive days, bounds clamped to what tantivy holds.

    A range starting after the last representable instant (or ending before the first) matches
    nothing; a bound beyond either end is no bound at all. Python's own limits are handled
    too: the day after 9999-12-31 does not exist, so that "to" means "no upper bound".
    """
    lower, upper = DATE_MIN, DATE_MAX
    if filters.date_from:
        lower = max(lower, datetime.combine(date.fromisoformat(filters.date_from), dtime(), timezone.utc))
    include_upper = True
    if filters.date_to:
        last = date.fromisoformat(filters.date_to)
        if last < date.max:  # inclusive day: everything before the next midnight
            end = datetime.combine(last + timedelta(days=1), dtime(), timezone.utc)
            if end <= DATE_MAX:
                upper, include_upper = end, False
    if lower > DATE_MAX or upper < DATE_MIN or (lower >= upper and not include_upper):
        return Query.empty_query()
    return Query.range_query(schema, "published", tantivy.FieldType.Date, lower, upper,
                             include_upper=include_upper)
