"""How fast papersift says no: offline sources, a taken port, Ctrl-C, and `index` beside a running server.

    python -m bench run failures_offline                      # every case
    python -m bench run failures_offline --cases harvest,port
    PYTHONPATH=/path/to/old/checkout/src python -m bench run failures_offline   # another version

Every case runs the real ``python -m papersift.cli`` in a subprocess (the code on ``PYTHONPATH``) and times it
from outside. No network is needed: unreachable sources are names under the reserved ``.invalid`` domain,
which never resolve, or a closed port on 127.0.0.1.

* ``harvest``: ``papersift harvest arxiv --from 2026-11-20 --set cs`` against ``export.arxiv.invalid``.
* ``port``: ``start``, ``serve`` and ``run`` on a port another socket holds (a 300-paper database).
* ``interrupt``: ``papersift run`` (lexical only) with both sources unreachable, SIGINT two seconds after it
  serves; and ``papersift run`` with the model while its indexer embeds 1,500 papers, SIGINT once the first
  embeddings are stored. The seconds from SIGINT to exit, the exit code, and tracebacks in its output.
* ``index``: ``papersift index`` while ``papersift serve`` holds the index folder (and embeds).

Prints one line per case.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import DATA, free_port, need_data
from papersift.service import Papersift
from tests.helpers import head_jsonl

NEEDS = "../shared/data (300 and 1,500 Daily Papers); the embedding model for the interrupt and index cases"

CLI = [sys.executable, "-m", "papersift.cli"]
OFFLINE = {"PAPERSIFT_HF_URL": "http://huggingface.invalid", "PAPERSIFT_ARXIV_OAI_URL": "http://export.arxiv.invalid/oai"}


def _corpus(folder: Path, papers: int) -> Path:
    """A database with ``papers`` real Daily Papers (the shared archive), lexically indexed."""
    db = folder / "p.db"
    svc = Papersift(db, embedder=False)
    svc.ingest_file("hf-daily", head_jsonl(DATA / "hf-daily-papers-2024-2026.jsonl.gz", folder / "hf.jsonl", papers))
    svc.index(embed=False)
    svc.close()
    return db


def _env(folder: Path, db: Path) -> dict:
    (folder / "papersift.toml").write_text('[schedule]\nsources = ["hf", "arxiv"]\nhf_days = 1\nharvest_times = ["00:00"]\n')
    return {**os.environ, **OFFLINE, "PAPERSIFT_DB": str(db), "PAPERSIFT_CONFIG": str(folder / "papersift.toml")}


def _timed(command: list[str], env: dict) -> dict:
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    return {"s": round(time.monotonic() - started, 2), "exit": done.returncode, "stderr_lines": len(lines),
            "last": lines[-1][:160] if lines else ""}


def harvest_case(folder: Path, db: Path) -> dict:
    return {"harvest arxiv offline": _timed(CLI + ["harvest", "arxiv", "--from", "2026-11-20", "--set", "cs"],
                                            _env(folder, db))}


def port_case(folder: Path, db: Path) -> dict:
    held = socket.create_server(("127.0.0.1", 0))
    port = str(held.getsockname()[1])
    try:
        return {f"{name} on a taken port": _timed(CLI + [name, "--port", port, *extra], _env(folder, db))
                for name, extra in (("start", []), ("serve", ["--no-embed"]), ("run", ["--no-embed"]))}
    finally:
        held.close()


def _interrupt(command: list[str], env: dict, ready) -> dict:
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 600
    while not ready():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            return {"error": "it did not get ready", "log": proc.communicate()[1][-500:]}
        time.sleep(0.1)
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    log = proc.communicate(timeout=300)[1]
    return {"s": round(time.monotonic() - started, 2), "exit": proc.returncode, "tracebacks": log.count("Traceback"),
            "aborted": "terminate called" in log, "stderr_lines": len(log.splitlines())}


def _serving(port: int):
    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200
        except httpx.HTTPError:
            return False
    return ready


def _embedding(db: Path):
    def ready() -> bool:
        try:
            with sqlite3.connect(db, timeout=30) as conn:
                return conn.execute("SELECT count(*) FROM embeddings").fetchone()[0] > 0
        except sqlite3.OperationalError:
            return False
    return ready


def interrupt_case(folder: Path, db: Path, big: Path) -> dict:
    port = free_port()
    serving, since = _serving(port), [0.0]

    def two_seconds_after_serving() -> bool:
        if not since[0] and serving():
            since[0] = time.monotonic()
        return bool(since[0]) and time.monotonic() - since[0] >= 2

    lexical = _interrupt(CLI + ["run", "--port", str(port), "--no-embed"], _env(folder, db), two_seconds_after_serving)
    embedding = _interrupt(CLI + ["run", "--port", str(free_port())], _env(folder, big), _embedding(big))
    return {"Ctrl-C on run, sources unreachable": lexical, "Ctrl-C on run while it embeds": embedding}


def index_case(folder: Path, big: Path) -> dict:
    port = free_port()
    server = subprocess.Popen(CLI + ["serve", "--port", str(port)], env=_env(folder, big),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready, deadline = _serving(port), time.monotonic() + 600
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.2)
        return {"index beside a server": _timed(CLI + ["index"], _env(folder, big))}
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=300)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run failures_offline", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="harvest,port,interrupt,index")
    args = parser.parse_args(argv)
    need_data("hf-daily-papers-2024-2026.jsonl.gz")
    cases = {c.strip() for c in args.cases.split(",")}
    result: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "small").mkdir()
        (folder / "big").mkdir()
        db = _corpus(folder / "small", 300)
        big = _corpus(folder / "big", 1500) if cases & {"interrupt", "index"} else db
        if "harvest" in cases:
            result |= harvest_case(folder, db)
        if "port" in cases:
            result |= port_case(folder, db)
        if "interrupt" in cases:
            result |= interrupt_case(folder, db, big)
        if "index" in cases:
            result |= index_case(folder, big)
    for name, row in result.items():
        print(f"{name:38s} {json.dumps(row)}")
    return result
