"""arXiv's listings in the store: the rows derived from each paper's listing days and categories,
the queries "New on arXiv" and For you make, the day every period ends on, and the categories a
reader follows. Tests taking ``store`` run on a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from papersift.ingest.arxiv import parse_arxiv_jsonl
from papersift.model import FeedEntry, Paper
from papersift.store.papers import listing_rows


def listed(pid, categories, first, *more, source="arxiv-jsonl"):
    return parse_arxiv_jsonl({"id": pid, "title": f"Paper {pid}", "categories": categories,
                              "first_listing_date": first, "listing_dates": [first, *more]}) if source == "arxiv-jsonl" \
        else Paper(id=pid, title=f"Paper {pid}", categories=categories, listed=first, replaced=list(more),
                   source=source, observed_at=f"{first}T00:00:00Z")


def test_rows_are_new_in_the_primary_category_cross_in_the_others_and_replacements_after():
    paper = listed("2509.00001", ["cs.CL", "cs.LG", "cs.CL"], "2025-09-19", "2025-09-20", "2025-09-21", "2025-09-25")
    assert paper.listed == "2025-09-19" and paper.replaced == ["2025-09-25"]  # Fri-Sat-Sun is one listing
    assert listing_rows(paper) == [("cs.CL", "2025-09-19", "2509.00001", "new"),
                                   ("cs.LG", "2025-09-19", "2509.00001", "cross"),
                                   ("cs.CL", "2025-09-25", "2509.00001", "replace"),
                                   ("cs.LG", "2025-09-25", "2509.00001", "replace")]
    assert listing_rows(Paper(id="2509.00002", categories=["cs.CL"])) == []  # never listed: no rows


def test_listings_filter_by_day_and_category(store):
    store.upsert_papers([listed("2509.00001", ["cs.CL", "cs.LG"], "2025-09-18"),
                         listed("2509.00002", ["cs.LG"], "2025-09-19"),
                         listed("2509.00003", ["cs.CV", "cs.CL"], "2025-09-22", "2025-09-30")])
    assert store.listings("2025-09-18", "2025-09-19") == [
        ("2509.00001", "2025-09-18", "new", "cs.CL"), ("2509.00001", "2025-09-18", "cross", "cs.LG"),
        ("2509.00002", "2025-09-19", "new", "cs.LG")]
    assert store.listings("2025-09-01", "2025-09-30", ["cs.CL"]) == [
        ("2509.00001", "2025-09-18", "new", "cs.CL"), ("2509.00003", "2025-09-22", "cross", "cs.CL"),
        ("2509.00003", "2025-09-30", "replace", "cs.CL")]
    assert store.listings("2025-09-01", "2025-09-30", ["math.AG"]) == []
    assert store.listing_categories("2025-09-01", "2025-09-30") == [("cs.CL", 2), ("cs.LG", 2), ("cs.CV", 1)]


def test_rows_follow_the_merged_record_and_an_unchanged_record_writes_nothing(store):
    store.upsert_papers([listed("2509.00001", ["cs.CL", "cs.AI"], "2025-09-16", source="arxiv-oai")])  # an estimate
    seq = store.max_seq()
    store.upsert_papers([listed("2509.00001", ["cs.CL", "cs.AI"], "2025-09-18")])  # arXiv's own listing
    assert store.listings("2025-09-01", "2025-09-30") == [("2509.00001", "2025-09-18", "cross", "cs.AI"),
                                                          ("2509.00001", "2025-09-18", "new", "cs.CL")]
    assert store.upsert_papers([listed("2509.00001", ["cs.CL", "cs.AI"], "2025-09-20",
                                       source="arxiv-oai")]).unchanged == 0  # a newer estimate: provenance moves
    assert store.listings("2025-09-01", "2025-09-30")[0][1] == "2025-09-18"  # the estimate does not win back
    again = store.upsert_papers([listed("2509.00001", ["cs.CL", "cs.AI"], "2025-09-18")])
    assert again.unchanged == 1 and store.max_seq() == seq + 2


def test_the_latest_listing_day_ignores_local_submissions_and_lone_replacements(store):
    assert store.latest_listing_day() is None
    store.upsert_papers([listed("2509.00001", ["cs.CL"], "2025-09-18", "2025-12-12")])  # replaced in December
    assert store.latest_listing_day() == "2025-09-18"
    submitted = Paper(id="2509.00002", title="Mine", source="submit", observed_at="2026-12-07T10:00:00Z",
                      feed_entry=FeedEntry(day="2026-12-07", upvotes=0, submitted_by="ada"))
    store.upsert_papers([submitted])
    assert store.latest_listing_day() == "2025-09-18"
    assert store.latest_feed_day() == "2026-12-07" and store.latest_feed_day(harvested=True) is None
    hf = Paper(id="2509.00003", title="Picked", source="hf-jsonl", observed_at="2025-09-20T08:00:00Z",
               feed_entry=FeedEntry(day="2025-09-20", upvotes=4, rank=0))
    store.upsert_papers([hf])
    assert store.latest_listing_day() == "2025-09-20" == store.latest_feed_day(harvested=True)


def test_nearest_listing_days_skip_replacement_only_days(store):
    store.upsert_papers([listed("2509.00001", ["cs.CL"], "2025-09-15", "2025-09-24"),
                         listed("2509.00002", ["cs.LG"], "2025-09-26")])
    assert store.nearest_listing_days("2025-09-20") == ("2025-09-15", "2025-09-26")
    assert store.nearest_listing_days("2025-09-20", ["cs.CL"]) == ("2025-09-15", None)
    assert store.nearest_listing_days("2025-09-20", ["cs.LG", "cs.CL"]) == ("2025-09-15", "2025-09-26")


def test_followed_categories_are_replaced_whole_and_forgotten_with_the_signals(store):
    user = store.create_user("ada@example.org", "ada", "x")
    assert store.followed_categories(user.id) == []
    store.set_followed_categories(user.id, ["cs.LG", "cs.CL", "cs.LG"])
    assert store.followed_categories(user.id) == ["cs.CL", "cs.LG"]
    store.set_followed_categories(user.id, ["stat.ML"])
    assert store.followed_categories(user.id) == ["stat.ML"]
    assert store.delete_user_signals(user.id) == 0 and store.followed_categories(user.id) == ["stat.ML"]
    assert store.delete_user_signals(user.id, votes_and_saves=True) == 1
    assert store.followed_categories(user.id) == []


def test_voted_listings_are_the_announcements_someone_here_upvoted(store):
    store.upsert_papers([listed("2509.00001", ["cs.CL"], "2025-09-18", "2025-09-25"),
                         listed("2509.00002", ["cs.LG"], "2025-09-19"), listed("2509.00003", ["cs.LG"], "2025-09-19")])
    ada, eve = store.create_user("ada@example.org", "ada", "x"), store.create_user("eve@example.org", "eve", "x")
    assert store.voted_listings("2025-09-01", "2025-09-30") == []
    store.set_vote(ada.id, "2509.00001", True)
    store.set_vote(eve.id, "2509.00002", True)
    assert store.voted_listings("2025-09-01", "2025-09-30") == [("2509.00001", "2025-09-18"), ("2509.00002", "2025-09-19")]
    assert store.voted_listings("2025-09-20", "2025-09-30") == []  # a replacement is no announcement
    store.update_user(eve.id, hidden=True)  # a hidden user's vote does not count
    assert store.voted_listings("2025-09-01", "2025-09-30") == [("2509.00001", "2025-09-18")]
