"""No open redirect through ``next``: the check itself, and the Location a real server sends after a
real log-in, sign-up and vote (uvicorn on 127.0.0.1, a real SQLite file, argon2 passwords)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from papersift.server.app import create_app
from papersift.web.render import paper_url, slug
from papersift.web.session import safe_next

from ..helpers import running_server
from ..web_support import XSS_ID, csrf_of, form_token, planted_papers, site_service

HOSTILE = [
    "//evil.example", "//evil.example/papers/2405.1", "///evil.example", "////evil.example",
    "/\\evil.example", "/\\\\evil.example", "\\\\evil.example", "\\/evil.example", "/papers/\\..\\evil",
    "https://evil.example", "http://evil.example/", "HTTPS://evil.example", "http:evil.example",
    "http:/evil.example", "javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "evil.example",
    "\t//evil.example", " //evil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n//evil.example",
    "/\x00/evil.example",
    # percent-encoded slashes and backslashes: harmless to a browser today, an open redirect the day
    # anything on the way decodes the value once (or twice) more
    "/%2F%2Fevil.example", "/%2f/evil.example", "/%2F/evil.example", "/%5Cevil.example", "/%5c%5cevil.example",
    "/%252F%252Fevil.example", "/%09/evil.example",
    # three levels of percent-encoding still decoding: nothing of ours links like that
    "/%252541", "/%25252F%25252Fevil.example",
    "/" + "a" * 2000, "",  # 2001 characters: too long
]
SAFE = ["/", "/papers/2405.1?x=1", "/papers/2405.15738", "/search?q=a%2Fb&mode=bm25", "/library",
        "/papers/date/2024-05-27?sort=upvotes#paper-2405-99901", "/papers?next=%2F%2Fevil.example",
        "/search?q=graph neural networks", "/%2541",  # a space; an encoded "%" decodes twice to stop
        # only the path is decoded: the query and the fragment may hold anything encoded
        "/search?q=a%5Cb?c=%2F%2F#frag%5C#more", "/papers/x#frag%5C%2F%2F", "/papers/x#a%5C#b",
        "/" + "a" * 1999]


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_next_falls_back_to_the_default(value):
    assert safe_next(value, "/fallback") == "/fallback"
    assert safe_next(value) == "/"


@pytest.mark.parametrize("value", SAFE)
def test_local_paths_are_kept(value):
    assert safe_next(value, "/fallback") == value


def test_missing_next_is_the_default():
    assert safe_next(None) == "/" and safe_next(None, "/papers/x") == "/papers/x"


# ---- over a real server
PASSWORD = "correct horse battery"


@contextmanager
def small_site(folder: Path, **settings):
    """A small real site without ../shared/data (the planted papers), with one account; ``settings``:
    what differs from the defaults (e.g. ``cookie_secure``)."""
    svc = site_service(folder / "site.db", **settings)
    svc.store.upsert_papers(planted_papers())
    svc.indexes_lexical_only().sync_lexical()
    svc.accounts.create_user("redirect@example.com", PASSWORD, "redirect")
    with running_server(create_app(svc, background=False)) as base:
        yield svc, base


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with small_site(tmp_path_factory.mktemp("redirects")) as (_, base):
        yield base


def _same_site(base: str, location: str) -> bool:
    # what a browser does: backslashes are slashes in http(s) URLs; tabs and newlines are dropped
    cleaned = location.replace("\\", "/").replace("\t", "").replace("\n", "").replace("\r", "")
    return urlsplit(urljoin(base + "/", cleaned)).netloc == urlsplit(base).netloc


def _log_in(base: str, next_value: str) -> httpx.Response:
    with httpx.Client(base_url=base, timeout=60) as c:
        token = form_token(c, "/login")
        return c.post("/login", data={"csrf_token": token, "email": "redirect@example.com",
                                      "password": PASSWORD, "next": next_value})


def test_log_in_never_redirects_off_site(site):
    for value in HOSTILE:
        if len(value) > 2000:
            continue  # a form field that long is refused outright (below)
        response = _log_in(site, value)
        assert response.status_code == 303, (value, response.text[:300])
        location = response.headers["location"]
        assert location == "/", (value, location)
        assert _same_site(site, location)


def test_an_over_long_next_is_a_400_without_a_redirect(site):
    response = _log_in(site, "/" + "a" * 2000)
    assert response.status_code == 400 and "location" not in response.headers
    assert "next is too long" in response.text.lower()


def test_log_in_follows_a_local_next(site):
    for value in ("/papers/2405.1?x=1", "/library", f"{paper_url(XSS_ID)}?from=feed", "/" + "a" * 1999):
        response = _log_in(site, value)
        assert response.status_code == 303 and response.headers["location"] == value


def test_the_log_in_form_does_not_carry_a_hostile_next(site):
    with httpx.Client(base_url=site, timeout=60) as c:
        for value in ("//evil.example", "https://evil.example", "/\\evil.example", "/%2F%2Fevil.example"):
            page = c.get("/login", params={"next": value})
            assert page.status_code == 200
            assert _hidden_next(page.text) == "/", value
        page = c.get("/login", params={"next": "/papers/2405.1?x=1"})
        assert _hidden_next(page.text) == "/papers/2405.1?x=1"


def _hidden_next(html: str) -> str:
    found = re.findall(r'<input type="hidden" name="next" value="([^"]*)">', html)
    assert len(found) == 1, found
    return found[0]


def test_sign_up_never_redirects_off_site(site):
    with httpx.Client(base_url=site, timeout=60) as c:
        for number, value in enumerate(["//evil.example", "https://evil.example", "/\\evil.example",
                                        "/%2F%2Fevil.example"]):
            c.cookies.clear()
            token = form_token(c, "/signup")
            response = c.post("/signup", data={"csrf_token": token, "email": f"new{number}@example.com",
                                               "name": f"new{number}", "password": PASSWORD,
                                               "password2": PASSWORD, "next": value})
            assert response.status_code == 303 and response.headers["location"] == "/", value


def test_an_anonymous_vote_sends_to_log_in_with_a_safe_next(site):
    with httpx.Client(base_url=site, timeout=60) as c:
        token = form_token(c, "/login")
        for value, expected in (("//evil.example", "/"), ("https://evil.example", "/"),
                                ("/%2F%2Fevil.example", "/"), ("/papers/date/2024-05-27", "/papers/date/2024-05-27")):
            response = c.post(f"/papers/{XSS_ID}/vote", data={"csrf_token": token, "action": "vote", "next": value})
            assert response.status_code == 303 and response.headers["location"] == f"/login?next={expected}", value
        response = c.post(f"/papers/{XSS_ID}/vote", data={"csrf_token": token, "action": "vote"})
        assert response.headers["location"] == f"/login?next={paper_url(XSS_ID)}"
        for path in ("/library", "/library?page=2", "/submit"):  # pages behind the log-in come back to themselves
            response = c.get(path)
            assert response.status_code == 303 and response.headers["location"] == f"/login?next={path.split('?')[0]}"


def test_vote_falls_back_to_the_paper_not_the_next(site):
    with httpx.Client(base_url=site, timeout=60) as c:
        token = form_token(c, "/login")
        assert c.post("/login", data={"csrf_token": token, "email": "redirect@example.com",
                                      "password": PASSWORD, "next": "/"}).status_code == 303
        token = csrf_of(c.get(paper_url(XSS_ID)).text)
        back = f"{paper_url(XSS_ID)}#paper-{slug(XSS_ID)}"
        for value in ("//evil.example", "https://evil.example", "/%2F%2Fevil.example"):
            response = c.post(f"/papers/{XSS_ID}/vote", data={"csrf_token": token, "action": "vote", "next": value})
            assert response.status_code == 303 and response.headers["location"] == back, value
        response = c.post(f"/papers/{XSS_ID}/vote", data={"csrf_token": token, "action": "unvote",
                                                          "next": "/papers/date/2024-05-27"})
        assert response.headers["location"] == f"/papers/date/2024-05-27#paper-{slug(XSS_ID)}"
