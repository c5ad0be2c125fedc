""""New on arXiv" in the JSON API over a real server on 127.0.0.1: a real SQLite file holding only the
committed arXiv sample, every answer compared with what the sample file itself says (tests/arxiv_support.py).
"""

from __future__ import annotations

import calendar
import math
from datetime import date

import httpx
import pytest

from ..arxiv_support import TABS, expected_counts, expected_tabs, latest_listing_day, sample, week_days
from ..helpers import ARXIV_SAMPLE
from ..web_support import served, site_service

WEEK = "2025-W22"  # the sample's densest week: 13 papers


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    svc = site_service(tmp_path_factory.mktemp("arxiv-api") / "p.db")
    svc.ingest_file("arxiv-jsonl", ARXIV_SAMPLE)
    reader = svc.accounts.create_user("reader@example.org", "correct horse battery", "Reader")
    tokens = {"write": svc.accounts.create_token(reader, "rw")[1],
              "read": svc.accounts.create_token(reader, "ro", scope="read")[1]}
    with served(svc) as base, httpx.Client(base_url=base, timeout=30) as client:
        client.tokens = tokens  # type: ignore[attr-defined]
        yield client


def bearer(api, scope: str = "write") -> dict[str, str]:
    return {"Authorization": f"Bearer {api.tokens[scope]}"}


def listing(api, headers=None, **params) -> dict:
    response = api.get("/api/v1/arxiv", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def every_page(api, headers=None, **params) -> list[dict]:
    """The results of all pages of one tab, 100 at a time."""
    first = listing(api, headers, limit=100, **params)
    results = first["results"]
    for page in range(2, first["pages"] + 1):
        results += listing(api, headers, limit=100, page=page, **params)["results"]
    return results


def error_of(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"], body
    return body["error"]["message"]


def test_no_period_is_the_latest_listing_day_and_it_is_not_empty(api):
    latest = latest_listing_day()
    body = listing(api)
    assert body["period"] == {"kind": "date", "label": latest.isoformat(), "from": latest.isoformat(),
                              "to": latest.isoformat()}
    assert body["categories"] == [] and body["tab"] == "new" and body["order"] == "listing"
    expected = expected_tabs(latest, latest)
    assert body["results"] and {p["id"] for p in body["results"]} == expected["new"]
    assert body["counts"] == expected_counts(latest, latest) and body["total"] == len(expected["new"])


@pytest.mark.parametrize("categories", [[], ["cs.CV"], ["cs.CL"], ["cs.AI"], ["cs.CV", "cs.CL"]])
def test_each_tab_of_the_densest_week_is_what_the_sample_says(api, categories):
    start, end = week_days(WEEK)
    expected = expected_tabs(start, end, categories)
    assert sum(map(len, expected.values())) > 0
    for tab in TABS:
        body = listing(api, week=WEEK, category=categories, tab=tab, limit=100)
        assert body["period"] == {"kind": "week", "label": WEEK, "from": start.isoformat(), "to": end.isoformat()}
        assert body["counts"] == {name: len(ids) for name, ids in expected.items()}
        assert body["total"] == len(expected[tab]) and body["categories"] == categories
        assert {p["id"] for p in body["results"]} == expected[tab]
        for paper in body["results"]:
            assert paper["listing"]["kind"] == tab and start.isoformat() <= paper["listing"]["day"] <= end.isoformat()
            assert not categories or paper["listing"]["category"] in categories
            assert paper["title"] and paper["categories"] and "provenance" not in paper


def test_the_week_has_the_papers_listed_in_it_new_by_primary_category(api):
    start, end = week_days(WEEK)
    in_week = {p.id: p for p in sample() if start <= p.first <= end}
    assert len(in_week) == 13
    cv = listing(api, week=WEEK, category="cs.CV", limit=100)
    assert all(in_week[p["id"]].categories[0] == "cs.CV" for p in cv["results"])
    cross = listing(api, week=WEEK, category="cs.CV", tab="cross", limit=100)
    assert cross["results"] and all(in_week[p["id"]].categories[0] != "cs.CV" and "cs.CV" in p["categories"]
                                    for p in cross["results"])


def test_replacements_are_later_versions_listed_again(api):
    """A month where the sample has replacements: each is a paper first listed earlier."""
    month = min(f"{d.year:04d}-{d.month:02d}" for p in sample() for d in p.replaced)
    start = date.fromisoformat(month + "-01")
    end = start.replace(day=calendar.monthrange(start.year, start.month)[1])
    body = listing(api, month=month, tab="replace", limit=100)
    expected = expected_tabs(start, end)
    assert body["results"] and {p["id"] for p in body["results"]} == expected["replace"]
    first = {p.id: p.first for p in sample()}
    assert all(first[p["id"]].isoformat() < p["listing"]["day"] for p in body["results"])


def test_repeated_and_comma_separated_categories_are_the_same_filter(api):
    repeated = listing(api, week=WEEK, category=["cs.CL", "cs.AI"], limit=100)
    joined = listing(api, week=WEEK, category="cs.CL, cs.AI", limit=100)
    assert repeated == joined and repeated["categories"] == ["cs.CL", "cs.AI"]
    for paper in repeated["results"]:
        assert paper["categories"][0] in ("cs.CL", "cs.AI")
    assert {p["id"] for p in repeated["results"]} < {p["id"] for p in listing(api, week=WEEK, limit=100)["results"]}


def test_pages_split_the_tab_in_arxivs_order_without_overlap(api):
    whole = listing(api, week=WEEK, limit=100)
    assert whole["total"] == 13 and whole["pages"] == 1
    ordered = sorted(sorted(whole["results"], key=lambda p: p["id"]), key=lambda p: p["listing"]["day"], reverse=True)
    assert [p["id"] for p in whole["results"]] == [p["id"] for p in ordered]  # newest day first, then by id
    pages = [listing(api, week=WEEK, limit=5, page=n) for n in (1, 2, 3)]
    assert [p["pages"] for p in pages] == [math.ceil(13 / 5)] * 3 and [len(p["results"]) for p in pages] == [5, 5, 3]
    assert [r["id"] for p in pages for r in p["results"]] == [r["id"] for r in whole["results"]]
    past_the_end = listing(api, week=WEEK, limit=5, page=4)
    assert past_the_end["results"] == [] and past_the_end["total"] == 13


def test_an_empty_period_names_the_nearest_listing_days(api):
    first_day = min(p.first for p in sample())
    body = listing(api, date="2025-01-01")
    assert body["results"] == [] and body["counts"] == {"new": 0, "cross": 0, "replace": 0}
    assert body["previous_day"] is None and body["next_day"] == first_day.isoformat()


def test_followed_categories_round_trip_and_drive_the_readers_default_view(api):
    me = bearer(api)
    assert api.get("/api/v1/me/categories", headers=me).json() == {"categories": []}
    put = api.put("/api/v1/me/categories", json={"categories": ["cs.CL", "cs.AI", "cs.CL"]}, headers=me)
    assert put.status_code == 200, put.text
    assert put.json() == {"categories": ["cs.AI", "cs.CL"]}  # once each, as stored (by name)
    assert api.get("/api/v1/me/categories", headers=bearer(api, "read")).json() == put.json()
    start, end = week_days(WEEK)
    mine = listing(api, me, week=WEEK, limit=100)
    assert mine["categories"] == ["cs.AI", "cs.CL"] and mine["order"] == "listing"  # no signals yet: arXiv's order
    assert mine["counts"] == expected_counts(start, end, ["cs.CL", "cs.AI"])
    assert {p["id"] for p in mine["results"]} == expected_tabs(start, end, ["cs.CL", "cs.AI"])["new"]
    anonymous = listing(api, week=WEEK, limit=100)
    assert anonymous["categories"] == [] and anonymous["total"] == 13
    asked = listing(api, me, week=WEEK, category="cs.CV", limit=100)  # a category asked for wins
    assert asked["categories"] == ["cs.CV"] and asked["counts"] == expected_counts(start, end, ["cs.CV"])
    cleared = api.put("/api/v1/me/categories", json={"categories": []}, headers=me)
    assert cleared.json() == {"categories": []} and listing(api, me, week=WEEK)["categories"] == []


@pytest.mark.parametrize("params", [
    {"tab": "bogus"},
    {"category": "cs.CL;drop"},
    {"category": "ｃｓ.CL"},  # full-width letters are not an arXiv category
    {"limit": "0"},
    {"limit": "101"},
    {"page": "0"},
    {"week": "2025-W99"},
    {"date": "2025-02-30"},
    {"month": "2025-13"},
    {"date": "2025-05-27", "week": WEEK},
    {"order": "random"},
    {"category": ",".join(f"cs.A{chr(65 + i)}" for i in range(21))},  # 21 categories
])
def test_bad_input_is_a_400_that_says_what_is_wrong(api, params):
    error_of(api.get("/api/v1/arxiv", params=params), 400)


def test_the_categories_need_a_token_and_a_write_one_to_change(api):
    assert "token" in error_of(api.put("/api/v1/me/categories", json={"categories": ["cs.CL"]}), 401)
    error_of(api.get("/api/v1/me/categories"), 401)
    error_of(api.put("/api/v1/me/categories", json={"categories": ["cs.CL"]}, headers=bearer(api, "read")), 403)
    error_of(api.get("/api/v1/arxiv", headers={"Authorization": "Bearer not-a-token"}), 401)  # not anonymity


@pytest.mark.parametrize("body", [b"{not json", b'{"categories": "cs.CL"}', b'{"categories": ["cs.CL;drop"]}',
                                  b'{"categories": ["\xef\xbd\x83s.CL"]}', b"{}",
                                  b'{"categories": [%s]}' % b",".join(b'"cs.A%c"' % (65 + i) for i in range(21))])
def test_a_bad_body_is_a_400_and_changes_nothing(api, body):
    me = bearer(api)
    before = api.get("/api/v1/me/categories", headers=me).json()
    error_of(api.put("/api/v1/me/categories", content=body, headers=me | {"Content-Type": "application/json"}), 400)
    assert api.get("/api/v1/me/categories", headers=me).json() == before


def test_the_openapi_document_describes_the_routes(api):
    spec = api.get("/openapi.json").json()
    arxiv = spec["paths"]["/api/v1/arxiv"]["get"]
    assert arxiv["summary"] and "cross" in arxiv["description"]
    params = {p["name"]: p for p in arxiv["parameters"]}
    assert set(params) >= {"date", "week", "month", "category", "tab", "order", "page", "limit"}
    assert params["tab"]["schema"]["enum"] == ["new", "cross", "replace"]
    assert params["limit"]["schema"]["minimum"] == 1 and params["limit"]["schema"]["maximum"] == 100
    assert all(p.get("description") for p in params.values())
    categories = spec["paths"]["/api/v1/me/categories"]
    assert set(categories) == {"get", "put"} and all(op["summary"] for op in categories.values())
    assert categories["put"]["requestBody"]["content"]["application/json"]["schema"]["required"] == ["categories"]
    for op in (arxiv, *categories.values()):
        assert "422" not in op["responses"] and "4XX" in op["responses"]
