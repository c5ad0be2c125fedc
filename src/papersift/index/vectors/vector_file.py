"""Vectors on disk: an append-only float16 file read with ``pread``, crash-safe by a manifest.

Three files in one folder:

- ``rows.f16``: row ``i`` is ``dim`` float16 numbers; rows are only ever appended. Float16 keeps
  every cosine within ~1e-3 of float32 (the shared benchmark vectors are float16 to begin with) and
  halves the file: 0.74 GB at 1M x 384.
- ``ids.log``: one line per change, ``+id`` (the next row belongs to ``id``) or ``-id`` (forget ``id``).
- ``manifest.json``: how many rows and how many bytes of ``ids.log`` are committed, and the store change
  (``seq``) they reach. It is replaced atomically (write, fsync, rename) after both data files are fsynced.

A crash mid-write leaves bytes past the committed lengths; opening truncates them, so what survives is
exactly the last commit, and the caller catches up from ``seq``. Start-up reads no vector.

Why ``pread`` and not a memory map: the kernel maps 64 KB of cached pages around every fault
(fault-around), so a map of rows read ~800 at a time soon counts the whole file in the process's
RSS (1.47 GB of 3.03 GB at 1M, docs/BENCHMARKS.md); read with ``pread`` the rows stay in the page
cache only, shared and reclaimable. Scattered rows cost one ``pread`` each, called through ctypes'
``PyDLL``, which keeps the GIL: ``os.pread`` releases it on every call, and beside a busy thread the
~800 calls of a search then waited for it again and again (bench/rows_rss.py, 1M rows: a search
took a median 624 ms that way against 15 ms, as from a map; alone 1.7 ms against 0.6 ms from a
map). Reads from the page cache take microseconds; a cold one holds the GIL as a map's page fault did.
A run of consecutive rows (the tail, a block of a scan) is one read, and a long one (>= 64 KB) goes
through ``os.preadv``: one GIL release is harmless, and other threads run while it waits for the disk.

One writer per folder: the first to open it takes an exclusive ``flock`` on ``lock`` and keeps it;
any other opener (a CLI search beside a running server) reads the last commit and cannot write, so
it can never truncate or interleave with the writer's appends. A reader (``read_only=True`` never
tries the lock: a web worker beside the machine's indexer) follows the writer with :meth:`refresh`,
which reads only what the new manifest adds. A rebuild starts a new ``generation``, so a reader
knows to start over rather than append the new file's rows to the old file's ids. The writer turns
a folder of the first format (float32 ``rows.f32``) into this one when it opens it.
"""

from __future__ import annotations

import ctypes
import fcntl
import json
import logging
import os
import secrets
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Callable, Iterator

import numpy as np

from papersift.errors import DiskFull, Unavailable, as_disk_full

FORMAT = 2  # 1: float32 rows in rows.f32
ROW_TYPE = np.float16
READ_BLOCK = 16_384  # rows per read when a range is scanned (24 MB of float32 at 384 dimensions)
LONG_READ = 65_536  # bytes from which one read drops the GIL while it runs
ROOM = "the index catches up once there is room"  # what a DiskFull here adds: the store keeps every paper
log = logging.getLogger(__name__)

_pread = ctypes.PyDLL(None, use_errno=True).pread  # PyDLL: the call keeps the GIL (see above)
_pread.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int64]
_pread.restype = ctypes.c_ssize_t


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class VectorFile:
    """Append rows, tombstone ids, ``commit(seq)``; read committed rows with :meth:`take` and :meth:`between`."""

    _all: np.ndarray  # the committed rows kept in RAM (all_rows), set by forget_all_rows

    def __init__(self, folder: Path, dim: int, model: str, read_only: bool = False):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.dim, self.model = dim, model
        self._row_bytes = dim * np.dtype(ROW_TYPE).itemsize
        self._rows_path, self._ids_path = self.folder / "rows.f16", self.folder / "ids.log"
        self._manifest_path = self.folder / "manifest.json"
        self._lock_file = open(self.folder / "lock", "a")
        self.writable = False  # a reader reads the last commit (another process, or index, writes here)
        if not read_only:
            try:
                fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self.writable = True
            except BlockingIOError:
                pass
        if self.writable:
            _upgrade_float32(self)
        manifest = self._read_manifest()
        if manifest is None:  # new, or written for another model or dimension: start empty
            manifest = {"format": FORMAT, "dim": dim, "model": model, "rows": 0, "ids_bytes": 0, "seq": 0,
                        "generation": secrets.token_hex(8)}
        self.count, self.seq = manifest["rows"], manifest["seq"]
        self._ids_bytes = manifest["ids_bytes"]
        self.generation = manifest.get("generation")
        self._rows_out: IO[bytes] | None = None
        self._ids_out: IO[bytes] | None = None
        self._pending = 0
        if self.writable:
            self._truncate_to_committed()
            self._rows_out = open(self._rows_path, "ab")
            self._ids_out = open(self._ids_path, "ab")
        self._fd = -1
        self._open_reader()

    def _read_manifest(self) -> dict | None:
        try:
            manifest = json.loads(self._manifest_path.read_text())
        except (OSError, ValueError):
            return None
        same = (manifest.get("format"), manifest.get("dim"), manifest.get("model")) == (FORMAT, self.dim, self.model)
        sizes_ok = (self._rows_path.exists() and self._ids_path.exists()
                    and self._rows_path.stat().st_size >= manifest.get("rows", 0) * self._row_bytes
                    and self._ids_path.stat().st_size >= manifest.get("ids_bytes", 0))
        return manifest if same and sizes_ok else None

    def _truncate_to_committed(self) -> None:
        # drop whatever a crash left after the last commit
        for path, size in ((self._rows_path, self.count * self._row_bytes), (self._ids_path, self._ids_bytes)):
            with open(path, "ab") as handle:
                handle.truncate(size)

    def _open_reader(self) -> None:
        # one descriptor for every read, reopened when the folder was rebuilt (a new file)
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = os.open(self._rows_path, os.O_RDONLY) if self._rows_path.exists() else -1
        self.forget_all_rows()  # rows of the file it had open

    def __len__(self) -> int:
        return self.count

    # ---- reads
    def take(self, rows: np.ndarray) -> np.ndarray:
        """float32 [len(rows), dim]: these committed rows (sorted rows read the file in order)."""
        rows = np.asarray(rows, dtype=np.int64)
        if not len(rows):
            return np.zeros((0, self.dim), dtype=np.float32)
        if rows.min() < 0 or rows.max() >= self.count:
            raise IndexError(f"rows out of range 0..{self.count}")
        # a run of consecutive rows (the tail, a block) is one read; scattered rows one read each
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1
        starts, ends = np.concatenate([[0], breaks]), np.concatenate([breaks, [len(rows)]])
        size, fd, out = self._row_bytes, self._fd, np.empty((len(rows), self.dim), dtype=ROW_TYPE)
        # numpy's stubs give ndarray the buffer protocol (__buffer__) only for Python 3.12 and later
        base, view = out.ctypes.data, memoryview(out.reshape(-1).view(np.uint8))  # type: ignore[arg-type]
        for at, want, offset in zip((starts * size).tolist(), ((ends - starts) * size).tolist(),
                                    (rows[starts] * size).tolist(), strict=True):
            # a long run is one call that may wait for the disk: os.preadv lets other threads run meanwhile
            got = os.preadv(fd, [view[at: at + want]], offset) if want >= LONG_READ else _pread(fd, base + at, want, offset)
            if got != want:
                raise OSError(ctypes.get_errno(), f"short read of {self._rows_path} (shorter than its manifest)")
        return out.astype(np.float32)

    def between(self, start: int, stop: int) -> np.ndarray:
        """float32 rows ``start..stop`` (committed ones)."""
        stop = min(stop, self.count)
        return self.take(np.arange(start, stop)) if stop > start else np.zeros((0, self.dim), np.float32)

    def all_rows(self) -> np.ndarray:
        """float32 [count, dim]: every committed row, kept in RAM and grown as rows commit; for a small
        folder's exact scan (reading and widening the float16 rows on every scan took 18 ms at 19K rows,
        the kept copy 0.8 ms: bench/exact_scan.py). :meth:`forget_all_rows` frees it once a graph takes over."""
        if len(self._all) < self.count:
            self._all = np.concatenate([self._all, self.between(len(self._all), self.count)])
        return self._all[: self.count]

    def forget_all_rows(self) -> None:
        self._all = np.zeros((0, self.dim), dtype=np.float32)

    def blocks(self, step: int = 1) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, float32 rows) over every ``step``-th committed row, a block at a time."""
        for start in range(0, self.count, READ_BLOCK * step):
            yield start, self.take(np.arange(start, min(self.count, start + READ_BLOCK * step), step))

    # ---- the log
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
        if self._fd < 0:
            self._open_reader()
        return changes

    def reopen(self) -> None:
        """A reader starts over from the current manifest (after :meth:`refresh` returned None)."""
        manifest = self._read_manifest() or {"rows": 0, "ids_bytes": 0, "seq": 0, "generation": None}
        self.count, self._ids_bytes, self.seq = manifest["rows"], manifest["ids_bytes"], manifest["seq"]
        self.generation = manifest.get("generation")
        self._open_reader()

    # ---- writes
    def append(self, ids: list[str], vectors: np.ndarray) -> None:
        """Stage rows for these ids (visible after :meth:`commit`)."""
        rows_out, _ = self._outputs()
        vectors = np.asarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        with self._or_roll_back():
            rows_out.write(np.ascontiguousarray(vectors, dtype=ROW_TYPE).tobytes())
            self._write_ids("+", ids)
        self._pending += len(ids)

    def tombstone(self, ids: list[str]) -> None:
        with self._or_roll_back():
            self._write_ids("-", ids)

    def _write_ids(self, sign: str, ids: list[str]) -> None:
        _, ids_out = self._outputs()
        for pid in ids:
            if not pid or "\n" in pid or "\r" in pid:
                raise ValueError(f"paper id cannot be stored in the vector log: {pid!r}")
        data = "".join(f"{sign}{pid}\n" for pid in ids).encode("utf-8")
        ids_out.write(data)
        self._ids_bytes += len(data)

    def _check_writable(self) -> None:
        if not self.writable:
            raise Unavailable(f"another papersift process is updating the vector index in {self.folder}; "
                              "stop it (or wait for it) to index from here")

    def _outputs(self) -> tuple[IO[bytes], IO[bytes]]:
        """(rows, ids): the files a writer appends to, open whenever it is writable."""
        self._check_writable()
        if self._rows_out is None or self._ids_out is None:
            raise Unavailable(f"the vector index in {self.folder} is not open for writing")
        return self._rows_out, self._ids_out

    def commit(self, seq: int | None = None) -> None:
        """Make staged rows and deletions durable, then publish them with the new manifest."""
        outputs = self._outputs()
        with self._or_roll_back():
            for handle in outputs:
                handle.flush()
                os.fsync(handle.fileno())
            _write_manifest(self._manifest_path, {"format": FORMAT, "dim": self.dim, "model": self.model,
                                                  "rows": self.count + self._pending, "ids_bytes": self._ids_bytes,
                                                  "seq": self.seq if seq is None else seq,
                                                  "generation": self.generation})
        self.count += self._pending
        self._pending = 0
        if seq is not None:
            self.seq = seq
        if self._fd < 0:
            self._open_reader()

    @contextmanager
    def _or_roll_back(self):
        """A write that fails (a full disk) takes back everything staged since the last commit: the
        files are cut back to the committed lengths, and the next append starts from there."""
        try:
            yield
        except (OSError, DiskFull) as exc:  # DiskFull: the manifest's write_atomically has named it already
            for handle in (self._rows_out, self._ids_out):
                try:
                    if handle is not None:
                        handle.close()  # what is still buffered fails to flush again, and is dropped
                except OSError:
                    pass
            manifest = self._read_manifest() or {"rows": 0, "ids_bytes": 0, "seq": 0}
            self.count, self._ids_bytes, self.seq = manifest["rows"], manifest["ids_bytes"], manifest["seq"]
            self._pending = 0
            self._truncate_to_committed()
            self._rows_out, self._ids_out = open(self._rows_path, "ab"), open(self._ids_path, "ab")
            raise as_disk_full(exc, self.folder, ROOM) from None

    def close(self) -> None:
        for handle in (self._rows_out, self._ids_out):
            if handle is not None:
                handle.close()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
        self._lock_file.close()  # releases the writer's lock


def writer_lock_held(folder: Path) -> bool:
    """Whether another open VectorFile (this process's or another's) holds ``folder``'s writer lock.
    A caller that would only fail later can say so before loading anything. The probe takes the
    lock for a moment when it is free and lets it go at once."""
    try:
        handle = open(Path(folder) / "lock", "r")  # no such file: nobody ever wrote this folder
    except OSError:
        return False  # opening the index says what is wrong with the folder
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
    return False  # closing the file let the lock go


def write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)`` beside ``path``, made durable, then renamed over it: a crash keeps the old file,
    and a write that fails (a full disk) leaves no partial file behind taking up the room."""
    tmp = path.with_suffix(".tmp")
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except (OSError, RuntimeError) as exc:  # faiss reports a failed write as RuntimeError
        tmp.unlink(missing_ok=True)
        raise as_disk_full(exc, path.parent, ROOM) from None
    _fsync_dir(path.parent)


def _write_manifest(path: Path, manifest: dict) -> None:
    write_atomically(path, lambda tmp: tmp.write_text(json.dumps(manifest)))


def _upgrade_float32(vf: VectorFile) -> None:
    """Turn a folder of format 1 (float32 ``rows.f32``) into float16 ``rows.f16``, keeping its ids, seq and
    saved graph (same rows in the same order), so an upgrade re-reads nothing from the store. Each step
    is atomic; a crash part-way leaves the old manifest, and the next open converts again."""
    old_rows = vf.folder / "rows.f32"
    try:
        manifest = json.loads(vf._manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    if manifest.get("format") != 1 or not old_rows.exists():
        if manifest.get("format") == FORMAT and old_rows.exists():
            old_rows.unlink()  # a conversion that stopped after publishing its manifest
        return
    rows = manifest.get("rows", 0)
    if (manifest.get("dim"), manifest.get("model")) != (vf.dim, vf.model) or old_rows.stat().st_size < rows * vf.dim * 4:
        return  # another model, or torn: the caller starts empty and rebuilds
    log.info("converting %s rows of %s to float16", f"{rows:,}", vf.folder)
    floats = (np.memmap(old_rows, dtype=np.float32, mode="r", shape=(rows, vf.dim)) if rows
              else np.zeros((0, vf.dim), dtype=np.float32))  # a memmap cannot map no rows
    tmp = vf._rows_path.with_suffix(".tmp")
    with open(tmp, "wb") as out:
        for start in range(0, rows, READ_BLOCK):
            out.write(np.ascontiguousarray(floats[start: start + READ_BLOCK], dtype=ROW_TYPE).tobytes())
        out.flush()
        os.fsync(out.fileno())
    del floats
    os.replace(tmp, vf._rows_path)
    _write_manifest(vf._manifest_path, {**manifest, "format": FORMAT})
    old_rows.unlink()
