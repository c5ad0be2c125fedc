"""What keeps hybrid search fast at a million papers without changing what it finds.

Common abstract words count through the title only (``LexicalIndex.search``, ``common_share``), and
the hybrid BM25 leg runs in a thread beside the dense leg (``Searcher.overlap``): the second must
give exactly the serial ranking, the first must leave out only what it says.
"""

import threading

import pytest

from papersift.errors import BadInput
from papersift.index.lexical.bm25 import COMMON_MIN_DOCS, COMMON_SHARE, LexicalIndex
from papersift.model import Paper
from papersift.query import Filters, parse_query
from papersift.search.searcher import _in_background

from ..helpers import topics_searcher


def _corpus(n: int) -> list[Paper]:
    # "model" is in 40% of the abstracts (common), "quantization" and "pruning" in one paper each
    papers = [Paper(id=f"2501.{i:05d}", title=f"Study {i} of topic{i}",
                    abstract=f"We train a model on data{i}." if i % 5 < 2 else f"Notes on subject{i}.")
              for i in range(n - 3)]
    papers += [Paper(id="2502.00001", title="Quantization study", abstract="A model, compressed."),
               Paper(id="2502.00002", title="Unrelated topic", abstract="A model of things."),
               Paper(id="2502.00003", title="A model for pruning", abstract="Nothing shared here.")]
    return papers


def _index(n: int) -> LexicalIndex:
    ix = LexicalIndex(None)
    ix.add(_corpus(n))
    ix.commit()
    return ix


@pytest.fixture(scope="module")
def big():
    assert COMMON_SHARE is not None and COMMON_MIN_DOCS <= 1200
    return _index(1200)


def _ids(ix, text, prune=True):
    return {d for d, _ in ix.search(parse_query(text), None, limit=2000, prune=prune).hits}


def test_a_common_abstract_word_ranks_through_the_title_only(big):
    found = _ids(big, "model quantization")
    assert "2502.00001" in found  # the rare word
    assert "2502.00003" in found  # the common word, in a title
    assert "2502.00002" not in found  # the common word only in its abstract: left out
    assert not any(d.startswith("2501.") for d in found)
    assert "2502.00002" in _ids(big, "model quantization", prune=False)  # as "similar papers" asks
    by_date = {d for d, _ in big.search(parse_query("model quantization"), None, limit=2000, sort="date").hits}
    assert by_date == found  # one match set, one total, whatever the order
    best = big.search(parse_query("model quantization"), None, limit=1, prune=True).hits[0][0]
    assert best == "2502.00001"


def test_every_clause_ranks_when_switched_off_or_all_words_are_common(big):
    big.common_share = None
    try:
        everything = _ids(big, "model quantization")
    finally:
        big.common_share = COMMON_SHARE
    assert {"2502.00001", "2502.00002", "2502.00003"} <= everything
    with_model = {p.id for p in _corpus(1200) if "model" in f"{p.title} {p.abstract}".lower()}
    assert everything == with_model | {"2502.00001"}
    assert _ids(big, "model") == with_model  # nothing but common words: nothing is left out


def test_small_indexes_keep_every_clause():
    small = _index(COMMON_MIN_DOCS - 1)
    assert "2502.00002" in _ids(small, "model quantization")


def test_a_higher_share_keeps_the_word(big):
    big.common_share = 0.5  # "model" is in 40% of the abstracts: not common at 50%
    try:
        assert "2502.00002" in _ids(big, "model quantization")
    finally:
        big.common_share = COMMON_SHARE


def test_snippets_still_mark_common_words(big):
    (paper,) = [p for p in _corpus(1200) if p.id == "2502.00001"]
    marks = big.snippets([paper], parse_query("model quantization"))["2502.00001"]
    assert "<mark>model</mark>" in marks["abstract"].lower()
    assert "<mark>quantization</mark>" in marks["title"].lower()


def test_constraints_and_counts_ignore_the_pruning(big):
    q = parse_query("model quantization")
    assert big.count_passing(q, None) == big.count()  # free terms do not constrain
    assert big.filter_ids(["2502.00002"], q) == {"2502.00002"}


# ---- the BM25 leg beside the dense leg
def test_background_call_returns_its_value_or_raises_its_error():
    assert _in_background(lambda: 42)() == 42

    def bad():
        raise BadInput("no such thing")

    with pytest.raises(BadInput, match="no such thing"):
        _in_background(bad)()


@pytest.fixture(scope="module")
def searcher(tmp_path_factory):
    return topics_searcher(tmp_path_factory.mktemp("overlap"))


QUERIES = [("graph networks for molecules", None), ("video diffusion", Filters(categories=["cs.CV"])),
           ("robots and language -grasping", None), ('"question answering"', None)]


def test_overlapped_legs_rank_exactly_as_serial_legs(searcher):
    assert searcher.overlap  # the default
    for text, filters in QUERIES:
        overlapped = searcher.rank(parse_query(text), filters, mode="hybrid", k=10)
        searcher.overlap = False
        try:
            serial = searcher.rank(parse_query(text), filters, mode="hybrid", k=10)
        finally:
            searcher.overlap = True
        assert overlapped == serial and overlapped[0]


def test_concurrent_hybrid_searches_agree_with_one_at_a_time(searcher):
    want = {text: searcher.rank(parse_query(text), f, mode="hybrid", k=10) for text, f in QUERIES}
    got, errors = [], []

    def worker(text, filters):
        try:
            for _ in range(5):
                got.append((text, searcher.rank(parse_query(text), filters, mode="hybrid", k=10)))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=q) for q in QUERIES * 2]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(got) == 40
    assert all(ranking == want[text] for text, ranking in got)
