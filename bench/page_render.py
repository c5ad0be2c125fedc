"""Website page render time on the full corpus: feed (day, week, month), paper, search, organisation.

    python -m bench run page_render [--workdir DIR] [--n 200]

Works on a *copy* of the 80K workdir's store (80,317 papers, 9.9K feed entries, lexical index; the
workdir is built first when missing), so the original is never migrated or written. The copy is made
once (SQLite online backup + the index folder, into ``WORKDIR/page-render``) and reused.
The service runs lexically (embedder=False: no vectors, so similar papers and search take the
BM25 paths), behind a real uvicorn server on 127.0.0.1; each timing is one full HTTP round trip
of a sync httpx client (parse, query, render, send), after 10 warm-up requests per kind.
Anonymous visitor (logged-in pages add two indexed lookups). The result: p50, p90, p99 and mean
milliseconds per page kind.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote

import httpx

from bench import corpus80k
from bench.common import app_server, copy_store, load_queries, percentile, workdir
from papersift.server.app import create_app
from papersift.service import Papersift

NEEDS = "the 80K workdir (built first when missing)"


def urls(db: Path, n: int, rng: random.Random) -> dict[str, list[str]]:
    """The sampled pages of each kind (ids read straight from the SQLite file; the pages go through HTTP)."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return _urls(conn, n, rng)


def _urls(db: sqlite3.Connection, n: int, rng: random.Random) -> dict[str, list[str]]:
    days = [r[0] for r in db.execute("SELECT DISTINCT day FROM feed_entries")]
    weeks = sorted({f"{y:04d}-W{w:02d}" for y, w, _ in (date.fromisoformat(d).isocalendar() for d in days)})
    months = sorted({d[:7] for d in days})
    ids = [r[0] for r in db.execute("SELECT DISTINCT paper_id FROM feed_entries")]
    ids += [r[0] for r in db.execute("SELECT id FROM papers ORDER BY random() LIMIT 500")]
    orgs = [r[0] for r in db.execute("SELECT organization FROM papers WHERE organization IS NOT NULL"
                                     " GROUP BY organization ORDER BY COUNT(*) DESC LIMIT 300")]
    def pick(items):
        return [rng.choice(items) for _ in range(n + 10)]
    return {
        "feed_day": [f"/papers/date/{d}" for d in pick(days)],
        "feed_week": [f"/papers/week/{w}" for w in pick(weeks)],
        "feed_month": [f"/papers/month/{m}" for m in pick(months)],
        "paper": [f"/papers/{p}" for p in pick(ids)],
        "search": ["/search?q=" + quote(q[:1000]) for q in pick(load_queries())],
        "org": ["/orgs/" + quote(o, safe="") for o in pick(orgs)],
    }


def time_pages(base: str, plan: dict[str, list[str]]) -> dict[str, dict]:
    results: dict[str, dict] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        for kind, paths in plan.items():
            times, statuses = [], {}
            for i, path in enumerate(paths):
                t0 = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - t0) * 1000
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
                if i >= 10:  # the first ten warm caches and connections
                    times.append(elapsed)
            results[kind] = {"p50_ms": round(statistics.median(times), 2), "p90_ms": round(percentile(times, 90), 2),
                             "p99_ms": round(percentile(times, 99), 2), "mean_ms": round(statistics.fmean(times), 2),
                             "n": len(times), "statuses": statuses}
    return results


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench run page_render", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path, default=workdir("80k"), help="the 80K workdir (copied, never written)")
    ap.add_argument("--n", type=int, default=200, help="timed requests per page kind")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)

    started = time.perf_counter()
    db = args.workdir / "page-render" / "papersift.db"
    if not db.exists():  # made once and reused
        copy_store(corpus80k.ensure(args.workdir), db)
    svc = Papersift(db, embedder=False)  # opening migrates the copy on its first run
    prepared = time.perf_counter() - started
    plan = urls(db, args.n, random.Random(args.seed))
    try:
        with app_server(create_app(svc, background=False)) as base:
            results = time_pages(base, plan)
        papers = svc.store.count_papers()
    finally:
        svc.close()
    return {"papers": papers, "setup_s": round(prepared, 1), "embedder": False,
            "transport": "uvicorn on 127.0.0.1 + httpx (sync, keep-alive)", "results": results}
