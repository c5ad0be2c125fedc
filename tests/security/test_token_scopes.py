"""API token scopes: a read-only token reads, a read-and-write token (the default) also writes.

* the store keeps the scope on both backends (``store`` / ``store_url``: a real SQLite file and a
  real PostgreSQL server), and the migration that adds it leaves older tokens read-and-write;
* the JSON API, on a real server: every write route of the OpenAPI document answers a read-only
  token with 403 (so a route added later that forgets the rule fails here) and a read-and-write
  token without one; the reads still answer;
* the MCP tools through the official SDK's client over stdio and streamable HTTP: every tool not
  annotated read-only refuses a read-only token in one line;
* ``papersift admin create-token --read-only / --scope`` and the settings page's choice.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from papersift.errors import BadInput, Forbidden
from papersift.service.accounts import Accounts, secret_hash
from papersift.store import open_store

from ..pg_support import integrity_errors
from ..web_support import FAST_HASHER, build_service, csrf_of, log_in, served

PID = "2405.99902"  # one of web_support's planted papers
WRITES = {("post", "/api/v1/papers/{paper_id}/vote"), ("delete", "/api/v1/papers/{paper_id}/vote"),
          ("post", "/api/v1/papers/{paper_id}/save"), ("delete", "/api/v1/papers/{paper_id}/save"),
          ("post", "/api/v1/submit"), ("post", "/api/v1/papers/{paper_id}/feedback"),
          ("delete", "/api/v1/papers/{paper_id}/feedback"), ("post", "/api/v1/me/library-import"),
          ("delete", "/api/v1/me/signals")}  # today's; the walk below takes every one the document has
PASSWORD = "correct horse battery"


# ---- the store and the accounts service
def _schema_module(store_url: str):
    from papersift.store import postgres_schema, sqlite

    return postgres_schema if store_url.startswith("postgresql") else sqlite


def test_the_migration_keeps_old_tokens_read_write_and_new_ones_keep_their_scope(store_url, monkeypatch):
    module = _schema_module(store_url)
    monkeypatch.setattr(module, "SCHEMA_VERSION", 5)  # a database made by the papersift before scopes
    old = open_store(store_url)
    uid = old.create_user("old@example.org", "Old", "x").id
    with old._transaction() as db:  # the columns of version 5: no scope
        db.execute("INSERT INTO api_tokens(token_hash, user_id, name, created_at)"
                   f" VALUES ('h-old', {uid}, 'old', '2024-01-01T00:00:00Z')")
    old.close()
    monkeypatch.undo()
    store = open_store(store_url)
    try:
        assert store.schema_version() == module.SCHEMA_VERSION >= 6
        assert store.user_for_api_token("h-old").token_scope == "write"  # it could write before: it still can
        assert store.create_api_token("h-read", uid, "reader", "read").scope == "read"
        assert store.create_api_token("h-default", uid, "default").scope == "write"
        assert store.user_for_api_token("h-read").token_scope == "read"
        assert [(t.name, t.scope) for t in store.list_api_tokens(uid)] == [
            ("old", "write"), ("reader", "read"), ("default", "write")]
        with pytest.raises(integrity_errors()):  # the database itself keeps the two values
            store.create_api_token("h-bad", uid, "bad", "admin")
    finally:
        store.close()


def test_accounts_refuse_a_read_only_token_for_a_write(store):
    accounts = Accounts(store, FAST_HASHER)
    user = accounts.create_user("scopes@example.org", PASSWORD)
    reader, read_secret = accounts.create_token(user, "reads", "read")
    _, write_secret = accounts.create_token(user, "writes")
    assert reader.scope == "read" and [t.scope for t in accounts.tokens(user)] == ["read", "write"]
    assert accounts.user_for_token(read_secret).token_scope == "read"
    with pytest.raises(Forbidden, match="^this API token is read-only: ") as refused:
        accounts.user_for_token(read_secret, write=True)
    assert "\n" not in refused.value.message
    assert accounts.user_for_token(write_secret, write=True).token_scope == "write"
    with pytest.raises(BadInput, match="read or write"):
        accounts.create_token(user, "odd", "admin")


# ---- a real server
@pytest.fixture(scope="module")
def site(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scopes")
    svc = build_service(tmp, lines=50)
    user = svc.accounts.create_user("reader@example.org", PASSWORD, "Reader")
    _, read_secret = svc.accounts.create_token(user, "read only", "read")
    _, write_secret = svc.accounts.create_token(user, "read and write")
    with served(svc) as base:
        yield {"svc": svc, "tmp": tmp, "base": base, "user": user, "read": read_secret, "write": write_secret}


def _traces(svc, user) -> tuple:
    """What the writes leave in the store for this reader: votes, saves, signals, tokens."""
    store = svc.store
    return (store.user_votes(user.id, [PID]), store.user_saves(user.id, [PID]), store.user_signals(user.id),
            len(store.list_api_tokens(user.id)))


def _filled(path: str) -> str:
    """A route's path with each parameter given a value of its kind (nothing there: a 404 at worst)."""
    for name, value in (("{paper_id}", PID), ("{owner}", "someone"), ("{slug}", "list-1"), ("{comment_id}", "1"),
                        ("{collection_id}", "1"), ("{claim_id}", "1"), ("{item_id}", "1"), ("{hook_id}", "1")):
        path = path.replace(name, value)
    return path


def _write_routes(client: httpx.Client) -> list[tuple[str, str]]:
    doc = client.get("/openapi.json").json()
    return sorted((method, path) for path, ops in doc["paths"].items() for method in ops
                  if method in ("post", "put", "patch", "delete"))


def test_every_api_write_refuses_a_read_only_token_and_takes_a_read_write_one(site):
    svc, user = site["svc"], site["user"]
    with httpx.Client(base_url=site["base"], timeout=60) as client:
        routes = _write_routes(client)
        assert WRITES <= set(routes), routes  # the walk sees the routes it must
        before = _traces(svc, user)
        for method, path in routes:
            url = _filled(path)
            refused = client.request(method, url, json={"kind": "more", "arxiv_id": PID},
                                     headers={"Authorization": f"Bearer {site['read']}"})
            assert refused.status_code == 403, (method, path, refused.status_code, refused.text[:300])
            error = refused.json()["error"]
            if isinstance(error, str):  # the Hugging Face-compatible routes answer in HF's shape
                assert error.startswith("this API token is read-only: ")
            else:
                assert error["code"] == "forbidden" and error["message"].startswith("this API token is read-only: ")
        assert _traces(svc, user) == before  # nothing was written
        for method, path in routes:
            url = _filled(path)
            answered = client.request(method, url, json={}, headers={"Authorization": f"Bearer {site['write']}"})
            assert answered.status_code not in (401, 403) and answered.status_code < 500, (
                method, path, answered.status_code, answered.text[:300])


def test_a_read_only_token_still_reads(site):
    auth = {"Authorization": f"Bearer {site['read']}"}
    with httpx.Client(base_url=site["base"], timeout=60, headers=auth) as api:
        me = api.get("/api/v1/me")
        assert me.status_code == 200 and me.json() == {"email": "reader@example.org", "name": "Reader",
                                                        "is_admin": False, "scope": "read"}
        for path in ("/api/v1/library", "/api/v1/recommendations", "/api/v1/me/signals", "/api/v1/export/library",
                     f"/api/v1/papers/{PID}"):
            assert api.get(path).status_code == 200, path
        assert api.head("/api/v1/me").status_code == 200
    with httpx.Client(base_url=site["base"], timeout=60) as api:
        me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {site['write']}"})
        assert me.json()["scope"] == "write"


# ---- MCP, through the SDK's own client
def _mcp(site, transport: str, token: str, body):
    async def main():
        if transport == "stdio":
            env = {**os.environ, "PAPERSIFT_DB": str(site["svc"].db), "PAPERSIFT_TOKEN": token}
            params = StdioServerParameters(command=sys.executable, args=["-m", "papersift.cli", "mcp", "--no-embed"],
                                           env=env)
            with open(site["tmp"] / "mcp-stderr.log", "a") as errlog:
                async with Client(stdio_client(params, errlog=errlog)) as client:
                    return await body(client)
        async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            async with Client(streamable_http_client(f"{site['base']}/mcp", http_client=http)) as client:
                return await body(client)

    return asyncio.run(main())


ARGUMENTS = {"paper_id": PID, "kind": "more", "collection_id": 1}


@pytest.mark.parametrize("transport", ["stdio", "http"])
def test_every_mcp_write_tool_refuses_a_read_only_token(site, transport):
    svc, user = site["svc"], site["user"]

    async def read_only(client):
        tools = (await client.list_tools()).tools
        writes = [t for t in tools if not t.annotations.read_only_hint]
        refused = {}
        for tool in writes:
            wanted = set(tool.input_schema.get("required", []))
            result = await client.call_tool(tool.name, {k: v for k, v in ARGUMENTS.items() if k in wanted})
            refused[tool.name] = (result.is_error, " ".join(block.text for block in result.content))
        me = await client.call_tool("whoami", {})
        library = await client.call_tool("my_library", {})
        return {t.name: t for t in tools}, refused, me, library

    before = _traces(svc, user)
    tools, refused, me, library = _mcp(site, transport, site["read"], read_only)
    assert {"save_paper", "upvote_paper", "paper_feedback"} <= set(refused)
    for name, (is_error, text) in refused.items():
        assert is_error and "this API token is read-only: " in text and "\n" not in text, (name, text)
        assert "with the write scope" in tools[name].description
    assert _traces(svc, user) == before
    assert not me.is_error and me.structured_content["scope"] == "read"
    assert not library.is_error

    async def read_write(client):
        saved = await client.call_tool("save_paper", {"paper_id": PID})
        undone = await client.call_tool("save_paper", {"paper_id": PID, "saved": False})
        return saved, undone

    saved, undone = _mcp(site, transport, site["write"], read_write)
    assert not saved.is_error and saved.structured_content == {"id": PID, "saved": True}
    assert not undone.is_error and undone.structured_content == {"id": PID, "saved": False}


# ---- the command line and the settings page
def _cli(db, *args):
    env = {**os.environ, "PAPERSIFT_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "papersift.cli", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_admin_create_token_takes_a_scope(tmp_path):
    db = tmp_path / "p.db"
    store = open_store(db)
    uid = store.create_user("ops@example.org", "Ops", "x").id
    try:
        made = {}
        for label, flags in (("default", ()), ("read-only", ("--read-only",)), ("scope-read", ("--scope", "read")),
                             ("scope-write", ("--scope", "write"))):
            done = _cli(db, "admin", "create-token", "ops@example.org", "--name", label, *flags)
            assert done.returncode == 0 and done.stdout.startswith("pst_"), done.stderr
            made[label] = store.user_for_api_token(secret_hash(done.stdout.strip())).token_scope
        assert made == {"default": "write", "read-only": "read", "scope-read": "read", "scope-write": "write"}
        for flags, needle in ((("--scope", "admin"), "read or write"),
                              (("--read-only", "--scope", "write"), "--read-only and --scope write")):
            done = _cli(db, "admin", "create-token", "ops@example.org", *flags)
            assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
            assert done.stderr.startswith("error: ") and needle in done.stderr and done.stderr.count("\n") == 1
        assert len(store.list_api_tokens(uid)) == 4
    finally:
        store.close()


def test_the_settings_page_makes_a_read_only_token(site):
    with httpx.Client(base_url=site["base"], timeout=60) as browser:
        assert log_in(browser, "reader@example.org", PASSWORD).status_code == 303
        page = browser.get("/settings").text
        assert 'name="scope" value="read"' in page and 'name="scope" value="write" checked' in page
        made = browser.post("/settings/tokens", data={"csrf_token": csrf_of(page), "name": "dashboard",
                                                      "scope": "read"})
        assert made.status_code == 201, made.text[:500]
        secret = re.search(r'id="new-token" class="token" readonly value="(pst_[^"]+)"', made.text).group(1)
        row = re.search(r"<tr><td>dashboard</td><td[^>]*>([^<]+)</td>", browser.get("/settings").text)
        assert row and row.group(1) == "read only"
        odd = browser.post("/settings/tokens", data={"csrf_token": csrf_of(page), "name": "x", "scope": "admin"})
        assert odd.status_code == 400 and "read or write" in odd.text
    with httpx.Client(base_url=site["base"], timeout=60, headers={"Authorization": f"Bearer {secret}"}) as api:
        assert api.get("/api/v1/me").json()["scope"] == "read"
        assert api.post(f"/api/v1/papers/{PID}/vote").status_code == 403
