"""``papersift eval-recs``: the recommender's offline evaluation (author-as-user).

The logic is in :mod:`papersift.evaluate.recs` (``--through-service``: :mod:`papersift.evaluate.recs_service`,
the same protocol asked of the product itself); this module parses options, shows a progress bar
and prints the tables (one per variant of the protocol) and the paired tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.table import Table

from papersift.cli.common import JsonOpt, app, emit, out, progress


@app.command("eval-recs")
def eval_recs(
    cutoff: str = typer.Option(..., "--cutoff", help="T, YYYY-MM-DD: profiles before it, candidates in the 30 days from it."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Evaluate a seeded sample of N users (default all)."),
    seed: int = typer.Option(0, "--seed", help="Seeds the user sample, the unseen-paper draws and tie breaks."),
    data: Optional[Path] = typer.Option(None, "--data", help="The folder with arxiv-cs-2025-2026.jsonl.gz and "
                                        "embeddings/ (default ../shared/data)."),
    through_service: bool = typer.Option(False, "--through-service", help="Ask the product itself: a real store "
                                         "of the papers listed up to T + 29, one account per author (their papers "
                                         "imported as a library, their categories followed), For you for the month "
                                         "against hybrid search and the followed categories."),
    workdir: Optional[Path] = typer.Option(None, "--workdir", help="--through-service: keep each cutoff's store "
                                           "here and reuse it (default a temporary folder)."),
    no_asl: bool = typer.Option(False, "--no-asl", help="--through-service: leave the arxiv-sanity-lite replica out."),
    as_json: bool = JsonOpt,
):
    """Recommendations, author-as-user: nDCG@10, Recall@50, MRR with 95% CIs and a paired test."""
    if through_service:
        from papersift.evaluate.recs_service import evaluate_recs_service

        with progress("building the store, loading papers", unit="users") as advance:
            report = evaluate_recs_service(cutoff, data_dir=data, limit=limit, seed=seed, workdir=workdir,
                                           asl=not no_asl, progress=advance,
                                           on_start=lambda total: advance.start("asking the product for each "
                                                                                "reader", total))
        emit(report, as_json, _service_tables)
        return
    from papersift.evaluate.recs import evaluate_recs

    # the total (the number of users) is known once the data is loaded: the bar is relabelled then
    with progress("loading papers, vectors, tf-idf", unit="users") as advance:
        report = evaluate_recs(cutoff, data_dir=data, limit=limit, seed=seed, progress=advance,
                               on_start=lambda total: advance.start("ranking each user's window", total))
    emit(report, as_json, _tables)


def _metric_table(title: str, methods: dict) -> None:
    table = Table(title=title)
    for col in ("method", "nDCG@10", "Recall@50", "MRR"):
        table.add_column(col)
    for method, metrics in methods.items():
        table.add_row(method, *(f"{m['mean']:.4f} [{m['ci_low']:.4f}, {m['ci_high']:.4f}]" for m in metrics.values()))
    out.print(table)


def _service_tables(report: dict) -> None:
    for variant, result in report["variants"].items():
        _metric_table(f"T = {report['cutoff']}, through the service, {variant}: {result['users']} users, For you "
                      f"for {report['window'][0]} to {report['window'][1]} ({report['window_papers']} papers listed)",
                      result["methods"])
        for other, tests in result["paired"].items():
            test = tests["ndcg@10"]
            out.print(f"  paired bootstrap, nDCG@10, {report['ours']} - {other.strip()}: {test['diff']:+.4f} "
                      f"[{test['ci_low']:+.4f}, {test['ci_high']:+.4f}], p = {test['p']:.4f}",
                      markup=False, highlight=False, soft_wrap=True)
    times = ", ".join(f"{name.strip()} {ms['median']:.0f} ms" for name, ms in report["method_ms"].items()
                      if ms["median"] is not None)
    store = "the kept store reused" if report["store_reused"] else f"the store built in {report['build_seconds']} s"
    out.print(f"median per reader: {times}; {report['seconds']} s in all ({store})", markup=False, highlight=False,
              soft_wrap=True)


def _tables(report: dict) -> None:
    for variant, result in report["variants"].items():
        _metric_table(f"T = {report['cutoff']}, {variant}: {result['users']} users, "
                      f"{report['window_papers']} candidates", result["methods"])
        paired = result["paired"]
        if paired:
            for metric, test in paired["metrics"].items():
                out.print(f"  paired bootstrap, {paired['ours']} - {paired['baseline']}, {metric}: "
                          f"{test['diff']:+.4f} [{test['ci_low']:+.4f}, {test['ci_high']:+.4f}], p = {test['p']:.4f}",
                          markup=False, highlight=False, soft_wrap=True)
    train, total = report["train_ms"], report["train_and_rank_ms"]
    if train["median"] is not None:
        out.print(f"per user ({report['users']} users): retrain median {train['median']:.1f} ms, p99 {train['p99']:.1f} ms; "
                  f"retrain + rank {report['window_papers']} candidates median {total['median']:.1f} ms, "
                  f"p99 {total['p99']:.1f} ms; {report['seconds']} s in all", markup=False, highlight=False,
                  soft_wrap=True)
