"""Library imports: parse time of real-shaped and hostile files, and the site's health while imports run.

    python -m bench run library_import                       # all three parts
    python -m bench run library_import --parts parse,hostile --repeats 5
    python -m bench run library_import --parts load --duration 30 --importers 4
    PYTHONPATH=/path/to/old/checkout/src python -m bench run library_import --parts load   # another version's server

* ``parse``: a 10,000-entry Zotero-shaped BibTeX, RIS and CSL-JSON file (tests/library_corpus.py),
  read by ``read_library`` in this process and through the server's child-process reader
  (``ingest.sandbox.run_in_child``); the median of ``--repeats`` runs.
* ``hostile``: each hostile text of tests/library_corpus.py at ``--hostile-mb`` (4 MB by default), read
  in this process once: the time and whether it was read or refused (400).
* ``load``: a real ``papersift serve`` (subprocess, lexical only) on a database holding the papers of
  the 10,000-entry files. ``--importers`` clients each import a 10,000-entry file in a loop through
  ``POST /api/v1/me/library-import`` (the formats in turn) for ``--duration`` seconds, while one more
  client asks ``GET /api/v1/health`` every 50 ms; the same probe first runs ``--duration`` seconds with
  no import (the baseline). Reports the health check's p50 / p99 / max in both phases and the imports'
  count and median time. ``--mix hostile`` sends the hostile texts at 4 MB instead (read or refused).

Prints a table as it goes.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

import httpx

from bench.common import free_port, health_probe, health_summary, serve_process, stop_server, wait_healthy
from papersift.errors import BadInput
from papersift.ingest.library import read_library
from papersift.model import Paper
from papersift.service import Papersift
from tests.library_corpus import ADVERSARIAL, REAL_SHAPED, arxiv_ids

ENTRIES = 10_000


def parse_part(repeats: int) -> dict:
    from papersift.ingest.sandbox import run_in_child  # not in versions before it: --parts load still runs there

    rows = {}
    for fmt, (make, name) in REAL_SHAPED.items():
        text = make(ENTRIES)
        here, child = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            got = read_library(text, name)
            here.append(time.perf_counter() - started)
            started = time.perf_counter()
            run_in_child(read_library, text, name, what="the library file")
            child.append(time.perf_counter() - started)
        assert got.entries == ENTRIES, (fmt, got.entries)
        rows[fmt] = {"mb": round(len(text.encode()) / 2**20, 2), "in_process_s": round(statistics.median(here), 3),
                     "child_process_s": round(statistics.median(child), 3)}
        print(f"{fmt:9s} {rows[fmt]['mb']:5.2f} MB  in process {rows[fmt]['in_process_s']:6.3f} s  "
              f"child process {rows[fmt]['child_process_s']:6.3f} s  (median of {repeats})", flush=True)
    return rows


def hostile_part(megabytes: float) -> dict:
    rows = {}
    for case, make in ADVERSARIAL.items():
        text, name = make(int(megabytes * 1_000_000))
        started = time.perf_counter()
        try:
            got = read_library(text, name)
            outcome = f"read: {got.entries} entries, {len(got.problems)} problems"
        except BadInput as exc:
            outcome = f"400: {exc.message[:90]}"
        seconds = time.perf_counter() - started
        rows[case] = {"s": round(seconds, 3), "outcome": outcome}
        print(f"{seconds:7.3f} s  {case:34s} {outcome}", flush=True)
    return rows


def _prepare_db(folder: Path) -> tuple[Path, str]:
    db = folder / "p.db"
    svc = Papersift(db, index_dir=folder / "idx", embedder=False)
    svc.store.upsert_papers([Paper(id=i, title=f"Paper {i}", source="bench", observed_at="2026-01-01T00:00:00Z")
                             for i in arxiv_ids(ENTRIES)])
    user = svc.accounts.create_user("bench@example.org", "correct horse battery", "bench")
    _, token = svc.accounts.create_token(user, "bench")
    svc.close()
    return db, token


def _importer(base: str, token: str, files: list[tuple[str, bytes]], stop: threading.Event, out: list[float],
              offset: int) -> None:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "text/plain"}
    with httpx.Client(base_url=base, timeout=300, headers=headers) as client:
        n = offset
        while not stop.is_set():
            name, body = files[n % len(files)]
            started = time.perf_counter()
            response = client.post("/api/v1/me/library-import", params={"name": name}, content=body)
            assert response.status_code in (200, 400), response.text[:300]  # hostile files: read or refused
            out.append(time.perf_counter() - started)
            n += 1


def _files(mix: str) -> list[tuple[str, bytes]]:
    if mix == "real":
        return [(name, make(ENTRIES).encode()) for make, name in REAL_SHAPED.values()]
    hostile = [make(4_000_000) for make in ADVERSARIAL.values()]
    return [(name or "library", text.encode()) for text, name in hostile]


def load_part(duration: float, importers: int, mix: str) -> dict:
    files = _files(mix)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        db, token = _prepare_db(folder)
        port = free_port()
        proc = serve_process(db, port, embed=False, env={"PAPERSIFT_INDEX_DIR": str(folder / "idx")})
        base = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(base, proc)
            idle: list[float] = []
            stop = threading.Event()
            probe = threading.Thread(target=health_probe, args=(base, stop, idle))
            probe.start()
            time.sleep(duration)
            stop.set()
            probe.join()
            busy, imports = [], []
            stop = threading.Event()
            threads = [threading.Thread(target=_importer, args=(base, token, files, stop, imports, i))
                       for i in range(importers)]
            for thread in threads:
                thread.start()
            time.sleep(1.0)  # the first uploads are in and being read
            probe = threading.Thread(target=health_probe, args=(base, stop, busy))
            probe.start()
            time.sleep(duration)
            stop.set()
            for thread in threads + [probe]:
                thread.join()
        finally:
            stop_server(proc)
    result = {"mix": mix, "idle": health_summary(idle), "importing": health_summary(busy), "importers": importers,
              "imports": len(imports), "import_median_s": round(statistics.median(imports), 2) if imports else None}
    for phase in ("idle", "importing"):
        h = result[phase]
        print(f"health, {phase:9s}: n={h['n']:4d} p50 {h['p50_ms']:7.1f} ms  p99 {h['p99_ms']:7.1f} ms  "
              f"max {h['max_ms']:7.1f} ms", flush=True)
    print(f"imports ({mix} files): {result['imports']} by {importers} clients, median "
          f"{result['import_median_s']} s each", flush=True)
    return result


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run library_import", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default="parse,hostile,load")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--hostile-mb", type=float, default=4.0)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--importers", type=int, default=4)
    parser.add_argument("--mix", choices=["real", "hostile"], default="real",
                        help="what the importers send: 10,000-entry exports, or the hostile texts at 4 MB")
    args = parser.parse_args(argv)
    parts = {p.strip() for p in args.parts.split(",")}
    result = {}
    if "parse" in parts:
        result["parse"] = parse_part(args.repeats)
    if "hostile" in parts:
        result["hostile"] = hostile_part(args.hostile_mb)
    if "load" in parts:
        result["load"] = load_part(args.duration, args.importers, args.mix)
    return result
