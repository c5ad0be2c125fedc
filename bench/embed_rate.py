"""How fast the default embedder turns arXiv papers into vectors, as a backfill runs it.

    python -m bench run embed_rate [--papers 600] [--rounds 3] [--threads 2]

The texts are real: title + ". " + abstract of ``--papers`` papers of the arXiv archive (from its 30,000th
line, so not the file's first days), embedded by the product's embedder (``load_embedder("minilm")``) in
one ``embed`` call as indexing makes it. Two ways, interleaved round by round so that both see the same
machine: ``workers`` (the default: whole rows side by side, one single-threaded session per core) and
``one-session`` (every row through the multi-threaded session, as before). Papers per second, the median
of the rounds and their ratio, and the largest difference between the two ways' vectors (0: the same).

``--device cuda`` (a machine with a GPU and onnxruntime-gpu): the float32 graph (``minilm-fp32``) in padded
batches on the GPU against the same graph on the CPU, and the largest difference between their vectors.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import statistics
import time

import numpy as np

from bench.common import DATA

NEEDS = "../shared/data/arxiv-cs-2025-2026.jsonl.gz"


def texts(n: int) -> list[str]:
    with gzip.open(DATA / "arxiv-cs-2025-2026.jsonl.gz", "rt", encoding="utf-8") as handle:
        rows = (json.loads(line) for line in itertools.islice(handle, 30_000, 30_000 + n))
        return [f"{r['title']}. {r['abstract']}" for r in rows]


def rate(embed, batch: list[str]) -> tuple[float, np.ndarray]:
    started = time.perf_counter()
    vectors = embed(batch)
    return len(batch) / (time.perf_counter() - started), vectors


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench run embed_rate", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--papers", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2, help="cores the embedder may use (the threads setting)")
    ap.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = ap.parse_args(argv)
    from papersift.embed import encoders
    from papersift.embed.load import load_embedder

    batch = texts(args.papers)
    if args.device == "cuda":
        return on_gpu(batch, args.rounds, args.threads)
    embedder = load_embedder("minilm", threads=args.threads)
    embedder.embed(batch[:encoders.BULK_FROM])  # warm-up: both sessions loaded before any timing

    def one_session(items: list[str]) -> np.ndarray:
        saved, encoders.BULK_FROM = encoders.BULK_FROM, len(items) + 1  # below the bulk threshold
        try:
            return embedder.embed(items)
        finally:
            encoders.BULK_FROM = saved

    rates: dict[str, list[float]] = {"workers": [], "one-session": []}
    difference = 0.0
    for _ in range(args.rounds):
        fast, a = rate(embedder.embed, batch)
        slow, b = rate(one_session, batch)
        rates["workers"].append(fast)
        rates["one-session"].append(slow)
        difference = max(difference, float(np.abs(a - b).max()))
    medians = {name: round(statistics.median(values), 1) for name, values in rates.items()}
    return {"papers": len(batch), "threads": args.threads, "papers_per_s": medians,
            "rounds": {name: [round(v, 1) for v in values] for name, values in rates.items()},
            "ratio": round(medians["workers"] / medians["one-session"], 2), "max_vector_difference": difference}


def on_gpu(batch: list[str], rounds: int, threads: int) -> dict:
    from papersift.embed.load import load_embedder

    gpu = load_embedder("minilm-fp32", device="cuda")
    cpu = load_embedder("minilm-fp32", threads=threads)
    gpu.embed(batch[:64])  # warm-up: CUDA kernels chosen before any timing
    rates: dict[str, list[float]] = {gpu.device: [], "cpu (fp32)": []}
    difference = 0.0
    for _ in range(rounds):
        fast, a = rate(gpu.embed, batch)
        slow, b = rate(cpu.embed, batch)
        rates[gpu.device].append(fast)
        rates["cpu (fp32)"].append(slow)
        difference = max(difference, float(np.abs(a - b).max()))
    return {"papers": len(batch), "device": gpu.device,
            "papers_per_s": {name: round(statistics.median(v), 1) for name, v in rates.items()},
            "max_vector_difference": difference}


if __name__ == "__main__":
    print(json.dumps(main()))
