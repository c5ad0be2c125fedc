import sqlite3
import threading

import numpy as np
import pytest

from papersift.errors import BadInput
from papersift.model import FeedEntry, Paper
from papersift.store import open_store
from papersift.store.sqlite import SCHEMA_VERSION


def hf(pid, day, upvotes, at="2024-06-01T00:00:00Z", **kw):
    return Paper(id=pid, title=f"Paper {pid}", abstract="About things.", source="hf-jsonl", observed_at=at,
                 upvotes=upvotes, feed_entry=FeedEntry(day=day, upvotes=upvotes, rank=0, captured_at=at), **kw)


# The store contract: each test below that takes `store` (or `store_url`) runs on SQLite and on
# a real PostgreSQL server (tests/pg_support.py); the SQLite-only ones look at the file itself.
def test_schema_version_and_reopening(store_url):
    store = open_store(store_url)
    assert store.schema_version() == SCHEMA_VERSION
    store.upsert_papers([hf("2405.00001", "2024-05-27", 3)])
    store.close()
    again = open_store(store_url)  # reopening runs no migration twice and keeps the data
    assert again.schema_version() == SCHEMA_VERSION and again.count_papers() == 1
    again.close()


def test_schema_and_wal(tmp_path):  # SQLite only: the journal mode of the file
    store = open_store(tmp_path / "p.db")
    assert store.schema_version() == SCHEMA_VERSION
    mode = sqlite3.connect(tmp_path / "p.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    # reopening runs no migration twice
    assert open_store(f"sqlite:///{tmp_path / 'p.db'}").schema_version() == SCHEMA_VERSION


def test_upsert_is_idempotent(store):
    batch = [hf("2405.00001", "2024-05-27", 3), hf("2405.00002", "2024-05-27", 7)]
    assert store.upsert_papers(batch).as_dict() == {"inserted": 2, "updated": 0, "unchanged": 0}
    seq = store.max_seq()
    assert store.upsert_papers(batch).as_dict() == {"inserted": 0, "updated": 0, "unchanged": 2}
    assert store.max_seq() == seq and store.count_papers() == 2
    newer = [hf("2405.00001", "2024-05-27", 5, at="2024-06-02T00:00:00Z"),
             hf("2405.00002", "2024-05-27", 9, at="2024-06-02T00:00:00Z"), hf("2405.00003", "2024-05-27", 1)]
    assert store.upsert_papers(newer).as_dict() == {"inserted": 1, "updated": 2, "unchanged": 0}  # each counted


def test_one_record_per_paper_across_sources(store):
    store.upsert_papers([hf("2405.00001", "2024-05-27", 3)])
    arxiv = Paper(id="2405.00001", title="Real title", categories=["cs.LG"], source="arxiv-jsonl",
                  observed_at="2024-05-20T00:00:00Z")
    assert store.upsert_papers([arxiv]).updated == 1
    paper = store.get_paper("2405.00001")
    assert store.count_papers() == 1
    assert paper.title == "Real title" and paper.upvotes == 3 and paper.categories == ["cs.LG"]
    assert paper.provenance["title"]["source"] == "arxiv-jsonl"
    assert paper.provenance["upvotes"]["source"] == "hf-jsonl"


def test_feed_entries_and_nearest_days(store):
    store.upsert_papers([hf("2405.00001", "2024-05-27", 3), hf("2405.00002", "2024-05-29", 9),
                         hf("2405.00001", "2024-05-29", 5, at="2024-06-02T00:00:00Z")])
    rows = store.feed_entries("2024-05-29", "2024-05-29")
    assert sorted(p.id for p, _ in rows) == ["2405.00001", "2405.00002"]
    assert store.get_paper("2405.00001").feed_days == ["2024-05-27", "2024-05-29"]
    assert store.nearest_feed_days("2024-05-28") == ("2024-05-27", "2024-05-29")
    assert store.latest_feed_day() == "2024-05-29"


def test_ties_come_in_id_order_on_every_backend(store):
    """Rows that tie on the order asked for (a day's feed rows of one rank, or of none; papers published
    at the same moment) come by paper id, whatever order they were written in, on both backends."""
    written = ["2405.00003", "2405.00001", "2405.00002"]
    store.upsert_papers([Paper(id=pid, title=pid, source="hf-jsonl", observed_at="2024-06-01T00:00:00Z",
                               published="2024-05-20T00:00:00Z", feed_entry=FeedEntry(day="2024-05-27"))
                         for pid in written])
    store.upsert_papers([hf("2405.00009", "2024-05-27", 1), hf("2405.00008", "2024-05-27", 1)])  # both rank 0
    assert [p.id for p, _ in store.feed_entries("2024-05-27", "2024-05-27")] == [
        "2405.00001", "2405.00002", "2405.00003", "2405.00008", "2405.00009"]  # no rank first, as SQLite sorts
    assert [p.id for p, _ in store.feed_rows("2024-05-27", "2024-05-27")] == [
        "2405.00001", "2405.00002", "2405.00003", "2405.00008", "2405.00009"]
    assert [p.id for p in store.papers_published_between("2024-05-20", "2024-05-20")] == sorted(written)


def test_changes_feed_and_watermarks(store):
    store.upsert_papers([hf(f"2405.0000{i}", "2024-05-27", i) for i in range(1, 6)])
    assert [p.id for _, p in store.iter_changes(3)] == ["2405.00004", "2405.00005"]
    store.set_watermark("lexical", 3)
    assert store.get_watermark("lexical") == 3 and store.get_watermark("other") == 0


def test_a_batch_that_changes_a_paper_twice_numbers_every_change(store):
    """[A, B, A']: three changes, three numbers; B keeps the second, A the third (its first is used
    up), on both backends, and the next write goes on from there."""
    store.upsert_papers([hf("2405.00009", "2024-05-26", 1)])
    assert store.max_seq() == 1
    a, b = hf("2405.00001", "2024-05-27", 3), hf("2405.00002", "2024-05-27", 7)
    a_again = hf("2405.00001", "2024-05-28", 5, at="2024-06-02T00:00:00Z")
    assert store.upsert_papers([a, b, a_again]).as_dict() == {"inserted": 2, "updated": 1, "unchanged": 0}
    assert store.max_seq() == 4
    assert [(seq, p.id) for seq, p in store.iter_changes(1)] == [(3, "2405.00002"), (4, "2405.00001")]
    assert store.count_changes(1) == 2 and store.count_changes(0) == 3  # papers, not changes: A counts once
    assert store.get_paper("2405.00001").upvotes == 5
    store.upsert_papers([hf("2405.00003", "2024-05-28", 1)])
    assert store.max_seq() == 5 and [p.id for _, p in store.iter_changes(4)] == ["2405.00003"]


def test_a_days_entry_keeps_the_newest_capture(store):
    """The feed entry of a day is replaced by a capture at least as new, never by an older one or one
    without a time, and a change to the entry alone counts as an update."""
    def capture(day, at, upvotes):
        return Paper(id="2405.00001", title="Paper", source="hf-jsonl", observed_at="2024-06-01T00:00:00Z",
                     feed_entry=FeedEntry(day=day, upvotes=upvotes, rank=0, captured_at=at))

    def shown(day):
        return [(e.upvotes, e.captured_at) for _, e in store.feed_entries(day, day)]

    early, late = "2024-05-27T08:00:00Z", "2024-05-27T20:00:00Z"
    assert store.upsert_papers([capture("2024-05-27", late, 3)]).inserted == 1
    assert store.upsert_papers([capture("2024-05-27", early, 5)]).as_dict() == {"inserted": 0, "updated": 0, "unchanged": 1}
    assert shown("2024-05-27") == [(3, late)]  # an older capture does not win
    assert store.upsert_papers([capture("2024-05-27", late, 4)]).as_dict() == {"inserted": 0, "updated": 1, "unchanged": 0}
    assert shown("2024-05-27") == [(4, late)]  # the same capture time, other numbers: replaced
    assert store.upsert_papers([capture("2024-05-27", None, 9)]).unchanged == 1 and shown("2024-05-27") == [(4, late)]
    store.upsert_papers([capture("2024-05-28", None, 1)])
    store.upsert_papers([capture("2024-05-28", early, 2)])
    assert shown("2024-05-28") == [(2, early)]  # a timed capture replaces one without a time


def test_cursor_commits_with_the_page_and_rolls_back_with_it(store):
    store.upsert_papers([hf("2405.00001", "2024-05-27", 1)], cursor=("h", {"token": "a"}))
    assert store.get_cursor("h") == {"token": "a"}

    def broken():
        yield hf("2405.00002", "2024-05-27", 1)
        raise RuntimeError("killed mid-page")

    with pytest.raises(RuntimeError):
        store.upsert_papers(broken(), cursor=("h", {"token": "b"}))
    assert store.get_cursor("h") == {"token": "a"} and store.get_paper("2405.00002") is None


def test_embeddings_roundtrip_checks_text_hash(store):
    vec = np.arange(4, dtype=np.float32)
    store.put_embeddings("m", [("a", "h1", vec)])
    assert np.array_equal(store.get_embeddings("m", {"a": "h1"})["a"], vec)
    assert store.get_embeddings("m", {"a": "h2"}) == {}
    assert [pid for pid, _ in store.iter_embeddings("m")] == ["a"]


def test_concurrent_writers_do_not_lose_papers(store):

    def write(start):
        for i in range(start, start + 20):
            store.upsert_papers([hf(f"2405.{i:05d}", "2024-05-27", i)])

    threads = [threading.Thread(target=write, args=(n * 20,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.count_papers() == 80 and store.max_seq() == 80


def test_bad_database_files(tmp_path):  # SQLite only: damaged and newer files
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(BadInput):
        open_store(junk)
    with pytest.raises(BadInput):
        open_store(tmp_path)
    with pytest.raises(BadInput):
        open_store("mysql://x")
    newer = tmp_path / "newer.db"
    sqlite3.connect(newer).execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(BadInput, match="upgrade"):
        open_store(newer)


def test_processes_opening_a_new_database_at_once_migrate_it_once(tmp_path):
    """Two processes creating the same file race on the migrations; both must open it cleanly.
    (SQLite; test_postgres_store.py races PostgreSQL's migrations.)"""
    import subprocess
    import sys

    db = tmp_path / "race.db"
    code = "import sys; from papersift.store import open_store; print(open_store(sys.argv[1]).schema_version())"
    procs = [subprocess.Popen([sys.executable, "-c", code, str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    outputs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err for _, err in outputs]
    assert len({out.strip() for out, _ in outputs}) == 1


def test_the_data_stamp_moves_with_every_commit_from_any_connection(tmp_path):
    from papersift.store.sqlite import SQLiteStore

    first, second = SQLiteStore(tmp_path / "s.db"), SQLiteStore(tmp_path / "s.db")  # two processes' objects
    first.upsert_papers([Paper(id="2405.00001", title="t", source="x", observed_at="2024-05-28T00:00:00Z")])
    stamp = first.data_stamp()
    assert first.get_paper("2405.00001") is not None and first.data_stamp() == stamp  # reads move nothing
    user = second.create_user("stamp@example.com", "stamp", "h")
    after_user = first.data_stamp()
    second.set_vote(user.id, "2405.00001", True)
    after_vote = first.data_stamp()
    first.set_paper_hidden("2405.00001", True)  # this object's own commit, from another connection of its own
    assert len({stamp, after_user, after_vote, first.data_stamp()}) == 4
    first.close()
    second.close()


def test_feed_rows_carry_the_papers_votes_and_date_and_the_whole_entry(store):
    paper = hf("2405.00001", "2024-05-27", 3, published="2024-05-24T17:59:12Z")
    paper.feed_entry = FeedEntry(day="2024-05-27", upvotes=5, num_comments=2, rank=4, submitted_by="ada",
                                 captured_at="2024-06-01T00:00:00Z")
    store.upsert_papers([paper])
    ((light, entry),) = store.feed_rows("2024-05-27", "2024-05-27")
    assert (light.id, light.upvotes, light.published) == ("2405.00001", 3, "2024-05-24T17:59:12Z")
    assert entry == FeedEntry(day="2024-05-27", upvotes=5, num_comments=2, rank=4, submitted_by="ada",
                              captured_at="2024-06-01T00:00:00Z")


def test_papers_published_between_takes_whole_days_and_no_more(store):
    days = ["2024-05-26T23:59:59Z", "2024-05-27T00:00:00Z", "2024-05-28T23:59:59Z", "2024-05-29T00:00:00Z"]
    store.upsert_papers([hf(f"2405.0000{i}", "2024-05-27", 1, published=day) for i, day in enumerate(days)])
    assert [p.id for p in store.papers_published_between("2024-05-27", "2024-05-28")] == ["2405.00001", "2405.00002"]


def test_embeddings_are_float32_the_newest_wins_and_iteration_pages_through_every_one(store):
    vectors = {f"2405.0000{i}": np.arange(4, dtype=np.float64) + i for i in range(5)}  # float64 in: float32 kept
    store.put_embeddings("m", [(pid, "h1", v) for pid, v in vectors.items()])
    store.put_embeddings("m", [("2405.00003", "h2", np.full(4, 9.0))])  # a new text: the vector is replaced
    got = store.get_embeddings("m", {"2405.00003": "h2", "2405.00001": "h1"})
    assert got["2405.00003"].dtype == np.float32 and got["2405.00003"].tolist() == [9.0] * 4
    assert got["2405.00001"].tolist() == [1.0, 2.0, 3.0, 4.0]
    walked = dict(store.iter_embeddings("m", batch=2))  # three pages of at most two
    assert sorted(walked) == sorted(vectors) and all(v.dtype == np.float32 and v.shape == (4,) for v in walked.values())
    assert walked["2405.00004"].tolist() == [4.0, 5.0, 6.0, 7.0]


def test_a_sqlite_store_makes_its_folders_and_says_what_it_cannot(tmp_path):  # SQLite only
    store = open_store(tmp_path / "a" / "b" / "p.db")  # missing folders are made
    assert store.url == f"sqlite:///{tmp_path / 'a' / 'b' / 'p.db'}" and store.count_papers() == 0
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(BadInput, match=r"^database path is a directory: .*dir\.db$"):
        open_store(tmp_path / "dir.db")
    (tmp_path / "file").write_text("x")
    with pytest.raises(BadInput, match=r"^cannot create the folder .*file for the database: File exists$"):
        open_store(tmp_path / "file" / "p.db")


def test_the_data_stamp_answers_any_thread_and_a_closed_store_opens_again(tmp_path):  # SQLite only
    store = open_store(tmp_path / "p.db")
    first = store.data_stamp()
    seen = []
    worker = threading.Thread(target=lambda: seen.append(store.data_stamp()))  # the page cache asks from any thread
    worker.start()
    worker.join()
    assert seen == [first]
    conn = store._db
    store.close()
    with pytest.raises(sqlite3.ProgrammingError):  # close() closed this thread's connection
        conn.execute("SELECT 1")
    store.upsert_papers([hf("2405.00001", "2024-05-27", 3)])  # and the store opens a new one when used again
    assert store.count_papers() == 1
    stamp = store.data_stamp()
    store.upsert_papers([hf("2405.00002", "2024-05-27", 3)])
    assert store.data_stamp() != stamp
    errors = []
    closer = threading.Thread(target=lambda: _catch(errors, store.close))  # a thread that never read closes fine
    closer.start()
    closer.join()
    assert errors == []


def _catch(errors: list, call) -> None:
    try:
        call()
    except Exception as exc:  # noqa: BLE001 - the test asserts there was none
        errors.append(exc)


def test_one_call_of_many_chunks_sees_its_own_earlier_chunks(store):
    # BATCH records are read, merged and written per round: a paper again in a later round of the same call
    # merges with what the earlier round wrote (in the same transaction), not with the stored state before it
    from papersift.store.papers import BATCH

    first = Paper(id="2405.00001", title="T", abstract="First.", source="hf-jsonl", observed_at="2024-06-01T00:00:00Z")
    filler = [Paper(id=f"2406.{i:05d}", title="F", source="hf-jsonl", observed_at="2024-06-01T00:00:00Z")
              for i in range(BATCH)]
    later = Paper(id="2405.00001", organization="Lab", source="hf-jsonl", observed_at="2024-06-02T00:00:00Z")
    result = store.upsert_papers([first, *filler, later])
    paper = store.get_paper("2405.00001")
    assert (paper.abstract, paper.organization) == ("First.", "Lab")
    assert (result.inserted, result.updated) == (BATCH + 1, 1)
    # and a day's feed row of an earlier round stands against an older capture of it in a later round
    newer, older = (hf("2405.00002", "2024-05-27", votes, at=at) for votes, at in
                    ((9, "2024-06-02T00:00:00Z"), (4, "2024-06-01T00:00:00Z")))
    store.upsert_papers([newer, *filler, older])
    ((_, entry),) = store.feed_rows("2024-05-27", "2024-05-27")
    assert (entry.upvotes, entry.captured_at) == (9, "2024-06-02T00:00:00Z")


def test_the_change_feed_pages_through_every_change(store):
    store.upsert_papers([Paper(id=f"2405.0000{i}", title="T", source="hf-jsonl", observed_at="2024-06-01T00:00:00Z")
                         for i in range(5)])
    assert [seq for seq, _ in store.iter_changes(0, batch=2)] == [1, 2, 3, 4, 5]


def test_known_ids_and_cursors_set_on_their_own(store):
    store.upsert_papers([hf("2405.00001", "2024-05-27", 3), hf("2405.00002", "2024-05-27", 1)])
    assert store.known_ids(["2405.00002", "2405.99999", "2405.00001"]) == {"2405.00001", "2405.00002"}
    assert store.known_ids([]) == set()
    store.set_cursor("harvest:x", {"until": "2024-05-27", "pages": 2})
    assert store.get_cursor("harvest:x") == {"until": "2024-05-27", "pages": 2}
    store.set_cursor("harvest:x", None)  # cleared
    assert store.get_cursor("harvest:x") is None and store.get_cursor("harvest:other") is None


def test_stored_times_are_utc_whatever_the_machine_s_zone(store, monkeypatch):
    import time as clock
    from datetime import datetime, timezone

    monkeypatch.setenv("TZ", "America/New_York")
    clock.tzset()
    try:
        user = store.create_user("zone@example.org", "zone", "x")
    finally:
        monkeypatch.undo()
        clock.tzset()
    made = datetime.strptime(user.created_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - made).total_seconds()) < 120
