"""Ingest parsers: one raw record -> Paper, or a BadInput that names the field."""

from __future__ import annotations

import copy
import gzip
import itertools
import json

import pytest

from papersift.errors import BadInput, Unavailable
from papersift.ingest import arxiv, beir, hf
from papersift.ingest.fields import utc_timestamp
from papersift.ingest.jsonl import read_jsonl
from papersift.model import Paper
from tests.fakes.server import fixture

from ..helpers import ARXIV_SAMPLE, HF_SAMPLE, SCIFACT_SAMPLE

HF_LINE = {
    "feed_date": "2024-05-27", "captured_at": "2024-06-02T01:07:21+08:00", "arxiv_id": "2405.15738",
    "title": "ConvLLaVA: Hierarchical Backbones as Visual\n  Encoder for Large Multimodal Models",
    "abstract": "High-resolution Large Multimodal Models (LMMs) encounter the challenges of\nexcessive "
                "visual tokens and quadratic visual complexity.",
    "authors": ["Chunjiang Ge", " Sijie  Cheng ", ""], "published_at": "2024-05-24T17:34:15.000Z",
    "submitted_on_daily_at": "2024-05-27T01:00:00.000Z", "upvotes": 32, "num_comments": 3,
    "organization": "Alibaba Group", "organization_name": "alibaba", "submitted_by": "akhaliq",
    "ai_summary": None, "ai_keywords": ["LMM"], "github_repo": "", "github_stars": None,
    "project_page": None, "api_order": 4,
}

ARXIV_LINE = {
    "id": "2503.11742v2", "title": "Safe Vision-Language Models via Unsafe\n  Weights Manipulation",
    "abstract": "Vision-language models (VLMs) often inherit the biases and unsafe\nassociations.",
    "authors": ["Moreno D'Incà", "Elia Peruzzo"], "categories": ["cs.CV", "cs.AI"], "comment": "",
    "first_listing_date": "2025-03-18", "listing_dates": ["2025-03-18", "2025-04-02"],
}

WEIRD = [None, "", "  ", "x", -1, 1.5, True, [], {}, ["a", 1], {"name": 3}, "2024-13-45", "9" * 80]


def hf_api_items():
    return json.loads(fixture("hf_daily_2025-03-17.json"))


# ---------------------------------------------------------------- HF archive
def test_hf_jsonl_good_record_is_normalised():
    paper = hf.parse_hf_jsonl(HF_LINE)
    assert paper.id == "2405.15738" and paper.version is None
    assert paper.title == "ConvLLaVA: Hierarchical Backbones as Visual Encoder for Large Multimodal Models"
    assert "\n" not in paper.abstract and "of excessive visual" in paper.abstract
    assert paper.authors == ["Chunjiang Ge", "Sijie Cheng"]
    assert paper.published == "2024-05-24T17:34:15Z"
    # captured in UTC+8 -> the UTC instant, 8 hours earlier and on the previous day
    assert paper.observed_at == "2024-06-01T17:07:21Z"
    assert (paper.source, paper.upvotes, paper.num_comments) == ("hf-jsonl", 32, 3)
    assert (paper.organization, paper.organization_id) == ("Alibaba Group", "alibaba")
    assert paper.github_repo is None and paper.ai_summary is None  # "" and None both mean absent
    entry = paper.feed_entry
    assert (entry.day, entry.upvotes, entry.num_comments, entry.rank, entry.submitted_by) == (
        "2024-05-27", 32, 3, 4, "akhaliq")
    assert entry.captured_at == paper.observed_at and paper.feed_days == ["2024-05-27"]


@pytest.mark.parametrize("key, value, words", [
    ("arxiv_id", None, "arxiv_id"),
    ("arxiv_id", "2405.1573", "arxiv_id"),
    ("upvotes", -1, "upvotes"),
    ("upvotes", "32", "upvotes"),
    ("upvotes", 3.0, "upvotes"),
    ("num_comments", True, "num_comments"),
    ("api_order", -2, "api_order"),
    ("github_stars", "many", "github_stars"),
    ("feed_date", "27/05/2024", "feed_date"),
    ("feed_date", "2024-02-30", "feed_date"),
    ("captured_at", None, "captured_at"),
    ("captured_at", "yesterday", "captured_at"),
    ("published_at", 1716572055, "published_at"),
    ("authors", "Chunjiang Ge", "authors"),
    ("authors", ["ok", 7], "authors[1]"),
    ("title", ["a"], "title"),
])
def test_hf_jsonl_bad_field_names_the_field(key, value, words):
    record = dict(HF_LINE, **{key: value})
    with pytest.raises(BadInput) as err:
        hf.parse_hf_jsonl(record)
    assert words in err.value.message


@pytest.mark.parametrize("record", [[], "text", 3, None])
def test_hf_jsonl_non_object(record):
    with pytest.raises(BadInput, match="JSON object"):
        hf.parse_hf_jsonl(record)


def _mutations(base: dict, nested: str | None = None):
    """Every (key, weird value) variant of a record, including keys it does not have."""
    target = base[nested] if nested else base
    for key in list(target) + ["unexpected"]:
        for value in WEIRD:
            record = copy.deepcopy(base)
            (record[nested] if nested else record)[key] = value
            yield record
        record = copy.deepcopy(base)
        (record[nested] if nested else record).pop(key, None)
        yield record


@pytest.mark.parametrize("parse, base, nested", [
    (hf.parse_hf_jsonl, HF_LINE, None),
    (arxiv.parse_arxiv_jsonl, ARXIV_LINE, None),
    (lambda o: hf.parse_hf_api_item(o, "2025-03-17T08:00:00Z"), hf_api_items()[0], None),
    (lambda o: hf.parse_hf_api_item(o, "2025-03-17T08:00:00Z"), hf_api_items()[0], "paper"),
])
def test_parsers_raise_only_badinput(parse, base, nested):
    """No KeyError/TypeError/ValueError escapes, whatever a field holds."""
    for record in _mutations(base, nested):
        try:
            assert isinstance(parse(record), Paper)
        except BadInput as exc:
            assert exc.message


# ---------------------------------------------------------------- arXiv archive
def test_arxiv_jsonl_record():
    paper = arxiv.parse_arxiv_jsonl(ARXIV_LINE)
    assert (paper.id, paper.version, paper.source) == ("2503.11742", 2, "arxiv-jsonl")
    assert paper.title == "Safe Vision-Language Models via Unsafe Weights Manipulation"
    assert paper.categories == ["cs.CV", "cs.AI"] and paper.comment is None
    assert paper.published == "2025-03-18T00:00:00Z"  # first announcement
    assert paper.observed_at == "2025-04-02T00:00:00Z"  # last listing date


@pytest.mark.parametrize("raw, expected", [
    ("hep-th/9901001v2", ("hep-th/9901001", 2)),
    ("math.GT/0309136", ("math/0309136", None)),
    ("arXiv:0704.0001", ("0704.0001", None)),
    ("https://arxiv.org/abs/2503.11742v3", ("2503.11742", 3)),
])
def test_old_and_prefixed_ids(raw, expected):
    paper = arxiv.parse_arxiv_jsonl(dict(ARXIV_LINE, id=raw))
    assert (paper.id, paper.version) == expected


@pytest.mark.parametrize("change, words", [
    ({"first_listing_date": None, "listing_dates": []}, "first_listing_date"),
    ({"listing_dates": "2025-03-18"}, "listing_dates"),
    ({"listing_dates": ["2025-03-18", "soon"]}, "listing_dates[1]"),
    ({"categories": "cs.CV cs.AI"}, "categories"),
    ({"id": "2503.117420"}, "id"),
])
def test_arxiv_jsonl_bad_records(change, words):
    with pytest.raises(BadInput) as err:
        arxiv.parse_arxiv_jsonl(dict(ARXIV_LINE, **change))
    assert words in err.value.message


# ---------------------------------------------------------------- HF API
def test_hf_api_item_wire_format():
    first, second, third = hf_api_items()
    paper = hf.parse_hf_api_item(first, "2025-03-17T10:00:00+02:00", day="2025-03-17", rank=0)
    assert (paper.id, paper.source, paper.observed_at) == ("2503.10622", "hf-api", "2025-03-17T08:00:00Z")
    assert paper.authors == ["Jiachen Zhu", "Xinlei Chen", "Kaiming He"]
    assert paper.abstract.startswith("Normalization layers are ubiquitous in modern neural networks and have long been")
    assert paper.published == "2025-03-13T17:59:06Z"
    assert (paper.upvotes, paper.num_comments, paper.github_stars) == (118, 5, 1203)
    assert (paper.organization, paper.organization_id) == ("AI at Meta", "facebook")
    assert paper.github_repo == "https://github.com/jiachenzhu/DyT"
    assert paper.feed_entry.submitted_by == "akhaliq" and paper.feed_entry.rank == 0

    other = hf.parse_hf_api_item(second, "2025-03-17T08:00:00Z")
    assert (other.id, other.version) == ("2503.11647", 2)
    assert other.title == "A Second Paper With a Wrapped Title" and other.authors == ["Ada Lovelace"]
    assert other.feed_entry.day == "2025-03-17"  # from the item's feed time when no day is given
    assert other.ai_summary is None and other.organization is None

    with pytest.raises(BadInput, match="paper.upvotes"):
        hf.parse_hf_api_item(third, "2025-03-17T08:00:00Z")
    with pytest.raises(BadInput, match="paper"):
        hf.parse_hf_api_item({"title": "no paper"}, "2025-03-17T08:00:00Z")


# ---------------------------------------------------------------- OAI-PMH pages
def test_oai_pages_parse():
    page1 = arxiv.parse_oai_page(fixture("oai_page1.xml"))
    assert [p.id for p in page1.papers] == ["2503.11731", "2503.11742"]  # the deleted record is skipped
    assert page1.token == "6961524|1001" and page1.bad == [] and page1.total == 6  # completeListSize
    first = page1.papers[0]
    assert first.title == ("Industrial-Grade Sensor Simulation via Gaussian Splatting: A Modular Framework "
                           "for Scalable Editing and Full-Stack Validation")
    assert first.abstract.startswith("Sensor simulation is pivotal") and "\n" not in first.abstract
    assert first.authors == ["Xianming Zeng", "Sicong Du", "Qiang Li"] and first.categories == ["cs.CV", "cs.RO"]
    assert (first.published, first.observed_at, first.source) == (
        "2025-03-14T00:00:00Z", "2025-03-18T00:00:00Z", "arxiv-oai")
    assert page1.papers[1].comment == "Work in progress"
    assert first.listed == "2025-03-17" and first.replaced == []  # created on a Friday: Monday's listing, estimated

    page2 = arxiv.parse_oai_page(fixture("oai_page2.xml"))
    old, ir = page2.papers
    assert old.id == "cs/9901001" and old.authors == ["John A. Smith Jr", "The Example Collaboration"]
    assert old.published == "1999-01-04T00:00:00Z" and old.title == "An Old-Style Identifier"
    assert ir.title == "Retrieval & Reranking for Long Documents" and "<fast>" in ir.abstract
    (number, error), = page2.bad
    assert number == 2 and "2503.99999" in error.message and "not an arXiv id" in error.message

    assert arxiv.parse_oai_page(fixture("oai_page3.xml")).token is None  # empty token: last page
    assert arxiv.parse_oai_page(fixture("oai_no_records.xml")).error[0] == "noRecordsMatch"


def test_oai_unsafe_or_broken_xml_is_refused():
    with pytest.raises(Unavailable, match="forbidden"):
        arxiv.parse_oai_page(fixture("oai_entity_bomb.xml"))
    with pytest.raises(Unavailable, match="malformed XML"):
        arxiv.parse_oai_page(fixture("oai_malformed.xml"))
    with pytest.raises(Unavailable, match="not an OAI-PMH"):
        arxiv.parse_oai_page(b"<html><body>maintenance</body></html>")


# ---------------------------------------------------------------- helpers
@pytest.mark.parametrize("raw, expected", [
    ("2024-06-02T01:07:21+08:00", "2024-06-01T17:07:21Z"),
    ("2024-05-24T17:34:15.000Z", "2024-05-24T17:34:15Z"),
    ("2024-05-24T17:34:15", "2024-05-24T17:34:15Z"),
    ("2024-05-24", "2024-05-24T00:00:00Z"),
    ("2024-12-31T23:30:00-01:00", "2025-01-01T00:30:00Z"),
])
def test_utc_timestamps(raw, expected):
    assert utc_timestamp(raw, "t") == expected


@pytest.mark.parametrize("raw", ["2024-13-01", "tomorrow", "0001-01-01T00:00:00+01:00", 20240524])
def test_bad_timestamps(raw):
    with pytest.raises(BadInput, match="^t "):
        utc_timestamp(raw, "t")


# ---------------------------------------------------------------- reading files
def _write_lines(path, lines, gz=False):
    data = b"".join(line if isinstance(line, bytes) else line.encode() for line in lines)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_read_jsonl_reports_bad_lines_and_continues(tmp_path, gz):
    lines = [json.dumps(HF_LINE) + "\n", "{not json\n", "\n", json.dumps(dict(HF_LINE, upvotes=-5)) + "\n",
             b"\xff\xfe\n", json.dumps(dict(HF_LINE, arxiv_id="2405.00001")) + "\n"]
    path = _write_lines(tmp_path / ("f.jsonl.gz" if gz else "f.jsonl"), lines, gz)
    reader = read_jsonl(path, hf.parse_hf_jsonl)
    assert reader.bytes_read == 0 and reader.total_bytes == path.stat().st_size
    rows = list(reader)
    assert [n for n, _ in rows] == [1, 2, 4, 5, 6]  # blank line 3 skipped, numbering kept
    kinds = {n: r.message if isinstance(r, BadInput) else r.id for n, r in rows}
    assert kinds[1] == "2405.15738" and kinds[6] == "2405.00001"
    assert kinds[2].startswith("invalid JSON") and "upvotes" in kinds[4] and "UTF-8" in kinds[5]
    assert reader.bytes_read == reader.total_bytes


def test_read_jsonl_progress_moves_through_a_gz_file(tmp_path):
    lines = [json.dumps(dict(HF_LINE, abstract=f"text {i} " * 300)) + "\n" for i in range(400)]
    reader = read_jsonl(_write_lines(tmp_path / "big.jsonl.gz", lines, gz=True), hf.parse_hf_jsonl)
    seen = [reader.bytes_read for _ in itertools.islice(reader, 0, None, 50)]
    assert seen == sorted(seen) and 0 < seen[1] <= reader.total_bytes


def test_read_jsonl_truncated_gzip(tmp_path):
    data = gzip.compress("".join(json.dumps(HF_LINE) + "\n" for _ in range(200)).encode())
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    rows = list(read_jsonl(path, hf.parse_hf_jsonl))
    assert isinstance(rows[-1][1], BadInput) and "truncated" in rows[-1][1].message
    assert all(isinstance(r, Paper) for _, r in rows[:-1])


def test_read_jsonl_missing_file(tmp_path):
    with pytest.raises(BadInput, match="cannot read"):
        read_jsonl(tmp_path / "nope.jsonl", hf.parse_hf_jsonl)


def _assert_parse_cleanly(path, parse, lines: int) -> None:
    reader = read_jsonl(path, parse)
    rows = list(itertools.islice(reader, lines))
    reader.close()
    errors = [(n, r.message) for n, r in rows if isinstance(r, BadInput)]
    assert len(rows) == lines and errors == []
    for _, paper in rows:
        assert paper.observed_at.endswith("Z") and len(paper.observed_at) == 20
        assert paper.title and "\n" not in paper.title and "  " not in (paper.abstract or "")
        assert paper.published is None or len(paper.published) == 20


@pytest.mark.parametrize("path, parse, lines", [
    (HF_SAMPLE, hf.parse_hf_jsonl, 692),
    (ARXIV_SAMPLE, arxiv.parse_arxiv_jsonl, 400),
], ids=["hf", "arxiv"])
def test_the_real_sample_parses_cleanly(path, parse, lines):
    _assert_parse_cleanly(path, parse, lines)


@pytest.mark.parametrize("name, parse", [
    ("hf-daily-papers-2024-2026.jsonl.gz", hf.parse_hf_jsonl),
    ("arxiv-cs-2025-2026.jsonl.gz", arxiv.parse_arxiv_jsonl),
])
def test_real_data_first_2000_lines_parse_cleanly(shared_data, name, parse):
    _assert_parse_cleanly(shared_data / name, parse, 2000)


# ---------------------------------------------------------------- BEIR
def _beir(tmp_path, name="MyCorpus"):
    folder = tmp_path / name
    (folder / "qrels").mkdir(parents=True)
    _write_lines(folder / "corpus.jsonl.gz", [
        json.dumps({"_id": "4983", "title": "Microstructural\n development", "text": "Alterations of the "
                    "architecture of\ncerebral white matter.", "metadata": {}}) + "\n",
        json.dumps({"_id": 17, "title": "", "text": "Numeric id."}) + "\n",
        json.dumps({"_id": "bad id!", "text": "x"}) + "\n",
        json.dumps({"title": "no id"}) + "\n",
    ], gz=True)
    _write_lines(folder / "queries.jsonl", [json.dumps({"_id": "1", "text": "0-dimensional biomaterials"}) + "\n",
                                           json.dumps({"_id": "3", "text": "1 in 5 million"}) + "\n"])
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\t4983\t1\n3\t17\t0\n")
    return folder


def test_beir_corpus_queries_qrels(tmp_path):
    folder = _beir(tmp_path)
    rows = list(beir.read_beir_corpus(folder))
    doc, numeric = rows[0][1], rows[1][1]
    assert (doc.id, doc.title, doc.source) == ("mycorpus:4983", "Microstructural development", "beir")
    assert doc.abstract == "Alterations of the architecture of cerebral white matter." and doc.observed_at
    assert numeric.id == "mycorpus:17" and numeric.title is None
    assert "_id" in rows[2][1].message and "missing field '_id'" in rows[3][1].message
    assert list(beir.read_beir_corpus(folder, "sf"))[0][1].id == "sf:4983"
    assert beir.read_beir_queries(folder) == {"1": "0-dimensional biomaterials", "3": "1 in 5 million"}
    assert beir.read_qrels(folder) == {"1": {"4983": 1}, "3": {"17": 0}}
    with pytest.raises(BadInput, match="splits present: test"):
        beir.read_qrels(folder, "dev")


def test_beir_folder_shape_errors(tmp_path):
    with pytest.raises(BadInput, match="not a folder"):
        beir.read_beir_corpus(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BadInput, match="not a BEIR folder: no corpus.jsonl"):
        beir.read_beir_corpus(tmp_path / "empty")
    with pytest.raises(BadInput, match="not a BEIR folder"):
        beir.read_qrels(tmp_path / "empty")
    with pytest.raises(BadInput, match="namespace"):
        beir.read_beir_corpus(_beir(tmp_path), "Bad Namespace")
    folder = _beir(tmp_path, "other")
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\t4983\tyes\n")
    with pytest.raises(BadInput, match="line 2: score 'yes'"):
        beir.read_qrels(folder)
    (folder / "queries.jsonl").write_text('{"_id": "1"}\n')
    with pytest.raises(BadInput, match="line 1: query '1' has no text"):
        beir.read_beir_queries(folder)


def test_the_real_scifact_sample():
    """The committed slice (scripts/cut_test_sample.py): every judged document and query is in it."""
    rows = list(beir.read_beir_corpus(SCIFACT_SAMPLE))
    assert len(rows) == 204 and not [r for _, r in rows if isinstance(r, BadInput)]
    ids = {r.id.removeprefix("scifact:") for _, r in rows}
    queries = beir.read_beir_queries(SCIFACT_SAMPLE)
    for split, count in (("test", 40), ("train", 61)):
        qrels = beir.read_qrels(SCIFACT_SAMPLE, split)
        assert len(qrels) == count and set(qrels) <= set(queries)
        assert {d for docs in qrels.values() for d in docs} <= ids


def test_real_beir_folders(shared_data):
    scifact, csfcube = shared_data / "scifact", shared_data / "csfcube"
    rows = list(beir.read_beir_corpus(scifact))
    assert len(rows) == 5183 and not [r for _, r in rows if isinstance(r, BadInput)]
    assert rows[0][1].id.startswith("scifact:")
    qrels = beir.read_qrels(scifact, "test")
    assert len(qrels) == 300 and sum(map(len, qrels.values())) == 339
    assert set(qrels) <= set(beir.read_beir_queries(scifact))
    grades = beir.read_qrels(csfcube)  # top-level qrels.tsv, graded 0-3
    assert sum(map(len, grades.values())) == 6244 and {g for d in grades.values() for g in d.values()} <= {0, 1, 2, 3}
