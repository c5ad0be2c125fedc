"""Reading JSON-lines files.

`read_jsonl` never stops at a bad line: it yields ``(line_number, BadInput)`` so the caller can
report "line N: message" and carry on, and it exposes byte counts so a progress bar can be driven
by position in the file (for ``.gz`` the position in the compressed file, which is what the
size on disk means to a user). Turning one field into a Paper's value is ``ingest/fields.py``.
"""

from __future__ import annotations

import gzip
import json
import zlib
from pathlib import Path
from typing import IO, Any, Callable, Generator

from papersift.errors import BadInput
from papersift.model import Paper

MAX_LINE_BYTES = 16 * 1024 * 1024  # a single record bigger than this is garbage, not a paper

Parse = Callable[[Any], Paper]


# ---------------------------------------------------------------- reading files
class JsonlReader:
    """Iterator of ``(line_number, Paper | BadInput)`` over a .jsonl or .jsonl.gz file.

    ``total_bytes`` is the file size on disk and ``bytes_read`` the position in it (compressed
    bytes for gzip, read through the underlying file), so ``bytes_read / total_bytes`` is honest
    progress for both. The file is opened on first ``next()`` and closed at the end.
    """

    def __init__(self, path: str | Path, parse: Parse):
        self.path = Path(path)
        self.parse = parse
        try:
            self.total_bytes = self.path.stat().st_size
        except OSError as exc:
            raise BadInput(f"cannot read {self.path}: {exc.strerror or exc}") from None
        self._raw: IO[bytes] | None = None
        self._done = False
        self._rows = self._generate()

    @property
    def bytes_read(self) -> int:
        if self._done:
            return self.total_bytes
        if self._raw is None or self._raw.closed:
            return 0
        return self._raw.tell()

    def __iter__(self) -> "JsonlReader":
        return self

    def __next__(self) -> tuple[int, Paper | BadInput]:
        return next(self._rows)

    def close(self) -> None:
        self._rows.close()

    def _generate(self) -> Generator[tuple[int, Paper | BadInput], None, None]:
        with open(self.path, "rb") as raw:
            self._raw = raw
            gzipped = raw.read(2) == b"\x1f\x8b"  # sniff: a mis-named file still reads right
            raw.seek(0)
            stream = gzip.GzipFile(fileobj=raw, mode="rb") if gzipped else raw
            number = 0
            while True:
                number += 1
                try:
                    line, too_long = _read_line(stream)
                except (OSError, EOFError, zlib.error) as exc:
                    # nothing after this point can be trusted: stop, and say where
                    yield number, Unreadable(f"the file is truncated or corrupt ({exc})")
                    break
                if too_long:
                    yield number, BadInput(f"line longer than {MAX_LINE_BYTES} bytes")
                    continue
                if not line:
                    break
                if number == 1 and line.startswith(b"\xef\xbb\xbf"):
                    line = line[3:]
                if not line.strip():
                    continue  # blank lines (trailing newline, editors) are not records
                yield number, _parse_line(line, self.parse)
        self._done = True


class Unreadable(BadInput):
    """The file itself cannot be read on from here (corrupt or truncated): not one bad record
    but the end of the input. Ingest stops, keeps what it stored, and reports the line."""


def _read_line(stream) -> tuple[bytes, bool]:
    """The next line, and whether it was longer than MAX_LINE_BYTES (then its bytes are skipped
    and b"" returned). Every read is here, so a decompression error anywhere in a line, even in
    the middle of a monster line, reaches the caller's one handler."""
    line = stream.readline(MAX_LINE_BYTES + 1)
    if len(line) <= MAX_LINE_BYTES or line.endswith(b"\n"):
        return line, False
    while line and not line.endswith(b"\n"):  # skip the rest of the monster line
        line = stream.readline(MAX_LINE_BYTES)
    return b"", True


def _parse_line(line: bytes, parse: Parse) -> Paper | BadInput:
    try:
        obj = json.loads(line.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return BadInput(f"not UTF-8 at byte {exc.start}")
    except json.JSONDecodeError as exc:
        return BadInput(f"invalid JSON: {exc.msg} at column {exc.colno}")
    try:
        return parse(obj)
    except BadInput as exc:
        return exc
    except (KeyError, TypeError, ValueError, AttributeError) as exc:  # a parser bug: still one bad line
        return BadInput(f"unreadable record ({type(exc).__name__}: {exc})")


def read_jsonl(path: str | Path, parse: Parse) -> JsonlReader:
    """Parse every line of ``path`` with ``parse``; see :class:`JsonlReader`."""
    return JsonlReader(path, parse)
