"""Saturation throughput with a light client: wrk (C, one thread) instead of bench/load.py's asyncio loop.

    apt-get install wrk                                   # Debian's package
    python -m bench run wrk_mix --workers 1                                   # SQLite, one worker
    python -m bench run wrk_mix --workers 2 \\
        --db postgresql://postgres@127.0.0.1:PORT/bench80k --index-dir /tmp/pslat/pg-index   # PostgreSQL, two

On 2 cores the Python client of bench/load.py costs 8-10 ms of CPU a request, as much as the server's
own work, so it cannot show what a second worker buys: wrk costs well under 1 ms. 200 connections
(``--connections``), closed loop, for ``--duration`` seconds, over a fixed list of URLs drawn from
bench/load.py's mixes (``--mix team``: feed pages, paper pages, lexical search) and walked round-robin.
Prints one JSON line: requests/s, latency percentiles, non-2xx/3xx responses and socket errors, server
CPU per request (summed over the server's processes, PostgreSQL's too with ``--db-pid``) and wrk's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench import corpus80k
from bench.common import free_port, stop_server, workdir
from bench.load import MIXES, cpu_seconds, make_url, start_server, wait_ready, workload

NEEDS = "wrk (apt-get install wrk); the 80K workdir (built first when missing)"
LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i %% #paths + 1
  return wrk.format("GET", paths[i])
end
"""


def url_list(work: dict, mix: str, n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    kinds, weights = list(MIXES[mix]), list(MIXES[mix].values())
    return [make_url(rng.choices(kinds, weights)[0], work, rng) for _ in range(n)]


def parse(out: str) -> dict:
    def number(pattern: str, cast=float, default=0):
        found = re.search(pattern, out)
        return cast(found.group(1)) if found else default

    def ms(text: str) -> float:
        value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    pcts = {f"p{p}_ms": round(ms(v), 1) for p, v in re.findall(r"^\s+(50|75|90|99)%\s+(\S+)", out, re.MULTILINE)}
    return {"requests": number(r"(\d+) requests in", int), "rps": number(r"Requests/sec:\s+([\d.]+)"),
            **pcts, "non_2xx_3xx": number(r"Non-2xx or 3xx responses: (\d+)", int),
            "socket_errors": sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)",
                                                             out.split("Socket errors:")[1].splitlines()[0]))
            if "Socket errors:" in out else 0}


def run(args) -> dict:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    db = corpus80k.ensure(args.workdir)
    work = workload(db, args.seed)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(args.workdir) / f"wrk-server-{port}.log"
    proc = start_server(args.db or db, port, [], log, None, "", args.workers, args.index_dir)
    try:
        ready = asyncio.run(wait_ready(base, proc, work["queries"][0]))
        time.sleep(args.settle)
        with tempfile.TemporaryDirectory() as tmp:
            paths = Path(tmp) / "paths.txt"
            paths.write_text("\n".join(url_list(work, args.mix, 5000, args.seed)) + "\n")
            script = Path(tmp) / "mix.lua"
            script.write_text(LUA % paths)
            load_before = os.getloadavg()[0]
            server_before = cpu_seconds(proc.pid) + (cpu_seconds(args.db_pid) if args.db_pid else 0.0)
            started = time.perf_counter()
            done = subprocess.run(["wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", "--latency",
                                   "--timeout", "30s", "-s", str(script), base], capture_output=True, text=True)
            wall = time.perf_counter() - started
            server_cpu = cpu_seconds(proc.pid) + (cpu_seconds(args.db_pid) if args.db_pid else 0.0) - server_before
        result = parse(done.stdout)
        wrk_cpu = os.times().children_user + os.times().children_system
        return {"workers": args.workers, "db": "postgresql" if args.db and "://" in args.db else "sqlite",
                "mix": args.mix, "connections": args.connections, "duration_s": args.duration, "ready": ready,
                **result, "server_cpu_ms_per_request": round(server_cpu * 1000 / max(1, result["requests"]), 2),
                "wrk_cpu_ms_per_request": round(wrk_cpu * 1000 / max(1, result["requests"]), 3),
                "wall_s": round(wall, 1), "load_avg_before": round(load_before, 2),
                "load_avg_after": round(os.getloadavg()[0], 2), "date": time.strftime("%Y-%m-%d %H:%M"),
                "wrk_stdout_tail": done.stdout.strip().splitlines()[-3:]}
    finally:
        stop_server(proc)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run wrk_mix", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=workdir("80k"))
    parser.add_argument("--db", default=None, help="serve this database URL instead of the workdir's SQLite file")
    parser.add_argument("--index-dir", default=None, help="PAPERSIFT_INDEX_DIR for --db")
    parser.add_argument("--db-pid", type=int, default=None, help="the PostgreSQL server's pid (its CPU is counted)")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--mix", choices=sorted(MIXES), default="team")
    parser.add_argument("--settle", type=float, default=3.0)
    parser.add_argument("--seed", type=int, default=10)
    return run(parser.parse_args(argv))
