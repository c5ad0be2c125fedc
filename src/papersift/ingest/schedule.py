"""arXiv's announcement schedule: which listing day a paper belongs to.

arXiv announces new submissions Sunday to Thursday at 20:00 US Eastern time, and each announcement
is the listing of the next weekday: Sunday evening's is Monday's listing, Thursday evening's is
Friday's. A submission received on a weekday before the 14:00 Eastern cutoff goes into that
evening's announcement; one received later, or on a weekend, into the next one. So the listing
days are Monday to Friday, and:

* submitted Monday 13:59 ET  -> announced Monday 20:00 -> listed Tuesday
* submitted Monday 14:00 ET  -> announced Tuesday 20:00 -> listed Wednesday
* submitted Friday 10:00 ET  -> announced Sunday 20:00 -> listed Monday
* submitted Saturday (any time) -> announced Monday 20:00 -> listed Tuesday

arXiv's few holidays (a listing skipped around Christmas, say) are not modelled: a listing day read
from arXiv itself (its daily RSS/Atom listing, or the listing archive) is exact and always wins over
one computed from a submission time. The RSS feeds keep serving Friday's listing over the weekend, so
a listing seen on a Saturday or Sunday is Friday's (``listing_weekday``).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
CUTOFF = time(14, 0)  # Eastern: later submissions wait for the next announcement
_SATURDAY = 5


def next_weekday(day: date) -> date:
    """The first Monday-to-Friday day after ``day``."""
    day += timedelta(days=1)
    while day.weekday() >= _SATURDAY:
        day += timedelta(days=1)
    return day


def listing_weekday(day: date) -> date:
    """The listing a day's feed shows: the day itself on a weekday, Friday's on a weekend."""
    return day - timedelta(days=max(0, day.weekday() - 4))


def listing_day_of_submission(submitted: datetime) -> date:
    """The listing day of a submission made at ``submitted`` (an aware time, any zone)."""
    local = submitted.astimezone(EASTERN)
    day = local.date()
    if day.weekday() >= _SATURDAY or local.time() >= CUTOFF:
        day = next_weekday(day)  # the first cutoff still ahead
    return next_weekday(day)


def listing_day_of_submission_date(submitted: date) -> date:
    """The listing day of a submission known only by its date (OAI-PMH's ``created``): taken as made
    before that day's cutoff, so an estimate that is a weekday early for afternoon submissions."""
    return listing_day_of_submission(datetime.combine(submitted, time(12, 0), tzinfo=EASTERN))
