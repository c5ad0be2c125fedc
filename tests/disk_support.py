"""A real full disk for the tests: a small tmpfs mounted for one test, filled by a filler file.

Mounting needs root; the tests run as root here and in CI (``.ci/run``). Elsewhere they skip, and
under CI=true a skip is a failure (tests/conftest.py), as it should be there.
"""

from __future__ import annotations

import errno
import json
import os
import random
import shutil
import sqlite3
import string
import subprocess
from contextlib import closing
from pathlib import Path

import pytest

FILLER = "filler"


class SmallDisk:
    """A tmpfs of ``size`` at ``path``. ``fill(leave)`` takes all its room but ``leave`` bytes with a
    filler file; ``free()`` deletes the filler."""

    def __init__(self, path: Path, size: str = "24m", options: str = ""):
        path.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}{options}", "tmpfs", str(path)],
                              capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs at {path} ({done.stderr.strip()}): the full-disk tests need "
                        "root and mount (CI has both)")
        self.path = path

    def free_bytes(self) -> int:
        return shutil.disk_usage(self.path).free

    def fill(self, leave: int = 0) -> None:
        filler = self.path / FILLER
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            for size in (1 << 20, 4096):  # big blocks, then the last pages
                block = b"\0" * size
                while True:
                    try:
                        os.write(fd, block)
                    except OSError as exc:
                        if exc.errno != errno.ENOSPC:
                            raise
                        break
        finally:
            os.close(fd)
        if leave:
            os.truncate(filler, max(0, filler.stat().st_size - leave))
        assert self.free_bytes() <= leave + 4096, self.free_bytes()

    def free(self) -> None:
        (self.path / FILLER).unlink(missing_ok=True)

    def unmount(self) -> None:
        self.free()
        subprocess.run(["umount", "-l", str(self.path)], capture_output=True, timeout=30)


def no_wal_slack(db: Path) -> None:
    """Fold SQLite's write-ahead log into the database file and cut it to nothing. SQLite reuses the
    log file's old frames, so without this a few writes still fit on a disk that is full; after it
    the next write needs new room at once, as on a disk that filled up for real."""
    with closing(sqlite3.connect(db)) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0, "something held the database open in a read"


def hf_lines(path: Path, start: int, count: int, abstract_words: int = 250) -> list[str]:
    """A Hugging Face Daily Papers archive of ``count`` papers with random (incompressible) abstracts;
    returns their ids."""
    rng = random.Random(start)
    ids = []
    with open(path, "w") as out:
        for n in range(start, start + count):
            pid = f"2405.{10000 + n:05d}"
            ids.append(pid)
            words = " ".join("".join(rng.choices(string.ascii_lowercase, k=7)) for _ in range(abstract_words))
            out.write(json.dumps({"arxiv_id": pid, "feed_date": "2024-05-27", "captured_at": "2024-05-28T09:00:00Z",
                                  "title": f"Paper number {n} on quokka flux", "abstract": words,
                                  "authors": [f"Author {n}"], "published_at": "2024-05-24T00:00:00Z",
                                  "upvotes": n % 50}) + "\n")
    return ids
