"""The 75K arXiv + 9.9K Hugging Face corpus: ingest, index and search costs on this machine.

    python bench/corpus_scale.py --workdir /tmp/papersift-scale [--embed-limit N]

Phases that already ran in the workdir are skipped (embedding 85K papers takes ~30 min on
2 cores), so the latency phase can be re-run alone. Prints one JSON line of results.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from papersift.index.query import Filters
from papersift.service import Papersift

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def dir_mb(path: Path) -> float:
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def load_queries() -> list[str]:
    texts = []
    for name in sorted((DATA / "queries").glob("*.json")):
        texts += [q["search_query"] for q in json.loads(name.read_text()).values()]
    return texts


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def latency(svc: Papersift, queries: list[str], mode: str, filters: Filters | None, runs: int = 3) -> dict:
    times = []
    for _ in range(runs):
        for text in queries:
            started = time.perf_counter()
            svc.search(text, filters, mode=mode, per_page=10)
            times.append((time.perf_counter() - started) * 1000)
    return {"p50_ms": round(statistics.median(times), 2), "p99_ms": round(percentile(times, 99), 2),
            "queries": len(times)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", default="/tmp/papersift-scale")
    parser.add_argument("--embed-limit", type=int, default=None)
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    results_file = work / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    db = work / "papersift.db"

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
    results_file.write_text(json.dumps(results))
    svc.close()

    svc = Papersift(db)
    pending = svc.indexes.pending_vectors()
    if pending:
        started = time.perf_counter()
        embedded = svc.indexes.sync_vectors(limit=args.embed_limit)
        seconds = time.perf_counter() - started
        if embedded:
            results.setdefault("embedding_runs", []).append(
                {"papers": embedded, "seconds": round(seconds, 1), "papers_per_s": round(embedded / seconds, 1),
                 "embedder": svc.indexes.embedder.name, "threads": os.cpu_count()})
        results_file.write_text(json.dumps(results))

    results["sizes_mb"] = {"sqlite_file": round(dir_mb(db), 1), "lexical_index": round(dir_mb(svc.index_dir / "lexical"), 1),
                           "vectors_in_ram": round(len(svc.indexes.vectors) * svc.indexes.embedder.dim * 4 / 2**20, 1),
                           "process_rss_after_load": round(rss_mb(), 1)}
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
    results["rss_after_queries_mb"] = round(rss_mb(), 1)
    results_file.write_text(json.dumps(results))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
