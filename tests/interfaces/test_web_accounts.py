"""Accounts, CSRF, throttling, votes (also under concurrent clicks), the library, submissions
through the local fake arXiv, admin moderation, and the token-authenticated JSON API."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone

import httpx
import pytest

from papersift.server.app import create_app
from tests.fakes.server import FakeHTTP, fixture

from ..helpers import running_server
from ..web_support import assert_html_error, build_service, csrf_of, form_token, log_in, sign_up

DAY = "2024-05-28"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    arxiv = FakeHTTP()
    arxiv.script("/oai", fixture("oai_getrecord.xml"), query={"identifier": "oai:arXiv.org:2503.11731"})
    arxiv.script("/oai", fixture("oai_getrecord_old_id.xml"), query={"identifier": "oai:arXiv.org:hep-th/9901001"})
    arxiv.script("/oai", fixture("oai_id_does_not_exist.xml"))
    svc = hub = build_service(tmp_path_factory.mktemp("web-accounts"), arxiv_oai_url=arxiv.url + "/oai")
    try:
        with running_server(create_app(svc, background=False)) as base:
            yield {"base": base, "svc": svc, "hub": hub, "arxiv": arxiv}
    finally:
        arxiv.close()


def client(env) -> httpx.Client:
    return httpx.Client(base_url=env["base"], timeout=60)


@contextmanager
def user_client(env, email: str):
    with client(env) as c:
        assert sign_up(c, email).status_code == 303
        yield c


def today() -> str:
    return datetime.now(timezone.utc).date().isoformat()


def shown_votes(html: str, paper_id: str) -> int:
    card = html.split(f'id="paper-{paper_id.replace(".", "-")}"', 1)[1]
    return int(re.search(r'class="vote-count">(\d+)<', card).group(1))


def test_sign_up_log_out_log_in(env):
    with client(env) as c:
        response = sign_up(c, "ana@example.com", name="Ana")
        assert response.status_code == 303 and response.headers["location"] == "/"
        cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "papersift_session" in v)
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
        session_id = c.cookies["papersift_session"]
        home = c.get("/").text
        assert "Ana" in home and "Log out" in home
        user = env["svc"].store.get_user_by_email("ana@example.com")
        assert user.password_hash.startswith("$argon2id$") and "correct horse" not in user.password_hash
        stored = [r[0] for r in env["svc"].store._db.execute("SELECT session_hash FROM sessions")]
        assert session_id not in stored and len(stored[0]) == 64  # only the hash is kept
        out = c.post("/logout", data={"csrf_token": csrf_of(home)})
        assert out.status_code == 303 and "Log in" in c.get("/").text
        assert log_in(c, "ANA@example.com").status_code == 303  # emails are case-insensitive
        assert c.cookies["papersift_session"] != session_id and "Ana" in c.get("/").text


def test_session_cookie_is_secure_over_https(env):
    with client(env) as c:
        sign_up(c, "tls@example.com")
        c.cookies.clear()
        response = log_in(c, "tls@example.com", **{"X-Forwarded-Proto": "https"})
        assert response.status_code == 303
        cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and "papersift_session" in v)
        assert "Secure" in cookie


@pytest.mark.parametrize("email,password,again,status,message", [
    ("ana@example.com", "long enough pw", "long enough pw", 409, "already exists"),
    ("new@example.com", "long enough pw", "different pw!!", 400, "differ"),
    ("new@example.com", "short", "short", 400, "at least 8"),
    ("not-an-email", "long enough pw", "long enough pw", 400, "not an email"),
])
def test_sign_up_errors_are_shown_on_the_form(env, email, password, again, status, message):
    with client(env) as c:
        if status == 409:
            sign_up(c, email)
            c.cookies.clear()
        token = form_token(c, "/signup")
        page = c.post("/signup", data={"csrf_token": token, "email": email, "password": password,
                                       "password2": again})
        assert page.status_code == status and message in page.text and 'role="alert"' in page.text


def test_forged_or_missing_csrf_is_403(env):
    with client(env) as c:
        form_token(c, "/login")  # has a CSRF cookie now
        assert_html_error(c.post("/login", data={"email": "a@b.co", "password": "x" * 9}), 403)
        assert_html_error(c.post("/login", data={"csrf_token": "forged" * 8, "email": "a@b.co",
                                                 "password": "x" * 9}), 403)
    with user_client(env, "csrf@example.com") as c:
        feed = c.get(f"/papers/date/{DAY}").text
        assert_html_error(c.post("/papers/2405.15738/vote", data={"csrf_token": "x" * 43, "action": "vote"}), 403)
        assert_html_error(c.post("/logout", data={}), 403)
        assert "Log out" in c.get("/").text  # still logged in
        assert csrf_of(feed) == csrf_of(c.get("/").text)  # one token per session
    with client(env) as other:  # another browser's token is not this session's
        anon = form_token(other, "/login")
        with user_client(env, "csrf2@example.com") as c:
            assert_html_error(c.post("/papers/2405.15738/save", data={"csrf_token": anon, "action": "save"}), 403)


def test_login_throttling_per_email_and_address(env):
    with client(env) as c:
        sign_up(c, "slow@example.com")
        c.cookies.clear()
        for _ in range(5):
            page = log_in(c, "slow@example.com", "wrong password")
            assert page.status_code == 401 and "wrong email or password" in page.text.lower()
        blocked = log_in(c, "slow@example.com")  # even the right password waits now
        assert blocked.status_code == 429 and "wait 15 minutes" in blocked.text
        assert log_in(c, "slow@example.com", **{"X-Forwarded-For": "10.1.2.3"}).status_code == 303


def test_vote_without_js_is_a_form_post_and_idempotent(env):
    with user_client(env, "voter@example.com") as c:
        before = shown_votes(c.get(f"/papers/date/{DAY}").text, "2405.17247")
        token = csrf_of(c.get("/").text)
        form = {"csrf_token": token, "action": "vote", "next": f"/papers/date/{DAY}"}
        response = c.post("/papers/2405.17247/vote", data=form)
        assert response.status_code == 303 and response.headers["location"] == f"/papers/date/{DAY}#paper-2405-17247"
        assert c.post("/papers/2405.17247/vote", data=form).status_code == 303  # a double click
        page = c.get(f"/papers/date/{DAY}").text
        assert shown_votes(page, "2405.17247") == before + 1
        card = page.split('id="paper-2405-17247"', 1)[1]
        assert 'aria-pressed="true"' in card.split("</form>")[0] and 'value="unvote"' in card.split("</form>")[0]
        as_json = c.post("/papers/2405.17247/vote", data={"action": "unvote"},
                         headers={"Accept": "application/json", "X-CSRF-Token": token})
        assert as_json.json() == {"id": "2405.17247", "voted": False, "upvotes": before}
        assert_html_error(c.post("/papers/2405.17247/vote", data={"csrf_token": token, "action": "boost"}), 400)
        assert_html_error(c.post("/papers/2401.99999/vote", data={"csrf_token": token}), 404)
    with client(env) as anonymous:
        token = form_token(anonymous, "/login")
        response = anonymous.post("/papers/2405.17247/vote", data={"csrf_token": token, "next": "/"})
        assert response.status_code == 303 and response.headers["location"].startswith("/login?next=")


def test_local_votes_add_to_source_upvotes_and_rank_the_feed(env):
    hub = env["hub"]
    feed = hub.catalog.feed(None, DAY, sort="upvotes")
    top, last = feed.cards[0], feed.cards[-1]
    needed = top.upvotes - last.upvotes + 1
    for i in range(needed):
        user = hub.accounts.create_user(f"fan{i}@example.com", "long enough pw")
        hub.actions.vote(user, last.paper.id)
    ranked = hub.catalog.feed(None, DAY, sort="upvotes").cards
    assert ranked[0].paper.id == last.paper.id and ranked[0].upvotes == last.upvotes + needed
    assert hub.catalog.feed(None, DAY, sort="trending").cards[0].paper.id == last.paper.id
    api = httpx.get(env["base"] + "/api/v1/daily_papers", params={"date": DAY, "sort": "upvotes"}).json()
    assert api["papers"][0]["id"] == last.paper.id and api["papers"][0]["upvotes"] == last.upvotes + needed
    paper_page = httpx.get(env["base"] + f"/papers/{last.paper.id}").text
    assert f"<dd>{last.upvotes + needed}</dd>" in paper_page


def test_concurrent_clicks_keep_counts_exact(env):
    hub = env["hub"]
    pid = "2405.18407"
    base_votes = hub.catalog.cards([hub.corpus.paper(pid)], None)[0].upvotes
    tokens = []
    for i in range(12):
        user = hub.accounts.create_user(f"racer{i}@example.com", "long enough pw")
        tokens.append(hub.accounts.create_token(user)[1])

    def hammer(token: str) -> None:
        with httpx.Client(base_url=env["base"], timeout=60, headers={"Authorization": f"Bearer {token}"}) as c:
            for method in ("POST", "DELETE", "POST", "POST", "DELETE", "POST"):  # ends voted
                assert c.request(method, f"/api/v1/papers/{pid}/vote").status_code == 200

    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(hammer, tokens))
    # one user clicking many times at once through the web form: still one vote
    with user_client(env, "clicker@example.com") as c:
        token = csrf_of(c.get("/").text)
        barrier = threading.Barrier(8)

        def click(_):
            barrier.wait()
            return c.post(f"/papers/{pid}/vote", data={"csrf_token": token, "action": "vote"},
                          headers={"Accept": "application/json"}).json()["voted"]

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert all(pool.map(click, range(8)))
    final = hub.catalog.cards([hub.corpus.paper(pid)], None)[0].upvotes
    assert final == base_votes + 12 + 1
    rows = env["svc"].store._db.execute("SELECT COUNT(*) FROM votes WHERE paper_id = ?", (pid,)).fetchone()[0]
    assert rows == 13


def test_save_and_library(env):
    with user_client(env, "reader@example.com") as c:
        assert "not saved any papers" in c.get("/library").text
        token = csrf_of(c.get("/").text)
        for pid in ("2405.15738", "2405.17247"):
            assert c.post(f"/papers/{pid}/save", data={"csrf_token": token, "action": "save"}).status_code == 303
        library = c.get("/library").text
        assert "2 papers" in library and library.index("2405-17247") < library.index("2405-15738")  # newest first
        assert 'aria-pressed="true">Saved' in c.get("/papers/2405.15738").text
        c.post("/papers/2405.15738/save", data={"csrf_token": token, "action": "unsave"})
        assert "1 paper," in c.get("/library").text
    with client(env) as anonymous:
        response = anonymous.get("/library")
        assert response.status_code == 303 and response.headers["location"] == "/login?next=/library"


def test_submit_a_paper_by_arxiv_id(env):
    with user_client(env, "submitter@example.com") as c:
        token = csrf_of(c.get("/submit").text)
        response = c.post("/submit", data={"csrf_token": token, "arxiv_id": "https://arxiv.org/abs/2503.11731v1"})
        assert response.status_code == 303
        assert response.headers["location"] == f"/papers/date/{today()}?submitted=2503.11731#paper-2503-11731"
        feed = c.get(response.headers["location"]).text
        assert "Industrial-Grade Sensor Simulation" in feed and "Submitted by submitter" in feed
        assert "is on today&#39;s feed" in feed or "is on today's feed" in feed
        # one submission does not make "today" the home page's day: it stays on the latest day a source
        # listed papers on (the harvested feed's), until a harvest brings today's
        home = c.get("/").text
        latest = env["svc"].store.latest_feed_day(harvested=True)
        assert latest < today() and "2503-11731" not in home and "showing the latest day" in home
        found = c.get("/search", params={"q": '"Gaussian Splatting" sensor'}).text
        assert "2503-11731" in found  # searchable at once
        again = c.post("/submit", data={"csrf_token": token, "arxiv_id": "2503.11731"})
        assert again.status_code == 409 and "already on today" in again.text
        bad = c.post("/submit", data={"csrf_token": token, "arxiv_id": "not a paper"})
        assert bad.status_code == 400 and "is not an arXiv id" in bad.text
        missing = c.post("/submit", data={"csrf_token": token, "arxiv_id": "2503.99999"})
        assert missing.status_code == 404 and "arXiv has no paper 2503.99999" in missing.text
        old = c.post("/submit", data={"csrf_token": token, "arxiv_id": "hep-th/9901001"})
        assert old.status_code == 303
        page = c.get("/papers/hep-th/9901001").text
        assert "A Note on $\\mathcal{N}=4$ Amplitudes &amp; Dualities" in page and "$a&lt;b$" in page
    fetched = [r.query["identifier"] for r in env["arxiv"].requests_to("/oai")]
    assert fetched.count("oai:arXiv.org:2503.11731") == 1  # the duplicate did not fetch again
    entry = env["svc"].store.feed_entries(today(), today())
    assert {(p.id, e.submitted_by) for p, e in entry} >= {("2503.11731", "submitter"), ("hep-th/9901001", "submitter")}
    with client(env) as anonymous:
        assert anonymous.get("/submit").headers["location"] == "/login?next=/submit"


def test_admin_hides_papers_and_users(env):
    hub = env["hub"]
    hub.accounts.create_user("boss@example.com", "long enough pw", "Boss", is_admin=True)
    with client(env) as admin, user_client(env, "spammer@example.com") as spammer, client(env) as visitor:
        assert log_in(admin, "boss@example.com", "long enough pw").status_code == 303
        token = csrf_of(admin.get("/admin").text)
        pid = "2405.15738"
        spam_token = csrf_of(spammer.get("/").text)
        spammer.post(f"/papers/{pid}/vote", data={"csrf_token": spam_token})
        votes_with_spam = shown_votes(visitor.get("/papers/date/2024-05-27").text, pid)
        day_total = httpx.get(env["base"] + "/api/v1/daily_papers?date=2024-05-27").json()["total"]
        assert admin.post(f"/admin/papers/{pid}/hide", data={"csrf_token": token, "action": "hide"}).status_code == 303
        assert_html_error(visitor.get(f"/papers/{pid}"), 404)
        assert "2405-15738" not in visitor.get("/papers/date/2024-05-27").text
        assert "2405-15738" not in visitor.get("/search", params={"q": "ConvLLaVA"}).text
        assert httpx.get(env["base"] + "/api/v1/daily_papers?date=2024-05-27").json()["total"] == day_total - 1
        admin_view = admin.get(f"/papers/{pid}").text
        assert "Show this paper again" in admin_view and 'class="badge">hidden' in admin_view
        assert "ConvLLaVA" in admin.get("/admin").text
        admin.post(f"/admin/papers/{pid}/hide", data={"csrf_token": token, "action": "unhide"})
        assert visitor.get(f"/papers/{pid}").status_code == 200

        assert admin.post("/admin/users", data={"csrf_token": token, "email": "spammer@example.com",
                                                "action": "hide"}).status_code == 303
        assert "Log out" not in spammer.get("/").text  # their session ended
        refused = log_in(spammer, "spammer@example.com")
        assert refused.status_code == 403 and "disabled" in refused.text
        assert shown_votes(visitor.get("/papers/date/2024-05-27").text, pid) == votes_with_spam - 1
        assert_html_error(admin.post("/admin/users", data={"csrf_token": token, "email": "boss@example.com",
                                                          "action": "hide"}), 400)
    with user_client(env, "plain@example.com") as plain:
        assert_html_error(plain.get("/admin"), 403)
        token = csrf_of(plain.get("/").text)
        assert_html_error(plain.post("/admin/users", data={"csrf_token": token, "email": "boss@example.com",
                                                           "action": "hide"}), 403)
        assert_html_error(plain.post("/admin/papers/2405.15738/hide", data={"csrf_token": token}), 403)


def test_api_tokens_vote_save_submit(env):
    with user_client(env, "robot@example.com") as c:
        page = c.post("/settings/tokens", data={"csrf_token": csrf_of(c.get("/settings").text), "name": "bot"})
        secret = re.search(r'id="new-token" class="token" readonly value="(pst_[^"]+)"', page.text).group(1)
        assert secret not in c.get("/settings").text  # shown once
        token_id = re.search(r'/settings/tokens/(\d+)/revoke', c.get("/settings").text).group(1)
    api = httpx.Client(base_url=env["base"], headers={"Authorization": f"Bearer {secret}"}, timeout=60)
    assert api.get("/api/v1/me").json()["email"] == "robot@example.com"
    voted = api.post("/api/v1/papers/2405.16822/vote").json()
    assert voted["voted"] is True and api.post("/api/v1/papers/2405.16822/vote").json() == voted  # idempotent
    assert api.delete("/api/v1/papers/2405.16822/vote").json()["upvotes"] == voted["upvotes"] - 1
    assert api.post("/api/v1/papers/arXiv:2405.16822v1/save").json() == {"id": "2405.16822", "saved": True}
    assert [p["id"] for p in api.get("/api/v1/library").json()["papers"]] == ["2405.16822"]
    assert api.post("/api/v1/papers/2401.99999/vote").status_code == 404
    assert api.post("/api/v1/submit", json={"arxiv_id": "nope"}).json()["error"]["code"] == "bad_input"
    assert api.post("/api/v1/submit", json={}).status_code == 400
    submitted = api.post("/api/v1/submit", json={"arxiv_id": "2405.16822"})
    assert submitted.status_code == 201 and submitted.json()["feed_day"] == today()
    assert submitted.json()["fetched"] is False  # already known here: no arXiv request
    duplicate = api.post("/api/v1/submit", json={"arxiv_id": "2405.16822"})
    assert duplicate.status_code == 409 and duplicate.json()["error"]["code"] == "conflict"
    anonymous = httpx.post(env["base"] + "/api/v1/papers/2405.16822/vote")
    assert anonymous.status_code == 401 and anonymous.headers["www-authenticate"] == "Bearer"
    with client(env) as c:
        log_in(c, "robot@example.com")
        c.post(f"/settings/tokens/{token_id}/revoke", data={"csrf_token": csrf_of(c.get("/settings").text)})
    assert api.post("/api/v1/papers/2405.16822/vote").status_code == 401


def test_daily_papers_api_speaks_hf_parameters(env):
    def get(**params):
        return httpx.get(env["base"] + "/api/v1/daily_papers", params=params)
    newest = get(date=DAY, sort="publishedAt").json()["papers"]
    assert [p["published"] for p in newest] == sorted((p["published"] for p in newest), reverse=True)
    week = get(week="2024-W22", p=1, limit=5).json()
    assert week["page"] == 2 and len(week["papers"]) == 5
    assert get(month="2024-05", limit=3).json()["period"]["label"] == "2024-05"
    assert get(sort="hot").status_code == 400 and get(p=-1).status_code == 400
