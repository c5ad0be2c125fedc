"""The session cookie, the CSRF cookie and token, and the form limits of web/session.py, seen from
outside: the Set-Cookie headers and statuses of a real server (no ../shared/data needed, so these
also run in the mutation run of scripts/mutation.sh)."""

from __future__ import annotations

import httpx
import pytest

from papersift.config import load_settings
from papersift.service import SESSION_LIFETIME
from papersift.web.render import paper_url
from papersift.web.session import CSRF_COOKIE, MAX_FORM_BYTES, SESSION_COOKIE

from ..web_support import XSS_ID, csrf_of, form_token
from .test_session_redirects import PASSWORD, small_site

EMAIL = "redirect@example.com"  # the account small_site creates


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with small_site(tmp_path_factory.mktemp("session")) as (svc, base):
        yield svc, base


@pytest.fixture(scope="module")
def site(served):
    return served[1]


def cookies_set(response: httpx.Response) -> dict[str, str]:
    """name -> the whole Set-Cookie line, for the cookies this response sets or clears."""
    lines = response.headers.get_list("set-cookie")
    return {line.split("=", 1)[0]: line for line in lines}


def attributes(line: str) -> set[str]:
    return {part.strip().lower() for part in line.split(";")[1:]}


def log_in(c: httpx.Client, **headers) -> httpx.Response:
    token = form_token(c, "/login")
    # a Secure cookie is not sent back over plain http: send the double-submit cookie by hand
    return c.post("/login", data={"csrf_token": token, "email": EMAIL, "password": PASSWORD, "next": "/"},
                  headers={"Cookie": f"{CSRF_COOKIE}={token}", **headers})


def test_the_anonymous_csrf_cookie(site):
    with httpx.Client(base_url=site, timeout=60) as c:
        first = c.get("/login")
        line = cookies_set(first)[CSRF_COOKIE]
        assert {"httponly", "path=/", "samesite=lax"} <= attributes(line) and "secure" not in attributes(line)
        token = c.cookies[CSRF_COOKIE]
        assert len(token) == 43 and csrf_of(first.text) == token  # token_urlsafe(32); the form carries it
        again = c.get("/signup")
        assert CSRF_COOKIE not in cookies_set(again) and csrf_of(again.text) == token  # kept, not renewed


@pytest.mark.parametrize("length,kept", [(19, False), (20, True), (100, True), (101, False), (0, False)])
def test_a_csrf_cookie_of_odd_length_is_replaced(site, length, kept):
    with httpx.Client(base_url=site, timeout=60, cookies={CSRF_COOKIE: "a" * length} if length else None) as c:
        page = c.get("/login")
        assert (csrf_of(page.text) == "a" * length) is kept
        assert (CSRF_COOKIE in cookies_set(page)) is not kept


def test_the_session_cookie_and_logging_out(site):
    with httpx.Client(base_url=site, timeout=60) as c:
        response = log_in(c)
        assert response.status_code == 303
        line = cookies_set(response)[SESSION_COOKIE]
        assert {"httponly", "path=/", "samesite=lax", f"max-age={int(SESSION_LIFETIME.total_seconds())}"} <= attributes(line)
        assert "secure" not in attributes(line)
        session_id = c.cookies[SESSION_COOKIE]
        home = c.get("/")
        assert csrf_of(home.text) != session_id  # the page carries the session's own CSRF token, never its id
        assert "Log out" in home.text and SESSION_COOKIE not in cookies_set(home)  # not re-sent on every page
        token = csrf_of(home.text)
        vote = c.post(f"/papers/{XSS_ID}/vote", data={"csrf_token": token, "action": "vote"})
        assert vote.status_code == 303 and SESSION_COOKIE not in cookies_set(vote)
        out = c.post("/logout", data={"csrf_token": token})
        assert out.status_code == 303 and out.headers["location"] == "/"
        cleared = cookies_set(out)
        assert {"httponly", "path=/", "samesite=lax", "max-age=0"} <= attributes(cleared[SESSION_COOKIE])
        assert CSRF_COOKIE in cleared and c.cookies[CSRF_COOKIE] != token  # a fresh anonymous token
        assert len(c.cookies[CSRF_COOKIE]) == 43
        assert "Log in" in c.get("/").text
    with httpx.Client(base_url=site, timeout=60, cookies={SESSION_COOKIE: session_id}) as stale:
        page = stale.get("/")  # the logged-out session is dead, and its cookie is removed
        assert "Log out" not in page.text
        assert "max-age=0" in attributes(cookies_set(page)[SESSION_COOKIE])


@pytest.mark.parametrize("mode,https,secure", [
    ("1", False, True), ("true", False, True), ("TRUE", False, True), ("yes", False, True), ("on", False, True),
    ("0", True, False), ("false", True, False), ("no", True, False), ("off", True, False), ("OFF", True, False),
    (None, True, True), (None, False, False), ("auto", True, True), ("auto", False, False),
])
def test_cookie_secure_setting(served, monkeypatch, mode, https, secure):
    svc, site = served
    env = {} if mode is None else {"PAPERSIFT_COOKIE_SECURE": mode}
    # the variable as the settings read it, given to the running site (it asks its service's settings)
    monkeypatch.setattr(svc.settings, "cookie_secure", load_settings(env=env).cookie_secure)
    proto = {"X-Forwarded-Proto": "https"} if https else {}
    with httpx.Client(base_url=site, timeout=60) as c:
        anonymous = c.get("/login", headers=proto)
        assert ("secure" in attributes(cookies_set(anonymous)[CSRF_COOKIE])) is secure
        response = log_in(c, **proto)
        assert response.status_code == 303
        assert ("secure" in attributes(cookies_set(response)[SESSION_COOKIE])) is secure
        token = csrf_of(c.get("/", headers={"Cookie": f"{SESSION_COOKIE}={c.cookies[SESSION_COOKIE]}"}).text)
        out = c.post("/logout", data={"csrf_token": token},
                     headers={"Cookie": f"{SESSION_COOKIE}={c.cookies[SESSION_COOKIE]}", **proto})
        assert out.status_code == 303
        for name, line in cookies_set(out).items():  # the cleared session cookie and the new CSRF cookie
            assert ("secure" in attributes(line)) is secure, name


@pytest.mark.parametrize("option,https,secure", [("true", False, True), ("false", True, False), ("auto", True, True)])
def test_cookie_secure_app_option(tmp_path, option, https, secure):
    with small_site(tmp_path, cookie_secure=option) as (_, base), httpx.Client(base_url=base, timeout=60) as c:
        response = log_in(c, **({"X-Forwarded-Proto": "https"} if https else {}))
        assert ("secure" in attributes(cookies_set(response)[SESSION_COOKIE])) is secure


def _login_body(token: str, size: int) -> bytes:
    body = f"csrf_token={token}&email={EMAIL}&password=wrong+password&pad=".encode()
    return body + b"x" * (size - len(body))


def test_form_size_cap(site):
    with httpx.Client(base_url=site, timeout=60) as c:
        token = form_token(c, "/login")
        kind = {"content-type": "application/x-www-form-urlencoded"}
        at_cap = c.post("/login", content=_login_body(token, MAX_FORM_BYTES), headers=kind)
        assert at_cap.status_code == 401  # read and checked: the wrong password
        over = c.post("/login", content=_login_body(token, MAX_FORM_BYTES + 1), headers=kind)
        assert over.status_code == 413 and "at most 64 KB" in over.text


def test_a_chunked_form_without_content_length_is_read(site):
    with httpx.Client(base_url=site, timeout=60) as c:
        token = form_token(c, "/login")
        body = _login_body(token, 2000)
        response = c.post("/login", content=iter([body[:1000], body[1000:]]),
                          headers={"content-type": "application/x-www-form-urlencoded"})
        assert response.request.headers.get("transfer-encoding") == "chunked"
        assert response.status_code == 401  # read and checked: the wrong password


def test_form_field_and_file_limits(site):
    with httpx.Client(base_url=site, timeout=60) as c:
        token = form_token(c, "/login")
        form = {"csrf_token": token, "email": EMAIL, "password": "wrong password"}
        fifty = {**form, **{f"f{i}": "x" for i in range(50 - len(form))}}
        assert c.post("/login", data=fifty).status_code == 401
        fifty_one = {**fifty, "one_more": "x"}
        response = c.post("/login", data=fifty_one)
        assert response.status_code == 400 and "maximum number of fields is 50" in response.text.lower()
        with_file = c.post("/login", data=form, files={"upload": ("a.txt", b"hello", "text/plain")})
        assert with_file.status_code == 400 and "maximum number of files is 0" in with_file.text.lower()


def test_csrf_token_in_a_header_and_the_refusal_message(site):
    with httpx.Client(base_url=site, timeout=60) as c:
        assert log_in(c).status_code == 303
        token = csrf_of(c.get("/").text)
        refused = c.post("/logout", data={})
        assert refused.status_code == 403
        assert ("orm&#39;s security token is missing or does not match (CSRF check): reload the page and try again"
                in refused.text)
        assert c.post("/logout", data={}, headers={"X-CSRF-Token": token}).status_code == 303


def test_json_is_answered_only_when_asked(site):
    with httpx.Client(base_url=site, timeout=60) as c:
        assert log_in(c).status_code == 303
        token = csrf_of(c.get("/").text)
        as_json = c.post(f"/papers/{XSS_ID}/save", data={"csrf_token": token, "action": "save"},
                         headers={"Accept": "application/json"})
        assert as_json.status_code == 200 and as_json.json() == {"id": XSS_ID, "saved": True}
        del c.headers["accept"]  # no Accept header at all: a form post from a plain browser
        plain = c.post(f"/papers/{XSS_ID}/save", data={"csrf_token": token, "action": "unsave"})
        assert plain.status_code == 303 and plain.headers["location"].startswith(paper_url(XSS_ID))
        html = c.post(f"/papers/{XSS_ID}/save", data={"csrf_token": token, "action": "save"},
                      headers={"Accept": "text/html"})
        assert html.status_code == 303


def test_actions_that_need_a_user_answer_401_to_nobody(site):
    with httpx.Client(base_url=site, timeout=60) as c:
        token = form_token(c, "/login")
        refused = c.post("/settings/tokens", data={"csrf_token": token, "name": "ci"})
        assert refused.status_code == 401 and "Log in first" in refused.text
        assert log_in(c).status_code == 303
        made = c.post("/settings/tokens", data={"csrf_token": csrf_of(c.get("/").text), "name": "ci"})
        assert made.status_code == 201
