"""First start: fill an empty database from the live sources, else the local archive."""

from __future__ import annotations

from pathlib import Path

from papersift.config import environment_value
from papersift.errors import BadInput, PapersiftError
from papersift.service.corpus import Corpus, days_back

ARCHIVE = "hf-daily-papers-2024-2026.jsonl.gz"


def shared_data_dir(setting: str | None = None) -> Path | None:
    """The ``shared_data`` setting (None: from the environment), else ``../shared/data`` beside the
    checkout (where the project's real data lives)."""
    setting = environment_value("shared_data") if setting is None else setting
    if setting:
        given = Path(setting)
        return given if (given / ARCHIVE).is_file() else None
    here = Path(__file__).resolve()
    for parent in [Path.cwd() / "x", *here.parents]:
        candidate = parent.parent / "shared" / "data"
        if (candidate / ARCHIVE).is_file():
            return candidate
    return None


def load_initial_papers(svc: Corpus, days: int = 7, limit: int | None = None, progress=None,
                        hf_url: str | None = None, shared_data: str | None = None) -> str:
    try:
        # the first start waits for this: no linked repositories for these papers (a request each); a later
        # harvest of their days asks for them
        report = svc.harvest_hf(days_back(days), base_url=hf_url, progress=progress, links=False)
        if report.read:
            return f"loaded {report.read} papers from Hugging Face Daily Papers (last {days} days)"
    except PapersiftError:
        pass  # offline: fall back to the archive
    data = shared_data_dir(shared_data)
    if data is None:
        raise BadInput(
            "no papers to start with: the live sources are unreachable and ../shared/data/"
            f"{ARCHIVE} is absent. Load a file with `papersift ingest hf-daily PATH` or "
            "`papersift ingest arxiv-jsonl PATH`, or run `papersift harvest` when online."
        )
    report = svc.ingest_file("hf-daily", data / ARCHIVE, limit=limit, progress=progress, index=False)
    return f"offline: loaded {report.result.inserted} papers from {data / ARCHIVE}"
