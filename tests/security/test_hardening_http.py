"""Hardening, the HTTP layer: Unicode digits in page numbers, request body caps (Content-Length
and chunked) with the token checked before the body, no third-party script (no Swagger page),
HEAD and OPTIONS everywhere, nosniff on every response, and one upvote count and one notion of
"hidden" across the pages and the JSON API. A real site over a real uvicorn on 127.0.0.1."""

from __future__ import annotations

import re
import socket
import sys
import time
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings, strategies as st

from papersift.errors import BadInput
from papersift.server.app import MAX_BODY_BYTES
from papersift.web.pages import whole_number

from ..web_support import ORG, XSS_ID, assert_html_error, csrf_of, served_site, sign_up

PID = "2405.15738"  # ConvLLaVA, in the real sample
LAB = ["2405.99902", "2405.99903", "2405.99904"]  # planted: "quokka retrieval"
UNICODE_DIGITS = ["\u00b2", "\u0663", "\uff13", "1\u00b2", "\u0661\u0662", "\U0001d7d9", "\u2460"]
# what str.isdigit() accepts and int() refuses (superscripts, circled digits...): the 500s
NOT_DECIMAL = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isdigit() and not chr(c).isdecimal()]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with served_site(tmp_path_factory.mktemp("hardening-http")) as (hub, base), \
            httpx.Client(base_url=base, timeout=30) as client:
        voter = hub.accounts.create_user("voter@example.com", "long enough pw", "Voter")
        _, token = hub.accounts.create_token(voter, "tests")
        yield {"base": base, "client": client, "hub": hub, "voter": voter, "token": token}


def api_error(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.text[:500])
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] and error["message"]
    return error


# ---- item 3: page=² and friends
LISTINGS = ["/", "/papers", "/papers/date/2024-05-27", "/papers/week/2024-W22", "/papers/month/2024-05",
            "/search?q=model", "/orgs/" + ORG, "/authors/Ada Example"]


@pytest.mark.parametrize("digit", UNICODE_DIGITS)
@pytest.mark.parametrize("path", LISTINGS)
def test_unicode_digits_in_page_are_a_400(site, path, digit):
    response = site["client"].get(path, params={"page": digit})
    if path.startswith("/search"):  # the search form stays, with the reason
        assert response.status_code == 400 and 'role="alert"' in response.text
        assert "page must be a whole number" in response.text.lower()
    else:
        assert_html_error(response, 400)


def test_unicode_digits_on_the_logged_in_pages(site):
    with httpx.Client(base_url=site["base"], timeout=30) as c:
        assert sign_up(c, "digits@example.com").status_code == 303
        for digit in UNICODE_DIGITS:
            assert_html_error(c.get("/library", params={"page": digit}), 400)
        assert c.get("/library", params={"page": "1"}).status_code == 200
        token = csrf_of(c.get("/settings").text)
        # a token id in the path: "²".isdigit() is True but int("²") raised (a 500)
        assert_html_error(c.post("/settings/tokens/\u00b2/revoke", data={"csrf_token": token}), 400)
        assert_html_error(c.post("/settings/tokens/99999999999999999999999/revoke",
                                 data={"csrf_token": token}), 400)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_whole_number_takes_only_ascii_digits(text):
    try:
        value = whole_number(text, "page", 1, 10_000)
    except BadInput as exc:
        assert "page must be a whole number" in exc.message
        assert not (re.fullmatch(r"[0-9]{1,18}", text) and 1 <= int(text) <= 10_000)
    else:
        assert re.fullmatch(r"[0-9]+", text) and value == int(text)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page=st.one_of(st.text(st.sampled_from(NOT_DECIMAL) | st.characters(categories=("Nd", "No")),
                             min_size=1, max_size=4),
                     st.text(max_size=12), st.integers(-10**25, 10**25).map(str)),
       path=st.sampled_from(LISTINGS))
@example(page="\u2463", path="/papers/week/2024-W22")  # circled 4: isdigit() yet not int()
def test_no_page_value_is_a_server_error(site, page, path):
    response = site["client"].get(path, params={"page": page})
    assert response.status_code < 500, (path, page, response.text[:300])


@pytest.mark.parametrize("path,params", [
    ("/api/v1/daily_papers", {"p": "\u00b2"}),
    ("/api/v1/daily_papers", {"p": "\u0663"}),
    ("/api/v1/daily_papers", {"limit": "99999999999999999999"}),
    ("/api/v1/daily_papers", {"limit": "\uff15"}),
    ("/api/v1/daily_papers", {"p": "9" * 5000}),
    ("/api/v1/search", {"q": "model", "page": "\u00b2"}),
    ("/api/v1/search", {"q": "model", "page": "99999999999999999999"}),
    ("/api/v1/search", {"q": "model", "per_page": "0"}),
    ("/api/v1/search", {"q": "model", "per_page": "-1"}),
    ("/api/v1/papers/2405.15738/similar", {"k": "-1"}),
    ("/api/v1/papers/2405.15738/similar", {"k": "\u00b2"}),
    ("/api/v1/papers/2405.15738/similar", {"k": "99999999999999999999"}),
])
def test_api_int_params_are_a_json_400(site, path, params):
    api_error(site["client"].get(path, params=params), 400)


def test_api_library_int_params(site):
    auth = {"Authorization": f"Bearer {site['token']}"}
    for params in ({"p": "\u00b2"}, {"p": "99999999999999999999"}, {"limit": "0"}, {"limit": "\u0663"}):
        api_error(site["client"].get("/api/v1/library", params=params, headers=auth), 400)


# ---- item 6: request bodies are capped, the token is checked first
def raw_request(base: str, head: str, wait: float = 10.0) -> tuple[float, bytes]:
    """Send only the request head (no body) and read the answer: proves nothing waited for a body."""
    url = urlsplit(base)
    started = time.monotonic()
    with socket.create_connection((url.hostname, url.port), timeout=wait) as sock:
        sock.sendall(head.encode())
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith((b"}", b"</html>")):
            chunk = sock.recv(65536)  # a socket.timeout here: the server waited for the body
            if not chunk:
                break
            data += chunk
    return time.monotonic() - started, data


def post_head(path: str, length: int, content_type: str, extra: str = "") -> str:
    return (f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n{extra}\r\n")


def test_declared_oversized_bodies_are_refused_unread(site):
    base = site["base"]
    took, data = raw_request(base, post_head("/api/v1/submit", 150_000_000, "application/json"))
    assert took < 5 and data.startswith(b"HTTP/1.1 413")
    assert b'"code":"too_large"' in data and b"at most 64 KB" in data and b"connection: close" in data.lower()
    took, data = raw_request(base, post_head("/login", 150_000_000, "application/x-www-form-urlencoded"))
    assert took < 5 and data.startswith(b"HTTP/1.1 413") and b"Error 413" in data
    auth = f"Authorization: Bearer {site['token']}\r\n"
    took, data = raw_request(base, post_head("/api/v1/papers/2405.15738/vote", 10**12, "application/json", auth))
    assert data.startswith(b"HTTP/1.1 413")  # a route that reads no body is capped too
    assert site["client"].get("/api/health").status_code == 200


def test_the_token_is_checked_before_the_body_is_read(site):
    # 1000 bytes announced, none sent: a route that read the body first would wait for them
    took, data = raw_request(site["base"], post_head("/api/v1/submit", 1000, "application/json"), wait=5)
    assert took < 3 and data.startswith(b"HTTP/1.1 401"), data[:300]
    assert b"www-authenticate: bearer" in data.lower() and b'"code":"unauthorized"' in data


def chunks(n: int, size: int = 64 * 1024):
    for _ in range(n):
        yield b"a" * size


def test_chunked_bodies_are_counted_as_they_stream(site):
    base, auth = site["base"], {"Authorization": f"Bearer {site['token']}"}
    started = time.monotonic()
    big = httpx.post(base + "/api/v1/submit", content=chunks(640), timeout=30,  # 40 MB, no Content-Length
                     headers={"content-type": "application/json", **auth})
    assert time.monotonic() - started < 20
    assert "content-length" not in big.request.headers
    assert api_error(big, 413)["message"] == "the request body is too large (at most 64 KB)"
    form = httpx.post(base + "/login", content=chunks(40), timeout=30,
                      headers={"content-type": "application/x-www-form-urlencoded"})
    assert_html_error(form, 413)
    anonymous = httpx.post(base + "/api/v1/submit", content=chunks(640), timeout=30,
                           headers={"content-type": "application/json"})
    assert anonymous.status_code == 401  # never read: refused on the token alone
    small = httpx.post(base + "/api/v1/submit", content=iter([b'{"arxiv_id": ', b'"nope"}']), timeout=30,
                       headers={"content-type": "application/json", **auth})
    assert api_error(small, 400)["code"] == "bad_input"  # under the cap a chunked body works
    assert site["client"].get("/api/health").status_code == 200


def test_a_real_oversized_body_with_content_length(site):
    auth = {"Authorization": f"Bearer {site['token']}"}
    try:
        answer = httpx.post(site["base"] + "/api/v1/submit", content=b"x" * (MAX_BODY_BYTES * 40),
                            headers={"content-type": "application/json", **auth}, timeout=30)
    except httpx.TransportError:  # the server may close before the client has written it all
        pass
    else:
        api_error(answer, 413)
    ok = httpx.post(site["base"] + "/api/v1/submit", json={"arxiv_id": "nope"}, headers=auth, timeout=30)
    assert api_error(ok, 400)["code"] == "bad_input"
    assert site["client"].get("/api/health").json()["status"] == "ok"


# ---- item 7: no third-party script; the footer links the OpenAPI description
PAGES = ["/", "/papers/week/2024-W22", "/search?q=model", f"/papers/{PID}", "/orgs/" + ORG, "/login", "/signup",
         "/subscribe", "/submit", "/nothing-here"]


def test_no_page_loads_anything_from_elsewhere(site):
    client = site["client"]
    for path in PAGES:
        html = client.get(path, follow_redirects=True).text
        loaded = re.findall(r'<(?:script|img|iframe)[^>]*\ssrc="([^"]*)"', html)
        loaded += re.findall(r'<link[^>]*rel="(?:stylesheet|icon|preload|modulepreload)"[^>]*href="([^"]*)"', html)
        assert loaded, path
        local = [u for u in loaded if u.startswith("data:") or u.startswith("/") and not u.startswith("//")]
        assert local == loaded, path
        assert '<script src="http' not in html
    assert 'href="/openapi.json"' in client.get("/").text and "/api/docs" not in client.get("/").text
    api_error(client.get("/api/docs"), 404)
    assert "/api/v1/search" in client.get("/openapi.json").json()["paths"]
    assert "requestBody" in client.get("/openapi.json").json()["paths"]["/api/v1/submit"]["post"]


# ---- item 8: HEAD and OPTIONS
@pytest.mark.parametrize("path", ["/", "/api/health", "/feeds/daily.atom", f"/papers/{PID}", "/nothing-here",
                                  "/api/nothing", "/static/site.css", "/openapi.json", "/feeds/nope.txt",
                                  "/logout"])
def test_head_answers_like_get_without_a_body(site, path):
    client = site["client"]
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code and head.status_code != 405 or path == "/logout"
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == got.headers["content-length"] or path in ("/", f"/papers/{PID}")
    assert head.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("path,methods", [
    ("/", {"GET", "HEAD", "OPTIONS"}),
    ("/api/health", {"GET", "HEAD", "OPTIONS"}),
    ("/feeds/daily.atom", {"GET", "HEAD", "OPTIONS"}),
    ("/logout", {"POST", "OPTIONS"}),
    ("/api/v1/submit", {"POST", "OPTIONS"}),
    ("/api/v1/papers/2405.15738/vote", {"GET", "HEAD", "POST", "DELETE", "OPTIONS"}),  # GET: the paper route's
    ("/static/site.css", {"GET", "HEAD", "OPTIONS"}),
])
def test_options_lists_the_allowed_methods(site, path, methods):
    answer = site["client"].options(path)
    assert answer.status_code == 204 and answer.content == b""
    assert set(answer.headers["allow"].split(", ")) == methods


def test_options_on_an_unknown_path_is_a_404(site):
    api_error(site["client"].options("/api/nothing"), 404)
    assert_html_error(site["client"].options("/nothing-here"), 404)


# ---- item 12: nosniff everywhere; one upvote count; hidden papers left out of the API
@pytest.mark.parametrize("method,path", [("GET", "/api/health"), ("GET", "/api/nothing"), ("GET", "/openapi.json"),
                                         ("GET", "/static/site.css"), ("GET", "/static/missing.css"),
                                         ("GET", "/feeds/daily.rss"), ("POST", "/api/v1/submit"), ("GET", "/"),
                                         ("OPTIONS", "/")])
def test_every_response_says_nosniff(site, method, path):
    assert site["client"].request(method, path).headers["x-content-type-options"] == "nosniff"


def shown_votes(html: str, paper_id: str) -> int:
    """The count on the paper's card (a list), else the first on the page (the paper's own page)."""
    marker = f'id="paper-{paper_id.replace(".", "-")}"'
    card = html.split(marker, 1)[1] if marker in html else html
    return int(re.search(r'class="vote-count">(\d+)<', card).group(1))


def test_the_api_shows_the_same_upvotes_as_the_pages(site):
    client, hub = site["client"], site["hub"]
    source = client.get(f"/api/v1/papers/{PID}").json()["upvotes"]
    neighbour = client.get(f"/api/v1/papers/{PID}/similar", params={"k": 3}).json()["results"][0]["id"]
    hub.actions.vote(site["voter"], PID, True)
    hub.actions.vote(site["voter"], neighbour, True)
    try:
        paper = client.get(f"/api/v1/papers/{PID}").json()
        assert paper["upvotes"] == source + 1 and paper["provenance"]  # the full record, local vote added
        assert shown_votes(client.get(f"/papers/{PID}").text, PID) == source + 1
        hits = client.get("/api/v1/search", params={"q": "ConvLLaVA", "mode": "bm25"}).json()["results"]
        assert [h["upvotes"] for h in hits if h["id"] == PID] == [source + 1]
        assert shown_votes(client.get("/search", params={"q": "ConvLLaVA"}).text, PID) == source + 1
        similar = client.get(f"/api/v1/papers/{PID}/similar", params={"k": 3}).json()["results"]
        assert similar and similar[0]["id"] == neighbour
        assert similar[0]["upvotes"] == client.get(f"/api/v1/papers/{neighbour}").json()["upvotes"]
        assert shown_votes(client.get(f"/papers/{neighbour}").text, neighbour) == similar[0]["upvotes"]
    finally:
        hub.actions.vote(site["voter"], PID, False)
        hub.actions.vote(site["voter"], neighbour, False)


def result_count(html: str) -> str:
    return re.search(r'class="result-count"[^>]*>([^<]*)<', html).group(1).strip()


def test_hidden_papers_are_left_out_of_search_totals_and_the_api(site):
    client, hub = site["client"], site["hub"]
    assert result_count(client.get("/search", params={"q": "zanzibarian"}).text) == "1 paper matches the words"
    quokka = client.get("/api/v1/search", params={"q": "quokka", "mode": "bm25"}).json()
    assert quokka["total"] == 3 and {h["id"] for h in quokka["results"]} == set(LAB)
    near = [h["id"] for h in client.get(f"/api/v1/papers/{LAB[1]}/similar", params={"k": 5}).json()["results"]]
    assert LAB[0] in near
    hub.actions.hide_paper(None, XSS_ID, True)
    hub.actions.hide_paper(None, LAB[0], True)
    try:
        page = client.get("/search", params={"q": "zanzibarian"}).text
        assert result_count(page) == "0 papers match the words" and "No papers match" in page
        assert client.get("/api/v1/search", params={"q": "zanzibarian"}).json()["total"] == 0
        for mode in ("bm25", "hybrid"):
            left = client.get("/api/v1/search", params={"q": "quokka", "mode": mode}).json()
            assert left["total"] == 2 and {h["id"] for h in left["results"]} == set(LAB[1:]), mode
        assert client.get("/api/v1/search", params={"q": f"id:{LAB[0]}"}).json()["total"] == 0
        assert client.get("/api/v1/search", params={"q": f"quokka id:{LAB[1]}"}).json()["total"] == 1
        assert result_count(client.get("/search", params={"q": "quokka"}).text) == "2 papers match the words"
        api_error(client.get(f"/api/v1/papers/{XSS_ID}"), 404)
        api_error(client.get(f"/api/v1/papers/{LAB[0]}/similar"), 404)
        near = client.get(f"/api/v1/papers/{LAB[1]}/similar", params={"k": 5}).json()["results"]
        assert len(near) == 5 and LAB[0] not in {h["id"] for h in near}
    finally:
        hub.actions.hide_paper(None, XSS_ID, False)
        hub.actions.hide_paper(None, LAB[0], False)
    assert client.get(f"/api/v1/papers/{XSS_ID}").status_code == 200


def test_a_search_page_past_the_end(site):
    client = site["client"]
    past = client.get("/api/v1/search", params={"q": "zanzibarian", "page": 3})  # the API: an empty page
    assert past.status_code == 200 and past.json()["results"] == [] and past.json()["total"] == 1
    assert_html_error(client.get("/search", params={"q": "zanzibarian", "page": 3}), 404)  # the page: a 404


def test_feed_pages_at_the_calendars_edges_have_no_link_beyond_it(site):
    client = site["client"]
    last = client.get("/papers/date/9999-12-31")
    assert last.status_code == 200 and 'rel="next"' not in last.text and 'rel="prev"' in last.text
    assert 'href="/papers/month/9999-12"' in last.text
    first = client.get("/papers/month/0001-01")
    assert first.status_code == 200 and 'rel="prev"' not in first.text and 'rel="next"' in first.text
    assert 'href="/papers/month/0001-01"' in first.text  # the tab, not "1-01" (strftime's year 1)
    picked = client.get("/papers", params={"date": "0001-01-05", "view": "month"}, follow_redirects=False)
    assert picked.status_code == 302 and picked.headers["location"] == "/papers/month/0001-01"
    assert client.get("/api/v1/daily_papers", params={"date": "9999-12-31"}).json()["period"]["next"] is None
