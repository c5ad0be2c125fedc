"""Real files from ../shared/data into a real SQLite store, indexed and searched end to end."""

import gzip
import itertools
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from papersift.model import Paper
from papersift.query import Filters
from papersift.service import Papersift
from papersift.store import open_store

from ..helpers import SHARED, head_jsonl
from ..recs_support import _seed_embeddings

pytestmark = pytest.mark.slow  # the module's corpus: ~1,900 real papers embedded
ARXIV = SHARED / "arxiv-cs-2025-2026.jsonl.gz"
HF = SHARED / "hf-daily-papers-2024-2026.jsonl.gz"


@pytest.fixture(scope="module")
def svc(tmp_path_factory, shared_data):
    tmp = tmp_path_factory.mktemp("integration")
    service = Papersift(tmp / "p.db")
    service.ingest_file("arxiv-jsonl", ARXIV, limit=1200)
    # the archive's first rows (May 2024) carry no GitHub links; rows from March 2025 do
    sample = tmp / "hf-sample.jsonl"
    with gzip.open(HF, "rt") as handle, open(sample, "w") as out:
        for number, line in enumerate(itertools.islice(handle, 2800)):
            if number < 600 or number >= 2600:
                out.write(line)
    service.ingest_file("hf-daily", sample)
    # the default model's own vectors, precomputed in ../shared/data: indexing then embeds only the papers
    # whose text is not the one those were made from (embedding all 1,800 here took a minute of the suite)
    _seed_embeddings(service)
    service.index()
    return service


def test_every_paper_is_indexed_once(svc):
    count = svc.store.count_papers()
    assert count > 1700
    assert svc.indexes.lexical.count() == count
    assert len(svc.indexes.vectors) == count
    assert svc.indexes.pending_lexical() == 0 and svc.indexes.pending_vectors() == 0


def test_hybrid_search_finds_the_paper_by_meaning_and_words(svc):
    target = svc.store.get_paper("2405.15738")  # ConvLLaVA, from the HF sample
    res = svc.search("hierarchical convolutional visual encoder for large multimodal models", per_page=5)
    assert res.mode == "hybrid"
    assert target.id in [h.paper.id for h in res.hits]
    paraphrase = svc.search("compressing high resolution images into fewer visual tokens for LMMs", mode="dense", per_page=10)
    assert target.id in [h.paper.id for h in paraphrase.hits]


def test_filters_apply_to_both_legs(svc):
    flt = Filters(categories=["cs.CV"])
    res = svc.search("segmentation of medical images", flt, per_page=20)
    assert res.hits and all("cs.CV" in h.paper.categories for h in res.hits)
    coded = svc.search("language model agents", Filters(has_code=True), per_page=20)
    assert coded.hits and all(h.paper.github_repo or h.paper.code_links for h in coded.hits)
    excluded = svc.search("diffusion -video", per_page=30)
    assert excluded.hits  # the check below must look at something
    for hit in excluded.hits:
        assert "video" not in f"{hit.paper.title} {hit.paper.abstract}".lower()


def test_similar_papers_are_about_the_same_thing(svc):
    hits = svc.similar("2405.15738", k=5)
    assert len(hits) == 5 and "2405.15738" not in [h.paper.id for h in hits]
    text = " ".join(f"{h.paper.title} {h.paper.abstract}".lower() for h in hits)
    assert "visual" in text or "vision" in text or "image" in text


def test_new_papers_are_searchable_without_a_rebuild_and_survive_a_crash(svc):
    fresh = Paper(id="2611.00001", title="Quokka: zyzzyvas for retrieval", abstract="A zyzzyva-based retriever.",
                  source="submit", observed_at="2026-11-01T00:00:00Z")
    svc.store.upsert_papers([fresh])
    # "crash" before the index update: a new process opens the same files
    reopened = Papersift(svc.db, index_dir=svc.index_dir, embedder=False)
    assert reopened.indexes_lexical_only().pending_lexical() >= 1
    reopened.index(embed=False)
    assert [h.paper.id for h in reopened.search("zyzzyvas", mode="bm25").hits] == ["2611.00001"]
    svc.index()  # the first service shares the index folder: it catches up with no duplicate
    assert svc.indexes.lexical.count() == svc.store.count_papers()
    assert svc.indexes.vectors.vector("2611.00001") is not None  # and embeds the new paper
    assert svc.search("zyzzyva retriever quokka", per_page=3).hits[0].paper.id == "2611.00001"


def test_killed_ingest_resumes_without_duplicates(tmp_path, shared_data):
    sample = head_jsonl(ARXIV, tmp_path / "a.jsonl", 6000)
    expected = {json.loads(line)["id"] for line in sample.read_text().splitlines()}
    assert len(expected) == 6000
    db = tmp_path / "k.db"
    cmd = [sys.executable, "-m", "papersift.cli", "--db", str(db), "ingest", "arxiv-jsonl", str(sample)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    store = None
    while time.time() < deadline and proc.poll() is None:
        time.sleep(0.01)
        if db.exists():
            store = store or open_store(db)
            if store.count_papers() > 0:
                break
    # the kill must land mid-run: the process still working, some batches committed, not all
    assert proc.poll() is None, "ingest finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait() == -signal.SIGKILL
    partial = open_store(db).count_papers()
    assert 0 < partial < 6000, partial
    done = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["inserted"] == 6000 - partial and report["unchanged"] == partial  # resumed, nothing redone
    final = open_store(db)
    ids = [paper.id for _, paper in final.iter_changes(0)]
    assert len(ids) == 6000 and set(ids) == expected  # exactly the file's papers, each once
    assert final.count_papers() == 6000 and final.max_seq() == 6000  # each paper written exactly once
