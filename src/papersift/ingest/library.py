"""Reading a reader's library file (BibTeX, RIS, CSL-JSON or a plain list) into arXiv ids.

The cold start: the arXiv papers of an exported Zotero/Mendeley library become a
reader's positives. A library is mostly not arXiv papers and often slightly broken, so nothing
here fails on one bad entry: an entry without an arXiv id, or a block that cannot be parsed, is a
``(line, message)`` problem and the rest is still imported. Only a file that is not a library at
all (too large, not text, empty) is a :class:`BadInput`.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Iterable

import bibtexparser
import rispy
from bibtexparser.model import Entry

from papersift.errors import BadInput
from papersift.ids import parse_arxiv_id

MAX_BYTES = 5 * 1024 * 1024  # a 10,000-paper Zotero export is ~10 MB with abstracts; few readers have more
MAX_ENTRIES = 10_000
MAX_PROBLEMS = 100  # a garbage file would otherwise produce one message per line

# An id after a marker that says "this is arXiv": URLs (arXiv, Hugging Face papers), the arXiv DOI,
# "arXiv:" and Google Scholar's "arXiv preprint hep-th/9901001". Every repeat is bounded, so a try at
# one position reads a few dozen characters at most and a whole value is read in linear time: an
# unbounded "[a-z]+" ran to the end of "arxivarxiv..." from every "arxiv" in it, quadratic in the
# value (60 KB took a minute, holding the GIL). Archive names are at most 8 letters ("solv-int").
_ID = r"[0-9]{4}\.[0-9]{4,5}(?:v[0-9]{1,4})?|[a-z]{1,12}(?:-[a-z]{1,12})?(?:\.[a-z]{2})?/[0-9]{7}(?:v[0-9]{1,4})?"
_MENTION = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf|html)/|huggingface\.co/papers/|10\.48550/arxiv\.|arxiv(?:\s{1,8}preprint)?\s{0,8}:?\s{0,8})"
    r"(" + _ID + ")",
    re.IGNORECASE | re.ASCII,
)
_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: |$)")
# Where a BibTeX block starts. Counted before parsing: a file of a million "@a{" is refused at once
# instead of becoming a million failed blocks to parse and report.
_BIBTEX_START = re.compile(r"@[ \t]{0,8}[A-Za-z]{1,40}[ \t]{0,8}[{(]")
MAX_BIBTEX_BLOCKS = 2 * MAX_ENTRIES  # entries plus @string, @comment, @preamble and broken blocks
# bibtexparser's splitter steps through the text from one of these characters to the next, in Python
# (about 0.7 us each). Zotero exports have one in 6 or 7 characters (~750,000 in 5 MB); a file of
# nothing else took 3 s for 4 MB, so more than twice a real export's share is refused first.
_BIBTEX_MARKS = '{}",=\n'
MAX_BIBTEX_MARKS = 1_500_000
_EXTENSIONS = {"bib": "bibtex", "bibtex": "bibtex", "ris": "ris", "json": "csl-json", "txt": "list"}


@dataclass
class LibraryImport:
    format: str
    ids: list[str] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    entries: int = 0
    _seen: set[str] = field(default_factory=set, repr=False)

    def add(self, paper_id: str) -> None:
        if paper_id not in self._seen:  # the same paper twice in a library is normal, not a problem
            self._seen.add(paper_id)
            self.ids.append(paper_id)

    def problem(self, line: int, message: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append((line, message))
        elif len(self.problems) == MAX_PROBLEMS:
            self.problems.append((line, "too many problems; the rest are not listed"))

    def entry(self, key: str, line: int, found: str | None, missing: str = "") -> None:
        self.entries += 1
        if self.entries > MAX_ENTRIES:
            raise BadInput(f"the library has more than {MAX_ENTRIES:,} entries; import it in parts")
        if found is None:
            self.problem(line, missing or f"entry {key[:80]!r} at line {line} has no arXiv id")
        else:
            self.add(found)


def read_library(text: str | bytes, name: str = "") -> LibraryImport:
    """The arXiv ids of a library file, in file order, and the problems met on the way."""
    text = _as_text(text)
    fmt = detect_format(text, name)
    out = LibraryImport(format=fmt)
    {"bibtex": _read_bibtex, "ris": _read_ris, "csl-json": _read_csl_json, "list": _read_list}[fmt](text, out)
    return out


def detect_format(text: str, name: str = "") -> str:
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext in _EXTENSIONS:
        return _EXTENSIONS[ext]
    head = text.lstrip()[:1]
    if head in ("[", "{"):
        return "csl-json"
    if head == "@":
        return "bibtex"
    if any(_RIS_TAG.match(line) and line.startswith("TY") for line in text.splitlines()[:50]):
        return "ris"
    if re.search(r"^[ \t]{0,80}@[ \t]{0,8}[A-Za-z]{1,40}[ \t]{0,8}[{(]", text, re.MULTILINE):
        return "bibtex"
    return "list"


def _as_text(data: str | bytes) -> str:
    size = len(data) if isinstance(data, bytes) else len(data.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise BadInput(f"the library file is {size / 2**20:.1f} MB; the limit is {MAX_BYTES // 2**20} MB")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise BadInput(f"the library file is not UTF-8 text (byte {exc.start}); export it as UTF-8") from None
    if "\x00" in data:
        raise BadInput("the library file is binary, not text; export BibTeX, RIS, CSL-JSON or a list of ids")
    text = data.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise BadInput("the library file is empty")
    return text


def find_arxiv_id(marked: Iterable[object], bare: Iterable[object] = ()) -> str | None:
    """The first arXiv id in ``bare`` values (that are the id itself) or ``marked`` ones (URL, DOI, "arXiv:...")."""
    for value in _strings(bare):
        try:
            return parse_arxiv_id(value.strip().strip("{}"))[0]
        except BadInput:  # a non-arXiv eprint is just not ours
            pass
    for value in _strings(marked):
        for m in _MENTION.finditer(value):
            try:
                return parse_arxiv_id(m.group(1))[0]
            except BadInput:  # e.g. "arXiv:2413.00001" (month 13) is not a real id
                pass
    return None


def _strings(values: Iterable[object]) -> Iterable[str]:
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from (v for v in value if isinstance(v, str))
        elif isinstance(value, dict):  # rispy's unknown tags: {"XY": ["value", ...]}
            yield from _strings(value.values())


def _is_arxiv(*values: object) -> bool:
    return any(isinstance(v, str) and v.strip().strip("{}").lower() == "arxiv" for v in values)


# ---------------------------------------------------------------- BibTeX (Zotero, Better BibTeX, Mendeley, Scholar)
def _read_bibtex(text: str, out: LibraryImport) -> None:
    starts = sum(1 for _ in _BIBTEX_START.finditer(text))
    if starts > MAX_BIBTEX_BLOCKS:
        raise BadInput(f"the BibTeX file has {starts:,} entries (blocks starting '@type{{'); the limit is "
                       f"{MAX_ENTRIES:,} entries: import it in parts")
    marks = sum(map(text.count, _BIBTEX_MARKS))
    if marks > MAX_BIBTEX_MARKS:
        raise BadInput(f"the BibTeX file has {marks:,} braces, quotes, commas, equals signs and line breaks, "
                       f"more than a library of {MAX_ENTRIES:,} entries (at most {MAX_BIBTEX_MARKS:,}): is it BibTeX?")
    logging.getLogger("bibtexparser").setLevel(logging.ERROR)  # we report its failures as problems instead
    library = bibtexparser.parse_string(text)
    # failed_blocks builds a new list on each access, and "in" compares blocks field by field:
    # asked once per block, that was quadratic (35 of 37 s of a 10,000-entry import)
    failed = {id(block) for block in library.failed_blocks}
    for block in library.blocks:
        line = (block.start_line or 0) + 1  # bibtexparser counts from 0 (and always sets it on a parsed block)
        entry = getattr(block, "ignore_error_block", None) if id(block) in failed else block
        if isinstance(entry, Entry):  # a duplicate key or field: the entry itself is still good
            out.entry(entry.key, line, _bibtex_id(entry))
        elif id(block) in failed:
            reason = getattr(getattr(block, "error", None), "abort_reason", "") or "a syntax error"
            raw = (block.raw or "").strip()
            first = raw.splitlines()[0][:60] if raw else ""
            out.problem(line, f"line {line}: cannot read the entry {first!r}: {reason.strip()}")


def _bibtex_id(entry: Entry) -> str | None:
    f = {k.lower(): v.value for k, v in entry.fields_dict.items()}
    prefix = f.get("archiveprefix") or f.get("eprinttype")
    bare = [f.get("arxivid"), f.get("arxiv")]
    if prefix is None or _is_arxiv(prefix):  # an eprint of another archive (PubMed...) is not an arXiv id
        bare.append(f.get("eprint"))
    marked = [f.get(k) for k in ("eprint", "doi", "url", "journal", "note", "howpublished", "number", "pages")]
    return find_arxiv_id(marked, bare)


# ---------------------------------------------------------------- RIS (Zotero, Mendeley, EndNote)
def _read_ris(text: str, out: LibraryImport) -> None:
    """rispy parses records but keeps no line numbers, so the file is cut into records here (TY ... ER)."""
    lines = text.split("\n")
    start = None
    for number, line in enumerate(lines, 1):
        tag = _RIS_TAG.match(line)
        if tag and tag.group(1) == "TY":
            if start is not None:
                out.problem(start, f"line {start}: record has no 'ER  -' end tag before line {number}")
                _ris_record(lines[start - 1:number - 1], start, out)
            start = number
        elif tag and tag.group(1) == "ER" and start is not None:
            _ris_record(lines[start - 1:number], start, out)
            start = None
        elif line.strip() and start is None:
            out.problem(number, f"line {number}: text outside a record (records start with 'TY  -'): {line[:60]!r}")
    if start is not None:  # a truncated file: keep the last record, say it was cut
        out.problem(start, f"line {start}: the last record has no 'ER  -' end tag (truncated file?)")
        _ris_record(lines[start - 1:], start, out)


def _ris_record(lines: list[str], start: int, out: LibraryImport) -> None:
    body = [line for line in lines if not line.startswith("ER  -")] + ["ER  - "]
    try:
        records = rispy.loads("\n".join(body), skip_unknown_tags=False)
    except Exception as exc:  # rispy raises plain exceptions on odd tags; one record is lost, not the file
        out.problem(start, f"line {start}: cannot read the record: {exc}")
        return
    for rec in records:
        key = rec.get("id") or rec.get("title") or rec.get("primary_title") or "record"
        marked = [rec.get(k) for k in ("doi", "urls", "journal_name", "secondary_title", "alternate_title1",
                                       "alternate_title2", "alternate_title3", "notes", "note", "number",
                                       "custom1", "unknown_tag")]
        bare = [rec.get("number"), rec.get("note")] if _is_arxiv(rec.get("publisher"), rec.get("journal_name")) else []
        out.entry(str(key), start, find_arxiv_id(marked, bare))


# ---------------------------------------------------------------- CSL-JSON (Zotero, Mendeley, citeproc)
def _read_csl_json(text: str, out: LibraryImport) -> None:
    """Item by item (raw_decode), so a truncated file keeps its good items and each item has a line."""
    pos, line = _skip_ws(text, 0), 1
    if text[pos] == "{":  # one item, not an array
        try:
            _csl_item(_decode(text, pos, 1)[0], 1, out)
        except json.JSONDecodeError as exc:
            out.problem(exc.lineno, f"line {exc.lineno}: broken JSON: {exc.msg}")
        return
    pos += 1
    while True:
        next_pos = _skip_ws(text, pos)
        line += text.count("\n", pos, next_pos)
        pos = next_pos
        if pos >= len(text):
            out.problem(line, f"line {line}: the JSON array is not closed (truncated file?)")
            return
        if text[pos] == "]":
            return
        try:
            item, end = _decode(text, pos, line)
        except json.JSONDecodeError as exc:
            out.problem(exc.lineno, f"line {exc.lineno}: broken JSON: {exc.msg}; the rest of the file was skipped")
            return
        _csl_item(item, line, out)
        line += text.count("\n", pos, end)
        pos = _skip_ws(text, end)
        line += text.count("\n", end, pos)
        if pos < len(text) and text[pos] == ",":
            pos += 1
        elif pos < len(text) and text[pos] != "]":
            out.problem(line, f"line {line}: expected ',' or ']' between items; the rest of the file was skipped")
            return


_DECODER = json.JSONDecoder()


def _decode(text: str, pos: int, line: int) -> tuple[object, int]:
    """One JSON value from ``pos``. Nesting deeper than Python's recursion limit and integers longer
    than its 4,300-digit limit are not a library, and reading them raised errors that were not
    ``JSONDecodeError``: they are refused as bad input naming the line."""
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise BadInput(f"line {line}: the JSON nests arrays or objects too deeply to be a CSL-JSON library") from None
    except ValueError as exc:  # int("9" * 4301): "Exceeds the limit (4300 digits) for integer string conversion"
        raise BadInput(f"line {line}: the JSON holds a number too long to read ({str(exc).split(':')[0]})") from None


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\n":
        pos += 1
    return pos


def _csl_item(item: object, line: int, out: LibraryImport) -> None:
    if not isinstance(item, dict):  # still an entry: a million of them is a file to refuse, not to list
        out.entry("item", line, None, f"line {line}: a CSL-JSON item must be an object, got {type(item).__name__}")
        return
    key = item.get("id") or item.get("citation-key") or item.get("title") or "item"
    marked = [item.get(k) for k in ("URL", "DOI", "number", "note", "container-title", "archive_location", "source")]
    arxiv = _is_arxiv(item.get("container-title"), item.get("publisher"), item.get("archive"), item.get("source"))
    bare = [item.get("number"), item.get("archive_location")] if arxiv else []
    out.entry(str(key), line, find_arxiv_id(marked, bare))


# ---------------------------------------------------------------- a plain list of ids or URLs
def _read_list(text: str, out: LibraryImport) -> None:
    for number, raw in enumerate(text.split("\n"), 1):
        line = raw.strip()
        if not line or line.startswith("#"):  # blank lines and comments, as in any hand-written list
            continue
        first = line.split()[0]
        found = find_arxiv_id([line], [line, first.rstrip(",;")])
        out.entry(first, number, found, missing=f"line {number}: not an arXiv id or URL: {line[:80]!r}")
