"""``papersift export``: papers as BibTeX, RIS, CSL-JSON or CSV, to a file or standard output.

Exactly one of ``--query``, ``--day``, ``--week``, ``--month``, ``--library EMAIL``, ``--id`` says
which papers (the same selections as the website's download links: hidden papers never leave).
``--library`` is the operator's command-line access to a reader's saved papers. The file goes to
``-o FILE`` or standard output; a one-line summary goes to standard error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from papersift.cli.common import app, err, open_service, settings
from papersift.errors import BadInput, DiskFull, is_disk_full


def _target(query, day, week, month, library, paper_id, sort, limit, mode):
    from papersift.service import ExportTarget

    chosen = [name for name, value in (("--query", query), ("--day", day), ("--week", week), ("--month", month),
                                        ("--library", library), ("--id", paper_id)) if value is not None]
    if len(chosen) != 1:
        raise BadInput("choose exactly one of --query, --day, --week, --month, --library, --id"
                       + (f" (got {', '.join(chosen)})" if chosen else ""))
    if sort is not None and chosen[0] not in ("--query", "--day", "--week", "--month"):
        raise BadInput("--sort applies to --query, --day, --week and --month")
    if (limit is not None or mode is not None) and query is None:
        raise BadInput("--limit and --mode apply to --query")
    if query is not None:
        return ExportTarget.search(query, sort=sort or "relevance", limit=limit, mode=mode or "hybrid")
    for kind, label in (("date", day), ("week", week), ("month", month)):
        if label is not None:
            return ExportTarget.period(kind, label, sort or "trending")
    return ExportTarget.library() if library is not None else ExportTarget.paper(paper_id)


@app.command("export")
def export(
    fmt: str = typer.Option(..., "--format", "-f", help="bibtex, ris, csl-json or csv."),
    query: Optional[str] = typer.Option(None, "--query", "-q", help="A search (the search syntax)."),
    day: Optional[str] = typer.Option(None, "--day", help="A feed day, YYYY-MM-DD."),
    week: Optional[str] = typer.Option(None, "--week", help="A feed week, YYYY-Www."),
    month: Optional[str] = typer.Option(None, "--month", help="A feed month, YYYY-MM."),
    library: Optional[str] = typer.Option(None, "--library", help="A reader's saved papers, by their email."),
    paper_id: Optional[str] = typer.Option(None, "--id", help="One paper (any arXiv id shape)."),
    sort: Optional[str] = typer.Option(None, "--sort", help="Feeds: trending, upvotes, published; "
                                       "a search: relevance, date, upvotes."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Search results to export (default 100, at most 1000)."),
    mode: Optional[str] = typer.Option(None, "--mode", help="Search mode: hybrid (default), bm25 or dense."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write here instead of standard output."),
):
    """Export papers as BibTeX, RIS, CSL-JSON or CSV."""
    from papersift.formats.exports import check_format, render_papers

    check_format(fmt)  # a typo costs nothing
    target = _target(query, day, week, month, library, paper_id, sort, limit, mode)
    svc = open_service(settings(), embedder=None if target.kind == "search" and target.mode != "bm25" else False)
    viewer = svc.accounts.user_by_email(library) if library is not None else None
    selection = svc.exports.select(viewer, target)
    body, _, filename = render_papers(selection.papers, fmt, selection.stem)
    if output is None:
        sys.stdout.buffer.write(body)
        sys.stdout.flush()
    else:
        try:
            output.write_bytes(body)
        except OSError as exc:
            if not is_disk_full(exc):
                raise BadInput(f"cannot write {output}: {exc.strerror or exc}") from None
            if output.is_file():
                output.unlink()  # a truncated export would pass for a whole one
            raise DiskFull.at(output, "the export was not written") from None
    count = len(selection.papers)
    err.print(f"{count} paper{'s' * (count != 1)} ({selection.title}) as {fmt.strip().lower()}"
              f" to {output or 'standard output'} (suggested name {filename})", markup=False, highlight=False,
              soft_wrap=True)
