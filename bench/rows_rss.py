"""What reading float rows for rescoring costs in time and in the process's RSS, four ways.

    python bench/rows_rss.py [--rows /tmp/ps1m/index/vectors/rows.f32] [--searches 300] [--per 800]

Each "search" reads ``--per`` random rows (sorted, as ``GraphVectorIndex._rescore`` does) and takes
their dot product with a query: from the memory map as the index does (``mmap``), the same after
``MADV_RANDOM``, the same with ``MADV_DONTNEED`` over the map after each search, and with one
``os.preadv`` per row into a buffer. Prints the median ms a search and RssFile (MB) before and after each way
(the file should be in the page cache: read it once first, e.g. ``cat rows.f32 > /dev/null``).
Why: the kernel's fault-around maps 64 KB of cached pages around every fault, so RssFile grows to
the whole file long before every row was read (docs/BENCHMARKS.md, "An id-only lexical index").
"""

from __future__ import annotations

import argparse
import json
import mmap
import os
import statistics
import time

import numpy as np

DIM = 384


def rss_file_mb() -> int:
    for line in open("/proc/self/status"):
        if line.startswith("RssFile"):
            return int(line.split()[1]) // 1024
    return -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="/tmp/ps1m/index/vectors/rows.f32")
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--per", type=int, default=800)
    args = parser.parse_args()
    n = os.path.getsize(args.rows) // (DIM * 4)
    rng = np.random.default_rng(0)
    query = rng.standard_normal(DIM).astype(np.float32)
    sets = [np.unique(rng.integers(0, n, args.per)) for _ in range(args.searches)]
    fd = os.open(args.rows, os.O_RDONLY)
    buf = np.empty((args.per, DIM), np.float32)

    def preadv(rows: np.ndarray) -> np.ndarray:
        view = memoryview(buf).cast("B")
        for i, row in enumerate(rows.tolist()):
            os.preadv(fd, [view[i * DIM * 4:(i + 1) * DIM * 4]], row * DIM * 4)
        return buf[: len(rows)] @ query

    out = {"rows_in_file": n, "file_mb": round(n * DIM * 4 / 2**20)}
    for way in ("mmap", "mmap + MADV_RANDOM", "mmap + MADV_DONTNEED after each", "preadv per row"):
        rows_map = np.memmap(args.rows, dtype=np.float32, mode="r", shape=(n, DIM))  # a fresh map each way
        if way == "mmap + MADV_RANDOM":
            rows_map._mmap.madvise(mmap.MADV_RANDOM)
        times, before = [], rss_file_mb()
        for rows in sets:
            started = time.perf_counter()
            if way == "preadv per row":
                preadv(rows)
            else:
                np.asarray(rows_map[rows]) @ query
                if way.endswith("after each"):
                    rows_map._mmap.madvise(mmap.MADV_DONTNEED)
            times.append(time.perf_counter() - started)
        out[way] = {"median_ms": round(1000 * statistics.median(times), 3), "rss_file_mb_before": before,
                    "rss_file_mb_after": rss_file_mb()}
        del rows_map
    print(json.dumps(out))


if __name__ == "__main__":
    main()
