"""While papers wait for their vectors, the site says so: ``/api/v1/health`` counts how much of the corpus
semantic search covers, the pages that search or rank show a banner, and For you says it is still indexing
(issue 23, part 5).

A real server (tests/web_support.py) on the first lines of the real HF archive with the default embedder,
its vector index built the product's way but stopped after one small batch (``sync_vectors(limit=...)``):
the state of a server whose background indexer is still catching up after a start or a big ingest.
"""

from __future__ import annotations

import re

import httpx
import pytest

from ..web_support import XSS_ID, build_service, log_in, served

BANNER = re.compile(r'<p class="coverage" role="status">Semantic search covers (\d+) of (\d+) papers; '
                    r"the rest are found by keyword until their vectors are ready\.</p>")
STILL_INDEXING = "the semantic index is still being built"
EMBEDDED_FIRST = 32  # papers the partial index embeds (one batch of sync_vectors)


def _partly_indexed(tmp, lines: int):
    """A site's service whose vector index holds only the first EMBEDDED_FIRST papers of the store."""
    svc = build_service(tmp, lines, embedder=None)  # None: the configured default (minilm)
    svc.indexes.sync_vectors(limit=1, batch=EMBEDDED_FIRST)
    return svc


def _embedded(svc) -> int:
    """Papers with a stored vector of the index's model, counted in the store, not in the index."""
    return sum(1 for _ in svc.store.iter_embeddings(svc.indexes.embedder.name))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    svc = _partly_indexed(tmp_path_factory.mktemp("coverage"), 120)
    user = svc.accounts.create_user("waiting@example.org", "correct horse battery", "Waiting Reader")
    svc.for_you.feedback(user, XSS_ID, "more")  # planted after the sample: the last paper to get a vector
    _, secret = svc.accounts.create_token(user, "recs", scope="read")
    with served(svc) as base, httpx.Client(base_url=base, timeout=60) as client:
        yield {"svc": svc, "client": client, "base": base, "secret": secret}


def test_health_counts_the_papers_with_vectors_while_the_index_catches_up(site):
    svc, client = site["svc"], site["client"]
    body = client.get("/api/v1/health").json()
    papers = svc.store.count_papers()
    assert papers > EMBEDDED_FIRST + 50
    assert _embedded(svc) == EMBEDDED_FIRST
    assert body["semantic"] == {"enabled": True, "indexed": EMBEDDED_FIRST, "papers": papers, "complete": False}
    # every key it had stays, with the same numbers
    assert body["status"] == "ok" and body["papers"] == papers
    assert body["index"]["role"] == "indexer" and body["index"]["vectors_behind"] > 0
    assert client.get("/api/health").json() == body


def test_pages_that_search_or_rank_show_the_coverage_banner(site):
    svc, client = site["svc"], site["client"]
    expected = (str(EMBEDDED_FIRST), str(svc.store.count_papers()))
    for path in ("/search?q=video+generation", "/search", f"/papers/{XSS_ID}"):
        page = client.get(path)
        assert page.status_code == 200, (path, page.text[:300])
        assert BANNER.findall(page.text) == [expected], path
    assert 'class="coverage"' not in client.get("/").text  # the feed ranks by votes, not by vectors


def test_for_you_says_it_is_still_indexing_on_the_page_and_in_the_api(site):
    with httpx.Client(base_url=site["base"], timeout=60) as browser:
        assert log_in(browser, "waiting@example.org").status_code == 303
        page = browser.get("/for-you?period=month")
    assert page.status_code == 200
    assert STILL_INDEXING in page.text.lower() and "next harvest" not in page.text
    assert len(BANNER.findall(page.text)) == 1
    answer = site["client"].get("/api/v1/recommendations", params={"period": "month"},
                                headers={"Authorization": f"Bearer {site['secret']}"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["results"] == [] and body["reason"].startswith(STILL_INDEXING)
    assert f"{EMBEDDED_FIRST} of {site['svc'].store.count_papers()} papers" in body["reason"]


def test_the_banner_goes_once_the_vectors_have_caught_up(tmp_path):
    svc = _partly_indexed(tmp_path, 40)
    with served(svc) as base, httpx.Client(base_url=base, timeout=60) as client:
        assert BANNER.search(client.get("/search?q=diffusion").text)
        svc.index()  # what the background indexer does next
        papers = svc.store.count_papers()
        body = client.get("/api/v1/health").json()
        assert body["semantic"] == {"enabled": True, "indexed": _embedded(svc), "papers": papers, "complete": True}
        assert body["index"]["vectors_behind"] == 0
        for path in ("/search?q=diffusion", f"/papers/{XSS_ID}"):
            page = client.get(path)
            assert page.status_code == 200 and 'class="coverage"' not in page.text, path


def test_a_server_without_an_embedder_has_no_semantic_search_and_no_banner(tmp_path):
    with served(build_service(tmp_path, 30)) as base, httpx.Client(base_url=base, timeout=60) as client:
        client.get("/search?q=diffusion")  # opens the (lexical) indexes
        semantic = client.get("/api/v1/health").json()["semantic"]
        assert semantic == {"enabled": False, "indexed": None, "papers": semantic["papers"], "complete": None}
        assert semantic["papers"] > 20 and 'class="coverage"' not in client.get("/search?q=diffusion").text
