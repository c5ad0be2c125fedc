"""Personal recommendations end to end: signals in the SQLite store, the front
door's ``for_you``, and the JSON API over a real server on 127.0.0.1.

One real site (``recs_site``, tests/recs_support.py: 600 real HF papers, indexed the product's way).
Every test has its own reader (signals are per reader); the one that hides a paper restores it, and
takes back the vote and the save it added (displayed upvotes are shared by every reader).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import sqlite3

import pytest

from papersift.errors import BadInput, NotFound, Unauthorized
from papersift.index.indexes import paper_text, text_hash
from papersift.model import FeedEntry, Paper
from papersift.recommend.recommender import Explanation
from papersift.service import Papersift
from papersift.service.personal import token_hash as personal_token_hash
from papersift.service.recommendations import Pick
from papersift.store import open_store
from papersift.store.sqlite import MIGRATIONS, SCHEMA_VERSION

from ..recs_support import _liked, _vector, _week
from ..web_support import FAST_HASHER

PASSWORD = "correct horse battery"
UNKNOWN = "2401.99999"


_readers = itertools.count()


@pytest.fixture
def reader(recs_site):
    """A fresh account and its API token: (user, headers)."""
    n = next(_readers)
    user = recs_site["svc"].accounts.create_user(f"reader{n}@example.org", PASSWORD, f"Reader {n}")
    _, secret = recs_site["svc"].accounts.create_token(user, "tests")
    return user, {"Authorization": f"Bearer {secret}"}


def _plant_twin(svc, pid: str) -> str:
    """A second paper with the same abstract and nearly the same title on the week's last day,
    embedded by the real model (the indexer's one new paper)."""
    original, twin, at = svc.store.get_paper(pid), "2407.99901", "2024-07-22T09:00:00Z"
    svc.store.upsert_papers([Paper(id=twin, title=f"{original.title}: extended version", abstract=original.abstract,
                                   authors=["Someone Else"], published="2024-07-19T00:00:00Z", source="hf-jsonl",
                                   observed_at=at, feed_entry=FeedEntry(day="2024-07-22", upvotes=0, rank=99,
                                                                        captured_at=at))])
    svc.index()
    assert svc.indexes.vectors.vector(twin) is not None
    return twin


def _like(client, headers, liked):
    """One liked paper by each positive signal: upvote, save, "more", and "more" again."""
    assert client.post(f"/api/v1/papers/{liked[0]}/vote", headers=headers).status_code == 200
    assert client.post(f"/api/v1/papers/{liked[1]}/save", headers=headers).status_code == 200
    for pid in liked[2:]:
        r = client.post(f"/api/v1/papers/{pid}/feedback", headers=headers, json={"kind": "more"})
        assert r.status_code == 200 and r.json() == {"id": pid, "kind": "more", "on": True}


def _recs(client, headers, k=50, period="week") -> list[dict]:
    r = client.get("/api/v1/recommendations", headers=headers, params={"period": period, "k": k})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period"] == period and body["to"] == "2024-07-22" and body["reason"] is None
    return body["results"]


def test_feedback_changes_the_next_list_and_explanations_name_liked_papers(recs_site, reader):
    svc, client, (_, headers) = recs_site["svc"], recs_site["client"], reader
    week = _week(svc)
    liked = _liked(svc, week)  # the taste around the week's first paper, `top`
    top = week[0]
    twin = _plant_twin(svc, top)  # its near-duplicate: "not for me" on `top` must take it down too
    week = _week(svc)
    _like(client, headers, liked)
    first = _recs(client, headers)
    before = [r["id"] for r in first]
    assert len(before) == min(50, len(set(week))) and set(before) <= set(week) and not set(before) & set(liked)
    assert top in before[:10] and twin in before
    titles = {pid: svc.store.get_paper(pid).title for pid in liked}
    for rec in first[:10]:
        assert rec["why"]["liked"] and all(x["id"] in liked and x["title"] == titles[x["id"]]
                                           for x in rec["why"]["liked"])
        assert rec["why"]["words"] and titles[rec["why"]["liked"][0]["id"]] in rec["because"]
    in_week = [pid for pid in before if pid != top]  # ranks without the dismissed paper: its removal alone moves nothing
    assert max(in_week, key=lambda pid: float(_vector(svc, pid) @ _vector(svc, top))) == twin
    r = client.post(f"/api/v1/papers/{top}/feedback", headers=headers, json={"kind": "not_for_me"})
    assert r.status_code == 200
    after = [r["id"] for r in _recs(client, headers)]
    assert top not in after
    assert (after.index(twin) if twin in after else len(after)) > in_week.index(twin) + 5
    # undo: the dismissed paper can come back
    assert client.request("DELETE", f"/api/v1/papers/{top}/feedback", headers=headers,
                          params={"kind": "not_for_me"}).json()["on"] is False
    assert top in [r["id"] for r in _recs(client, headers)]


def test_hidden_saved_and_voted_papers_are_never_recommended(recs_site, reader):
    svc, client, (user, headers) = recs_site["svc"], recs_site["client"], reader
    liked = _liked(svc, _week(svc))
    _like(client, headers, liked)
    first = [r["id"] for r in _recs(client, headers)]
    hidden, saved, voted = first[:3]
    svc.store.set_paper_hidden(hidden, True)
    try:
        assert client.post(f"/api/v1/papers/{saved}/save", headers=headers).status_code == 200
        assert client.post(f"/api/v1/papers/{voted}/vote", headers=headers).status_code == 200
        again = [r["id"] for r in _recs(client, headers)]
        assert again and not {hidden, saved, voted} & set(again)
        for period in ("day", "month"):
            assert hidden not in [p.paper.id for p in svc.for_you.recommendations(user, period, k=50).picks]
        # feedback on a hidden paper: as if it did not exist
        r = client.post(f"/api/v1/papers/{hidden}/feedback", headers=headers, json={"kind": "more"})
        assert r.status_code == 404
    finally:  # leave the shared site as it was: a vote left here would count in every later test's numbers
        svc.store.set_paper_hidden(hidden, False)
        svc.store.set_saved(user.id, saved, False)
        svc.store.set_vote(user.id, voted, False)


def test_the_model_learns_from_the_background_not_from_the_period_alone(recs_site, tmp_path):
    """A quiet day, one paper on the feed: the "day" list still comes, because the model and its
    words are fitted on the papers of the 60 days before it, not on the day's papers (one paper
    has no word in two papers: nothing to fit words on). A copy of the site: the real papers
    before 2024-07-22 and one of that day's, with the vectors the shared site already computed."""
    svc = recs_site["svc"]
    last_day = _week(svc)[-1:]
    kept = [(p, e) for p, e in svc.store.feed_entries("2024-05-01", "2024-07-22")
            if e.day < "2024-07-22" or p.id in last_day]
    quiet = Papersift(tmp_path / "q.db", index_dir=tmp_path / "idx", password_hasher=FAST_HASHER)
    quiet.store.upsert_papers([dataclasses.replace(p, source="hf-jsonl", observed_at=e.captured_at, feed_entry=e)
                               for p, e in kept])
    name = svc.indexes.embedder.name
    known = svc.store.get_embeddings(name, {p.id: text_hash(paper_text(p)) for p, _ in kept})
    quiet.store.put_embeddings(name, [(p.id, text_hash(paper_text(p)), known[p.id]) for p, _ in kept if p.id in known])
    quiet.index()
    try:
        assert [p.id for p, _ in quiet.store.feed_rows("2024-07-22", "2024-07-22")] == last_day
        liked = _liked(svc, _week(svc))
        user = quiet.accounts.create_user("quiet@example.org", PASSWORD, "Quiet")
        assert quiet.personal.seed_papers(user, liked).added == liked
        result = quiet.for_you.recommendations(user, "day", k=5)
        assert result.reason is None and [p.paper.id for p in result.picks] == last_day
        why = result.picks[0].why.as_dict()
        assert why["words"] and {x["id"] for x in why["liked"]} <= set(liked)
    finally:
        quiet.close()


def test_export_lists_every_signal_and_forget_deletes_them(recs_site, reader):
    svc, client, (user, headers) = recs_site["svc"], recs_site["client"], reader
    a, b, c, d = _week(svc)[:4]
    client.post(f"/api/v1/papers/{a}/vote", headers=headers)
    client.post(f"/api/v1/papers/{b}/save", headers=headers)
    client.post(f"/api/v1/papers/{c}/feedback", headers=headers, json={"kind": "more"})
    client.post(f"/api/v1/papers/{c}/feedback", headers=headers, json={"kind": "more"})  # idempotent
    client.post(f"/api/v1/papers/{d}/feedback", headers=headers, json={"kind": "not_for_me"})
    export = client.get("/api/v1/me/signals", headers=headers).json()
    assert export["user"]["email"] == user.email and export["follows"] == []
    assert sorted((s["kind"], s["paper_id"]) for s in export["signals"]) == sorted(
        [("upvote", a), ("save", b), ("more", c), ("not_for_me", d)])
    assert all(s["title"] == svc.store.get_paper(s["paper_id"]).title and s["created_at"] for s in export["signals"])
    r = client.request("DELETE", f"/api/v1/papers/{c}/feedback", headers=headers, json={"kind": "more"})
    assert r.status_code == 200
    assert {s["kind"] for s in client.get("/api/v1/me/signals", headers=headers).json()["signals"]} == {
        "upvote", "save", "not_for_me"}
    assert client.delete("/api/v1/me/signals", headers=headers).json() == {"deleted": 3}
    assert client.get("/api/v1/me/signals", headers=headers).json()["signals"] == []
    assert client.get("/api/v1/library", headers=headers).json()["total"] == 0
    assert svc.store.vote_counts([a]).get(a, 0) == 0


def test_a_reader_without_positive_signals_gets_an_empty_list_with_a_reason(recs_site, reader):
    client, (_, headers) = recs_site["client"], reader
    client.post(f"/api/v1/papers/{_week(recs_site['svc'])[0]}/feedback", headers=headers, json={"kind": "not_for_me"})
    body = client.get("/api/v1/recommendations", headers=headers).json()
    assert body["results"] == [] and "no positive signal" in body["reason"]


def test_bad_requests_are_clear_4xx(recs_site, reader):
    client, (_, headers) = recs_site["client"], reader
    pid = _week(recs_site["svc"])[0]

    def error(response, status):
        assert response.status_code == status, response.text
        return response.json()["error"]["message"]

    assert "kind" in error(client.post(f"/api/v1/papers/{pid}/feedback", headers=headers, json={"kind": "meh"}), 400)
    assert error(client.post(f"/api/v1/papers/{pid}/feedback", headers=headers, content=b"{nope"), 400)
    assert error(client.post(f"/api/v1/papers/{pid}/feedback", headers=headers, json={}), 400)
    assert "kind" in error(client.delete(f"/api/v1/papers/{pid}/feedback", headers=headers), 400)
    assert "kind" in error(client.delete(f"/api/v1/papers/{pid}/feedback", headers=headers, params={"kind": "x"}), 400)
    assert error(client.post(f"/api/v1/papers/{UNKNOWN}/feedback", headers=headers, json={"kind": "more"}), 404)
    assert error(client.post("/api/v1/papers/not-an-id/feedback", headers=headers, json={"kind": "more"}), 400)
    assert "period" in error(client.get("/api/v1/recommendations", headers=headers, params={"period": "year"}), 400)
    assert error(client.get("/api/v1/recommendations", headers=headers, params={"k": 0}), 400)
    assert error(client.get("/api/v1/recommendations", headers=headers, params={"k": "ten"}), 400)
    for method, path in (("GET", "/api/v1/recommendations"), ("POST", f"/api/v1/papers/{pid}/feedback"),
                         ("DELETE", f"/api/v1/papers/{pid}/feedback"), ("GET", "/api/v1/me/signals"),
                         ("DELETE", "/api/v1/me/signals")):
        assert "token" in error(client.request(method, path, json={"kind": "more"}), 401)
        assert error(client.request(method, path, headers={"Authorization": "Bearer nope"}), 401)


def test_front_door_refuses_anonymous_and_bad_kinds(recs_site):
    svc = recs_site["svc"]
    for call in (lambda: svc.for_you.recommendations(None), lambda: svc.for_you.signals(None),
                 lambda: svc.for_you.forget_signals(None), lambda: svc.for_you.feedback(None, UNKNOWN, "more")):
        with pytest.raises(Unauthorized):
            call()
    user = svc.accounts.create_user("door@example.org", PASSWORD, "Door")
    with pytest.raises(BadInput):
        svc.for_you.feedback(user, _week(svc)[0], "love")
    with pytest.raises(NotFound):
        svc.for_you.feedback(user, UNKNOWN, "more")


def test_signals_table_migration_and_rules(tmp_path):
    path = tmp_path / "v3.db"
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:3]:
        db.executescript(script)
    db.execute("PRAGMA user_version = 3")
    db.commit()
    db.close()
    store = open_store(path)
    assert store.schema_version() == SCHEMA_VERSION >= 4
    store.upsert_papers([Paper(id="2405.00001", title="One", source="hf-jsonl", observed_at="2024-06-01T00:00:00Z")])
    uid = store.create_user("s@example.org", "S", "x").id
    assert store.add_signal(uid, "2405.00001", "more") and not store.add_signal(uid, "2405.00001", "more")
    assert store.add_signal(uid, "2405.00001", "not_for_me")
    with pytest.raises(BadInput):
        store.add_signal(uid, "2405.00001", "upvote")  # upvotes live in votes, not duplicated here
    store.set_vote(uid, "2405.00001", True)
    assert sorted(k for k, _, _ in store.user_signals(uid)) == ["more", "not_for_me", "upvote"]
    assert store.remove_signal(uid, "2405.00001", "more") and not store.remove_signal(uid, "2405.00001", "more")
    assert store.delete_user_signals(uid) == 1 and [k for k, _, _ in store.user_signals(uid)] == ["upvote"]
    assert store.delete_user_signals(uid, votes_and_saves=True) == 1 and store.user_signals(uid) == []


def test_without_an_embedder_the_list_is_empty_with_a_reason(tmp_path):
    svc = Papersift(tmp_path / "p.db", embedder=False, password_hasher=FAST_HASHER)
    at = "2024-07-22T09:00:00Z"
    svc.store.upsert_papers([Paper(id=f"2407.9990{i}", title=f"Paper {i}", abstract="Words about graphs.",
                                   source="hf-jsonl", observed_at=at,
                                   feed_entry=FeedEntry(day="2024-07-22", upvotes=0, rank=i, captured_at=at))
                             for i in range(3)])
    user = svc.accounts.create_user("plain@example.org", PASSWORD, "Plain")
    assert "no positive signal" in svc.for_you.recommendations(user).reason
    svc.for_you.feedback(user, "2407.99900", "more")
    result = svc.for_you.recommendations(user, "day")
    assert result.picks == [] and "without an embedder" in result.reason
    assert result.as_dict()["from"] == result.as_dict()["to"] == "2024-07-22"
    svc.close()


# ---- the reader's own controls on a small site without an embedder: deleting one signal, the
# private feed's link, the export (none of them needs vectors, so no shared site is built)
PLAIN = [f"2407.9990{i}" for i in range(3)]


@pytest.fixture
def plain(tmp_path):
    """A site of three papers on 2024-07-22 (the first without a title) and one reader: (svc, user)."""
    svc = Papersift(tmp_path / "p.db", embedder=False, password_hasher=FAST_HASHER)
    at = "2024-07-22T09:00:00Z"
    svc.store.upsert_papers([Paper(id=pid, title=f"Paper {i}" if i else None, abstract="Words about graphs.",
                                   source="hf-jsonl", observed_at=at,
                                   feed_entry=FeedEntry(day="2024-07-22", upvotes=0, rank=i, captured_at=at))
                             for i, pid in enumerate(PLAIN)])
    yield svc, svc.accounts.create_user("plain@example.org", PASSWORD, "Plain")
    svc.close()


def test_the_signals_page_takes_back_an_upvote_and_a_save_one_at_a_time(plain):
    svc, user = plain
    other = svc.accounts.create_user("other@example.org", PASSWORD, "Other")
    a, b = PLAIN[:2]
    for uid in (user.id, other.id):
        svc.store.set_vote(uid, a, True)
        svc.store.set_saved(uid, a, True)
    svc.for_you.feedback(user, b, "more")

    def kinds(uid):
        return sorted(k for k, _, _ in svc.store.user_signals(uid))

    assert svc.personal.forget_signal(user, a, "upvote") is True
    assert kinds(user.id) == ["more", "save"] and svc.store.vote_counts([a]) == {a: 1}  # the other reader's stays
    assert svc.personal.forget_signal(user, a, "upvote") is False  # nothing left to delete
    assert svc.personal.forget_signal(user, a, "save") is True
    assert kinds(user.id) == ["more"] and svc.store.user_saves(user.id, [a]) == set()
    assert svc.personal.forget_signal(user, a, "save") is False
    assert svc.personal.forget_signal(user, b, "more") is True and kinds(user.id) == []
    assert kinds(other.id) == ["save", "upvote"]


def test_an_unknown_signal_kind_is_refused_naming_the_kinds_and_its_first_40_characters(plain):
    svc, user = plain
    with pytest.raises(BadInput) as bad:
        svc.personal.forget_signal(user, PLAIN[0], "x" * 50)
    assert bad.value.message == f"kind must be one of more, not_for_me, upvote, save, not {'x' * 40!r}"
    with pytest.raises(BadInput) as bad:  # feedback stores only the signals kept in the signals table
        svc.for_you.feedback(user, PLAIN[0], "x" * 50)
    assert bad.value.message == f"kind must be one of more, not_for_me, not {'x' * 40!r}"


def test_an_admin_may_give_feedback_on_a_paper_they_hid(plain):
    svc, user = plain
    svc.store.update_user(user.id, is_admin=True)
    admin = svc.store.get_user(user.id)
    svc.store.set_paper_hidden(PLAIN[1], True)
    # admins see hidden papers everywhere; a reader does not (test_front_door_refuses_anonymous_and_bad_kinds)
    assert svc.for_you.feedback(admin, PLAIN[1], "more") == {"id": PLAIN[1], "kind": "more", "on": True}


def test_a_feed_link_opens_its_readers_feed_until_revoked_and_says_which_404_it_is(plain):
    svc, user = plain
    personal = svc.personal
    assert personal.feed_token_created(user) is None
    secret = personal.new_feed_token(user)
    assert len(secret) == 43 and personal.feed_reader(secret).id == user.id  # 32 random bytes, base64url
    assert personal.feed_token_created(user).startswith("20")

    def missing(secret):
        with pytest.raises(NotFound) as gone:
            personal.feed_reader(secret)
        return gone.value.message

    # too long or empty: refused before any lookup, even when the hash of it were stored
    svc.store.set_feed_token(user.id, personal_token_hash("k" * 201))
    assert missing("k" * 201) == missing("") == "there is no such feed"
    svc.store.set_feed_token(user.id, personal_token_hash("k" * 200))  # 200 characters is still a link
    assert personal.feed_reader("k" * 200).id == user.id
    personal.revoke_feed_token(user)
    assert missing("k" * 200) == missing(secret) == "there is no such feed: its link may have been revoked"
    assert personal.feed_token_created(user) is None


def test_a_feed_secret_with_a_lone_surrogate_is_hashed_not_a_server_error():
    # a str from a URL may carry a lone surrogate: hashing it must not raise (strict UTF-8 would)
    assert personal_token_hash("k\ud800") == hashlib.sha256(b"k\xed\xa0\x80").hexdigest()
    assert personal_token_hash("k") == hashlib.sha256(b"k").hexdigest()


def test_the_export_names_the_follows_and_an_untitled_paper_gets_an_empty_title(plain):
    svc, user = plain
    svc.for_you.feedback(user, PLAIN[0], "more")  # PLAIN[0] has no title
    svc.store.create_subscriber(user.email, "daily", False, [("category", "cs.CL"), ("author", "Ada Lovelace")],
                                user.id, "nonce")
    export = svc.for_you.signals(user)
    (at,) = [at for _, _, at in svc.store.user_signals(user.id)]
    assert export == {"user": {"email": "plain@example.org", "name": "Plain"},
                      "signals": [{"kind": "more", "paper_id": PLAIN[0], "title": "", "created_at": at}],
                      "follows": [{"kind": "category", "value": "cs.CL"}, {"kind": "author", "value": "Ada Lovelace"}]}


def test_without_an_embedder_the_list_says_why_and_the_digest_picks_nothing(plain):
    svc, user = plain
    svc.for_you.feedback(user, PLAIN[0], "more")
    reason = svc.for_you.recommendations(user, "day").reason
    assert reason == "recommendations need the semantic index, and this server runs without an embedder"
    assert svc.for_you.digest_picks(user.id, PLAIN, "2024-07-22", 5, set()) == []


def test_a_pick_as_json_rounds_the_score_and_names_a_liked_paper_it_has_no_title_for_by_its_id():
    paper = Paper(id="2407.00001", title="A pick", published="2024-07-20T00:00:00Z")
    liked = [("2406.00001", 0.912345), ("2406.00002", 0.5), ("2406.00003", 0.25)]
    words = [("graph", 0.333333), ("tree", 0.2), ("path", 0.1), ("node", 0.05)]
    assert Pick(paper, 0.123456789, Explanation(liked, words)).as_dict({"2406.00001": "Liked"}) == {
        "id": "2407.00001", "title": "A pick", "published": "2024-07-20T00:00:00Z", "score": 0.1235,
        "why": {"liked": [{"id": "2406.00001", "similarity": 0.9123, "title": "Liked"},
                          {"id": "2406.00002", "similarity": 0.5, "title": ""},
                          {"id": "2406.00003", "similarity": 0.25, "title": ""}],
                "words": [{"word": "graph", "weight": 0.3333}, {"word": "tree", "weight": 0.2},
                          {"word": "path", "weight": 0.1}, {"word": "node", "weight": 0.05}]},
        # the reason in words names two liked papers and three words
        "because": "close to “Liked”; “2406.00002” — words: graph, tree, path"}


def test_the_list_refuses_a_bad_period_or_k_with_the_rule_and_says_when_the_feed_is_empty(plain, tmp_path):
    svc, user = plain

    def refused(period="week", k=10):
        with pytest.raises(BadInput) as bad:
            svc.for_you.recommendations(user, period, k)
        return bad.value.message

    assert refused("y" * 50) == f"period must be one of day, today, week, month, not {'y' * 40!r}"
    assert refused(k=0) == refused(k=51) == "k must be between 1 and 50"
    assert svc.for_you.recommendations(user, "week", 1).reason == (  # k=1 is fine
        "no positive signal yet: upvote, save or mark “more like this” on a few papers and recommendations will follow")
    empty = Papersift(tmp_path / "empty.db", embedder=False, password_hasher=FAST_HASHER)
    try:
        reader = empty.accounts.create_user("empty@example.org", PASSWORD, "Empty")
        assert empty.for_you.recommendations(reader, "day").as_dict() == {
            "period": "day", "from": None, "to": None, "reason": "there are no papers on the feed yet", "results": []}
    finally:
        empty.close()


def test_signing_in_is_asked_for_in_words(plain):
    svc, _ = plain
    with pytest.raises(Unauthorized) as anonymous:
        svc.for_you.recommendations(None)
    assert anonymous.value.message == "recommendations and feedback need a signed-in reader (or an API token)"
    with pytest.raises(Unauthorized) as anonymous:
        svc.personal.new_feed_token(None)
    assert anonymous.value.message == "this needs a signed-in reader (or an API token)"


# ---- the digest's picks on the shared site
def test_the_list_has_ten_papers_by_default(recs_site):
    svc = recs_site["svc"]
    user = svc.accounts.create_user("ten@example.org", PASSWORD, "Ten")
    svc.personal.seed_papers(user, _liked(svc, _week(svc)))
    assert len(svc.for_you.recommendations(user).picks) == 10


def test_a_digest_picks_k_papers_and_none_for_a_hidden_reader_k_below_one_or_no_positive(recs_site):
    svc = recs_site["svc"]
    week = _week(svc)
    user = svc.accounts.create_user("digest-picks@example.org", PASSWORD, "Digest")
    picks = svc.for_you.digest_picks

    assert picks(user.id, week, "2024-07-22", 1, set()) == []  # no signal yet
    svc.for_you.feedback(user, week[0], "not_for_me")
    assert picks(user.id, week, "2024-07-22", 1, set()) == []  # a negative alone is no taste
    svc.personal.seed_papers(user, _liked(svc, week))
    (one,) = picks(user.id, week, "2024-07-22", 1, set())
    assert one[0] in week and one[1].startswith("close to “")
    assert picks(user.id, week, "2024-07-22", 0, set()) == picks(user.id, week, "2024-07-22", -1, set()) == []
    # a day before any listed paper: no papers to learn the words on
    assert picks(user.id, week, "2024-01-01", 3, set()) == []
    assert picks(10**9, week, "2024-07-22", 3, set()) == []  # no such reader
    svc.store.update_user(user.id, hidden=True)  # an admin hid the account: its digest has no For-you part
    assert picks(user.id, week, "2024-07-22", 3, set()) == []


def _plant_untitled(svc, week, paper_id: str) -> str:
    """A paper with a liked paper's abstract and no title, not on the feed, indexed with its vector."""
    source = svc.store.get_paper(_liked(svc, week)[0])
    svc.store.upsert_papers([Paper(id=paper_id, abstract=source.abstract, published="2024-05-20T00:00:00Z",
                                   source="hf-jsonl", observed_at="2024-05-20T09:00:00Z")])
    svc.index()
    assert svc.indexes.vectors.vector(paper_id) is not None
    return paper_id


def test_a_digest_names_an_untitled_liked_paper_by_its_id(recs_site):
    svc = recs_site["svc"]
    week = _week(svc)
    untitled = _plant_untitled(svc, week, "2405.99902")
    user = svc.accounts.create_user("untitled@example.org", PASSWORD, "Untitled")
    svc.personal.seed_papers(user, [untitled])
    picks = svc.for_you.digest_picks(user.id, week, "2024-07-22", 3, set())
    assert len(picks) == 3 and all(because.startswith(f"close to “{untitled}” — words: ") for _, because in picks)



# ---- the list's other empty answers and the titles it names, on the shared site
def test_a_liked_paper_without_a_vector_on_a_caught_up_index_says_too_few_are_indexed(recs_site):
    # a paper with neither title nor abstract never gets a vector (nothing to embed), so a reader who
    # likes only it has no row in the space to learn from; the index has caught up (index() ran, no
    # change waits for a vector), so the answer is the "after the next harvest" one, word for word
    svc = recs_site["svc"]
    textless = "2405.99904"
    svc.store.upsert_papers([Paper(id=textless, published="2024-05-20T00:00:00Z", source="hf-jsonl",
                                   observed_at="2024-05-20T09:00:00Z")])
    svc.index()
    assert svc.indexes.vectors.vector(textless) is None and svc.indexes.pending_vectors() == 0
    user = svc.accounts.create_user("textless@example.org", PASSWORD, "Textless")
    svc.for_you.feedback(user, textless, "more")
    result = svc.for_you.recommendations(user)
    assert result.picks == [] and result.reason == (
        "too few papers are indexed around your liked ones to learn from yet: "
        "try again after the next harvest and indexing")


def test_a_reader_who_liked_every_paper_of_the_day_hears_nothing_new_between_the_days(recs_site):
    # every paper of the last day is the reader's own "more": none is left to recommend, and the
    # reason names the period's days (the empty list alone would look like a fault)
    svc = recs_site["svc"]
    day = [p.id for p, _ in svc.store.feed_rows("2024-07-22", "2024-07-22")]
    user = svc.accounts.create_user("everything@example.org", PASSWORD, "Everything")
    for pid in day:
        svc.for_you.feedback(user, pid, "more")
    result = svc.for_you.recommendations(user, "day", k=50)
    assert result.picks == [] and result.reason == "nothing new for you between 2024-07-22 and 2024-07-22"


def test_the_list_names_an_untitled_liked_paper_with_an_empty_title_and_by_its_id(recs_site):
    # the list's JSON gives a liked paper without a title the title "" (not a placeholder), and the
    # reason in words names it by its id
    svc = recs_site["svc"]
    untitled = _plant_untitled(svc, _week(svc), "2405.99903")
    user = svc.accounts.create_user("untitled-list@example.org", PASSWORD, "Untitled list")
    svc.for_you.feedback(user, untitled, "more")
    results = svc.for_you.recommendations(user, k=3).as_dict()["results"]
    assert len(results) == 3
    for rec in results:
        assert rec["why"]["liked"] == [{"id": untitled, "similarity": rec["why"]["liked"][0]["similarity"],
                                        "title": ""}]
        assert rec["because"].startswith(f"close to “{untitled}” — words: ")


def _blas_threads() -> list[int]:
    from threadpoolctl import threadpool_info

    return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]


def test_a_list_sets_blas_to_one_thread_on_the_first_list_only(recs_site, monkeypatch):
    # on 2 cores BLAS threads only fight the request threads, so the process's first list sets BLAS to
    # one thread; and only the first: threadpool_limits scans the loaded libraries (~5 ms here, a tenth
    # of a list), so it is not redone on every request
    from threadpoolctl import threadpool_limits

    from papersift.service import recommendations

    svc = recs_site["svc"]
    user = svc.accounts.create_user("blas@example.org", PASSWORD, "Blas")
    svc.personal.seed_papers(user, _liked(svc, _week(svc)))
    # as in a fresh process (earlier tests made lists already), with BLAS raised as a graph build leaves it
    monkeypatch.setattr(recommendations, "_blas_limited", False)
    threadpool_limits(limits=2, user_api="blas")
    raised = _blas_threads()
    try:
        assert 2 in raised  # faiss's OpenMP build of OpenBLAS takes the raise (the pthreads builds stay at 1)
        assert svc.for_you.recommendations(user, k=1).picks and set(_blas_threads()) == {1}
        threadpool_limits(limits=2, user_api="blas")  # raised again after the first list
        assert svc.for_you.recommendations(user, k=1).picks and _blas_threads() == raised
    finally:
        threadpool_limits(limits=1, user_api="blas")  # as the lists left it for the tests after this one


def test_digests_for_more_windows_than_the_cache_holds_each_get_their_picks(recs_site):
    # one feature space is kept per window (CACHED_SPACES = 8): a ninth window pushes the oldest out,
    # never the one just fitted; each day's digest still gets its pick
    svc = recs_site["svc"]
    week = _week(svc)
    user = svc.accounts.create_user("windows@example.org", PASSWORD, "Windows")
    svc.personal.seed_papers(user, _liked(svc, week))
    days = [f"2024-07-{d}" for d in range(10, 23)]  # 13 windows, each ending on another day
    for day in days:  # a pool of the window's own papers (the space holds only those and the signals)
        pool = [p.id for p, _ in svc.store.feed_rows("2024-07-01", day)]
        (pick,) = svc.for_you.digest_picks(user.id, pool, day, 1, set())
        assert pick[0] in pool


def test_a_confirmed_subscriptions_followed_author_and_category_lift_their_papers_a_pending_one_does_not(recs_site):
    # the reader's email follows count in the ranking only once the subscription is active
    svc = recs_site["svc"]
    user = svc.accounts.create_user("follows@example.org", PASSWORD, "Follows")
    svc.personal.seed_papers(user, _liked(svc, _week(svc)))

    def ranked():
        return [p.paper.id for p in svc.for_you.recommendations(user, k=50).picks]

    before = ranked()
    last = svc.store.get_paper(before[-1])
    sub = svc.store.create_subscriber(user.email, "daily", False, [("author", last.authors[0])], user.id, "nonce")
    assert ranked() == before  # pending: not yet the reader's follows
    assert svc.store.confirm_subscriber(sub.id, "nonce")
    assert ranked().index(last.id) < len(before) - 1
    # a followed category lifts its papers too (the HF sample has no categories: the last paper gets one)
    svc.store.upsert_papers([dataclasses.replace(last, categories=["q-bio.ZZ"], source="hf-jsonl",
                                                 observed_at="2024-07-23T09:00:00Z")])
    svc.store.update_subscriber(sub.id, topics=[("category", "q-bio.ZZ")])
    assert ranked().index(last.id) < len(before) - 1


def test_a_digest_never_picks_a_hidden_paper_from_its_pool(recs_site):
    # the digest's pool comes from its caller: the hidden ids it is given are kept off the picks
    svc = recs_site["svc"]
    week = _week(svc)
    user = svc.accounts.create_user("digest-hidden@example.org", PASSWORD, "Digest hidden")
    svc.personal.seed_papers(user, _liked(svc, week))
    (best,) = svc.for_you.digest_picks(user.id, week, "2024-07-22", 1, set())
    (other,) = svc.for_you.digest_picks(user.id, week, "2024-07-22", 1, {best[0]})
    assert other[0] != best[0] and other[0] in week
