"""A real, throwaway PostgreSQL server for the tests, and the store fixture over both backends.

The server is Debian's ``postgresql`` package (``/usr/lib/postgresql/N/bin``; ``.ci/run`` installs
it when missing), started once per session by initdb + pg_ctl into a temporary folder: its unix
socket in that folder, TCP on a free port of 127.0.0.1, trust authentication (nothing else can
reach it). PostgreSQL refuses to run as root, so under root the binaries run as the ``postgres``
user and the folder belongs to it. Each test gets a database of its own (``CREATE DATABASE``),
dropped afterwards, so tests are independent. Without the binaries the PostgreSQL tests skip
locally and fail under ``CI=true`` (CI must run them).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

BIN_ENV = "PAPERSIFT_PG_BIN"  # a folder with initdb, pg_ctl (else the newest /usr/lib/postgresql/*/bin)
# "FOLDER:PORT" of a server already running (scripts/mutation.sh starts one for a whole mutation run,
# where every mutant is a pytest session of its own): the session uses it instead of starting one
RUNNING_ENV = "PAPERSIFT_PG_RUNNING"
_CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")
_names = itertools.count(1)


def find_bin() -> Path | None:
    given = os.environ.get(BIN_ENV)
    if given:
        return Path(given) if (Path(given) / "initdb").exists() else None
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """One postgres process in a temporary folder; ``url(db)`` names a database on it."""

    def __init__(self, bin_dir: Path, running: str | None = None):
        self.bin = bin_dir
        if running:  # "FOLDER:PORT": a server this one did not start
            folder, port = running.rsplit(":", 1)
            self.root, self.port = Path(folder), int(port)
            self.data, self.as_postgres = self.root / "data", os.geteuid() == 0
            return
        self.root = Path(tempfile.mkdtemp(prefix="papersift-pg-"))  # short: unix socket paths are <= 107 bytes
        self.data = self.root / "data"
        self.port = _free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")
        for attempt in range(3):  # the free port may be taken between finding it and listening on it
            try:
                self.start()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
                self.port = _free_port()

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / tool), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        # cwd: the postgres user may not be able to read the caller's folder (pg_ctl needs its own)
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, cwd=self.root)
        if check and done.returncode != 0:
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        return done

    def start(self) -> None:
        # fsync and synchronous_commit off: a test server's data need not survive a power cut, and
        # the tests run faster; so a test that restarts it stops it "fast" (committed work kept),
        # never "immediate" (which may lose the last commits here)
        options = (f"-p {self.port} -h 127.0.0.1 -k {self.root} -c fsync=off -c synchronous_commit=off"
                   " -c full_page_writes=off -c max_connections=300")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def admin(self, sql: str, db: str = "postgres") -> list[tuple]:
        """Run one statement outside a transaction (CREATE / DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(self.url(db), autocommit=True) as conn:
            cur = conn.execute(sql)
            return cur.fetchall() if cur.description else []

    def create_database(self) -> str:
        name = f"t{os.getpid()}_{next(_names)}"
        self.admin(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server():
    """The session's PostgreSQL server (skips without the binaries; fails under CI=true)."""
    bin_dir = find_bin()
    if bin_dir is None:
        why = (f"PostgreSQL binaries not found (no /usr/lib/postgresql/*/bin/initdb, nor ${BIN_ENV}): "
               "install Debian's postgresql package (.ci/run does) to run the PostgreSQL tests")
        if _CI:
            pytest.fail(why)
        pytest.skip(why)
    running = os.environ.get(RUNNING_ENV)
    if running:
        yield PgServer(bin_dir, running)  # its owner stops it
        return
    server = PgServer(bin_dir)
    deadline = time.monotonic() + 30
    while True:  # pg_ctl -w waits for the socket; make sure TCP answers too
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    yield server
    server.close()


def running_server() -> PgServer:
    """The server named by PAPERSIFT_PG_RUNNING (for scripts/mutation.sh to stop it)."""
    return PgServer(find_bin(), os.environ[RUNNING_ENV])


@pytest.fixture
def pg_url(pg_server):
    """The URL of a fresh, empty database on the session's server (dropped after the test)."""
    name = pg_server.create_database()
    yield pg_server.url(name)
    pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.pg)])
def store_url(request, tmp_path):
    """Where a store for this test lives, once per backend: a SQLite file, or a fresh PostgreSQL
    database. The store contract tests take this and open it with ``open_store``."""
    if request.param == "sqlite":
        return str(tmp_path / "p.db")
    return request.getfixturevalue("pg_url")


def integrity_errors() -> tuple[type[Exception], ...]:
    """What each backend raises when a row breaks a constraint the store leaves to the database
    (a vote for a paper that does not exist): the drivers' DB-API IntegrityError."""
    import sqlite3

    import psycopg

    return (sqlite3.IntegrityError, psycopg.IntegrityError)


@pytest.fixture
def store(store_url):
    """An open store on each backend (closed after the test): the store contract tests' fixture."""
    from papersift.store import open_store

    opened = open_store(store_url)
    yield opened
    opened.close()


def raw_rows(store, sql: str) -> list[tuple]:
    """Every row of a plain SELECT (no parameters), on either backend: for tests that check what
    the database itself holds (e.g. that a secret is stored only hashed)."""
    if hasattr(store, "_all"):  # PostgresStore
        return store._all(sql)
    return store._db.execute(sql).fetchall()
