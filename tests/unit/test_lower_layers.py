"""The lower layers keep their declared seams: the store protocol is complete and SQLite
implements it, index locations come from configuration, the vector index has a protocol, and
the live sources share one retrying HTTP helper."""

from __future__ import annotations

import inspect
import re
import socket
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

import httpx
import numpy as np
import pytest

from papersift.config import INDEX_DIR_ENV, index_dir_setting
from papersift.errors import BadInput, Unavailable
from papersift.index.vectors.exact import ExactVectorIndex
from papersift.index.vectors.protocol import VectorIndex
from papersift.ingest.http import RetryingClient, get_with_retries, retry_after_seconds
from papersift.service.corpus import Corpus
from papersift.store import SQLiteStore, default_index_dir, open_store
from papersift.store.protocol import (
    AuthorshipStore,
    CollectionStore,
    CommunityStore,
    DigestStore,
    DiscussionStore,
    PaperStore,
    Store,
)
from tests.fakes.server import DROP, Reply

SRC = Path(__file__).resolve().parents[2] / "src" / "papersift"
ABOVE_THE_STORE = ["service", "index", "search", "feed", "digest", "web", "api", "server", "cli",
                   "formats", "evaluate", "mcp"]
_CALL = re.compile(r"(?:^|[^\w])_?store\.([a-z_]\w*)\(")


# ---------------------------------------------------------------- the store protocol
def members(protocol: type) -> set[str]:
    """Public names a protocol declares (methods and attributes), its bases' included."""
    names: set[str] = set()
    for cls in protocol.__mro__:
        if cls in (object,) or not getattr(cls, "_is_protocol", False) or cls.__name__ in ("Protocol", "Generic"):
            continue
        names |= {n for n in vars(cls) if not n.startswith("_")}
        names |= set(getattr(cls, "__annotations__", {}))
    return names


def incompatibility(want: inspect.Signature, have: inspect.Signature) -> str | None:
    """Why a call written against ``want`` could fail on ``have`` (None: it cannot)."""
    given = have.parameters
    takes_any_kw = any(p.kind is p.VAR_KEYWORD for p in given.values())
    wanted_positional = [n for n, p in want.parameters.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    given_positional = [n for n, p in given.items() if p.kind is p.POSITIONAL_OR_KEYWORD]
    if given_positional[:len(wanted_positional)] != wanted_positional:
        return f"positional parameters {given_positional} do not start with {wanted_positional}"
    for name, p in want.parameters.items():
        q = given.get(name)
        if q is None:
            if not (p.kind is p.KEYWORD_ONLY and takes_any_kw):
                return f"no parameter {name!r}"
            continue
        if p.kind is p.POSITIONAL_OR_KEYWORD and q.kind is q.KEYWORD_ONLY:
            return f"{name!r} is keyword-only"
        if p.default is not p.empty and q.default is q.empty:
            return f"{name!r} may be left out by callers but has no default"
    extra = [n for n, q in given.items() if n not in want.parameters
             and q.kind not in (q.VAR_POSITIONAL, q.VAR_KEYWORD) and q.default is q.empty]
    return f"extra required parameters {extra}" if extra else None


def test_store_is_the_six_concerns():
    concerns = (PaperStore, CommunityStore, DigestStore, DiscussionStore, CollectionStore, AuthorshipStore)
    assert set(Store.__bases__) >= set(concerns)
    sets = [members(c) for c in concerns]
    assert all(not (a & b) for i, a in enumerate(sets) for b in sets[i + 1:])  # each method in one concern
    assert members(Store) == set().union(*sets)
    papers, community = sets[0], sets[1]
    assert {"schema_version", "get_cursor", "set_cursor", "max_seq", "iter_embeddings", "close"} <= papers
    assert {"create_user", "get_session", "set_vote", "hidden_paper_ids"} <= community


def test_sqlite_store_implements_every_protocol_method(tmp_path):
    store = SQLiteStore(tmp_path / "p.db")
    problems = []
    for name in sorted(members(Store)):
        if not hasattr(store, name):
            problems.append(f"{name}: missing")
            continue
        declared = inspect.getattr_static(Store, name, None)
        if not callable(declared):
            continue  # an attribute (url): being there is the contract
        implemented = inspect.getattr_static(SQLiteStore, name, None)
        why = incompatibility(inspect.signature(declared), inspect.signature(implemented))
        if why:
            problems.append(f"{name}: {why}")
    assert problems == []
    assert isinstance(store, Store) and isinstance(open_store(tmp_path / "q.db"), Store)
    store.close()


def test_the_signature_check_catches_drift():
    def want(self, a: int, b: int = 0, *, c: bool = False): ...
    def fine(self, a, b=0, *, c=False, d=None): ...
    def no_default(self, a, b, *, c=False): ...
    def renamed(self, x, b=0, *, c=False): ...
    def extra(self, a, b=0, e=None, *, c=False, f): ...
    assert incompatibility(inspect.signature(want), inspect.signature(fine)) is None
    for bad in (no_default, renamed, extra):
        assert incompatibility(inspect.signature(want), inspect.signature(bad)) is not None


def store_calls(packages: list[str]) -> dict[str, set[str]]:
    """Store method name -> files above the store that call it."""
    calls: dict[str, set[str]] = {}
    for package in packages:
        for path in (SRC / package).rglob("*.py"):
            for name in _CALL.findall(path.read_text(encoding="utf-8")):
                calls.setdefault(name, set()).add(str(path.relative_to(SRC)))
    return calls


def test_every_store_method_called_above_the_store_is_declared():
    calls = store_calls(ABOVE_THE_STORE)
    assert "schema_version" in calls and "upsert_papers" in calls  # the scan sees real calls
    undeclared = {name: files for name, files in calls.items() if name not in members(Store)}
    assert undeclared == {}


def test_indexes_and_search_need_only_the_paper_store():
    calls = store_calls(["index", "search"])
    assert calls and set(calls) <= members(PaperStore)


# ---------------------------------------------------------------- index location
def test_index_dir_defaults_beside_a_sqlite_file(tmp_path):
    db = tmp_path / "papers.db"
    assert default_index_dir(db) == tmp_path / "papers.db.index"
    assert default_index_dir(f"sqlite:///{db}") == tmp_path / "papers.db.index"
    with pytest.raises(BadInput, match="unknown database URL"):
        default_index_dir("mysql://host/db")


def test_index_dir_setting_comes_from_the_environment(tmp_path):
    assert index_dir_setting({}) is None and index_dir_setting({INDEX_DIR_ENV: "  "}) is None
    assert index_dir_setting({INDEX_DIR_ENV: str(tmp_path / "idx")}) == tmp_path / "idx"


def test_corpus_index_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv(INDEX_DIR_ENV, raising=False)
    db = tmp_path / "c.db"
    corpus = Corpus(db, embedder=False)
    assert corpus.index_dir == tmp_path / "c.db.index"  # where existing installs keep it
    corpus.close()
    monkeypatch.setenv(INDEX_DIR_ENV, str(tmp_path / "elsewhere"))
    corpus = Corpus(f"sqlite:///{db}", embedder=False)
    assert corpus.index_dir == tmp_path / "elsewhere"
    corpus.close()
    corpus = Corpus(db, index_dir=tmp_path / "given", embedder=False)
    assert corpus.index_dir == tmp_path / "given"
    corpus.close()


# ---------------------------------------------------------------- the vector index
def unit(*values: float) -> np.ndarray:
    v = np.asarray(values, dtype=np.float32)
    return v / np.linalg.norm(v)


def small_index() -> ExactVectorIndex:
    index = ExactVectorIndex(3)
    index.add(["a", "b", "c", "d"], np.vstack([unit(1, 0, 0), unit(1, 1, 0), unit(0, 1, 0), unit(0, 0, 1)]))
    return index


def test_exact_vector_index_satisfies_the_protocol():
    index = small_index()
    assert isinstance(index, VectorIndex)
    for name in ("add", "delete", "search", "vector", "__len__"):
        want = inspect.signature(getattr(VectorIndex, name))
        assert incompatibility(want, inspect.signature(getattr(ExactVectorIndex, name))) is None, name
    assert len(index) == 4 and index.dim == 3
    assert np.allclose(index.vector("b"), unit(1, 1, 0)) and index.vector("zz") is None


def test_search_with_allowed_returns_only_allowed_ids():
    index = small_index()
    query = unit(1, 0.1, 0)
    assert [d for d, _ in index.search(query, 4)][:3] == ["a", "b", "c"]
    assert [d for d, _ in index.search(query, 10, allowed={"c", "d"})] == ["c", "d"]
    assert [d for d, _ in index.search(query, 1, allowed={"b", "d", "unknown"})] == ["b"]
    assert index.search(query, 5, allowed=set()) == []
    index.delete(["c"])
    assert [d for d, _ in index.search(query, 10, allowed={"c", "d"})] == ["d"]  # deleted stays out
    assert len(index) == 3 and "c" not in {d for d, _ in index.search(query, 10)}


# ---------------------------------------------------------------- the retrying HTTP helper
class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def test_retry_after_as_seconds_or_http_date():
    now = datetime(2025, 3, 17, 12, 0, tzinfo=timezone.utc)
    assert retry_after_seconds("7", now) == 7.0 and retry_after_seconds("-3", now) == 0.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90.0
    assert retry_after_seconds(format_datetime(now - timedelta(hours=1), usegmt=True), now) == 0.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None


def test_get_with_retries_honours_retry_after_then_succeeds(fake_http):
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    fake_http.script("/x", Reply(429, {"Retry-After": "4"}), Reply(503, {"Retry-After": later}),
                     Reply(500), Reply(200, {}, "ok"))
    sleeps = Sleeps()
    with httpx.Client() as http:
        response = get_with_retries(http, fake_http.url + "/x", {"q": "1"}, source="Test", max_attempts=4,
                                    max_wait=20, sleep=sleeps, backoff=2.0)
    assert response.text == "ok" and len(fake_http.requests) == 4
    assert sleeps[0] == 4.0 and sleeps[1] == 20  # the HTTP date (~30 s) is capped at max_wait
    assert sleeps[2] == 8.0  # no Retry-After: the backoff, doubled twice by then
    assert fake_http.requests[0].query == {"q": "1"}


def test_get_with_retries_returns_other_errors_to_the_caller(fake_http):
    fake_http.script("/x", Reply(404, {}, "no"))
    with RetryingClient("Test", sleep=Sleeps()) as client:
        assert client.get(fake_http.url + "/x").status_code == 404
    assert len(fake_http.requests) == 1  # a 404 is an answer, not a reason to retry


def test_get_with_retries_gives_up_with_a_clear_message(fake_http):
    fake_http.script("/x", Reply(502))
    sleeps = Sleeps()
    client = RetryingClient("Test source", sleep=sleeps, max_attempts=3, max_wait=5, backoff=1.0)
    with pytest.raises(Unavailable, match=r"Test source answered HTTP 502 for http://\S+/x 3 times; try again"):
        client.get(fake_http.url + "/x")
    with pytest.raises(Unavailable, match=r"^Test source: 502 after 3 \(page 9\)$"):
        client.get(fake_http.url + "/x", gave_up="{source}: {status} after {attempts} ({what})", what="page 9")
    assert sleeps == [1.0, 2.0] * 2
    client.close()


def test_get_with_retries_unreachable(fake_http):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps = Sleeps()
    with pytest.raises(Unavailable, match=rf"^cannot reach 127.0.0.1:{port}: connection refused"):
        RetryingClient("Test", sleep=sleeps, max_attempts=2, backoff=3.0).get(f"http://127.0.0.1:{port}/")
    assert sleeps == []  # refused: not retried
    fake_http.script("/x", DROP)  # dropped unanswered: worth another try
    with pytest.raises(Unavailable, match=rf"Test is unreachable at {fake_http.url}/x: "):
        RetryingClient("Test", sleep=sleeps, max_attempts=2, backoff=3.0).get(f"{fake_http.url}/x")
    assert sleeps == [3.0]


def test_a_given_http_client_stays_open(fake_http):
    fake_http.script("/x", "ok")
    with httpx.Client() as http:
        with RetryingClient("Test", http=http) as client:
            assert client.get(fake_http.url + "/x").text == "ok"
        assert not http.is_closed
