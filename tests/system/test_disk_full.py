"""A full disk gives a clear answer and loses nothing, on a real full disk (a small tmpfs, filled).

The CLI ingest stops with exit 2 and one line, keeping every batch it committed; the server answers
writes with a 507 (JSON under /api, the error page on the website), logs no error for them, and takes
the same writes again once there is room, without a restart; ``serve`` with no signing key yet says
so in one line; the background indexer logs one line, keeps running and catches up after; an export
leaves no truncated file; the vector files go back to their last commit; and PostgreSQL's own full
disk (a tablespace on a small tmpfs) is a DiskFull with the store still usable.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import httpx
import numpy as np
import pytest

from papersift.errors import DiskFull
from papersift.index.vectors.vector_file import VectorFile
from papersift.model import FeedEntry, Paper
from papersift.server.app import create_app
from papersift.server.indexer import BackgroundIndexer
from papersift.service import Papersift
from papersift.store import open_store

from ..disk_support import SmallDisk, hf_lines, no_wal_slack
from ..helpers import running_server
from ..smtp_support import free_port
from ..web_support import assert_html_error, csrf_of, sign_up, site_service

FULL = re.compile(r"^error: the disk holding (\S+) is full \(\d+ MB free\): free some space; ")


@pytest.fixture
def small_disk(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("the full-disk tests mount a small tmpfs, which needs root (CI runs the tests as root)")
    disk = SmallDisk(tmp_path / "disk")
    try:
        yield disk
    finally:
        disk.unmount()


def cli(env: dict, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "papersift.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300, cwd=cwd)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, (proc.returncode, proc.stdout[-2000:], proc.stderr[-4000:])
    assert "Traceback" not in proc.stderr + proc.stdout
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def stored_ids(db: Path) -> set[str]:
    with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        return {row[0] for row in conn.execute("SELECT id FROM papers")}


def papers(start: int, count: int, word: str = "quokka") -> list[Paper]:
    at = "2024-05-28T09:00:00Z"
    return [Paper(id=f"2405.{20000 + n}", title=f"{word.capitalize()} flux number {n}",
                  abstract=f"A study of {word} flux, part {n}.", authors=[f"Author {n}"],
                  published="2024-05-24T00:00:00Z", source="hf-jsonl", observed_at=at,
                  feed_entry=FeedEntry(day="2024-05-27", upvotes=n, rank=n, captured_at=at))
            for n in range(start, start + count)]


# ---- the command line
def test_cli_ingest_on_a_full_disk_is_one_line_and_keeps_every_committed_batch(small_disk, tmp_path):
    db = small_disk.path / "papersift.db"
    env = {**os.environ, "PAPERSIFT_DB": str(db)}
    first = hf_lines(tmp_path / "first.jsonl", 0, 200, abstract_words=100)
    assert cli(env, "ingest", "hf-daily", str(tmp_path / "first.jsonl")).returncode == 0
    more = hf_lines(tmp_path / "more.jsonl", 200, 4000, abstract_words=100)
    no_wal_slack(db)
    small_disk.fill(leave=3_000_000)  # room for a batch or two of 500, not for 4000 papers

    line = one_error_line(cli(env, "ingest", "hf-daily", str(tmp_path / "more.jsonl")))
    assert FULL.match(line) and FULL.match(line).group(1) == str(db), line
    kept = int(re.search(r"the (\d+) records before this batch of 500 are stored", line).group(1))
    assert 0 < kept < 4000 and kept % 500 == 0, line  # it stopped part-way, after whole batches
    assert stored_ids(db) == set(first) | set(more[:kept])  # every committed batch, nothing of the failed one

    small_disk.free()
    again = cli(env, "ingest", "hf-daily", str(tmp_path / "more.jsonl"), "--json")
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert (report["inserted"], report["unchanged"]) == (4000 - kept, kept)
    assert report["indexed"] == 4000  # the lexical index catches up on all of them
    assert stored_ids(db) == set(first) | set(more)


@pytest.mark.parametrize("held_open", [False, True], ids=["alone", "held-open"])
def test_serve_with_no_signing_key_on_a_full_disk_is_one_error_line(small_disk, tmp_path, held_open):
    """Alone, SQLite cannot even make the shared-memory file it reads through (SQLITE_IOERR_SHMSIZE);
    with another process holding the database open (a running ingest), the read works and the write of
    the new signing key is what finds no room."""
    db = small_disk.path / "papersift.db"
    svc = Papersift(db, embedder=False)
    svc.store.upsert_papers(papers(0, 5))
    svc.close()
    no_wal_slack(db)
    with closing(sqlite3.connect(db)) as other:
        if held_open:
            other.execute("SELECT COUNT(*) FROM papers").fetchone()
        else:
            other.close()
        small_disk.fill()
        env = {k: v for k, v in os.environ.items() if k != "PAPERSIFT_SECRET_KEY"} | {"PAPERSIFT_DB": str(db)}
        # cwd: no papersift.toml there, so no configured key: it would be made and kept in the database
        line = one_error_line(cli(env, "serve", "--no-embed", "--port", str(free_port()), cwd=tmp_path))
        assert FULL.match(line) and FULL.match(line).group(1) == str(db), line
        if held_open:
            assert other.execute("SELECT COUNT(*) FROM secrets").fetchone()[0] == 0


def test_export_to_a_full_disk_leaves_no_truncated_file(small_disk, tmp_path):
    db = tmp_path / "papersift.db"
    svc = Papersift(db, embedder=False)
    svc.store.upsert_papers(papers(0, 300))
    svc.close()
    target = small_disk.path / "day.bib"
    small_disk.fill(leave=8192)  # the export is bigger than this
    line = one_error_line(cli({**os.environ, "PAPERSIFT_DB": str(db)}, "export", "-f", "bibtex",
                              "--day", "2024-05-27", "-o", str(target)))
    assert FULL.match(line) and FULL.match(line).group(1) == str(target), line
    assert "the export was not written" in line
    assert not target.exists()  # a truncated export would pass for a whole one


# ---- the server
def _web_save(client: httpx.Client, paper_id: str) -> httpx.Response:
    token = csrf_of(client.get(f"/papers/{paper_id}").text)
    return client.post(f"/papers/{paper_id}/save", data={"csrf_token": token, "action": "save"})


def test_server_writes_on_a_full_disk_are_507_and_work_again_once_there_is_room(small_disk, caplog):
    db = small_disk.path / "site.db"
    svc = site_service(db)
    svc.store.upsert_papers(papers(0, 6))
    ids = [p.id for p in papers(0, 6)]
    reader = svc.accounts.create_user("reader@example.com", "long enough pw", "Reader")
    _, token = svc.accounts.create_token(reader, "tests")
    bearer = {"Authorization": f"Bearer {token}"}
    caplog.set_level(logging.INFO)
    with running_server(create_app(svc, background=False)) as base, \
            httpx.Client(base_url=base, timeout=30, headers=bearer) as api, \
            httpx.Client(base_url=base, timeout=30, headers={"Origin": base}) as web:
        assert sign_up(web, "web@example.com").status_code == 303
        assert api.post(f"/api/v1/papers/{ids[0]}/save").status_code == 200  # acknowledged before
        assert _web_save(web, ids[1]).status_code == 303
        # the token's note of use is a minute old: a read must not fail on that write either
        with closing(sqlite3.connect(db)) as conn, conn:
            conn.execute("UPDATE api_tokens SET last_used_at = '2000-01-01T00:00:00Z'")
        no_wal_slack(db)
        small_disk.fill()
        caplog.clear()

        for _ in range(20):
            response = api.post(f"/api/v1/papers/{ids[2]}/save")
            assert response.status_code == 507, response.text[:500]
            error = response.json()["error"]
            assert error["code"] == "disk_full"
            assert error["message"].startswith("the server's disk is full, so this change was not saved"), error
            assert str(db) not in error["message"]  # the path is the operator's: it is in the log
        assert api.post(f"/api/v1/papers/{ids[2]}/vote").status_code == 507
        page = _web_save(web, ids[3])
        assert_html_error(page, 507)
        assert "disk is full, so this change was not saved" in page.text and str(db) not in page.text
        assert f"the disk holding {db} is full" in caplog.text  # one warning line for the operator
        # reads go on: the API with a token, the pages
        assert api.get("/api/v1/library").status_code == 200
        assert web.get("/library").status_code == 200
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text  # a 507 is no error

        small_disk.free()  # no restart: the same writes go through
        assert api.post(f"/api/v1/papers/{ids[2]}/save").json()["saved"] is True
        assert _web_save(web, ids[3]).status_code == 303
        saved = {p["id"] for p in api.get("/api/v1/library").json()["papers"]}
        assert saved == {ids[0], ids[2]}
        library = web.get("/library").text
        assert ids[1] in library and ids[3] in library


# ---- the background indexer
def test_the_indexer_on_a_full_disk_logs_one_line_keeps_running_and_catches_up(small_disk, tmp_path, caplog):
    svc = Papersift(tmp_path / "papersift.db", index_dir=small_disk.path / "index", embedder=False)
    svc.store.upsert_papers(papers(0, 5))
    indexer = BackgroundIndexer(svc, interval=0.05)
    indexer.full_disk_retry = 0.1
    caplog.set_level(logging.INFO, logger="papersift")
    indexer.start()
    try:
        _wait(lambda: svc.search("quokka", mode="bm25").total == 5)
        small_disk.fill()
        caplog.clear()
        svc.store.upsert_papers(papers(5, 200, word="wombat"))  # the database is on another disk
        _wait(lambda: indexer.disk_full)
        time.sleep(1.0)  # ten more tries at least
        assert indexer._thread.is_alive()
        records = [r for r in caplog.records if r.name.startswith("papersift")]
        assert len(records) == 1, caplog.text
        assert records[0].exc_info is None and "\n" not in records[0].getMessage()
        assert records[0].getMessage().startswith(f"indexing paused: the disk holding {small_disk.path / 'index'}")
        assert svc.search("wombat", mode="bm25").total == 0
        assert svc.search("quokka", mode="bm25").total == 5  # what was indexed still answers

        small_disk.free()
        _wait(lambda: svc.search("wombat", mode="bm25").total == 200)
        assert not indexer.disk_full
        assert "the disk has room again" in caplog.text
    finally:
        indexer.stop()


def _wait(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_vector_rows_go_back_to_the_last_commit_when_the_disk_is_full(small_disk):
    folder = small_disk.path / "vectors"
    rng = np.random.default_rng(0)
    vf = VectorFile(folder, 64, "test-model")
    vf.append(["a", "b"], rng.standard_normal((2, 64)))
    vf.commit(seq=2)
    small_disk.fill(leave=4096)
    with pytest.raises(DiskFull, match=f"the disk holding {folder} is full"):
        vf.append([f"x{i}" for i in range(200)], rng.standard_normal((200, 64)))
        vf.commit(seq=9)
    assert (len(vf), vf.seq) == (2, 2)
    small_disk.free()
    small_disk.fill()  # a row and its id fit in the files' last pages; the new manifest finds no room
    vf.append(["y"], rng.standard_normal((1, 64)))
    with pytest.raises(DiskFull, match=f"the disk holding {folder} is full"):
        vf.commit(seq=8)
    assert (len(vf), vf.seq) == (2, 2)
    assert not list(folder.glob("*.tmp"))  # no half-written manifest left taking up room
    small_disk.free()
    vf.append(["c"], np.ones((1, 64)))
    vf.commit(seq=3)
    vf.close()
    again = VectorFile(folder, 64, "test-model")
    assert (len(again), again.seq) == (3, 3)
    assert [pid for _, pid in again.replay()] == ["a", "b", "c"]
    assert np.allclose(again.take(np.array([2]))[0], 1.0)
    again.close()


# ---- PostgreSQL: a tablespace on a small tmpfs (its write-ahead log stays on the server's own disk)
def test_postgres_full_disk_is_disk_full_and_the_store_goes_on(pg_server):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs for the tablespace needs root (CI runs the tests as root)")
    import pwd

    owner = pwd.getpwnam("postgres") if pg_server.as_postgres else pwd.getpwuid(os.geteuid())
    # not under tmp_path: the server's user must reach the folder, as with pg_support's own
    root = Path(tempfile.mkdtemp(prefix="papersift-ts-"))
    os.chown(root, owner.pw_uid, owner.pw_gid)
    disk = SmallDisk(root / "disk", size="16m", options=f",uid={owner.pw_uid},gid={owner.pw_gid},mode=0700")
    space = f"ts{os.getpid()}"
    name = f"full{os.getpid()}"
    try:
        pg_server.admin(f"CREATE TABLESPACE {space} LOCATION '{disk.path}'")
        pg_server.admin(f'CREATE DATABASE "{name}" TEMPLATE template0 TABLESPACE {space}')
        store = open_store(pg_server.url(name))
        try:
            store.upsert_papers(papers(0, 20))
            disk.fill()
            big = [Paper(id=f"2406.{10000 + n}", title=f"Big {n}", abstract=os.urandom(3000).hex(),
                         source="hf-jsonl", observed_at="2024-06-01T00:00:00Z") for n in range(300)]
            with pytest.raises(DiskFull, match="the database server's disk is full"):
                store.upsert_papers(big)
            assert store.count_papers() == 20  # the failed batch is rolled back, the earlier one kept
            disk.free()
            store.upsert_papers(big)  # the same pool, no restart
            assert store.count_papers() == 320
        finally:
            store.close()
    finally:
        pg_server.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        pg_server.admin(f"DROP TABLESPACE IF EXISTS {space}")
        disk.unmount()
        shutil.rmtree(root, ignore_errors=True)
