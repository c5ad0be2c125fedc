"""Moderation through every way out: a paper an admin hid is absent for anonymous and
normal users in the JSON API, the website, RSS/Atom, New on arXiv, email digests and the CLI, while admins still
see it where that helps them; and the votes of a user an admin hid count nowhere.

One real site (uvicorn on 127.0.0.1, a real SQLite file with a real HF sample). Hiding is state,
so every test plants its own pair of papers (the one it hides and a neighbour that stays visible,
sharing a made-up word, an organisation, an author and a feed day): tests do not depend on each
other's order. Each pair has a Monday of its own, a week after the last pair's and after every day
of the sample, so "/" shows it and no feed page outgrows its 50 cards as hidden papers pile up
(admins still see those).
Each test first shows the paper IS there in the same way out, so it can fail.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import quote

import httpx
import pytest

from papersift.digest import Digests
from papersift.errors import NotFound
from papersift.model import FeedEntry, Paper
from papersift.query import Filters
from papersift.server.app import create_app
from papersift.service import clean_choices

from ..digest_support import smtp_config
from ..helpers import running_server
from ..smtp_support import SMTPServer
from ..web_support import assert_html_error, build_service, log_in

FIRST_DAY = date(2025, 6, 2)  # a Monday after every feed day of the sample
PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Pair:
    word: str  # in both titles and abstracts only: a query that finds exactly this pair
    hidden: str  # the paper the test hides
    other: str  # its neighbour, which stays visible
    org: str
    author: str
    day: str  # a Monday with only this pair on its feed, and alone in its week
    week: str
    month: str


def pair(i: int) -> Pair:
    word = f"zyx{chr(97 + i // 26)}{chr(97 + i % 26)}q"
    name, day = word.title(), FIRST_DAY + timedelta(weeks=i)
    iso = day.isocalendar()
    return Pair(word, f"2409.9{i:03d}1", f"2409.9{i:03d}2", f"{name} Lab", f"Ada {name}", day.isoformat(),
                f"{iso.year}-W{iso.week:02d}", day.isoformat()[:7])


def pair_papers(p: Pair) -> list[Paper]:
    at = f"{p.day}T09:00:00Z"
    return [Paper(id=pid, title=f"The {p.word} burrow, part {n}", abstract=f"Digging {p.word} tunnels in soil.",
                  authors=[p.author, f"Helper {n}"], categories=["cs.IR"], published=f"{p.day}T00:00:00Z",
                  organization=p.org, upvotes=n, source="hf-jsonl", observed_at=at, listed=p.day,
                  feed_entry=FeedEntry(day=p.day, upvotes=n, rank=n, captured_at=at))
            for n, pid in ((1, p.hidden), (2, p.other))]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("front-door")
    svc = build_service(tmp, lines=300)
    admin = svc.accounts.create_user("admin@example.org", PASSWORD, "Admin", is_admin=True)
    user = svc.accounts.create_user("reader@example.org", PASSWORD, "Reader")
    app = create_app(svc, background=False)
    with running_server(app) as base, httpx.Client(base_url=base, timeout=30) as anon, \
            httpx.Client(base_url=base, timeout=30) as reader, httpx.Client(base_url=base, timeout=30) as root:
        assert log_in(reader, user.email).status_code in (200, 303)
        assert log_in(root, admin.email).status_code in (200, 303)
        yield {"svc": svc, "base": base, "anon": anon, "reader": reader, "root": root, "admin": admin, "user": user}


_numbers = itertools.count()


@pytest.fixture
def p(site) -> Pair:
    """A pair of papers no other test touches, planted now (so its day is the latest)."""
    planted = pair(next(_numbers))
    site["svc"].store.upsert_papers(pair_papers(planted))
    site["svc"].indexes_lexical_only().sync_lexical()
    return planted


def hide(site, pid: str) -> None:
    site["svc"].actions.hide_paper(site["admin"], pid, True)


def text(client: httpx.Client, path: str, **params) -> str:
    response = client.get(path, params=params or None)  # an empty dict would drop the path's own query
    assert response.status_code == 200, (path, response.status_code, response.text[:300])
    return response.text


def ids(answer: dict, key: str = "results") -> set[str]:
    return {row["id"] for row in answer[key]}


def api_404(response: httpx.Response) -> None:
    assert response.status_code == 404, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")


# ---- JSON API
def test_api_search(site, p):
    anon = site["anon"]
    for mode in ("bm25", "hybrid"):
        assert ids(anon.get("/api/v1/search", params={"q": p.word, "mode": mode}).json()) == {p.hidden, p.other}
    hide(site, p.hidden)
    for mode in ("bm25", "hybrid"):
        answer = anon.get("/api/v1/search", params={"q": p.word, "mode": mode}).json()
        assert ids(answer) == {p.other} and answer["total"] == 1, mode
    assert anon.get("/api/v1/search", params={"q": f"id:{p.hidden}"}).json()["total"] == 0


def test_api_paper(site, p):
    assert site["anon"].get(f"/api/v1/papers/{p.hidden}").json()["id"] == p.hidden
    hide(site, p.hidden)
    api_404(site["anon"].get(f"/api/v1/papers/{p.hidden}"))
    api_404(site["anon"].get(f"/api/v1/papers/arXiv:{p.hidden}v1"))  # another spelling of the same id


def test_api_similar(site, p):
    assert p.hidden in ids(site["anon"].get(f"/api/v1/papers/{p.other}/similar", params={"k": 5}).json())
    hide(site, p.hidden)
    near = ids(site["anon"].get(f"/api/v1/papers/{p.other}/similar", params={"k": 5}).json())
    assert near and p.hidden not in near
    api_404(site["anon"].get(f"/api/v1/papers/{p.hidden}/similar"))


@pytest.mark.parametrize("period", ["date", "week", "month", None])
def test_api_daily(site, p, period):
    params = {period: getattr(p, period.replace("date", "day"))} if period else {}  # None: the latest day

    def listed() -> set[str]:
        return ids(site["anon"].get("/api/v1/daily_papers", params=params | {"limit": 100}).json(), "papers")

    assert {p.hidden, p.other} <= listed()
    hide(site, p.hidden)
    assert p.other in listed() and p.hidden not in listed()


def test_library_api_and_page(site, p):
    svc, user = site["svc"], site["user"]
    _, token = svc.accounts.create_token(user, "front door")
    for pid in (p.other, p.hidden):  # saved before it was hidden
        svc.actions.save(user, pid)
    bearer = {"Authorization": f"Bearer {token}"}
    answer = site["anon"].get("/api/v1/library", headers=bearer).json()
    assert ids(answer, "papers") == {p.hidden, p.other} and answer["total"] == 2  # the reader saves only here
    assert p.hidden in text(site["reader"], "/library")
    hide(site, p.hidden)
    answer = site["anon"].get("/api/v1/library", headers=bearer).json()
    assert ids(answer, "papers") == {p.other} and answer["total"] == 1  # not even counted
    page = text(site["reader"], "/library")
    assert p.other in page and p.hidden not in page


# ---- website
def fill(path: str, p: Pair) -> str:
    return path.format(word=p.word, org=quote(p.org), author=quote(p.author), day=p.day, week=p.week,
                       month=p.month)


@pytest.mark.parametrize("path", ["/", "/papers/date/{day}", "/papers/week/{week}", "/papers/month/{month}",
                                  "/search?q={word}", "/orgs/{org}", "/authors/{author}"])
def test_web_lists(site, p, path):
    path, listing = fill(path, p), path.startswith(("/orgs/", "/authors/"))
    for who in ("anon", "reader", "root"):
        page = text(site[who], path)
        assert p.hidden in page and p.other in page and (not listing or ">2 papers" in page), who
    hide(site, p.hidden)
    for who in ("anon", "reader"):
        page = text(site[who], path)
        assert p.other in page and p.hidden not in page, who
        assert not listing or ">1 paper" in page, who  # the count leaves it out too


def test_web_paper_page_and_admin_page(site, p):
    assert p.hidden in text(site["anon"], f"/papers/{p.other}")  # among the similar papers
    assert p.hidden not in text(site["root"], "/admin")
    hide(site, p.hidden)
    for who in ("anon", "reader"):
        assert_html_error(site[who].get(f"/papers/{p.hidden}"), 404)
        assert p.hidden not in text(site[who], f"/papers/{p.other}"), who
    own = text(site["root"], f"/papers/{p.hidden}")  # admins see it, marked, to restore it
    assert 'class="badge">hidden<' in own and "Show this paper again" in own
    assert p.hidden in text(site["root"], "/admin")


# ---- RSS / Atom
@pytest.mark.parametrize("path", ["/feeds/daily.rss", "/feeds/daily.atom", "/feeds/date/{day}.atom",
                                  "/feeds/week/{week}.rss", "/feeds/month/{month}.atom",
                                  "/feeds/search.rss?q={word}", "/feeds/search.atom?q={word}",
                                  "/feeds/orgs/{org}.atom", "/feeds/authors/{author}.rss"])
def test_rss_atom(site, p, path):
    path = fill(path, p)
    before = text(site["anon"], path)
    assert p.hidden in before and p.other in before
    hide(site, p.hidden)
    after = text(site["anon"], path)
    assert p.other in after and p.hidden not in after


# ---- New on arXiv: the pages, their feeds and exports, the JSON API
@pytest.mark.parametrize("path", ["/arxiv/date/{day}", "/arxiv/week/{week}?category=cs.IR", "/arxiv/month/{month}",
                                  "/feeds/arxiv/date/{day}.rss", "/feeds/arxiv/week/{week}.atom?category=cs.IR",
                                  "/export/arxiv/week/{week}?format=csv", "/api/v1/arxiv?date={day}&category=cs.IR"])
def test_new_on_arxiv(site, p, path):
    path = fill(path, p)
    for who in ("anon", "reader", "root"):
        before = text(site[who], path)
        assert p.hidden in before and p.other in before, who
    hide(site, p.hidden)
    for who in ("anon", "reader"):
        after = text(site[who], path)
        assert p.other in after and p.hidden not in after, who
    if path.startswith("/arxiv/"):  # admins see it on the page, marked, to restore it
        assert p.hidden in text(site["root"], path)


# ---- email digests
@pytest.fixture
def mail(site, monkeypatch):
    """The site's own service with email switched on (a local SMTP server): it reads its settings
    as it goes, so the email interface on it sends through that server."""
    smtp = SMTPServer().start()
    email = smtp_config(smtp.port)
    for name in ("base_url", "smtp"):
        monkeypatch.setattr(site["svc"].settings, name, getattr(email, name))
    try:
        yield Digests(site["svc"]), smtp
    finally:
        smtp.stop()


def subscribe(svc, address: str, org: str) -> int:
    sub = svc.mail.subscriptions.subscribe(address, clean_choices("daily", True, organizations=org)).subscriber
    assert svc.store.confirm_subscriber(sub.id, sub.confirm_nonce)
    return sub.id


def digest_to(smtp: SMTPServer, address: str, part: str | None = None) -> str:
    """The digest's text (``part``: only that one, plain or html) to ``address``; there must be one."""
    (mail,) = [m for m in smtp.to(address) if "Confirm" not in m.message["Subject"]]
    return mail.part(part) if part else mail.part("plain") + mail.part("html")


def test_digest(site, p, mail):
    digests, smtp = mail
    svc, today = site["svc"], date.fromisoformat(p.day)  # a Monday: the daily digest covers Friday to Monday
    subscribe(svc, f"before-{p.word}@example.org", p.org)
    digests.run(today=today)
    assert p.hidden in digest_to(smtp, f"before-{p.word}@example.org")
    assert p.other in digest_to(smtp, f"before-{p.word}@example.org")
    built = subscribe(svc, f"built-{p.word}@example.org", p.org)  # built while visible, sent after it was hidden
    assert svc.mail.build(today, only={built}).built == 1
    hide(site, p.hidden)
    subscribe(svc, f"after-{p.word}@example.org", p.org)
    digests.run(today=today)
    for address in (f"after-{p.word}@example.org", f"built-{p.word}@example.org"):
        text = digest_to(smtp, address)
        assert p.other in text and p.hidden not in text, address


def _upvotes_line(text: str, pid: str) -> str:
    """The plain-text line with the upvotes of ``pid``'s entry (two lines below its link)."""
    lines = text.splitlines()
    (at,) = [i for i, line in enumerate(lines) if line.strip().endswith(f"/papers/{pid}")]
    return lines[at + 1]


def test_digest_papers_are_shown_as_the_front_door_decides(site, p, mail):
    """What an email shows is the service's answer at sending time, by the rule every way out uses:
    a paper hidden after its digest was built is left out, and the upvotes are the displayed ones
    (the source's, plus local votes, none of a hidden user's): the number the API shows."""
    digests, smtp = mail
    svc, today = site["svc"], date.fromisoformat(p.day)
    fan = svc.accounts.create_user(f"fan-{p.word}@example.org", PASSWORD, "Fan")
    troll = svc.accounts.create_user(f"troll-{p.word}@example.org", PASSWORD, "Troll")
    for voter in (fan, troll):
        svc.actions.vote(voter, p.other)
    svc.accounts.set_hidden(None, troll.email, True)
    displayed = svc.paper(p.other).upvotes
    assert displayed == 2 + 1  # the source's 2 (pair_papers) and the fan's vote; the hidden troll's not
    address = f"reader-{p.word}@example.org"
    assert svc.mail.build(today, only={subscribe(svc, address, p.org)}).built == 1  # both papers chosen
    hide(site, p.hidden)

    shown = svc.mail.digest_papers().get([p.hidden, p.other])  # the front door's answer for a send run
    assert list(shown) == [p.other] and shown[p.other].upvotes == displayed
    assert digests.send_pending().sent >= 1
    assert p.hidden not in digest_to(smtp, address)
    assert _upvotes_line(digest_to(smtp, address, "plain"), p.other).endswith(f" · {displayed} upvotes")
    api = site["anon"].get(f"/api/v1/papers/{p.other}").json()["upvotes"]
    assert api == displayed


# ---- command line
def cli(site, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "papersift.cli", "--db", str(site["svc"].db), *args],
                          capture_output=True, text=True, timeout=300, env={**os.environ})


def test_cli_search_and_show(site, p):
    def found() -> set[str]:
        proc = cli(site, "search", p.word, "--mode", "bm25", "--json")
        assert proc.returncode == 0, proc.stderr
        return ids(json.loads(proc.stdout))

    assert found() == {p.hidden, p.other}
    assert json.loads(cli(site, "show", p.hidden, "--json").stdout)["id"] == p.hidden
    hidden = cli(site, "admin", "hide-paper", p.hidden)
    assert hidden.returncode == 0 and "hidden" in hidden.stdout, hidden.stderr
    assert found() == {p.other}
    show = cli(site, "show", p.hidden, "--json")
    assert show.returncode == 2 and f"no paper {p.hidden}" in show.stderr and "Traceback" not in show.stderr


# ---- the front door itself
def test_service_reads_by_viewer(site, p):
    svc, admin = site["svc"], site["admin"]
    viewers = {"anonymous": None, "user": site["user"], "admin": admin}

    def seen(viewer) -> dict[str, bool]:
        found = {h.paper.id for h in svc.search(p.word, mode="bm25", viewer=viewer).hits}
        near = {h.paper.id for h in svc.similar(p.other, k=5, viewer=viewer)}
        daily = {it.paper.id for it in svc.daily(p.day, limit=100, viewer=viewer).items}
        try:
            paper = svc.paper(p.hidden, viewer=viewer).id == p.hidden
        except NotFound as exc:  # hidden: as if it were not there
            assert exc.message == f"no paper {p.hidden}"
            paper = False
        filtered = {h.paper.id for h in svc.search(p.word, Filters(organization=p.org), mode="bm25",
                                                   viewer=viewer).hits}
        return {"search": p.hidden in found, "similar": p.hidden in near, "daily": p.hidden in daily,
                "paper": paper, "filtered search": p.hidden in filtered}

    for name, viewer in viewers.items():
        assert all(seen(viewer).values()), (name, seen(viewer))
    hide(site, p.hidden)
    assert not any(seen(None).values()) and not any(seen(site["user"]).values())
    assert all(seen(admin).values())  # admins see what they hid, to restore it


# ---- hidden users' votes
def test_hidden_users_votes_count_nowhere(site, p):
    svc, anon = site["svc"], site["anon"]
    voter = svc.accounts.create_user(f"voter-{p.word}@example.org", PASSWORD, "Voter")
    _, token = svc.accounts.create_token(voter, "votes")
    voted = anon.post(f"/api/v1/papers/{p.other}/vote", headers={"Authorization": f"Bearer {token}"})
    assert voted.status_code == 200, voted.text[:300]

    def counts() -> dict[str, int]:
        daily = anon.get("/api/v1/daily_papers", params={"date": p.day, "limit": 100}).json()["papers"]
        found = anon.get("/api/v1/search", params={"q": p.word, "mode": "bm25"}).json()["results"]
        card = text(anon, f"/papers/date/{p.day}").split(f'id="paper-{p.other.replace(".", "-")}"', 1)[1]
        return {"api paper": anon.get(f"/api/v1/papers/{p.other}").json()["upvotes"],
                "api daily": next(row["upvotes"] for row in daily if row["id"] == p.other),
                "api search": next(row["upvotes"] for row in found if row["id"] == p.other),
                "web feed": int(card.split('class="vote-count">', 1)[1].split("<", 1)[0]),
                "service": svc.paper(p.other).upvotes,
                "service daily": next(it.upvotes for it in svc.daily(p.day).items if it.paper.id == p.other)}

    source = 2  # the neighbour's upvotes on Hugging Face (pair_papers)
    assert counts() == dict.fromkeys(counts(), source + 1)
    proc = cli(site, "admin", "hide-user", voter.email)
    assert proc.returncode == 0, proc.stderr
    assert counts() == dict.fromkeys(counts(), source)


def test_a_running_server_keeps_one_thread_per_numeric_kernel(site):
    """Requests are the parallelism: BLAS teams left spinning took the cores (server/kernels.py).
    numpy's OpenBLAS (the rescoring products) has one process-wide setting; faiss's OpenMP ones are
    per thread (tests/unit/test_vector_graph.py checks the searching thread's)."""
    from threadpoolctl import threadpool_info

    numpy_blas = [lib for lib in threadpool_info() if lib["user_api"] == "blas" and "numpy" in lib["filepath"]]
    assert numpy_blas and all(lib["num_threads"] == 1 for lib in numpy_blas), numpy_blas


def test_the_interfaces_reach_nothing_behind_the_front_door():
    """The import contract (pyproject.toml) keeps the interfaces' imports to ``papersift.service``;
    this keeps their attribute access off what the service holds behind it (its store, its corpus)."""
    import ast
    from pathlib import Path

    import papersift

    root = Path(papersift.__file__).parent
    found = []
    for folder in ("api", "web", "digest", "mcp", "cli", "server"):
        for path in (root / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Attribute) and node.attr in ("store", "corpus"):
                    found.append(f"{path.relative_to(root)}:{node.lineno} .{node.attr}")
    assert found == []
