"""The venue and year read from an arXiv comment (``papersift.venues``), checked against the set of
350 comments labelled by hand (``tests/data/venue_comments.jsonl``) and on explicit examples."""

from __future__ import annotations

import dataclasses
import json

import pytest

from bench.venues_eval import score
from papersift.venues import Venue, parse_venue

from ..helpers import DATA

LABELS = DATA / "venue_comments.jsonl"
TRACKS = {"main", "workshop", "findings", "journal", "demo", "tutorial", "other"}


@pytest.fixture(scope="module")
def labelled() -> list[dict]:
    return [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]


def test_the_labelled_set_loads_with_venues_and_nulls(labelled):
    assert len(labelled) >= 300
    assert [row["id"] for row in labelled] == sorted({row["id"] for row in labelled})  # sorted, no repeats
    with_venue = [row for row in labelled if row["venue"]]
    assert len(with_venue) >= 100 and len(labelled) - len(with_venue) >= 100
    for row in labelled:
        assert {"id", "comment", "venue", "year", "track"} <= set(row)
        assert row["comment"].strip()
        if row["venue"]:
            assert row["track"] in TRACKS
            assert row["year"] is None or 1990 <= row["year"] <= 2030
        else:
            assert row["year"] is None and row["track"] is None


def test_precision_and_recall_on_the_labelled_set_do_not_regress(labelled):
    """Floors, not targets: measured 1.000 precision and 0.848 recall on (name, year) (in-sample: the rules
    were written with this set in view), asserted with a small margin so that a change to the rules or the
    tables that loses real cases fails here. A change that raises the numbers may raise the floors."""
    result = score(labelled)
    assert result["name_year"]["precision"] >= 0.97
    assert result["name_year"]["recall"] >= 0.82
    assert result["name_only"]["precision"] >= 0.97
    assert result["track"]["accuracy"] >= 0.95


@pytest.mark.parametrize(("comment", "expected"), [
    ("Accepted at NeurIPS 2025", Venue("NeurIPS", 2025, "main")),
    ("To appear in CVPR 2026", Venue("CVPR", 2026, "main")),
    ("ICLR 2026 (oral)", Venue("ICLR", 2026, "main")),
    ("18 pages, 11 figures. NeurIPS 2025; Project page: https://x.github.io/", Venue("NeurIPS", 2025, "main")),
    ("Accepted to the ICML 2025 Workshop on Machine Learning for Astrophysics", Venue("ICML", 2025, "workshop")),
    ("Accepted at the 3rd Imageomics Workshop at NeurIPS 2025", Venue("NeurIPS", 2025, "workshop")),
    ("ICCVW 2025", Venue("ICCV", 2025, "workshop")),
    ("Findings of EMNLP 2025", Venue("EMNLP", 2025, "findings")),
    ("20 pages, 12 figures, 14 tables, ACL'25 Findings", Venue("ACL", 2025, "findings")),
    ("ACL 2025 Demo. Github: https://github.com/x/y", Venue("ACL", 2025, "demo")),
    ("Published in TMLR", Venue("TMLR", None, "journal")),
    ("Camera-ready version for AAAI-26", Venue("AAAI", 2026, "main")),
    ("Accepted to CVPR26", Venue("CVPR", 2026, "main")),
    ("Accepted at NIPS 2017", Venue("NeurIPS", 2017, "main")),
    ("Accepted by ACMMM 2025", Venue("ACM MM", 2025, "main")),
    ("Accepted at The Web Conference 2025", Venue("WWW", 2025, "main")),
    ("To appear in the 2025 IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)",
     Venue("CVPR", 2025, "main")),
    ("Accepted by Proceedings of the AAAI Conference on Artificial Intelligence 40 (AAAI-26)",
     Venue("AAAI", 2026, "main")),
    ("Preprint version of the paper accepted to ICASSP 2026", Venue("ICASSP", 2026, "main")),
    ("Extended version of our ACL 2024 paper", Venue("ACL", 2024, "main")),
    ("Findings of the Association for Computational Linguistics: NAACL 2025", Venue("NAACL", 2025, "findings")),
])
def test_reads_the_venue(comment, expected):
    assert parse_venue(comment) == expected


@pytest.mark.parametrize("comment", [
    None, "", "12 pages, 5 figures", "Preprint", "Work in progress",
    "Submitted to NeurIPS 2025", "Under review at ICLR", "15 pages, 3 figures, submitted to NeurIPS 2025",
    "10 pages, 5 figures. Submitted to MICCAI 2025 (under review)", "NeurIPS 2025 (under review)",
    "In submission to ICML 2026", "Tutorial Proposal for NAACL2025", "Extended version of a 5-page ISIT submission",
    "Code: https://github.com/mit-han-lab/cvpr2025-code and https://neurips.cc/virtual/2025",
    "Accepted at AAAI-MAKE 2026 (AAAI Spring Symposium on Machine Learning)",
    "Published in: 2024 International Conference on Machine Learning and Applications (ICMLA)",
    "Accepted at PSIVT 2023",  # a real venue, but not in the tables
])
def test_reads_no_venue(comment):
    assert parse_venue(comment) is None


def test_label_and_slug():
    assert Venue("NeurIPS", 2025, "main").label == "NeurIPS 2025"
    assert Venue("NeurIPS", 2025, "main").slug == "NeurIPS-2025"
    assert Venue("NeurIPS", None, "main").label == "NeurIPS"
    assert Venue("ICLR", 2026, "workshop").label == "ICLR 2026 Workshop"
    assert Venue("NeurIPS", 2025, "workshop").slug == "NeurIPS-2025-Workshop"
    assert Venue("EMNLP", 2025, "findings").label == "Findings of EMNLP 2025"
    assert Venue("EMNLP", 2025, "findings").slug == "EMNLP-2025-Findings"
    assert Venue("ACM MM", 2025, "main").slug == "ACM-MM-2025"
    assert Venue("TMLR", None, "journal").label == "TMLR"
    with pytest.raises(dataclasses.FrozenInstanceError):
        Venue("ICML", 2025, "main").year = 2024  # type: ignore[misc]


@pytest.mark.parametrize("comment", [
    "Accepted at " * 20000,
    "NeurIPS" * 30000,
    "NeurIPS " * 25000,
    "0123456789" * 20000,
    "accepted to the International Conference on " * 5000,
    "CVPR'" * 40000,
    ". " * 100000,
])
def test_a_long_hostile_comment_returns(comment):
    # 200 KB of repeated cues, names or digits: the comment is cut at 2,000 characters and every pattern is
    # linear, so this returns at once (a pathological pattern would hang the test run here)
    assert len(comment) >= 200_000
    parse_venue(comment)
