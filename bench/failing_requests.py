"""What a failing request costs the site: a real ``papersift serve`` answering N unexpected 500s.

    python -m bench run failing_requests                      # from the repository root
    python -m bench run failing_requests --requests 50
    PYTHONPATH=/path/to/old/checkout/src python -m bench run failing_requests   # another version's server

The database's ``feed_entries`` table is dropped under the running server, so every
``GET /api/v1/daily_papers`` fails inside the request (an unexpected ``OperationalError``). One client
sends ``--requests`` of them one after another while another asks ``GET /api/v1/health`` every 50 ms.
Reports the failing requests' median and max time, the health check's p50 / p99 / max meanwhile, and
how many lines the server wrote to its log per failure.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.common import free_port, health_probe, health_summary, serve_process, stop_server, wait_healthy
from papersift.service import Papersift


def fail_requests(base: str, log_path: Path, requests: int) -> tuple[list[float], list[float], int]:
    """The failing requests' times, the health probe's meanwhile, and the server's log lines they added."""
    before = len(log_path.read_text().splitlines())
    health, failures, stop = [], [], threading.Event()
    probe = threading.Thread(target=health_probe, args=(base, stop, health))
    probe.start()
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            for _ in range(requests):
                started = time.perf_counter()
                status = client.get("/api/v1/daily_papers", params={"date": "2024-05-27"}).status_code
                if status != 500:
                    raise SystemExit(f"expected a 500 from the broken table, got {status}")
                failures.append(time.perf_counter() - started)
    finally:
        stop.set()
        probe.join()
    return failures, health, len(log_path.read_text().splitlines()) - before


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run failing_requests", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db, log_path = Path(tmp) / "p.db", Path(tmp) / "server.log"
        Papersift(db, embedder=False).close()
        port = free_port()
        proc = serve_process(db, port, embed=False, log=log_path)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, proc)
            with sqlite3.connect(db) as conn:
                conn.execute("DROP TABLE feed_entries")
            failures, health, lines = fail_requests(base, log_path, args.requests)
        finally:
            stop_server(proc)
    result = {"requests": args.requests, "failure_median_ms": round(statistics.median(failures) * 1000, 1),
              "failure_max_ms": round(max(failures) * 1000, 1), "health": health_summary(health),
              "log_lines_per_failure": round(lines / args.requests, 1)}
    print(f"{args.requests} failing requests: median {result['failure_median_ms']} ms, max "
          f"{result['failure_max_ms']} ms; health meanwhile p50 {result['health']['p50_ms']} ms, p99 "
          f"{result['health']['p99_ms']} ms, max {result['health']['max_ms']} ms; "
          f"{result['log_lines_per_failure']} log lines per failure")
    return result
