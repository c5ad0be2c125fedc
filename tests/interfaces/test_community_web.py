"""The research community over a real server: the discussion through the website's forms and the JSON
API, collections (pages, RSS/Atom, exports, privacy, order), claimed authorship (verified from a proven
address and an admin's domain rule, or queued), profiles and handles, and what hiding a comment, a user
or a collection removes from every way out."""

from __future__ import annotations

import dataclasses
import html

import feedparser
import httpx
import pytest

from papersift.config import Settings
from papersift.config.settings import CommunitySettings
from papersift.errors import Forbidden

from ..web_support import XSS_ID, build_service, csrf_of, served, sign_up

LAB = "2405.99902"  # authors "Ada Example", "Coauthor 2"
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    settings = dataclasses.replace(Settings(), community=CommunitySettings(
        claims_verified_domains="lab.example", comments_per_hour=50, new_account_comments_per_hour=50))
    svc = build_service(tmp_path_factory.mktemp("community"), lines=300, settings=settings)
    with served(svc) as base:
        clients = {}
        for email, name in (("ada@lab.example", "Ada Example"), ("bob@example.org", "Bob Smith"),
                            ("carol@example.org", "Carol Jones")):
            client = httpx.Client(base_url=base, follow_redirects=True, timeout=30)
            assert sign_up(client, email, name=name).status_code == 200
            clients[name.split()[0].lower()] = client
        svc.accounts.set_admin("ada@lab.example")
        clients["anon"] = httpx.Client(base_url=base, follow_redirects=True, timeout=30)
        yield svc, base, clients


def token_of(client: httpx.Client, path: str = "/settings") -> str:
    return csrf_of(client.get(path).text)


def post(client: httpx.Client, path: str, **data) -> httpx.Response:
    return client.post(path, data={"csrf_token": token_of(client), **data})


def comment_ids(page: str) -> set[int]:
    import re

    return {int(n) for n in re.findall(r'id="comment-(\d+)"', page)}


def test_a_thread_posted_replied_edited_reacted_reported_and_hidden(site):
    svc, base, c = site
    page = f"/papers/{LAB}"
    first = post(c["bob"], f"{page}/comments", body="Does the *quokka* bound hold for @carol-jones?")
    assert first.status_code == 200 and "#comment-" in str(first.url)
    top = max(comment_ids(first.text))
    reply = post(c["carol"], f"{page}/comments", body="It does.", parent_id=str(top))
    nested = post(c["bob"], f"{page}/comments", body="Thanks!", parent_id=str(max(comment_ids(reply.text))))
    thread = svc.discussion.thread(None, LAB)
    assert [len(v.replies) for v in thread.comments] == [2] and thread.count == 3  # one level deep
    assert 'href="/users/carol-jones"' in nested.text  # the mention is a link to her page
    assert post(c["bob"], f"/comments/{top}/edit", body="Does the bound hold?").status_code == 200
    assert post(c["carol"], f"/comments/{top}/edit", body="not mine").status_code == 403
    assert post(c["carol"], f"/comments/{top}/react", reaction="🎉").status_code == 200
    api = httpx.get(f"{base}/api/v1/papers/{LAB}/comments").json()
    assert api["count"] == 3 and api["comments"][0]["reactions"] == {"🎉": 1}
    assert api["comments"][0]["body"] == "Does the bound hold?" and "<em>" not in api["comments"][0]["html"]
    assert "Earlier versions" in c["ada"].get(page).text and "Earlier versions" not in c["carol"].get(page).text
    assert post(c["carol"], f"/comments/{top}/report", reason="off topic").status_code == 200
    assert "off topic" in c["ada"].get("/admin/reports").text
    assert c["bob"].get("/admin/reports").status_code == 403
    card_count = svc.catalog.card(None, LAB).comments
    assert post(c["ada"], f"/admin/comments/{top}/hide").status_code == 200
    for who in ("anon", "bob", "carol"):
        assert top not in comment_ids(c[who].get(page).text)
    assert top in comment_ids(c["ada"].get(page).text)
    assert all(x["id"] != top for x in httpx.get(f"{base}/api/v1/papers/{LAB}/comments").json()["comments"])
    assert svc.catalog.card(None, LAB).comments == card_count - 1  # the count on cards follows
    assert "off topic" not in c["ada"].get("/admin/reports").text  # hiding answered the report


@pytest.mark.parametrize("body,status", [("", 400), ("   ", 400), ("x" * 10_001, 400), ("bell \x07", 400)])
def test_bad_comments_get_a_clear_4xx(site, body, status):
    _, _, c = site
    response = post(c["bob"], f"/papers/{LAB}/comments", body=body)
    assert response.status_code == status and "Traceback" not in response.text


def test_comment_errors_name_what_is_wrong(site):
    svc, base, c = site
    assert post(c["bob"], f"/papers/{LAB}/comments", body="x", parent_id="abc").status_code == 400
    assert post(c["bob"], f"/papers/{LAB}/comments", body="x", parent_id="999999").status_code == 404
    assert post(c["bob"], "/comments/999999/react", reaction="🎉").status_code == 404
    assert post(c["bob"], "/comments/1/react", reaction="<script>").status_code == 400
    assert c["anon"].post(f"/papers/{LAB}/comments", data={"body": "x"}).status_code in (401, 403)
    assert httpx.post(f"{base}/api/v1/papers/{LAB}/comments", json={"body": "x"}).status_code == 401
    assert httpx.get(f"{base}/api/v1/papers/2401.99999/comments").status_code == 404


def test_new_accounts_are_throttled(tmp_path):
    settings = dataclasses.replace(Settings(), community=CommunitySettings(new_account_comments_per_hour=2))
    svc = build_service(tmp_path, lines=50, settings=settings)
    try:
        user = svc.accounts.create_user("new@example.org", PASSWORD, "New Reader")
        for n in range(2):
            svc.discussion.post(user, LAB, f"comment {n}")
        from papersift.errors import TooManyAttempts

        with pytest.raises(TooManyAttempts, match="new account"):
            svc.discussion.post(user, LAB, "one too many")
    finally:
        svc.close()


def test_collections_pages_feeds_exports_and_privacy(site):
    svc, base, c = site
    made = post(c["bob"], "/collections", title="Quokka reading", description="For the *group*",
                paper_id=LAB, note="Start here")
    url = str(made.url).removeprefix(base)
    assert made.status_code == 200 and url.startswith("/collections/bob-smith/quokka-reading-")
    cid = int(url.rsplit("-", 1)[1])
    post(c["bob"], f"/collections/{cid}/items", paper_id="2405.99903", note="Then this")
    page = c["anon"].get(url).text
    assert "Start here" in page and "Then this" in page and page.index("Start here") < page.index("Then this")
    items = svc.collections.view(None, svc.collections.get(None, cid)).entries
    post(c["bob"], f"/collections/{cid}/items/{items[1].item.id}", action="up", position="2")
    assert [e.item.paper_id for e in svc.collections.view(None, svc.collections.get(None, cid)).entries] == [
        "2405.99903", LAB]
    feed = feedparser.parse(c["anon"].get(url + "/feed.atom").content)
    assert [e.link.rsplit("/", 1)[1] for e in feed.entries] == ["2405.99903", LAB]
    assert "Note: Then this" in feed.entries[0].summary
    ris = c["anon"].get(url + "/export?format=ris").text
    assert "2405.99903" in ris and LAB in ris
    assert post(c["carol"], f"/collections/{cid}/upvote").status_code == 200
    assert httpx.get(f"{base}/api/v1/collections/{cid}").json()["upvotes"] == 1
    assert c["anon"].get(url.replace("quokka-reading", "old-title")).url.path == url  # 301 to the current slug
    secret = post(c["carol"], "/collections", title="Secret list", private="on", paper_id=LAB)
    secret_url = str(secret.url).removeprefix(base)
    secret_id = int(secret_url.rsplit("-", 1)[1])
    for who in ("anon", "bob"):
        for path in (secret_url, secret_url + "/feed.atom", secret_url + "/export"):
            assert c[who].get(path).status_code == 404, (who, path)
    assert httpx.get(f"{base}/api/v1/collections/{secret_id}").status_code == 404
    assert "Secret list" not in c["anon"].get(f"/papers/{LAB}").text
    assert "Secret list" in c["carol"].get(f"/papers/{LAB}").text
    assert post(c["bob"], f"/collections/{secret_id}/items", paper_id=LAB).status_code == 404
    assert post(c["carol"], f"/collections/{cid}/edit", title="Mine now").status_code == 403
    moved = post(c["bob"], f"/collections/{cid}/items/{items[0].item.id}", action="down", position="two")
    assert moved.status_code == 400 and "position must be a whole number" in html.unescape(moved.text).lower()
    assert post(c["bob"], "/collections/x1/items", paper_id=LAB).status_code == 400
    assert post(c["bob"], f"/collections/{cid}/items/{items[0].item.id}", action="fly").status_code == 400


def test_the_library_is_a_private_collection(site):
    svc, base, c = site
    post(c["carol"], f"/papers/{LAB}/save", action="save")
    library = next(col for col in svc.collections.of_user(svc.accounts.user_by_email("carol@example.org"),
                                                           svc.accounts.user_by_email("carol@example.org"))
                   if col.is_library)
    assert library.private and library.items >= 1
    url = f"/collections/carol-jones/library-{library.id}"
    assert c["carol"].get(url).status_code == 200 and c["bob"].get(url).status_code == 404
    assert post(c["carol"], f"/collections/{library.id}/delete", confirm="yes").status_code == 400
    assert LAB in c["carol"].get("/library").text


def test_claims_verified_from_a_proven_address_or_queued(site):
    svc, base, c = site
    ada = svc.accounts.user_by_email("ada@lab.example")
    svc.store.update_user(ada.id, email_verified_at="2026-12-01T00:00:00Z")  # as the mailed link does
    post(c["ada"], f"/papers/{LAB}/claims", position="0")
    page = c["anon"].get(f"/papers/{LAB}").text
    assert 'href="/users/ada-example" class="badge badge-verified"' in page
    bob_claim = post(c["bob"], f"/papers/{LAB}/claims", position="1")  # no proof: it waits for an admin
    assert bob_claim.status_code == 200 and "Your claim of" in bob_claim.text and "pending" in bob_claim.text
    assert "bob-smith" in c["ada"].get("/admin/claims").text
    assert c["bob"].get("/admin/claims").status_code == 403
    claim_id = svc.store.pending_claims()[0].id
    assert post(c["ada"], f"/admin/claims/{claim_id}", action="verify").status_code == 200
    api = httpx.get(f"{base}/api/v1/papers/{LAB}/claims").json()["claims"]
    assert {(x["position"], x["user"], x["status"]) for x in api} == {(0, "ada-example", "verified"),
                                                                     (1, "bob-smith", "verified")}
    assert post(c["carol"], f"/papers/{LAB}/claims", position="0").status_code == 409  # Ada holds it
    assert post(c["carol"], f"/papers/{LAB}/claims", position="7").status_code == 400
    from huggingface_hub import HfApi

    info = HfApi(endpoint=base).paper_info(LAB)
    assert info.authors[0].user.username == "ada-example" and info.authors[0].status == "claimed_verified"
    assert info.authors[1].user.username == "bob-smith"
    profile = c["anon"].get("/users/ada-example").text
    assert LAB in profile
    assert 'href="/users/ada-example"' in c["anon"].get("/authors/Ada%20Example").text  # the author page links her
    assert 'href="/users/ada-example"' not in c["anon"].get("/authors/Coauthor%203").text


def test_profile_handle_rules(site):
    svc, base, c = site
    for handle, status in (("admin", 400), ("-x", 400), ("a", 400), ("bob-smith", 409), ("carol_j", 400)):
        assert post(c["carol"], "/settings/profile", username=handle, name="Carol Jones").status_code == status, handle
    assert post(c["carol"], "/settings/profile", username="carolj", name="Carol Jones",
                show_upvotes="on", notify_email="on").status_code == 200
    assert c["anon"].get("/users/carolj").status_code == 200
    assert c["anon"].get("/users/carol-jones").status_code == 404
    post(c["carol"], "/settings/profile", username="carol-jones", name="Carol Jones", notify_email="on")
    assert httpx.get(f"{base}/api/v1/users/carol-jones").json()["username"] == "carol-jones"
    assert httpx.get(f"{base}/api/v1/users/nobody-here").status_code == 404


def test_submitting_may_need_a_verified_claim(site):
    svc, _, _ = site
    gated = dataclasses.replace(svc.settings.community, submit_requires_claim=True)
    svc.actions.settings = dataclasses.replace(svc.settings, community=gated)
    try:
        carol = svc.accounts.user_by_email("carol@example.org")
        with pytest.raises(Forbidden, match="claim"):
            svc.actions.submit(carol, "2405.99904")
    finally:
        svc.actions.settings = svc.settings


def test_a_hidden_user_vanishes_with_their_comments_collections_and_claims(site):
    svc, base, c = site
    dan = httpx.Client(base_url=base, follow_redirects=True, timeout=30)
    sign_up(dan, "dan@example.org", name="Dan Brown")
    post(dan, f"/papers/{LAB}/comments", body="dan was here")
    made = post(dan, "/collections", title="Dan list", paper_id=LAB)
    dan_url = str(made.url).removeprefix(base)
    dan_user = svc.accounts.user_by_email("dan@example.org")
    claim = svc.store.add_claim(dan_user.id, XSS_ID, 1, status="verified", how="test")
    assert "dan was here" in c["anon"].get(f"/papers/{LAB}").text
    post(c["ada"], "/admin/users", email="dan@example.org", action="hide")
    for who in ("anon", "bob"):
        assert "dan was here" not in c[who].get(f"/papers/{LAB}").text
        assert "Dan list" not in c[who].get("/collections").text and c[who].get(dan_url).status_code == 404
        assert c[who].get("/users/dan-brown").status_code == 404
    assert "dan was here" not in httpx.get(f"{base}/api/v1/papers/{LAB}/comments").text
    assert svc.authors.paper_authors(None, XSS_ID) == {} and claim.id
    assert "dan-brown" not in httpx.get(f"{base}/api/papers/{XSS_ID}").text
    assert "Dan list" not in httpx.get(f"{base}/api/collections").text
    assert c["ada"].get("/users/dan-brown").status_code == 200  # admins still see them


def call_tool(svc, name: str, arguments: dict, token: str | None = None):
    import asyncio

    from mcp import Client

    from papersift.mcp.server import build_server

    async def main():
        async with Client(build_server(svc, token)) as client:
            return await client.call_tool(name, arguments)

    return asyncio.run(main())


def test_a_hidden_collection_is_absent_from_every_way_out(site):
    svc, base, c = site
    made = post(c["bob"], "/collections", title="Soon hidden", paper_id=LAB, note="n")
    url = str(made.url).removeprefix(base)
    cid = int(url.rsplit("-", 1)[1])
    slug = url.removeprefix("/collections/")
    listed = call_tool(svc, "list_collections", {"paper_id": LAB})
    assert "Soon hidden" in listed.content[0].text and not listed.is_error
    assert post(c["ada"], f"/admin/collections/{cid}/hide").status_code == 200
    for path in (url, url + "/feed.atom", url + "/feed.rss", url + "/export?format=csv"):
        assert c["anon"].get(path).status_code == 404, path
        assert c["carol"].get(path).status_code == 404, path
    assert "Soon hidden" not in c["anon"].get(f"/papers/{LAB}").text + c["anon"].get("/collections").text
    assert "Soon hidden" not in c["anon"].get("/users/bob-smith").text
    assert httpx.get(f"{base}/api/v1/collections/{cid}").status_code == 404
    assert "Soon hidden" not in httpx.get(f"{base}/api/v1/collections").text
    assert httpx.get(f"{base}/api/collections/{slug}").status_code == 404
    assert "Soon hidden" not in httpx.get(f"{base}/api/collections", params={"item": f"papers/{LAB}"}).text
    assert "Soon hidden" not in call_tool(svc, "list_collections", {"paper_id": LAB}).content[0].text
    assert call_tool(svc, "read_collection", {"collection_id": cid}).is_error
    assert c["ada"].get(url).status_code == 200  # admins still see it, marked


def test_comment_counts_add_this_sites_discussion_everywhere(site):
    svc, base, c = site
    from ..web_support import XSS_DAY

    def counts() -> list[int]:
        items = httpx.get(f"{base}/api/daily_papers", params={"date": XSS_DAY}).json()
        return [next(it["paper"]["numComments"] for it in items if it["paper"]["id"] == XSS_ID),
                httpx.get(f"{base}/api/v1/papers/{XSS_ID}").json()["num_comments"] or 0,
                next(card.comments for card in svc.catalog.feed(None, XSS_DAY).cards if card.paper.id == XSS_ID)]

    before = counts()
    post(c["carol"], f"/papers/{XSS_ID}/comments", body="counted everywhere")
    assert [a - b for a, b in zip(counts(), before, strict=True)] == [1, 1, 1]  # HF's API, ours, the cards
