"""The benchmark harness (``python -m bench``): every benchmark still starts, a result carries its stamp, and
SciFact's retrieval quality is what bench/expected.toml says (the quality check CI runs on every change)."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import papersift

ROOT = Path(__file__).resolve().parents[2]


def bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def test_every_benchmark_imports_and_takes_its_options(capsys):
    # Nothing else runs the benchmarks, so a moved module or a renamed helper they import would go
    # unnoticed until someone needs a number: importing each and asking for its help catches that.
    from bench.__main__ import benchmarks

    names = benchmarks()
    assert {"load", "million", "csfcube", "library_import", "full_disk_saves", "corpus80k"} <= set(names)
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        with pytest.raises(SystemExit) as done:
            module.main(["--help"])
        assert done.value.code == 0, name
        assert f"python -m bench run {name}" in capsys.readouterr().out, name


def test_list_names_every_benchmark_and_what_it_needs():
    done = bench("list")
    assert done.returncode == 0, done.stderr
    assert "load " in done.stdout and "needs: the 80K workdir (built first when missing)" in done.stdout


def test_a_run_writes_its_result_stamped_with_commit_machine_load_and_versions(tmp_path):
    done = bench("--results", str(tmp_path), "run", "exact_scan", "--rows", "500", "--searches", "3")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["rows"] == 500
    [written] = tmp_path.glob("exact_scan-*.json")
    record = json.loads(written.read_text())
    assert record["command"] == "python -m bench run exact_scan --rows 500 --searches 3"
    assert record["result"]["rows"] == 500 and set(record["result"]) >= {"kept float32 copy"}
    stamp = record["stamp"]
    assert stamp["commit"] not in ("", "unknown") and stamp["code"] == str(Path(papersift.__file__).resolve().parent)
    assert stamp["machine"]["cpus"] >= 1 and stamp["machine"]["python"] == sys.version.split()[0]
    assert len(stamp["load_avg"]) == 3 and len(record["load_avg_after"]) == 3
    assert stamp["packages"]["numpy"] and stamp["packages"]["tantivy"]


def test_an_unknown_benchmark_is_one_line_and_exit_2():
    done = bench("run", "no_such_bench")
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        "python -m bench: no benchmark 'no_such_bench': `python -m bench list` shows them"]


@pytest.fixture(scope="module")
def eval_cache(tmp_path_factory) -> Path:
    """One PAPERSIFT_CACHE for the checks below: SciFact is loaded and indexed once (seconds), then reused."""
    return tmp_path_factory.mktemp("eval-cache")


def test_the_ci_checks_are_what_the_expected_results_say(shared_data, eval_cache, tmp_path):
    done = bench("--results", str(tmp_path), "check", "--ci", "--cache", str(eval_cache))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 of 6 metrics within tolerance" in done.stdout  # SciFact BM25's three and the venues' three
    assert re.search(r"^ok +venues +\(name, year\) precision +expected 1\.0000 ± 0, measured 1\.0000$", done.stdout,
                     re.M)
    assert re.search(r"^ok +scifact-bm25 +nDCG@10 +expected 0\.6614 ± 0\.001, measured 0\.66\d\d$", done.stdout, re.M)


def test_the_check_fails_when_a_number_moves_out_of_its_tolerance(shared_data, eval_cache, tmp_path):
    expected = (ROOT / "bench" / "expected.toml").read_text()
    moved = expected.replace("value = 0.6614, tolerance = 0.001", "value = 0.6634, tolerance = 0.001")
    assert moved != expected
    (tmp_path / "moved.toml").write_text(moved)
    done = bench("--results", str(tmp_path), "check", "--only", "scifact-bm25", "--expected",
                 str(tmp_path / "moved.toml"), "--cache", str(eval_cache))
    assert done.returncode == 1
    assert re.search(r"^FAIL scifact-bm25 +nDCG@10 +expected 0\.6634 ± 0\.001, measured 0\.6614$", done.stdout, re.M)
    assert "2 of 3 metrics within tolerance" in done.stdout
    [written] = tmp_path.glob("check-*.json")
    assert json.loads(written.read_text())["result"]["failed"] == 1
