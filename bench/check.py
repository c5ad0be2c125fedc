"""``python -m bench check``: rerun the deterministic quality numbers and compare them with bench/expected.toml.

In the manner of Pyserini's reproduction matrix: each run in the file names the command that measures it
(as a reader would type it), the metrics to read from its JSON output, their values and a tolerance, and
when and where they were measured. A metric outside its tolerance fails the check (exit 1); so does a
command that fails. ``--ci`` keeps the runs marked ``ci = true`` (fast: CI runs them on every change).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
import tomllib
from pathlib import Path

from bench.common import DATA, ROOT, UsageError, stamp, write_result

EXPECTED = ROOT / "bench" / "expected.toml"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", help="comma-separated run names (default: every run in the file)")
    parser.add_argument("--ci", action="store_true", help="only the runs marked ci = true")
    parser.add_argument("--expected", type=Path, default=EXPECTED, help="the expected-results file")
    parser.add_argument("--cache", type=Path, help="PAPERSIFT_CACHE for the runs (where `papersift eval` keeps "
                        "each corpus and its vectors; default: papersift's own, so a second check embeds nothing)")


def load(path: Path) -> dict[str, dict]:
    try:
        runs = tomllib.loads(path.read_text())["runs"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise UsageError(f"{path}: not an expected-results file ({exc})") from None
    for name, run in runs.items():
        if not isinstance(run.get("command"), str) or not run.get("metrics"):
            raise UsageError(f"{path}: run {name!r} needs a command and metrics")
        for metric in run["metrics"]:
            if not {"name", "at", "value", "tolerance"} <= set(metric) or not isinstance(metric["at"], list):
                raise UsageError(f"{path}: run {name!r}: each metric needs name, at (a list of keys), value, tolerance")
    return runs


def select(runs: dict[str, dict], only: str | None, ci: bool) -> dict[str, dict]:
    if only:
        wanted = [n.strip() for n in only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in runs]
        if unknown:
            raise UsageError(f"no run {', '.join(unknown)} in the expected results (runs: {', '.join(runs)})")
        runs = {n: runs[n] for n in wanted}
    return {n: r for n, r in runs.items() if r.get("ci") or not ci}


def argv_of(command: str, results: Path) -> list[str]:
    """The command as written in the file, run by this interpreter: ``papersift`` is the CLI module and
    ``python -m bench`` this harness (writing into ``results``); ``{data}`` is the shared data folder."""
    words = shlex.split(command.replace("{data}", str(DATA)))
    if words[0] == "papersift":
        return [sys.executable, "-m", "papersift.cli", *words[1:]]
    if words[:3] == ["python", "-m", "bench"]:
        return [sys.executable, "-m", "bench", "--results", str(results), *words[3:]]
    raise UsageError(f"a check command starts with `papersift` or `python -m bench`: {command!r}")


def output_json(stdout: str) -> dict:
    """The command's JSON: all of stdout (``--json``), or else its last line (a benchmark's result line)."""
    try:
        return json.loads(stdout)
    except json.JSONDecodeError:
        lines = [line for line in stdout.splitlines() if line.strip()]
        return json.loads(lines[-1]) if lines else {}


def measure(run: dict, results: Path, env: dict) -> tuple[dict | None, str]:
    done = subprocess.run(argv_of(run["command"], results), cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return None, f"exit {done.returncode}: {last}"
    try:
        return output_json(done.stdout), ""
    except json.JSONDecodeError:
        return None, "its output is not JSON"


def value_at(output: dict, path: list[str]):
    for key in path:
        if not isinstance(output, dict) or key not in output:
            return None
        output = output[key]
    return output


def compare(name: str, run: dict, output: dict | None, error: str) -> list[dict]:
    """One row per expected metric: expected, tolerance, measured, and whether it is within."""
    rows = []
    for metric in run["metrics"]:
        got = value_at(output or {}, metric["at"])
        ok = isinstance(got, (int, float)) and abs(got - metric["value"]) <= metric["tolerance"]
        rows.append({"run": name, "metric": metric["name"], "expected": metric["value"],
                     "tolerance": metric["tolerance"], "measured": got, "ok": ok,
                     **({"error": error} if error else {})})
    return rows


def print_row(row: dict) -> None:
    got = row["measured"]
    shown = f"{got:.4f}" if isinstance(got, (int, float)) else row.get("error", "missing from the output")
    print(f"{'ok  ' if row['ok'] else 'FAIL'} {row['run']:16s} {row['metric']:14s} expected {row['expected']:.4f} "
          f"± {row['tolerance']:g}, measured {shown}", flush=True)


def run(args: argparse.Namespace) -> int:
    runs = select(load(args.expected), args.only, args.ci)
    if not DATA.is_dir():
        raise UsageError(f"{DATA} not found: the quality check reads ../shared/data (or $PAPERSIFT_SHARED_DATA)")
    env = {**os.environ, **({"PAPERSIFT_CACHE": str(args.cache)} if args.cache else {})}
    before, started, rows = stamp(), time.perf_counter(), []
    for name, spec in runs.items():
        print(f"{name}: {spec['command']}", file=sys.stderr, flush=True)
        output, error = measure(spec, args.results, env)
        for row in compare(name, spec, output, error):
            print_row(row)
            rows.append(row)
    failed = sum(not r["ok"] for r in rows)
    command = ["python -m bench check", *(["--only", args.only] if args.only else []), *(["--ci"] if args.ci else [])]
    path = write_result("check", command, {"rows": rows, "failed": failed}, before, time.perf_counter() - started,
                        args.results)
    print(f"{len(rows) - failed} of {len(rows)} metrics within tolerance ({path})")
    return 1 if failed else 0
