"""Several processes on one index folder (``serve --workers N``): the indexer writes, followers read.

Unit level: a writer and a read-only follower of the same vector folder and lexical index, the
follower catching up with :meth:`refresh` (new rows, deletions, a newly saved graph, a rebuild).
End to end: ``papersift serve --workers 2`` as a real subprocess on a real SQLite file: papers written
to the database by another process become searchable through the server, a vote clicked many times
at once from many connections counts once, and a signed-in session works whichever worker answers.
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import signal
import subprocess
import sys
import time

import httpx
import numpy as np
import pytest

from papersift.ids import paper_key
from papersift.index.lexical.bm25 import LexicalIndex
from papersift.index.vectors.hnsw import GraphVectorIndex
from papersift.model import FeedEntry, Paper
from papersift.query import parse_query
from papersift.server.workers import take_indexer_lock
from papersift.store import open_store

from ..helpers import wait_until_answers
from ..web_support import log_in, sign_up
from .test_start import free_port

DIM = 16


def _vectors(n: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_a_follower_sees_the_writers_rows_deletions_graph_and_rebuild(tmp_path):
    folder = tmp_path / "vectors"
    writer = GraphVectorIndex(DIM, folder, model="m", graph_min=50)
    follower = GraphVectorIndex(DIM, folder, model="m", graph_min=50, read_only=True)
    assert writer.writable and not follower.writable and len(follower) == 0
    first = _vectors(40, 1)
    writer.add([f"p{i}" for i in range(40)], first, seq=40)
    assert follower.refresh() and len(follower) == 40 and follower.seq == 40
    assert follower.search(first[7], 1)[0][0] == "p7"
    more = _vectors(100, 2)  # past graph_min: the writer builds a graph; the follower builds its own in RAM
    writer.add([f"q{i}" for i in range(100)], more, seq=140)
    writer.delete(["p7"], seq=141)
    assert follower.refresh() and len(follower) == 139 and "p7" not in follower
    assert follower.search(more[3], 1)[0][0] == "q3"
    assert all(pid != "p7" for pid, _ in follower.search(first[7], 10))
    assert not follower.refresh()  # nothing new: nothing to do
    writer.save_graph()
    assert follower.refresh()  # the saved graph is read
    assert follower.search_keys(more[5], 1, np.array([paper_key("q5")]))[0][0] == "q5"
    writer.close()
    shutil.rmtree(folder)  # `papersift index --rebuild`: a new folder, other rows
    rebuilt = GraphVectorIndex(DIM, folder, model="m", graph_min=50)
    rebuilt.add(["r0", "r1"], _vectors(2, 3), seq=142)
    assert follower.refresh() and sorted(follower._row) == ["r0", "r1"]
    rebuilt.close()
    follower.close()


def test_a_lexical_follower_sees_commits_and_drops_its_passing_sets(tmp_path):
    writer, follower = LexicalIndex(tmp_path / "lex"), LexicalIndex(tmp_path / "lex")
    paper = Paper(id="2401.00001", title="Sparse attention for long documents", abstract="We study attention.",
                  published="2024-01-02T00:00:00Z")
    q = parse_query("attention")
    assert follower.passing_keys(q).size == 0
    writer.add([paper])
    writer.commit()
    assert follower.reload() and not follower.reload()
    assert follower.passing_keys(q).size == 1  # a stale empty passing set would hide the paper
    assert [pid for pid, _ in follower.search(q).hits] == ["2401.00001"]


def test_one_indexer_per_index_folder(tmp_path):
    code = ("import sys; from pathlib import Path; from papersift.server.workers import take_indexer_lock; "
            "print(take_indexer_lock(Path(sys.argv[1])))")
    assert take_indexer_lock(tmp_path)
    other = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert other.stdout.strip() == "False", other.stderr




def _paper(n: int) -> Paper:
    day = "2024-05-2" + str(n % 7)
    return Paper(id=f"2405.{10000 + n}", title=f"Zymurgic flux number {n} in quantum brewing",
                 abstract="A study of zymurgic flux.", authors=["Ada Brewer"], published=f"{day}T00:00:00Z",
                 source="hf-jsonl", observed_at=f"{day}T09:00:00Z",
                 feed_entry=FeedEntry(day=day, upvotes=n, rank=n, captured_at=f"{day}T09:00:00Z"))


@pytest.fixture
def two_workers(tmp_path):
    db = tmp_path / "p.db"
    store = open_store(db)
    store.upsert_papers([_paper(0)])
    store.close()
    port = free_port()
    env = {**os.environ, "PAPERSIFT_DB": str(db)}
    proc = subprocess.Popen([sys.executable, "-m", "papersift.cli", "serve", "--workers", "2", "--no-embed",
                             "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(base + "/api/health", proc)
        yield base, db
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_two_workers_follow_one_indexer_count_votes_once_and_share_sessions(two_workers):
    base, db = two_workers
    store = open_store(db)  # another process writes papers: the server's indexer must pick them up
    store.upsert_papers([_paper(n) for n in range(1, 6)])
    store.close()
    # a new connection per request (Connection: close), so both workers answer; each says its role
    close = {"Connection": "close"}
    deadline, seen = time.time() + 60, {}
    with httpx.Client(base_url=base, timeout=30) as client:
        while time.time() < deadline and not (len(seen) == 2 and all(t == 6 for t in seen.values())):
            role = client.get("/api/health", headers=close).json()["index"]["role"]
            seen[role] = client.get("/api/v1/search", params={"q": "zymurgic", "mode": "bm25"},
                                    headers=close).json()["total"]  # (most likely the same worker)
            time.sleep(0.1)
        assert seen == {"indexer": 6, "follower": 6}, seen
        assert sign_up(client, "worker@example.org").status_code == 303
        for _ in range(10):  # the session cookie and CSRF token work whichever worker answers
            page = client.get("/settings", headers=close)
            assert page.status_code == 200 and "worker@example.org" in page.text
    pid = _paper(3).id

    def vote(_):
        with httpx.Client(base_url=base, timeout=30) as c:  # a new connection each: spread over the workers
            return c.post(f"/api/v1/papers/{pid}/vote", headers={"Authorization": f"Bearer {secret}"}).status_code

    secret = _new_token(base)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(vote, range(24)))
    assert set(codes) == {200}, codes
    paper = httpx.get(f"{base}/api/v1/papers/{pid}", timeout=30).json()
    store = open_store(db)
    source, local = store.get_paper(pid).upvotes or 0, store.vote_counts([pid])
    store.close()
    assert local == {pid: 1} and paper["upvotes"] == source + 1, paper  # one vote, however many clicks


def _new_token(base: str) -> str:
    import re

    with httpx.Client(base_url=base, timeout=30) as client:
        assert log_in(client, "worker@example.org").status_code == 303
        page = client.get("/settings").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        made = client.post("/settings/tokens", data={"csrf_token": csrf, "name": "votes"})
        return re.search(r'id="new-token" class="token" readonly value="([^"]+)"', made.text).group(1)
