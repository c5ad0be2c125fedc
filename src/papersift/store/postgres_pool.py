"""The PostgreSQL store's connections: a psycopg_pool ConnectionPool that says why it cannot lend
a connection, and starts afresh once the server is back.

A call waits at most the pool's timeout (a few seconds) for a connection, then gets a papersift
``Unavailable`` (503) that says which it was: every connection of this process is lent out
(busy), or the server cannot be reached (with libpq's reason). Connections the server dropped (a
restart) are replaced, not handed out: before lending one the pool checks it, cheaply (see
``Connections._check``: a round trip only when the connection has been idle a while or its socket
says the server has sent something), because a round trip on every call doubled a search's time.
After an outage the pool's own reconnection waits grow (1 s, 2 s, 4 s...); a call that finds the
server answering again while the pool is still waiting replaces the pool, so the first call
after the server is back works instead of the one after the next pause.
"""

from __future__ import annotations

import logging
import select
import threading
import time
import weakref
from contextlib import contextmanager
from typing import Mapping
from urllib.parse import urlsplit

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from papersift.config import environment_value
from papersift.errors import DiskFull, Unavailable

CONNECT_TIMEOUT = 5  # seconds to establish one connection (an unreachable host fails, not hangs)
# How long the pool retries (with growing pauses) to replace a connection before it gives up on
# that attempt and lets the next call start a fresh one.
RECONNECT_TIMEOUT = 10.0
# A connection returned to the pool less than this long ago is lent after a look at its socket
# only; an older one is checked with a round trip (a peer that vanished without closing the
# connection, e.g. a firewall's idle timeout, sends nothing a look could see).
CHECK_IDLE_AFTER = 10.0

# The pool logs each failed connection attempt as a warning. Our errors already say it once, so
# without logging set up (the CLI) they would print two or three times; a logging configuration
# (a server's) still receives them, NullHandler only stops Python's last-resort printing.
logging.getLogger("psycopg.pool").addHandler(logging.NullHandler())


def pool_settings(env: Mapping[str, str] | None = None) -> tuple[int, float]:
    """(connections per process, seconds to wait for one) from PAPERSIFT_DB_POOL_SIZE and
    PAPERSIFT_DB_POOL_TIMEOUT, else the defaults (papersift.config declares and checks both): a deployment
    keeps workers x pool size below the server's max_connections. For a store opened without them
    (``open_store`` is given the settings' values)."""
    return environment_value("db_pool_size", env), environment_value("db_pool_timeout", env)


def describe(url: str) -> str:
    """``host:port/database`` of a URL, never its password (for messages and logs)."""
    parts = urlsplit(url)
    port: int | str
    try:
        port = parts.port or 5432
    except ValueError:  # not a number: the URL check names the problem
        port = "?"
    return f"{parts.hostname or 'localhost'}:{port}{parts.path or '/'}"


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _readable(conn: psycopg.Connection) -> bool:
    """Whether the connection's socket has something to read (or is closed), without waiting."""
    try:
        poller = select.poll()  # not select.select: it fails on descriptors above 1023
        poller.register(conn.fileno(), select.POLLIN)
        return bool(poller.poll(0))  # POLLIN, or POLLHUP / POLLERR / POLLNVAL, which are always reported
    except (OSError, ValueError, psycopg.Error):  # no socket any more: broken
        return True


class Connections:
    """Lends pooled autocommit connections: ``with connections.lend() as conn: ...``."""

    def __init__(self, url: str, min_size: int, max_size: int, timeout: float):
        self.url, self.where = url, describe(url)
        self.min_size, self.max_size, self.timeout = min(min_size, max_size), max_size, timeout
        self._in_use = 0
        self._lock = threading.Lock()  # guards _in_use and the pool's replacement
        self._diagnosing = threading.Lock()
        self._diagnosed: tuple[float, Unavailable] | None = None
        self._returned: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # connection -> when returned
        self.pool = self._new_pool()
        try:
            self.pool.wait(timeout)
        except PoolTimeout:
            error = self._unreachable() or self._busy()
            self.pool.close()
            raise error from None

    def _new_pool(self) -> ConnectionPool:
        # autocommit: a read is one statement, no BEGIN/COMMIT round trips (writes open a
        # transaction themselves); check: a connection the server dropped is never lent
        return ConnectionPool(
            self.url, min_size=self.min_size, max_size=self.max_size, timeout=self.timeout, open=True,
            name="papersift", check=self._check, reconnect_timeout=RECONNECT_TIMEOUT,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT, "application_name": "papersift"})

    def _check(self, conn: psycopg.Connection) -> None:
        """The pool's check before lending ``conn``: raises when it is broken. An idle connection's
        socket has nothing to read, so a readable one (the server's goodbye at a restart or a
        terminated backend, then end of file) gets the round trip; so does one idle for long
        (or never lent); the rest, the common case under load, cost no round trip."""
        returned = self._returned.get(conn)
        if returned is None or time.monotonic() - returned > CHECK_IDLE_AFTER or _readable(conn):
            ConnectionPool.check_connection(conn)

    @contextmanager
    def lend(self):
        """A connection for one statement or transaction; a failure of the connection itself
        (the server went away mid-call) becomes Unavailable with a message, a full disk on the
        server DiskFull (the other shortages of class 53, memory and connections, Unavailable)."""
        pool, conn = self._get()
        with self._lock:
            self._in_use += 1
        try:
            yield conn
        except psycopg.errors.DiskFull as exc:  # SQLSTATE 53100; the transaction is rolled back by now
            raise DiskFull(f"the database server's disk is full ({self.where}: {first_line(exc)}): free some "
                           "space there; nothing acknowledged was lost") from None
        except psycopg.OperationalError as exc:
            raise Unavailable(f"the PostgreSQL database {self.where} failed during the call: "
                              f"{first_line(exc)}; try again") from None
        finally:
            with self._lock:
                self._in_use -= 1
            self._returned[conn] = time.monotonic()
            pool.putconn(conn)  # rolls back what is left open; drops a broken connection

    def _get(self) -> tuple[ConnectionPool, psycopg.Connection]:
        pool = self.pool
        try:
            return pool, pool.getconn()
        except PoolTimeout:
            pass
        if self._in_use >= self.max_size:
            raise self._busy() from None
        error = self._unreachable()
        if error is not None:
            raise error from None
        pool = self._renew(pool)  # the server answers: the pool is still pausing after an earlier failure
        try:
            return pool, pool.getconn()
        except PoolTimeout:
            raise (self._unreachable() or self._busy()) from None

    def _busy(self) -> Unavailable:
        return Unavailable(f"the PostgreSQL database {self.where} is busy: no free connection within "
                           f"{self.timeout:g} s (all {self.max_size} of this process's connections are in use); "
                           "try again")

    def _unreachable(self) -> Unavailable | None:
        """Unavailable with libpq's reason when a direct connection fails, else None. Asked at
        most once a second however many calls are waiting."""
        with self._diagnosing:
            if self._diagnosed and time.monotonic() - self._diagnosed[0] < 1.0:
                return Unavailable(self._diagnosed[1].message)
            try:
                psycopg.connect(self.url, connect_timeout=min(CONNECT_TIMEOUT, 3), autocommit=True).close()
                return None
            except psycopg.Error as exc:
                error = Unavailable(f"cannot connect to the PostgreSQL database {self.where}: {first_line(exc)}")
                self._diagnosed = (time.monotonic(), error)
                return error

    def _renew(self, stale: ConnectionPool) -> ConnectionPool:
        with self._lock:
            if self.pool is stale:  # the first caller replaces it; the others use the new one
                self.pool = self._new_pool()
                self._diagnosed = None
                # closing waits for the old pool's workers: not on the caller's time
                threading.Thread(target=stale.close, name="papersift-old-pool", daemon=True).start()
            return self.pool

    def close(self) -> None:
        self.pool.close()
