"""papersift's command line: a thin layer over papersift.service (typer + rich)."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from papersift.errors import BadInput, PapersiftError
from papersift.index.query import Filters

app = typer.Typer(help="papersift: harvest, search and rank research papers.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
ingest_app = typer.Typer(help="Load papers from files.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
admin_app = typer.Typer(help="Website accounts and moderation.", no_args_is_help=True)
app.add_typer(admin_app, name="admin")
out = Console()
err = Console(stderr=True)
STATE: dict = {"db": None, "config": None}

JsonOpt = typer.Option(False, "--json", help="Print JSON instead of a table.")


@app.callback()
def _global(db: Optional[str] = typer.Option(None, "--db", envvar="PAPERSIFT_DB",
                                             help="Database file (default data/papersift.db)."),
            config: Optional[str] = typer.Option(None, "--config", envvar="PAPERSIFT_CONFIG",
                                                 help="Config file (default ./papersift.toml when present).")):
    STATE["db"] = db
    STATE["config"] = config


def _config():
    from papersift.config import load_config

    return load_config(STATE["config"])


def _service(embedder=None):
    from papersift.service import Papersift

    return Papersift(STATE["db"], embedder=embedder)


@contextmanager
def _progress(label: str, total: int | None = None):
    """A rich progress bar when a person watches; silent when output is piped or --json."""
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn()]
    with Progress(*columns, console=err, disable=not err.is_terminal, transient=False) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


def _emit(data, as_json: bool, table_fn=None) -> None:
    if as_json or table_fn is None:
        out.print_json(json.dumps(data, default=str)) if as_json else out.print(data)
    else:
        table_fn(data)


def _report(report, as_json: bool) -> None:
    data = report.as_dict()
    if as_json:
        _emit(data, True)
        return
    out.print(report.summary(), markup=False, highlight=False)
    for row in data["bad_lines"][:20]:
        err.print(f"  line {row['line']}: {row['error']}", markup=False, highlight=False)


@app.command()
def init():
    """Create (or migrate) the database."""
    svc = _service(embedder=False)
    out.print(f"database ready: {svc.db} (schema v{svc.store.schema_version()}, {svc.store.count_papers()} papers)")


def _ingest(kind: str, path: Path, limit: Optional[int], as_json: bool):
    svc = _service(embedder=False)
    with _progress(f"ingest {path.name}") as advance:
        report = svc.ingest_file(kind, path, limit=limit, progress=advance)
    _report(report, as_json)
    if report.stopped:  # what came before is stored and indexed, but the file was not read to its end
        line, why = report.stopped
        raise BadInput(f"{path}: stopped at line {line}: {why}. Kept what came before it "
                       f"({report.summary()})")


@ingest_app.command("hf-daily")
def ingest_hf(path: Path, limit: Optional[int] = typer.Option(None, help="Stop after N records."), as_json: bool = JsonOpt):
    """Hugging Face Daily Papers archive (JSONL, optionally gzipped)."""
    _ingest("hf-daily", path, limit, as_json)


@ingest_app.command("arxiv-jsonl")
def ingest_arxiv(path: Path, limit: Optional[int] = typer.Option(None, help="Stop after N records."), as_json: bool = JsonOpt):
    """arXiv listing archive (JSONL, optionally gzipped)."""
    _ingest("arxiv-jsonl", path, limit, as_json)


@ingest_app.command("beir")
def ingest_beir(path: Path, limit: Optional[int] = typer.Option(None, help="Stop after N records."), as_json: bool = JsonOpt):
    """A BEIR-format corpus folder (ids become NAME:ID)."""
    _ingest("beir", path, limit, as_json)


@app.command()
def harvest(
    source: str = typer.Argument("all", help="arxiv, hf or all"),
    from_date: Optional[str] = typer.Option(None, "--from", help="arXiv: first datestamp YYYY-MM-DD."),
    until: Optional[str] = typer.Option(None, "--until", help="arXiv: last datestamp YYYY-MM-DD."),
    set_spec: str = typer.Option("cs", "--set", help="arXiv OAI set, e.g. cs or cs:cs:LG."),
    days: int = typer.Option(3, help="Hugging Face: how many recent days to fetch."),
    limit: Optional[int] = typer.Option(None, help="arXiv: stop after N pages."),
    arxiv_url: Optional[str] = typer.Option(None, envvar="PAPERSIFT_ARXIV_OAI_URL", help="OAI-PMH endpoint."),
    hf_url: Optional[str] = typer.Option(None, envvar="PAPERSIFT_HF_URL", help="Hugging Face base URL."),
    as_json: bool = JsonOpt,
):
    """Fetch new papers from the live sources (resumes an interrupted arXiv harvest)."""
    from papersift.errors import BadInput
    from papersift.service.corpus import days_back

    if source not in ("arxiv", "hf", "all"):
        raise BadInput(f"unknown source {source!r}: use arxiv, hf or all")
    if days < 1 or days > 366:
        raise BadInput("--days must be between 1 and 366")
    svc = _service(embedder=False)
    reports = {}
    if source in ("hf", "all"):
        with _progress("Hugging Face days", total=days) as advance:
            reports["hf"] = svc.harvest_hf(days_back(days), base_url=hf_url, progress=advance)
    if source in ("arxiv", "all"):
        with _progress("arXiv OAI-PMH") as advance:
            reports["arxiv"] = svc.harvest_arxiv(from_date, until, set_spec, base_url=arxiv_url,
                                                 max_pages=limit, progress=advance)
    if as_json:
        _emit({k: r.as_dict() for k, r in reports.items()}, True)
    else:
        for name, report in reports.items():
            out.print(f"[bold]{name}[/bold]: ", end="")
            _report(report, False)


@app.command()
def index(
    limit: Optional[int] = typer.Option(None, help="Embed at most N papers this run."),
    rebuild: bool = typer.Option(False, help="Drop the lexical index and rebuild it from the store."),
    no_embed: bool = typer.Option(False, "--no-embed", help="Lexical index only."),
    as_json: bool = JsonOpt,
):
    """Bring the search indexes up to date with the store (incremental)."""
    svc = _service(embedder=False if no_embed else None)
    with _progress("indexing") as advance:
        result = svc.index(progress=advance, limit=limit, rebuild=rebuild, embed=not no_embed)
    _emit(result, as_json, lambda d: out.print(
        f"indexed: {d['lexical']} lexical, {d['vectors']} embedded; {d['papers']} papers in store"))


def _filters(date_from, date_to, category, org, has_code) -> Filters:
    flt = Filters(date_from=date_from, date_to=date_to, categories=list(category or []),
                  organization=org, has_code=has_code)
    flt.validate()
    return flt


def _hit_rows(hits) -> list[dict]:
    return [{"id": h.paper.id, "score": round(h.score, 5), "title": h.paper.title,
             "published": h.paper.published_date, "upvotes": h.paper.upvotes,
             "categories": h.paper.categories, "snippets": h.snippets} for h in hits]


def _hits_table(rows: list[dict], title: str) -> None:
    table = Table(title=title, show_lines=False)
    for col in ("#", "id", "title", "published", "score"):
        table.add_column(col, overflow="fold")
    for i, row in enumerate(rows, 1):
        table.add_row(str(i), row["id"], row["title"] or "", row["published"] or "", f"{row['score']:.3f}")
    out.print(table)


@app.command()
def search(
    query: str,
    mode: str = typer.Option("hybrid", help="hybrid, bm25 or dense."),
    sort: str = typer.Option("relevance", help="relevance, date or upvotes."),
    date_from: Optional[str] = typer.Option(None, "--from", help="Published on or after YYYY-MM-DD."),
    date_to: Optional[str] = typer.Option(None, "--to", help="Published on or before YYYY-MM-DD."),
    category: Optional[list[str]] = typer.Option(None, "--cat", help="arXiv category (repeatable)."),
    org: Optional[str] = typer.Option(None, help="Organisation."),
    has_code: Optional[bool] = typer.Option(None, "--has-code/--no-code", help="Only papers with (or without) code."),
    page: int = typer.Option(1, help="Result page."),
    per_page: int = typer.Option(10, help="Results per page."),
    as_json: bool = JsonOpt,
):
    """Search papers. Syntax: words, "exact phrase", -exclude, author:NAME, cat:cs.LG, org:NAME."""
    svc = _service(embedder=False if mode == "bm25" else None)
    res = svc.search(query, _filters(date_from, date_to, category, org, has_code), mode=mode, sort=sort,
                     page=page, per_page=per_page)
    data = {"query": res.query, "mode": res.mode, "sort": res.sort, "page": res.page, "per_page": res.per_page,
            "total": res.total, "took_ms": round(res.took_ms, 2), "results": _hit_rows(res.hits)}
    _emit(data, as_json, lambda d: _hits_table(d["results"], f"{d['total']} results ({d['mode']}, {d['took_ms']} ms)"))


@app.command()
def similar(paper_id: str, k: int = typer.Option(10, help="How many."), as_json: bool = JsonOpt):
    """Papers similar to a paper in the store."""
    svc = _service()
    rows = _hit_rows(svc.similar(paper_id, k=k))
    _emit({"id": paper_id, "results": rows}, as_json, lambda d: _hits_table(d["results"], f"similar to {paper_id}"))


@app.command()
def show(paper_id: str, as_json: bool = JsonOpt):
    """One paper with all its fields and their sources."""
    paper = _service(embedder=False).paper(paper_id)
    _emit(paper.to_dict(), True if as_json else False, lambda d: out.print_json(json.dumps(d, default=str)))


@app.command()
def daily(
    date: Optional[str] = typer.Option(None, help="YYYY-MM-DD (default: the latest day with papers)."),
    week: Optional[str] = typer.Option(None, help="ISO week YYYY-Www."),
    month: Optional[str] = typer.Option(None, help="YYYY-MM."),
    sort: str = typer.Option("trending", help="trending, upvotes or published."),
    limit: int = typer.Option(20, help="Papers per page."),
    page: int = typer.Option(1, help="Page."),
    as_json: bool = JsonOpt,
):
    """The Daily Papers feed for a day, week or month."""
    from papersift.formats.json_api import feed_page_json

    feed = _service(embedder=False).daily(date, week, month, sort=sort, page=page, limit=limit)
    data = feed_page_json(feed)

    def table(d):
        t = Table(title=f"{d['period']['label']} ({d['total']} papers, {d['sort']})")
        for col in ("#", "id", "title", "upvotes", "day"):
            t.add_column(col, overflow="fold")
        for i, item in enumerate(d["papers"], (page - 1) * limit + 1):
            t.add_row(str(i), item["id"], item["title"] or "", str(item["upvotes"]), item["feed_day"])
        out.print(t)
        if not d["papers"]:
            out.print(f"no papers; nearest days with papers: {d['previous_day_with_papers']} / {d['next_day_with_papers']}")

    _emit(data, as_json, table)


@app.command("eval")
def eval_cmd(
    path: Path,
    mode: str = typer.Option("hybrid", help="bm25, dense or hybrid."),
    split: str = typer.Option("test", help="qrels split (qrels/SPLIT.tsv)."),
    limit: Optional[int] = typer.Option(None, help="Evaluate the first N queries only."),
    as_json: bool = JsonOpt,
):
    """nDCG@10, Recall@100 and MRR@10 with 95% bootstrap CIs on a BEIR-format folder."""
    from papersift.evaluate.beir_eval import evaluate_beir

    with _progress(f"eval {path.name}") as advance:
        report = evaluate_beir(path, mode=mode, split=split, limit=limit, progress=advance)

    def table(d):
        t = Table(title=f"{d['dataset']} {d['split']} ({d['mode']}, {d['queries']} queries)")
        for col in ("metric", "mean", "95% CI"):
            t.add_column(col)
        for name, m in d["metrics"].items():
            t.add_row(name, f"{m['mean']:.4f}", f"[{m['ci_low']:.4f}, {m['ci_high']:.4f}]")
        out.print(t)

    _emit(report, as_json, table)


TRUSTED_PROXIES_ENV = "PAPERSIFT_TRUSTED_PROXIES"
TrustedProxiesOpt = typer.Option(
    "127.0.0.1", "--trusted-proxies", envvar=TRUSTED_PROXIES_ENV,
    help="Addresses whose X-Forwarded-For/-Proto headers are believed (comma-separated; '*' trusts "
         "everyone: only behind a proxy that overwrites them). Others' headers are ignored.")


def server_config(application, host: str, port: int, trusted_proxies: str = "127.0.0.1", log_level: str = "info"):
    """The uvicorn settings every serving command uses. X-Forwarded-* decide the client address
    (log-in throttling) and the scheme (Secure cookies), so they are read only from the proxies
    named here: a client that reaches the server directly cannot claim another address."""
    import uvicorn

    if not 0 <= port <= 65535:
        raise BadInput("--port must be between 0 and 65535")
    return uvicorn.Config(application, host=host, port=port, log_level=log_level, proxy_headers=True,
                          forwarded_allow_ips=[a.strip() for a in trusted_proxies.split(",") if a.strip()])


def serve_app(application, host: str, port: int, trusted_proxies: str) -> None:
    import uvicorn

    server = uvicorn.Server(server_config(application, host, port, trusted_proxies))
    try:
        server.run()
    except KeyboardInterrupt:  # Ctrl-C / SIGINT after a clean shutdown: a normal exit, as uvicorn.run does
        pass
    if not server.started:
        raise typer.Exit(1)  # uvicorn has logged why (e.g. the port is taken)


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="Bind address."),
          port: int = typer.Option(8000, help="Port."),
          no_embed: bool = typer.Option(False, "--no-embed", help="Lexical search only."),
          trusted_proxies: str = TrustedProxiesOpt):
    """Run the website and the JSON API (OpenAPI at /openapi.json); new papers are indexed in the background."""
    from papersift.server.app import create_app

    server_config(None, host, port)  # bad options fail before the service opens
    serve_app(create_app(_service(embedder=False if no_embed else None)), host, port, trusted_proxies)


@app.command()
def start(host: str = typer.Option("127.0.0.1", help="Bind address."),
          port: int = typer.Option(8000, help="Port."),
          days: int = typer.Option(7, help="Recent Hugging Face days to fetch when online."),
          limit: Optional[int] = typer.Option(None, help="Load at most N papers from the local archive."),
          hf_url: Optional[str] = typer.Option(None, envvar="PAPERSIFT_HF_URL", help="Hugging Face base URL."),
          trusted_proxies: str = TrustedProxiesOpt):
    """Quick start: create the database, load papers if it is empty, index, and serve."""
    from papersift.service.bootstrap import load_initial_papers

    svc = _service(embedder=False)
    if svc.store.count_papers() == 0:
        with _progress("loading papers") as advance:
            message = load_initial_papers(svc, days=days, limit=limit, progress=advance, hf_url=hf_url)
        err.print(message, markup=False, highlight=False)
    svc.index(embed=False)
    err.print(f"{svc.store.count_papers()} papers; semantic index builds in the background. "
              f"Website: http://{host}:{port}/  API: http://{host}:{port}/api/daily_papers  "
              f"OpenAPI: http://{host}:{port}/openapi.json",
              markup=False, highlight=False)
    serve(host=host, port=port, no_embed=False, trusted_proxies=trusted_proxies)


def _community():
    return _service(embedder=False)


def _read_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


@admin_app.command("create-user")
def admin_create_user(
    email: str,
    admin: bool = typer.Option(False, "--admin", help="Make the user an administrator."),
    name: Optional[str] = typer.Option(None, help="Display name (default: the part before @)."),
    password_stdin: bool = typer.Option(False, "--password-stdin", help="Read the password from standard input."),
    as_json: bool = JsonOpt,
):
    """Create a website account (the first admin: --admin). The password is prompted for."""
    hub = _community()
    user = hub.accounts.create_user(email, _read_password(password_stdin), name, is_admin=admin)
    _emit({"id": user.id, "email": user.email, "name": user.name, "is_admin": user.is_admin}, as_json,
          lambda d: out.print(f"created {'admin' if d['is_admin'] else 'user'} {d['email']} ({d['name']})",
                              markup=False, highlight=False))


@admin_app.command("set-admin")
def admin_set_admin(email: str, revoke: bool = typer.Option(False, "--revoke", help="Take admin rights away.")):
    """Give (or with --revoke take away) administrator rights."""
    user = _community().accounts.set_admin(email, not revoke)
    out.print(f"{user.email}: {'admin' if user.is_admin else 'not admin'}", markup=False, highlight=False)


@admin_app.command("create-token")
def admin_create_token(email: str, name: Optional[str] = typer.Option(None, help="A label for the token.")):
    """Create an API token for a user and print it (it is shown only this once)."""
    hub = _community()
    _, secret = hub.accounts.create_token(hub.accounts.user_by_email(email), name)
    print(secret)


@admin_app.command("hide-user")
def admin_hide_user(email: str, restore: bool = typer.Option(False, "--restore", help="Undo: let them log in.")):
    """Disable an account: no log-in, sessions and tokens stop working, votes stop counting."""
    user = _community().accounts.set_hidden(None, email, not restore)
    out.print(f"{user.email}: {'hidden' if user.hidden else 'active'}", markup=False, highlight=False)


@admin_app.command("hide-paper")
def admin_hide_paper(paper_id: str, restore: bool = typer.Option(False, "--restore", help="Undo: show it again.")):
    """Hide a paper from the feed, search and its page (admins still see it)."""
    paper = _community().actions.hide_paper(None, paper_id, not restore)
    out.print(f"{paper.id}: {'visible' if restore else 'hidden'}", markup=False, highlight=False)


def main() -> None:
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


from papersift.cli import digest as _digest_commands  # noqa: E402,F401  (registers `run` and `digest ...`)
