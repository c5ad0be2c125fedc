"""Anonymous feed pages are rendered once per change (web/page_cache.py): what is kept, what is not,
and what makes a kept page stale: any commit to the store, by this process or another."""

from __future__ import annotations

import re

import httpx
import pytest

from papersift.store.sqlite import SQLiteStore

from ..web_support import build_service, form_token, served, sign_up

DAY = "2024-05-28"
PAPER = "2405.17247"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    svc = build_service(tmp_path_factory.mktemp("page-cache"))
    renders = []
    real_feed = svc.catalog.feed

    def counted_feed(*args, **kwargs):  # the real method, counted: how many pages were rendered
        renders.append(args[0])
        return real_feed(*args, **kwargs)

    svc.catalog.feed = counted_feed
    with served(svc) as base:
        yield {"base": base, "svc": svc, "renders": renders}


def votes_on(html: str, paper_id: str) -> int:
    card = html.split(f'id="paper-{paper_id.replace(".", "-")}"', 1)[1]
    return int(re.search(r'class="vote-count">(\d+)<', card).group(1))


def test_an_anonymous_feed_page_is_rendered_once_and_served_alike(env):
    with httpx.Client(base_url=env["base"]) as first, httpx.Client(base_url=env["base"]) as second:
        before = len(env["renders"])
        a = first.get(f"/papers/date/{DAY}")
        b = second.get(f"/papers/date/{DAY}")
        c = second.get(f"/papers/date/{DAY}?sort=upvotes")  # another URL, another page
    assert a.status_code == b.status_code == c.status_code == 200
    assert a.text == b.text and len(env["renders"]) - before == 2
    assert b.headers["content-security-policy"] == a.headers["content-security-policy"]
    assert "papersift_csrf" in b.cookies  # a first visit served from the cache still gets its cookie


def test_a_vote_through_this_process_shows_at_once_and_logged_in_pages_are_not_kept(env):
    with httpx.Client(base_url=env["base"]) as anonymous, httpx.Client(base_url=env["base"]) as voter:
        before = votes_on(anonymous.get(f"/papers/date/{DAY}").text, PAPER)
        assert sign_up(voter, "cache-voter@example.com", name="Cachevoter").status_code == 303
        mine = voter.get(f"/papers/date/{DAY}").text
        assert "Cachevoter" in mine and votes_on(mine, PAPER) == before
        token = form_token(voter, f"/papers/date/{DAY}")
        assert voter.post(f"/papers/{PAPER}/vote", data={"csrf_token": token, "action": "vote"}).status_code == 303
        page = anonymous.get(f"/papers/date/{DAY}").text
    assert votes_on(page, PAPER) == before + 1  # the vote's write made the kept page stale
    assert "Cachevoter" not in page and "Log out" not in page  # the voter's page was never kept


def test_another_process_write_shows_at_once(env):
    with httpx.Client(base_url=env["base"]) as anonymous:
        before = votes_on(anonymous.get(f"/papers/date/{DAY}").text, PAPER)
        other = SQLiteStore(env["svc"].store.path)  # another process's store object on the same file
        user = other.create_user("other-process@example.com", "Other", "x")
        other.set_vote(user.id, PAPER, True)
        other.close()
        assert votes_on(anonymous.get(f"/papers/date/{DAY}").text, PAPER) == before + 1


def test_error_pages_are_not_kept(env):
    with httpx.Client(base_url=env["base"]) as anonymous:
        before = len(env["renders"])
        assert anonymous.get(f"/papers/date/{DAY}?page=9999").status_code == 404
        assert anonymous.get(f"/papers/date/{DAY}?page=9999").status_code == 404
    assert len(env["renders"]) - before == 2
