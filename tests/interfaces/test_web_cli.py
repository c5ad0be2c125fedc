"""`papersift admin ...` as an operator runs it: a real process on a real SQLite file."""

from __future__ import annotations

import os
import subprocess
import sys

from papersift.model import Paper
from papersift.service.accounts import Accounts, secret_hash
from papersift.store import open_store


def run(db, *args, stdin: str | None = None):
    env = {**os.environ, "PAPERSIFT_DB": str(db)}
    return subprocess.run([sys.executable, "-m", "papersift.cli", *args], capture_output=True, text=True,
                          env=env, timeout=300, input=stdin)


def assert_clean_error(proc, text: str):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and text in proc.stderr


def test_admin_commands(tmp_path):
    db = tmp_path / "p.db"
    made = run(db, "admin", "create-user", "Root@Example.org", "--admin", "--password-stdin", "--json",
               stdin="a long password\n")
    assert made.returncode == 0, made.stderr
    assert '"is_admin": true' in made.stdout and '"email": "root@example.org"' in made.stdout
    store = open_store(db)
    user = store.get_user_by_email("root@example.org")
    assert user.is_admin and Accounts(store).log_in("root@example.org", "a long password", "cli")[0].id == user.id

    token = run(db, "admin", "create-token", "root@example.org", "--name", "ci")
    assert token.returncode == 0 and token.stdout.startswith("pst_")
    assert store.user_for_api_token(secret_hash(token.stdout.strip())).id == user.id

    assert_clean_error(run(db, "admin", "create-user", "root@example.org", "--password-stdin",
                           stdin="another password\n"), "already exists")
    assert_clean_error(run(db, "admin", "create-user", "x@example.org", "--password-stdin", stdin="short\n"),
                       "at least 8")
    assert_clean_error(run(db, "admin", "create-token", "nobody@example.org"), "no account")
    assert_clean_error(run(db, "admin", "hide-paper", "2405.00001"), "no paper 2405.00001")

    store.upsert_papers([Paper(id="2405.00001", title="T", source="hf-jsonl", observed_at="2024-06-01T00:00:00Z")])
    assert run(db, "admin", "hide-paper", "arXiv:2405.00001v2").returncode == 0
    assert store.hidden_paper_ids() == {"2405.00001"}
    assert run(db, "admin", "hide-paper", "2405.00001", "--restore").returncode == 0
    assert store.hidden_paper_ids() == set()

    assert run(db, "admin", "create-user", "eve@example.org", "--password-stdin", stdin="eve password\n").returncode == 0
    assert run(db, "admin", "hide-user", "eve@example.org").returncode == 0
    assert store.get_user_by_email("eve@example.org").hidden
    assert run(db, "admin", "set-admin", "eve@example.org").returncode == 0
    assert store.get_user_by_email("eve@example.org").is_admin
