"""The on-disk vector index: HNSW over int8 codes, float16 rows on disk, exact rescoring.

Real vectors: 6,000 of the 80K papers' embeddings from the default model (../shared/data/embeddings),
queries are other papers' vectors (no query is embedded here, so these stored vectors are only real
geometry for the index: a change of the default model cannot make them wrong). Every answer is
compared with brute-force exact search (:class:`ExactVectorIndex`) over the same rows. ``graph_min``
is lowered so the graph, the filtered int8 scan and the filtered walk all run on a small corpus.
"""

from __future__ import annotations

import gzip
import inspect
import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time

import faiss
import numpy as np
import pytest

from papersift.index.vectors import hnsw
from papersift.index.vectors.exact import ExactVectorIndex
from papersift.index.vectors.hnsw import GraphVectorIndex
from papersift.index.vectors.protocol import VectorIndex
from papersift.index.vectors.vector_file import VectorFile

from ..helpers import SHARED

EMBEDDINGS = SHARED / "embeddings" / "papers-80k-minilm-int8.f16.npy"
IDS = SHARED / "embeddings" / "papers-80k-ids.txt.gz"
N, QUERIES = 6_000, 40


@pytest.fixture(scope="module")
def real(shared_data):
    if not (EMBEDDINGS.exists() and IDS.exists()):
        pytest.skip("../shared/data/embeddings not found: the vector index tests need the real vectors")
    matrix = np.load(EMBEDDINGS, mmap_mode="r")
    with gzip.open(IDS, "rt") as handle:
        ids = [line.strip() for line in itertools.islice(handle, N + QUERIES)]
    vectors = np.asarray(matrix[: N + QUERIES], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return ids[:N], vectors[:N], vectors[N:]


@pytest.fixture(scope="module")
def built(real, tmp_path_factory):
    ids, vectors, _ = real
    graph = GraphVectorIndex(384, tmp_path_factory.mktemp("graph"), model="m", graph_min=1_000)
    for start in range(0, N, 1_500):  # incremental, as the server adds them
        graph.add(ids[start: start + 1_500], vectors[start: start + 1_500], seq=start + 1_500)
    exact = ExactVectorIndex(384)
    exact.add(ids, vectors)
    return graph, exact


def overlap(got, want) -> float:
    return len({d for d, _ in got} & {d for d, _ in want}) / max(1, len(want))


def test_graph_index_satisfies_the_protocol(built):
    graph, _ = built
    assert isinstance(graph, VectorIndex)
    for name in ("search", "vector", "delete", "__len__"):
        assert name in dir(graph)
    assert list(inspect.signature(GraphVectorIndex.add).parameters)[:3] == ["self", "ids", "vectors"]
    assert len(graph) == N and graph.seq == N


def test_unfiltered_search_finds_the_exact_neighbours_with_exact_scores(built, real):
    graph, exact = built
    assert graph._graph is not None and graph._graph.ntotal >= N - hnsw.TAIL_MAX  # the graph path runs
    recalls = []
    for query in real[2]:
        got, want = graph.search(query, 10), exact.search(query, 10)
        assert len(got) == 10
        recalls.append(overlap(got, want))
        for pid, score in got:  # rescored with the float16 rows: their true cosine, not the int8 estimate
            stored = exact.vector(pid).astype(np.float16).astype(np.float32)
            assert score == pytest.approx(float(stored @ query), abs=1e-5)
            assert score == pytest.approx(float(exact.vector(pid) @ query), abs=2e-3)
        assert [s for _, s in got] == sorted((s for _, s in got), reverse=True)
    assert np.mean(recalls) >= 0.97, recalls


def test_a_search_runs_faiss_on_its_own_thread_only(built, real):
    """One query gains nothing from OpenMP, and each request thread's team spun on the shared cores;
    the setting is the searching thread's own, so a build elsewhere keeps every core."""
    import threading

    import faiss

    graph, _ = built
    seen = {}

    def search():
        faiss.omp_set_num_threads(2)
        graph.search(real[2][0], 10)
        seen["searching thread"] = faiss.omp_get_max_threads()

    worker = threading.Thread(target=search)
    before = faiss.omp_get_max_threads()
    worker.start()
    worker.join()
    assert seen["searching thread"] == 1
    assert faiss.omp_get_max_threads() == before  # this thread's own setting is untouched


@pytest.mark.parametrize("passing", [40, 300, 1_500, 3_000, 4_000])
def test_filtered_search_is_right_at_every_selectivity(built, real, passing):
    """Passing sets small enough to rescore directly (up to GATHER_MAX), for the int8 scan of their
    codes (3,000), and for the filtered walk (4,000, with SUBSET_EXACT lowered for this small corpus)."""
    graph, exact = built
    ids = real[0]
    rng = np.random.default_rng(passing)
    allowed = {ids[i] for i in rng.choice(N, passing, replace=False)}
    old = hnsw.SUBSET_EXACT
    hnsw.SUBSET_EXACT = 2_000 if passing == 4_000 else old
    try:
        recalls = []
        for query in real[2]:
            got, want = graph.search(query, 10, allowed=allowed), exact.search(query, 10, allowed=allowed)
            assert {d for d, _ in got} <= allowed and len(got) == 10
            recalls.append(overlap(got, want))
            if passing <= hnsw.GATHER_MAX:
                assert [d for d, _ in got] == [d for d, _ in want]  # rescored directly: exact
                stored = [float(exact.vector(d).astype(np.float16).astype(np.float32) @ query) for d, _ in got]
                assert [s for _, s in got] == pytest.approx(stored, abs=1e-5)  # the float16 rows' own cosines
                assert [s for _, s in got] == pytest.approx([s for _, s in want], abs=2e-3)
    finally:
        hnsw.SUBSET_EXACT = old
    assert np.mean(recalls) >= (1.0 if passing <= hnsw.GATHER_MAX else 0.95), recalls


def test_the_code_scan_ranks_as_the_decoded_codes_do(built, real):
    """``_scan_codes`` scores the raw uint8 codes; its pick must be the top of faiss's own decoding."""
    graph, _ = built
    codes = faiss.downcast_index(graph._graph.storage)
    rows = np.sort(np.random.default_rng(5).choice(graph._graph.ntotal, 3_000, replace=False))
    decoded = codes.sa_decode(faiss.vector_to_array(codes.codes).reshape(codes.ntotal, -1)[rows])
    for query in real[2][:10]:
        picked = graph._scan_codes(query, rows, 64)
        want = rows[np.argsort(-(decoded @ query))[:64]]
        assert len(picked) == 64 and len(set(picked.tolist()) & set(want.tolist())) >= 63  # float ties only
    assert list(graph._scan_codes(real[2][0], rows[:10], 64)) == list(rows[:10])  # fewer than wanted: all


def test_a_filter_passing_fewer_than_k_returns_all_of_them(built, real):
    graph, _ = built
    allowed = set(real[0][:7]) | {"not-indexed"}
    assert {d for d, _ in graph.search(real[2][0], 10, allowed=allowed)} == set(real[0][:7])
    assert graph.search(real[2][0], 10, allowed=set()) == []


def test_int8_codes_agree_with_the_float_cosines(built, real):
    graph, _ = built
    codes = faiss.downcast_index(graph._graph.storage)
    query = real[2][0]
    approx, labels = codes.search(query.reshape(1, -1), 500)
    floats = np.asarray(real[1])[labels[0]] @ query
    assert np.max(np.abs(approx[0] - floats)) < 0.02
    assert np.corrcoef(approx[0], floats)[0, 1] > 0.99


def test_reopening_keeps_everything(built, real, tmp_path):
    ids, vectors, queries = real
    folder = tmp_path / "v"
    first = GraphVectorIndex(384, folder, model="m", graph_min=1_000)
    first.add(ids[:3_000], vectors[:3_000], seq=10)
    first.add(ids[3_000:3_100], vectors[3_000:3_100], seq=11)  # a tail the graph does not cover yet
    before = [first.search(q, 10) for q in queries[:5]]
    first.close()
    again = GraphVectorIndex(384, folder, model="m", graph_min=1_000)
    assert again.seq == 11 and len(again) == 3_100
    assert [again.search(q, 10) for q in queries[:5]] == before
    assert np.allclose(again.vector(ids[3_050]), vectors[3_050], atol=1e-3)
    other_model = GraphVectorIndex(384, folder, model="another", graph_min=1_000)
    assert len(other_model) == 0 and other_model.seq == 0  # vectors of another model are never mixed in


def test_upsert_and_delete_survive_a_reopen(real, tmp_path):
    ids, vectors, queries = real
    index = GraphVectorIndex(384, tmp_path / "v", model="m", graph_min=1_000)
    index.add(ids[:2_000], vectors[:2_000], seq=1)
    target = ids[5]
    index.add([target], queries[:1], seq=2)  # its text changed: a new vector
    assert index.search(queries[0], 1)[0][0] == target and len(index) == 2_000
    index.delete([ids[6], "unknown"], seq=3)
    assert ids[6] not in {d for d, _ in index.search(vectors[6], 50)}
    index.close()
    again = GraphVectorIndex(384, tmp_path / "v", model="m", graph_min=1_000)
    assert len(again) == 1_999 and again.seq == 3
    assert np.allclose(again.vector(target), queries[0]) and again.vector(ids[6]) is None
    assert ids[6] not in {d for d, _ in again.search(vectors[6], 50)}
    assert ids[6] not in {d for d, _ in again.search(vectors[6], 50, allowed=set(ids[:100]))}


def test_bytes_past_the_last_commit_are_dropped(tmp_path):
    vf = VectorFile(tmp_path, 4, "m")
    vf.append(["a", "b"], np.eye(4, dtype=np.float32)[:2])
    vf.commit(5)
    vf.append(["c"], np.eye(4, dtype=np.float32)[2:3])  # staged, never committed: a crash here
    vf._rows_out.write(b"\x01\x02\x03")  # and a torn row
    vf.close()  # the process dies: its lock goes, the staged bytes stay on disk
    again = VectorFile(tmp_path, 4, "m")
    assert len(again) == 2 and again.seq == 5 and list(again.replay()) == [(True, "a"), (True, "b")]
    assert (tmp_path / "rows.f16").stat().st_size == 2 * 4 * 2


WRITER = textwrap.dedent("""
    import sys, numpy as np
    from papersift.index.vectors.hnsw import GraphVectorIndex
    index = GraphVectorIndex(16, sys.argv[1], model="m", graph_min=500)
    start = index.seq
    for batch in range(start, 10_000):
        ids = [f"p{batch}-{i}" for i in range(50)]
        vectors = np.random.default_rng(batch).standard_normal((50, 16)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        index.add(ids, vectors, seq=batch + 1)
        print(batch + 1, flush=True)
""")


def test_killed_mid_write_keeps_every_commit_and_resumes(tmp_path):
    folder = tmp_path / "v"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(folder)], stdout=subprocess.PIPE, text=True, env=env)
    deadline, seen = time.time() + 120, 0
    while seen < 40 and time.time() < deadline:  # past the graph build (500 rows) and a few commits
        seen = int(proc.stdout.readline() or seen)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert 40 <= seen < 10_000, "the writer must be killed mid-run"
    index = GraphVectorIndex(16, folder, model="m", graph_min=500)
    assert index.seq >= seen and len(index) == 50 * index.seq  # every commit reported is there, nothing torn
    for batch in (0, index.seq - 1):
        expected = np.random.default_rng(batch).standard_normal((50, 16)).astype(np.float32)
        expected /= np.linalg.norm(expected, axis=1, keepdims=True)
        assert np.array_equal(index.vector(f"p{batch}-7"), expected[7].astype(np.float16).astype(np.float32))
        assert index.search(expected[7], 1)[0][0] == f"p{batch}-7"
    committed = index.seq
    index.add(["p-next"], expected[:1], seq=committed + 1)  # and it goes on from there
    assert len(index) == 50 * committed + 1


def test_a_passing_set_given_as_keys_gives_the_same_answer(real, tmp_path, monkeypatch):
    """Keys come from the lexical index's fast field; the lookup is sorted, with newer rows matched directly."""
    from papersift.ids import paper_key

    ids, vectors, queries = real
    monkeypatch.setattr(hnsw, "RESORT_AFTER", 500)
    index = GraphVectorIndex(384, tmp_path / "v", model="m", graph_min=1_000)
    index.add(ids[:2_000], vectors[:2_000], seq=1)
    allowed = set(ids[:2_000:7])
    keys = np.array([paper_key(pid) for pid in allowed] + [paper_key("not-indexed")])
    assert index.search_keys(queries[1], 10, keys) == index.search(queries[1], 10, allowed=allowed)
    index.add([ids[7]], queries[1:2], seq=2)  # an upsert after the sort: found among the newer rows
    got = index.search_keys(queries[1], 10, keys)
    assert got[0][0] == ids[7] and got == index.search(queries[1], 10, allowed=allowed)
    index.delete([ids[7]], seq=3)
    assert ids[7] not in {d for d, _ in index.search_keys(queries[1], 10, keys)}
    exact = ExactVectorIndex(384)
    exact.add(ids[:2_000], vectors[:2_000])
    assert exact.search_keys(queries[1], 5, keys) == exact.search(queries[1], 5, allowed=allowed)


def test_one_writer_per_folder_others_read_the_last_commit(real, tmp_path):
    from papersift.errors import Unavailable

    ids, vectors, queries = real
    writer = GraphVectorIndex(384, tmp_path / "v", model="m")
    writer.add(ids[:100], vectors[:100], seq=4)
    writer._file.append([ids[100]], vectors[100:101])  # staged by the writer, not committed yet
    reader = GraphVectorIndex(384, tmp_path / "v", model="m")  # e.g. a CLI search beside the server
    assert not reader.writable and len(reader) == 100 and reader.seq == 4
    assert reader.search(queries[0], 3) == writer.search(queries[0], 3)
    with pytest.raises(Unavailable, match="another papersift process"):
        reader.add([ids[101]], vectors[101:102], seq=5)
    writer._file.commit(5)  # the reader did not truncate the writer's staged row
    writer.close()
    reader.close()
    assert len(GraphVectorIndex(384, tmp_path / "v", model="m")._file) == 101
