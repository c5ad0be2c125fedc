"""`papersift eval DIR`: measure the real search path on any BEIR-format folder.

The corpus is loaded into its own store and indexes under the cache folder (keyed by the
corpus file's checksum), so repeated runs reuse embeddings and only the ranking is re-run.
Queries are plain text here (BEIR queries are sentences, not query syntax).
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path
from typing import Callable, Literal

from papersift.config import environment_value
from papersift.errors import BadInput
from papersift.evaluate.metrics import evaluate
from papersift.ingest import beir
from papersift.query import plain_query
from papersift.search.fusion import FusionParams
from papersift.search.searcher import MODES, Searcher
from papersift.service.corpus import Corpus

Progress = Callable[[int], None] | None
Stage = Callable[[str, int | None], None] | None  # a new step and its total (None: not known up front)


def cache_root() -> Path:
    return Path(environment_value("cache") or Path.home() / ".cache" / "papersift")


def corpus_file(folder: Path) -> Path:
    for name in ("corpus.jsonl", "corpus.jsonl.gz"):
        if (folder / name).is_file():
            return folder / name
    raise BadInput(f"{folder} is not a BEIR folder: no corpus.jsonl(.gz)")


def _digest(path: Path) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()[:16]


def open_corpus(folder: Path, embedder: str | Literal[False] | None = None, progress: Progress = None,
                lexical_weights=None, on_stage: Stage = None) -> tuple[Corpus, str]:
    """A service over the corpus alone (built once, then reused); returns it and the namespace.
    ``on_stage``: told when reading and embedding start, with the papers to embed as the total."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"not a folder: {folder}")
    corpus = corpus_file(folder)
    namespace = re.sub(r"[^a-z0-9_-]", "-", folder.resolve().name.lower())[:32] or "corpus"
    work = cache_root() / "eval" / f"{namespace}-{_digest(corpus)}"
    work.mkdir(parents=True, exist_ok=True)
    svc = Corpus(work / "store.db", index_dir=work / "index", embedder=embedder)
    if svc.store.get_cursor("corpus-loaded") is None:
        if on_stage:
            on_stage("reading the corpus", None)
        report = svc.ingest_records(beir.read_beir_corpus(folder, namespace), progress=progress)
        if report.bad:
            line, message = report.bad[0]
            raise BadInput(f"{corpus}: {len(report.bad)} bad records, first at line {line}: {message}")
        svc.store.upsert_papers([], cursor=("corpus-loaded", {"papers": report.read}))
    if lexical_weights is not None:
        from papersift.index.indexes import Indexes

        svc._indexes = Indexes(svc.store, svc.index_dir / f"lexical-{_weights_key(lexical_weights)}",
                               svc.indexes.embedder if embedder is not False else None, lexical_weights)
    svc.indexes.sync_lexical()
    if embedder is not False:
        if on_stage:
            on_stage("embedding", svc.indexes.papers_behind()[1])
        svc.indexes.sync_vectors(progress=progress)
    return svc, namespace


def _weights_key(weights) -> str:
    return hashlib.sha1(repr(weights).encode()).hexdigest()[:8]


def run_queries(searcher: Searcher, queries: dict[str, str], namespace: str, mode: str, k: int = 100,
                progress: Progress = None) -> dict[str, list[str]]:
    prefix = namespace + ":"
    run = {}
    for qid, text in queries.items():
        ranking, _, _ = searcher.rank(plain_query(text), None, mode=mode, k=k)
        run[qid] = [d.removeprefix(prefix) for d, _ in ranking]
        if progress:
            progress(1)
    return run


def evaluate_beir(folder: str | Path, mode: str = "hybrid", split: str = "test", limit: int | None = None,
                  progress: Progress = None, fusion: FusionParams | None = None,
                  embedder: str | None = None, on_stage: Stage = None) -> dict:
    """``progress`` counts records read, papers embedded, then queries run; ``on_stage`` says which, and
    the total of each when it is known."""
    if mode not in MODES:
        raise BadInput(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    if limit is not None and limit < 1:
        raise BadInput("--limit must be at least 1")
    folder = Path(folder)
    started = time.perf_counter()
    svc, namespace = open_corpus(folder, embedder=False if mode == "bm25" else embedder, progress=progress,
                                 on_stage=on_stage)
    qrels = beir.read_qrels(folder, split)
    queries = beir.read_beir_queries(folder)
    selected = {qid: queries[qid] for qid in qrels if qid in queries}
    if not selected:
        raise BadInput(f"no queries of {folder} have judgements in the {split!r} split")
    if limit is not None:
        selected = dict(list(selected.items())[:limit])
    searcher = Searcher(svc.indexes, fusion) if fusion else svc.searcher
    if on_stage:
        on_stage("running queries", len(selected))
    run = run_queries(searcher, selected, namespace, mode, progress=progress)
    judged = {qid: qrels[qid] for qid in selected}
    return {
        "dataset": folder.resolve().name, "split": split, "mode": mode, "queries": len(selected),
        "metrics": evaluate(run, judged), "seconds": round(time.perf_counter() - started, 2),
        "embedder": svc.indexes.embedder.name if mode != "bm25" and svc.indexes.embedder else None,
    }
