"""Website page render time on the full corpus: feed (day, week, month), paper, search, organisation.

    python bench/page_render.py [--source /tmp/papersift-scale/papersift.db] [--work DIR] [--n 200]

Works on a *copy* of an already ingested and indexed store (the corpus_scale bench leaves one at
/tmp/papersift-scale: ~80K papers, ~9.9K feed entries, lexical index), so the original is never
migrated or written. The copy is made once (SQLite online backup + the index folder) and reused.
The service runs lexically (embedder=False: no vectors, so similar papers and search take the
BM25 paths), behind a real uvicorn server on 127.0.0.1; each timing is one full HTTP round trip
of a sync httpx client (parse, query, render, send), after 10 warm-up requests per kind.
Anonymous visitor (logged-in pages add two indexed lookups). Prints one JSON line: p50, p90,
p99 and mean milliseconds per page kind.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sqlite3
import statistics
import sys
import threading
import time
from datetime import date
from pathlib import Path
from urllib.parse import quote

import httpx
import uvicorn

from papersift.server.app import create_app
from papersift.service import Papersift

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEFAULT_SOURCE = Path("/tmp/papersift-scale/papersift.db")


def copy_store(source: Path, work: Path) -> Path:
    target = work / "papersift.db"
    if target.exists():
        return target
    if not source.exists():
        sys.exit(f"no store at {source}: run bench/corpus_scale.py first (or pass --source)")
    work.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst)  # consistent even if someone is writing the original
    index = source.with_name(source.name + ".index")
    if index.exists():
        shutil.copytree(index, target.with_name(target.name + ".index"))
    return target


def serve(app):
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    return server, thread, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def queries() -> list[str]:
    texts = []
    for name in ("computer_science_ai_search_queries.json", "computer_science_non_ai_search_queries.json"):
        path = DATA / "queries" / name
        if path.exists():
            texts += [q["search_query"][:1000] for q in json.loads(path.read_text()).values()]
    return texts or ["diffusion models", "large language model agents", "graph neural networks"]


def urls(svc: Papersift, n: int, rng: random.Random) -> dict[str, list[str]]:
    db = svc.store._db  # read-only sampling of ids for the bench; the pages go through HTTP
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
        "search": ["/search?q=" + quote(q) for q in pick(queries())],
        "org": ["/orgs/" + quote(o, safe="") for o in pick(orgs)],
    }


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", type=Path, default=DEFAULT_SOURCE)
    ap.add_argument("--work", type=Path, default=Path("/tmp/papersift-render-bench"))
    ap.add_argument("--n", type=int, default=200, help="timed requests per page kind")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()

    started = time.perf_counter()
    db = copy_store(args.source, args.work)
    svc = Papersift(db, embedder=False)  # opening migrates the copy (authors table) on first run
    prepared = time.perf_counter() - started
    plan = urls(svc, args.n, random.Random(args.seed))
    server, thread, base = serve(create_app(svc, background=False))
    results: dict[str, dict] = {}
    try:
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
                results[kind] = {"p50_ms": round(statistics.median(times), 2), "p90_ms": round(pct(times, .9), 2),
                                 "p99_ms": round(pct(times, .99), 2), "mean_ms": round(statistics.fmean(times), 2),
                                 "n": len(times), "statuses": statuses}
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    print(json.dumps({"bench": "page_render", "papers": svc.store.count_papers(),
                      "setup_s": round(prepared, 1), "transport": "uvicorn on 127.0.0.1 + httpx (sync, keep-alive)",
                      "embedder": False, "results": results}))


if __name__ == "__main__":
    main()
