"""The JSON API over a real server on 127.0.0.1, on a real sample of the HF archive."""

import httpx
import pytest

from papersift.service import Papersift

from ..helpers import HF_SAMPLE, head_jsonl
from ..web_support import served


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("api")
    sample = head_jsonl(HF_SAMPLE, tmp / "hf.jsonl", 3000)
    svc = Papersift(tmp / "p.db", embedder=False)
    svc.ingest_file("hf-daily", sample)
    with served(svc) as base, httpx.Client(base_url=base, timeout=30) as client:
        yield client


def error_of(response, status):
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and body["error"]["message"]
    return body["error"]


def test_health_and_openapi(api):
    assert api.get("/api/v1/health").json()["papers"] > 500
    assert api.get("/api/health").json() == api.get("/api/v1/health").json()  # the unversioned one stays
    spec = api.get("/openapi.json").json()
    assert {"/api/v1/search", "/api/v1/daily_papers", "/api/v1/papers/{paper_id}", "/api/v1/library", "/api/daily_papers",
            "/api/papers/search", "/api/papers/{paper_id}", "/papers/{paper_id}.md"} <= set(spec["paths"])
    # the old unversioned papersift routes are gone (the HF routes took /api/daily_papers and /api/papers)
    assert "/api/search" not in spec["paths"] and "/api/library" not in spec["paths"]


def test_search_with_snippets_and_filters(api):
    body = api.get("/api/v1/search", params={"q": "multimodal", "mode": "bm25", "per_page": 5}).json()
    assert body["total"] >= 5 and len(body["results"]) == 5
    # keyword search: every result matches the words, none is added by meaning
    assert (body["matched"], body["related"]) == (body["total"], 0)
    assert body["counts"] == f"{body['total']:,} papers match the words"
    first = body["results"][0]
    assert "multimodal" in (first["title"] + first["abstract"]).lower()
    assert "<mark>" in "".join(first.get("snippets", {}).values()).lower()
    newest = api.get("/api/v1/search", params={"q": "model", "sort": "date", "per_page": 10}).json()["results"]
    dates = [r["published"] for r in newest]
    assert dates == sorted(dates, reverse=True)
    coded = api.get("/api/v1/search", params={"q": "model", "has_code": "true", "per_page": 20}).json()["results"]
    # code: Hugging Face's repository, or one the abstract or comment links (a GitHub URL in the abstract)
    assert coded and all(r["has_code"] and (r["github_repo"] or r["code_url"] in r["code_links"]) for r in coded)
    assert any(not r["github_repo"] and r["code_url"] in r["abstract"] for r in coded)
    windowed = api.get("/api/v1/search", params={"q": "model", "from": "2024-05-24", "to": "2024-05-24"}).json()
    assert windowed["results"], "the sample has papers from 2024-05-24 about models"
    assert all(r["published"].startswith("2024-05-24") for r in windowed["results"])


def test_paper_similar_and_daily(api):
    paper = api.get("/api/v1/papers/arXiv:2405.15738v2").json()
    assert paper["id"] == "2405.15738" and paper["title"].startswith("ConvLLaVA")
    assert paper["provenance"]["title"]["source"] == "hf-jsonl"
    similar = api.get("/api/v1/papers/2405.15738/similar", params={"k": 3}).json()["results"]
    assert len(similar) == 3 and all(r["id"] != "2405.15738" for r in similar)
    day = api.get("/api/v1/daily_papers", params={"date": "2024-05-27", "sort": "upvotes"}).json()
    votes = [p["upvotes"] for p in day["papers"]]
    assert votes and votes == sorted(votes, reverse=True) and day["period"]["previous"] == "2024-05-26"
    week = api.get("/api/v1/daily_papers", params={"week": "2024-W22", "limit": 5, "p": 1}).json()
    assert week["page"] == 2 and len(week["papers"]) == 5 and week["total"] > 10
    empty = api.get("/api/v1/daily_papers", params={"date": "2030-01-01"}).json()
    assert empty["papers"] == [] and empty["previous_day_with_papers"]


@pytest.mark.parametrize("path,params,status", [
    ("/api/v1/search", {"q": '"unclosed'}, 400),
    ("/api/v1/search", {"q": "x", "mode": "magic"}, 400),
    ("/api/v1/search", {"q": "x", "sort": "random"}, 400),
    ("/api/v1/search", {"q": "x", "from": "2024-99-01"}, 400),
    ("/api/v1/search", {"q": "x", "from": "2025-01-02", "to": "2025-01-01"}, 400),
    ("/api/v1/search", {"q": "x", "page": "999999999"}, 400),
    ("/api/v1/search", {"q": "x", "page": "abc"}, 400),
    ("/api/v1/search", {"q": "x", "per_page": "0"}, 400),
    ("/api/v1/search", {"q": "y" * 5000}, 400),
    ("/api/v1/search", {"q": "cat:cs_LG"}, 400),  # a known field's bad value is an error (foo:bar is text)
    ("/api/v1/search", {}, 400),
    ("/api/v1/papers/not-an-id", {}, 400),
    ("/api/v1/papers/2401.99999", {}, 404),
    ("/api/v1/papers/2401.99999/similar", {}, 404),
    ("/api/v1/papers/2405.15738/similar", {"k": "100000"}, 400),
    ("/api/v1/daily_papers", {"date": "2024-02-30"}, 400),
    ("/api/v1/daily_papers", {"week": "2024-W60"}, 400),
    ("/api/v1/daily_papers", {"month": "2024-1"}, 400),
    ("/api/v1/daily_papers", {"date": "2024-05-27", "week": "2024-W22"}, 400),
    ("/api/v1/daily_papers", {"sort": "hot"}, 400),
    ("/api/v1/daily_papers", {"p": "-1"}, 400),
    ("/api/v1/daily_papers", {"limit": "100000"}, 400),
    ("/api/v1/nothing-here", {}, 404),
    ("/api/search", {"q": "model"}, 404),  # moved to /api/v1
    ("/api/v1/library", {}, 401),
    ("/api/v1/recommendations", {"k": "5"}, 401),
])
def test_bad_input_is_a_json_4xx(api, path, params, status):
    error_of(api.get(path, params=params), status)


def test_the_hf_routes_answer_hf_shapes_and_errors(api):
    """The Hugging Face–compatible paths (the real client is driven in test_hf_client.py)."""
    items = api.get("/api/daily_papers", params={"date": "2024-05-27", "sort": "trending"}).json()
    ours = api.get("/api/v1/daily_papers", params={"date": "2024-05-27", "limit": 100}).json()["papers"]
    assert [i["paper"]["id"] for i in items] == [p["id"] for p in ours]  # same feed, same trending order
    assert all(i["publishedAt"].endswith("Z") and i["paper"]["publishedAt"].endswith("Z") for i in items)
    assert items[0]["paper"]["upvotes"] == ours[0]["upvotes"]
    paper = api.get("/api/papers/2405.15738").json()
    assert paper["id"] == "2405.15738" and paper["authors"][0]["name"]
    markdown = api.get("/papers/2405.15738.md")
    assert markdown.headers["content-type"].startswith("text/markdown") and markdown.text.startswith("# ConvLLaVA")
    for path, params, status in (("/api/daily_papers", {"date": "2024-02-30"}, 400),
                                 ("/api/daily_papers", {"limit": "0"}, 400),
                                 ("/api/papers/2401.99999", {}, 404), ("/papers/2401.99999.md", {}, 404),
                                 ("/api/papers/search", {"q": '"unclosed'}, 400)):
        answer = api.get(path, params=params)
        assert answer.status_code == status and isinstance(answer.json()["error"], str), (path, answer.text)
