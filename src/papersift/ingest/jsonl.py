"""Reading JSON-lines files, and the field normalisation every ingest parser shares.

`read_jsonl` never stops at a bad line: it yields ``(line_number, BadInput)`` so the caller can
report "line N: message" and carry on, and it exposes byte counts so a progress bar can be driven
by position in the file (for ``.gz`` the position in the compressed file, which is what the
size on disk means to a user).

The helpers below (`clean_text`, `utc_timestamp`, `count`...) turn one raw field into the value
a :class:`~papersift.model.Paper` holds, or raise :class:`BadInput` naming the field: parsers
build on them so that no KeyError/TypeError/ValueError ever escapes a parser.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from papersift.errors import BadInput
from papersift.ids import parse_arxiv_id
from papersift.model import Paper

MAX_LINE_BYTES = 16 * 1024 * 1024  # a single record bigger than this is garbage, not a paper
# Field limits, far above anything real (the archives' longest: title 226 characters, abstract 3,488,
# author name 512): a value beyond them is a broken or hostile record that would bloat every page.
MAX_TITLE_CHARS = 1000
MAX_TEXT_CHARS = 100_000  # abstract, comment, AI summary
MAX_NAME_CHARS = 1000  # one author, an organisation
MAX_REF_CHARS = 2048  # identifiers and URLs (a GitHub repo, a project page)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Parse = Callable[[Any], Paper]


# ---------------------------------------------------------------- field helpers
def field(obj: dict, name: str, required: bool = False) -> Any:
    """``obj[name]`` or None; a missing/None required field is a BadInput, not a KeyError."""
    value = obj.get(name)
    if required and (value is None or value == ""):
        raise BadInput(f"missing field {name!r}")
    return value


def require_object(obj: Any, what: str = "record") -> dict:
    if not isinstance(obj, dict):
        raise BadInput(f"{what} must be a JSON object, got {type(obj).__name__}")
    return obj


def paper_id(raw: Any, name: str) -> tuple[str, int | None]:
    """``(canonical arXiv id, version)`` from field ``name``; the message names the field."""
    if raw is None or raw == "":
        raise BadInput(f"missing field {name!r}")
    try:
        return parse_arxiv_id(raw)
    except BadInput as exc:
        raise BadInput(f"{name}: {exc.message}") from None


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a string, got {type(value).__name__}")
    if "\x00" in value:  # SQLite, tantivy and browsers each treat NUL differently: refuse it
        raise BadInput(f"{name} contains a NUL character")
    return value


def opt_str(value: Any, name: str, max_chars: int = MAX_REF_CHARS) -> str | None:
    """Identifiers and URLs: stripped but not collapsed; '' -> None."""
    if value is None:
        return None
    return _limit(_string(value, name).strip(), name, max_chars) or None


def clean_text(value: Any, name: str, max_chars: int | None = None) -> str | None:
    """Collapse all whitespace runs to one space (arXiv hard-wraps at ~80 columns); '' -> None."""
    if value is None:
        return None
    text = " ".join(_string(value, name).split())
    return _limit(text, name, max_chars) or None


def title_text(value: Any, name: str) -> str:
    """A paper's title: required (a paper without one cannot be listed), at most MAX_TITLE_CHARS."""
    text = clean_text(value, name, MAX_TITLE_CHARS)
    if text is None:
        raise BadInput(f"missing field {name!r}")
    return text


def _limit(text: str, name: str, max_chars: int | None) -> str:
    if max_chars is not None and len(text) > max_chars:
        raise BadInput(f"{name} is too long ({len(text)} characters, at most {max_chars})")
    return text


def text_list(value: Any, name: str, max_chars: int = MAX_NAME_CHARS) -> list[str]:
    """A list of strings (authors, categories), each cleaned; empty entries dropped."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadInput(f"{name} must be a list, got {type(value).__name__}")
    out = []
    for i, item in enumerate(value):
        text = clean_text(item, f"{name}[{i}]", max_chars)
        if text:
            out.append(text)
    return out


def count(value: Any, name: str) -> int | None:
    """A non-negative integer count; bools and floats are refused (True is not 1 vote)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{name} must be a non-negative integer, got {value!r:.40}")
    if value < 0:
        raise BadInput(f"{name} must be a non-negative integer, got {value}")
    return value


def utc_timestamp(value: Any, name: str, required: bool = False) -> str | None:
    """Any ISO 8601 date or time -> ``YYYY-MM-DDTHH:MM:SSZ`` in UTC.

    A bare date means midnight UTC; a time without offset is taken as UTC (arXiv and HF both
    publish UTC). The fixed format matters: the merge compares these strings to order sources.
    """
    if value is None or value == "":
        if required:
            raise BadInput(f"missing field {name!r}")
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if _DAY.match(text):
                moment = datetime.strptime(text, "%Y-%m-%d")
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            raise BadInput(f"{name} is not an ISO 8601 date/time: {text[:60]!r}") from None
    else:
        raise BadInput(f"{name} must be an ISO 8601 string, got {type(value).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError):
        raise BadInput(f"{name} is out of range: {value!r:.60}") from None


def iso_day(value: Any, name: str, required: bool = True) -> str | None:
    """A calendar day ``YYYY-MM-DD`` (feed days, listing days), checked to be a real date."""
    if value is None or value == "":
        if required:
            raise BadInput(f"missing field {name!r}")
        return None
    if not isinstance(value, str) or not _DAY.match(value.strip()):
        raise BadInput(f"{name} must be a date YYYY-MM-DD, got {value!r:.40}")
    try:
        datetime.strptime(value.strip(), "%Y-%m-%d")
    except ValueError:
        raise BadInput(f"{name} is not a real date: {value!r}") from None
    return value.strip()


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
        self._raw = None
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

    def _generate(self) -> Iterator[tuple[int, Paper | BadInput]]:
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
