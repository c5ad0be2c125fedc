"""What every command shares: the root ``app``, the global options, output, progress, serving, errors.

The topic modules (``papers``, ``serve``, ``admin``, ``digest``) import from here and register
their commands on :data:`app`; this module imports none of them, so there is no cycle.
Heavy imports (the service, uvicorn) wait until a command needs them: ``--help`` stays quick.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from papersift.errors import BadInput, Conflict, PapersiftError

app = typer.Typer(help="papersift: harvest, search and rank research papers.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
out = Console()
err = Console(stderr=True)
STATE: dict = {"db": None, "config": None}  # the global options, set before any command runs

JsonOpt = typer.Option(False, "--json", help="Print JSON instead of a table.")

TRUSTED_PROXIES_ENV = "PAPERSIFT_TRUSTED_PROXIES"
TrustedProxiesOpt = typer.Option(
    "127.0.0.1", "--trusted-proxies", envvar=TRUSTED_PROXIES_ENV,
    help="Addresses whose X-Forwarded-For/-Proto headers are believed (comma-separated; '*' trusts "
         "everyone: only behind a proxy that overwrites them). Others' headers are ignored.")


@app.callback()
def global_options(db: Optional[str] = typer.Option(None, "--db", envvar="PAPERSIFT_DB",
                                                    help="Database file, or a postgresql:// URL (default data/papersift.db)."),
                   config: Optional[str] = typer.Option(None, "--config", envvar="PAPERSIFT_CONFIG",
                                                        help="Config file (default ./papersift.toml when present).")):
    STATE["db"] = db
    STATE["config"] = config


def read_config():
    """The configuration the global ``--config`` names (or the default file and environment)."""
    from papersift.config import load_config

    return load_config(STATE["config"])


def open_service(embedder=None, follower: bool = False):
    """The front door on the global ``--db``; ``embedder=False`` for commands that never embed;
    ``follower``: open the indexes read-only (another process keeps them current)."""
    from papersift.service import Papersift

    return Papersift(STATE["db"], embedder=embedder, follower=follower)


@contextmanager
def progress(label: str, total: int | None = None):
    """A rich progress bar when a person watches; silent when output is piped or --json."""
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err, disable=not err.is_terminal, transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def emit(data, as_json: bool, table_fn=None) -> None:
    """JSON with ``--json``; otherwise ``table_fn(data)``, or rich's rendering when there is none."""
    if as_json or table_fn is None:
        out.print_json(json.dumps(data, default=str)) if as_json else out.print(data)
    else:
        table_fn(data)


def server_config(application, host: str, port: int, trusted_proxies: str = "127.0.0.1", log_level: str = "info"):
    """The uvicorn settings every serving command uses. X-Forwarded-* decide the client address
    (log-in throttling) and the scheme (Secure cookies), so they are read only from the proxies
    named here: a client that reaches the server directly cannot claim another address."""
    import uvicorn

    if not 0 <= port <= 65535:
        raise BadInput("--port must be between 0 and 65535")
    return uvicorn.Config(application, host=host, port=port, log_level=log_level, proxy_headers=True,
                          forwarded_allow_ips=trusted_addresses(trusted_proxies))


def check_serving(host: str, port: int, trusted_proxies: str) -> None:
    """What every serving command checks before it opens or loads anything: its options, and that it
    can listen on ``host:port``. uvicorn would find a taken port only once the service is open (for
    ``start``, after minutes of loading) and report it in the middle of its start-up log."""
    server_config(None, host, port, trusted_proxies)
    check_port(host, port)


def check_port(host: str, port: int) -> None:
    """Bind ``host:port`` as the server will (every address the host resolves to, SO_REUSEADDR as
    asyncio sets it, so a port left in TIME_WAIT counts as free), then let go; one line when it can't."""
    import socket

    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        raise BadInput(f"--host {host[:80]!r} is not an address this machine can listen on") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                sock.bind(address)
            except OSError as exc:
                raise _bind_error(host, port, exc) from None


def _bind_error(host: str, port: int, exc: OSError) -> PapersiftError:
    import errno

    if exc.errno == errno.EADDRINUSE:
        return Conflict(f"port {port} on {host} is already in use (another papersift server?): "
                        "stop that program or choose another --port")
    if exc.errno == errno.EACCES:
        return BadInput(f"no permission to listen on port {port} (ports below 1024 need root): choose another --port")
    if exc.errno == errno.EADDRNOTAVAIL:
        return BadInput(f"--host {host[:80]!r} is not an address of this machine")
    return BadInput(f"cannot listen on {host}:{port}: {exc.strerror or exc}")


def trusted_addresses(text: str) -> list[str]:
    """``--trusted-proxies`` as a list of IP addresses / networks, or ``["*"]``. uvicorn would take a
    typo as a literal host name and trust nobody without a word, so a bad entry is an error here."""
    import ipaddress

    entries = [a.strip() for a in text.split(",") if a.strip()]
    for entry in entries:
        if entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise BadInput(f"--trusted-proxies: {entry[:60]!r} is not an IP address or network "
                           "(e.g. 127.0.0.1, 10.0.0.0/8, ::1, or * for everyone)") from None
    return entries


def serve_app(application, host: str, port: int, trusted_proxies: str) -> None:
    import uvicorn

    server = uvicorn.Server(server_config(application, host, port, trusted_proxies))
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl-C / SIGINT after a clean shutdown: a normal exit, as uvicorn.run does
        pass
    if not server.started:
        raise typer.Exit(1)  # uvicorn has logged why (e.g. the port is taken)


def main() -> None:
    """The ``papersift`` script. Exit codes: 0 done, 1 a command's own failure (e.g. the mail server
    is down), 2 bad input, usage or a known failure such as a taken port or an unreachable source (one
    ``error:`` line), 130 interrupted."""
    try:
        result = app(standalone_mode=False)
    except PapersiftError as exc:
        err.print(f"error: {exc.message}", markup=False, highlight=False, soft_wrap=True)  # one line
        sys.exit(2)
    except (typer.Abort, KeyboardInterrupt):
        err.print("interrupted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # usage errors (missing argument, bad option value)
        show = getattr(exc, "show", None)
        if show is None:
            raise
        show()
        sys.exit(2)
    if isinstance(result, int) and result:
        sys.exit(result)
