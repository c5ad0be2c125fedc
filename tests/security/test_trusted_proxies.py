"""The trusted-proxy rule: X-Forwarded-For / -Proto count only when they come from a trusted proxy.

Runs the real server with the settings `papersift serve` uses (``cli.server_config``), once
trusting 127.0.0.1 (a reverse proxy on this machine, the default) and once trusting nobody
(clients reach the server directly), and checks the two things those headers decide: whether
the session cookie is ``Secure`` (the scheme) and whose failed log-ins are throttled (the address).
"""

from __future__ import annotations

import httpx
import pytest

from papersift.cli.common import server_config
from papersift.server.app import create_app
from papersift.service.accounts import MAX_FAILURES
from tests.helpers import running_server
from tests.web_support import build_service, csrf_of

EMAIL, PASSWORD = "reader@example.org", "correct horse battery"


def serving(app, trusted: str = "127.0.0.1"):
    return running_server(app, server_config(app, "127.0.0.1", 0, trusted, log_level="warning"))


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    svc = build_service(tmp_path_factory.mktemp("proxy"), lines=50)
    hub = svc
    hub.accounts.create_user(EMAIL, PASSWORD)
    yield create_app(svc, background=False)
    svc.close()


def log_in(base: str, password: str, forwarded_for: str, proto: str = "http") -> httpx.Response:
    with httpx.Client(base_url=base, timeout=30) as client:
        token = csrf_of(client.get("/login").text)
        return client.post("/login", data={"csrf_token": token, "email": EMAIL, "password": password, "next": "/"},
                           headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": proto})


def test_a_trusted_proxy_decides_scheme_and_client_address(app):
    with serving(app, "127.0.0.1") as base:
        ok = log_in(base, PASSWORD, "198.51.100.1", proto="https")
        assert ok.status_code == 303 and "secure" in ok.headers["set-cookie"].lower()
        for _ in range(MAX_FAILURES):
            assert log_in(base, "wrong password!", "203.0.113.7").status_code == 401
        assert log_in(base, PASSWORD, "203.0.113.7").status_code == 429  # that address is throttled
        assert log_in(base, PASSWORD, "198.51.100.2").status_code == 303  # another reader is not


def test_forwarded_headers_from_an_untrusted_client_are_ignored(app):
    with serving(app, "192.0.2.250") as base:  # a proxy that is not us: our requests are direct
        ok = log_in(base, PASSWORD, "198.51.100.3", proto="https")
        assert ok.status_code == 303 and "secure" not in ok.headers["set-cookie"].lower()
        for number in range(MAX_FAILURES):
            assert log_in(base, "wrong password!", f"203.0.113.{100 + number}").status_code == 401
        # a claimed fresh address does not escape the throttle: the real address is what counts
        assert log_in(base, PASSWORD, "198.51.100.4").status_code == 429


def test_serve_refuses_a_bad_port():
    from papersift.errors import BadInput

    with pytest.raises(BadInput, match="--port"):
        server_config(None, "127.0.0.1", 70000)


@pytest.mark.parametrize("value", ["127.0.0.1,proxy.example", "10.0.0.0/33", "1.2.3", "é"])
def test_a_bad_trusted_proxy_is_refused(value):
    from papersift.errors import BadInput

    with pytest.raises(BadInput, match="--trusted-proxies"):
        server_config(None, "127.0.0.1", 8000, value)


def test_addresses_networks_and_star_are_accepted():
    assert server_config(None, "127.0.0.1", 8000, " 10.0.0.5, 192.168.0.0/16,::1 ").forwarded_allow_ips == [
        "10.0.0.5", "192.168.0.0/16", "::1"]
    assert server_config(None, "127.0.0.1", 8000, "*").forwarded_allow_ips == ["*"]


def test_the_cli_says_so_with_exit_2(tmp_path):
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "papersift.cli", "--db", str(tmp_path / "x.db"), "serve",
                           "--trusted-proxies", "proxy.example"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "--trusted-proxies" in proc.stderr and "Traceback" not in proc.stderr
