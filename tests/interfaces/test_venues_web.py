"""Venues read from arXiv comments, end to end over a real server: the ``venue:`` filter, the venue
pages, the venue on cards and in the JSON API, and in the exports as reference managers read them
(BibTeX ``booktitle`` / ``journal`` through bibtexparser, RIS through rispy, CSL-JSON). The comments
are real ones from the hand-labelled set (tests/data/venue_comments.jsonl)."""

from __future__ import annotations

import json

import bibtexparser
import httpx
import pytest
import rispy

from papersift.model import Paper
from papersift.venues import parse_venue

from ..helpers import DATA
from ..web_support import assert_html_error, served


def labelled() -> list[dict]:
    with open(DATA / "venue_comments.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def read_right(row: dict) -> bool:
    """The reader agrees with the label (its misses are measured by bench venues_eval, not here)."""
    venue = parse_venue(row["comment"])
    return (venue.name, venue.year, venue.track) == (row["venue"], row["year"], row["track"]) if venue else \
        row["venue"] is None


def pick(name: str | None, track: str | None, year_known: bool = True) -> dict:
    return next(r for r in labelled() if r["venue"] == name and r["track"] == track
                and (r["year"] is not None) == year_known and read_right(r))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from papersift.service import Papersift

    rows = {"main": pick("NeurIPS", "main"), "workshop": pick("NeurIPS", "workshop"),
            "journal": next(r for r in labelled() if r["track"] == "journal" and read_right(r)),
            "none": pick(None, None, year_known=False)}
    tmp = tmp_path_factory.mktemp("venues")
    svc = Papersift(tmp / "p.db", index_dir=tmp / "idx", embedder=False)
    svc.store.upsert_papers([Paper(id=row["id"], title=f"A study of graphs ({kind})", abstract="Graphs.",
                                   authors=["Ada Lovelace"], categories=["cs.LG"], comment=row["comment"],
                                   published="2025-09-18T00:00:00Z", source="arxiv-jsonl",
                                   observed_at="2025-09-20T00:00:00Z") for kind, row in rows.items()])
    svc.index(embed=False)
    with served(svc) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield client, rows


def ids(html: str) -> set[str]:
    return {part.split('"')[0].replace("-", ".") for part in html.split('id="paper-')[1:]}


def test_the_venue_pages_and_filter(site):
    client, rows = site
    main = rows["main"]
    year = main["year"]
    assert ids(client.get(f"/venues/NeurIPS-{year}").text) == {main["id"]}
    assert ids(client.get("/venues/NeurIPS").text) == {main["id"], rows["workshop"]["id"]}  # every track
    workshop = rows["workshop"]
    assert ids(client.get(f"/venues/NeurIPS-{workshop['year']}-Workshop").text) == {workshop["id"]}
    found = client.get("/search", params={"q": f"graphs venue:neurips-{year}"}).text
    assert ids(found) == {main["id"]}
    page = client.get(f"/papers/{main['id']}").text
    assert f'href="/venues/NeurIPS-{year}"' in page and f"NeurIPS {year}</a>" in page
    assert ids(client.get("/venues/ICLR-1999").text) == set()


@pytest.mark.parametrize("url", ["/venues/bad%20slug", "/venues/%EF%BC%A9CLR", "/search?q=venue:", "/venues/-x",
                                 "/search?q=venue:" + "a" * 81])
def test_bad_venues_are_a_400(site, url):
    response = site[0].get(url)
    if url.startswith("/search"):  # the search form stays, with the reason
        assert response.status_code == 400 and "venue: " in response.text.lower()
    else:
        assert_html_error(response, 400)


def test_the_api_and_the_exports_carry_the_venue(site):
    client, rows = site
    main, journal, none = rows["main"], rows["journal"], rows["none"]
    data = client.get(f"/api/v1/papers/{main['id']}").json()
    assert data["venue"] == {"name": "NeurIPS", "year": main["year"], "track": "main",
                             "label": f"NeurIPS {main['year']}", "slug": f"NeurIPS-{main['year']}"}
    assert client.get(f"/api/v1/papers/{none['id']}").json()["venue"] is None
    entry = bibtexparser.parse_string(client.get(f"/export/papers/{main['id']}?format=bibtex").text).entries[0]
    assert entry.entry_type == "inproceedings" and entry["booktitle"] == f"NeurIPS {main['year']}"
    article = bibtexparser.parse_string(client.get(f"/export/papers/{journal['id']}?format=bibtex").text).entries[0]
    assert article.entry_type == "article" and article["journal"] == journal["venue"]
    plain = bibtexparser.parse_string(client.get(f"/export/papers/{none['id']}?format=bibtex").text).entries[0]
    assert plain.entry_type == "misc" and "booktitle" not in plain.fields_dict
    (record,) = rispy.loads(client.get(f"/export/papers/{main['id']}?format=ris").text)
    assert record["type_of_reference"] == "CPAPER" and record["secondary_title"] == f"NeurIPS {main['year']}"
    (item,) = client.get(f"/export/papers/{journal['id']}?format=csl-json").json()
    assert item["type"] == "article-journal" and item["container-title"] == journal["venue"]
