"""The vector row file: float16 rows read with pread (never mapped), and the upgrade from float32 rows.

Real files in a temporary folder; vectors are random unit rows (the file stores numbers, not meaning).
"""

from __future__ import annotations

import json
import logging
import shutil

import numpy as np
import pytest

from papersift.index.vectors import vector_file
from papersift.index.vectors.hnsw import GraphVectorIndex
from papersift.index.vectors.vector_file import VectorFile
from papersift.model import Paper
from papersift.service import Papersift

DIM = 16


def unit_rows(n: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def as_stored(rows: np.ndarray) -> np.ndarray:
    return rows.astype(np.float16).astype(np.float32)


def test_take_reads_scattered_rows_and_runs_in_any_mix(tmp_path):
    vf = VectorFile(tmp_path, DIM, "m")
    rows = unit_rows(300)
    vf.append([f"p{i}" for i in range(300)], rows)
    vf.commit(1)
    wanted = np.array([0, 1, 2, 7, 100, 101, 299])  # two runs, two single rows, the last row
    assert np.array_equal(vf.take(wanted), as_stored(rows[wanted]))
    assert np.array_equal(vf.take(np.array([5, 3])), as_stored(rows[[5, 3]]))  # unsorted is fine too
    assert vf.take(np.array([], dtype=np.int64)).shape == (0, DIM)
    assert np.array_equal(vf.between(290, 400), as_stored(rows[290:]))  # clipped to what is committed
    sample = np.concatenate([block for _, block in vf.blocks(7)])
    assert np.array_equal(sample, as_stored(rows[::7]))
    for bad in ([300], [-1]):
        with pytest.raises(IndexError):
            vf.take(np.array(bad))
    more = unit_rows(5_000, seed=2)  # runs past LONG_READ bytes take the other read path
    vf.append([f"q{i}" for i in range(5_000)], more)
    vf.commit(2)
    assert 4_000 * DIM * 2 >= vector_file.LONG_READ
    assert np.array_equal(vf.between(300, 5_300), as_stored(more))
    assert np.array_equal(vf.take(np.r_[3, 400:4_400, 5_299]), as_stored(np.vstack([rows[3:4], more[100:4_100], more[-1:]])))


def test_staged_rows_are_not_readable_before_commit(tmp_path):
    vf = VectorFile(tmp_path, DIM, "m")
    vf.append(["a"], unit_rows(1))
    with pytest.raises(IndexError):
        vf.take(np.array([0]))
    vf.commit(1)
    assert vf.take(np.array([0])).shape == (1, DIM)


def mapped_files() -> set[str]:
    with open("/proc/self/maps") as handle:
        return {line.split(None, 5)[5].strip() for line in handle if len(line.split(None, 5)) == 6}


def test_searching_never_maps_the_rows_into_the_process(tmp_path):
    """A map would count the whole row file in the server's RSS (fault-around, docs/BENCHMARKS.md)."""
    index = GraphVectorIndex(DIM, tmp_path / "v", model="m", graph_min=500)
    rows = unit_rows(3_000)
    index.add([f"p{i}" for i in range(3_000)], rows, seq=1)
    for query in unit_rows(20, seed=1):
        assert len(index.search(query, 10)) == 10
        assert len(index.search(query, 10, allowed={f"p{i}" for i in range(0, 3_000, 3)})) == 10
    assert index.vector("p5") is not None
    assert str(tmp_path / "v" / "rows.f16") not in mapped_files()
    assert (tmp_path / "v" / "rows.f16").stat().st_size == 3_000 * DIM * 2


def write_float32_folder(folder, ids: list[str], rows: np.ndarray, seq: int, graph_from=None) -> None:
    """A vector folder as papersift wrote it before float16 rows (format 1), with the graph of
    ``graph_from`` (a folder that indexed the same rows) when given."""
    folder.mkdir(parents=True)
    if graph_from is not None:
        shutil.copy(graph_from / "graph.faiss", folder / "graph.faiss")
    (folder / "rows.f32").write_bytes(rows.astype(np.float32).tobytes() + b"\x07\x07")  # and a torn tail
    log = "".join(f"+{pid}\n" for pid in ids).encode()
    (folder / "ids.log").write_bytes(log)
    manifest = {"format": 1, "dim": DIM, "model": "m", "rows": len(ids), "ids_bytes": len(log), "seq": seq,
                "generation": "0123456789abcdef"}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_a_float32_folder_is_converted_in_place_keeping_ids_seq_and_graph(tmp_path):
    folder = tmp_path / "v"
    ids, rows = [f"p{i}" for i in range(2_000)], unit_rows(2_000)
    built = GraphVectorIndex(DIM, tmp_path / "built", model="m", graph_min=500)
    built.add(ids, rows, seq=42)
    built.catch_up_graph(force=True)
    built.close()
    write_float32_folder(folder, ids, rows, seq=42, graph_from=tmp_path / "built")
    graph_written = (folder / "graph.faiss").stat().st_mtime_ns
    reader = GraphVectorIndex(DIM, folder, model="m", graph_min=500, read_only=True)
    assert len(reader) == 0 and (folder / "rows.f32").exists()  # a reader never rewrites the folder
    reader.close()
    index = GraphVectorIndex(DIM, folder, model="m", graph_min=500)
    assert len(index) == 2_000 and index.seq == 42 and not (folder / "rows.f32").exists()
    assert index._graph is not None and index._graph.ntotal == 2_000  # the saved graph still fits the rows
    assert (folder / "graph.faiss").stat().st_mtime_ns == graph_written
    assert np.array_equal(index.vector("p7"), as_stored(rows[7]))
    assert index.search(rows[7], 1)[0][0] == "p7"
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["format"] == 2 and manifest["generation"] == "0123456789abcdef"
    index.close()
    again = GraphVectorIndex(DIM, folder, model="m", graph_min=500)
    assert len(again) == 2_000 and again.seq == 42 and again._graph.ntotal == 2_000


def test_a_float32_folder_of_another_model_is_left_for_a_rebuild(tmp_path):
    folder = tmp_path / "v"
    write_float32_folder(folder, ["a", "b"], unit_rows(2), seq=3)
    index = GraphVectorIndex(DIM, folder, model="another", graph_min=500)
    assert len(index) == 0 and index.seq == 0


def test_an_index_made_from_another_database_is_rebuilt_with_a_warning(tmp_path, caplog):
    """Pointing a database at an index folder made from another one must not mix their papers, and
    must say why the vectors are rebuilt (it used to happen silently)."""
    index_dir = tmp_path / "index"
    first = Papersift(tmp_path / "first.db", index_dir=index_dir)
    first.store.upsert_papers([Paper(id=f"2501.0000{i}", title=f"Burrows of kind {i}",
                                     abstract="Digging tunnels in soil.", source="arxiv-jsonl",
                                     observed_at="2025-01-02T00:00:00Z") for i in range(3)])
    first.index()
    assert len(first.indexes.vectors) == 3
    first.close()
    with caplog.at_level(logging.WARNING, logger="papersift.index.indexes"):
        other = Papersift(tmp_path / "other.db", index_dir=index_dir)  # an empty database
        assert len(other.indexes.vectors) == 0
    other.close()
    assert "made from another database" in caplog.text and str(index_dir / "vectors") in caplog.text


def test_the_exact_scan_keeps_up_with_new_rows_and_lets_go_once_a_graph_exists(tmp_path):
    """Below graph_min every search scans all rows from a float32 copy in RAM; rows committed later must
    be in the next scan, and the copy is freed when the graph takes over."""
    index = GraphVectorIndex(DIM, tmp_path / "v", model="m", graph_min=1_000)
    rows = unit_rows(1_200, seed=3)
    index.add([f"p{i}" for i in range(600)], rows[:600], seq=1)
    assert index.search(rows[5], 1)[0][0] == "p5" and len(index._file._all) == 600
    index.add([f"p{i}" for i in range(600, 900)], rows[600:900], seq=2)
    assert index.search(rows[850], 1)[0][0] == "p850"  # grown, not stale
    index.add(["p5"], rows[1_000:1_001], seq=3)  # p5 gets a new vector: its old row no longer answers
    assert index.search(rows[5], 1)[0][0] != "p5" and index.search(rows[1_000], 1)[0][0] == "p5"
    index.add([f"p{i}" for i in range(900, 1_100)], rows[900:1_100], seq=4)  # past graph_min: a graph
    assert index._graph is not None and len(index._file._all) == 0
    assert index.search(rows[1_050], 1)[0][0] == "p1050"


@pytest.mark.parametrize("damage", ["short rows", "manifest not json"])
def test_a_damaged_float32_folder_starts_empty_instead_of_failing(tmp_path, damage):
    folder = tmp_path / "v"
    write_float32_folder(folder, ["a", "b", "c"], unit_rows(3), seq=9)
    if damage == "short rows":
        (folder / "rows.f32").write_bytes((folder / "rows.f32").read_bytes()[: 2 * DIM * 4])  # 2 of 3 rows
    else:
        (folder / "manifest.json").write_text("{not json")
    index = GraphVectorIndex(DIM, folder, model="m", graph_min=500)
    assert len(index) == 0 and index.seq == 0  # the caller rebuilds it from the store
    index.add(["a"], unit_rows(1), seq=10)
    assert index.search(unit_rows(1)[0], 1)[0][0] == "a"
