"""Exports on the JSON API (``/api/v1/export/...?format=``): the files parse back with the real
libraries, the library needs a token, hidden papers never leave, bad input is a clear 400."""

from __future__ import annotations

import csv
import io
import json

import bibtexparser
import httpx
import pytest
import rispy

from papersift.model import FeedEntry, Paper
from papersift.server.app import create_app
from papersift.service import Papersift

from ..helpers import running_server
from ..web_support import FAST_HASHER

DAY = "2024-05-01"


def _paper(n: int, title: str) -> Paper:
    return Paper(id=f"2405.0000{n}", title=title, abstract=f"Abstract {n}, with a comma.", authors=["Ada Lovelace", "Émile Zola"],
                 categories=["cs.LG"], published=f"{DAY}T00:00:00Z", source="hf-jsonl", observed_at=f"{DAY}T08:00:00Z",
                 feed_entry=FeedEntry(day=DAY, upvotes=n, rank=n, captured_at=f"{DAY}T08:00:00Z"))


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api-exports")
    svc = Papersift(tmp / "p.db", embedder=False, password_hasher=FAST_HASHER)
    svc.store.upsert_papers([_paper(1, "Sparse {attention} & 50% less memory"), _paper(2, "Tabular =SUM(A1) models"),
                             _paper(3, "A hidden paper")])
    svc.index(embed=False)
    svc.store.set_paper_hidden("2405.00003", True)
    user = svc.accounts.create_user("exporter@example.org", "correct horse battery", "Exporter")
    svc.actions.save(user, "2405.00002")
    _, secret = svc.accounts.create_token(user, "exports")
    with running_server(create_app(svc, background=False)) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client, {"Authorization": f"Bearer {secret}"}
    svc.close()


def test_each_format_parses_back_with_its_library(api):
    client, _ = api
    r = client.get("/api/v1/export/daily_papers", params={"date": DAY, "format": "bibtex"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-bibtex")
    assert r.headers["content-disposition"] == 'attachment; filename="papersift-day-2024-05-01.bib"'
    entries = bibtexparser.parse_string(r.text).entries
    assert sorted(e["eprint"] for e in entries) == ["2405.00001", "2405.00002"]  # the hidden one stays home
    ris = rispy.loads(client.get("/api/v1/export/papers/2405.00001", params={"format": "ris"}).text)
    assert ris[0]["title"] == "Sparse {attention} & 50% less memory" and ris[0]["authors"][1] == "Zola, Émile"
    items = json.loads(client.get("/api/v1/export/search", params={"q": "models", "mode": "bm25",
                                                                    "format": "csl-json"}).text)
    assert [i["title"] for i in items] == ["Tabular =SUM(A1) models"]
    text = client.get("/api/v1/export/daily_papers", params={"date": DAY, "format": "csv"}).content.decode("utf-8-sig")
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {"2405.00001", "2405.00002"} and rows["2405.00002"]["title"] == "Tabular =SUM(A1) models"
    assert rows["2405.00001"]["abstract"] == "Abstract 1, with a comma."


def test_the_library_needs_a_token_and_is_the_token_holders(api):
    client, headers = api
    assert client.get("/api/v1/export/library").status_code == 401
    r = client.get("/api/v1/export/library", params={"format": "ris"}, headers=headers)
    assert r.status_code == 200
    assert [e["accession_number"] for e in rispy.loads(r.text)] == ["arXiv:2405.00002"]


@pytest.mark.parametrize("url, params, message", [
    ("/api/v1/export/papers/2405.00001", {"format": "xml"}, "format"),
    ("/api/v1/export/daily_papers", {"format": "csv"}, "exactly one of date, week or month"),
    ("/api/v1/export/daily_papers", {"date": "2024-13-40"}, ""),
    ("/api/v1/export/papers/2405.00003", {}, ""),  # hidden: not found, as on the pages
    ("/api/v1/export/search", {"q": ""}, "q"),
])
def test_bad_input_is_a_clear_4xx(api, url, params, message):
    client, _ = api
    r = client.get(url, params=params)
    assert 400 <= r.status_code < 500 and r.headers["content-type"].startswith("application/json"), r.text
    assert message in r.json()["error"]["message"]
