"""What the exact scan below GRAPH_MIN costs: every search over a float32 copy in RAM, or converting the
float16 row file on each search (what it did before the copy).

    python -m bench run exact_scan [--rows 19000] [--searches 50]

Random unit rows (the scan's cost does not depend on what they mean) in a temporary on-disk index of
384 dimensions, below GRAPH_MIN so no graph is built; top 200 of each search. The median ms of both
ways, measured in one run.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np

from papersift.index.vectors.hnsw import GraphVectorIndex


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run exact_scan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=19_000)
    parser.add_argument("--searches", type=int, default=50)
    args = parser.parse_args(argv)
    rows = np.random.default_rng(0).standard_normal((args.rows, 384)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    out = {"rows": args.rows}
    with tempfile.TemporaryDirectory() as folder:
        index = GraphVectorIndex(384, folder, model="bench")
        index.add([f"p{i}" for i in range(args.rows)], rows, seq=1)
        for way, forget in (("kept float32 copy", False), ("float16 converted each search", True)):
            times = []
            for query in rows[: args.searches]:
                if forget:
                    index._file.forget_all_rows()
                started = time.perf_counter()
                index.search(query, 200)
                times.append(time.perf_counter() - started)
            out[way] = {"median_ms": round(1000 * statistics.median(times), 2)}
        index.close()
    return out
