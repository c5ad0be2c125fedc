"""Time N saves that fail on a full disk, against a real ``papersift serve`` process.

    sudo .venv/bin/python -m bench run full_disk_saves [--saves 52]     # root: it mounts a small tmpfs

A database with a few papers, a reader and an API token on a 16 MB tmpfs; ``papersift serve
--no-embed`` (a child process, the code on ``PYTHONPATH``, its stderr to a file as a service
manager would keep it) runs on it; the write-ahead log is folded in and cut to nothing and the disk
filled, then ``--saves`` ``POST /api/v1/papers/ID/save`` are timed one after another. The server
logs what it logs for each (a traceback per 500 before, nothing for a 507 now). Then the disk is
freed and one more save must succeed without a restart. The result: the statuses seen, the seconds
for the failed saves, and how many lines the server wrote to stderr meanwhile.
"""

from __future__ import annotations

import argparse
import collections
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from pathlib import Path

import httpx

from bench.common import free_port
from papersift.model import Paper
from papersift.service import Papersift

NEEDS = "root (it mounts a 16 MB tmpfs)"


def _fill(folder: Path) -> Path:
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (1 << 20, 4096):
            while True:
                try:
                    os.write(fd, b"\0" * size)
                except OSError:
                    break
    finally:
        os.close(fd)
    return filler


def _prepare(db: Path) -> tuple[str, list[str]]:
    svc = Papersift(db, embedder=False)
    ids = [f"2405.{20000 + n}" for n in range(10)]
    svc.store.upsert_papers([Paper(id=pid, title=f"Paper {pid}", abstract="A study.", source="hf-jsonl",
                                   observed_at="2024-05-28T09:00:00Z") for pid in ids])
    user = svc.accounts.create_user("bench@example.com", "long enough pw", "Bench")
    _, token = svc.accounts.create_token(user, "bench")
    svc.close()
    return token, ids


def run(saves: int) -> dict:
    root = Path(tempfile.mkdtemp(prefix="papersift-full-"))
    disk = root / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], check=True)
    server = None
    try:
        db = disk / "papersift.db"
        token, ids = _prepare(db)
        port, log = free_port(), root / "serve.log"
        env = {**os.environ, "PAPERSIFT_DB": str(db), "PAPERSIFT_SECRET_KEY": "bench-" + "k" * 40}
        with open(log, "w") as out:
            server = subprocess.Popen([sys.executable, "-m", "papersift.cli", "serve", "--no-embed", "--port",
                                       str(port)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=root)
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=600, headers={"Authorization": f"Bearer {token}"}) as api:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if api.post(f"/api/v1/papers/{ids[0]}/save").status_code == 200:  # also notes the token's use
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or server.poll() is not None:
                    raise SystemExit(f"the server did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.2)
            with closing(sqlite3.connect(db)) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            filler = _fill(disk)
            lines_before = len(log.read_text().splitlines())
            statuses: collections.Counter = collections.Counter()
            started = time.perf_counter()
            for n in range(saves):
                statuses[api.post(f"/api/v1/papers/{ids[1 + n % 9]}/save").status_code] += 1
            seconds = time.perf_counter() - started
            lines = len(log.read_text().splitlines()) - lines_before
            filler.unlink()
            after = api.post(f"/api/v1/papers/{ids[1]}/save").status_code
        return {"saves": saves, "statuses": dict(statuses), "seconds": round(seconds, 3),
                "ms_per_save": round(1000 * seconds / saves, 1), "server_log_lines": lines,
                "status_after_freeing": after}
    finally:
        if server is not None:
            server.terminate()
            server.wait(30)
        subprocess.run(["umount", "-l", str(disk)])
        subprocess.run(["rm", "-rf", str(root)])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run full_disk_saves", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saves", type=int, default=52)
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        raise SystemExit("run as root: the benchmark mounts a small tmpfs")
    return run(args.saves)
