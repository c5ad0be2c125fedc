"""The 75K arXiv + 9.9K Hugging Face corpus: ingest, index and search costs on this machine.

    python -m bench run corpus_scale [--workdir DIR] [--embed-limit N]     # default: /tmp/papersift-bench/scale

Unlike the 80K workdir (``corpus80k``: precomputed vectors), this one runs the model over every paper:
what ingest, indexing and embedding cost. Phases that already ran in the workdir are skipped (embedding
85K papers takes ~30 min on 2 cores), so the latency phase can be re-run alone.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from bench.common import DATA, dir_mb, load_queries, need_data, percentile, rss_mb, workdir
from papersift.query import Filters
from papersift.service import Papersift

NEEDS = "../shared/data; about 30 minutes of embedding on 2 cores the first time"


def latency(svc: Papersift, queries: list[str], mode: str, filters: Filters | None, runs: int = 3) -> dict:
    times = []
    for _ in range(runs):
        for text in queries:
            started = time.perf_counter()
            svc.search(text, filters, mode=mode, per_page=10)
            times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "p99_ms": round(percentile(times, 99), 2),
            "queries": len(times)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run corpus_scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=workdir("scale"))
    parser.add_argument("--embed-limit", type=int, default=None)
    args = parser.parse_args(argv)
    need_data("arxiv-cs-2025-2026.jsonl.gz", "hf-daily-papers-2024-2026.jsonl.gz", "queries")
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    results_file = work / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    db = work / "papersift.db"
    metadata_phases(db, results)
    results_file.write_text(json.dumps(results))
    svc = Papersift(db)
    embed_phase(svc, results, args.embed_limit)
    results_file.write_text(json.dumps(results))
    results["sizes_mb"] = {"sqlite_file": dir_mb(db), "lexical_index": dir_mb(svc.index_dir / "lexical"),
                           "vectors_in_ram": round(len(svc.indexes.vectors) * svc.indexes.embedder.dim * 4 / 2**20, 1),
                           "process_rss_after_load": rss_mb()}
    results["vectors"] = len(svc.indexes.vectors)
    queries = load_queries()
    filters = Filters(date_from="2025-06-01", date_to="2026-03-31", categories=["cs.CL", "cs.AI"])
    svc.search(queries[0], None)  # warm up: first query loads the ONNX session
    results["latency"] = {
        "bm25": latency(svc, queries, "bm25", None),
        "bm25_filtered": latency(svc, queries, "bm25", filters),
        "hybrid": latency(svc, queries, "hybrid", None),
        "hybrid_filtered": latency(svc, queries, "hybrid", filters),
    }
    results["rss_after_queries_mb"] = rss_mb()
    results_file.write_text(json.dumps(results))
    return results


def metadata_phases(db: Path, results: dict) -> None:
    svc = Papersift(db, embedder=False)
    if "ingest" not in results:
        started = time.perf_counter()
        a = svc.ingest_file("arxiv-jsonl", DATA / "arxiv-cs-2025-2026.jsonl.gz", index=False)
        h = svc.ingest_file("hf-daily", DATA / "hf-daily-papers-2024-2026.jsonl.gz", index=False)
        seconds = time.perf_counter() - started
        records = a.read + h.read
        results["ingest"] = {"records": records, "papers": svc.store.count_papers(), "seconds": round(seconds, 1),
                             "records_per_s": round(records / seconds, 1), "bad": len(a.bad) + len(h.bad)}
    if "lexical_index" not in results:
        started = time.perf_counter()
        n = svc.index(embed=False)["lexical"]
        seconds = time.perf_counter() - started
        results["lexical_index"] = {"papers": n, "seconds": round(seconds, 1), "papers_per_s": round(n / seconds, 1)}
    svc.close()


def embed_phase(svc: Papersift, results: dict, limit: int | None) -> None:
    if not svc.indexes.pending_vectors():
        return
    started = time.perf_counter()
    embedded = svc.indexes.sync_vectors(limit=limit)
    seconds = time.perf_counter() - started
    if embedded:
        results.setdefault("embedding_runs", []).append(
            {"papers": embedded, "seconds": round(seconds, 1), "papers_per_s": round(embedded / seconds, 1),
             "embedder": svc.indexes.embedder.name, "threads": os.cpu_count()})
