"""The real site the recommendation tests share (tests/system/test_recommend_service.py, tests/interfaces/test_for_you_web.py):
the first 600 lines of the real HF archive (2024-05-27 to 2024-07-22, the committed sample) in a real SQLite
file, with the default embedder and the vector index built the product's way (``svc.index()``). Where the
shared folder is present, the store's embeddings cache is filled first from its vectors of the same model,
so indexing embeds only papers those vectors miss instead of all 600; on a clone without it, all 600.
``recs_site`` is module-scoped: each module gets its own site.
"""

from __future__ import annotations

import gzip

import httpx
import numpy as np
import pytest

from papersift.evaluate.recs_data import VECTOR_IDS, VECTORS, read_vectors
from papersift.index.indexes import paper_text, text_hash
from papersift.service import Papersift

from .helpers import SHARED, head_jsonl
from .web_support import FAST_HASHER, HF_ARCHIVE, served


def _seed_embeddings(svc: Papersift) -> None:
    if not (SHARED / VECTORS).is_file():
        return  # the indexer embeds everything itself
    with gzip.open(SHARED / VECTOR_IDS, "rt") as handle:
        known = {line.strip() for line in handle}
    papers = [p for _, p in svc.store.iter_changes(0) if p.id in known and paper_text(p)]
    vectors = read_vectors(SHARED, [p.id for p in papers])
    name = svc.indexes.embedder.name
    svc.store.put_embeddings(name, [(p.id, text_hash(paper_text(p)), vectors[i]) for i, p in enumerate(papers)])


@pytest.fixture(scope="module")
def recs_site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("for-you")
    svc = Papersift(tmp / "p.db", index_dir=tmp / "idx", password_hasher=FAST_HASHER)
    svc.ingest_file("hf-daily", head_jsonl(HF_ARCHIVE, tmp / "hf.jsonl", 600))
    _seed_embeddings(svc)
    svc.index()
    assert len(svc.indexes.vectors) >= 550
    with served(svc) as base, \
            httpx.Client(base_url=base, timeout=60) as client:
        yield {"svc": svc, "client": client, "base": base}


def _vector(svc, pid) -> np.ndarray:
    return np.asarray(svc.indexes.vectors.vector(pid), dtype=np.float32)


def _liked(svc, week_ids: list[str], n: int = 4) -> list[str]:
    """A coherent taste: the n papers listed before the week that are closest to the week's first paper."""
    seed = _vector(svc, week_ids[0])
    before = [p.id for p, _ in svc.store.feed_rows("2024-05-27", "2024-07-15")]
    return sorted(before, key=lambda pid: -float(_vector(svc, pid) @ seed))[:n]


def _week(svc) -> list[str]:
    return [p.id for p, _ in svc.store.feed_rows("2024-07-16", "2024-07-22")]
