"""Cut the small real sample under tests/data/ from the real data folder (../shared/data).

    .venv/bin/python scripts/cut_test_sample.py [--data ../shared/data]

The sample lets the tests run on a clone without ../shared (tests/data/README.md says what each file
holds). Every record is copied byte for byte, in the source's own format, so the parsers read the
sample exactly as they read the full files. The output is the same on every run (gzip without a
timestamp), so a rerun shows no diff unless the source changed.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data"
HF_FILE = "hf-daily-papers-2024-2026.jsonl.gz"
ARXIV_FILE = "arxiv-cs-2025-2026.jsonl.gz"
# the archive's first feed days (2024-05-27 to 2024-07-22): the recommendation tests' weeks; those
# rows have no GitHub links nor submitters, so later feed days that have them follow (the first week
# with many GitHub links, and the first two days with submitters, one of whom submits twice)
HF_HEAD_LINES = 600
HF_LATER_DAYS = (("2025-03-04", "2025-03-10"), ("2025-03-17", "2025-03-18"))
# every 150th listing of the first 60,000: real papers spread over a year of arXiv days
ARXIV_STEP, ARXIV_LINES = 150, 400
SCIFACT_TEST_QUERIES = 40  # the first test queries with judgements, their judged documents ...
SCIFACT_DISTRACTORS = 160  # ... and the corpus's first documents, so that search has something to miss
QUERIES_PER_FILE = 50
MAX_BYTES = 1024 * 1024


def write_gz(path: Path, lines: list[bytes]) -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        handle.writelines(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue())


def cut_hf(data: Path) -> list[bytes]:
    with gzip.open(data / HF_FILE, "rb") as handle:
        lines = list(handle)
    later = [line for line in lines[HF_HEAD_LINES:]
             if any(first <= json.loads(line)["feed_date"] <= last for first, last in HF_LATER_DAYS)]
    return lines[:HF_HEAD_LINES] + later


def cut_arxiv(data: Path) -> list[bytes]:
    with gzip.open(data / ARXIV_FILE, "rb") as handle:
        return list(itertools.islice(handle, 0, ARXIV_STEP * ARXIV_LINES, ARXIV_STEP))


def _qrels(path: Path) -> tuple[str, list[list[str]]]:
    header, *rows = path.read_text().splitlines()
    return header, [row.split("\t") for row in rows if row.strip()]


def cut_scifact(data: Path, out: Path) -> None:
    src = data / "scifact"
    header, test = _qrels(src / "qrels" / "test.tsv")
    chosen_queries = list(dict.fromkeys(q for q, _, _ in test))[:SCIFACT_TEST_QUERIES]
    judged = {d for q, d, _ in test if q in chosen_queries}
    with gzip.open(src / "corpus.jsonl.gz", "rb") as handle:
        corpus = list(handle)
    kept = [line for n, line in enumerate(corpus)
            if n < SCIFACT_DISTRACTORS or json.loads(line)["_id"] in judged]
    kept_ids = {json.loads(line)["_id"] for line in kept}
    write_gz(out / "corpus.jsonl.gz", kept)
    used_queries = set()
    for split in ("test", "train"):
        _, rows = _qrels(src / "qrels" / f"{split}.tsv")
        rows = [r for r in rows if r[1] in kept_ids and (split != "test" or r[0] in chosen_queries)]
        used_queries |= {r[0] for r in rows}
        text = io.StringIO()
        csv.writer(text, delimiter="\t", lineterminator="\n").writerows([header.split("\t"), *rows])
        (out / "qrels").mkdir(parents=True, exist_ok=True)
        (out / "qrels" / f"{split}.tsv").write_text(text.getvalue())
    queries = [line for line in (src / "queries.jsonl").read_text().splitlines(keepends=True)
               if line.strip() and json.loads(line)["_id"] in used_queries]
    (out / "queries.jsonl").write_text("".join(queries))


def cut_queries(data: Path, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((data / "queries").glob("*.json")):
        workload = json.loads(path.read_text())
        first = dict(itertools.islice(workload.items(), QUERIES_PER_FILE))
        (out / path.name).write_text(json.dumps(first, indent=2, ensure_ascii=False) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data", help="the real data folder")
    data = parser.parse_args().data
    if not (data / HF_FILE).is_file():
        print(f"error: {data / HF_FILE} not found: point --data at the real data folder", file=sys.stderr)
        return 2
    write_gz(OUT / "hf-daily-papers-sample.jsonl.gz", cut_hf(data))
    write_gz(OUT / "arxiv-cs-sample.jsonl.gz", cut_arxiv(data))
    cut_scifact(data, OUT / "scifact")
    cut_queries(data, OUT / "queries")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{OUT}: {total:,} bytes")
    if total > MAX_BYTES:
        print(f"error: the sample is over {MAX_BYTES:,} bytes: cut fewer records", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
