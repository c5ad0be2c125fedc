"""``papersift arxiv``: "New on arXiv", every paper arXiv announced in a day, week or month, by tab
(new, cross-lists, replacements), as an anonymous visitor sees it on the website.

``--json`` prints the JSON API's answer (``GET /api/v1/arxiv``), so a script can move between the
two; the table shows one page and says how to get the next.
"""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from papersift.cli.common import JsonOpt, app, emit, open_service, out, settings
from papersift.cli.papers import split_categories
from papersift.formats.json_api import arxiv_json  # the API's shape, so that --json and the API agree

TAB_NAMES = {"new": "new", "cross": "cross-lists", "replace": "replacements"}


@app.command()
def arxiv(
    date: Optional[str] = typer.Option(None, help="A listing day, YYYY-MM-DD (default: the latest one)."),
    week: Optional[str] = typer.Option(None, help="An ISO week, YYYY-Www."),
    month: Optional[str] = typer.Option(None, help="A month, YYYY-MM."),
    category: Optional[list[str]] = typer.Option(None, "--category", help=(
        "An arXiv category, e.g. cs.CL (repeatable, or comma-separated; default: every category).")),
    tab: str = typer.Option("new", help="new (primary category), cross (cross-lists) or replace (new versions)."),
    page: int = typer.Option(1, help="Page, from 1."),
    limit: int = typer.Option(50, help="Papers per page (1-100)."),
    as_json: bool = JsonOpt,
):
    """New on arXiv: the papers arXiv announced in a day, week or month, in some categories."""
    view = open_service(settings(), embedder=False).arxiv.page(
        None, date, week, month, split_categories(category or []), tab=tab, page=page, limit=limit)
    emit(arxiv_json(view), as_json, _table)


def _table(data: dict) -> None:
    where = ", ".join(data["categories"]) or "all categories"
    if data["results"]:
        table = Table(title=f"New on arXiv, {data['period']['label']} ({where}): {TAB_NAMES[data['tab']]}")
        for col in ("#", "id", "title", "category", "day"):
            table.add_column(col, overflow="fold")
        first = (data["page"] - 1) * data["limit"] + 1
        for i, paper in enumerate(data["results"], first):
            listing = paper["listing"]
            table.add_row(str(i), paper["id"], paper["title"] or "", listing["category"], listing["day"])
        out.print(table)
    out.print(f"{data['period']['label']} ({where}): {summary(data['counts'])}", markup=False, highlight=False)
    hint = paging_hint(data)
    if hint:
        out.print(hint, markup=False, highlight=False)


def summary(counts: dict[str, int]) -> str:
    return (f"{sum(counts.values())} papers (new: {counts['new']}, cross-lists: {counts['cross']}, "
            f"replacements: {counts['replace']})")


def paging_hint(data: dict) -> str | None:
    """How to see more: the next page, or, for an empty period, the nearest listing days."""
    if data["page"] < data["pages"]:
        return f"page {data['page']} of {data['pages']}: --page {data['page'] + 1} for the next"
    if not any(data["counts"].values()):
        days = [d for d in (data["previous_day"], data["next_day"]) if d]
        return "nothing listed; nearest listing days: " + " / ".join(days) if days else "nothing listed"
    return None
