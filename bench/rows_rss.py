"""What reading rows for rescoring costs in time and in the process's RSS, five ways, alone and beside a busy thread.

    python -m bench run rows_rss [--rows FILE] [--searches 300] [--per 800]   # default: the 1M workdir's rows.f16

Each "search" reads ``--per`` random rows (sorted, as ``GraphVectorIndex._rescore`` does) and takes
their dot product with a query: from a memory map (``mmap``), the same after ``MADV_RANDOM``, the
same with ``MADV_DONTNEED`` over the map after each search, with one ``os.pread`` per row, and with
``VectorFile.take``, what the index does (one libc ``pread`` a row through ctypes' ``PyDLL``, which
keeps the GIL; only for a float16 index folder, read-only). The row
type follows the file's suffix (``.f16`` or ``.f32``, 384 dimensions). Every way
runs twice: alone, then with a second thread spinning in pure Python (a request rendering a page
beside the search). The median and p90 ms a search and RssFile (MB) before and after each way
(the file should be in the page cache: read it once first, e.g. ``cat rows.f16 > /dev/null``).
Why: the kernel's fault-around maps 64 KB of cached pages around every fault, so through a map
RssFile grows to the whole file long before every row was read; and ``os.pread`` releases the GIL
on every call, so beside a busy thread a search might wait many switch intervals to get it back
(with both cores busy it does: p90 in the hundreds of ms).
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import numpy as np

from bench import million, million_corpus
from bench.common import percentile, workdir
from papersift.index.vectors.vector_file import VectorFile

NEEDS = "a vector row file: by default the million-paper workdir's (built first when missing)"
DIM = 384


def rss_file_mb() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("RssFile"):
            return int(line.split()[1]) // 1024
    return -1


class Busy:
    """A thread that spins in Python bytecode (holds the GIL but for the interpreter's switches)."""

    def __init__(self):
        self.stop = False
        self.thread = threading.Thread(target=self._spin, daemon=True)

    def _spin(self) -> None:
        total = 0
        while not self.stop:
            for i in range(1_000):
                total += i

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop = True
        self.thread.join()


def default_rows(work: Path) -> Path:
    """The 1M workdir's vector rows, after building the workdir and its vector index when missing."""
    rows = million_corpus.ensure(work) / "index" / "vectors" / "rows.f16"
    if not rows.exists():
        print(f"no {rows}: building the vector index first, as `python -m bench run million --phases build`",
              file=sys.stderr, flush=True)
        million.phase_build(work)
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run rows_rss", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=Path, help="a rows.f16 or rows.f32 file (default: the 1M workdir's)")
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--per", type=int, default=800)
    args = parser.parse_args(argv)
    path = args.rows or default_rows(workdir("1m"))
    dtype = np.float16 if path.suffix == ".f16" else np.float32
    row_bytes = DIM * np.dtype(dtype).itemsize
    n = path.stat().st_size // row_bytes
    rng = np.random.default_rng(0)
    query = rng.standard_normal(DIM).astype(np.float32)
    sets = [np.unique(rng.integers(0, n, args.per)) for _ in range(args.searches)]
    fd = os.open(path, os.O_RDONLY)
    # the index's own reader (read-only: never takes the folder's writer lock) for a float16 index folder
    manifest = path.parent / "manifest.json"
    taker = (VectorFile(path.parent, DIM, json.loads(manifest.read_text())["model"], read_only=True)
             if dtype == np.float16 and manifest.exists() else None)

    def os_pread(rows: np.ndarray) -> np.ndarray:
        data = b"".join([os.pread(fd, row_bytes, row * row_bytes) for row in rows.tolist()])
        return np.frombuffer(data, dtype).reshape(-1, DIM).astype(np.float32) @ query

    out = {"rows_in_file": n, "file_mb": round(n * row_bytes / 2**20), "row_type": np.dtype(dtype).name}
    ways = ["mmap", "mmap + MADV_RANDOM", "mmap + MADV_DONTNEED after each", "os.pread per row"]
    ways += ["VectorFile.take (libc pread via PyDLL)"] if taker is not None and len(taker) == n else []
    for busy in (False, True):
        for way in ways:
            rows_map = np.memmap(path, dtype=dtype, mode="r", shape=(n, DIM))  # a fresh map each way
            if way == "mmap + MADV_RANDOM":
                rows_map._mmap.madvise(mmap.MADV_RANDOM)
            times, before = [], rss_file_mb()
            with Busy() if busy else open(os.devnull):
                for rows in sets:
                    started = time.perf_counter()
                    if way == "os.pread per row":
                        os_pread(rows)
                    elif way.startswith("VectorFile"):
                        taker.take(rows) @ query
                    else:
                        np.asarray(rows_map[rows], dtype=np.float32) @ query
                        if way.endswith("after each"):
                            rows_map._mmap.madvise(mmap.MADV_DONTNEED)
                    times.append(time.perf_counter() - started)
            out[f"{way}{' beside a busy thread' if busy else ''}"] = {
                "median_ms": round(1000 * statistics.median(times), 3),
                "p90_ms": round(1000 * percentile(times, 90), 3),
                "rss_file_mb_before": before, "rss_file_mb_after": rss_file_mb()}
            del rows_map
    return out
