from papersift.ingest.merge import merge
from papersift.model import FeedEntry, Paper


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
