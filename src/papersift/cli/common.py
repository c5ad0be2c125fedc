"""What every command shares: the root ``app``, the global options, settings, output, progress,
serving, errors.

The topic modules (``papers``, ``serve``, ``admin``, ``digest``) import from here and register
their commands on :data:`app`; this module imports none of them, so there is no cycle.
Heavy imports (the service, uvicorn) wait until a command needs them: ``--help`` stays quick.

The global options (``--db``, ``--config``) are taken before the subcommand or after it:
:func:`command` gives every subcommand them too. Their values travel in the invocation's context
(the root's values in ``ctx.meta``, then, while the command runs, the merged values in a context
variable), and :func:`settings` turns them, with the command's own options that set a setting
(``--trusted-proxies``, ``--hf-url``...), into the one :class:`~papersift.config.Settings`.
"""

from __future__ import annotations

import functools
import inspect
import json
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Callable, Iterator, Literal, Optional

import typer
from rich import filesize
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from papersift.errors import BadInput, Conflict, PapersiftError

if TYPE_CHECKING:
    from papersift.config import Settings
    from papersift.service import Papersift

app = typer.Typer(help="papersift: harvest, search and rank research papers. Settings: papersift.toml and "
                       "PAPERSIFT_* variables (docs/CONFIGURATION.md).", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
out = Console()
err = Console(stderr=True)
GIVEN = "papersift.global-options"  # where the root's global options wait in the context's meta
GLOBAL_HELP = {"db": "Database file, or a postgresql:// URL (default data/papersift.db).",
               "config": "Config file (default ./papersift.toml when present)."}
_given: ContextVar[dict[str, str]] = ContextVar("papersift_global_options")  # set while a command runs

JsonOpt = typer.Option(False, "--json", help="Print JSON instead of a table.")

TrustedProxiesOpt = typer.Option(
    None, "--trusted-proxies", show_default="127.0.0.1",
    help="Addresses whose X-Forwarded-For/-Proto headers are believed (comma-separated; '*' trusts "
         "everyone: only behind a proxy that overwrites them). Others' headers are ignored.")


def _package_version() -> str:
    try:
        return version("papersift")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


def _show_version(value: bool) -> None:
    if value:
        out.print(f"papersift {_package_version()}", markup=False, highlight=False)
        raise typer.Exit()


@app.callback()
def global_options(ctx: typer.Context,
                   db: Optional[str] = typer.Option(None, "--db", help=GLOBAL_HELP["db"]),
                   config: Optional[str] = typer.Option(None, "--config", help=GLOBAL_HELP["config"]),
                   show_version: bool = typer.Option(False, "--version", is_eager=True, callback=_show_version,
                                                     help="Print papersift's version and exit.")):
    ctx.meta[GIVEN] = {name: value for name, value in (("db", db), ("config", config)) if value is not None}


def _taking_global_options(fn: Callable) -> Callable:
    """``fn`` as a command that also takes ``--db`` and ``--config`` (after the subcommand: they win
    over the same option before it)."""
    if getattr(fn, "takes_global_options", False):
        return fn
    extra = {"papersift_ctx": (typer.Context, inspect.Parameter.empty)} | {
        f"papersift_{name}": (Optional[str], typer.Option(None, f"--{name}", help=f"{text} Also before the command."))
        for name, text in GLOBAL_HELP.items()}

    @functools.wraps(fn)
    def command(*args, papersift_ctx: typer.Context, **kwargs):
        given = dict(papersift_ctx.meta.get(GIVEN, {}))
        for name in GLOBAL_HELP:
            value = kwargs.pop(f"papersift_{name}")
            if value is not None:
                given[name] = value
        token = _given.set(given)
        try:
            return fn(*args, **kwargs)
        finally:
            _given.reset(token)

    signature = inspect.signature(fn, eval_str=True)
    # typer reads the parameters from __signature__; mypy does not model attributes set on a function
    command.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *(
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=kind, default=default)
        for name, (kind, default) in extra.items())])
    command.__annotations__ = {**fn.__annotations__, **{name: kind for name, (kind, _) in extra.items()}}
    command.takes_global_options = True  # type: ignore[attr-defined]  # as above
    return command


def command():
    """The ``papersift`` command: typer's, every subcommand also taking the global options."""
    groups = [app]
    while groups:
        group = groups.pop()
        for info in group.registered_commands:
            if info.callback is not None:
                info.callback = _taking_global_options(info.callback)
        groups.extend(info.typer_instance for info in group.registered_groups if info.typer_instance is not None)
    return typer.main.get_command(app)


def settings(**options) -> Settings:
    """This invocation's settings: defaults < the config file < ``PAPERSIFT_*`` < the global options
    and ``options`` (the command's own options that set a setting; None: not given). A command
    calls it once and passes the result on."""
    from papersift.config import load_settings

    given = _given.get({})
    return load_settings(given.get("config"), options={"db": given.get("db"), **options})


def open_service(config: Settings, embedder: str | Literal[False] | None = None, follower: bool = False) -> Papersift:
    """The front door with these settings; ``embedder=False`` for commands that never embed;
    ``follower``: open the indexes read-only (another process keeps them current)."""
    from papersift.service import Papersift

    return Papersift(settings=config, embedder=embedder, follower=follower)


Total = int | Callable[[], int | None] | None  # a callable is asked only when a bar is shown


class RateColumn(ProgressColumn):
    """Items a second (``papers/s``); bytes a second for a bar counting bytes."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None and task.completed and task.elapsed:  # one big step (a commit of 2,000): the mean
            speed = task.completed / task.elapsed
        if speed is None:
            return Text("")
        unit = task.fields.get("unit", "items")
        if unit == "bytes":
            return Text(f"{filesize.decimal(int(speed))}/s", style="progress.data.speed")
        return Text(f"{speed:,.1f} {unit}/s", style="progress.data.speed")


class CountColumn(ProgressColumn):
    """Done of total (``5,471/12,166``; ``5,471/?`` while the total is unknown); sizes for bytes."""

    def render(self, task: Task) -> Text:
        if task.fields.get("unit") == "bytes":
            total = filesize.decimal(int(task.total)) if task.total is not None else "?"
            return Text(f"{filesize.decimal(int(task.completed))}/{total}", style="progress.download")
        total = f"{int(task.total):,}" if task.total is not None else "?"
        return Text(f"{int(task.completed):,}/{total}", style="progress.download")


class Bars:
    """Progress bars on stderr while a person watches (a terminal); nothing at all when the output is
    piped or captured. Each bar shows done/total, percent, rate and time left once its total is known."""

    def __init__(self, bar: Progress):
        self.bar = bar
        self.shown = not bar.disable

    def add(self, label: str, total: Total = None, unit: str = "items") -> Advance:
        """A bar; ``total`` a number or a callable run only when bars are shown (a count costs a query)."""
        if callable(total):
            total = total() if self.shown else None
        return Advance(self.bar, self.bar.add_task(label, total=total, unit=unit))


class Advance:
    """What a service's ``progress`` argument calls: ``advance(n)``; ``start`` relabels the bar and sets
    its total once it is known (e.g. after the data is loaded)."""

    def __init__(self, bar: Progress, task: TaskID):
        self.bar, self.task = bar, task

    def __call__(self, n: int = 1) -> None:
        self.bar.advance(self.task, n)

    def start(self, label: str, total: int | None) -> None:
        self.bar.reset(self.task, description=label, total=total)

    def total(self, total: int) -> None:
        """The total, learnt on the way (OAI-PMH says the list's size with its first page)."""
        self.bar.update(self.task, total=total)


@contextmanager
def progress_bars() -> Iterator[Bars]:
    """The one place the CLI's progress bars are made (:class:`Bars`)."""
    columns = [TextColumn("{task.description}"), BarColumn(), CountColumn(), TaskProgressColumn(), RateColumn(),
               TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err, disable=not err.is_terminal, transient=False) as bar:
        yield Bars(bar)


@contextmanager
def progress(label: str, total: Total = None, unit: str = "items") -> Iterator[Advance]:
    """One progress bar (:func:`progress_bars`); ``unit``: what is counted (``papers``, ``bytes``...)."""
    with progress_bars() as bars:
        yield bars.add(label, total, unit)


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
        result = command()(standalone_mode=False)
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
