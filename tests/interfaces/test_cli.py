"""The CLI as a user runs it: a real process, a real SQLite file, exit codes and output."""

import json
import os
import re
import subprocess
import sys

import pytest

from ..helpers import HF_SAMPLE, SCIFACT_SAMPLE, head_jsonl

HF = HF_SAMPLE


def run(db, *args, ok=True):
    env = {**os.environ, "PAPERSIFT_DB": str(db)}
    proc = subprocess.run([sys.executable, "-m", "papersift.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)
    if ok:
        assert proc.returncode == 0, proc.stderr
    return proc


def assert_clean_error(proc):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.strip(), "an error must say what is wrong"


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli")
    sample = head_jsonl(HF, tmp / "hf.jsonl", 300)
    with open(sample, "a") as handle:
        handle.write("{not json\n")
        handle.write(json.dumps({"arxiv_id": "not-an-id", "title": "x", "feed_date": "2024-05-27"}) + "\n")
    db = tmp / "p.db"
    run(db, "init")
    first = run(db, "ingest", "hf-daily", str(sample), "--json")
    return db, sample, json.loads(first.stdout)


def test_ingest_reports_bad_lines_and_is_idempotent(loaded):
    db, sample, report = loaded
    assert report["read"] == 302 and report["bad"] == 2 and report["inserted"] > 250
    assert {row["line"] for row in report["bad_lines"]} == {301, 302}
    again = json.loads(run(db, "ingest", "hf-daily", str(sample), "--json").stdout)
    assert again["inserted"] == 0 and again["updated"] == 0 and again["unchanged"] == 300


def test_search_show_daily_json(loaded):
    db, _, _ = loaded
    res = json.loads(run(db, "search", "vision language", "--mode", "bm25", "--json").stdout)
    assert res["results"] and res["mode"] == "bm25"
    assert res["matched"] == res["total"] and res["related"] == 0 and res["counts"].endswith("match the words")
    paper = json.loads(run(db, "show", res["results"][0]["id"], "--json").stdout)
    assert paper["id"] == res["results"][0]["id"]
    day = json.loads(run(db, "daily", "--date", "2024-05-27", "--sort", "upvotes", "--json").stdout)
    assert day["papers"] and day["period"]["label"] == "2024-05-27"
    table = run(db, "search", "vision", "--mode", "bm25").stdout
    assert re.search(r"[\d,]+ papers match the words", table)


@pytest.mark.parametrize("args", [
    ("ingest", "hf-daily", "/nonexistent/file.jsonl"),
    ("search", '"unclosed phrase', "--mode", "bm25"),
    ("search", "x", "--mode", "bm25", "--from", "2024-13-45"),
    ("search", "x", "--mode", "wrong"),
    ("search", "x", "--mode", "bm25", "--page", "0"),
    ("show", "not-an-id"),
    ("show", "2401.99999"),
    ("similar", "2401.99999"),
    ("daily", "--week", "2024-W99"),
    ("daily", "--date", "2024-05-27", "--month", "2024-05"),
    ("harvest", "nowhere"),
    ("harvest", "arxiv", "--from", "yesterday"),
    ("eval", "/nonexistent-dir"),
    ("ingest", "hf-daily", "/tmp", "--limit", "0"),
    ("no-such-command",),
    ("search",),
])
def test_bad_input_exits_2_with_one_line(loaded, args):
    db, _, _ = loaded
    assert_clean_error(run(db, *args, ok=False))


def test_broken_database_file(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 200)
    assert_clean_error(run(junk, "init", ok=False))


def test_eval_on_a_tiny_beir_folder(tmp_path):
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    docs = [("d1", "Graph neural networks", "Message passing on graphs for node classification."),
            ("d2", "Protein folding", "Predicting protein structure from sequence."),
            ("d3", "Image segmentation", "Pixel-level labelling of images with convolutional networks.")]
    (folder / "corpus.jsonl").write_text("".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in docs))
    (folder / "queries.jsonl").write_text("".join(json.dumps({"_id": q, "text": t}) + "\n" for q, t in
                                                  [("q1", "graph node classification"), ("q2", "protein structure")]))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\n")
    env_cache = {"PAPERSIFT_CACHE": str(tmp_path / "cache")}
    proc = subprocess.run([sys.executable, "-m", "papersift.cli", "eval", str(folder), "--mode", "bm25", "--json"],
                          capture_output=True, text=True, env={**os.environ, **env_cache}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["queries"] == 2 and report["metrics"]["ndcg@10"]["mean"] == 1.0
    assert report["metrics"]["mrr@10"]["ci_low"] <= 1.0


def test_eval_on_the_real_scifact_sample(tmp_path):
    """The committed SciFact slice end to end: its 40 test queries judged against its 204 documents.
    Few distractors make it easy (the full set's number is tests/unit/test_bench.py's)."""
    proc = subprocess.run([sys.executable, "-m", "papersift.cli", "eval", str(SCIFACT_SAMPLE), "--mode", "bm25", "--json"],
                          capture_output=True, text=True, env={**os.environ, "PAPERSIFT_CACHE": str(tmp_path)}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["queries"] == 40 and 0.8 < report["metrics"]["ndcg@10"]["mean"] < 1.0


@pytest.mark.slow
def test_vectors_persist_across_processes_and_rebuild_with_one_command(tmp_path):
    """Embedded once, then a new process maps the vector files (no re-embedding, nothing pending);
    ``index --rebuild`` rebuilds both indexes from the store, reusing the cached vectors."""
    db = tmp_path / "v.db"
    run(db, "ingest", "hf-daily", str(head_jsonl(HF, tmp_path / "hf.jsonl", 120)))
    first = json.loads(run(db, "index", "--json").stdout)
    assert first["vectors"] == first["papers"] > 100 and first["device"] == "cpu"
    manifest = tmp_path / "v.db.index" / "vectors" / "manifest.json"
    assert json.loads(manifest.read_text())["rows"] == first["papers"]
    again = json.loads(run(db, "index", "--json").stdout)
    assert again["vectors"] == 0 and again["lexical"] == 0  # caught up: nothing re-embedded
    query = ["search", "vision language model for video understanding", "--mode", "dense", "--json"]
    before = json.loads(run(db, *query).stdout)
    assert before["results"] and before.pop("took_ms") is not None
    rebuilt = run(db, "index", "--rebuild", "--json")
    assert json.loads(rebuilt.stdout)["vectors"] == 0  # every vector came from the store's cache
    assert json.loads(manifest.read_text())["rows"] == first["papers"]
    after = json.loads(run(db, *query).stdout)
    assert after.pop("took_ms") is not None and after == before


def _tiny_database(path) -> str:
    """A database with one paper, made through the front door (no ../shared/data needed)."""
    from papersift.config import Settings
    from papersift.model import Paper
    from papersift.service import Papersift

    svc = Papersift(path, embedder=False, settings=Settings())
    svc.store.upsert_papers([Paper(id="2405.00042", title="Wombat burrows in sandy soil", abstract="Digging.",
                                   source="hf-jsonl", observed_at="2024-05-28T00:00:00Z")])
    svc.indexes_lexical_only().sync_lexical()
    svc.close()
    return str(path)


def _papersift(*args, cwd=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAPERSIFT_")}
    return subprocess.run([sys.executable, "-m", "papersift.cli", *args], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=300)


def test_global_options_before_or_after_the_command(tmp_path):
    db, empty = _tiny_database(tmp_path / "p.db"), str(tmp_path / "empty.db")
    query = ["wombat", "--mode", "bm25", "--json"]
    for args in (["--db", db, "search", *query], ["search", "--db", db, *query], ["search", *query, "--db", db],
                 ["--db", empty, "search", "--db", db, *query]):  # after the command wins over before it
        proc = _papersift(*args, cwd=tmp_path)
        assert proc.returncode == 0, (args, proc.stderr)
        assert [r["id"] for r in json.loads(proc.stdout)["results"]] == ["2405.00042"], args
    (tmp_path / "site.toml").write_text(f'db = "{db}"\n')  # --config after the command, naming the database
    proc = _papersift("show", "2405.00042", "--json", "--config", str(tmp_path / "site.toml"), cwd=tmp_path)
    assert proc.returncode == 0 and json.loads(proc.stdout)["id"] == "2405.00042", proc.stderr
    proc = _papersift("admin", "hide-paper", "2405.00042", "--db", db, cwd=tmp_path)  # in a group too
    assert proc.returncode == 0 and "hidden" in proc.stdout, proc.stderr
    assert not (tmp_path / "data").exists()  # the default database was never opened
    assert_clean_error(_papersift("show", "2405.00042", "--config", str(tmp_path / "missing.toml"), cwd=tmp_path))


def test_version():
    from importlib.metadata import version

    proc = _papersift("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"papersift {version('papersift')}", proc.stderr


def _on_a_terminal(db, *args, **env):
    """The command as a person at a terminal sees it: rich draws its bars on stderr."""
    env = {**os.environ, "PAPERSIFT_DB": str(db), "TTY_COMPATIBLE": "1", "COLUMNS": "200", **env}
    env.pop("NO_COLOR", None)
    proc = subprocess.run([sys.executable, "-m", "papersift.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", proc.stderr)  # the colours and cursor moves


def test_progress_bars_show_a_total_and_a_rate_on_a_terminal_and_nothing_when_piped(tmp_path):
    sample = head_jsonl(HF, tmp_path / "hf.jsonl", 200)
    db = tmp_path / "p.db"
    piped = run(db, "ingest", "hf-daily", str(sample))
    assert piped.stderr == "" and piped.stdout.startswith("read 200:")  # no bar noise when not watched
    assert run(db, "index", "--no-embed").stderr == ""
    size = sample.stat().st_size
    shown = _on_a_terminal(db, "ingest", "hf-daily", str(sample))  # the file's bytes: no second pass to count
    assert f"{size / 1000:.1f} kB/{size / 1000:.1f} kB 100%" in shown and re.search(r" [0-9.]+ [kMG]?B/s ", shown)
    assert f"{30:,}/{30:,}" in _on_a_terminal(db, "ingest", "hf-daily", str(sample), "--limit", "30")
    # a new index folder: every paper waits for the lexical index, and the bar counts to them
    papers = json.loads(run(db, "index", "--no-embed", "--json").stdout)["papers"]
    shown = _on_a_terminal(db, "index", "--no-embed", PAPERSIFT_INDEX_DIR=str(tmp_path / "fresh"))
    assert f"{papers:,}/{papers:,}" in shown and "100%" in shown and "papers/s" in shown and "/?" not in shown
