"""Vectors on disk: an append-only float32 file read through a memory map, crash-safe by a manifest.

Three files in one folder:

- ``rows.f32``: row ``i`` is ``dim`` float32 numbers; rows are only ever appended.
- ``ids.log``: one line per change, ``+id`` (the next row belongs to ``id``) or ``-id`` (forget ``id``).
- ``manifest.json``: how many rows and how many bytes of ``ids.log`` are committed, and the store change
  (``seq``) they reach. It is replaced atomically (write, fsync, rename) after both data files are fsynced.

A crash mid-write leaves bytes past the committed lengths; opening truncates them, so what survives is
exactly the last commit, and the caller catches up from ``seq``. Start-up reads no vector: the rows are
mapped, and the operating system pages in the ones a search touches.

One writer per folder: the first to open it takes an exclusive ``flock`` on ``lock`` and keeps it;
any other opener (a CLI search beside a running server) reads the last commit and cannot write, so
it can never truncate or interleave with the writer's appends. A reader (``read_only=True`` never
tries the lock: a web worker beside the machine's indexer) follows the writer with :meth:`refresh`,
which reads only what the new manifest adds. A rebuild starts a new ``generation``, so a reader
knows to start over rather than append the new file's rows to the old file's ids.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
from pathlib import Path
from typing import Iterator

import numpy as np

from papersift.errors import Unavailable

FORMAT = 1


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class VectorFile:
    """Append rows, tombstone ids, ``commit(seq)``; ``rows`` is a read-only memory map of the committed rows."""

    def __init__(self, folder: Path, dim: int, model: str, read_only: bool = False):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dim, self.model = dim, model
        self._rows_path, self._ids_path = self.folder / "rows.f32", self.folder / "ids.log"
        self._manifest_path = self.folder / "manifest.json"
        manifest = self._read_manifest()
        if manifest is None:  # new, or written for another model or dimension: start empty
            manifest = {"format": FORMAT, "dim": dim, "model": model, "rows": 0, "ids_bytes": 0, "seq": 0,
                        "generation": secrets.token_hex(8)}
        self.count, self.seq = manifest["rows"], manifest["seq"]
        self._ids_bytes = manifest["ids_bytes"]
        self.generation = manifest.get("generation")
        self._rows_out = self._ids_out = None
        self._pending = 0
        self._lock_file = open(self.folder / "lock", "a")
        self.writable = False  # a reader reads the last commit (another process, or index, writes here)
        if not read_only:
            try:
                fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.writable = True
            except BlockingIOError:
                pass
        if self.writable:
            self._truncate_to_committed()
            self._rows_out = open(self._rows_path, "ab")
            self._ids_out = open(self._ids_path, "ab")
        self.rows = self._map()

    def _read_manifest(self) -> dict | None:
        try:
            manifest = json.loads(self._manifest_path.read_text())
        except (OSError, ValueError):
            return None
        same = (manifest.get("format"), manifest.get("dim"), manifest.get("model")) == (FORMAT, self.dim, self.model)
        sizes_ok = (self._rows_path.exists() and self._ids_path.exists()
                    and self._rows_path.stat().st_size >= manifest.get("rows", 0) * self.dim * 4
                    and self._ids_path.stat().st_size >= manifest.get("ids_bytes", 0))
        return manifest if same and sizes_ok else None

    def _truncate_to_committed(self) -> None:
        # drop whatever a crash left after the last commit
        for path, size in ((self._rows_path, self.count * self.dim * 4), (self._ids_path, self._ids_bytes)):
            with open(path, "ab") as handle:
                handle.truncate(size)

    def _map(self) -> np.ndarray:
        if self.count == 0 or not self._rows_path.exists():
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.memmap(self._rows_path, dtype=np.float32, mode="r", shape=(self.count, self.dim))

    def __len__(self) -> int:
        return self.count

    def replay(self) -> Iterator[tuple[bool, str]]:
        """The committed changes in order: (True, id) for a row appended, (False, id) for a deletion."""
        yield from self._changes(0, self._ids_bytes)

    def _changes(self, start: int, end: int) -> Iterator[tuple[bool, str]]:
        if end <= start:
            return
        with open(self._ids_path, "rb") as handle:
            handle.seek(start)
            data = handle.read(end - start)
        for line in data.decode("utf-8").splitlines():
            yield line[0] == "+", line[1:]

    def refresh(self) -> list[tuple[bool, str]] | None:
        """A reader catches up with the writer's last commit: the changes it adds (``[]`` for none),
        or None when the folder was rebuilt or replaced (start over from :meth:`replay`)."""
        if self.writable:
            return []
        manifest = self._read_manifest()
        if manifest is None or manifest.get("generation") != self.generation:
            return None
        rows, ids_bytes = manifest["rows"], manifest["ids_bytes"]
        if rows < self.count or ids_bytes < self._ids_bytes:
            return None
        if ids_bytes == self._ids_bytes and rows == self.count:
            self.seq = manifest["seq"]
            return []
        changes = list(self._changes(self._ids_bytes, ids_bytes))
        self.count, self._ids_bytes, self.seq = rows, ids_bytes, manifest["seq"]
        self.rows = self._map()
        return changes

    def reopen(self) -> None:
        """A reader starts over from the current manifest (after :meth:`refresh` returned None)."""
        manifest = self._read_manifest() or {"rows": 0, "ids_bytes": 0, "seq": 0, "generation": None}
        self.count, self._ids_bytes, self.seq = manifest["rows"], manifest["ids_bytes"], manifest["seq"]
        self.generation = manifest.get("generation")
        self.rows = self._map()

    def append(self, ids: list[str], vectors: np.ndarray) -> None:
        """Stage rows for these ids (visible after :meth:`commit`)."""
        self._check_writable()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        self._rows_out.write(vectors.tobytes())
        self._write_ids("+", ids)
        self._pending += len(ids)

    def tombstone(self, ids: list[str]) -> None:
        self._write_ids("-", ids)

    def _write_ids(self, sign: str, ids: list[str]) -> None:
        self._check_writable()
        for pid in ids:
            if not pid or "\n" in pid or "\r" in pid:
                raise ValueError(f"paper id cannot be stored in the vector log: {pid!r}")
        data = "".join(f"{sign}{pid}\n" for pid in ids).encode("utf-8")
        self._ids_out.write(data)
        self._ids_bytes += len(data)

    def _check_writable(self) -> None:
        if not self.writable:
            raise Unavailable(f"another papersift process is updating the vector index in {self.folder}; "
                              "stop it (or wait for it) to index from here")

    def commit(self, seq: int | None = None) -> None:
        """Make staged rows and deletions durable, then publish them with the new manifest."""
        self._check_writable()
        for handle in (self._rows_out, self._ids_out):
            handle.flush()
            os.fsync(handle.fileno())
        self.count += self._pending
        self._pending = 0
        if seq is not None:
            self.seq = seq
        manifest = {"format": FORMAT, "dim": self.dim, "model": self.model, "rows": self.count,
                    "ids_bytes": self._ids_bytes, "seq": self.seq, "generation": self.generation}
        tmp = self._manifest_path.with_suffix(".tmp")
        with open(tmp, "w") as handle:
            handle.write(json.dumps(manifest))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self._manifest_path)
        _fsync_dir(self.folder)
        self.rows = self._map()

    def close(self) -> None:
        for handle in (self._rows_out, self._ids_out):
            if handle is not None:
                handle.close()
        self._lock_file.close()  # releases the writer's lock
