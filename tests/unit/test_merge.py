import copy

import pytest

from papersift.model import FeedEntry, Paper
from papersift.store.merge import BIBLIOGRAPHIC, COMMUNITY, LISTED, PUBLISHED, _ranks, merge, source_rank


def rec(source, at, **fields):
    return Paper(id="2405.15738", source=source, observed_at=at, **fields)


def test_first_record_is_taken_whole():
    paper, changed = merge(None, rec("hf-jsonl", "2024-06-01T00:00:00Z", title="T", upvotes=3))
    assert changed and paper.title == "T" and paper.upvotes == 3
    assert paper.provenance["title"] == {"source": "hf-jsonl", "at": "2024-06-01T00:00:00Z"}


def test_arxiv_beats_hf_for_bibliographic_fields_regardless_of_order():
    hf = rec("hf-jsonl", "2024-06-02T00:00:00Z", title="HF title", abstract="hf", upvotes=5)
    ax = rec("arxiv-oai", "2024-05-01T00:00:00Z", title="arXiv title", categories=["cs.CL"])
    a, _ = merge(merge(None, hf)[0], ax)
    b, _ = merge(merge(None, ax)[0], hf)
    for paper in (a, b):
        assert paper.title == "arXiv title"
        assert paper.abstract == "hf"  # arXiv said nothing: the HF value stays
        assert paper.upvotes == 5 and paper.categories == ["cs.CL"]
        assert paper.provenance["title"]["source"] == "arxiv-oai"


def test_newest_capture_wins_for_community_fields():
    old = rec("hf-jsonl", "2024-06-01T00:00:00Z", upvotes=10)
    new = rec("hf-api", "2024-06-05T00:00:00Z", upvotes=42)
    assert merge(merge(None, new)[0], old)[0].upvotes == 42
    assert merge(merge(None, old)[0], new)[0].upvotes == 42


def test_empty_values_never_overwrite():
    paper, _ = merge(None, rec("arxiv-jsonl", "2025-01-01T00:00:00Z", title="T", authors=["A"]))
    paper, changed = merge(paper, rec("arxiv-oai", "2025-01-02T00:00:00Z", title="", authors=[]))
    assert paper.title == "T" and paper.authors == ["A"] and not changed


def test_same_record_twice_is_unchanged_and_feed_days_union():
    r1 = rec("hf-jsonl", "2024-06-01T00:00:00Z", title="T", feed_entry=FeedEntry(day="2024-05-27"))
    r2 = rec("hf-jsonl", "2024-06-03T00:00:00Z", title="T", feed_entry=FeedEntry(day="2024-05-29"))
    paper, _ = merge(None, r1)
    paper, _ = merge(paper, r2)
    assert paper.feed_days == ["2024-05-27", "2024-05-29"]
    for again in (r1, r2):
        assert merge(paper, again)[1] is False


def test_precedence_tables_match_docs_data_md():
    # docs/DATA.md "Merge precedence" documents these rankings, highest first
    assert BIBLIOGRAPHIC == ["arxiv-oai", "arxiv-jsonl", "arxiv-rss", "hf-api", "hf-jsonl", "beir", "submit"]
    assert PUBLISHED == [("hf-api", "hf-jsonl", "arxiv-oai"), ("arxiv-jsonl", "arxiv-rss"), "beir", "submit"]
    assert LISTED == [("arxiv-rss", "arxiv-jsonl"), "arxiv-oai"]
    assert COMMUNITY == [("hf-api", "hf-jsonl"), "submit"]
    assert source_rank("published", "hf-jsonl") == source_rank("published", "arxiv-oai") > source_rank(
        "published", "arxiv-jsonl") > source_rank("published", "beir") > source_rank("published", "submit") > 0
    assert source_rank("title", "arxiv-oai") > source_rank("title", "hf-api") > source_rank("title", "hf-jsonl")
    assert source_rank("upvotes", "hf-api") == source_rank("upvotes", "hf-jsonl") > source_rank("upvotes", "submit")
    assert source_rank("upvotes", "arxiv-oai") == 0 and source_rank("title", "nowhere") == 0


def test_published_has_its_own_precedence():
    # HF (exact v1 time) outranks the listing archive (announcement day only) for `published`, while
    # the archive still outranks HF for the title: the ordinary rule would keep the archive's day
    listing = rec("arxiv-jsonl", "2024-06-10T00:00:00Z", title="Listing title", published="2024-05-27T00:00:00Z")
    hf = rec("hf-jsonl", "2024-06-01T00:00:00Z", title="HF title", published="2024-05-24T17:59:12Z")
    for paper in (merge(merge(None, listing)[0], hf)[0], merge(merge(None, hf)[0], listing)[0]):
        assert paper.published == "2024-05-24T17:59:12Z"
        assert paper.provenance["published"] == {"source": "hf-jsonl", "at": "2024-06-01T00:00:00Z"}
        assert paper.title == "Listing title"


def test_published_ties_between_hf_and_oai_go_to_the_newest_capture():
    # OAI and HF rank the same for `published` (the ordinary rule would always keep OAI's)
    oai = rec("arxiv-oai", "2024-06-01T00:00:00Z", title="OAI title", published="2024-05-24T00:00:00Z")
    hf = rec("hf-api", "2024-06-05T00:00:00Z", title="HF title", published="2024-05-24T17:59:12Z")
    for paper in (merge(merge(None, oai)[0], hf)[0], merge(merge(None, hf)[0], oai)[0]):
        assert paper.published == "2024-05-24T17:59:12Z" and paper.title == "OAI title"
    # observed at the same time: the incoming value wins a tie ("at the same time or later")
    again = rec("arxiv-oai", "2024-06-05T00:00:00Z", published="2024-05-23T00:00:00Z")
    paper, changed = merge(merge(None, hf)[0], again)
    assert changed and paper.published == "2024-05-23T00:00:00Z"
    assert paper.provenance["published"] == {"source": "arxiv-oai", "at": "2024-06-05T00:00:00Z"}


def test_lower_ranked_or_older_values_leave_the_record_unchanged():
    hf = rec("hf-api", "2024-06-05T00:00:00Z", title="HF title", published="2024-05-24T17:59:12Z", upvotes=9)
    base, _ = merge(None, hf)
    for incoming in (rec("beir", "2024-07-01T00:00:00Z", title="BEIR", published="2024-01-01T00:00:00Z"),
                     rec("hf-jsonl", "2024-06-04T23:59:59Z", title="Old", published="2024-05-20T00:00:00Z",
                         upvotes=3),
                     rec("submit", "2024-08-01T00:00:00Z", upvotes=100)):
        paper, changed = merge(base, incoming)
        assert not changed and paper == base
    assert base.provenance["upvotes"] == {"source": "hf-api", "at": "2024-06-05T00:00:00Z"}


def test_incoming_records_need_source_and_time():
    with pytest.raises(ValueError):
        merge(None, Paper(id="2405.15738", observed_at="2024-06-01T00:00:00Z", title="T"))
    with pytest.raises(ValueError):
        merge(None, Paper(id="2405.15738", source="hf-jsonl", title="T"))


def test_merge_does_not_alias_or_modify_its_inputs():
    first = rec("hf-jsonl", "2024-06-01T00:00:00Z", authors=["A"], feed_entry=FeedEntry(day="2024-05-27"))
    paper, _ = merge(None, first)
    first.authors.append("mutated later")
    assert paper.authors == ["A"]
    snapshot = copy.deepcopy(paper)
    merged, changed = merge(paper, rec("arxiv-oai", "2024-06-02T00:00:00Z", authors=["A", "B"],
                                       feed_entry=FeedEntry(day="2024-05-28")))
    assert changed and merged.authors == ["A", "B"] and merged.feed_days == ["2024-05-27", "2024-05-28"]
    assert paper == snapshot  # the stored record given in is untouched


def test_a_new_value_from_the_same_capture_is_a_change():
    # same source and time as the stored stamp (so the provenance does not change), another value
    first = rec("hf-jsonl", "2024-06-01T00:00:00Z", title="First")
    paper, _ = merge(None, first)
    again, changed = merge(paper, rec("hf-jsonl", "2024-06-01T00:00:00Z", title="Fixed typo"))
    assert changed and again.title == "Fixed typo"
    assert again.provenance["title"] == paper.provenance["title"]


def test_the_missing_source_message():
    with pytest.raises(ValueError, match="^incoming records need source and observed_at$"):
        merge(None, Paper(id="2405.15738", title="T"))


def test_rank_tables_from_orders():
    # the tables are built once at import; build one here so a broken builder shows
    assert _ranks(["arxiv-oai", ("hf-api", "hf-jsonl"), "submit"]) == {
        "arxiv-oai": 3, "hf-api": 2, "hf-jsonl": 2, "submit": 1}
    assert _ranks([]) == {}


def test_an_exact_listing_day_replaces_the_estimate_and_never_the_reverse():
    # OAI-PMH's day is computed from a submission date; arXiv's own listings know it
    estimate = rec("arxiv-oai", "2025-09-20T00:00:00Z", listed="2025-09-16")
    exact = rec("arxiv-rss", "2025-09-18T00:00:00Z", listed="2025-09-18")
    for paper in (merge(merge(None, estimate)[0], exact)[0], merge(merge(None, exact)[0], estimate)[0]):
        assert paper.listed == "2025-09-18"
        assert paper.provenance["listed"]["source"] == "arxiv-rss"
    assert source_rank("listed", "arxiv-jsonl") == source_rank("listed", "arxiv-rss") > source_rank("listed", "arxiv-oai")
    assert source_rank("listed", "hf-api") == 0


def test_replacement_days_are_a_union_without_the_first_listing():
    first = rec("arxiv-jsonl", "2025-09-18T00:00:00Z", listed="2025-09-18", replaced=["2025-09-25"])
    again = rec("arxiv-rss", "2025-10-02T00:00:00Z", replaced=["2025-10-02", "2025-09-18"])
    paper, changed = merge(merge(None, first)[0], again)
    assert changed and paper.replaced == ["2025-09-25", "2025-10-02"]  # the first listing is no replacement
    assert merge(paper, again)[1] is False
