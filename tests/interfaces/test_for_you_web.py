"""The "For you" website: the page with why, the feedback buttons, the cold start from
picked papers, an author and each library format, the signals page (delete one, export, forget
all) and the private feed, through a real server on 127.0.0.1 with a real browser-like client
(cookies, CSRF tokens read from the pages, forms posted as a browser posts them).

The site is tests/recs_support.py's ``recs_site`` (this module gets its own instance): the first 600
papers of the real HF archive, indexed the product's way. Every test signs up its own reader.
"""

from __future__ import annotations

import itertools
import json
import re

import feedparser
import httpx
import pytest

from ..recs_support import _liked, _week
from ..web_support import assert_html_error, csrf_of, sign_up

_readers = itertools.count()
_CARD_IDS = re.compile(r'id="paper-([^"]+)"')
_WHY = re.compile(r'<p class="card-why"><strong>Why:</strong> ([^<]*)</p>')


@pytest.fixture
def browser(recs_site):
    """A signed-up reader's browser: (client, user)."""
    n = next(_readers)
    with httpx.Client(base_url=recs_site["base"], timeout=60) as client:
        assert sign_up(client, f"web{n}@example.org", name=f"Web Reader {n}").status_code == 303
        yield client, recs_site["svc"].store.get_user_by_email(f"web{n}@example.org")


def _post(client, page: str, action: str, data: dict | None = None, files=None) -> httpx.Response:
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **(data or {})}, files=files)


def _form_error(response: httpx.Response, status: int) -> str:
    """A cold-start form shown again with its message (role=alert) and a 4xx status."""
    assert response.status_code == status, (response.status_code, response.text[:800])
    match = re.search(r'<div class="error-box" role="alert" id="form-error">([^<]+)</div>', response.text)
    assert match, response.text[:800]
    return match.group(1)


def _slug_ids(html: str) -> list[str]:
    return _CARD_IDS.findall(html)


def _for_you(client) -> str:
    r = client.get("/for-you?period=week")
    assert r.status_code == 200, r.text[:500]
    return r.text


def _slug(pid: str) -> str:
    from papersift.web.render import slug

    return slug(pid)


def test_anonymous_readers_are_asked_to_log_in_and_forms_need_csrf(recs_site):
    with httpx.Client(base_url=recs_site["base"], timeout=30) as client:
        r = client.get("/for-you")
        assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
        pid = _week(recs_site["svc"])[0]
        assert_html_error(client.post(f"/papers/{pid}/feedback", data={"kind": "more"}), 403)
        assert client.get("/for-you/feed/not-a-real-secret.atom").status_code == 404


def test_a_new_reader_is_sent_to_the_cold_start(browser):
    client, _ = browser
    page = _for_you(client)
    assert "no positive signal yet" in page.lower() and 'href="/for-you/start"' in page
    assert not _slug_ids(page)


def test_picking_papers_gives_recommendations_that_name_them_and_not_for_me_removes_one(recs_site, browser):
    client, user = browser
    svc = recs_site["svc"]
    start = client.get("/for-you/start")
    assert start.status_code == 200
    offered = re.findall(r'name="paper" value="([^"]+)"', start.text)
    assert len(offered) == 30  # the month's most upvoted, before any category is chosen
    liked = _liked(svc, _week(svc))
    r = _post(client, "/for-you/start", "/for-you/start/papers", {"paper": liked})
    assert r.status_code == 200 and f"Added {len(liked)} papers" in r.text
    assert {p for k, p, _ in svc.store.user_signals(user.id) if k == "more"} == set(liked)
    page = _for_you(client)
    shown = _slug_ids(page)
    week = {_slug(p) for p in _week(svc)}
    assert len(shown) == 20 and set(shown) <= week and not set(shown) & {_slug(p) for p in liked}
    titles = [svc.store.get_paper(p).title for p in liked]
    whys = _WHY.findall(page)
    assert len(whys) == 20 and all(any(t.replace('"', "&#34;") in w or t in w for t in titles) for w in whys[:10])
    assert page.count('class="feedback-form inline-form"') == 40  # two buttons per card
    first = next(p for p in _week(svc) if _slug(p) == shown[0])
    r = _post(client, "/for-you", f"/papers/{first}/feedback",
              {"kind": "not_for_me", "action": "on", "next": "/for-you?period=week"})
    assert r.status_code == 303 and r.headers["location"] == "/for-you?period=week"
    assert shown[0] not in _slug_ids(_for_you(client))
    paper = client.get(f"/papers/{first}").text  # the paper page shows the state and can undo it
    assert "Undo \u201cnot for me\u201d" in paper and "More like this" in paper


def test_naming_an_author_marks_their_latest_papers(recs_site, browser):
    client, user = browser
    svc = recs_site["svc"]
    author = svc.store.get_paper(_week(svc)[3]).authors[0]
    papers, total = svc.store.papers_by_author(author, 20, 0)
    r = _post(client, "/for-you/start", "/for-you/start/author", {"author": f"  {author} "})
    assert r.status_code == 200 and f"Added {len(papers)} paper" in r.text
    assert {p for k, p, _ in svc.store.user_signals(user.id)} == {p.id for p in papers}
    r = _post(client, "/for-you/start", "/for-you/start/author", {"author": "Nobody Wrote This Zzyzx"})
    assert "no papers by" in _form_error(r, 404).lower()


def _libraries(ids: list[str]) -> dict[str, tuple[str, str]]:
    """The same three papers (plus one entry without an arXiv id) in each format's documented syntax."""
    a, b, c = ids
    bib = (f"@article{{one,\n  title = {{First}},\n  eprint = {{{a}}},\n  archivePrefix = {{arXiv}}\n}}\n\n"
           f"@misc{{two,\n  title = {{Second}},\n  url = {{https://arxiv.org/abs/{b}}}\n}}\n\n"
           "@book{nothing,\n  title = {A Book},\n  publisher = {Press}\n}\n\n"
           f"@article{{three,\n  title = {{Third}},\n  doi = {{10.48550/arXiv.{c}}}\n}}\n")
    ris = (f"TY  - JOUR\nTI  - First\nUR  - https://arxiv.org/abs/{a}\nER  - \n\n"
           f"TY  - GEN\nTI  - Second\nDO  - 10.48550/arXiv.{b}\nER  - \n\n"
           "TY  - BOOK\nTI  - A Book\nER  - \n\n"
           f"TY  - JOUR\nTI  - Third\nUR  - https://arxiv.org/pdf/{c}v2\nER  - \n")
    csl = json.dumps([{"id": "one", "type": "article", "title": "First", "URL": f"https://arxiv.org/abs/{a}"},
                      {"id": "two", "type": "article", "title": "Second", "DOI": f"10.48550/arXiv.{b}"},
                      {"id": "book", "type": "book", "title": "A Book"},
                      {"id": "three", "type": "article", "title": "Third", "number": f"arXiv:{c}"}], indent=1)
    listing = f"{a}\nhttps://arxiv.org/abs/{b}\nnot an id\narXiv:{c}\n"
    return {"bibtex": ("library.bib", bib), "ris": ("library.ris", ris), "csl-json": ("library.json", csl),
            "list": ("ids.txt", listing)}


@pytest.mark.parametrize("fmt", ["bibtex", "ris", "csl-json", "list"])
def test_a_library_file_in_each_format_becomes_positives_and_reports_what_it_could_not_use(recs_site, browser, fmt):
    client, user = browser
    svc = recs_site["svc"]
    ids = _week(svc)[5:8]
    name, text = _libraries(ids)[fmt]
    r = _post(client, "/for-you/start", "/for-you/start/library", files={"library": (name, text.encode())})
    assert r.status_code == 200, r.text[:800]
    assert "Added 3 papers" in r.text and re.search(r"<li>line \d+: ", r.text)  # the book / the bad line
    assert {p for k, p, _ in svc.store.user_signals(user.id) if k == "more"} == set(ids)


def test_library_paste_unknown_papers_and_broken_files(recs_site, browser):
    client, user = browser
    week = _week(recs_site["svc"])
    r = _post(client, "/for-you/start", "/for-you/start/library", {"text": f"{week[0]}\n2401.99999\n"})
    assert r.status_code == 200 and "Added 1 paper" in r.text and "2401.99999" in r.text  # not on this server
    r = _post(client, "/for-you/start", "/for-you/start/library", files={"library": ("x.bib", b"\x00\x01binary")})
    assert "binary" in _form_error(r, 400)
    r = _post(client, "/for-you/start", "/for-you/start/library", files={"library": ("x.bib", b"\xff\xfe\x00")})
    assert "UTF-8" in _form_error(r, 400)
    r = _post(client, "/for-you/start", "/for-you/start/library", {"text": "   "})
    assert "choose a library file" in _form_error(r, 400).lower()
    big = ("\n".join([week[1]] + ["% a comment line that pads the file to more than the 64 KB form cap"] * 1500)).encode()
    assert 64 * 1024 < len(big) < 5 * 2**20
    r = _post(client, "/for-you/start", "/for-you/start/library", files={"library": ("big.txt", big)})
    assert r.status_code == 200 and "Added 1 paper" in r.text
    huge = b"x" * (6 * 2**20)
    r = _post(client, "/for-you/start", "/for-you/start/library", files={"library": ("huge.txt", huge)})
    assert r.status_code == 413


def test_signals_page_deletes_one_exports_and_forgets_all(recs_site, browser):
    client, user = browser
    svc = recs_site["svc"]
    week = _week(svc)
    _post(client, "/for-you/start", "/for-you/start/papers", {"paper": week[:3]})
    _post(client, "/", f"/papers/{week[4]}/vote", {"action": "vote"})
    page = client.get("/for-you/signals").text
    assert all(svc.store.get_paper(p).title.replace("'", "&#39;") in page or p in page for p in week[:3])
    r = _post(client, "/for-you/signals", "/for-you/signals/delete", {"kind": "more", "paper_id": week[1]})
    assert r.status_code == 303
    kinds = {(k, p) for k, p, _ in svc.store.user_signals(user.id)}
    assert kinds == {("more", week[0]), ("more", week[2]), ("upvote", week[4])}
    export = client.get("/for-you/signals.json")
    assert export.headers["content-disposition"].startswith("attachment")
    assert {(s["kind"], s["paper_id"]) for s in export.json()["signals"]} == kinds
    r = _post(client, "/for-you/signals", "/for-you/signals/forget", {})
    assert_html_error(r, 400)  # the confirmation box
    r = _post(client, "/for-you/signals", "/for-you/signals/forget", {"confirm": "yes"})
    assert r.status_code == 303 and svc.store.user_signals(user.id) == []
    assert_html_error(_post(client, "/for-you/signals", "/for-you/signals/delete", {"kind": "bogus", "paper_id": "x"}), 400)


def test_private_feed_lists_the_recommendations_and_is_revocable(recs_site, browser):
    client, user = browser
    svc = recs_site["svc"]
    _post(client, "/for-you/start", "/for-you/start/papers", {"paper": _liked(svc, _week(svc))})
    r = _post(client, "/for-you/signals", "/for-you/feed-token", {"action": "new"})
    assert r.status_code == 201
    url = re.search(r'id="feed-url" class="token" readonly value="([^"]+)"', r.text).group(1)
    path = httpx.URL(url).path
    with httpx.Client(base_url=recs_site["base"], timeout=60) as stranger:  # a feed reader: no cookies
        feed = stranger.get(path)
        assert feed.status_code == 200 and "private" in feed.headers["cache-control"]
        parsed = feedparser.parse(feed.content)
        assert not parsed.bozo
        expected = [p.paper.id for p in svc.for_you.recommendations(user, "week", k=50).picks]
        assert [e.link.rsplit("/papers/", 1)[1] for e in parsed.entries] == expected and expected
        assert stranger.get(path.replace(".atom", ".rss")).status_code == 200
        r = _post(client, "/for-you/signals", "/for-you/feed-token", {"action": "new"})
        assert stranger.get(path).status_code == 404  # the new link replaced it
        newer = httpx.URL(re.search(r'readonly value="([^"]+)"', r.text).group(1)).path
        assert stranger.get(newer).status_code == 200
        _post(client, "/for-you/signals", "/for-you/feed-token", {"action": "revoke"})
        assert stranger.get(newer).status_code == 404


def test_the_digest_has_a_for_you_section_that_sends_each_paper_once(recs_site, browser, monkeypatch):
    from datetime import date
    from email import message_from_bytes, policy

    from papersift.digest.render import Renderer

    client, user = browser
    svc = recs_site["svc"]
    monkeypatch.setattr(svc.settings, "base_url", "https://papers.example.org")  # email links need one
    liked = _liked(svc, _week(svc))
    _post(client, "/for-you/start", "/for-you/start/papers", {"paper": liked})
    store = svc.store
    sub = store.create_subscriber(user.email, "daily", False, [], user.id, "nonce")
    assert store.confirm_subscriber(sub.id, "nonce")
    assert svc.settings.digest.for_you_count == 5
    assert svc.mail.build(date(2024, 7, 22), only={sub.id}).built == 1  # Monday: Fri 19 to Mon 22 July
    message = store.claim("test", "2100-01-01T00:00:00Z")
    assert message is not None and message.subscriber_id == sub.id
    picks = message.payload["for_you"]
    window = {p.id for p, _ in store.feed_rows("2024-07-19", "2024-07-22")} | {
        p.id for p in store.papers_published_between("2024-07-19", "2024-07-22")}
    assert len(picks) == 5 and {e["id"] for e in picks} <= window and not {e["id"] for e in picks} & set(liked)
    titles = [store.get_paper(p).title for p in liked]
    assert all(any(t in e["why"][0] for t in titles) for e in picks)
    body = Renderer(svc.mail).render(message, store.get_subscriber(sub.id))
    text = message_from_bytes(body, policy=policy.default).get_body(("plain",)).get_content()
    assert "FOR YOU" in text and text.count("   Why: close to") == 5
    # the next day's digest never repeats a paper already sent
    assert svc.mail.build(date(2024, 7, 23), only={sub.id}).built == 1  # Mon 22 and Tue 23: overlaps
    second = store.claim("test", "2100-01-01T00:00:00Z")
    assert second.payload["for_you"] and not {e["id"] for e in second.payload["for_you"]} & {e["id"] for e in picks}


def test_the_api_imports_a_library_file_with_a_token(recs_site):
    svc = recs_site["svc"]
    n = next(_readers)
    user = svc.accounts.create_user(f"api{n}@example.org", "correct horse battery", f"API Reader {n}")
    _, secret = svc.accounts.create_token(user, "import")
    ids = _week(svc)[10:13]
    name, text = _libraries(ids)["ris"]
    with httpx.Client(base_url=recs_site["base"], timeout=60) as client:
        url = "/api/v1/me/library-import"
        assert client.post(url, content=text.encode()).status_code == 401  # the token first
        auth = {"Authorization": f"Bearer {secret}", "Content-Type": "application/x-research-info-systems"}
        r = client.post(url, params={"name": name}, content=text.encode(), headers=auth)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["format"] == "ris" and body["added"] == ids and body["entries"] == 4
        assert [p["line"] for p in body["problems"]] and body["missing"] == []
        again = client.post(url, params={"name": name}, content=text.encode(), headers=auth).json()
        assert again["added"] == [] and again["already"] == ids
        padded = ("\n".join([ids[0]] + ["# padding past the 64 KB cap of other routes"] * 2000)).encode()
        assert len(padded) > 64 * 1024
        assert client.post(url, params={"name": "ids.txt"}, content=padded, headers=auth).status_code == 200
        bad = client.post(url, content=b"\x00\x01", headers=auth)
        assert bad.status_code == 400 and "binary" in bad.json()["error"]["message"]
        huge = client.post(url, content=b"x" * (6 * 2**20), headers=auth)
        assert huge.status_code == 413
    assert {p for k, p, _ in svc.store.user_signals(user.id) if k == "more"} == set(ids)


@pytest.mark.parametrize("method, path, data, status, message", [
    ("get", "/for-you?period=year", None, 400, "unknown period"),
    ("post", "/papers/{pid}/feedback", {"kind": "love"}, 400, "kind must be one of"),
    ("post", "/papers/{pid}/feedback", {"kind": "more", "action": "maybe"}, 400, "unknown action"),
    ("post", "/papers/2401.99999/feedback", {"kind": "more"}, 404, ""),
    ("post", "/for-you/feed-token", {"action": "steal"}, 400, "use new or revoke"),
])
def test_bad_for_you_requests_get_a_clear_4xx_page(recs_site, browser, method, path, data, status, message):
    client, _ = browser
    path = path.format(pid=_week(recs_site["svc"])[0])
    r = client.get(path) if method == "get" else _post(client, "/for-you/signals", path, data)
    assert_html_error(r, status)
    assert message.lower() in r.text.lower()


def test_the_cold_start_reports_hidden_papers_missing_and_stores_no_signal_for_them(tmp_path):
    """A paper an admin hid is as if it did not exist: picked, named by its author or listed in a
    library file, it is reported missing, and no "more like this" is stored for it."""
    from papersift.model import FeedEntry, Paper
    from papersift.service import Papersift

    from ..web_support import FAST_HASHER

    svc = Papersift(tmp_path / "p.db", embedder=False, password_hasher=FAST_HASHER)
    at = "2024-07-22T09:00:00Z"
    ids = [f"2407.9990{i}" for i in range(4)]
    svc.store.upsert_papers([Paper(id=pid, title=f"Quokka paper {i}", authors=["Ada Quokka"], source="hf-jsonl",
                                   published=f"2024-07-1{i}T00:00:00Z", observed_at=at,
                                   feed_entry=FeedEntry(day="2024-07-22", upvotes=i, rank=i, captured_at=at))
                             for i, pid in enumerate(ids)])
    visible, hidden, other, third = ids
    svc.actions.hide_paper(None, hidden, True)
    user = svc.accounts.create_user("cold@example.org", "correct horse battery", "Cold")

    def more() -> set[str]:
        return {p for k, p, _ in svc.store.user_signals(user.id) if k == "more"}

    picked = svc.personal.seed_papers(user, [visible, hidden, "2401.99999"])
    assert (picked.added, picked.already, picked.missing) == ([visible], [], [hidden, "2401.99999"])
    assert more() == {visible}
    library = svc.personal.seed_library(user, f"{hidden}\n{other}\n{visible}\n", "ids.txt")
    assert (library.added, library.already, library.missing) == ([other], [visible], [hidden])
    assert more() == {visible, other}
    by_author = svc.personal.seed_author(user, "Ada Quokka")
    assert by_author.missing == [hidden] and by_author.added == [third] and hidden not in by_author.already
    assert more() == {visible, other, third}
    svc.close()


def test_bad_cold_start_picks_are_shown_on_the_form(recs_site, browser):
    client, _ = browser
    week = _week(recs_site["svc"])
    def error(data):
        return _form_error(_post(client, "/for-you/start", "/for-you/start/papers", data), 400).lower()

    assert "pick at least one" in error({})
    assert "at most 50" in error({"paper": (week * 3)[:51]})
    assert "not an arxiv id" in error({"paper": ["not an id at all"]})
