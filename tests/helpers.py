"""Shared test helpers: a real uvicorn server on 127.0.0.1 in a thread, and small real corpora."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import signal
import subprocess
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

# The real data folder: ../shared/data beside the checkout, or $PAPERSIFT_SHARED_DATA (the variable the
# app's offline start reads too). Pointing it at a missing folder shows what a fresh clone sees:
# the data tests skip, and under CI=true they fail (tests/conftest.py).
SHARED = (Path(os.environ["PAPERSIFT_SHARED_DATA"]) if "PAPERSIFT_SHARED_DATA" in os.environ
          else Path(__file__).resolve().parents[2] / "shared" / "data")
# The small real sample committed beside the tests (tests/data/README.md, cut by scripts/cut_test_sample.py):
# what a test that needs *some* real papers reads, so that it runs on any clone. The HF sample's first
# 600 lines are the archive's first 600 lines, so ``head_jsonl(HF_SAMPLE, n)`` for n <= 600 reads
# exactly what it read from the full archive.
DATA = Path(__file__).resolve().parent / "data"
HF_SAMPLE = DATA / "hf-daily-papers-sample.jsonl.gz"  # feed days 2024-05-27..07-22, 2025-03-04..10, 03-17..18
ARXIV_SAMPLE = DATA / "arxiv-cs-sample.jsonl.gz"  # 400 listings spread over 2025-03..2026-04
SCIFACT_SAMPLE = DATA / "scifact"  # 204 documents, 40 test queries with their judgements
QUERIES_SAMPLE = DATA / "queries"  # the first 50 of each query workload


def head_jsonl(src: Path, dst: Path, n: int) -> Path:
    """Write the first n lines of a (gzipped) JSONL file: a small real sample."""
    with gzip.open(src, "rt") as handle, open(dst, "w") as out:
        for line in itertools.islice(handle, n):
            out.write(line)
    return dst


@contextmanager
def running_server(app, config: uvicorn.Config | None = None):
    """``app`` served on 127.0.0.1 (a free port) in a thread; ``config``: the server's own settings
    instead (e.g. ``cli.common.server_config``, with its trusted proxies), also on port 0."""
    server = uvicorn.Server(config or uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                                                     lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 30
    while not server.started:
        if time.time() > deadline or not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def read_json_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def wait_until_answers(url: str, proc, seconds: float = 120) -> None:
    """Poll ``url`` until it answers 200; the server's stderr if its process ``proc`` exits first."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read())
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer")


def stop_process(proc: subprocess.Popen, seconds: float = 60) -> tuple[str, str]:
    """Ctrl-C (SIGINT) a server started by a test, killed if it has not ended after ``seconds``;
    returns what it printed (stdout, stderr)."""
    proc.send_signal(signal.SIGINT)
    try:
        return proc.communicate(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


TOPICS = ["protein folding with graph networks", "retrieval augmented generation for question answering",
          "diffusion models for video synthesis", "reinforcement learning for robot grasping",
          "speech recognition in noisy rooms", "graph neural networks for molecules",
          "question answering over tables", "video transformers for action recognition",
          "robot navigation with language instructions", "molecule generation with diffusion"]


def topics_searcher(folder: Path):
    """A searcher as the service builds it (the default fusion) over ten papers on ten overlapping topics,
    alternately cs.LG and cs.CV, indexed with the real MiniLM vectors."""
    from papersift.model import Paper
    from papersift.search.searcher import Searcher
    from papersift.service import Papersift

    svc = Papersift(folder / "p.db")
    svc.store.upsert_papers([
        Paper(id=f"2405.{i + 10000:05d}", title=t.capitalize(), abstract=f"We study {t} and compare methods.",
              categories=["cs.LG" if i % 2 else "cs.CV"], published="2024-05-20T00:00:00Z", source="arxiv-oai",
              observed_at="2024-05-21T00:00:00Z")
        for i, t in enumerate(TOPICS)])
    svc.index()
    return Searcher(svc.indexes)
