"""The command line's email and scheduling commands: ``papersift run`` and ``papersift digest ...``.

Kept apart from ``cli.py`` so neither file grows past a readable size; ``cli.py`` imports this
module at its end, after the shared helpers exist, and these commands register on its ``app``.
"""

from __future__ import annotations

from typing import Optional

import typer

from .cli import JsonOpt, _config, _emit, _progress, _service, app, err, out

digest_app = typer.Typer(help="Email digests (configuration: papersift.toml, docs/DIGESTS.md).", no_args_is_help=True)
app.add_typer(digest_app, name="digest")


@app.command()
def run(host: str = typer.Option("127.0.0.1", help="Bind address."),
        port: int = typer.Option(8000, help="Port."),
        no_embed: bool = typer.Option(False, "--no-embed", help="Lexical search only.")):
    """The website and API plus the scheduler: harvests and digest emails at the configured times."""
    import uvicorn

    from .api.app import create_app
    from .digest import Digests
    from .errors import BadInput
    from .scheduler import Scheduler

    if not 0 <= port <= 65535:
        raise BadInput("--port must be between 0 and 65535")
    config = _config()
    if config.email_enabled:  # fail now, not at 07:00
        config.require_email()
        config.require_base_url()
    else:
        err.print("email is not configured (smtp.host): the scheduler harvests, digests are off",
                  markup=False, highlight=False)
    svc = _service(embedder=False if no_embed else None)
    digests = Digests(svc, config)
    scheduler = Scheduler(svc, config, digests)
    application = create_app(svc, config=config, scheduler=scheduler)
    uvicorn.run(application, host=host, port=port, log_level="info")


@digest_app.command("send")
def digest_send(
    limit: Optional[int] = typer.Option(None, help="Send at most N messages this run (the rest wait for the next)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Count the digests that are due; write and send nothing."),
    date: Optional[str] = typer.Option(None, "--date", help="Act as if today were YYYY-MM-DD (default: today "
                                       "in digest.timezone)."),
    as_json: bool = JsonOpt,
):
    """One digest run, for cron: build the digests due today into the outbox, then send what is due."""
    from .digest import Digests
    from .service import _check_date

    config = _config()
    day = _check_date(date) if date else None
    digests = Digests(_service(embedder=False), config)
    with _progress("building digests") as advance:
        result = digests.run(today=day, limit=limit, dry_run=dry_run, progress=advance)

    def table(d):
        b = d["build"]
        periods = ", ".join(f"{k} {v}" for k, v in b["periods"].items()) or "none due"
        out.print(f"{d['date']} ({periods}): {b['built']} digests {'would be ' if d['dry_run'] else ''}built, "
                  f"{b['empty']} empty, {b['already_built']} already built", markup=False, highlight=False,
                  soft_wrap=True)
        if "send" in d:
            s = d["send"]
            out.print(f"sent {s['sent']}, retry later {s['retry']}, failed {s['failed']}, disabled {s['disabled']}, "
                      f"resumed after a crash {s['recovered']}", markup=False, highlight=False, soft_wrap=True)
            for line in s["errors"]:
                err.print(f"  {line}", markup=False, highlight=False)

    _emit(result, as_json, table)


@digest_app.command("status")
def digest_status(as_json: bool = JsonOpt):
    """Subscribers by status and the outbox by state."""
    store = _service(embedder=False).store
    data = {"subscribers": store.count_subscribers(), "outbox": store.outbox_counts()}
    def table(d):
        for name in ("subscribers", "outbox"):
            counts = ", ".join(f"{k} {v}" for k, v in sorted(d[name].items())) or "none"
            out.print(f"{name}: {counts}", markup=False, highlight=False, soft_wrap=True)

    _emit(data, as_json, table)
