"""Linked models, datasets and Spaces from a paper's ``/api/papers/{id}`` answer (ingest/hf_links.py),
and how the merge keeps them.

``tests/fakes/hf_paper_2503.10622.json`` is an answer in HF's wire format: the paper object of the
feed fixture plus ``linkedModels`` / ``linkedDatasets`` / ``linkedSpaces`` (each repository with
the fields HF sends: ``author``, ``authorData``, ``downloads``, ``likes``, ``pipeline_tag``,
``lastModified``, ``repoType``, a Space's ``emoji``, ``title``, ``shortDescription``...) and their
``numTotal*`` counts; the repositories and numbers are made up for the tests.
"""

from __future__ import annotations

import copy
import json

import pytest

from papersift.errors import BadInput
from papersift.ingest.hf_links import TOP_LINKED, parse_hf_links
from papersift.model import Paper
from papersift.store.merge import merge
from tests.fakes.server import fixture

PAGE = json.loads(fixture("hf_paper_2503.10622.json"))


def test_the_linked_repositories_of_a_paper():
    links = parse_hf_links(PAGE)
    assert set(links) == {"models", "datasets", "spaces"}
    models = links["models"]
    assert models["total"] == 14 and len(models["top"]) == TOP_LINKED == 10  # HF sent 12: the first ten kept
    assert [m["id"] for m in models["top"]] == [m["id"] for m in PAGE["linkedModels"][:10]]
    assert models["top"][0] == {"id": "jiachenzhu/DyT-ViT-B", "likes": 40, "downloads": 5000,
                                "pipeline_tag": "image-classification"}
    assert "pipeline_tag" not in models["top"][9]  # a model without a task
    assert links["datasets"] == {"total": 1, "top": [{"id": "jiachenzhu/dyt-ablations", "likes": 6, "downloads": 812}]}
    space = links["spaces"]["top"][0]
    assert space == {"id": "jiachenzhu/DyT-demo", "likes": 21, "emoji": "🌌", "title": "DyT Demo",
                     "shortDescription": "Dynamic Tanh in place of LayerNorm, live"}
    assert links["spaces"]["total"] == 2


def test_none_when_the_answer_says_nothing_and_zero_when_it_says_none():
    assert parse_hf_links({"id": "2503.10622", "title": "x"}) is None  # must not erase what is known
    assert parse_hf_links({"linkedModels": [], "numTotalModels": 0}) == {
        kind: {"total": 0, "top": []} for kind in ("models", "datasets", "spaces")}
    # a list without its total counts what it lists
    assert parse_hf_links({"linkedSpaces": [{"id": "a/b"}]})["spaces"] == {"total": 1, "top": [{"id": "a/b"}]}


def test_hostile_repositories_are_dropped_and_broken_answers_refused():
    page = copy.deepcopy(PAGE)
    page["linkedModels"] = [{"id": "javascript:alert(1)"}, {"id": "../../etc/passwd"}, {"id": "a/b/c"},
                            {"id": 7}, "a/b", {"id": "ok/model", "likes": -1}, {"id": "ok/other", "likes": True},
                            {"id": "ok/fine", "pipeline_tag": "x" * 500}, {"id": "ok/good", "pipeline_tag": 3}]
    assert [m["id"] for m in parse_hf_links(page)["models"]["top"]] == ["ok/good"]
    with pytest.raises(BadInput, match="linkedDatasets must be a list"):
        parse_hf_links({"linkedDatasets": {"id": "a/b"}})
    with pytest.raises(BadInput, match="numTotalModels"):
        parse_hf_links({"numTotalModels": -3})
    with pytest.raises(BadInput):
        parse_hf_links(["not", "an", "object"])


def test_the_newest_capture_wins_and_an_unasked_one_keeps_them():
    links = parse_hf_links(PAGE)
    first = Paper(id="2503.10622", title="T", source="hf-api", observed_at="2025-03-17T05:00:00Z", hf_links=links)
    stored, _ = merge(None, first)
    assert stored.hf_links == links and stored.provenance["hf_links"]["source"] == "hf-api"
    unasked = Paper(id="2503.10622", source="hf-jsonl", observed_at="2025-03-18T05:00:00Z", upvotes=5)
    assert merge(stored, unasked)[0].hf_links == links
    gone = parse_hf_links({"linkedModels": [], "numTotalModels": 0})
    later = Paper(id="2503.10622", source="hf-api", observed_at="2025-03-19T05:00:00Z", hf_links=gone)
    assert merge(stored, later)[0].hf_links == gone
    older = Paper(id="2503.10622", source="hf-api", observed_at="2025-03-16T05:00:00Z", hf_links=gone)
    assert merge(stored, older) == (stored, False)
    # the JSON shape keeps them (the API and the store's document)
    assert stored.to_dict()["hf_links"] == links and Paper.from_dict(stored.to_dict()).hf_links == links
