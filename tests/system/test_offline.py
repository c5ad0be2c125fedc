"""Offline, a live source fails at once and in plain words; a wait for a retry ends when asked.

No network is needed: names under the reserved ``.invalid`` top-level domain never resolve (RFC
6761), which is what every name looks like to a machine without a network.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from papersift.errors import Unavailable
from papersift.ingest.arxiv import OAIHarvester
from papersift.ingest.hf import HFDailyClient
from papersift.server.app import create_app
from papersift.service import Papersift
from tests.fakes.server import Reply

from ..helpers import running_server
from ..web_support import csrf_of, sign_up, site_service

NO_SUCH_ARXIV = "http://export.arxiv.invalid/oai"
NO_NETWORK = "cannot reach export.arxiv.invalid: no network (name resolution failed)"
HANG = 10.0  # seconds: a submission took 15 s before, a harvest 157 s; an answer at once takes well under 1


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.mark.parametrize("ask", [
    lambda sleeps: list(OAIHarvester(NO_SUCH_ARXIV, sleep=sleeps).harvest("2026-11-20", set_spec="cs")),
    lambda sleeps: OAIHarvester(NO_SUCH_ARXIV, sleep=sleeps).get_record("2503.11731"),
    lambda sleeps: HFDailyClient("https://huggingface.invalid", sleep=sleeps).fetch_day("2026-11-20"),
], ids=["oai-harvest", "oai-getrecord", "hf-day"])
def test_no_network_is_said_at_once_and_not_retried(ask):
    sleeps = Sleeps()
    with pytest.raises(Unavailable) as caught:
        ask(sleeps)
    assert sleeps == []  # a name that does not resolve now will not resolve in five seconds either
    host = "huggingface.invalid" if "huggingface" in caught.value.message else "export.arxiv.invalid"
    assert caught.value.message == f"cannot reach {host}: no network (name resolution failed)"


def test_a_stop_ends_the_wait_for_a_retry(tmp_path, fake_http):
    """What the scheduler of `papersift run` relies on to stop within a second: Hugging Face asks
    for a minute's pause, and the harvest waiting it out ends as soon as the stop event is set."""
    fake_http.script("/api/daily_papers", Reply(503, {"Retry-After": "60"}, "busy"))
    svc = Papersift(tmp_path / "p.db", embedder=False)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    with pytest.raises(Unavailable, match="^stopped"):  # ingest.http.Stopped
        svc.harvest_hf(["2025-03-17"], base_url=fake_http.url, stop=stop)
    assert time.monotonic() - started < HANG
    assert len(fake_http.requests) == 1  # asked once, then waited, then stopped


def test_submitting_a_new_paper_offline_answers_at_once(tmp_path):
    svc = site_service(tmp_path / "site.db", arxiv_oai_url=NO_SUCH_ARXIV)
    with running_server(create_app(svc, background=False)) as base, httpx.Client(base_url=base, timeout=60) as c:
        assert sign_up(c, "offline@example.com").status_code == 303
        token = csrf_of(c.get("/submit").text)
        started = time.monotonic()
        answer = c.post("/submit", data={"csrf_token": token, "arxiv_id": "2503.11731"})
        assert time.monotonic() - started < HANG
    assert answer.status_code == 503 and NO_NETWORK in answer.text.lower()  # the form starts it with a capital
    assert "Errno" not in answer.text and "Traceback" not in answer.text
    assert svc.store.get_paper("2503.11731") is None
