"""The serving commands: ``serve`` (website + API), ``start`` (quick start) and ``run`` (+ scheduler).

All three end in :func:`_launch`, so the server is wired one way: the front door, the app
factory, and uvicorn with the trusted-proxy rule (``common.server_config``).
"""

from __future__ import annotations

from typing import Optional

import typer

from papersift.cli.common import (
    STATE,
    TrustedProxiesOpt,
    app,
    check_serving,
    err,
    open_service,
    progress,
    read_config,
    serve_app,
    server_config,
)

HostOpt = typer.Option("127.0.0.1", help="Bind address.")
PortOpt = typer.Option(8000, help="Port.")


WorkersOpt = typer.Option(1, "--workers", min=1, max=64,
                          help="Web processes on the port (one of them keeps the indexes current). "
                               "More than one uses both cores; see docs/DEPLOY.md.")


def _launch_workers(host: str, port: int, trusted_proxies: str, no_embed: bool, workers: int,
                    scheduled: bool) -> None:
    """``workers`` processes via uvicorn's supervisor; each builds its app with server/workers.py,
    which reads these choices from the environment."""
    import os

    import uvicorn

    from papersift.server import workers as worker_env

    for name, value in (("PAPERSIFT_DB", STATE["db"]), ("PAPERSIFT_CONFIG", STATE["config"])):
        if value:
            os.environ[name] = value
    # the cores shared out: N workers each running onnxruntime on every core would oversubscribe them
    os.environ.setdefault("PAPERSIFT_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
    os.environ[worker_env.NO_EMBED] = "1" if no_embed else "0"
    os.environ[worker_env.SCHEDULED] = "1" if scheduled else "0"
    settings = server_config(None, host, port, trusted_proxies)
    uvicorn.run("papersift.server.workers:make_app", factory=True, workers=workers, host=host, port=port,
                log_level="info", proxy_headers=True, forwarded_allow_ips=settings.forwarded_allow_ips)


def _launch(host: str, port: int, trusted_proxies: str, no_embed: bool, config, scheduled: bool = False,
            workers: int = 1) -> None:
    """Open the service and serve it until stopped; ``scheduled`` also runs harvests and digests."""
    if workers > 1:
        return _launch_workers(host, port, trusted_proxies, no_embed, workers, scheduled)
    from papersift.server.app import create_app
    from papersift.server.memory import cap_malloc_arenas

    cap_malloc_arenas()  # before any worker thread exists: see server/memory.py
    svc = open_service(embedder=False if no_embed else None)
    scheduler = None
    if scheduled:
        from papersift.digest import Digests
        from papersift.server.scheduler import Scheduler

        scheduler = Scheduler(svc, config, Digests(svc, config))
    serve_app(create_app(svc, config=config, scheduler=scheduler), host, port, trusted_proxies)


@app.command()
def serve(host: str = HostOpt, port: int = PortOpt,
          no_embed: bool = typer.Option(False, "--no-embed", help="Lexical search only."),
          trusted_proxies: str = TrustedProxiesOpt, workers: int = WorkersOpt):
    """Run the website and the JSON API (OpenAPI at /openapi.json); new papers are indexed in the background."""
    check_serving(host, port, trusted_proxies)  # bad options or a taken port fail before the service opens
    _launch(host, port, trusted_proxies, no_embed, read_config(), workers=workers)


@app.command()
def start(host: str = HostOpt, port: int = PortOpt,
          days: int = typer.Option(7, help="Recent Hugging Face days to fetch when online."),
          limit: Optional[int] = typer.Option(None, help="Load at most N papers from the local archive."),
          hf_url: Optional[str] = typer.Option(None, envvar="PAPERSIFT_HF_URL", help="Hugging Face base URL."),
          trusted_proxies: str = TrustedProxiesOpt):
    """Quick start: create the database, load papers if it is empty, index, and serve."""
    check_serving(host, port, trusted_proxies)  # a bad or taken port fails before minutes of loading, not after
    config = read_config()
    svc = open_service(embedder=False)
    if svc.store.count_papers() == 0:
        with progress("loading papers") as advance:
            message = svc.load_initial_papers(days=days, limit=limit, progress=advance, hf_url=hf_url)
        err.print(message, markup=False, highlight=False)
    svc.index(embed=False)  # keyword search works at once; the server's indexer embeds later
    err.print(f"{svc.store.count_papers()} papers; semantic index builds in the background. "
              f"Website: http://{host}:{port}/  API: http://{host}:{port}/api/v1/daily_papers  "
              f"OpenAPI: http://{host}:{port}/openapi.json",
              markup=False, highlight=False)
    svc.close()  # the server opens its own, with the embedder
    _launch(host, port, trusted_proxies, False, config)


@app.command()
def run(host: str = HostOpt, port: int = PortOpt,
        no_embed: bool = typer.Option(False, "--no-embed", help="Lexical search only."),
        trusted_proxies: str = TrustedProxiesOpt, workers: int = WorkersOpt):
    """The website and API plus the scheduler: harvests and digest emails at the configured times."""
    check_serving(host, port, trusted_proxies)  # bad options or a taken port fail before anything starts
    config = read_config()
    if config.email_enabled:  # fail now, not at 07:00
        config.require_email()
        config.require_base_url()
    else:
        err.print("email is not configured (smtp.host): the scheduler harvests, digests are off",
                  markup=False, highlight=False)
    _launch(host, port, trusted_proxies, no_embed, config, scheduled=True, workers=workers)
