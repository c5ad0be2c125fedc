"""The quick start command: `papersift start` on an empty database, offline."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import httpx

from ..helpers import HF_SAMPLE


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def offline_env(tmp_path, **extra) -> dict:
    # An HF URL nobody answers on stands in for "no internet".
    return {**os.environ, "PAPERSIFT_DB": str(tmp_path / "p.db"), "PAPERSIFT_HF_URL": f"http://127.0.0.1:{free_port()}",
            **extra}


def test_start_offline_loads_the_shared_archive_and_serves(tmp_path):
    shared = tmp_path / "shared"  # the data folder the offline start reads, holding the committed sample
    shared.mkdir()
    (shared / "hf-daily-papers-2024-2026.jsonl.gz").symlink_to(HF_SAMPLE)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "papersift.cli", "start", "--port", str(port), "--limit", "300",
                             "--days", "2"], env=offline_env(tmp_path, PAPERSIFT_SHARED_DATA=str(shared)),
                            stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline, health = time.time() + 120, None
        while time.time() < deadline and proc.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).json()
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert health is not None, proc.stderr.read() if proc.poll() is not None else "server did not answer"
        assert health["papers"] == 300
        feed = httpx.get(f"http://127.0.0.1:{port}/api/v1/daily_papers", timeout=10).json()
        assert feed["papers"], feed
        found = httpx.get(f"http://127.0.0.1:{port}/api/v1/search", params={"q": "language model", "mode": "bm25"},
                          timeout=10).json()
        assert found["total"] > 0
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    assert "offline: loaded 300 papers" in proc.stderr.read()


def test_start_with_no_source_says_what_to_do(tmp_path):
    env = offline_env(tmp_path, PAPERSIFT_SHARED_DATA=str(tmp_path / "nowhere"))
    proc = subprocess.run([sys.executable, "-m", "papersift.cli", "start", "--port", str(free_port()), "--days", "1"],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "papersift ingest hf-daily" in proc.stderr
