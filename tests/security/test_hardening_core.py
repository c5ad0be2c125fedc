"""Hardening, the core: search and feed dates at the calendar's edges, corrupt and read-only inputs to
ingest, record limits, and empty field filters. Real tantivy, real SQLite files, the real CLI."""

from __future__ import annotations

import ctypes
import gzip
import itertools
import json
import os
import subprocess
import sys
import zlib
from datetime import date

import pytest

from papersift.errors import BadInput
from papersift.feed.daily import parse_period, period_for_month
from papersift.formats.json_api import feed_page_json
from papersift.ingest import arxiv, hf
from papersift.ingest.fields import MAX_TITLE_CHARS
from papersift.ingest.jsonl import read_jsonl
from papersift.query import Filters, parse_query
from papersift.service import Papersift
from papersift.store import open_store

from ..helpers import ARXIV_SAMPLE


def _real_lines(n: int, step: int = 1) -> list[bytes]:
    """n real arXiv listings of the committed sample (itself every 150th listing of the archive's first 60,000)."""
    with gzip.open(ARXIV_SAMPLE, "rb") as handle:
        return list(itertools.islice(handle, 0, n * step, step))


def _hf_line(**changes) -> str:
    record = {"arxiv_id": "2405.15738", "title": "A real title", "abstract": "Words.", "authors": ["Ann Lee"],
              "feed_date": "2024-05-27", "captured_at": "2024-05-27T12:00:00Z", "upvotes": 3}
    return json.dumps({**record, **changes}) + "\n"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """200 real arXiv papers, spread over the archive's days, in a real store and tantivy index."""
    tmp = tmp_path_factory.mktemp("core")
    sample = tmp / "a.jsonl"
    sample.write_bytes(b"".join(_real_lines(200, step=2)))  # the archive's every 300th listing
    svc = Papersift(tmp / "p.db", embedder=False)
    svc.ingest_file("arxiv-jsonl", sample)
    yield svc
    svc.close()


# ---------------------------------------------------------------- item 1: search date filters
def _total(svc, **dates) -> int:
    return svc.search("learning", Filters(**dates), mode="bm25").total


def test_dates_beyond_the_index_range_match_nothing_or_everything(corpus):
    everything = _total(corpus)
    assert everything > 20
    # tantivy holds 1677-09-21 .. 2262-04-11; Python dates run 0001-01-01 .. 9999-12-31
    for dates in ({"date_from": "3000-01-01"}, {"date_from": "9999-12-31"}, {"date_from": "2262-04-12"},
                  {"date_to": "0001-01-01"}, {"date_to": "1600-01-01"},
                  {"date_from": "0001-01-01", "date_to": "0001-12-31"}):
        assert _total(corpus, **dates) == 0, dates
    for dates in ({"date_to": "9999-12-31"}, {"date_from": "0001-01-01"}, {"date_to": "2262-04-11"},
                  {"date_from": "0001-01-01", "date_to": "9999-12-31"}):
        assert _total(corpus, **dates) == everything, dates


def test_in_range_bounds_still_cut_by_day(corpus):
    days = sorted({h.paper.published_date for h in corpus.search("learning", mode="bm25", per_page=100).hits})
    assert len(days) > 1
    first, last = days[0], days[-1]
    assert _total(corpus, date_to=first) > 0 and _total(corpus, date_to=first) < _total(corpus)
    assert _total(corpus, date_from=last, date_to="9999-12-31") == _total(corpus, date_from=last)
    assert _total(corpus, date_from=first, date_to=first) == _total(corpus, date_to=first)


@pytest.mark.parametrize("dates, message", [
    ({"date_from": "2025-13-01"}, "not a real day"),
    ({"date_to": "2025-02-30"}, "not a real day"),
    ({"date_from": "3000-1-1"}, "YYYY-MM-DD"),
    ({"date_from": "\u0662\u0660\u0662\u0665-01-01"}, "YYYY-MM-DD"),  # Arabic-Indic digits
    ({"date_to": "2025-01-01\n"}, "YYYY-MM-DD"),
    ({"date_from": "0000-01-01"}, "not a real day"),
    # from after to: a 400 saying so (documented on Filters), not an empty page
    ({"date_from": "2026-01-02", "date_to": "2026-01-01"}, "date range is empty"),
    ({"date_from": "9999-12-31", "date_to": "0001-01-01"}, "date range is empty"),
])
def test_malformed_or_swapped_dates_are_bad_input(corpus, dates, message):
    with pytest.raises(BadInput, match=message):
        corpus.search("learning", Filters(**dates), mode="bm25")


def test_a_paper_dated_beyond_tantivys_range_is_still_indexed(tmp_path):
    path = tmp_path / "far.jsonl"
    path.write_text(_hf_line(arxiv_id="2405.00001", title="Zyzzyva far future", published_at="2999-01-01"))
    svc = Papersift(tmp_path / "p.db", embedder=False)
    report = svc.ingest_file("hf-daily", path)  # indexing used to fail on the out-of-range date
    assert report.indexed == 1
    assert [h.paper.id for h in svc.search("zyzzyva", mode="bm25").hits] == ["2405.00001"]


# ---------------------------------------------------------------- item 2: feed periods at the edges
@pytest.mark.parametrize("kind, value, start, end, previous, following", [
    ("date", "9999-12-31", "9999-12-31", "9999-12-31", "9999-12-30", None),
    ("date", "9999-12-30", "9999-12-30", "9999-12-30", "9999-12-29", "9999-12-31"),
    ("date", "0001-01-01", "0001-01-01", "0001-01-01", None, "0001-01-02"),
    ("week", "9999-W52", "9999-12-27", "9999-12-31", "9999-W51", None),  # cut short at 31 Dec
    ("week", "9999-W51", "9999-12-20", "9999-12-26", "9999-W50", "9999-W52"),
    ("week", "0001-W01", "0001-01-01", "0001-01-07", None, "0001-W02"),
    ("month", "9999-12", "9999-12-01", "9999-12-31", "9999-11", None),
    ("month", "0001-01", "0001-01-01", "0001-01-31", None, "0001-02"),
])
def test_periods_at_the_calendars_edges(kind, value, start, end, previous, following):
    period = parse_period(kind, value)
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)
    assert (period.previous.label if period.previous else None) == previous
    assert (period.next.label if period.next else None) == following


def test_month_of_a_day_in_year_one_is_zero_padded():
    # what the web's Day/Week/Month tabs need; f"{day:%Y-%m}" gives "1-01" for year 1
    assert period_for_month(date(1, 1, 15)).label == "0001-01"
    assert period_for_month(date(9999, 12, 31)) == parse_period("month", "9999-12")


@pytest.mark.parametrize("kind, value", [
    ("week", "9999-W53"), ("week", "0000-W52"), ("month", "0000-12"), ("date", "0000-12-31"),
    ("month", "9999-13"), ("date", "10000-01-01"), ("week", "\u0662\u0660\u0662\u0664-W01"),
])
def test_periods_beyond_the_calendar_are_bad_input(kind, value):
    with pytest.raises(BadInput, match=f"bad {kind}"):
        parse_period(kind, value)


@pytest.mark.parametrize("given", [
    {"date_": "9999-12-31"}, {"date_": "9999-12-30"}, {"date_": "0001-01-01"}, {"week": "9999-W52"},
    {"week": "0001-W01"}, {"month": "9999-12"}, {"month": "0001-01"},
])
def test_daily_at_the_edges_is_a_page(tmp_path, given):
    svc = Papersift(tmp_path / "p.db", embedder=False)
    for sort in ("trending", "upvotes", "published"):
        feed = svc.daily(**given, sort=sort)
        data = feed_page_json(feed)  # what /api/daily_papers and the CLI print
        assert feed.total == 0 and data["period"]["label"] == feed.period.label


def test_daily_ranks_papers_on_the_last_days_of_the_calendar(tmp_path):
    path = tmp_path / "edge.jsonl"
    path.write_text(_hf_line(feed_date="9999-12-31", upvotes=5)
                    + _hf_line(arxiv_id="2405.00002", feed_date="9999-12-28", upvotes=1)
                    + _hf_line(arxiv_id="2405.00003", feed_date="0001-01-01", upvotes=1))
    svc = Papersift(tmp_path / "p.db", embedder=False)
    assert svc.ingest_file("hf-daily", path, index=False).result.inserted == 3
    week = svc.daily(week="9999-W52")  # the trending reference is the period's end: 31 Dec 9999
    assert [it.paper.id for it in week.items] == ["2405.15738", "2405.00002"]
    assert [it.paper.id for it in svc.daily(date_="0001-01-01").items] == ["2405.00003"]
    assert feed_page_json(svc.daily())["period"] == {  # the latest day with papers: 9999-12-31
        "kind": "date", "label": "9999-12-31", "start": "9999-12-31", "end": "9999-12-31",
        "previous": "9999-12-30", "next": None}


# ---------------------------------------------------------------- item 9: corrupt and truncated gzip
def _cli(db, *args, **kwargs):
    return subprocess.run([sys.executable, "-m", "papersift.cli", "--db", str(db), *args],
                          capture_output=True, text=True, timeout=300, **kwargs)


def _gzip_parts(*parts: bytes) -> tuple[bytearray, list[int]]:
    """One gzip member, each part flushed to a byte boundary, and where each part's bytes end."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    data, ends = bytearray(), []
    for part in parts:
        data += comp.compress(part) + comp.flush(zlib.Z_FULL_FLUSH)
        ends.append(len(data))
    data += comp.flush()
    return data, ends


def _assert_stopped(proc, db, lines: list[bytes], stored_before: int, line: int):
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr + proc.stdout
    report = json.loads(proc.stdout)
    assert report["stopped"]["line"] == line and "truncated or corrupt" in report["stopped"]["error"]
    assert f"stopped at line {line}" in proc.stderr and f"read {report['read']}:" in proc.stderr
    assert report["inserted"] >= stored_before
    stored = {p.id for _, p in open_store(db).iter_changes(0)}
    before = {json.loads(x)["id"] for x in lines[:stored_before]}
    assert before <= stored and len(stored) == report["inserted"]  # batches before the break stay


def test_gzip_corrupted_mid_stream_exits_2_and_keeps_what_came_before(tmp_path):
    lines = _real_lines(300)
    data, ends = _gzip_parts(b"".join(lines[:150]), b"".join(lines[150:]))
    for i in range(ends[0] + 200, ends[0] + 264):  # flip bytes in the middle, after line 150
        data[i] ^= 0xFF
    path = tmp_path / "corrupt.jsonl.gz"
    path.write_bytes(bytes(data))
    proc = _cli(tmp_path / "p.db", "ingest", "arxiv-jsonl", str(path), "--json")
    reached = json.loads(proc.stdout)["stopped"]["line"]
    assert reached > 150
    _assert_stopped(proc, tmp_path / "p.db", lines, 150, reached)


def test_truncated_gzip_exits_2_with_the_line_reached(tmp_path):
    lines = _real_lines(300)
    data, ends = _gzip_parts(b"".join(lines[:150]), b"".join(lines[150:]))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(bytes(data[: ends[0] + 100]))  # ends inside the compressed line 151
    proc = _cli(tmp_path / "p.db", "ingest", "arxiv-jsonl", str(path), "--json")
    _assert_stopped(proc, tmp_path / "p.db", lines, 150, 151)
    assert json.loads(proc.stdout)["inserted"] == 150


def test_corruption_inside_an_over_long_line_exits_2(tmp_path):
    """The crash of the issue: the read that skips the rest of a >16 MB line was unguarded."""
    lines = _real_lines(300)
    # the archive's line 151, which the flip below was placed for: in another abstract's repetition the
    # same flipped bytes may still inflate, and only the CRC at the end finds them
    record = json.loads(lines[1])
    record["abstract"] = (record["abstract"] + " ") * (17 * 1024 * 1024 // len(record["abstract"]))
    monster = json.dumps(record).encode() + b"\n"
    data, ends = _gzip_parts(b"".join(lines[:150]), monster, b"".join(lines[151:]))
    flip = ends[0] + int((ends[1] - ends[0]) * 0.97)  # past the first 16 MB of the long line
    for i in range(flip, flip + 64):
        data[i] ^= 0xA5
    path = tmp_path / "monster.jsonl.gz"
    path.write_bytes(bytes(data))
    proc = _cli(tmp_path / "p.db", "ingest", "arxiv-jsonl", str(path), "--json")
    _assert_stopped(proc, tmp_path / "p.db", lines, 150, 151)


def test_reader_marks_the_break_as_the_end_of_input(tmp_path):
    lines = _real_lines(20)
    data, ends = _gzip_parts(b"".join(lines[:10]), b"".join(lines[10:]))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(bytes(data[: ends[0] + 50]))
    rows = list(read_jsonl(path, arxiv.parse_arxiv_jsonl))
    assert [n for n, _ in rows] == list(range(1, 12)) and type(rows[-1][1]).__name__ == "Unreadable"


# ---------------------------------------------------------------- item 10: read-only database
def _without_dac_override():
    """As root, file modes do not stop writes (CAP_DAC_OVERRIDE). Drop that capability from the
    child's bounding set so that, after exec, the kernel enforces a 0444 file or 0555 folder."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(24, 1, 0, 0, 0) != 0:  # PR_CAPBSET_DROP, CAP_DAC_OVERRIDE
        raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _cli_unprivileged(db, *args):
    return _cli(db, *args, preexec_fn=_without_dac_override if os.geteuid() == 0 else None)


@pytest.fixture
def readonly_case(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    lines = _real_lines(30)
    (tmp_path / "a.jsonl").write_bytes(b"".join(lines))
    assert _cli(folder / "p.db", "ingest", "arxiv-jsonl", str(tmp_path / "a.jsonl")).returncode == 0
    (tmp_path / "b.jsonl").write_text(_hf_line())
    try:
        yield folder, tmp_path / "b.jsonl"
    finally:
        folder.chmod(0o755)  # let pytest clean up
        for path in folder.iterdir():
            path.chmod(0o644) if path.is_file() else None


def _assert_readonly_message(proc, where: str):
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert "Traceback" not in proc.stderr and "not a papersift database" not in proc.stderr
    assert "cannot write to the database" in proc.stderr and where in proc.stderr


def test_ingest_into_a_read_only_database_file(readonly_case):
    folder, new = readonly_case
    (folder / "p.db").chmod(0o444)
    proc = _cli_unprivileged(folder / "p.db", "ingest", "hf-daily", str(new))
    _assert_readonly_message(proc, "the file is read-only")
    assert open_store(folder / "p.db").count_papers() == 30  # nothing half-written


def test_database_in_a_read_only_folder(readonly_case):
    folder, new = readonly_case
    folder.chmod(0o555)
    _assert_readonly_message(_cli_unprivileged(folder / "new.db", "init"), f"its folder {folder} is read-only")
    _assert_readonly_message(_cli_unprivileged(folder / "p.db", "ingest", "hf-daily", str(new)), "read-only")
    proc = _cli_unprivileged(folder / "sub" / "x.db", "init")
    assert proc.returncode == 2 and "cannot create the folder" in proc.stderr and "Traceback" not in proc.stderr


def test_a_file_that_is_not_a_database_still_says_so(tmp_path):
    (tmp_path / "junk.db").write_bytes(b"not sqlite at all" * 100)
    proc = _cli(tmp_path / "junk.db", "init")
    assert proc.returncode == 2 and "is not a papersift database" in proc.stderr


# ---------------------------------------------------------------- item 12: record limits, empty fields
@pytest.mark.parametrize("changes, message", [
    ({"title": None}, "missing field 'title'"),
    ({"title": "   "}, "missing field 'title'"),
    ({"title": "x" * 2_000_000}, f"title is too long (2000000 characters, at most {MAX_TITLE_CHARS})"),
    ({"abstract": "word " * 30_000}, "abstract is too long"),
    ({"title": "a\x00b"}, "title contains a NUL character"),
    ({"abstract": "\x00"}, "abstract contains a NUL character"),
    ({"authors": ["Ann\x00Lee"]}, "authors[0] contains a NUL character"),
    ({"authors": ["x" * 5000]}, "authors[0] is too long"),
])
def test_hostile_records_are_rejected_naming_the_field(changes, message):
    hf_record = json.loads(_hf_line(**changes))
    arxiv_record = {"id": "2405.15738", "title": "T", "abstract": "A", "authors": ["Ann Lee"],
                    "first_listing_date": "2024-05-27", **changes}
    for parse, record in ((hf.parse_hf_jsonl, hf_record), (arxiv.parse_arxiv_jsonl, arxiv_record)):
        with pytest.raises(BadInput) as err:
            parse(record)
        assert message in err.value.message


def test_ingest_reports_hostile_records_with_their_line(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(_hf_line() + _hf_line(arxiv_id="2405.00001", title=None)
                    + _hf_line(arxiv_id="2405.00002", title="t" * 2_000_000)
                    + _hf_line(arxiv_id="2405.00003", abstract="nul \u0000 here") + _hf_line(arxiv_id="2405.00004"))
    svc = Papersift(tmp_path / "p.db", embedder=False)
    report = svc.ingest_file("hf-daily", path, index=False)
    assert report.result.inserted == 2 and [n for n, _ in report.bad] == [2, 3, 4]
    assert svc.store.get_paper("2405.00003") is None


@pytest.mark.parametrize("typed", ["author", "authors", "cat", "org", "title", "id", "arxiv"])
@pytest.mark.parametrize("shape", ["{f}:", '{f}:""', "deep {f}:", "{f}:   ", '{f}:"" more'])
def test_a_field_without_a_value_is_an_error_naming_it(typed, shape):
    with pytest.raises(BadInput) as err:
        parse_query(shape.format(f=typed))
    assert err.value.message.startswith(f"{typed}: needs a value")


def test_a_field_name_then_a_space_stays_text():
    assert parse_query("Title: a sentence").terms == ["Title:", "a", "sentence"]


def test_empty_field_is_a_bad_input_at_the_service_too(corpus):
    for text in ("author:", 'cat:""'):
        with pytest.raises(BadInput, match="needs a value"):
            corpus.search(text, mode="bm25")
