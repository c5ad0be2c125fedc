"""BEIR-format retrieval benchmarks (SciFact, CSFCube, ...): corpus, queries and qrels.

Layout: ``corpus.jsonl[.gz]`` lines ``{"_id", "title", "text"}``, ``queries.jsonl[.gz]`` lines
``{"_id", "text"}``, and judgements ``qrels/{split}.tsv`` (``query-id<TAB>corpus-id<TAB>score``
with a header line) or a single top-level ``qrels.tsv`` (CSFCube). Corpus documents are not
arXiv papers, so their ids are namespaced: ``scifact:4983``.
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from papersift.errors import BadInput
from papersift.ingest.fields import clean_text, require_object
from papersift.ingest.jsonl import JsonlReader, read_jsonl
from papersift.model import Paper

_NAMESPACE = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
_DOC_ID = re.compile(r"^[A-Za-z0-9._/-]{1,128}$")  # what papersift.model accepts after "ns:"


def _folder(folder: str | Path) -> Path:
    path = Path(folder)
    if not path.is_dir():
        raise BadInput(f"not a folder: {path}")
    return path


def _first_file(folder: Path, stem: str, what: str) -> Path:
    for name in (f"{stem}.jsonl", f"{stem}.jsonl.gz"):
        if (folder / name).is_file():
            return folder / name
    raise BadInput(f"{folder} is not a BEIR folder: no {stem}.jsonl or {stem}.jsonl.gz ({what})")


def default_namespace(folder: str | Path) -> str:
    """The folder name, lower-cased, reduced to the characters a namespace may hold."""
    return re.sub(r"[^a-z0-9_-]", "-", Path(folder).resolve().name.lower())[:32] or "corpus"


def _doc_id(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # some corpora write numeric ids unquoted
    if not isinstance(value, str) or not value.strip():
        raise BadInput("missing field '_id'")
    if not _DOC_ID.match(value.strip()):
        raise BadInput(f"_id {value[:60]!r} has characters other than letters, digits and ._/-")
    return value.strip()


def read_beir_corpus(folder: str | Path, namespace: str | None = None) -> JsonlReader:
    """``(line, Paper | BadInput)`` for each corpus document; checks the folder eagerly.

    ``observed_at`` is the corpus file's modification time: BEIR carries no dates, and a stable
    stamp keeps re-ingesting the same file a no-op for the merge.
    """
    path = _first_file(_folder(folder), "corpus", "the documents")
    namespace = default_namespace(folder) if namespace is None else namespace
    if not isinstance(namespace, str) or not _NAMESPACE.match(namespace):
        raise BadInput(f"namespace {namespace!r} must be 1-32 of a-z 0-9 _ - starting with a letter")
    stamp = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def parse(obj: Any) -> Paper:
        obj = require_object(obj, "corpus line")
        return Paper(id=f"{namespace}:{_doc_id(obj.get('_id'))}",
                     title=clean_text(obj.get("title"), "title"),
                     abstract=clean_text(obj.get("text"), "text"),
                     source="beir", observed_at=stamp)

    return read_jsonl(path, parse)


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line.rstrip("\r\n")
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: unreadable ({exc})") from None


def read_beir_queries(folder: str | Path) -> dict[str, str]:
    """``{query_id: text}``; any bad line is an error (an evaluation needs all its queries)."""
    path = _first_file(_folder(folder), "queries", "the queries")
    queries: dict[str, str] = {}
    for number, line in _lines(path):
        try:
            obj = require_object(json.loads(line), "query line")
            qid = obj.get("_id")
            if isinstance(qid, int) and not isinstance(qid, bool):
                qid = str(qid)
            if not isinstance(qid, str) or not qid.strip():
                raise BadInput("missing field '_id'")
            text = clean_text(obj.get("text"), "text")
            if not text:
                raise BadInput(f"query {qid!r} has no text")
        except json.JSONDecodeError as exc:
            raise BadInput(f"{path} line {number}: invalid JSON: {exc.msg}") from None
        except BadInput as exc:
            raise BadInput(f"{path} line {number}: {exc.message}") from None
        queries[qid.strip()] = text
    return queries


def read_qrels(folder: str | Path, split: str = "test") -> dict[str, dict[str, int]]:
    """``{query_id: {corpus_id: grade}}`` from ``qrels/{split}.tsv``, else top-level ``qrels.tsv``.

    Grade 0 rows are kept: graded benchmarks (CSFCube) judge them explicitly non-relevant.
    """
    root = _folder(folder)
    if not re.match(r"^[A-Za-z0-9_.-]{1,64}$", split or ""):
        raise BadInput(f"bad split name {split!r}")
    path = root / "qrels" / f"{split}.tsv"
    if not path.is_file():
        if (root / "qrels.tsv").is_file():
            path = root / "qrels.tsv"  # one unsplit judgement file (CSFCube)
        elif (root / "qrels").is_dir():
            have = sorted(p.stem for p in (root / "qrels").glob("*.tsv"))
            raise BadInput(f"{root} has no {split!r} qrels; splits present: {', '.join(have) or 'none'}")
        else:
            raise BadInput(f"{root} is not a BEIR folder: no qrels/{split}.tsv or qrels.tsv")
    qrels: dict[str, dict[str, int]] = {}
    first = True
    for number, line in _lines(path):
        cells = line.split("\t") if "\t" in line else line.split()
        if len(cells) == 4:  # TREC style: query iteration doc grade
            cells = [cells[0], cells[2], cells[3]]
        if len(cells) != 3:
            raise BadInput(f"{path} line {number}: expected query-id<TAB>corpus-id<TAB>score")
        qid, doc, grade = (c.strip() for c in cells)
        try:
            score = int(grade)
        except ValueError:
            if first:
                first = False
                continue  # the header line ("query-id corpus-id score")
            raise BadInput(f"{path} line {number}: score {grade!r} is not an integer") from None
        first = False
        if not qid or not doc:
            raise BadInput(f"{path} line {number}: empty query or corpus id")
        qrels.setdefault(qid, {})[doc] = score
    return qrels
