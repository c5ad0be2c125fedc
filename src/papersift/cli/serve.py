"""The serving commands: ``serve`` (website + API), ``start`` (quick start) and ``run`` (+ scheduler).

All three end in :func:`_launch`, so the server is wired one way: the front door, the app
factory, and uvicorn with the trusted-proxy rule (``common.server_config``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

import typer

from papersift.cli.common import (
    TrustedProxiesOpt,
    app,
    check_serving,
    err,
    open_service,
    progress,
    serve_app,
    server_config,
    settings,
)

if TYPE_CHECKING:
    from papersift.config import Settings

HostOpt = typer.Option("127.0.0.1", help="Bind address.")
PortOpt = typer.Option(8000, help="Port.")


WorkersOpt = typer.Option(1, "--workers", min=1, max=64,
                          help="Web processes on the port (one of them keeps the indexes current). "
                               "More than one uses both cores; see docs/DEPLOY.md.")


def _launch_workers(config: Settings, host: str, port: int, no_embed: bool, workers: int, scheduled: bool) -> None:
    """``workers`` processes via uvicorn's supervisor; each builds its app with server/workers.py,
    from the settings and choices handed over here."""
    import dataclasses
    import os

    import uvicorn

    from papersift.config import hand_to_workers

    # the cores shared out: N workers each running onnxruntime on every core would oversubscribe them
    threads = config.threads or max(1, (os.cpu_count() or 1) // workers)
    hand_to_workers(dataclasses.replace(config, threads=threads), no_embed=no_embed, scheduled=scheduled)
    options = server_config(None, host, port, config.trusted_proxies)
    uvicorn.run("papersift.server.workers:make_app", factory=True, workers=workers, host=host, port=port,
                log_level="info", proxy_headers=True, forwarded_allow_ips=options.forwarded_allow_ips)


def _launch(config: Settings, host: str, port: int, no_embed: bool, scheduled: bool = False,
            workers: int = 1) -> None:
    """Open the service and serve it until stopped; ``scheduled`` also runs harvests and digests."""
    if workers > 1:
        return _launch_workers(config, host, port, no_embed, workers, scheduled)
    from papersift.server.app import create_app
    from papersift.server.memory import cap_malloc_arenas

    cap_malloc_arenas()  # before any worker thread exists: see server/memory.py
    svc = open_service(config, embedder=False if no_embed else None)
    scheduler = None
    if scheduled:
        from papersift.digest import Digests
        from papersift.server.scheduler import Scheduler

        scheduler = Scheduler(svc, Digests(svc))
    serve_app(create_app(svc, scheduler=scheduler), host, port, config.trusted_proxies)


@app.command()
def serve(host: str = HostOpt, port: int = PortOpt,
          no_embed: bool = typer.Option(False, "--no-embed", help="Lexical search only."),
          trusted_proxies: Optional[str] = TrustedProxiesOpt, workers: int = WorkersOpt):
    """Run the website and the JSON API (OpenAPI at /openapi.json); new papers are indexed in the background."""
    config = settings(trusted_proxies=trusted_proxies)
    check_serving(host, port, config.trusted_proxies)  # bad options or a taken port fail before the service opens
    _launch(config, host, port, no_embed, workers=workers)


@app.command()
def start(host: str = HostOpt, port: int = PortOpt,
          days: int = typer.Option(7, help="Recent Hugging Face days to fetch when online."),
          limit: Optional[int] = typer.Option(None, help="Load at most N papers from the local archive."),
          hf_url: Optional[str] = typer.Option(None, help="Hugging Face base URL (the hf_url setting)."),
          trusted_proxies: Optional[str] = TrustedProxiesOpt):
    """Quick start: create the database, load papers if it is empty, index, and serve."""
    config = settings(trusted_proxies=trusted_proxies, hf_url=hf_url)
    check_serving(host, port, config.trusted_proxies)  # a bad or taken port fails before minutes of loading
    svc = open_service(config, embedder=False)
    if svc.count_papers() == 0:
        with progress("loading papers") as advance:
            message = svc.load_initial_papers(days=days, limit=limit, progress=advance)
        err.print(message, markup=False, highlight=False)
    svc.index(embed=False)  # keyword search works at once; the server's indexer embeds later
    err.print(f"{svc.count_papers()} papers; semantic index builds in the background. "
              f"Website: http://{host}:{port}/  API: http://{host}:{port}/api/v1/daily_papers  "
              f"OpenAPI: http://{host}:{port}/openapi.json",
              markup=False, highlight=False)
    svc.close()  # the server opens its own, with the embedder
    _launch(config, host, port, False)


@app.command()
def run(host: str = HostOpt, port: int = PortOpt,
        no_embed: bool = typer.Option(False, "--no-embed", help="Lexical search only."),
        trusted_proxies: Optional[str] = TrustedProxiesOpt, workers: int = WorkersOpt):
    """The website and API plus the scheduler: harvests and digest emails at the configured times."""
    config = settings(trusted_proxies=trusted_proxies)
    check_serving(host, port, config.trusted_proxies)  # bad options or a taken port fail before anything starts
    if config.email_enabled:  # fail now, not at 07:00
        config.require_email()
        config.require_base_url()
    else:
        err.print("email is not configured (smtp.host): the scheduler harvests, digests are off",
                  markup=False, highlight=False)
    _launch(config, host, port, no_embed, scheduled=True, workers=workers)
