"""schemathesis (pinned) against the OpenAPI document of a live papersift server.

schemathesis generates requests from the document (``/openapi.json``) for every JSON route: the
anonymous reads, papersift's own routes under ``/api/v1`` with a bearer token, and the Hugging
Face–compatible routes. Two checks: no answer is a server error, and every answer (2xx and 4xx
alike) has the shape the document declares; and every operation must have answered at least once
with a 2xx, so that the answers checked are not only errors.
The store is a real SQLite file with a real sample of the HF archive; submitting (which would
call arXiv) is left out.

The document is read at collection time from the app built on an empty database (the operations
become test items then; schemathesis's lazy ``from_fixture`` loader does not run under pytest 9),
and ``test_the_live_server_serves_this_document`` checks that the live server serves the same one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from papersift.server.app import create_app
from papersift.service import Papersift
from tests.web_support import build_service, served

CHECKS = [not_a_server_error, response_schema_conformance]
_TOKEN: dict[str, str] = {}
STATUSES: dict[str, set[int]] = {}  # "GET /api/v1/search" -> the statuses seen
# Operations on a comment, collection, claim or reader that an earlier call must have made (an id in the
# path): generated requests name ones that do not exist, so they answer 404s and 400s here (checked for
# shape and for no server error); their successes are tested where the state is made first
# (tests/interfaces/test_community_web.py, test_hf_collections.py).
NEEDS_STATE = {
    "GET /api/collections/{owner}/{slug}", "PATCH /api/collections/{owner}/{slug}", "DELETE /api/collections/{owner}/{slug}",
    "POST /api/collections/{owner}/{slug}/items", "PATCH /api/collections/{owner}/{slug}/items/{item_id}",
    "DELETE /api/collections/{owner}/{slug}/items/{item_id}", "GET /api/v1/collections/{collection_id}",
    "POST /api/v1/collections/{collection_id}/papers", "PATCH /api/v1/comments/{comment_id}",
    "DELETE /api/v1/comments/{comment_id}", "POST /api/v1/comments/{comment_id}/reactions",
    "POST /api/v1/comments/{comment_id}/report", "PATCH /api/v1/claims/{claim_id}", "DELETE /api/v1/claims/{claim_id}",
    "GET /api/v1/users/{name}", "DELETE /api/v1/me/webhooks/{hook_id}", "POST /api/v1/me/webhooks/{hook_id}/test"}


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    svc = build_service(tmp_path_factory.mktemp("openapi"), lines=400)
    user = svc.accounts.create_user("schema@example.org", "correct horse battery", name="Schema Reader")
    _, secret = svc.accounts.create_token(user, "schemathesis")
    _TOKEN["Authorization"] = f"Bearer {secret}"
    with served(svc) as base:
        yield base


def _document() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        svc = Papersift(Path(tmp) / "doc.db", embedder=False)
        try:
            return create_app(svc, background=False).openapi()
        finally:
            svc.close()


DOCUMENT = _document()
schema = schemathesis.openapi.from_dict(DOCUMENT).exclude(path="/api/v1/submit")  # would fetch from arXiv


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
def test_the_api_keeps_its_openapi_document(case, live):
    response = case.call_and_validate(base_url=live, headers=dict(_TOKEN), checks=CHECKS, timeout=30)
    op = case.operation  # the coverage phase also sends other methods (405s) under an operation's name
    seen = STATUSES.setdefault(f"{op.method.upper()} {op.path}", set())
    if case.method.upper() == op.method.upper():
        seen.add(response.status_code)


def test_every_operation_answered_with_a_2xx():
    operations = {f"{op.method.upper()} {op.path}" for op in (r.ok() for r in schema.get_all_operations())}
    assert set(STATUSES) == operations, "run the whole file: the generated tests above fill STATUSES"
    never = sorted(op for op, seen in STATUSES.items() if not any(200 <= s < 300 for s in seen) and op not in NEEDS_STATE)
    assert not never, f"only errors from: {never}"


def test_the_live_server_serves_this_document(live):
    assert httpx.get(live + "/openapi.json", timeout=30).json() == DOCUMENT


def test_the_document_declares_constraints():
    """What generated clients and fuzzers rely on: ranges, choices, response shapes."""
    raw = DOCUMENT
    search = {p["name"]: p["schema"] for p in raw["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert search["per_page"]["maximum"] == 100 and search["per_page"]["minimum"] == 1
    assert set(search["mode"]["enum"]) == {"hybrid", "bm25", "dense"}
    daily = {p["name"]: p["schema"] for p in raw["paths"]["/api/daily_papers"]["get"]["parameters"]}
    assert set(daily["sort"]["enum"]) == {"publishedAt", "trending"}
    for path, ops in raw["paths"].items():
        for method, op in ops.items():
            assert "422" not in op["responses"], f"{method} {path}: bad input is a 400 here"
            ok = op["responses"].get("200") or op["responses"].get("201")
            assert ok and ok.get("content"), f"{method} {path} declares no response shape"
    assert raw["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
