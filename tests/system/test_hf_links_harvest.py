"""A Hugging Face harvest asks each paper's page for the models, datasets and Spaces that link it,
against a local server speaking HF's wire format (``/api/daily_papers`` and ``/api/papers/{id}``)."""

from __future__ import annotations

import json

from papersift.service import Papersift
from tests.fakes.server import Reply, fixture

DAY = "2025-03-17"
DYT, OTHER = "2503.10622", "2503.11647"  # the feed fixture's two good items (its third is refused)


def serve_day(fake_http, *pages) -> None:
    """The day's feed, and the pages of its first paper in turn (one a harvest)."""
    fake_http.script("/api/daily_papers", fixture("hf_daily_2025-03-17.json"), query={"date": DAY})
    fake_http.script(f"/api/papers/{DYT}", *pages)
    fake_http.script(f"/api/papers/{OTHER}", Reply(404, {"Content-Type": "application/json"},
                                                   '{"error": "Paper not found"}'))


def test_a_harvest_keeps_the_linked_repositories_and_a_later_one_updates_them(tmp_path, fake_http):
    later = json.loads(fixture("hf_paper_2503.10622.json"))
    later.update(linkedModels=[], numTotalModels=0)  # by the next harvest, the models are gone
    serve_day(fake_http, fixture("hf_paper_2503.10622.json"), json.dumps(later))
    svc = Papersift(tmp_path / "p.db", embedder=False)
    report = svc.harvest_hf([DAY], base_url=fake_http.url)
    assert report.result.inserted == 2 and len(report.bad) == 1  # only the feed's refused item
    dyt, other = svc.store.get_paper(DYT), svc.store.get_paper(OTHER)
    assert {kind: links["total"] for kind, links in dyt.hf_links.items()} == {"models": 14, "datasets": 1, "spaces": 2}
    assert dyt.hf_links["models"]["top"][0]["id"] == "jiachenzhu/DyT-ViT-B"
    assert other.hf_links is None  # HF has no page for it: nothing known, nothing made up
    assert len(fake_http.requests_to(f"/api/papers/{DYT}")) == len(fake_http.requests_to(f"/api/papers/{OTHER}")) == 1
    # the next harvest hears that the models are gone: zero replaces what was there
    svc.harvest_hf([DAY], base_url=fake_http.url)
    assert svc.store.get_paper(DYT).hf_links["models"] == {"total": 0, "top": []}
    assert svc.store.get_paper(DYT).hf_links["spaces"]["total"] == 2
    svc.close()


def test_when_hf_stops_answering_the_papers_are_kept_without_links(tmp_path, fake_http):
    serve_day(fake_http, Reply(503, {"Retry-After": "0"}, "busy"))
    svc = Papersift(tmp_path / "p.db", embedder=False)
    report = svc.harvest_hf([DAY], base_url=fake_http.url)
    assert report.result.inserted == 2 and svc.store.get_paper(DYT).hf_links is None
    assert any("linked repositories left out" in message for _, message in report.bad)
    assert len(fake_http.requests_to(f"/api/papers/{DYT}")) == 4  # its retries, then no more asking
    assert fake_http.requests_to(f"/api/papers/{OTHER}") == []
    svc.close()


def test_an_unreadable_page_is_reported_and_links_can_be_left_out(tmp_path, fake_http):
    serve_day(fake_http, Reply(200, {"Content-Type": "application/json"}, '{"linkedModels": "three"}'))
    svc = Papersift(tmp_path / "p.db", embedder=False)
    report = svc.harvest_hf([DAY], base_url=fake_http.url)
    assert report.result.inserted == 2 and svc.store.get_paper(DYT).hf_links is None
    assert any(f"{DYT} linked repositories: linkedModels must be a list" in m for _, m in report.bad)
    asked = len(fake_http.requests)
    svc.corpus.harvest_hf([DAY], base_url=fake_http.url, links=False)
    assert [r.path for r in fake_http.requests[asked:]] == ["/api/daily_papers"]
    svc.close()
