"""Load test: a real ``papersift serve`` on 127.0.0.1 and N concurrent asyncio httpx users.

    python -m bench run load --users 50 --duration 60               # closed loop, on the 80K workdir
    python -m bench run load --users 200 --duration 60 --think 3    # 3 s mean think time
    python -m bench run load --users 20 --mix search                # hybrid search alone
    python -m bench run load --users 20 --soak                      # 10 minutes
    python -m bench run load ... --server-env MALLOC_ARENA_MAX=2    # A/B a server setting
    python -m bench run load ... --workers 2                        # serve --workers 2
    python -m bench run load ... --db postgresql://... --index-dir DIR   # serve a PostgreSQL store

Each run starts its own server (on ``--workdir``, built by ``corpus80k`` first when missing), waits until it
answers a hybrid search, then runs the users for ``--duration`` seconds: closed loop (no think
time: saturation) or with an exponential think time of mean ``--think`` seconds between one
user's requests. The server's RSS is read from /proc/PID/status every second. Prints a table
and one JSON line: requests/s, p50/p99 overall and per kind, errors, RSS start/peak/end/slope,
latency by 10 s window (with the client's own event-loop lag: what the client adds), and the
same run after its first ``--warmup`` seconds (steady state; ``overall`` keeps every request).
The client shares the machine's cores with the server: at saturation it takes a share of them.
With ``--db URL`` the server serves that database (``PAPERSIFT_INDEX_DIR=--index-dir``) instead of
``<workdir>/papersift.db``; the workload's ids and days still come from ``<workdir>/papersift.db``,
the SQLite copy of the same corpus (``run pg_latency`` fills PostgreSQL from the same files), and
a sample of them is looked up in the served store first, so a different corpus fails early.
The PostgreSQL server's own processes are not in the server CPU/RSS figures (it may be another machine).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import sqlite3
import subprocess
import time
from datetime import date
from pathlib import Path

import httpx

from bench import corpus80k
from bench.common import free_port, listens_on, load_queries, percentile, process_tree, serve_process, stop_server, workdir

NEEDS = "the 80K workdir (built first when missing)"
MIXES = {
    # kind: weight. "mixed" is the mix of feed pages, hybrid web and API searches, paper pages.
    "mixed": {"home": 15, "week": 8, "month": 4, "web_search": 25, "api_search": 20, "paper_page": 15,
              "api_paper": 8, "api_daily": 5},
    "search": {"api_search": 1},
    "web_search": {"web_search": 1},
    "feed": {"home": 2, "week": 1, "month": 1},
    "paper": {"paper_page": 1},
    # the mix of the PostgreSQL comparison: feed pages, paper pages, lexical search (no embedding: what more workers buy)
    "team": {"home": 3, "week": 2, "month": 1, "paper_page": 4, "lexical_search": 4},
}


def workload(db: Path, seed: int) -> dict:
    """Queries, paper ids and feed periods, read from the store (read-only, before the server starts)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    ids = [r[0] for r in conn.execute("SELECT id FROM papers")]
    days = sorted(r[0] for r in conn.execute("SELECT DISTINCT day FROM feed_entries"))
    conn.close()
    weeks = sorted({"%d-W%02d" % date.fromisoformat(d).isocalendar()[:2] for d in days})
    months = sorted({d[:7] for d in days})
    rng = random.Random(seed)
    return {"queries": load_queries(), "ids": rng.sample(ids, min(20000, len(ids))), "weeks": weeks,
            "months": months, "days": days}


def make_url(kind: str, work: dict, rng: random.Random) -> str:
    q = rng.choice(work["queries"])
    pid = rng.choice(work["ids"])
    return {
        "home": "/",
        "week": f"/papers/week/{rng.choice(work['weeks'])}",
        "month": f"/papers/month/{rng.choice(work['months'])}",
        "web_search": "/search?" + httpx.QueryParams({"q": q}).__str__(),
        "api_search": "/api/v1/search?" + httpx.QueryParams({"q": q, "mode": "hybrid"}).__str__(),
        "lexical_search": "/api/v1/search?" + httpx.QueryParams({"q": q, "mode": "bm25"}).__str__(),
        "paper_page": f"/papers/{pid}",
        "api_paper": f"/api/v1/papers/{pid}",
        "api_daily": f"/api/v1/daily_papers?date={rng.choice(work['days'])}",
    }[kind]


def check_same_corpus(url: str, work: dict) -> None:
    """The served store holds the workload's papers (read through the store API)."""
    from papersift.store import open_store

    store = open_store(url)
    try:
        sample = work["ids"][:200]
        found = store.get_papers(sample)
    finally:
        store.close()
    if len(found) != len(sample):
        raise SystemExit(f"{len(sample) - len(found)} of {len(sample)} workload ids are not in {url.split('@')[-1]}: "
                         "--db must hold the same corpus as --workdir")


def start_server(db: Path | str, port: int, env_pairs: list[str], log: Path, src: str | None,
                 wrap: str = "", workers: int = 1, index_dir: str | None = None) -> subprocess.Popen:
    """``papersift serve`` with the run's settings: ``env_pairs`` (KEY=VALUE), another ``src/`` to serve
    (e.g. ``git archive HEAD src``, for A/B runs), a wrapper command, the index folder of a ``--db`` URL."""
    env = dict(pair.split("=", 1) for pair in env_pairs)
    if index_dir:
        env["PAPERSIFT_INDEX_DIR"] = index_dir
    if src:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")]))
    return serve_process(db, port, workers=workers, env=env, log=log, wrap=shlex.split(wrap))


async def wait_ready(base: str, proc: subprocess.Popen, query: str, limit: float = 300) -> dict:
    """Seconds until /api/health answers, and until a hybrid search does (the vectors are loaded)."""
    started, port = time.perf_counter(), int(base.rsplit(":", 1)[1])
    marks = {}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for name, path in (("health_s", "/api/health"), ("hybrid_s", "/api/v1/search")):
            while True:
                if proc.poll() is not None:
                    raise SystemExit(f"server exited with {proc.returncode} (see its log)")
                try:
                    params = {"q": query, "mode": "hybrid"} if name == "hybrid_s" else None
                    # another program may hold the port (taken between free_port and the bind): not ours
                    if (await client.get(path, params=params)).status_code == 200 and listens_on(proc.pid, port):
                        break
                except httpx.TransportError:
                    pass
                if time.perf_counter() - started > limit:
                    raise SystemExit(f"server not ready after {limit} s")
                await asyncio.sleep(0.2)
            marks[name] = round(time.perf_counter() - started, 2)
    return marks


def read_status(pid: int) -> dict:
    """RSS and threads summed over the server's processes (file-backed pages that several workers
    map are counted once per worker: an upper bound on what the machine spends)."""
    out: dict[str, int] = {}
    for one in process_tree(pid):
        try:
            lines = Path(f"/proc/{one}/status").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "Threads"):
                out[key] = out.get(key, 0) + int(value.split()[0])
        try:  # PSS: shared pages (the workers' common index files) split between the processes mapping them
            rollup = Path(f"/proc/{one}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        out["Pss"] = out.get("Pss", 0) + next((int(x.split()[1]) for x in rollup if x.startswith("Pss:")), 0)
    return out


def memory_map(pid: int) -> dict:
    """Resident MB by kind of mapping: the main heap, glibc's per-thread arenas (anonymous maps
    aligned to their 64 MB reservation), other anonymous maps (big numpy arrays, stacks), files."""
    kinds: dict[str, float] = {}
    name, start, arenas = "", 0, 0
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if "-" in head[0] and len(head) >= 5:  # a mapping's header line
            start = int(head[0].split("-")[0], 16)
            path = head[5] if len(head) > 5 else ""
            if path == "[heap]":
                name = "heap (main arena)"
            elif path.startswith("/"):
                part = path.split(".index/", 1)
                name = f"file index {part[1].split('/')[0]}" if len(part) == 2 else "file " + Path(path).name
            elif path:
                name = path
            else:
                name = "glibc arenas" if start % (64 << 20) == 0 else "anon other"
                arenas += name == "glibc arenas"
        elif head[0] == "Rss:":
            kinds[name] = kinds.get(name, 0.0) + int(head[1]) / 1024
    top = dict(sorted(((k, round(v, 1)) for k, v in kinds.items() if v >= 1), key=lambda kv: -kv[1])[:12])
    return {"arena_maps": arenas, "rss_mb_by_kind": top}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the server's processes so far (/proc/PID/stat fields 14 and 15)."""
    total = 0
    for one in process_tree(pid):
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def sample_rss(pid: int, samples: list, stop: asyncio.Event, every: float = 1.0) -> None:
    started = time.perf_counter()
    while not stop.is_set():
        try:
            samples.append((time.perf_counter() - started, read_status(pid)))
        except (FileNotFoundError, ProcessLookupError):
            return
        try:
            await asyncio.wait_for(stop.wait(), every)
        except asyncio.TimeoutError:
            pass


async def loop_lag(lags: list, stop: asyncio.Event, every: float = 0.05) -> None:
    """How late the client's own event loop wakes up (its share of the cores, its GIL): latency the
    client adds to every request it is timing at that moment, not the server's."""
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        planned = loop.time() + every
        await asyncio.sleep(every)
        lags.append((time.perf_counter(), loop.time() - planned))


async def user(client: httpx.AsyncClient, work: dict, mix: dict, think: float, until: float,
               rng: random.Random, records: list) -> None:
    kinds, weights = list(mix), list(mix.values())
    if think:  # users arrive spread over one think time, not all in the first millisecond
        await asyncio.sleep(rng.uniform(0, think))
    while time.perf_counter() < until:
        kind = rng.choices(kinds, weights)[0]
        url = make_url(kind, work, rng)
        started = time.perf_counter()
        try:
            status = (await client.get(url)).status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        records.append((kind, started, time.perf_counter() - started, status))
        if think:
            await asyncio.sleep(rng.expovariate(1 / think))


def latency_row(rows: list) -> dict:
    ms = [r[2] * 1000 for r in rows]
    errors = sum(1 for r in rows if not (isinstance(r[3], int) and r[3] < 400))
    return {"n": len(rows), "p50_ms": round(percentile(ms, 50), 1), "p99_ms": round(percentile(ms, 99), 1),
            "errors": errors}


def over_time(records: list, started: float, lags: list, every: float = 10.0) -> list[dict]:
    """Latency by window of ``every`` seconds of the run (by when requests started): where a tail comes
    from (the first seconds, with cold caches, or throughout); with the client loop's p99 lag then."""
    windows: dict[int, list] = {}
    for r in records:
        windows.setdefault(int((r[1] - started) // every), []).append(r)
    late: dict[int, list] = {}
    for at, lag in lags:
        late.setdefault(int((at - started) // every), []).append(lag * 1000)
    return [{"from_s": int(w * every), **latency_row(rows),
             "client_lag_p99_ms": round(percentile(late[w], 99), 1) if late.get(w) else None}
            for w, rows in sorted(windows.items())]


def slope_per_min(t: list[float], y: list[float]) -> float:
    """Least-squares slope of y over t (seconds), per minute."""
    n = len(t)
    if n < 2:
        return 0.0
    mt, my = sum(t) / n, sum(y) / n
    var = sum((x - mt) ** 2 for x in t)
    return sum((x - mt) * (v - my) for x, v in zip(t, y, strict=True)) / var * 60 if var else 0.0


def rss_summary(samples: list) -> dict:
    """RSS in MB: at the start of the load, peak, end, and the slope (MB per minute) over the whole
    run and over its second half (after the ramp-up: a leak shows there)."""
    if not samples:
        return {}
    t = [s[0] for s in samples]
    mb = [s[1].get("VmRSS", 0) / 1024 for s in samples]
    half = len(t) // 2
    last = samples[-1][1]
    return {"start_mb": round(mb[0], 1), "peak_mb": round(max(mb), 1), "end_mb": round(mb[-1], 1),
            "slope_mb_per_min": round(slope_per_min(t, mb), 2),
            "slope_2nd_half_mb_per_min": round(slope_per_min(t[half:], mb[half:]), 2),
            "anon_end_mb": round(last.get("RssAnon", 0) / 1024, 1),
            "file_end_mb": round(last.get("RssFile", 0) / 1024, 1),
            "pss_peak_mb": round(max(s[1].get("Pss", 0) for s in samples) / 1024, 1),
            "threads_peak": max(s[1].get("Threads", 0) for s in samples)}


async def run_load(base: str, pid: int, work: dict, args) -> dict:
    mix = MIXES[args.mix]
    records: list = []
    samples: list = []
    stop = asyncio.Event()
    sampler = asyncio.create_task(sample_rss(pid, samples, stop))
    lags: list = []
    lagger = asyncio.create_task(loop_lag(lags, stop))
    # uvicorn closes a connection idle for 5 s: a client that reuses it at that moment gets a
    # ReadError (a race, not a server error), so the pool drops idle connections first
    limits = httpx.Limits(max_connections=args.users, max_keepalive_connections=args.users,
                          keepalive_expiry=args.keepalive)
    db_cpu_before = cpu_seconds(args.db_pid) if args.db_pid else 0.0
    cpu_before = cpu_seconds(pid), time.process_time()
    started = time.perf_counter()
    until = started + args.duration
    async with httpx.AsyncClient(base_url=base, timeout=args.timeout, limits=limits) as client:
        users = [user(client, work, mix, args.think, until, random.Random(args.seed + i), records)
                 for i in range(args.users)]
        await asyncio.gather(*users)
    elapsed = time.perf_counter() - started
    # CPU per request: what the server costs whatever else shares the cores (the wall clock does not)
    server_cpu, client_cpu = cpu_seconds(pid) - cpu_before[0], time.process_time() - cpu_before[1]
    db_cpu = cpu_seconds(args.db_pid) - db_cpu_before if args.db_pid else None
    stop.set()
    await sampler
    await lagger
    kinds = sorted({r[0] for r in records})
    done_in_window = [r for r in records if r[1] + r[2] <= until]
    return {"requests": len(records), "elapsed_s": round(elapsed, 1),
            "rps": round(len(done_in_window) / args.duration, 1),
            "server_cpu_s": round(server_cpu, 1), "client_cpu_s": round(client_cpu, 1),
            "server_cpu_ms_per_request": round(server_cpu * 1000 / max(1, len(records)), 2),
            **({"db_cpu_s": round(db_cpu, 1), "db_cpu_ms_per_request": round(db_cpu * 1000 / max(1, len(records)), 2)}
               if db_cpu is not None else {}),
            "overall": latency_row(records), "by_kind": {k: latency_row([r for r in records if r[0] == k])
                                                         for k in kinds},
            "over_time": over_time(records, started, lags),
            # the same run without its first seconds (caches filling after a start): steady state
            "after_warmup": {"warmup_s": args.warmup,
                             **latency_row([r for r in records if r[1] - started >= args.warmup])},
            "error_statuses": sorted({str(r[3]) for r in records if not (isinstance(r[3], int) and r[3] < 400)}),
            "rss": rss_summary(samples), "rss_samples_mb": [round(s[1].get("VmRSS", 0) / 1024) for s in samples]}


def print_table(result: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{result['users']} users, think {result['think']} s, mix {result['mix']}: "
                        f"{result['rps']} req/s")
    for col in ("kind", "n", "p50 ms", "p99 ms", "errors"):
        table.add_column(col, justify="right")
    for kind, row in [*result["by_kind"].items(), ("overall", result["overall"])]:
        table.add_row(kind, str(row["n"]), str(row["p50_ms"]), str(row["p99_ms"]), str(row["errors"]))
    console = Console(stderr=True)
    console.print(table)
    console.print(f"RSS: {result['rss']}", highlight=False)
    console.print(f"after the first {result['after_warmup']['warmup_s']:g} s: {result['after_warmup']}", highlight=False)
    console.print("p50 / p99 ms (client loop lag p99) by 10 s: " + ", ".join(
        f"{w['from_s']}s {w['p50_ms']:.0f}/{w['p99_ms']:.0f} ({w['client_lag_p99_ms']})" for w in result["over_time"]),
        highlight=False)


async def main_async(args) -> dict:
    db = corpus80k.ensure(args.workdir)
    work = workload(db, args.seed)
    if args.db:
        check_same_corpus(args.db, work)
    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(args.workdir) / f"server-{port}.log"
    proc = start_server(args.db or db, port, args.server_env, log, args.src, args.wrap, args.workers,
                        args.index_dir)
    try:
        ready = await wait_ready(base, proc, work["queries"][0])
        await asyncio.sleep(args.settle)  # the background indexer's first round, then a quiet server
        before = memory_map(proc.pid) if args.smaps else None
        result = await run_load(base, proc.pid, work, args)
        if args.smaps:
            result["memory_map"] = {"before": before, "after": memory_map(proc.pid)}
    finally:
        stop_server(proc)
    return {"users": args.users, "think": args.think, "mix": args.mix, "duration_s": args.duration,
            "workers": args.workers, "db": "postgresql" if args.db else "sqlite",
            "server_env": args.server_env, "src": args.src, "ready": ready, **result,
            "load_avg_before": round(load_before, 2), "load_avg_after": round(os.getloadavg()[0], 2),
            "date": time.strftime("%Y-%m-%d %H:%M")}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=workdir("80k"))
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=0.0, help="mean think time in s (0: closed loop)")
    parser.add_argument("--mix", choices=sorted(MIXES), default="mixed")
    parser.add_argument("--soak", action="store_true", help="a 10-minute run (overrides --duration)")
    parser.add_argument("--timeout", type=float, default=60.0, help="per-request timeout, s")
    parser.add_argument("--settle", type=float, default=3.0, help="s to wait after the server is ready")
    parser.add_argument("--server-env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--src", default=None, help="a src/ folder to serve instead of the installed papersift")
    parser.add_argument("--wrap", default="", help="a command to run the server under (e.g. heaptrack -o FILE); "
                        "RSS is then the wrapper's, not the server's")
    parser.add_argument("--warmup", type=float, default=10.0, help="s at the start that after_warmup leaves out "
                        "(overall and by_kind keep every request)")
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--workers", type=int, default=1, help="serve --workers N (RSS and CPU: summed over them)")
    parser.add_argument("--db", help="serve this database URL (e.g. postgresql://...) instead of "
                        "<workdir>/papersift.db; the workload still comes from that SQLite copy")
    parser.add_argument("--index-dir", help="PAPERSIFT_INDEX_DIR for the server (required with --db postgresql)")
    parser.add_argument("--db-pid", type=int, help="the database server's main PID (PostgreSQL's postmaster, "
                        "first line of DATADIR/postmaster.pid): its processes' CPU is reported as db_cpu_s")
    parser.add_argument("--keepalive", type=float, default=4.0, help="s the client keeps an idle connection; "
                        "below uvicorn's 5 s, or a reuse races the server's close (a ReadError)")
    parser.add_argument("--smaps", action="store_true", help="resident memory by mapping kind, before and after")
    parser.add_argument("--samples", action="store_true", help="keep the per-second RSS samples in the JSON")
    args = parser.parse_args(argv)
    if args.soak:
        args.duration = 600.0
    if args.db and args.db.startswith(("postgresql:", "postgres:")) and not args.index_dir:
        parser.error("--db postgresql://... needs --index-dir (that store's index folder)")
    result = asyncio.run(main_async(args))
    print_table(result)
    if not args.samples:
        result.pop("rss_samples_mb")
    return result
