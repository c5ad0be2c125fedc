"""Evaluation data stays out of the site: `papersift eval` works in a store of its own, `ingest beir`
refuses a site's database without --into-site, and a benchmark document that is loaded anyway is
labelled and cited as what it is (its namespaced id), never as an arXiv paper."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ..helpers import HF_SAMPLE, SCIFACT_SAMPLE, head_jsonl
from ..web_support import served, site_service

DOC = "scifact:275294"  # "Environmental factors that influence the cutaneous production of vitamin D"


def cli(db: Path, *args: str, cache: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PAPERSIFT_DB": str(db), **({"PAPERSIFT_CACHE": str(cache)} if cache else {})}
    return subprocess.run([sys.executable, "-m", "papersift.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def fingerprint(folder: Path, db: Path) -> dict[str, str]:
    """Every file of the site (its database and its index folder), by content."""
    files = [db, *sorted(p for p in folder.rglob("*") if p.is_file())]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def site_db(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("kept-out")
    db = tmp / "site.db"
    proc = cli(db, "ingest", "hf-daily", str(head_jsonl(HF_SAMPLE, tmp / "hf.jsonl", 200)), "--json")
    assert proc.returncode == 0, proc.stderr
    return db


def papers_in(db: Path) -> int:
    return json.loads(cli(db, "search", "vitamin", "--mode", "bm25", "--json").stdout)["total"]


def test_ingest_beir_refuses_a_site_database_without_the_flag(site_db):
    before = fingerprint(site_db.parent / "site.db.index", site_db)
    proc = cli(site_db, "ingest", "beir", str(SCIFACT_SAMPLE))
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"error: {SCIFACT_SAMPLE} is a retrieval benchmark")
    assert f"papersift eval {SCIFACT_SAMPLE}" in line and "--into-site" in line
    assert fingerprint(site_db.parent / "site.db.index", site_db) == before  # not a byte written
    assert papers_in(site_db) == 0


def test_ingest_beir_loads_with_the_explicit_flag(tmp_path):
    db = tmp_path / "bench.db"
    proc = cli(db, "ingest", "beir", str(SCIFACT_SAMPLE), "--into-site", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["inserted"] == 204 and papers_in(db) > 0


def test_eval_never_touches_the_site_database(site_db, tmp_path):
    before = fingerprint(site_db.parent / "site.db.index", site_db)
    proc = cli(site_db, "eval", str(SCIFACT_SAMPLE), "--mode", "bm25", "--limit", "5", "--json", cache=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["queries"] == 5
    assert fingerprint(site_db.parent / "site.db.index", site_db) == before
    assert list((tmp_path / "eval").glob("scifact-*/store.db"))  # its own store, under the cache folder


@pytest.fixture(scope="module")
def benchmark_site(tmp_path_factory):
    """A site that holds a benchmark document next to arXiv papers (loaded with --into-site)."""
    tmp = tmp_path_factory.mktemp("labelled")
    svc = site_service(tmp / "site.db")
    svc.ingest_file("hf-daily", head_jsonl(HF_SAMPLE, tmp / "hf.jsonl", 50))
    svc.ingest_file("beir", SCIFACT_SAMPLE)
    with served(svc) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client


def test_a_benchmark_document_is_never_labelled_as_arxiv(benchmark_site):
    page = benchmark_site.get(f"/papers/{DOC}")
    assert page.status_code == 200
    assert f"arXiv:{DOC}" not in page.text and f"{DOC} (not an arXiv paper)" in page.text
    assert "arxiv.org" not in page.text and "citation_arxiv_id" not in page.text
    arxiv_page = benchmark_site.get("/papers/2405.15738")
    assert "arXiv:2405.15738" in arxiv_page.text  # an arXiv paper keeps its label


@pytest.mark.parametrize("fmt,key", [("bibtex", r"@misc\{([^,]+),"), ("csl-json", r'"citation-key": "([^"]+)"')])
def test_a_benchmark_document_is_cited_by_its_id(benchmark_site, fmt, key):
    response = benchmark_site.get(f"/export/papers/{DOC}", params={"format": fmt})
    assert response.status_code == 200
    (cited,) = re.findall(key, response.text)
    assert cited == "scifact275294"  # not "anonenvironmental": it has no authors, and is no anonymous preprint
    assert "arXiv" not in response.text and "arxiv.org" not in response.text
