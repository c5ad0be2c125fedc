"""The 80K-paper bench workdir (the real corpus and its vectors), built without running the embedding model.

    python -m bench run corpus80k [--workdir DIR]      # default: /tmp/papersift-bench/80k

Every benchmark on the 80K corpus calls :func:`ensure`, which runs this first when its workdir is not built.

Ingests the arXiv listings and the Hugging Face feed, builds the lexical index, then puts the
precomputed vectors of ``../shared/data/embeddings`` (the default model, float16) into the
store's embeddings cache under the default embedder's name and text hashes. A server opened on
``<workdir>/papersift.db`` then finds every vector cached and embeds nothing (the last phase
checks that, with the real embedder, and moves the vector watermark). Phases already done are
skipped (``<workdir>/phases.json``), except the last when the vector index has changes to
catch up (a new index format fills itself from the cache, still embedding nothing); prints one JSON line.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from bench.common import DATA, need_data, workdir
from papersift.index.indexes import paper_text, text_hash
from papersift.service import Papersift

EMBEDDINGS = DATA / "embeddings"
VECTORS_FILE = EMBEDDINGS / "papers-80k-minilm-int8.f16.npy"
IDS_FILE = EMBEDDINGS / "papers-80k-ids.txt.gz"
SOURCES = [("arxiv-jsonl", DATA / "arxiv-cs-2025-2026.jsonl.gz"),
           ("hf-daily", DATA / "hf-daily-papers-2024-2026.jsonl.gz")]


def bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn())


def default_model_name() -> str:
    """The name the server's default embedder caches vectors under (``Corpus.indexes`` calls
    ``load_embedder(None)``); read without loading the ONNX sessions."""
    from papersift.embed.load import DEFAULT_SPEC

    spec = DEFAULT_SPEC
    if spec != "minilm":  # the precomputed vectors are MiniLM int8: anything else would not match
        raise SystemExit(f"default embedder is {spec!r}; the vectors in {EMBEDDINGS} are for 'minilm'")
    return "all-MiniLM-L6-v2-int8"


def ingest(svc: Papersift) -> dict:
    started = time.perf_counter()
    read = bad = 0
    with bar() as progress:
        for kind, path in SOURCES:
            task = progress.add_task(f"ingest {path.name}", total=None)
            report = svc.ingest_file(kind, path, index=False, progress=lambda n, t=task: progress.advance(t, n))
            read, bad = read + report.read, bad + len(report.bad)
    return {"records": read, "bad": bad, "papers": svc.store.count_papers(),
            "seconds": round(time.perf_counter() - started, 1)}


def lexical(svc: Papersift) -> dict:
    started = time.perf_counter()
    with bar() as progress:
        task = progress.add_task("lexical index", total=svc.indexes_lexical_only().pending_lexical())
        n = svc.index(embed=False, progress=lambda k: progress.advance(task, k))["lexical"]
    return {"papers": n, "seconds": round(time.perf_counter() - started, 1)}


def load_vectors(svc: Papersift, model: str, batch: int = 2000) -> dict:
    """Cache every precomputed vector whose paper is in the store, keyed by its text hash."""
    started = time.perf_counter()
    with gzip.open(IDS_FILE, "rt") as f:
        ids = [line.strip() for line in f if line.strip()]
    vectors = np.load(VECTORS_FILE, mmap_mode="r")
    if len(ids) != len(vectors):
        raise SystemExit(f"{IDS_FILE.name}: {len(ids)} ids but {len(vectors)} vectors")
    put = missing = 0
    with bar() as progress:
        task = progress.add_task("cache vectors", total=len(ids))
        for start in range(0, len(ids), batch):
            rows = []
            for i in range(start, min(start + batch, len(ids))):
                paper = svc.store.get_paper(ids[i])
                if paper is None:
                    missing += 1
                    continue
                rows.append((paper.id, text_hash(paper_text(paper)), np.asarray(vectors[i], dtype=np.float32)))
            svc.store.put_embeddings(model, rows)
            put += len(rows)
            progress.advance(task, min(batch, len(ids) - start))
    return {"vectors": put, "ids_not_in_store": missing, "seconds": round(time.perf_counter() - started, 1)}


def check_sync(db: Path) -> dict:
    """Open the store as the server does (default embedder) and catch the vectors up: every key
    should match, so nothing is embedded; this also moves the watermark, so the server's start
    does not walk 80K papers again."""
    started = time.perf_counter()
    svc = Papersift(db)
    indexes = svc.indexes
    opened = time.perf_counter() - started
    with bar() as progress:
        task = progress.add_task("sync_vectors (should embed 0)", total=indexes.pending_vectors())
        embedded = indexes.sync_vectors(progress=lambda n: progress.advance(task, n))
    result = {"embedder": indexes.embedder.name, "embedded": embedded, "vectors_indexed": len(indexes.vectors),
              "open_seconds": round(opened, 1), "sync_seconds": round(time.perf_counter() - started - opened, 1)}
    svc.close()
    return result


def vectors_pending(db: Path) -> int:
    svc = Papersift(db)
    try:
        return svc.indexes.pending_vectors()
    finally:
        svc.close()


def ensure(work: Path) -> Path:
    """The workdir's database, after building the workdir here when it is not built yet (the command printed)."""
    phases = work / "phases.json"
    if not (phases.exists() and "sync" in json.loads(phases.read_text())):
        print(f"the 80K workdir {work} is not built: building it first (a few minutes), as "
              f"`python -m bench run corpus80k --workdir {work}`", file=sys.stderr, flush=True)
        build(work)
    return work / "papersift.db"


def build(work: Path) -> dict:
    need_data("arxiv-cs-2025-2026.jsonl.gz", "hf-daily-papers-2024-2026.jsonl.gz", "embeddings")
    work.mkdir(parents=True, exist_ok=True)
    db = work / "papersift.db"
    phases_file = work / "phases.json"
    phases = json.loads(phases_file.read_text()) if phases_file.exists() else {}
    model = default_model_name()
    svc = Papersift(db, embedder=False)
    for name, run in (("ingest", ingest), ("lexical", lexical), ("vectors", lambda s: load_vectors(s, model))):
        if name not in phases:
            phases[name] = run(svc)
            phases_file.write_text(json.dumps(phases))
    svc.close()
    if "sync" not in phases or vectors_pending(db):  # e.g. a new on-disk vector index to fill
        phases["sync"] = check_sync(db)
        if phases["sync"]["embedder"] != model:
            raise SystemExit(f"the default embedder is {phases['sync']['embedder']}, vectors cached as {model}")
        phases_file.write_text(json.dumps(phases))
    return {"workdir": str(work), "db": str(db), "index_dir": str(svc.index_dir), **phases}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench run corpus80k", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=workdir("80k"))
    return build(parser.parse_args(argv).workdir)
