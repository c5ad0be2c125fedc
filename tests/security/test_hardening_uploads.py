"""Library uploads cannot freeze the site, and a request that fails is one log line with its id.

A real site (SQLite file, uvicorn on 127.0.0.1): hostile library files on both upload routes, four
big imports at once while the health check answers, the child-process reader's own failures, an
import that fails half-way storing nothing (both store backends), and a real ``papersift serve``
whose 500 is logged in one line.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time

import httpx
import pytest

from papersift.errors import BadInput, NotFound
from papersift.ingest import sandbox
from papersift.ingest.library import read_library
from papersift.model import Paper
from papersift.server.app import create_app
from papersift.service import Papersift

from ..helpers import wait_until_answers
from ..library_corpus import ADVERSARIAL, arxiv_ids, zotero_bibtex
from ..web_support import form_token, log_in, served_site, sign_up

SMALL = 24_000  # bytes of each hostile file here; bench/library_import.py runs them at 4 MB


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with served_site(tmp_path_factory.mktemp("uploads"), lines=200) as (svc, base):
        client = httpx.Client(base_url=base, timeout=60)
        assert sign_up(client, "reader@example.org").status_code == 303
        _, secret = svc.accounts.create_token(svc.accounts.user_by_email("reader@example.org"), "tests")
        yield {"svc": svc, "base": base, "client": client, "token": secret}
        client.close()


def _api_import(site, text: str, name: str, timeout: float = 60) -> httpx.Response:
    return httpx.post(site["base"] + "/api/v1/me/library-import", params={"name": name}, content=text.encode(),
                      headers={"Authorization": f"Bearer {site['token']}", "Content-Type": "text/plain"},
                      timeout=timeout)


def _web_import(client: httpx.Client, text: str, name: str) -> httpx.Response:
    token = form_token(client, "/for-you/start")
    return client.post("/for-you/start/library", data={"csrf_token": token},
                       files={"library": (name or "library", text.encode())})


# ---- the parsers, on hostile text
@pytest.mark.parametrize("case", sorted(ADVERSARIAL))
def test_hostile_library_text_is_read_or_refused_in_one_line(case):
    text, name = ADVERSARIAL[case](SMALL)
    try:
        got = read_library(text, name)
    except BadInput as exc:
        assert "\n" not in exc.message and len(exc.message) < 300
        return
    assert got.entries <= 10_000 and len(got.problems) <= 101
    assert all("\n" not in message for _, message in got.problems)


def test_deep_json_and_long_numbers_name_the_problem():
    with pytest.raises(BadInput, match="nests arrays or objects too deeply"):
        read_library("[" * 100_000, "x.json")
    with pytest.raises(BadInput, match="nests arrays or objects too deeply"):
        read_library('{"a":' * 100_000, "x.json")
    with pytest.raises(BadInput, match="number too long"):
        read_library("[" + "9" * 4301 + "]", "x.json")


def test_bibtex_refused_by_its_shape_before_parsing():
    with pytest.raises(BadInput, match="the limit is 10,000 entries"):
        read_library("@a{" * 20_001, "x.bib")
    with pytest.raises(BadInput, match="is it BibTeX"):
        read_library("@misc{k, title = {" + "{" * 1_500_001, "x.bib")
    # below both limits, a file of broken blocks is read, each block a problem (capped)
    got = read_library("@a{" * 8000, "x.bib")
    assert got.entries == 0 and len(got.problems) == 101


def test_csl_items_that_are_not_objects_count_as_entries():
    with pytest.raises(BadInput, match="more than 10,000 entries"):
        read_library("[" + "1," * 10_001 + "1]", "x.json")


# ---- the child-process reader
def test_the_child_raises_papersift_errors_as_they_were():
    with pytest.raises(NotFound, match="nothing here"):
        sandbox.run_in_child(_raises_not_found, what="the file")
    assert sandbox.run_in_child(read_library, "2405.15738\n", "ids.txt", what="the file").ids == ["2405.15738"]


def test_a_child_past_its_deadline_is_killed_and_reported():
    started = time.monotonic()
    with pytest.raises(BadInput, match=r"the file took more than 1 s to read"):
        sandbox.run_in_child(_sleeps, 60, what="the file", deadline=1)
    assert time.monotonic() - started < 30  # killed, not waited for


def test_a_crashing_or_buggy_reader_is_bad_input():
    with pytest.raises(BadInput, match="the reader stopped"):
        sandbox.run_in_child(os._exit, 3, what="the file")
    with pytest.raises(BadInput, match=r"could not be read \(ZeroDivisionError\)"):
        sandbox.run_in_child(_divides_by_zero, what="the file")


def _raises_not_found():
    raise NotFound("nothing here")


def _sleeps(seconds: float):
    time.sleep(seconds)


def _divides_by_zero():
    return 1 / 0


# ---- the routes
@pytest.mark.parametrize("case", ["arxiv repeated, a list", "arxiv repeated, a BibTeX note", "@a{ repeated",
                                  "deep JSON arrays", "a number of 4,301 digits", "deep open braces in BibTeX"])
def test_hostile_files_on_the_api_answer_at_once(site, case):
    # 60 KB of "arxiv" took 63 s (and held every other request) before: a stuck import times out here
    text, name = ADVERSARIAL[case](60_000)
    response = _api_import(site, text, name, timeout=20)
    assert response.status_code in (200, 400), response.text[:300]
    if response.status_code == 400:
        assert "\n" not in response.json()["error"]["message"]


@pytest.mark.parametrize("case", ["@a{ repeated", "deep JSON arrays", "arxiv repeated, a BibTeX note"])
def test_hostile_files_on_the_web_upload_answer_at_once(site, case):
    text, name = ADVERSARIAL[case](60_000)
    with httpx.Client(base_url=site["base"], timeout=20) as client:
        log_in(client, "reader@example.org")
        response = _web_import(client, text, name)
    assert response.status_code in (200, 400), response.text[:300]
    assert "Traceback" not in response.text


def test_the_site_answers_while_big_imports_run(site):
    """Four 10,000-entry imports at once (web and API) while the health check is asked every 0.1 s: no
    answer waits for an import (on the event loop, one waited for a whole import: a minute)."""
    library = zotero_bibtex(10_000)
    took: dict[str, float] = {}

    def web(n):
        with httpx.Client(base_url=site["base"], timeout=120) as client:
            log_in(client, "reader@example.org")
            started = time.monotonic()
            response = _web_import(client, library, "library.bib")
            took[f"web{n}"] = time.monotonic() - started
            assert response.status_code == 200 and "Not on this server (8000)" in response.text

    def api(n):
        started = time.monotonic()
        response = _api_import(site, library, "library.bib", timeout=120)
        took[f"api{n}"] = time.monotonic() - started
        assert response.status_code == 200 and response.json()["entries"] == 10_000

    threads = [threading.Thread(target=web, args=(n,)) for n in (1, 2)] + \
              [threading.Thread(target=api, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    health: list[float] = []
    with httpx.Client(base_url=site["base"], timeout=120) as client:
        while any(thread.is_alive() for thread in threads):
            started = time.monotonic()
            assert client.get("/api/v1/health").status_code == 200
            health.append(time.monotonic() - started)
            time.sleep(0.1)
    assert len(took) == 4, took
    assert len(health) >= 3 and max(health) < min(took.values()) / 2, (health, took)


# ---- one transaction per import
def test_an_import_that_fails_half_way_stores_nothing(store_url, tmp_path):
    svc = Papersift(store_url, index_dir=tmp_path / "idx", embedder=False)
    try:
        ids = arxiv_ids(10)
        svc.store.upsert_papers([Paper(id=i, title=f"Paper {i}", source="test", observed_at="2026-01-01T00:00:00Z") for i in ids])
        user = svc.accounts.create_user("half@example.org", "correct horse battery", "half")
        _fail_on_fifth_signal(svc, store_url)
        with pytest.raises(Exception, match="boom on the fifth signal"):
            svc.personal.seed_library(user, "\n".join(ids), "ids.txt")
        assert svc.store.user_signals(user.id) == []
    finally:
        svc.close()


def _fail_on_fifth_signal(svc: Papersift, store_url: str) -> None:
    """A database trigger that aborts the fifth signal row: a failure in the middle of an import."""
    if store_url.startswith("postgresql"):
        import psycopg

        with psycopg.connect(store_url, autocommit=True) as conn:
            conn.execute("CREATE FUNCTION fifth_fails() RETURNS trigger AS $$ BEGIN"
                         " IF (SELECT count(*) FROM signals) >= 5 THEN RAISE EXCEPTION 'boom on the fifth signal'; END IF;"
                         " RETURN NEW; END $$ LANGUAGE plpgsql")
            conn.execute("CREATE TRIGGER fifth_fails BEFORE INSERT ON signals FOR EACH ROW EXECUTE FUNCTION fifth_fails()")
    else:
        with sqlite3.connect(svc.store.path) as conn:
            conn.execute("CREATE TRIGGER fifth_fails BEFORE INSERT ON signals WHEN (SELECT count(*) FROM signals) >= 4"
                         " BEGIN SELECT RAISE(ABORT, 'boom on the fifth signal'); END")


def test_a_server_killed_during_an_import_keeps_all_of_it_or_none(tmp_path):
    """SIGKILL the server the moment the first signal of a 10,000-id import is visible in the database:
    with one transaction the import is then whole (it committed) or absent, never a part of it."""
    db, ids = tmp_path / "p.db", arxiv_ids(12_500)[:10_000]
    svc = Papersift(db, index_dir=tmp_path / "idx", embedder=False)
    svc.store.upsert_papers([Paper(id=i, title=f"Paper {i}", source="test", observed_at="2026-01-01T00:00:00Z")
                             for i in ids])
    user = svc.accounts.create_user("kill@example.org", "correct horse battery", "kill")
    _, token = svc.accounts.create_token(user, "kill")
    svc.close()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "papersift.cli", "--db", str(db), "serve", "--no-embed",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/api/v1/health", proc, seconds=120)
        client = threading.Thread(target=_post_quietly, args=(port, token, "\n".join(ids)))
        client.start()
        stored = _first_signals(db, deadline=time.monotonic() + 120)
        proc.kill()
        client.join(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    with sqlite3.connect(db) as conn:
        count = conn.execute("SELECT count(*) FROM signals").fetchone()[0]
    assert stored > 0 and count in (0, len(ids)), (stored, count)


def _post_quietly(port: int, token: str, body: str) -> None:
    try:
        httpx.post(f"http://127.0.0.1:{port}/api/v1/me/library-import", params={"name": "ids.txt"},
                   content=body.encode(), headers={"Authorization": f"Bearer {token}"}, timeout=120)
    except httpx.HTTPError:  # the server is killed under it: no answer is the expected outcome
        pass


def _first_signals(db, deadline: float) -> int:
    """Poll (from another connection, as any reader would) until a signal row is visible."""
    while time.monotonic() < deadline:
        with sqlite3.connect(db, timeout=30) as conn:
            count = conn.execute("SELECT count(*) FROM signals").fetchone()[0]
        if count:
            return count
        time.sleep(0.001)
    raise AssertionError("no signal was ever stored")


# ---- a failed request: one log line with its id
def test_a_500_is_one_log_line_with_the_request_id(tmp_path):
    db = tmp_path / "p.db"
    Papersift(db, embedder=False).close()
    port = _free_port()
    log = open(tmp_path / "server.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "papersift.cli", "--db", str(db), "serve", "--no-embed",
                             "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_answers(base + "/api/v1/health", _LogProc(proc, log), seconds=120)
        with sqlite3.connect(db) as conn:  # an unexpected failure inside a request: its table is gone
            conn.execute("DROP TABLE feed_entries")
        response = httpx.get(base + "/api/v1/daily_papers", params={"date": "2024-05-27"},
                             headers={"X-Request-Id": "report-me-42"}, timeout=30)
        assert response.status_code == 500
        assert response.headers["x-request-id"] == "report-me-42"
        assert "request report-me-42" in response.json()["error"]["message"]
        minted = httpx.get(base + "/api/v1/health", headers={"X-Request-Id": "not <a> tame id" * 10}, timeout=30)
        assert "tame" not in minted.headers["x-request-id"] and len(minted.headers["x-request-id"]) == 12
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    log.seek(0)
    text = log.read()
    lines = [line for line in text.splitlines() if "report-me-42" in line]
    assert len(lines) == 1, text[-3000:]
    assert "OperationalError" in lines[0] and "/api/v1/daily_papers" in lines[0]
    assert "Traceback" not in text


def test_the_app_replaces_the_mcp_sdks_rich_handler(tmp_path):
    root = logging.getLogger()
    kept = root.handlers[:]  # a fresh process has none, so the SDK's basicConfig adds its handler
    root.handlers.clear()
    svc = Papersift(tmp_path / "p.db", embedder=False)
    try:
        create_app(svc, background=False)
        names = [type(h).__name__ for h in root.handlers]
        assert "RichHandler" not in names and len(names) == 1
    finally:
        root.handlers[:] = kept
        svc.close()


class _LogProc:
    """``wait_until_answers`` reads a dead server's stderr; here it went to a file."""

    def __init__(self, proc, log):
        self.proc, self.log = proc, log

    def poll(self):
        return self.proc.poll()

    @property
    def stderr(self):
        self.log.seek(0)
        return self.log


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
