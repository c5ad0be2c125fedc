"""``papersift migrate --from sqlite:///old.db --to postgresql://...``: move a store to a server.

The copying is store/migrate.py's; this command shows a progress bar per table, then a table of
row counts on both sides. Exit 0 when every count agrees, 2 when one differs (or for a bad URL).
Safe to run again after an interruption: it continues where it stopped. The search indexes are
not copied: they are derived, and the target machine builds its own with ``papersift index``.
"""

from __future__ import annotations

import typer
from rich.table import Table

from papersift.cli.common import Advance, JsonOpt, app, emit, err, out, progress_bars


@app.command("migrate")
def migrate_cmd(
    source: str = typer.Option(..., "--from", help="The SQLite store: a file path or sqlite:///path (only read)."),
    target: str = typer.Option(..., "--to", help="The PostgreSQL database: postgresql://user@host:5432/name."),
    batch: int = typer.Option(2000, "--batch", min=1, max=100000, help="Rows per transaction."),
    as_json: bool = JsonOpt,
):
    """Copy a SQLite store into PostgreSQL (ids, change numbers, accounts, outbox); verify the counts.

    Stop the old site first (what it writes during the copy would be missed). Re-run after an
    interruption: it continues where it stopped. The search indexes are not copied: run
    `papersift index` on the target machine with PAPERSIFT_INDEX_DIR set. Exit 2 when a count differs.
    """
    from papersift.service import migrate_store

    with progress_bars() as bars:
        tasks: dict[str, Advance] = {}

        def advance(name: str, done: int, total: int) -> None:  # a bar per table, made at its first rows
            if name not in tasks:
                tasks[name] = bars.add(f"{name:<18}", total, unit="rows")
            tasks[name](done)

        reports, not_copied = migrate_store(source, target, batch=batch, progress=advance)
    rows = [{"table": r.name, "source": r.source, "target": r.target, "copied now": r.copied, "read": r.read,
             "ok": r.ok}
            for r in reports]
    emit({"tables": rows, "not_copied": not_copied}, as_json, _show)
    if not all(r.ok for r in reports):
        bad = ", ".join(f"{r.name} ({r.source} in SQLite, {r.target} in PostgreSQL)" for r in reports if not r.ok)
        err.print(f"error: the counts differ: {bad}", markup=False, highlight=False, soft_wrap=True)
        raise typer.Exit(2)


def _show(data: dict) -> None:
    table = Table("table", "SQLite", "PostgreSQL", "copied now", "")
    for row in data["tables"]:
        table.add_row(row["table"], str(row["source"]), str(row["target"]), str(row["copied now"]),
                      "ok" if row["ok"] else "DIFFERS")
    out.print(table)
    for name, why in data["not_copied"].items():
        out.print(f"not copied: {name} ({why})", markup=False, highlight=False)
    out.print("The search indexes are not copied (derived data): run `papersift --db <the postgresql URL> index` "
              "on the target machine, with PAPERSIFT_INDEX_DIR set.", markup=False, highlight=False)
