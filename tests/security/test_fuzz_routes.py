"""Fuzz every route of the real server with hostile values; no answer may be a 5xx or a traceback.

The routes are read from the application itself, so a route added later is swept without
editing this file. Values come from hypothesis: calendar edges, Unicode digits, huge numbers,
non-ASCII tokens, query-syntax fragments, over-long strings and arbitrary text. Each route is
tried anonymously and as a logged-in reader (forms with a valid CSRF token, the JSON API with a
bearer token), so the checks behind authentication are swept too.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from papersift.server.app import create_app
from papersift.service import Papersift
from tests.digest_support import smtp_config
from tests.fakes.server import FakeHTTP, Reply, fixture
from tests.helpers import running_server
from tests.library_corpus import ADVERSARIAL
from tests.smtp_support import SMTPServer
from tests.web_support import build_service, csrf_of, log_in, sign_up, site_service

EDGE_VALUES = [
    "0001-01-01", "9999-12-31", "9999-12-30", "0000-00-00", "2024-02-30", "2024-13-01", "10000-01-01",
    "9999-W52", "9999-W53", "0001-W01", "2024-W00", "2024-W54", "9999-12", "0001-01", "0000-13", "2024-1",
    "²", "١٢", "１２", "߁", "3²", "-1", "0", "1", "2", "+1", " 1", "1e3", "0x10", "1.5", "NaN", "inf",
    "99999999999999999999", str(2**63), str(2**70), "-9223372036854775809",
    "é.x", "é", "\u202e", "💥", "%00", "\x00", "\r\n", "..", "../..", "//evil.example", "/\\evil.example",
    'author:', 'author:""', 'cat:', 'org:', 'title:"', 'id:', '"', '"""', "-", "--", "(", ")", "*", "?", "\\",
    "AND OR NOT", "a:b:c", "title:(x", "[* TO *]", "x" * 5000, "é" * 3000, "2405.15738", "hep-th/9901001",
    "true", "false", "null", "[]", "{}", "<script>alert(1)</script>", "' OR 1=1 --",
]
# the values most likely to break a parameter parser (the full list goes into every path slot)
PARAM_EDGES = ["0001-01-01", "9999-12-31", "9999-12-30", "2024-02-30", "9999-W52", "9999-W53", "0001-W01",
               "2024-W00", "9999-12", "0001-01", "²", "١٢", "１２", "3²", "-1", "0", "99999999999999999999",
               str(2**70), "1.5", "é", "💥", "\x00", "author:", 'title:"', "(", "*", "\\", "x" * 5000, "' OR 1=1 --"]
PARAM_NAMES = ["q", "from", "to", "cat", "org", "has_code", "page", "per_page", "mode", "sort", "date", "week",
               "month", "p", "limit", "k", "view", "submitter", "next", "format", "fmt", "token", "email"]
FORM_FIELDS = ["csrf_token", "email", "password", "password2", "name", "next", "arxiv_id", "on", "hidden",
               "frequency", "categories", "organizations", "authors", "queries", "token_name", "confirm"]
HAND_PARSED = ["q", "from", "to", "cat", "org", "has_code", "sort", "page", "submitted", "digest"]
# a value that passes for each path slot, so that a query parameter is what the request tests
GOOD_PATH = {"day": "2024-05-27", "week": "2024-W22", "month": "2024-05", "paper_id": "2405.99902",
             "name": "Example Lab", "fmt": "atom", "token": "x.y", "token_id": "1", "path": "site.css"}
SKIP_POSTS = {"/logout"}  # would end the session the rest of the sweep runs under

values = st.one_of(st.sampled_from(EDGE_VALUES), st.text(max_size=40),
                   st.integers(min_value=-(2**80), max_value=2**80).map(str))


def queries(declared: tuple[str, ...]):
    """Mostly the route's own parameters, sometimes any known name (pages parse some by hand)."""
    names = st.sampled_from(declared) if declared else st.sampled_from(PARAM_NAMES)
    return st.dictionaries(st.one_of(names, names, st.sampled_from(PARAM_NAMES)), values, max_size=4)


forms = st.dictionaries(st.sampled_from(FORM_FIELDS), values, max_size=5)


def _routes(routes, prefix: str = ""):
    """(method, path template) of every route, including those of included routers and mounts."""
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI's included router
            yield from _routes(route.original_router.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "methods") and route.methods:
            for method in sorted(route.methods - {"HEAD"}):
                yield method, prefix + route.path, _declared(route)
        elif hasattr(route, "path"):  # a mount (/static)
            yield "GET", prefix + route.path + "/{path:path}", ()


def _declared(route) -> tuple[str, ...]:
    """The query parameters a route declares (pages that read the query string themselves declare none)."""
    dependant = getattr(route, "dependant", None)
    return tuple(sorted(p.alias or p.name for p in dependant.query_params)) if dependant else ()


def _fill(template: str, value: str | None) -> str:
    """The template with ``value`` in every slot (None: each slot's known-good value)."""
    def one(match: re.Match) -> str:
        text = GOOD_PATH.get(match.group(1), "x") if value is None else value
        return quote(text, safe="/" if match.group(2) == ":path" else "")
    return re.sub(r"\{(\w+)(:\w+)?\}", one, template)


class Site:
    def __init__(self, base: str, hub, tmp: Path):
        self.base = base
        self.anon = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
        self.user = httpx.Client(base_url=base, timeout=60, follow_redirects=False)
        assert sign_up(self.user, "fuzz@example.org").status_code in (302, 303)
        log_in(self.user, "fuzz@example.org")
        self.hub = hub
        self.bearer = self.new_bearer()

    def new_bearer(self) -> dict:
        """A fresh token (the sweep itself may revoke the first one: /settings/tokens/1/revoke)."""
        _, secret = self.hub.accounts.create_token(self.hub.accounts.user_by_email("fuzz@example.org"), "fuzz")
        return {"Authorization": f"Bearer {secret}"}

    def csrf(self) -> str:
        return csrf_of(self.user.get("/settings").text)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fuzz")
    arxiv, smtp = FakeHTTP(), SMTPServer().start()  # a site with email on: the digest routes are live
    arxiv.script("/oai", Reply(200, {"Content-Type": "text/xml"}, fixture("oai_id_does_not_exist.xml")))
    svc = build_service(tmp, lines=300)
    svc.close()
    # the default embedder: hybrid and dense search are swept too
    svc = hub = site_service(tmp / "site.db", None, smtp_config(smtp.port), arxiv_oai_url=arxiv.url + "/oai")
    svc.index()
    app = create_app(svc, background=False)
    try:
        with running_server(app) as base:
            yield Site(base, hub, tmp)
    finally:
        arxiv.close()
        smtp.stop()
        svc.close()


def _server_error(response: httpx.Response) -> bool:
    return response.status_code >= 500 or "Traceback" in response.text


def _check(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what} -> {response.status_code}: {response.text[:300]}"
    assert "Traceback" not in response.text, what


def _app_routes() -> list[tuple[str, str]]:
    """The routes of a site built on an empty database (collection time: no data needed)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        svc = Papersift(Path(tmp) / "routes.db", embedder=False)
        try:
            return sorted(set(_routes(create_app(svc, background=False).router.routes)))
        finally:
            svc.close()


ROUTES = _app_routes()


def test_the_sweep_reaches_every_kind_of_route():
    paths = {path for _, path, _ in ROUTES}
    for expected in ("/api/v1/search", "/api/v1/daily_papers", "/api/daily_papers", "/papers/date/{day}", "/search",
                     "/feeds/search.{fmt}", "/unsubscribe/{token}", "/api/v1/papers/{paper_id:path}",
                     "/api/papers/{paper_id:anytext}", "/papers/{paper_id:anytext}.md", "/login", "/static/{path:path}"):
        assert expected in paths, f"{expected} is not among the routes the fuzz test found"
    assert any(method == "POST" for method, *_ in ROUTES) and any(method == "DELETE" for method, *_ in ROUTES)
    assert "from" in dict((t, d) for _, t, d in ROUTES)["/api/v1/search"]


GET_ROUTES = [(t, d) for m, t, d in ROUTES if m == "GET"]


@pytest.mark.parametrize("template,declared", GET_ROUTES, ids=[t for t, _ in GET_ROUTES])
def test_every_edge_value_in_every_slot(site, template, declared):
    """Deterministic part: each edge value in each path slot, then in each parameter with good
    values elsewhere (a search carries a real query so that its filters are reached)."""
    names = list(declared) or HAND_PARSED
    base = {"q": "quokka retrieval"} if "q" in names else {}
    requests = [(_fill(template, v), base) for v in EDGE_VALUES] if "{" in template else []
    requests += [(_fill(template, None), base | {name: v}) for name in names for v in PARAM_EDGES]
    failures = []
    for path, params in requests:
        response = site.user.get(path, params=params)
        if _server_error(response):
            failures.append(f"{response.status_code} GET {path[:80]} {str(params)[:120]}")
    assert not failures, f"{len(failures)} of {len(requests)} requests failed:\n" + "\n".join(failures[:40])


@pytest.mark.parametrize("method,template,declared", ROUTES, ids=[f"{m} {t}" for m, t, _ in ROUTES])
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(data=st.data())
def test_no_route_answers_a_server_error(site, method, template, declared, data):
    web = site
    path = _fill(template, data.draw(values, label="path value"))
    params = data.draw(queries(declared), label="query")
    what = f"{method} {path[:120]} {str(params)[:200]}"
    if method == "GET":
        for client in (web.anon, web.user):
            _check(client.get(path, params=params), what)
        if path.startswith("/api/"):
            _check(web.anon.get(path, params=params, headers=web.bearer), what)
    elif path.startswith("/api/"):
        body = data.draw(st.one_of(st.dictionaries(st.sampled_from(["arxiv_id", "id", "q"]), values, max_size=2),
                                   st.sampled_from(EDGE_VALUES)), label="json body")
        _check(web.anon.request(method, path, params=params, json=body, headers=web.bearer), what)
        _check(web.anon.request(method, path, params=params, json=body), what)
    elif template not in SKIP_POSTS:
        form = data.draw(forms, label="form")
        _check(web.anon.post(path, params=params, data=form), what + " (anonymous)")
        form = {**form, "csrf_token": web.csrf()}
        _check(web.user.post(path, params=params, data=form), what + " (logged in)")


@pytest.mark.parametrize("case", sorted(ADVERSARIAL))
def test_hostile_library_files_on_both_upload_routes(site, case):
    """The hostile library corpus (tests/library_corpus.py, small sizes) through the API import and the
    web upload: each file is read or refused with one line, never a 5xx."""
    text, name = ADVERSARIAL[case](20_000)
    api = site.anon.post("/api/v1/me/library-import", params={"name": name}, content=text.encode(),
                         headers={**site.new_bearer(), "Content-Type": "text/plain"})
    _check(api, f"API import: {case}")
    assert api.status_code in (200, 400), (case, api.status_code, api.text[:200])
    if api.status_code == 400:
        assert "\n" not in api.json()["error"]["message"]
    web = site.user.post("/for-you/start/library", data={"csrf_token": site.csrf()},
                         files={"library": (name or "library", text.encode())})
    _check(web, f"web upload: {case}")
    assert web.status_code in (200, 400), (case, web.status_code, web.text[:200])
