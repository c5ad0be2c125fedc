"""Every README example returns results on the data it names.

The examples are read from README.md itself, so an example that is changed, added or stops returning
results fails here:

* the quick start's API calls (``curl``) and the Hugging Face client lines run against a server over
  the quick start's data (the Hugging Face archive ``scripts/start.sh`` loads offline);
* the command line's reading commands run, as a user runs them, on the database its own ``init`` and
  ``ingest`` lines build.

Each ``papersift`` command the README shows is either run here or named in ``NOT_RUN`` with the reason,
and none of them loads a benchmark into the site's database.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from papersift.service import Papersift

from ..helpers import running_server

README = Path(__file__).resolve().parents[2] / "README.md"
QUICK_START_DATA = "hf-daily-papers-2024-2026.jsonl.gz"  # what scripts/start.sh loads offline
EXAMPLE_HOST = "http://127.0.0.1:8000"
SETUP = {"init", "ingest"}  # build the command line's database, in the README's order
CHECKED = {"search", "similar", "show", "daily", "arxiv", "export"}  # read it: each must return results
NOT_RUN = {
    "harvest": "reads the live sources (their parsers are tested on recorded replies)",
    "index": "shown with its options in brackets; embedding the corpus takes minutes",
    "eval": "SciFact's number is measured on the full set by tests/unit/test_bench.py",
    "eval-recs": "runs for minutes (tests/system/test_recs_service.py)",
    "serve": "a server (tests/system/test_workers.py)", "start": "a server (tests/system/test_start.py)",
    "run": "a server and scheduler (tests/system/test_scheduler.py)", "mcp": "a stdio server (tests/interfaces)",
    "migrate": "needs a PostgreSQL server (tests/store/test_migrate_postgres.py)",
    "admin": "writes accounts (tests/interfaces/test_web_cli.py)", "digest": "sends mail (tests/system)",
}


def code_blocks(language: str) -> list[list[str]]:
    blocks, current = [], None
    for line in README.read_text().splitlines():
        if line.startswith("```"):
            if current is None and line[3:].strip() == language:
                current = []
            elif current is not None:
                blocks.append(current)
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def readme_commands() -> list[list[str]]:
    """Every ``papersift ...`` line of the README's bash blocks, as argv (comments dropped)."""
    return [shlex.split(line.strip(), comments=True) for block in code_blocks("bash") for line in block
            if line.strip().startswith("papersift ")]


def has_results(data) -> bool:
    if isinstance(data, list):
        return bool(data)
    return bool(data.get("results") or data.get("papers") or (data.get("id") and data.get("title")))


def test_every_readme_command_is_checked_or_named_and_none_mixes_a_benchmark_in():
    commands = readme_commands()
    verbs = {argv[1] for argv in commands}
    assert verbs <= SETUP | CHECKED | set(NOT_RUN), f"new README commands: {verbs - SETUP - CHECKED - set(NOT_RUN)}"
    assert CHECKED <= verbs  # the ones checked below are still there
    # a benchmark is measured with `papersift eval` (a store of its own), never ingested into the site
    assert not [argv for argv in commands if argv[1] == "ingest" and argv[2] == "beir"]
    assert not [argv for argv in commands if "scifact" in " ".join(argv) and argv[1] != "eval"]


@pytest.fixture(scope="module")
def quick_start_site(tmp_path_factory, shared_data):
    svc = Papersift(tmp_path_factory.mktemp("quick-start") / "p.db", embedder=False)
    svc.ingest_file("hf-daily", shared_data / QUICK_START_DATA)
    from papersift.server.app import create_app

    with running_server(create_app(svc, background=False)) as base:
        yield base
    svc.close()


def curl_urls() -> list[str]:
    return [re.search(r"curl '([^']+)'", line).group(1) for block in code_blocks("bash") for line in block
            if line.startswith("curl ")]


@pytest.mark.parametrize("url", curl_urls())
def test_the_quick_start_api_examples_return_results(quick_start_site, url):
    assert url.startswith(EXAMPLE_HOST)
    response = httpx.get(quick_start_site + url[len(EXAMPLE_HOST):], timeout=60)
    assert response.status_code == 200, response.text
    assert has_results(response.json()), url


def test_the_hugging_face_client_examples_return_results(quick_start_site):
    (block,) = [b for b in code_blocks("python") if any("HfApi" in line for line in b)]
    names: dict = {}
    for statement in ast.parse("\n".join(block).replace(EXAMPLE_HOST, quick_start_site)).body:
        if not isinstance(statement, ast.Expr):
            exec(compile(ast.Module([statement], []), "README.md", "exec"), names)
            continue
        value = eval(compile(ast.Expression(statement.value), "README.md", "eval"), names)
        value = value if isinstance(value, (str, dict)) or not hasattr(value, "__iter__") else list(value)
        assert value, ast.unparse(statement)


@pytest.fixture(scope="module")
def command_line_db(tmp_path_factory, shared_data) -> Path:
    """The database the README's own init and ingest lines build (``../shared/data`` as found here)."""
    tmp = tmp_path_factory.mktemp("command-line")
    for argv in readme_commands():
        if argv[1] in SETUP:
            argv = [arg.replace("../shared/data", str(shared_data)) for arg in argv]
            proc = cli(tmp, argv)
            assert proc.returncode == 0, (argv, proc.stderr)
    return tmp


def cli(workdir: Path, argv: list[str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PAPERSIFT_DB": str(workdir / "papersift.db"), "PAPERSIFT_CACHE": str(workdir / "cache")}
    return subprocess.run([sys.executable, "-m", "papersift.cli", *argv[1:]], capture_output=True, text=True,
                          env=env, cwd=workdir, timeout=300)


@pytest.mark.parametrize("argv", [a for a in readme_commands() if a[1] in CHECKED], ids=lambda a: " ".join(a[1:3]))
def test_the_command_line_examples_return_results(command_line_db, argv):
    if argv[1] == "export":
        proc = cli(command_line_db, argv)
        assert proc.returncode == 0, proc.stderr
        written = (command_line_db / argv[argv.index("-o") + 1]).read_text()
        assert written.count("@misc{") + written.count("@inproceedings{") + written.count("@article{") > 0
        return
    proc = cli(command_line_db, [*argv, "--json"])
    assert proc.returncode == 0, proc.stderr
    assert has_results(json.loads(proc.stdout)), " ".join(argv)
