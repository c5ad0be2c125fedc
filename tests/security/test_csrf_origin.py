"""The second CSRF check: a form posted from another site is refused even with a valid token.

Real form posts to the real app on uvicorn with the settings ``papersift serve`` uses
(``cli.server_config``), from a signed-in reader's client holding a valid CSRF token: a foreign
``Origin`` or (without Origin) a foreign ``Referer`` is a 403 page and nothing is written; this
site's own origin, the configured ``base_url`` and a request naming neither pass. The scheme is
the one the app sees: ``X-Forwarded-Proto`` from a trusted proxy counts, from anyone else it does not.
"""

from __future__ import annotations

import httpx
import pytest

from papersift.cli.common import server_config
from papersift.server.app import create_app
from tests.helpers import running_server
from tests.web_support import assert_html_error, build_service, csrf_of, log_in

EMAIL, PASSWORD = "reader@example.org", "correct horse battery"
PID = "2405.99902"  # a planted paper (tests/web_support.py)
BASE_URL = "https://papers.example.org"


def serving(app, trusted: str = "127.0.0.1"):
    return running_server(app, server_config(app, "127.0.0.1", 0, trusted, log_level="warning"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    svc = build_service(tmp_path_factory.mktemp("origin"), lines=50, base_url=BASE_URL)
    user = svc.accounts.create_user(EMAIL, PASSWORD)
    yield create_app(svc, background=False), svc, user
    svc.close()


def _vote(client: httpx.Client, headers: dict) -> httpx.Response:
    token = csrf_of(client.get(f"/papers/{PID}").text)
    return client.post(f"/papers/{PID}/vote", data={"csrf_token": token, "action": "vote", "next": "/"},
                       headers=headers)


def _unvote(client: httpx.Client) -> None:
    token = csrf_of(client.get(f"/papers/{PID}").text)
    assert client.post(f"/papers/{PID}/vote", data={"csrf_token": token, "action": "unvote"}).status_code == 303


def test_only_forms_from_this_site_are_accepted(site):
    app, svc, user = site
    with serving(app) as base, httpx.Client(base_url=base, timeout=30) as client:
        assert log_in(client, EMAIL, PASSWORD, Origin=base).status_code == 303
        port = base.rsplit(":", 1)[1]
        for headers in ({}, {"Origin": base}, {"Origin": f"HTTP://127.0.0.1:{port}"},
                        {"Referer": f"{base}/papers/{PID}?x=1"},
                        {"Origin": BASE_URL},  # the configured public address (a proxy that rewrites Host)
                        {"Host": "site.test", "Origin": "http://site.test:80"}):  # the default port spelled out
            accepted = _vote(client, headers)
            assert accepted.status_code == 303, (headers, accepted.status_code, accepted.text[:300])
            assert svc.store.user_votes(user.id, [PID]) == {PID}, headers
            _unvote(client)
        for headers in ({"Origin": "http://evil.example"},
                        {"Referer": "http://evil.example/page.html"},
                        {"Origin": "null"},  # a sandboxed frame, a data: URL
                        {"Origin": "http://127.0.0.1:1"},  # another port is another site
                        {"Origin": f"https://127.0.0.1:{port}"},  # and another scheme
                        {"Origin": "http://evil.example", "Referer": f"{base}/papers/{PID}"}):  # Origin decides
            refused = _vote(client, headers)
            assert_html_error(refused, 403)
            assert "sent from another site" in refused.text, headers
            assert svc.store.user_votes(user.id, [PID]) == set(), headers  # nothing was written
        with httpx.Client(base_url=base, timeout=30) as anonymous:  # log-in CSRF: the anonymous forms too
            token = csrf_of(anonymous.get("/login").text)
            login = anonymous.post("/login", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD},
                                   headers={"Origin": "http://evil.example"})
            assert_html_error(login, 403)


def test_the_scheme_is_the_one_a_trusted_proxy_forwards(site):
    app, svc, user = site
    for trusted, status in (("127.0.0.1", 303), ("192.0.2.250", 403)):  # us as the proxy, then a stranger
        with serving(app, trusted) as base, httpx.Client(base_url=base, timeout=30) as client:
            assert log_in(client, EMAIL, PASSWORD).status_code == 303
            https_origin = "https://" + base.split("://", 1)[1]
            answer = _vote(client, {"X-Forwarded-Proto": "https", "Origin": https_origin})
            assert answer.status_code == status, (trusted, answer.text[:300])
            if status == 303:
                _unvote(client)
            assert svc.store.user_votes(user.id, [PID]) == set()
