"""Metadata ingest into PostgreSQL beside SQLite: ``upsert_papers`` on the real 85K corpus.

    python -m bench run pg_ingest [--pg postgresql://...] [--batch 500] [--limit N]

Parses the arXiv listings and the Hugging Face feed of ``../shared/data`` once (not timed), then
times ``upsert_papers`` over the same batches into a fresh SQLite file and a fresh PostgreSQL
database: first load (inserts), then the same records again (all unchanged: the merge finds
nothing to do). Without ``--pg`` it starts a throwaway server from Debian's postgresql package
(tests/pg_support.py; fsync off there, as a test server).
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
import time
from pathlib import Path

from bench.common import DATA
from papersift.ingest.arxiv import parse_arxiv_jsonl
from papersift.ingest.hf import parse_hf_jsonl
from papersift.store import open_store
from tests.pg_support import PgServer, find_bin

NEEDS = "Debian's postgresql package (or --pg URL); ../shared/data"


def records(limit: int | None) -> list:
    out = []
    for parse, name in ((parse_arxiv_jsonl, "arxiv-cs-2025-2026.jsonl.gz"),
                        (parse_hf_jsonl, "hf-daily-papers-2024-2026.jsonl.gz")):
        with gzip.open(DATA / name, "rt") as handle:
            for line in handle:
                try:
                    out.append(parse(json.loads(line)))
                except Exception:  # noqa: BLE001 - the ingest report counts bad lines; the bench skips them
                    continue
                if limit and len(out) >= limit:
                    return out
    return out


def timed_load(url: str, papers: list, batch: int) -> dict:
    store = open_store(url)
    rates = {}
    for label in ("first_load", "reload_unchanged"):
        started = time.perf_counter()
        for i in range(0, len(papers), batch):
            store.upsert_papers(papers[i:i + batch])
        seconds = time.perf_counter() - started
        rates[label] = {"seconds": round(seconds, 2), "papers_per_s": round(len(papers) / seconds)}
    rates["papers"] = store.count_papers()
    store.close()
    return rates


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run pg_ingest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", help="an empty PostgreSQL database (default: a throwaway server)")
    parser.add_argument("--batch", type=int, default=500, help="records per upsert_papers call (ingest uses 500)")
    parser.add_argument("--limit", type=int, help="only the first N records")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    papers = records(args.limit)
    parsed = time.perf_counter() - started
    server = None
    if args.pg is None:
        if find_bin() is None:
            raise SystemExit("no /usr/lib/postgresql/*/bin/initdb: install Debian's postgresql package, or pass --pg")
        server = PgServer(find_bin())
        server.admin("CREATE DATABASE bench")
        args.pg = server.url("bench")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            sqlite = timed_load(str(Path(tmp) / "bench.db"), papers, args.batch)
        postgres = timed_load(args.pg, papers, args.batch)
    finally:
        if server is not None:
            server.close()
    return {"records": len(papers), "batch": args.batch, "parse_seconds": round(parsed, 1),
            "sqlite": sqlite, "postgres": postgres}
