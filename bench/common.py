"""What every benchmark shares: the data and work folders, percentiles, memory readings, servers, the stamp.

A result is only worth keeping with the code and the machine that produced it, so ``stamp`` records the
commit (of the papersift actually imported, which ``PYTHONPATH=OLD/src`` can point at another checkout),
the machine, the load average and the package versions, and ``write_result`` puts it beside the result.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Iterator

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
# the real data folder, as the tests find it: ../shared/data beside the checkout, or $PAPERSIFT_SHARED_DATA
DATA = (Path(os.environ["PAPERSIFT_SHARED_DATA"]) if "PAPERSIFT_SHARED_DATA" in os.environ
        else ROOT.parent / "shared" / "data")
# the scratch folders the corpora are built in (several GB at 1M: not the repository, not a RAM disk)
WORKROOT = Path(tempfile.gettempdir()) / "papersift-bench"
RESULTS = ROOT / "bench" / "results"
PACKAGES = ("papersift", "numpy", "tantivy", "faiss-cpu", "onnxruntime", "tokenizers", "scikit-learn", "fastapi",
            "uvicorn", "httpx", "psycopg")


class UsageError(Exception):
    """A mistake in how the harness was called (an unknown name, a bad expected-results file): one line, exit 2."""


def workdir(name: str) -> Path:
    """The default work folder of a corpus (``80k``, ``1m``, ...); every benchmark takes ``--workdir`` too."""
    return WORKROOT / name


def need_data(*names: str) -> Path:
    """The shared data folder, or a one-line exit naming what is missing."""
    for name in names:
        if not (DATA / name).exists():
            raise SystemExit(f"{DATA / name} not found: the benchmarks read ../shared/data beside the checkout "
                             "(or $PAPERSIFT_SHARED_DATA)")
    return DATA


# ---------------------------------------------------------------- numbers
def percentile(values, q: float) -> float:
    """The ``q``-th percentile (0-100) as one of the values (nearest rank); NaN for no values."""
    return float(np.percentile(values, q, method="nearest")) if len(values) else float("nan")


def latency_summary(ms: list[float], *qs: float) -> dict:
    """p50 and the given percentiles of millisecond timings, rounded for a table."""
    return {f"p{q:g}_ms": round(percentile(ms, q), 2) for q in (50, *qs)}


def paired(reference: dict[str, float], variant: dict[str, float], resamples: int = 2000) -> dict:
    """Per-query ``variant - reference`` (the same queries): its mean, 95% bootstrap interval and two-sided p."""
    from papersift.evaluate.recs_stats import paired_bootstrap

    qids = sorted(reference)
    test = paired_bootstrap([variant[q] for q in qids], [reference[q] for q in qids], resamples=resamples)
    return {"mean_diff": round(test["diff"], 4), "ci95": [round(test["ci_low"], 4), round(test["ci_high"], 4)],
            "p_two_sided": round(test["p"], 3)}


def load_queries() -> list[str]:
    """The 400 real paper-search queries of ``../shared/data/queries``, in file order."""
    texts = []
    for name in sorted((need_data("queries") / "queries").glob("*.json")):
        texts += [q["search_query"] for q in json.loads(name.read_text()).values()]
    return texts


# ---------------------------------------------------------------- memory and disk
def _status(pid: int | str, key: str) -> int:
    found = re.search(rf"^{key}:\s+(\d+)", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    return int(found[1]) if found else 0


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory now, MB."""
    return round(_status(pid, "VmRSS") / 1024, 1)


def peak_rss_mb(pid: int | str = "self") -> float:
    """The most resident memory so far (what a small machine runs out of), MB."""
    return round(_status(pid, "VmHWM") / 1024, 1)


def dir_mb(path: Path) -> float:
    """Size of a file, or of every file under a folder, MB (0 when absent)."""
    path = Path(path)
    if not path.exists():
        return 0.0
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(p.stat().st_size for p in files) / 2**20, 1)


def copy_store(source: Path, target: Path, index: bool = True) -> Path:
    """An online backup of the SQLite store ``source`` at ``target`` (consistent even while someone writes the
    original), with its index folder beside it when ``index``: a benchmark's copy, so the original is never
    migrated or written."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    folder = source.with_name(source.name + ".index")
    if index and folder.exists():
        shutil.copytree(folder, target.with_name(target.name + ".index"), dirs_exist_ok=True)
    return target


# ---------------------------------------------------------------- servers
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_process(db: Path | str, port: int, *, embed: bool = True, workers: int = 1, env: dict | None = None,
                  log: Path | None = None, wrap: list[str] = ()) -> subprocess.Popen:
    """A real ``papersift serve`` on 127.0.0.1 in a child process (the code on ``PYTHONPATH``)."""
    cmd = [*wrap, sys.executable, "-m", "papersift.cli", "--db", str(db), "serve", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), *([] if embed else ["--no-embed"])]
    out = log.open("w") if log else subprocess.DEVNULL
    try:
        return subprocess.Popen(cmd, env={**os.environ, **(env or {})}, stdout=out, stderr=subprocess.STDOUT)
    finally:
        if log:
            out.close()


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (``serve --workers N``: uvicorn's supervisor and its workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree, todo = [], [pid]
    while todo:
        tree.append(todo.pop())
        todo.extend(children.get(tree[-1], []))
    return tree


def listens_on(pid: int, port: int) -> bool:
    """Whether ``pid`` (or a child) holds the socket listening on ``port``: on a shared machine another program
    can take a port between ``free_port`` and the server's bind, and answer the health check in its place."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{fields[9]}]")
    for one in process_tree(pid):
        try:
            if any(os.readlink(fd) in inodes for fd in Path(f"/proc/{one}/fd").iterdir()):
                return True
        except OSError:  # the process ended meanwhile
            continue
    return False


def wait_healthy(base: str, proc: subprocess.Popen, limit: float = 120) -> float:
    """Seconds until ``proc``'s ``GET /api/v1/health`` answers 200; a one-line exit if it dies or never answers."""
    started, port = time.perf_counter(), int(base.rsplit(":", 1)[1])
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode} before answering")
        try:
            if httpx.get(base + "/api/v1/health", timeout=2).status_code == 200 and listens_on(proc.pid, port):
                return round(time.perf_counter() - started, 2)
        except httpx.HTTPError:
            pass
        if time.perf_counter() - started > limit:
            raise SystemExit(f"the server did not answer within {limit:g} s")
        time.sleep(0.2)


def stop_server(proc: subprocess.Popen, grace: float = 30) -> None:
    """SIGTERM (uvicorn shuts down cleanly), then SIGKILL after ``grace`` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def health_probe(base: str, stop: threading.Event, out: list[float], every: float = 0.05) -> None:
    """Time ``GET /api/v1/health`` every ``every`` seconds until ``stop`` (run it in a thread): how the site
    answers while something else loads it."""
    with httpx.Client(base_url=base, timeout=120) as client:
        while not stop.is_set():
            started = time.perf_counter()
            status = client.get("/api/v1/health").status_code
            if status != 200:
                raise SystemExit(f"the health check answered {status}")
            out.append(time.perf_counter() - started)
            stop.wait(every)


def health_summary(samples: list[float]) -> dict:
    """n, p50, p99 and max ms of the health probe's timings (seconds)."""
    ms = [s * 1000 for s in samples]
    return {"n": len(ms), "p50_ms": round(percentile(ms, 50), 1), "p99_ms": round(percentile(ms, 99), 1),
            "max_ms": round(max(ms), 1) if ms else float("nan")}


@contextmanager
def app_server(app) -> Iterator[str]:
    """An ASGI ``app`` behind uvicorn on 127.0.0.1 (a free port) in a thread of this process; yields its URL."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise SystemExit("the in-process server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


# ---------------------------------------------------------------- the stamp and the results file
def _git(folder: Path, *args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def code_commit() -> dict:
    """The commit of the papersift package this process imports (``-dirty`` with uncommitted changes)."""
    import papersift

    folder = Path(papersift.__file__).resolve().parent
    commit = _git(folder, "rev-parse", "--short=12", "HEAD")
    dirty = bool(_git(folder, "status", "--porcelain", "--untracked-files=no", "--", "."))
    return {"commit": (commit + ("-dirty" if dirty else "")) or "unknown", "code": str(folder)}


def machine() -> dict:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    model = re.search(r"^model name\s*:\s*(.+)$", info, re.MULTILINE)
    mem = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total = re.search(r"^MemTotal:\s+(\d+)", mem, re.MULTILINE)
    return {"cpu": model[1].strip() if model else platform.processor() or platform.machine(),
            "cpus": len(os.sched_getaffinity(0)), "ram_gib": round(int(total[1]) / 2**20, 1) if total else None,
            "os": platform.platform(), "python": platform.python_version(), "host": platform.node()}


def versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def stamp() -> dict:
    """Where and when a result was measured: commit, machine, load average, package versions, UTC time."""
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), **code_commit(),
            "machine": machine(), "load_avg": [round(x, 2) for x in os.getloadavg()], "packages": versions()}


def write_result(name: str, command: list[str], result, before: dict, seconds: float,
                 folder: Path = RESULTS) -> Path:
    """``folder/NAME-YYYYMMDD-HHMMSS.json``: the result with the stamp taken before the run and the load after."""
    folder.mkdir(parents=True, exist_ok=True)
    when = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    path = folder / f"{name}-{when}.json"
    record = {"bench": name, "command": " ".join(command), "seconds": round(seconds, 1), "stamp": before,
              "load_avg_after": [round(x, 2) for x in os.getloadavg()], "result": result}
    path.write_text(json.dumps(record, indent=1, default=str) + "\n")
    return path
