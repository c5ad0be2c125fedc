"""Search and page latency on PostgreSQL beside SQLite, on the 80K corpus, in one run.

    python -m bench run pg_latency                                       # a throwaway PostgreSQL server
    python -m bench run pg_latency --keep                                # ... left running (for `run load`)
    python -m bench run pg_latency --pg postgresql://... --pg-index-dir DIR   # an existing database (filled if empty)
    python -m bench run pg_latency ... --profile hybrid                  # cProfile one kind on PostgreSQL

SQLite is ``<workdir>/papersift.db`` (``corpus80k`` builds it first when missing). The PostgreSQL database is
filled the way corpus80k.py fills SQLite, from the same ../shared/data files: ingest, lexical index,
the precomputed vectors into the store's embeddings, then the vector index caught up from them
(embedding nothing), into its own index folder (``--pg-index-dir``; phases done are skipped).
Without ``--pg`` the server is Debian's PostgreSQL started as tests/pg_support.py does (fsync off:
a bench server). Then the 400 real queries of ../shared/data/queries and 400 sampled paper ids,
each timed on SQLite and on PostgreSQL one after the other (so a busy moment of the shared machine
falls on both): ``Papersift.search`` bm25 and hybrid, and the ``/search`` and ``/papers/ID`` pages
through the ASGI app (httpx's ASGI transport: the whole request, no socket). One warm-up pass
first. Prints a table; the result: p50/p99/mean per kind and backend, and PG/SQLite ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import corpus80k
from bench.common import load_queries, percentile, workdir
from bench.corpus80k import default_model_name, ingest, lexical, load_vectors
from papersift.service import Papersift
from tests.pg_support import PgServer, find_bin

NEEDS = "Debian's postgresql package (or --pg URL); the 80K workdir (built first when missing)"
KINDS = ("bm25", "hybrid", "search_page", "paper_page")


def start_server():
    bin_dir = find_bin()
    if bin_dir is None:
        raise SystemExit("no /usr/lib/postgresql/*/bin/initdb: install Debian's postgresql package, or pass --pg")
    server = PgServer(bin_dir)
    server.admin("CREATE DATABASE bench80k")
    return server, server.url("bench80k")


def fill(url: str, index_dir: Path) -> dict:
    """The 80K corpus into the PostgreSQL database, as bench/corpus80k.py does for SQLite."""
    index_dir.mkdir(parents=True, exist_ok=True)
    phases_file = index_dir / "phases.json"
    phases = json.loads(phases_file.read_text()) if phases_file.exists() else {}
    model = default_model_name()
    svc = Papersift(url, index_dir=index_dir, embedder=False)
    for name, run in (("ingest", ingest), ("lexical", lexical), ("vectors", lambda s: load_vectors(s, model))):
        if name not in phases:
            phases[name] = run(svc)
            phases_file.write_text(json.dumps(phases))
    svc.close()
    if "sync" not in phases:
        started = time.perf_counter()
        svc = Papersift(url, index_dir=index_dir)
        embedded = svc.indexes.sync_vectors()
        phases["sync"] = {"embedder": svc.indexes.embedder.name, "embedded": embedded,
                          "vectors_indexed": len(svc.indexes.vectors),
                          "seconds": round(time.perf_counter() - started, 1)}
        svc.close()
        phases_file.write_text(json.dumps(phases))
    return phases


def paper_ids(db: Path, n: int, seed: int) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    ids = [r[0] for r in conn.execute("SELECT id FROM papers ORDER BY id")]
    conn.close()
    return random.Random(seed).sample(ids, n)


class Backend:
    """One store behind the front door, and its ASGI app (no background indexer: the indexes are
    caught up before the run, and a quiet process is what is compared)."""

    def __init__(self, name: str, db: str, index_dir: str | None):
        from papersift.server.app import create_app

        self.name = name
        self.svc = Papersift(db, index_dir=index_dir)
        self.svc.indexes.sync_vectors()  # caught up (and the embedder loaded) before anything is timed
        self.client = httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(self.svc, background=False)),
                                        base_url="http://bench.test")

    async def run(self, kind: str, arg: str) -> None:
        if kind in ("bm25", "hybrid"):
            self.svc.search(arg, mode=kind)
            return
        path = "/search" if kind == "search_page" else f"/papers/{arg}"
        response = await self.client.get(path, params={"q": arg} if kind == "search_page" else None)
        if response.status_code != 200:
            raise SystemExit(f"{self.name} {kind} {arg!r}: HTTP {response.status_code}")

    async def close(self) -> None:
        await self.client.aclose()
        self.svc.close()


async def timed_pass(backends: list[Backend], work: dict[str, list[str]], times: dict | None) -> None:
    """Every kind, every argument, each backend in turn for the same argument."""
    for kind in KINDS:
        for arg in work[kind]:
            for backend in backends:
                started = time.perf_counter()
                await backend.run(kind, arg)
                if times is not None:
                    times[backend.name][kind].append((time.perf_counter() - started) * 1000)


def summary(times: dict) -> dict:
    out: dict = {}
    for name, kinds in times.items():
        out[name] = {kind: {"n": len(ms), "p50_ms": round(percentile(ms, 50), 2),
                            "p99_ms": round(percentile(ms, 99), 2), "mean_ms": round(sum(ms) / len(ms), 2)}
                     for kind, ms in kinds.items()}
    out["ratio_pg_over_sqlite"] = {
        kind: {stat: round(out["postgres"][kind][stat] / out["sqlite"][kind][stat], 2)
               for stat in ("p50_ms", "p99_ms", "mean_ms")} for kind in KINDS}
    return out


async def profile(backend: Backend, kind: str, args: list[str]) -> str:
    prof = cProfile.Profile()
    prof.enable()
    for arg in args:
        await backend.run(kind, arg)
    prof.disable()
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("cumulative").print_stats(30)
    return text.getvalue()


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="latency, ms (80K corpus): SQLite vs PostgreSQL")
    for col in ("kind", "SQLite p50", "SQLite p99", "PG p50", "PG p99", "PG/SQLite p50", "PG/SQLite p99"):
        table.add_column(col, justify="right")
    for kind in KINDS:
        s, p, r = result["sqlite"][kind], result["postgres"][kind], result["ratio_pg_over_sqlite"][kind]
        table.add_row(kind, str(s["p50_ms"]), str(s["p99_ms"]), str(p["p50_ms"]), str(p["p99_ms"]),
                      str(r["p50_ms"]), str(r["p99_ms"]))
    Console(stderr=True).print(table)


async def measure(args, url: str, index_dir: Path) -> dict:
    db = corpus80k.ensure(args.workdir)
    work = {"bm25": load_queries()[:args.n], "paper_page": paper_ids(db, args.n, args.seed)}
    work["hybrid"] = work["search_page"] = work["bm25"]
    backends = [Backend("sqlite", str(db), None),
                Backend("postgres", url, str(index_dir))]
    try:
        if args.profile:
            sqlite_text = await profile(backends[0], args.profile, work[args.profile])
            pg_text = await profile(backends[1], args.profile, work[args.profile])
            print(f"--- SQLite, {args.profile}\n{sqlite_text}\n--- PostgreSQL, {args.profile}\n{pg_text}",
                  file=sys.stderr)
        warm = {kind: args_[:50] for kind, args_ in work.items()}
        await timed_pass(backends, warm, None)
        times = {b.name: {kind: [] for kind in KINDS} for b in backends}
        await timed_pass(backends, work, times)
    finally:
        for backend in backends:
            await backend.close()
    return summary(times)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run pg_latency", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=workdir("80k"), help="the SQLite workdir (corpus80k)")
    parser.add_argument("--pg", help="a PostgreSQL database URL (filled if empty; default: a throwaway server)")
    parser.add_argument("--pg-index-dir", help="the PostgreSQL store's index folder (default: in a temp folder)")
    parser.add_argument("--keep", action="store_true", help="leave the throwaway server running and say its URL")
    parser.add_argument("--n", type=int, default=400, help="queries and paper ids per kind")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--profile", choices=KINDS, help="also cProfile this kind on each backend (stderr)")
    args = parser.parse_args(argv)
    corpus80k.ensure(args.workdir)  # before a PostgreSQL server is started for nothing
    server, url = (None, args.pg) if args.pg else start_server()
    index_dir = Path(args.pg_index_dir or tempfile.mkdtemp(prefix="papersift-pg-index-"))
    load_before = os.getloadavg()
    try:
        phases = fill(url, index_dir)
        result = asyncio.run(measure(args, url, index_dir))
    finally:
        if server is not None and not args.keep:
            server.close()
    print_table(result)
    if server is not None and args.keep:
        print(f"PostgreSQL left running: {url} (index folder {index_dir}); stop it with: "
              f"runuser -u postgres -- {server.bin}/pg_ctl -D {server.data} -m fast stop", file=sys.stderr)
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "n": args.n,
            "pg_url": url, "pg_index_dir": str(index_dir), "pg_fill": phases, **result,
            "load_avg_before": [round(x, 2) for x in load_before],
            "load_avg_after": [round(x, 2) for x in os.getloadavg()]}
