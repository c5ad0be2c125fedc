"""What a failing request costs the site: a real ``papersift serve`` answering N unexpected 500s.

    python -m bench.failing_requests                      # from the repository root
    python -m bench.failing_requests --requests 50
    PYTHONPATH=/path/to/old/checkout/src python -m bench.failing_requests   # another version's server

The database's ``feed_entries`` table is dropped under the running server, so every
``GET /api/v1/daily_papers`` fails inside the request (an unexpected ``OperationalError``). One client
sends ``--requests`` of them one after another while another asks ``GET /api/v1/health`` every 50 ms.
Reports the failing requests' median and max time, the health check's p50 / p99 / max meanwhile, and
how many lines the server wrote to its log per failure. One JSON line at the end.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from bench.library_import import _commit, _free_port, _health_summary, _probe


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    from papersift.service import Papersift

    with tempfile.TemporaryDirectory() as tmp:
        db, log_path = Path(tmp) / "p.db", Path(tmp) / "server.log"
        Papersift(db, embedder=False).close()
        port = _free_port()
        with open(log_path, "w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "papersift.cli", "--db", str(db), "serve", "--no-embed",
                                     "--port", str(port)], stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base)
            with sqlite3.connect(db) as conn:
                conn.execute("DROP TABLE feed_entries")
            before = len(log_path.read_text().splitlines())
            health, failures, stop = [], [], threading.Event()
            probe = threading.Thread(target=_probe, args=(base, stop, health))
            probe.start()
            with httpx.Client(base_url=base, timeout=120) as client:
                for _ in range(args.requests):
                    started = time.perf_counter()
                    assert client.get("/api/v1/daily_papers", params={"date": "2024-05-27"}).status_code == 500
                    failures.append(time.perf_counter() - started)
            stop.set()
            probe.join()
        finally:
            proc.terminate()
            proc.wait(timeout=60)
        lines = len(log_path.read_text().splitlines()) - before
    result = {"commit": _commit(), "requests": args.requests,
              "failure_median_ms": round(statistics.median(failures) * 1000, 1),
              "failure_max_ms": round(max(failures) * 1000, 1), "health": _health_summary(health),
              "log_lines_per_failure": round(lines / args.requests, 1)}
    print(f"{args.requests} failing requests: median {result['failure_median_ms']} ms, max "
          f"{result['failure_max_ms']} ms; health meanwhile p50 {result['health']['p50_ms']} ms, p99 "
          f"{result['health']['p99_ms']} ms, max {result['health']['max_ms']} ms; "
          f"{result['log_lines_per_failure']} log lines per failure")
    print(json.dumps(result))


def _wait(base: str) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


if __name__ == "__main__":
    main()
