"""The scheduler: when jobs are due (time zones, catch-up after downtime, never twice for one
moment), and `papersift run` as a real process: it serves the site, harvests from a local server
in the Hugging Face wire format, and sends the digest to a local SMTP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone

import httpx
import pytest

from papersift.config import Settings, load_settings
from papersift.errors import BadInput
from papersift.server.scheduler import Scheduler, latest_moment, next_moment
from tests.fakes.server import fixture

from ..digest_support import Clock, add_subscribers, make_service, smtp_config
from ..helpers import stop_process
from ..smtp_support import SMTPServer, free_port
from ..web_support import csrf_of


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def test_moments_in_a_time_zone():
    from datetime import time as t
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    times = [t(6, 0), t(18, 30)]
    assert latest_moment(times, paris, utc(2024, 5, 28, 3, 0)) == utc(2024, 5, 27, 16, 30)  # yesterday 18:30 CEST
    assert latest_moment(times, paris, utc(2024, 5, 28, 4, 0)) == utc(2024, 5, 28, 4, 0)  # 06:00 CEST exactly
    assert next_moment(times, paris, utc(2024, 5, 28, 4, 0)) == utc(2024, 5, 28, 16, 30)
    assert next_moment(times, ZoneInfo("UTC"), utc(2024, 5, 28, 23, 0)) == utc(2024, 5, 29, 6, 0)


def test_jobs_run_once_per_moment_and_catch_up_after_downtime(tmp_path):
    config = Settings()
    config.schedule.harvest_times = ["06:00", "18:00"]
    config.digest.send_time = "07:00"
    svc = make_service(tmp_path, config)
    clock = Clock(utc(2024, 5, 28, 6, 30))
    calls = []

    def scheduler() -> Scheduler:
        s = Scheduler(svc, None, clock=clock)
        for job in s.jobs:
            job.action = (lambda name: (lambda: calls.append((name, clock.now)) or {}))(job.name)
        return s

    first = scheduler()
    first.run_pending()  # a fresh install catches up the latest moment of each job
    assert calls == [("harvest", clock.now), ("digest", clock.now)]
    first.run_pending()
    assert len(calls) == 2  # nothing new is due
    assert first.seconds_to_next() == pytest.approx(30 * 60)  # 07:00 (capped by poll_seconds otherwise)
    clock.advance(minutes=31)  # 07:01: the digest's moment
    first.run_pending()
    assert [c[0] for c in calls[2:]] == ["digest"]
    scheduler().run_pending()  # a restart does not run anything twice
    assert len(calls) == 3
    clock.advance(days=1, hours=2)  # down over night: 09:01 next day: harvest 06:00 and digest 07:00 once each
    scheduler().run_pending()
    assert [c[0] for c in calls[3:]] == ["harvest", "digest"]
    cursor = svc.store.get_cursor("schedule:digest")
    assert cursor["for"] == "2024-05-29T07:00:00Z"


def test_a_failing_job_is_logged_and_the_loop_goes_on(tmp_path, caplog):
    svc = make_service(tmp_path)
    clock = Clock(utc(2024, 5, 28, 7, 30))
    s = Scheduler(svc, None, clock=clock)
    s.jobs[0].action = lambda: 1 / 0
    ran = s.run_pending()
    assert "division by zero" in ran["harvest"]["error"] and ran["digest"] == {"skipped": "email is not configured"}
    assert "harvest failed" in caplog.text


def test_config_file_and_environment(tmp_path):
    file = tmp_path / "papersift.toml"
    file.write_text('base_url = "https://papers.example.org/"\n[smtp]\nhost = "mail.example.org"\nport = 2525\n'
                    'sender = "p <d@example.org>"\n[digest]\nsend_time = "06:15"\ntimezone = "Europe/Paris"\n'
                    '[schedule]\nharvest_times = ["05:00"]\n')
    config = load_settings(file, env={"PAPERSIFT_SMTP_PORT": "587", "PAPERSIFT_SMTP_STARTTLS": "false",
                                    "PAPERSIFT_SCHEDULE_HARVEST_TIMES": "04:00, 16:00",
                                    "PAPERSIFT_DIGEST_BOUNCE_THRESHOLD": "5"})
    assert config.base_url == "https://papers.example.org" and config.smtp.host == "mail.example.org"
    assert config.smtp.port == 587 and config.smtp.starttls is False  # the environment wins over the file
    assert config.schedule.harvest_times == ["04:00", "16:00"] and config.digest.bounce_threshold == 5
    assert config.digest.send_time == "06:15" and str(config.zone) == "Europe/Paris"
    for env, message in [({"PAPERSIFT_SMTP_PORT": "0"}, "smtp.port"), ({"PAPERSIFT_DIGEST_SEND_TIME": "7am"}, "HH:MM"),
                         ({"PAPERSIFT_DIGEST_TIMEZONE": "Mars/Olympus"}, "unknown time zone"),
                         ({"PAPERSIFT_BASE_URL": "papers.example.org"}, "base_url"),
                         ({"PAPERSIFT_SCHEDULE_SOURCES": "hf,rss"}, "unknown source"),
                         ({"PAPERSIFT_SMTP_STARTTLS": "maybe"}, "expected"),
                         ({"PAPERSIFT_BASE_URL": ""}, "set base_url too"),
                         ({"PAPERSIFT_SMTP_SENDER": "nobody"}, "smtp.sender")]:
        with pytest.raises(BadInput, match=message):
            load_settings(file, env=env)
    with pytest.raises(BadInput, match="config file not found"):
        load_settings(tmp_path / "missing.toml", env={})
    assert load_settings(env={}).smtp.host == "" or os.path.exists("papersift.toml")


def test_papersift_run_serves_harvests_and_sends_the_digest(tmp_path, fake_http):
    fake_http.script("/api/daily_papers", fixture("hf_daily_2025-03-17.json"))  # every day
    smtp = SMTPServer().start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    weekday = datetime.now(timezone.utc).strftime("%a").lower()
    svc = make_service(tmp_path, smtp_config(smtp.port, weekly_day=weekday))  # a site with a weekly subscriber
    add_subscribers(svc, ["weekly@example.org"], cadence="weekly")
    svc.close()
    (tmp_path / "papersift.toml").write_text(
        f'base_url = "{base}"\n[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nstarttls = false\n'
        f'sender = "papersift <digest@papers.example.org>"\n[digest]\nweekly_day = "{weekday}"\n'
        'send_time = "00:00"\npoll_seconds = 1\n[schedule]\nsources = ["hf"]\nhf_days = 2\nharvest_times = ["00:00"]\n')
    env = {**os.environ, "PAPERSIFT_DB": str(svc.db), "PAPERSIFT_CONFIG": str(tmp_path / "papersift.toml"),
           "PAPERSIFT_HF_URL": fake_http.url}
    proc = subprocess.Popen([sys.executable, "-m", "papersift.cli", "run", "--port", str(port), "--no-embed"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        digest = _wait(lambda: smtp.to("weekly@example.org"), 90, proc)[0]  # harvest, then digest, at start-up
        assert len(fake_http.requests_to("/api/daily_papers")) >= 2
        text = digest.part("plain")
        harvested = json.loads(fixture("hf_daily_2025-03-17.json"))[0]["paper"]["id"]
        assert f"{base}/papers/{harvested}" in text  # the harvested papers are in it
        with httpx.Client(base_url=base, timeout=30) as client:
            assert client.get(f"/papers/{harvested}").status_code == 200
            assert client.get("/api/health").json()["status"] == "ok"
            # the website of `run` sends confirmations at once
            token = csrf_of(client.get("/subscribe").text)
            client.post("/subscribe", data={"csrf_token": token, "email": "new@example.org", "cadence": "daily",
                                            "trending": "1"})
        confirmation = _wait(lambda: smtp.to("new@example.org"), 30, proc)[0]
        assert f"{base}/subscribe/confirm/" in confirmation.part("plain")
    finally:
        out, err = stop_process(proc)
        smtp.stop()
    assert proc.returncode == 0, err[-2000:]
    assert len(smtp.to("weekly@example.org")) == 1


def _wait(check, timeout: float, proc):
    deadline = time.time() + timeout
    while time.time() < deadline:
        found = check()
        if found:
            return found
        if proc.poll() is not None:
            raise AssertionError(f"papersift run exited: {proc.communicate()[1][-3000:]}")
        time.sleep(0.1)
    raise AssertionError("timed out")
