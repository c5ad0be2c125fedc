"""For you, the cold start and the digests over arXiv's firehose: a store that holds arXiv's listings
and nothing else (the committed sample, 400 papers listed 2025-03 to 2026-04, no Hugging Face feed),
indexed the product's way with the default embedder, served on 127.0.0.1.

Before listings were a feed, this store answered every reader "there are no papers on the feed yet".
"""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from papersift.model import FeedEntry, Paper

from ..arxiv_support import sample
from ..helpers import ARXIV_SAMPLE
from ..recs_support import _seed_embeddings
from ..web_support import FAST_HASHER, served, sign_up

LATEST = max(p.first for p in sample())
MONTH = {p.id for p in sample() if LATEST - timedelta(days=29) <= p.first <= LATEST}


@pytest.fixture(scope="module")
def firehose(tmp_path_factory):
    from papersift.service import Papersift

    tmp = tmp_path_factory.mktemp("firehose")
    svc = Papersift(tmp / "p.db", index_dir=tmp / "idx", password_hasher=FAST_HASHER)
    svc.ingest_file("arxiv-jsonl", ARXIV_SAMPLE)
    _seed_embeddings(svc)
    svc.index()
    with served(svc) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield {"svc": svc, "client": client, "base": base}


def _library(svc, month_ids: set[str]) -> str:
    """A BibTeX library of three papers listed before the last month, on the topic of its first paper."""
    first = sorted(month_ids)[0]
    seed = svc.indexes.vectors.vector(first)
    before = [p.id for p in sample() if p.first < LATEST - timedelta(days=29)]
    liked = sorted(before, key=lambda pid: -float(svc.indexes.vectors.vector(pid) @ seed))[:3]
    return "\n".join(f"@misc{{k{i}, title={{x}}, eprint={{{pid}}}, archivePrefix={{arXiv}}}}"
                     for i, pid in enumerate(liked))


@pytest.fixture(scope="module")
def reader(firehose):
    """A reader who signed up on the site and imported a library of three papers: (user, their ids)."""
    svc = firehose["svc"]
    with httpx.Client(base_url=firehose["base"], timeout=60) as browser:
        assert sign_up(browser, "lab@example.org", name="Lab Reader").status_code == 303
    user = svc.store.get_user_by_email("lab@example.org")
    empty = svc.for_you.recommendations(user, "month", k=10)
    assert empty.day_to == LATEST.isoformat() and not empty.picks and "no positive signal" in empty.reason
    seeded = svc.personal.seed_library(user, _library(svc, MONTH), "library.bib")
    assert len(seeded.added) == 3
    return user, seeded.added


def test_for_you_chooses_from_arxiv_listings_after_a_library_import(firehose, reader):
    svc, (user, liked) = firehose["svc"], reader
    result = svc.for_you.recommendations(user, "month", k=10)
    assert result.day_to == LATEST.isoformat() and result.day_from == (LATEST - timedelta(days=29)).isoformat()
    picks = [p.paper.id for p in result.picks]
    assert len(picks) == min(10, len(MONTH)) and set(picks) <= MONTH, result.reason
    assert not set(picks) & set(liked)


def test_a_submission_never_moves_the_day_every_period_ends_on(firehose, reader):
    svc, (user, _) = firehose["svc"], reader
    today = date.today().isoformat()
    svc.store.upsert_papers([Paper(id="2512.00001", title="A local paper", source="submit",
                                   observed_at=f"{today}T09:00:00Z",
                                   feed_entry=FeedEntry(day=today, upvotes=0, submitted_by="someone"))])
    assert svc.for_you.recommendations(user, "month", k=10).day_to == LATEST.isoformat()
    assert svc.arxiv.page(None).page.period.label == LATEST.isoformat()
    assert svc.daily().period.label == today  # nothing harvested on the curated feed: its own day stands


def test_the_cold_start_offers_arxiv_papers_and_categories(firehose):
    svc = firehose["svc"]
    starters = svc.personal.starters(None)
    assert starters.cards and {c.paper.id for c in starters.cards} <= MONTH
    counted = dict(starters.categories)
    assert counted.get("cs.CV", 0) > 0
    chosen = svc.personal.starters(None, ["cs.CL"])
    assert chosen.cards and all("cs.CL" in c.paper.categories for c in chosen.cards)


def test_the_reader_s_own_order_on_new_on_arxiv(firehose, reader):
    svc, (user, _) = firehose["svc"], reader
    anonymous = svc.arxiv.page(None, month=LATEST.strftime("%Y-%m"))
    assert anonymous.page.order == "listing" and all(it.score is None for it in anonymous.page.items)
    mine = svc.arxiv.page(user, month=LATEST.strftime("%Y-%m"))
    assert mine.page.order == "score"
    scores = [it.score for it in mine.page.items if it.score is not None]
    assert scores and scores == sorted(scores, reverse=True)
    assert {it.paper_id for it in mine.page.items} == {it.paper_id for it in anonymous.page.items}


def test_a_digest_s_pool_holds_the_period_s_arxiv_listings(firehose):
    from papersift.config import Settings
    from papersift.service.digests import DigestPeriod, PeriodPlan

    svc = firehose["svc"]
    start = LATEST - timedelta(days=7)
    period = DigestPeriod("weekly", "w", start, LATEST, "/")
    plan = PeriodPlan(svc.catalog, period, Settings(), lambda: svc.corpus.searcher)
    listed = {p.id for p in sample() if start <= p.first <= LATEST}
    assert listed and listed <= set(plan.pool)


def test_an_upvoted_arxiv_paper_joins_the_community_feed_and_trending(firehose, reader):
    svc, (user, _) = firehose["svc"], reader
    day = LATEST.isoformat()
    listed_that_day = sorted(p.id for p in sample() if p.first == LATEST)
    assert svc.daily(day).total == 0  # arXiv's listings alone are not the community's picks
    svc.actions.vote(user, listed_that_day[0], True)
    feed = svc.daily(day)
    assert [it.paper.id for it in feed.items] == [listed_that_day[0]] and feed.items[0].upvotes == 1
    week = svc.daily(week=f"{LATEST.isocalendar()[0]}-W{LATEST.isocalendar()[1]:02d}", sort="trending")
    assert listed_that_day[0] in [it.paper.id for it in week.items]
