"""Hybrid search over a real store, lexical index and MiniLM vectors: what the words match and what the
meaning adds, counted apart; pages that walk exactly the total; a paper still waiting for its vector
ranked on its words."""

import pytest

from papersift.model import Paper
from papersift.search.searcher import MAX_RESULTS, SearchResults

from ..helpers import topics_searcher


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    return topics_searcher(tmp_path_factory.mktemp("counts"))


def test_the_total_is_the_papers_the_words_match_plus_those_the_meaning_adds(searcher):
    res = searcher.search("diffusion", per_page=10)
    words = searcher.indexes.lexical.search(searcher_query("diffusion"), None, limit=100).total
    assert res.matched == words == 2  # "diffusion models for video synthesis", "molecule generation with diffusion"
    assert res.related == 8 and res.total == 10  # every other paper of the ten, by meaning
    assert res.counts == "2 papers match the words; 8 more are related by meaning"
    top = [h.paper.id for h in res.hits[:2]]
    assert all("diffusion" in searcher.indexes.store.get_paper(pid).title.lower() for pid in top)


def test_pages_walk_exactly_the_total_once_each(searcher):
    seen = []
    first = searcher.search("graph", per_page=3)
    for page in range(1, -(-first.total // 3) + 1):
        res = searcher.search("graph", per_page=3, page=page)
        assert res.total == first.total and (res.matched, res.related) == (first.matched, first.related)
        seen += [h.paper.id for h in res.hits]
    assert len(seen) == len(set(seen)) == first.total


def test_other_modes_say_what_they_counted(searcher):
    bm25 = searcher.search("diffusion", mode="bm25")
    assert (bm25.matched, bm25.related, bm25.counts) == (2, 0, "2 papers match the words")
    dense = searcher.search("diffusion", mode="dense")
    assert dense.matched is None and dense.related == dense.total == 10
    assert dense.counts == "10 papers nearest in meaning"
    many = SearchResults("q", "hybrid", "relevance", 1, 10, 5000, [], 1.0, matched=4_990, related=10)
    assert many.counts.endswith(f"(the first {MAX_RESULTS:,} can be paged through)")


def test_a_paper_waiting_for_its_vector_is_ranked_on_its_words(tmp_path):
    searcher = topics_searcher(tmp_path)
    store = searcher.indexes.store
    store.upsert_papers([Paper(id="2405.20000", title="Zeolite catalysis screening", abstract="We screen zeolites.",
                               categories=["cs.LG"], published="2024-05-20T00:00:00Z", source="arxiv-oai",
                               observed_at="2024-05-21T00:00:00Z")])
    searcher.indexes.sync_lexical()  # the words are indexed at once; the vector comes later
    assert searcher.indexes.vectors.vector("2405.20000") is None
    res = searcher.search("zeolite catalysis")
    assert res.mode == "hybrid" and res.hits[0].paper.id == "2405.20000"
    assert res.matched == 1


def searcher_query(text):
    from papersift.query import parse_query
    return parse_query(text)
