"""First start: fill an empty database from the live sources, else the local archive."""

from __future__ import annotations

import os
from pathlib import Path

from papersift.errors import BadInput, PapersiftError
from papersift.service.corpus import Corpus, days_back

ARCHIVE = "hf-daily-papers-2024-2026.jsonl.gz"


def shared_data_dir() -> Path | None:
    """``../shared/data`` beside the checkout (where the project's real data lives), or
    ``PAPERSIFT_SHARED_DATA``."""
    if "PAPERSIFT_SHARED_DATA" in os.environ:
        given = Path(os.environ["PAPERSIFT_SHARED_DATA"])
        return given if (given / ARCHIVE).is_file() else None
    here = Path(__file__).resolve()
    for parent in [Path.cwd() / "x", *here.parents]:
        candidate = parent.parent / "shared" / "data"
        if (candidate / ARCHIVE).is_file():
            return candidate
    return None


def load_initial_papers(svc: Corpus, days: int = 7, limit: int | None = None, progress=None,
                        hf_url: str | None = None) -> str:
    try:
        report = svc.harvest_hf(days_back(days), base_url=hf_url, progress=progress)
        if report.read:
            return f"loaded {report.read} papers from Hugging Face Daily Papers (last {days} days)"
    except PapersiftError:
        pass  # offline: fall back to the archive
    data = shared_data_dir()
    if data is None:
        raise BadInput(
            "no papers to start with: the live sources are unreachable and ../shared/data/"
            f"{ARCHIVE} is absent. Load a file with `papersift ingest hf-daily PATH` or "
            "`papersift ingest arxiv-jsonl PATH`, or run `papersift harvest` when online."
        )
    report = svc.ingest_file("hf-daily", data / ARCHIVE, limit=limit, progress=progress, index=False)
    return f"offline: loaded {report.result.inserted} papers from {data / ARCHIVE}"
