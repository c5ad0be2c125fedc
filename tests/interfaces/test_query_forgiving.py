"""Forgiving query syntax where people type it: the JSON API and the search page over a real server, and
the CLI as a real process. Pasted titles and long text are searched, with a note that says how they were
read; real mistakes stay one-line errors; the OpenAPI document and ``search --help`` state the syntax and
the real limits (docs/QUERY.md)."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys

import httpx
import pytest

from papersift.query import FIELDS, MAX_QUERY_CHARS, MAX_QUERY_TERMS

from ..helpers import ARXIV_SAMPLE, HF_SAMPLE
from ..web_support import served, site_service

GLUED = "GovRelBench:A Benchmark for Government Domain Relevance"  # the arXiv sample's 2507.21419, as arXiv titles it
QUOTED = 'Separating the "Chirp" from the "Chat": Self-supervised Visual Grounding of Sound and Language'  # 2406.05629
ABSENT = 'Don\'t "Overthink" Passage Reranking: Is Reasoning Truly Necessary?'  # a paper not in the sample
LONG = " ".join(f"vision{i} language" for i in range(MAX_QUERY_TERMS + 20))  # 84 distinct words + "language"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("forgiving")
    svc = site_service(tmp / "site.db")
    svc.ingest_file("hf-daily", HF_SAMPLE)
    svc.ingest_file("arxiv-jsonl", ARXIV_SAMPLE)
    with served(svc) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client, tmp / "site.db"


def search(client, q, **params):
    response = client.get("/api/v1/search", params={"q": q, "mode": "bm25", **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_an_unknown_field_in_a_pasted_title_is_searched_with_a_note(site):
    body = search(site[0], GLUED)
    assert body["results"][0]["id"] == "2507.21419"
    (note,) = body["notes"]
    assert note.startswith("GovRelBench: is not a search field") and "title:" in note
    assert search(site[0], "diffusion")["notes"] == []  # nothing to say: no note


def test_quotes_inside_a_pasted_title_are_part_of_the_title(site):
    body = search(site[0], QUOTED)
    assert body["results"][0]["id"] == "2406.05629" and body["total"] > 1  # the paper, then its neighbours
    assert body["notes"][0].startswith("read as a pasted title")
    # a title that is not here: its quoted word was a required phrase, and the search came back empty
    absent = search(site[0], ABSENT)
    assert absent["total"] > 0 and absent["notes"][0].startswith("read as a pasted title")


def test_a_short_query_keeps_its_phrase_required(site):
    body = search(site[0], '"vision language" model', per_page=20)
    assert body["notes"] == [] and body["results"]
    assert all("vision language" in (r["title"] + " " + (r.get("abstract") or "")).lower().replace("-", " ")
               for r in body["results"])


def test_a_long_query_is_cut_with_a_note_not_refused(site):
    body = search(site[0], LONG)
    assert body["results"]
    assert body["notes"] == [f"the query was cut to its first {MAX_QUERY_TERMS} terms: its last 42 words were "
                             "not searched"]


@pytest.mark.parametrize("q,message", [
    ("x" * (MAX_QUERY_CHARS + 1), f"{MAX_QUERY_CHARS} characters"),
    ('"video generation', "unbalanced quote"),
    ("cat:cs_LG", "cat: expects"),
    ("diffusion", "not a real day"),  # with from=2025-02-30 below
])
def test_real_mistakes_are_still_one_line_400s(site, q, message):
    params = {"q": q, **({"from": "2025-02-30"} if q == "diffusion" else {})}
    response = site[0].get("/api/v1/search", params=params)
    assert response.status_code == 400 and message in response.json()["error"]["message"]


def test_the_openapi_document_states_the_syntax_and_the_real_limits(site):
    spec = site[0].get("/openapi.json").json()
    (q,) = [p for p in spec["paths"]["/api/v1/search"]["get"]["parameters"] if p["name"] == "q"]
    assert q["schema"]["maxLength"] == MAX_QUERY_CHARS
    assert search(site[0], "x" * MAX_QUERY_CHARS)["query"]  # the documented length is accepted
    for name in FIELDS:
        assert f"{name}:" in q["description"], name
    assert f"{MAX_QUERY_TERMS} terms" in q["description"]
    out = spec["components"]["schemas"]["SearchOut"]["properties"]
    assert out["notes"]["type"] == "array"


def test_the_search_page_shows_the_note_and_takes_the_documented_length(site):
    client = site[0]
    page = client.get("/search", params={"q": GLUED})
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert 'role="note"' in page.text and "GovRelBench: is not a search field" in text
    assert 'href="/papers/2507.21419"' in page.text
    assert f'maxlength="{MAX_QUERY_CHARS}"' in page.text
    pasted = client.get("/search", params={"q": " ".join(["segmentation"] * 150)})  # 1,799 characters
    assert pasted.status_code == 200 and 'role="note"' not in pasted.text
    cut = client.get("/search", params={"q": LONG})
    assert cut.status_code == 200 and f"cut to its first {MAX_QUERY_TERMS} terms" in cut.text


def cli(db, *args):
    env = {**os.environ, "PAPERSIFT_DB": str(db), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "papersift.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_the_cli_prints_the_note_and_returns_it_in_json(site):
    db = site[1]
    table = cli(db, "search", GLUED, "--mode", "bm25")
    assert table.returncode == 0, table.stderr
    assert "2507.21419" in table.stdout
    assert table.stderr.startswith("note: GovRelBench: is not a search field") and table.stderr.count("\n") == 1
    body = json.loads(cli(db, "search", LONG, "--mode", "bm25", "--json").stdout)
    assert body["results"] and body["notes"][0].startswith(f"the query was cut to its first {MAX_QUERY_TERMS}")
    bad = cli(db, "search", "cat:cs_LG")
    assert bad.returncode == 2 and bad.stderr.startswith("error: cat: expects") and "Traceback" not in bad.stderr


def test_search_help_documents_the_field_syntax_and_the_limits():
    proc = subprocess.run([sys.executable, "-m", "papersift.cli", "search", "--help"], capture_output=True,
                          text=True, env={**os.environ, "COLUMNS": "200"}, timeout=120)
    assert proc.returncode == 0
    text = " ".join(proc.stdout.replace("│", " ").split())
    for name in FIELDS:
        assert f"{name}:" in text, name
    assert f"At most {MAX_QUERY_CHARS} characters" in text and f"past {MAX_QUERY_TERMS} terms" in text
    assert "unknown word: is searched as text" in text
