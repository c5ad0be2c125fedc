"""Reading untrusted files in a child process, with a deadline.

A parser of someone else's file is pure Python: while it runs it holds the interpreter lock, so in a
thread of the server it slows every other request, and a parser that turns out slow on some input
(the third-party BibTeX and RIS readers included) would hold the site for as long as it runs. In a
child process it shares only the cores: the server keeps answering, and a run past its deadline is
killed and reported as bad input.

Children come from a fork server that has already imported the readers (a fork costs milliseconds,
not an interpreter start), so nothing of the server's state (threads, sockets, the database
connection) is copied into them. At most ``SLOTS`` run at once; more wait their turn.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from typing import Any, Callable

from papersift.errors import BadInput, PapersiftError, Unavailable

SLOTS = max(1, (os.cpu_count() or 2) // 2)  # half the cores: the server keeps the rest
DEADLINE = 20.0  # seconds a child may run; a 10,000-entry export takes about one
PRELOAD = ["papersift.ingest.library"]

_slots = threading.BoundedSemaphore(SLOTS)
_context = None
_context_lock = threading.Lock()


def _mp_context():
    global _context
    with _context_lock:
        if _context is None:
            methods = multiprocessing.get_all_start_methods()
            _context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
            if "forkserver" in methods:
                _context.set_forkserver_preload(PRELOAD)
        return _context


def run_in_child(fn: Callable[..., Any], *args: Any, what: str, deadline: float = DEADLINE) -> Any:
    """``fn(*args)`` in a child process; its PapersiftError is raised here as it was raised there.

    ``fn`` must be importable by name (a module-level function). ``what`` names the input for the
    messages ("the library file"). Waiting for a free slot counts against the same deadline."""
    if not _slots.acquire(timeout=deadline):
        raise Unavailable(f"the server is busy reading other files; send {what} again in a minute")
    try:
        return _run(fn, args, what, deadline)
    finally:
        _slots.release()


def _run(fn, args, what: str, deadline: float):
    context = _mp_context()
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_child_main, args=(sender, fn, args), daemon=True)
    child.start()
    sender.close()  # the child holds its own end; ours closed, a dead child reads as end of file
    try:
        if not receiver.poll(deadline):
            raise BadInput(f"{what} took more than {deadline:.0f} s to read; it is not a file this server "
                           "can import (split it, or export it again)")
        ok, value = receiver.recv()
    except EOFError:  # killed from outside, or out of memory
        raise BadInput(f"{what} could not be read: the reader stopped (exit code {child.exitcode})") from None
    finally:
        receiver.close()
        if child.is_alive():
            child.kill()
        child.join()
    if not ok:
        raise value
    return value


def _child_main(sender, fn, args) -> None:
    try:
        result = (True, fn(*args))
    except PapersiftError as exc:
        result = (False, exc)
    except Exception as exc:  # a parser's own bug: the file is the one thing we can blame
        result = (False, BadInput(f"the file could not be read ({type(exc).__name__})"))
    try:
        sender.send(result)
    finally:
        sender.close()
