"""The real `papersift` command on a busy or offline machine: a taken port, an index folder another
process writes, and `papersift run` stopped by Ctrl-C while a source is unreachable or slow. Each
fails in one `error:` line with exit code 2 before loading anything, or stops within seconds."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from papersift.service import Papersift
from tests.fakes.server import Reply

from ..web_support import build_service, planted_papers

STOPS = 10.0  # seconds for Ctrl-C to end `papersift run`: it took 60 before; it takes about 1 now


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def site(tmp_path: Path, **extra) -> dict:
    """A database with a few papers, an empty config file, and no network (sources on closed ports)."""
    db = tmp_path / "p.db"
    Papersift(db, embedder=False).store.upsert_papers(planted_papers())
    (tmp_path / "papersift.toml").write_text("")
    return {**os.environ, "PAPERSIFT_DB": str(db), "PAPERSIFT_CONFIG": str(tmp_path / "papersift.toml"),
            "PAPERSIFT_HF_URL": f"http://127.0.0.1:{free_port()}",
            "PAPERSIFT_ARXIV_OAI_URL": f"http://127.0.0.1:{free_port()}/oai", **extra}


def papersift(*args: str, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "papersift.cli", *args], env=env, capture_output=True, text=True,
                          timeout=timeout)


def one_error_line(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr[-3000:]
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-3000:]
    return lines[0]


@pytest.mark.parametrize("command", [["start"], ["serve"], ["run", "--no-embed"]])
def test_a_taken_port_is_one_line_before_anything_loads(tmp_path, command):
    env = site(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        line = one_error_line(papersift(*command, "--port", str(port), env=env))
    assert line.startswith(f"error: port {port} on 127.0.0.1 is already in use")
    assert not (tmp_path / "p.db.index").exists()  # nothing was indexed or opened first


def test_index_says_at_once_that_another_process_writes_the_vectors(tmp_path):
    env = site(tmp_path)
    folder = tmp_path / "p.db.index" / "vectors"
    holder = subprocess.Popen(  # what a running server does: it opens the folder as its one writer
        [sys.executable, "-c", "import sys; from papersift.index.vectors.vector_file import VectorFile; "
         f"v = VectorFile({str(folder)!r}, 384, 'any'); print(v.writable, flush=True); sys.stdin.read()"],
        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "True"
        line = one_error_line(papersift("index", env=env))
    finally:
        holder.communicate("", timeout=30)
    assert "another papersift process" in line and str(folder) in line
    with sqlite3.connect(tmp_path / "p.db") as db:  # it loaded no model and embedded nothing in vain
        assert db.execute("SELECT count(*) FROM embeddings").fetchone()[0] == 0


class Running:
    """`papersift run` in a subprocess, its stderr collected as it comes."""

    def __init__(self, tmp_path: Path, env: dict, embed: bool = False):
        (tmp_path / "papersift.toml").write_text(
            '[schedule]\nsources = ["hf"]\nhf_days = 1\nharvest_times = ["00:00"]\n')  # due at once
        self.proc = subprocess.Popen([sys.executable, "-m", "papersift.cli", "run", "--port", str(free_port()),
                                      *([] if embed else ["--no-embed"])], env=env, stderr=subprocess.PIPE,
                                     stdout=subprocess.DEVNULL, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stderr), daemon=True)
        self._reader.start()

    def wait_for(self, check, seconds: float = 120) -> None:
        deadline = time.monotonic() + seconds
        while not check():
            assert time.monotonic() < deadline and self.proc.poll() is None, "".join(self.lines)[-3000:]
            time.sleep(0.1)

    def interrupt(self) -> float:
        """Ctrl-C; the seconds until the process ended (killed, and failing the test, after STOPS)."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=STOPS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=10)
        return time.monotonic() - started

    @property
    def log(self) -> str:
        return "".join(self.lines)


def test_run_logs_an_unreachable_source_in_one_line_and_stops_at_once(tmp_path):
    running = Running(tmp_path, site(tmp_path, PAPERSIFT_HF_URL="https://huggingface.invalid"))
    running.wait_for(lambda: "Hugging Face harvest failed" in running.log)
    took = running.interrupt()
    assert running.proc.returncode == 0 and took < STOPS, running.log[-3000:]
    failed = [line for line in running.lines if "Hugging Face harvest failed" in line]
    assert len(failed) == 1 and "cannot reach huggingface.invalid: no network" in failed[0]
    assert "Traceback" not in running.log and "Errno" not in running.log


@pytest.mark.parametrize("hf", ["waits to retry", "never answers"])
def test_ctrl_c_stops_run_while_a_harvest_waits(tmp_path, fake_http, hf):
    silent = socket.create_server(("127.0.0.1", 0))  # accepts, reads, never answers: blocked on the socket
    accepted = []
    threading.Thread(target=lambda: accepted.append(silent.accept()), daemon=True).start()
    fake_http.script("/api/daily_papers", Reply(503, {"Retry-After": "60"}, "busy"))  # a minute's pause
    url = fake_http.url if hf == "waits to retry" else f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        running = Running(tmp_path, site(tmp_path, PAPERSIFT_HF_URL=url))
        running.wait_for(lambda: fake_http.requests or accepted)  # the harvest has begun, and now waits
        took = running.interrupt()
    finally:
        silent.close()
    assert running.proc.returncode == 0 and took < STOPS, (took, running.log[-3000:])
    assert "Traceback" not in running.log


def test_ctrl_c_stops_run_while_the_indexer_embeds(tmp_path):
    """The background indexer is inside the model when Ctrl-C comes: it stops after the few papers in hand
    (it waited for a batch of 256 for up to 30 s, and the process then aborted inside onnxruntime)."""
    env = site(tmp_path, PAPERSIFT_HF_URL="https://huggingface.invalid")
    (tmp_path / "corpus").mkdir()
    svc = build_service(tmp_path / "corpus", lines=1500)  # papers to embed: the indexer is busy for a while
    svc.close()
    env["PAPERSIFT_DB"] = str(tmp_path / "corpus" / "site.db")
    running = Running(tmp_path, env, embed=True)
    running.wait_for(lambda: _embedded(tmp_path / "corpus" / "site.db") > 0, seconds=300)
    took = running.interrupt()
    assert running.proc.returncode == 0 and took < STOPS, (took, running.proc.returncode, running.log[-3000:])
    assert "terminate called" not in running.log and "Traceback" not in running.log
    assert 0 < _embedded(tmp_path / "corpus" / "site.db") < 1500  # what was embedded is kept for next time


def _embedded(db: Path) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return conn.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    except sqlite3.OperationalError:  # the table is made when the server first opens the database
        return 0
