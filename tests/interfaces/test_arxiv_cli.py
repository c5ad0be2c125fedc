"""``papersift arxiv`` and ``papersift harvest arxiv-listings`` as a user runs them: a real process, a
real SQLite file loaded by ``papersift ingest arxiv-jsonl`` with the committed arXiv sample, exit codes
and output. Answers are compared with what the sample file says (tests/arxiv_support.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.fakes.server import fixture

from ..arxiv_support import expected_counts, expected_tabs, week_days
from ..helpers import ARXIV_SAMPLE

WEEK = "2025-W22"


def run(db, *args, ok=True, **env):
    proc = subprocess.run([sys.executable, "-m", "papersift.cli", *args], capture_output=True, text=True,
                          env={**os.environ, "PAPERSIFT_DB": str(db), **env}, timeout=300)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    db = tmp_path_factory.mktemp("arxiv-cli") / "p.db"
    report = json.loads(run(db, "ingest", "arxiv-jsonl", str(ARXIV_SAMPLE), "--json").stdout)
    assert report["inserted"] == 400
    return db


def test_a_week_of_one_category_as_json(db):
    start, end = week_days(WEEK)
    data = json.loads(run(db, "arxiv", "--week", WEEK, "--category", "cs.CV", "--json").stdout)
    assert data["period"]["label"] == WEEK and data["categories"] == ["cs.CV"] and data["tab"] == "new"
    assert data["counts"] == expected_counts(start, end, ["cs.CV"])
    assert {p["id"] for p in data["results"]} == expected_tabs(start, end, ["cs.CV"])["new"]
    assert all(p["listing"]["kind"] == "new" and p["listing"]["category"] == "cs.CV" for p in data["results"])
    cross = json.loads(run(db, "arxiv", "--week", WEEK, "--category", "cs.CV", "--tab", "cross", "--json").stdout)
    assert {p["id"] for p in cross["results"]} == expected_tabs(start, end, ["cs.CV"])["cross"]


def test_the_table_counts_the_tabs_and_says_how_to_page(db):
    start, end = week_days(WEEK)
    counts = expected_counts(start, end)
    shown = run(db, "arxiv", "--week", WEEK, "--limit", "5").stdout
    assert (f"{sum(counts.values())} papers (new: {counts['new']}, cross-lists: {counts['cross']}, "
            f"replacements: {counts['replace']})") in shown
    assert "--page 2" in shown and WEEK in shown
    last = run(db, "arxiv", "--week", WEEK, "--limit", "5", "--page", "3").stdout
    assert "--page 4" not in last
    empty = run(db, "arxiv", "--date", "2025-01-01").stdout
    assert "0 papers" in empty and "2025-03-18" in empty  # the first listing day after it


@pytest.mark.parametrize("args", [
    ("arxiv", "--tab", "bogus"),
    ("arxiv", "--week", "2025-W99"),
    ("arxiv", "--category", "cs.CL;drop"),
    ("arxiv", "--category", "ｃｓ.CL"),
    ("arxiv", "--limit", "0"),
    ("arxiv", "--limit", "lots"),
    ("arxiv", "--date", "2025-05-27", "--week", WEEK),
    ("harvest", "arxiv-listings"),
    ("harvest", "arxiv-listings", "--category", "cs.CL;drop"),
    ("harvest", "arxiv-listings", "--category", "cs.CL", "--format", "xml"),
    ("harvest", "hf", "--category", "cs.CL"),
    ("harvest", "nowhere"),
])
def test_bad_input_exits_2_with_one_line(db, args):
    proc = run(db, *args, ok=False)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout and proc.stderr.strip()
    if args != ("arxiv", "--limit", "lots"):  # typer's own usage error is a box, as for every command
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_harvest_reads_a_categorys_listing_feed(tmp_path, fake_http):
    fake_http.script("/rss/cs.CV", fixture("arxiv_rss/rss_cs.CV_2025-09-18.xml"))
    db = tmp_path / "p.db"
    report = json.loads(run(db, "harvest", "arxiv-listings", "--category", "cs.CV", "--rss-url", fake_http.url,
                            "--json").stdout)
    assert set(report) == {"arxiv-listings"} and report["arxiv-listings"]["inserted"] == 15
    assert [r.path for r in fake_http.requests] == ["/rss/cs.CV"]
    day = json.loads(run(db, "arxiv", "--date", "2025-09-18", "--category", "cs.CV", "--json").stdout)
    assert day["counts"] == {"new": 11, "cross": 1, "replace": 3}  # as the feed announced them
    again = json.loads(run(db, "harvest", "arxiv-listings", "--category", "cs.CV", "--json",
                           PAPERSIFT_ARXIV_RSS_URL=fake_http.url).stdout)  # the setting, instead of the option
    assert again["arxiv-listings"]["inserted"] == 0 and len(fake_http.requests) == 2
