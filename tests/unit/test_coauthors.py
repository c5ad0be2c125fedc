"""The co-author prior (recommend/ordering.py): a paper by someone the reader writes with rises, the
reader's own name never counts, and the reason says who.

Made-up papers with hand-made vectors: the candidates that matter are identical in title, abstract and
vector, and differ only in their authors, so any difference in score is the prior's.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from papersift.errors import BadInput
from papersift.model import Paper
from papersift.recommend import FeatureSpace, Reader, Recommender, RecParams
from papersift.recommend.features import author_key
from papersift.recommend.ordering import PriorParams, coauthors, prior
from papersift.service.recommendations import _because

ME = "Ada Lovelace"
TEXT = ("Analytical engines for graph search", "We compile graph search programs to punched cards for an analytical engine.")
OTHER = ("Tidal models of the coast", "Harmonic tidal models predict the coast's water levels from lunar cycles.")


def _paper(pid: str, authors: list[str], text=TEXT, day: str = "2025-03-10") -> Paper:
    return Paper(id=pid, title=text[0], abstract=text[1], authors=authors, categories=["cs.DS"],
                 published=f"{day}T00:00:00Z")


def _space():
    papers = [
        # the reader's own papers (liked: imported from their library), with co-authors
        _paper("2501.00001", [ME, "Charles Babbage"], day="2025-01-10"),
        _paper("2501.00002", ["Ada Lovelacé", "Charles Babbage", "Luigi Menabrea"], day="2025-01-20"),
        # a liked paper the reader did not write: its authors are not co-authors
        _paper("2501.00003", ["Mary Somerville", "John Herschel"], day="2025-01-25"),
        # candidates: the same paper four times, by a co-author, by strangers, by the reader alone
        _paper("2503.00001", ["Charles Babbage", "Someone Else"]),
        _paper("2503.00002", ["Grace Hopper"]),
        _paper("2503.00003", [ME]),
        _paper("2503.00004", ["John Herschel"]),
        # ordinary papers on something else (the model's contrast, and words in two papers)
        *[_paper(f"2503.0001{i}", [f"Tide Author {i}"], text=OTHER) for i in range(4)],
    ]
    vectors = np.array([[1, 0, 0, 0]] * 7 + [[0, 1, 0, 0]] * 4, dtype=np.float32)
    return FeatureSpace(papers, vectors)


LIKED = ("2501.00001", "2501.00002", "2501.00003")
CANDIDATES = ["2503.00001", "2503.00002", "2503.00003", "2503.00004", "2503.00010", "2503.00011"]


def test_the_co_authors_are_the_other_authors_of_the_liked_papers_the_reader_wrote():
    space = _space()
    # Babbage is on both of the reader's papers, Menabrea on one; the accented spelling is the reader too
    assert coauthors(space, Reader(positives=LIKED, name=ME)) == {"charles babbage": 2, "luigi menabrea": 1}
    assert coauthors(space, Reader(positives=LIKED, name="ADA  lovelace")) == {"charles babbage": 2,
                                                                               "luigi menabrea": 1}
    assert coauthors(space, Reader(positives=LIKED)) == {}  # no name: no paper is the reader's own
    assert coauthors(space, Reader(positives=LIKED, name="Nobody Here")) == {}
    assert author_key(" José  García-López ") == author_key("Jose Garcia Lopez") == "jose garcia lopez"


def test_a_paper_by_a_co_author_ranks_above_an_otherwise_identical_one():
    space = _space()
    reader = Reader(positives=LIKED, name=ME)
    recommender = Recommender(space)
    rows = space.rows(CANDIDATES)
    score = dict(zip(CANDIDATES, recommender.scores(reader, rows, recommender.train(reader)), strict=True))
    assert score["2503.00001"] > score["2503.00002"]  # Babbage's over Hopper's, the same paper otherwise
    # the reader's own name never counts: their paper alone scores as a stranger's; so does an author of a
    # liked paper the reader did not write
    assert score["2503.00003"] == pytest.approx(score["2503.00002"])
    assert score["2503.00004"] == pytest.approx(score["2503.00002"])
    recs = recommender.recommend(reader, CANDIDATES, k=3)
    assert recs[0].paper_id == "2503.00001"
    assert recs[0].why.coauthors == [("Charles Babbage", 2)]
    shown = recs[0].why.as_dict()
    assert shown["coauthors"] == [{"name": "Charles Babbage", "papers": 2}]
    assert _because({**shown, "liked": []}).startswith("by your co-author Charles Babbage")
    assert all("coauthors" not in r.why.as_dict() for r in recs[1:])  # no co-author: the shape as before


def test_the_weight_is_log_one_plus_the_shared_papers_and_zero_turns_it_off():
    space = _space()
    reader = Reader(positives=LIKED, name=ME)
    rows = space.rows(CANDIDATES)
    alone = PriorParams(votes=0.0, follows=0.0, coauthors=2.0)
    assert prior(space, rows, reader, alone).tolist() == pytest.approx([2.0 * np.log1p(2), 0, 0, 0, 0, 0])
    assert prior(space, rows, reader, replace(alone, coauthors=0.0)).tolist() == [0.0] * 6
    assert prior(space, rows, replace(reader, name=""), alone).tolist() == [0.0] * 6
    off = Recommender(space, RecParams(prior=replace(PriorParams(), coauthors=0.0)))
    scored = off.scores(reader, rows, off.train(reader))
    assert scored[0] == pytest.approx(scored[1])  # without the prior the two papers are one paper


def test_an_extended_space_keeps_the_author_keys_of_its_base_and_adds_its_own():
    space = _space()
    keys = space.author_keys()
    grown = space.extended([_paper("2412.00001", ["Charles  BABBAGE", ME])], np.array([[1, 0, 0, 0]], np.float32))
    assert grown.author_keys()[: len(space)] == keys and len(space.author_keys()) == len(space)
    assert grown.author_keys()[-1] == frozenset({"charles babbage", "ada lovelace"})
    assert space.rows_with_author("charles babbage") == [0, 1, 3]
    assert grown.rows_with_author("charles babbage") == [0, 1, 3, len(space)]  # the base's index, then its own
    assert grown.rows_with_author("nobody") == [] and space.rows_with_author("charles babbage") == [0, 1, 3]
    with pytest.raises(BadInput):
        Reader(name=["Ada"])  # type: ignore[arg-type]
