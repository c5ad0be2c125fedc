"""The commands about papers: ``init``, ``ingest ...``, ``harvest``, ``index``, ``search``, ``similar``,
``show``, ``daily`` and ``eval`` (``arxiv``, "New on arXiv", is in arxiv.py).

Reads go through the front door as an anonymous viewer, so a paper an admin hid is absent here
as it is on the website.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from papersift.cli.common import JsonOpt, app, emit, err, open_service, out, progress, settings
from papersift.errors import BadInput
from papersift.ids import check_category
from papersift.query import LIMITS, SYNTAX, Filters

ingest_app = typer.Typer(help="Load papers from files.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
LimitOpt = typer.Option(None, help="Stop after N records.")


def _report(report, as_json: bool) -> None:
    data = report.as_dict()
    if as_json:
        emit(data, True)
        return
    out.print(report.summary(), markup=False, highlight=False)
    for row in data["bad_lines"][:20]:
        err.print(f"  line {row['line']}: {row['error']}", markup=False, highlight=False)


@app.command()
def init():
    """Create (or migrate) the database."""
    svc = open_service(settings(), embedder=False)
    out.print(f"database ready: {svc.db} (schema v{svc.schema_version()}, {svc.count_papers()} papers)")


def _ingest(kind: str, path: Path, limit: Optional[int], as_json: bool):
    svc = open_service(settings(), embedder=False)
    # with --limit the records are the total; else the file's bytes (counting a .gz's records reads it twice)
    if limit is not None:
        bar = progress(f"ingest {path.name}", limit, unit="records")
    else:
        bar = progress(f"ingest {path.name}", lambda: svc.file_size(kind, path), unit="bytes")
    with bar as advance:
        report = svc.ingest_file(kind, path, limit=limit, progress=advance, in_bytes=limit is None)
    _report(report, as_json)
    if report.stopped:  # what came before is stored and indexed, but the file was not read to its end
        line, why = report.stopped
        raise BadInput(f"{path}: stopped at line {line}: {why}. Kept what came before it "
                       f"({report.summary()})")


@ingest_app.command("hf-daily")
def ingest_hf(path: Path, limit: Optional[int] = LimitOpt, as_json: bool = JsonOpt):
    """Hugging Face Daily Papers archive (JSONL, optionally gzipped)."""
    _ingest("hf-daily", path, limit, as_json)


@ingest_app.command("arxiv-jsonl")
def ingest_arxiv(path: Path, limit: Optional[int] = LimitOpt, as_json: bool = JsonOpt):
    """arXiv listing archive (JSONL, optionally gzipped)."""
    _ingest("arxiv-jsonl", path, limit, as_json)


@ingest_app.command("beir")
def ingest_beir(
    path: Path, limit: Optional[int] = LimitOpt,
    into_site: bool = typer.Option(False, "--into-site", help=(
        "Load it into this database anyway: its documents then show in the site's search, similar papers "
        "and sitemap.")),
    as_json: bool = JsonOpt,
):
    """A BEIR-format benchmark corpus (ids become NAME:ID), only with --into-site: to measure search on a
    benchmark, `papersift eval DIR` loads it into a store of its own."""
    if not into_site:  # a benchmark mixed into a site's papers is a mistake that is slow to undo
        raise BadInput(f"{path} is a retrieval benchmark: loaded into {settings().db} its documents would show "
                       f"in the site's search, similar papers and sitemap. Measure search on it with "
                       f"`papersift eval {path}` (a store of its own), or add --into-site to load it here anyway")
    _ingest("beir", path, limit, as_json)


LISTING_FORMATS = ("rss", "atom")


@app.command()
def harvest(
    source: str = typer.Argument("all", help="arxiv (OAI-PMH), hf, all (both), or arxiv-listings (arXiv's "
                                             "daily RSS/Atom listing of --category)."),
    from_date: Optional[str] = typer.Option(None, "--from", help="arXiv: first datestamp YYYY-MM-DD."),
    until: Optional[str] = typer.Option(None, "--until", help="arXiv: last datestamp YYYY-MM-DD."),
    set_spec: str = typer.Option("cs", "--set", help="arXiv OAI set, e.g. cs or cs:cs:LG."),
    days: int = typer.Option(3, help="Hugging Face: how many recent days to fetch."),
    limit: Optional[int] = typer.Option(None, help="arXiv: stop after N pages."),
    category: Optional[list[str]] = typer.Option(None, "--category", help=(
        "arxiv-listings: an arXiv category, e.g. cs.CL (repeatable, or comma-separated; at most 20).")),
    fmt: str = typer.Option("rss", "--format", help="arxiv-listings: the feed to read, rss or atom."),
    arxiv_url: Optional[str] = typer.Option(None, help="OAI-PMH endpoint (the arxiv_oai_url setting)."),
    rss_url: Optional[str] = typer.Option(None, help="arXiv's listing feeds (the arxiv_rss_url setting)."),
    hf_url: Optional[str] = typer.Option(None, help="Hugging Face base URL (the hf_url setting)."),
    as_json: bool = JsonOpt,
):
    """Fetch new papers from the live sources (resumes an interrupted arXiv harvest); arxiv-listings
    reads today's listing of some categories, with each paper's exact listing day."""
    from papersift.service import days_back

    if source not in ("arxiv", "hf", "all", "arxiv-listings"):
        raise BadInput(f"unknown source {source!r}: use arxiv, hf, all or arxiv-listings")
    if days < 1 or days > 366:
        raise BadInput("--days must be between 1 and 366")
    categories = _listing_options(source, category or [], fmt)
    svc = open_service(settings(hf_url=hf_url, arxiv_oai_url=arxiv_url, arxiv_rss_url=rss_url), embedder=False)
    reports = {}
    if source == "arxiv-listings":
        with progress("arXiv listings", unit="papers") as advance:
            reports["arxiv-listings"] = svc.harvest_arxiv_listings(categories, fmt, progress=advance)
    if source in ("hf", "all"):
        with progress("Hugging Face days", total=days, unit="days") as advance:
            reports["hf"] = svc.harvest_hf(days_back(days), progress=advance)
    if source in ("arxiv", "all"):
        with progress("arXiv OAI-PMH", unit="papers") as advance:  # arXiv says no total up front
            reports["arxiv"] = svc.harvest_arxiv(from_date, until, set_spec, max_pages=limit, progress=advance)
    if as_json:
        emit({k: r.as_dict() for k, r in reports.items()}, True)
    else:
        for name, report in reports.items():
            out.print(f"[bold]{name}[/bold]: ", end="")
            _report(report, False)


def _listing_options(source: str, given: list[str], fmt: str) -> list[str]:
    """The categories of ``harvest arxiv-listings``, checked before anything is opened or fetched;
    an option another source would ignore is an error rather than a surprise."""
    categories = split_categories(given)
    if source != "arxiv-listings":
        if categories or fmt != "rss":
            raise BadInput("--category and --format are for `harvest arxiv-listings`")
        return []
    if not categories:
        raise BadInput("name the categories to read: --category cs.CL (repeatable)")
    if fmt not in LISTING_FORMATS:
        raise BadInput(f"--format must be rss or atom, not {fmt[:40]!r}")
    return [check_category(c) for c in categories]


def split_categories(given: list[str]) -> list[str]:
    """``--category cs.CL --category cs.LG`` and ``--category cs.CL,cs.LG`` alike."""
    return [part.strip() for value in given for part in value.split(",") if part.strip()]


@app.command()
def index(
    limit: Optional[int] = typer.Option(None, help="Embed at most N papers this run."),
    rebuild: bool = typer.Option(False, help="Rebuild the indexes from the store (cached vectors are reused)."),
    no_embed: bool = typer.Option(False, "--no-embed", help="Lexical index only."),
    as_json: bool = JsonOpt,
):
    """Bring the search indexes up to date with the store (incremental)."""
    svc = open_service(settings(), embedder=False if no_embed else None)
    with progress("indexing", lambda: svc.papers_to_index(embed=not no_embed, rebuild=rebuild) if limit is None
                  else None, unit="papers") as advance:
        result = svc.index(progress=advance, limit=limit, rebuild=rebuild, embed=not no_embed)
    emit(result, as_json, lambda d: out.print(
        f"indexed: {d['lexical']} lexical, {d['vectors']} embedded"
        f"{' on the GPU' if d['device'] == 'cuda' else ''}; {d['papers']} papers in store"))


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


SEARCH_HELP = f"""Search papers.

Syntax: {SYNTAX}.

{LIMITS} Notes print to stderr (--json: in "notes").

Example: papersift search 'reasoning "reinforcement learning" -survey cat:cs.CL' --from 2025-01-01 --has-code"""


@app.command(help=SEARCH_HELP)
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
    svc = open_service(settings(), embedder=False if mode == "bm25" else None)
    res = svc.search(query, _filters(date_from, date_to, category, org, has_code), mode=mode, sort=sort,
                     page=page, per_page=per_page)
    data = {"query": res.query, "mode": res.mode, "sort": res.sort, "page": res.page, "per_page": res.per_page,
            "total": res.total, "matched": res.matched, "related": res.related, "counts": res.counts,
            "took_ms": round(res.took_ms, 2), "notes": res.notes, "results": _hit_rows(res.hits)}
    for note in [] if as_json else res.notes:
        err.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    emit(data, as_json, lambda d: _hits_table(d["results"], f"{d['counts']} ({d['mode']}, {d['took_ms']} ms)"))


@app.command()
def similar(paper_id: str, k: int = typer.Option(10, help="How many."), as_json: bool = JsonOpt):
    """Papers similar to a paper in the store."""
    rows = _hit_rows(open_service(settings()).similar(paper_id, k=k))
    emit({"id": paper_id, "results": rows}, as_json, lambda d: _hits_table(d["results"], f"similar to {paper_id}"))


@app.command()
def show(paper_id: str, as_json: bool = JsonOpt):
    """One paper with all its fields and their sources."""
    paper = open_service(settings(), embedder=False).paper(paper_id)
    emit(paper.to_dict(), as_json, lambda d: out.print_json(json.dumps(d, default=str)))


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

    feed = open_service(settings(), embedder=False).daily(date, week, month, sort=sort, page=page, limit=limit)

    def table(d):
        t = Table(title=f"{d['period']['label']} ({d['total']} papers, {d['sort']})")
        for col in ("#", "id", "title", "upvotes", "day"):
            t.add_column(col, overflow="fold")
        for i, item in enumerate(d["papers"], (page - 1) * limit + 1):
            t.add_row(str(i), item["id"], item["title"] or "", str(item["upvotes"]), item["feed_day"])
        out.print(t)
        if not d["papers"]:
            out.print(f"no papers; nearest days with papers: "
                      f"{d['previous_day_with_papers']} / {d['next_day_with_papers']}")

    emit(feed_page_json(feed), as_json, table)


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

    with progress(f"eval {path.name}") as advance:
        report = evaluate_beir(path, mode=mode, split=split, limit=limit, progress=advance,
                               on_stage=lambda stage, total: advance.start(f"eval {path.name}: {stage}", total))

    def table(d):
        t = Table(title=f"{d['dataset']} {d['split']} ({d['mode']}, {d['queries']} queries)")
        for col in ("metric", "mean", "95% CI"):
            t.add_column(col)
        for name, m in d["metrics"].items():
            t.add_row(name, f"{m['mean']:.4f}", f"[{m['ci_low']:.4f}, {m['ci_high']:.4f}]")
        out.print(t)

    emit(report, as_json, table)
