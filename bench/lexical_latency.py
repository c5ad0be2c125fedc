"""Lexical index alone: indexing throughput, size on disk and BM25 query latency at full scale.

    python -m bench run lexical_latency [--no-hf] [--runs 3] [--batch 2000] [--keep DIR]

Indexes the 74,728 arXiv papers (+ the 9.9K Hugging Face daily papers, merged by id) into an
on-disk index in a temporary folder, committing every ``--batch`` papers as the store sync
does, then runs the 400 natural-language queries of ../shared/data/queries ``--runs`` times
(limit 10) without filters and with a date range + category filter. Latency covers parsing,
searching and reading the hit ids; snippets are timed separately.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import DATA, dir_mb, load_queries, need_data, percentile
from papersift.index.lexical.bm25 import LexicalIndex
from papersift.model import Paper
from papersift.query import Filters, parse_query

NEEDS = "../shared/data"
FILTERS = Filters(date_from="2025-06-01", date_to="2025-12-31", categories=["cs.LG"])


def read_jsonl(path: Path):
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def load_papers(with_hf: bool) -> list[Paper]:
    papers: dict[str, Paper] = {}
    for r in read_jsonl(DATA / "arxiv-cs-2025-2026.jsonl.gz"):
        papers[r["id"]] = Paper(id=r["id"], title=r["title"], abstract=r["abstract"], authors=r["authors"],
                                categories=r["categories"], published=r["first_listing_date"] + "T00:00:00Z")
    if with_hf:
        for r in read_jsonl(DATA / "hf-daily-papers-2024-2026.jsonl.gz"):
            known = papers.get(r["arxiv_id"])
            if known is None:
                known = papers[r["arxiv_id"]] = Paper(
                    id=r["arxiv_id"], title=r["title"], abstract=r["abstract"], authors=r["authors"] or [],
                    published=r["published_at"])
            known.github_repo = r.get("github_repo") or known.github_repo
            known.upvotes = r.get("upvotes") if r.get("upvotes") is not None else known.upvotes
            known.organization = r.get("organization_name") or known.organization
    return list(papers.values())


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench run lexical_latency", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-hf", action="store_true", help="arXiv file only")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--batch", type=int, default=2000)
    ap.add_argument("--keep", type=Path, help="build the index here instead of a temp dir")
    args = ap.parse_args(argv)
    need_data("arxiv-cs-2025-2026.jsonl.gz", "hf-daily-papers-2024-2026.jsonl.gz", "queries")
    papers = load_papers(not args.no_hf)
    queries = load_queries()
    with tempfile.TemporaryDirectory(prefix="papersift-lex-") as tmp:
        path = args.keep or Path(tmp) / "lexical"
        index = LexicalIndex(path)
        started = time.perf_counter()
        for i in range(0, len(papers), args.batch):
            index.add(papers[i:i + args.batch])
            index.commit()
        index_s = time.perf_counter() - started
        assert index.count() == len(papers), (index.count(), len(papers))

        reopen_started = time.perf_counter()
        index = LexicalIndex(path)
        reopen_ms = (time.perf_counter() - reopen_started) * 1000

        result = {"papers": len(papers), "queries": len(queries),
                  "runs": args.runs, "index_s": round(index_s, 1),
                  "index_docs_per_s": round(len(papers) / index_s), "index_mb": dir_mb(path),
                  "reopen_ms": round(reopen_ms, 1)}
        for label, flt in (("plain", None), ("filtered", FILTERS)):
            times, totals = [], []
            for _ in range(args.runs):
                for text in queries:
                    t0 = time.perf_counter()
                    hits = index.search(parse_query(text), flt, limit=10)
                    times.append((time.perf_counter() - t0) * 1000)
                    totals.append(hits.total)
            result[label] = {"p50_ms": round(percentile(times, 50), 3), "p99_ms": round(percentile(times, 99), 3),
                             "mean_ms": round(statistics.fmean(times), 3),
                             "median_total": int(statistics.median(totals)),
                             "zero_hit_queries": sum(1 for t in totals if t == 0) // args.runs}
        snippet_times, by_id = [], {p.id: p for p in papers}
        for text in queries:
            q = parse_query(text)
            top = [by_id[d] for d, _ in index.search(q, None, limit=10).hits]
            t0 = time.perf_counter()
            index.snippets(top, q)
            snippet_times.append((time.perf_counter() - t0) * 1000)
        result["snippets_top10"] = {"p50_ms": round(percentile(snippet_times, 50), 3),
                                    "p99_ms": round(percentile(snippet_times, 99), 3)}
        return result
