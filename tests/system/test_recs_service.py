"""`papersift eval-recs --through-service` end to end on the committed arXiv sample: a real store built the
product's way, real accounts with imported libraries and followed categories, For you and the baselines
asked of the service, and the metric tables printed.

The sample (400 papers over 2025-03..2026-04) has no author with 5 papers, so the test lowers the
protocol's "5 papers before T" to 1: at T = 2026-03-01 that makes 10 readers, 3 of them drawn. Where
the shared folder is present its precomputed vectors fill the embeddings cache; without it, indexing
embeds the 357 papers itself.
"""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from papersift.cli import app
from papersift.evaluate import recs_data
from papersift.evaluate.recs_data import ARXIV_FILE, VECTORS
from papersift.evaluate.recs_service import BEFORE, CATEGORIES, FOR_YOU, NO_COAUTHORS, SEARCH, cut_archive, title_query

from ..helpers import ARXIV_SAMPLE, SHARED


def _data(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(ARXIV_SAMPLE, data / ARXIV_FILE)
    if (SHARED / VECTORS).is_file():
        (data / "embeddings").symlink_to(SHARED / "embeddings")
    return data


def test_eval_recs_through_the_service_runs_end_to_end_and_prints_the_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(recs_data, "MIN_BEFORE", 1)
    data, work = _data(tmp_path), tmp_path / "work"
    args = ["eval-recs", "--through-service", "--cutoff", "2026-03-01", "--limit", "3", "--seed", "0",
            "--data", str(data), "--workdir", str(work)]
    done = CliRunner().invoke(app, [*args, "--json"])
    assert done.exit_code == 0, done.output[-3000:]
    report = json.loads(done.output[done.output.index("{"):])
    assert report["window"] == ["2026-03-01", "2026-03-30"] and report["latest_day"] == "2026-03-30"
    assert report["store_papers"] == 357 and report["users"] == 3 and report["eligible_users"] == 10
    # every For-you list covered exactly the month after T
    assert report["for_you_periods"] == [{"from": "2026-03-01", "to": "2026-03-30", "lists": 9}]
    main = report["variants"]["all window papers"]
    assert main["users"] == 3
    assert set(main["methods"]) == {FOR_YOU, BEFORE, NO_COAUTHORS, SEARCH, CATEGORIES, "arxiv-sanity-lite replica"}
    for metrics in main["methods"].values():
        assert set(metrics) == {"ndcg@10", "recall@50", "mrr"}
        assert all(0.0 <= m["ci_low"] <= m["mean"] <= m["ci_high"] <= 1.0 for m in metrics.values())
    assert set(main["paired"]) == set(main["methods"]) - {FOR_YOU}
    assert set(main["paired"][SEARCH]["ndcg@10"]) == {"diff", "ci_low", "ci_high", "p"}
    assert "no shared co-author" in report["variants"]
    # the store is kept in the workdir and reused: the second run prints the tables
    assert (work / "cutoff-2026-03-01" / "base.db").is_file()
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 0, again.output[-3000:]
    for text in ("through the service", "all window papers", "no shared co-author", "nDCG@10", "Recall@50",
                 "paired bootstrap, nDCG@10, For you - hybrid search", "the kept store reused"):
        assert text in again.output, text


def test_the_archive_is_cut_as_it_stood_on_the_window_s_last_day(tmp_path):
    kept = cut_archive(ARXIV_SAMPLE, tmp_path / "cut.jsonl", "2025-04-01")
    rows = [json.loads(line) for line in (tmp_path / "cut.jsonl").read_text().splitlines()]
    assert kept == len(rows) == 16 and all(r["first_listing_date"] < "2025-04-01" for r in rows)
    assert all(d < "2025-04-01" for r in rows for d in r["listing_dates"])  # later replacements dropped


def test_the_profile_titles_become_one_query_the_searcher_takes():
    titles = ["LLM:Agents -- a \"survey\"", "author: nobody", *(f"Title number {i} about topic{i} and more words{i}"
                                                                 for i in range(40))]
    query = title_query(titles)
    assert query.startswith("LLM Agents a survey author nobody Title number 0")
    from papersift.query import MAX_QUERY_CHARS, parse_query

    parsed = parse_query(query)  # no field, operator or phrase slipped through, and within the limits
    assert not parsed.fields and not parsed.phrases and len(query) <= MAX_QUERY_CHARS
    assert query.endswith(("more", *(f"words{i}" for i in range(40))))  # whole titles only
    assert title_query([]) == "" and title_query(["x" * (MAX_QUERY_CHARS + 1)]) == ""
