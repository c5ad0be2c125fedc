"""Shared pieces of the website tests: a real site on a real sample, and a logged-in client.

The site is a real SQLite file loaded with the first lines of the real Hugging Face archive (its
committed sample, tests/data/), plus a few papers written here on purpose (hostile markup,
organisations), served by uvicorn on 127.0.0.1. Passwords use argon2id with a lighter cost than production so that a test can
create many accounts; the code path is the production one.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from argon2 import PasswordHasher

from papersift.config import Settings
from papersift.model import FeedEntry, Paper
from papersift.server.app import create_app
from papersift.service import Papersift

from .helpers import HF_SAMPLE, head_jsonl, running_server

HF_ARCHIVE = HF_SAMPLE
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
XSS_ID = "2405.99901"
XSS_DAY = "2024-05-27"
XSS_TITLE = "Attack <script>alert(1)</script> & </textarea><img src=x onerror=alert(2)> $a<b$"
XSS_ABSTRACT = ("We study zanzibarian <img src=x onerror=alert(3)> bounds where $a<b$ & $c>d$ "
                "<script>document.title='pwned'</script> in practice.")
XSS_AUTHOR = "Eve <script>alert(4)</script> Hacker"
XSS_ORG = "Evil & <b>Co</b>"
ORG = "Example Lab"


def planted_papers() -> list[Paper]:
    """A hostile paper and three papers of one organisation, on the feed of XSS_DAY."""
    at = "2024-05-28T09:00:00Z"
    hostile = Paper(id=XSS_ID, title=XSS_TITLE, abstract=XSS_ABSTRACT, authors=[XSS_AUTHOR, "Mallory O'Neil"],
                    categories=["cs.CR"], published="2024-05-24T00:00:00Z", organization=XSS_ORG,
                    github_repo="javascript:alert(5)", project_page="javascript:alert(6)", upvotes=1,
                    source="hf-jsonl", observed_at=at, feed_entry=FeedEntry(day=XSS_DAY, upvotes=1, rank=99,
                                                                           captured_at=at))
    lab = [Paper(id=f"2405.9990{i}", title=f"Example Lab paper {i} on quokka retrieval",
                 abstract="Quokka retrieval with lab-grade methods.", authors=["Ada Example", f"Coauthor {i}"],
                 categories=["cs.IR"], published=f"2024-05-2{i}T00:00:00Z", organization=ORG, upvotes=i,
                 source="hf-jsonl", observed_at=at) for i in (2, 3, 4)]
    return [hostile] + lab


def build_service(tmp: Path, lines: int = 3000, embedder: str | bool | None = False, **settings) -> Papersift:
    """A site's service on a real sample, with a light password hasher; ``settings``: what differs from
    the defaults (e.g. ``arxiv_oai_url``, or ``settings=`` a whole Settings)."""
    sample = head_jsonl(HF_ARCHIVE, tmp / "hf.jsonl", lines)
    svc = site_service(tmp / "site.db", embedder, **settings)
    svc.ingest_file("hf-daily", sample)
    svc.store.upsert_papers(planted_papers())
    svc.indexes_lexical_only().sync_lexical()
    return svc


@contextmanager
def served(svc: Papersift, **app_options) -> Iterator[str]:
    """``svc``'s app (no background workers) on uvicorn on 127.0.0.1; yields its base URL and closes
    ``svc`` afterwards. ``app_options``: what ``create_app`` takes besides (e.g. ``website=False``)."""
    try:
        with running_server(create_app(svc, background=False, **app_options)) as base:
            yield base
    finally:
        svc.close()


@contextmanager
def served_site(tmp: Path, lines: int = 3000, **settings) -> Iterator[tuple[Papersift, str]]:
    """The test site: ``build_service(tmp, lines, **settings)`` served (``served``); yields the service
    and the base URL. A module-scoped ``site`` fixture is usually this plus the accounts it needs."""
    with served(svc := build_service(tmp, lines, **settings)) as base:
        yield svc, base


def site_service(db: Path | str, embedder: str | bool | None = False, settings: Settings | None = None,
                 **overrides) -> Papersift:
    """The service a test site serves: ``settings`` (default: the defaults, never this machine's
    environment or papersift.toml) with ``overrides``, and a light password hasher."""
    chosen = dataclasses.replace(settings or Settings(), **overrides)
    return Papersift(db, embedder=embedder, settings=chosen, password_hasher=FAST_HASHER)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def form_token(client: httpx.Client, path: str = "/login") -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text[:500]
    return csrf_of(response.text)


def sign_up(client: httpx.Client, email: str, password: str = "correct horse battery", name: str | None = None):
    token = form_token(client, "/signup")
    return client.post("/signup", data={"csrf_token": token, "email": email, "name": name or email.split("@")[0],
                                        "password": password, "password2": password, "next": "/"})


def log_in(client: httpx.Client, email: str, password: str = "correct horse battery", **headers):
    token = form_token(client, "/login")
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password, "next": "/"},
                       headers=headers)


def assert_html_error(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.text[:800])
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    assert f"Error {status}" in response.text  # our page, not a framework default
