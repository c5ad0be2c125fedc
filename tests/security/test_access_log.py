"""The private feed's secret stays out of the access log.

The feed URL's secret is the reader's credential (web/rss_atom.py); uvicorn's access log writes
every request path. Here the real app runs on uvicorn with ``papersift serve``'s settings and the
access log records are read as a handler receives them; then ``papersift serve`` itself runs as a
process, with one worker and with ``--workers 2``, and its whole output is searched for the secret.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from contextlib import contextmanager

import httpx
import pytest

from papersift.cli.common import server_config
from papersift.server.app import create_app
from papersift.service.personal import token_hash
from papersift.store import open_store
from tests.helpers import running_server, stop_process, wait_until_answers
from tests.system.test_start import free_port
from tests.web_support import build_service


class Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextmanager
def serving_with_access_log(app):
    config = server_config(app, "127.0.0.1", 0, "127.0.0.1", log_level="info")
    records = Records()
    access = logging.getLogger("uvicorn.access")
    access.addHandler(records)  # after server_config: uvicorn's logging setup replaces the handlers
    try:
        with running_server(app, config) as base:
            yield base, records
    finally:
        access.removeHandler(records)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    svc = build_service(tmp_path_factory.mktemp("access"), lines=50)
    user = svc.accounts.create_user("reader@example.org", "correct horse battery")
    secret = svc.personal.new_feed_token(user)
    yield create_app(svc, background=False), secret
    svc.close()


def test_the_access_log_masks_the_private_feed_secret(site):
    app, secret = site
    with serving_with_access_log(app) as (base, records), httpx.Client(base_url=base, timeout=30) as client:
        for path in (f"/for-you/feed/{secret}.atom", f"/for-you/feed/{secret}.rss?utm_source=reader",
                     f"/for-you/%66eed/{secret}.atom"):  # percent-encoded: the same route, logged as sent
            assert client.get(path).status_code == 200, path
        assert client.get(f"/for-you/feed/{secret[:-1]}x.atom").status_code == 404  # a near miss is masked too
        assert client.get("/feeds/daily.atom").status_code == 200
    lines = records.lines
    assert len(lines) >= 5 and not any(secret[:20] in line or secret[-20:] in line for line in lines), lines
    logged = " ".join(lines)
    for masked in ('"GET /for-you/feed/***.atom HTTP/1.1" 200', '"GET /for-you/feed/***.rss?utm_source=reader',
                   '"GET /for-you/%66eed/***.atom HTTP/1.1" 200', '"GET /for-you/feed/***.atom HTTP/1.1" 404',
                   '"GET /feeds/daily.atom HTTP/1.1" 200'):  # other paths as they were
        assert masked in logged, (masked, lines)


@pytest.mark.parametrize("workers", [1, 2])
def test_papersift_serve_never_prints_the_secret(tmp_path, workers):
    db = tmp_path / "p.db"
    store = open_store(db)
    uid = store.create_user("reader@example.org", "Reader", "x").id
    secret = "s3cret-" + "A" * 36
    store.set_feed_token(uid, token_hash(secret))
    store.close()
    port = free_port()
    env = {**os.environ, "PAPERSIFT_DB": str(db), "PAPERSIFT_INDEX_DIR": str(tmp_path / "index")}
    proc = subprocess.Popen([sys.executable, "-m", "papersift.cli", "serve", "--workers", str(workers), "--no-embed",
                             "--port", str(port)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_until_answers(f"http://127.0.0.1:{port}/api/health", proc)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            for _ in range(6):  # several requests: with two workers, both are likely to answer some
                assert client.get(f"/for-you/feed/{secret}.atom").status_code == 200
    finally:
        out, err = stop_process(proc)
    printed = out + err
    assert secret not in printed and "A" * 36 not in printed, printed[-2000:]
    assert printed.count("GET /for-you/feed/***.atom HTTP/1.1") == 6, printed[-2000:]
