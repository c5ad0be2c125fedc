"""One settings object: every PAPERSIFT_* variable and papersift.toml key declared in papersift.config,
read there and nowhere else, documented by a generated table that cannot go stale, in the documented
order of precedence."""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from papersift.config import (
    CONFIG_ENV,
    HANDOFF_ENV,
    SECTIONS,
    Settings,
    declared,
    env_name,
    environment_value,
    load_settings,
)
from papersift.config.doc import settings_table, write_doc
from papersift.errors import BadInput

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "papersift"
DOC = ROOT / "docs" / "CONFIGURATION.md"


def declared_variables() -> set[str]:
    top = {env_name(f.name) for f in declared(Settings)}
    return top | {env_name(f.name, name) for name, kind in SECTIONS.items() for f in declared(kind)}


def test_the_configuration_page_is_current(tmp_path):
    copy = tmp_path / "CONFIGURATION.md"
    shutil.copy(DOC, copy)
    assert not write_doc(copy), "docs/CONFIGURATION.md is stale: run python -m papersift.config --doc " \
                                "docs/CONFIGURATION.md"
    for variable in declared_variables() | {CONFIG_ENV}:
        assert f"`{variable}`" in settings_table() and f"`{variable}`" in DOC.read_text(encoding="utf-8")


def test_the_doc_command_writes_the_table(tmp_path):
    page = tmp_path / "page.md"
    stale = DOC.read_text(encoding="utf-8").replace("| `smtp.host` | `PAPERSIFT_SMTP_HOST` |", "| `smtp.host` | `X` |")
    page.write_text(stale, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "papersift.config", "--doc", str(page)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0 and "updated" in proc.stdout, proc.stderr
    assert page.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("content, message", [(None, "No such file or directory"),
                                              ("no table here\n", "no generated-table markers")])
def test_the_doc_command_refuses_a_missing_file_or_one_without_the_markers(tmp_path, content, message):
    page = tmp_path / "page.md"
    if content is not None:
        page.write_text(content, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "papersift.config", "--doc", str(page)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.count("\n") == 1


def test_every_variable_the_code_names_is_declared():
    named = set()
    for path in SRC.rglob("*.py"):
        named |= set(re.findall(r"PAPERSIFT_[A-Z_]*[A-Z]", path.read_text(encoding="utf-8")))
    # a name in prose may stand for a family (PAPERSIFT_<KEY>); the rest must be declared
    assert named - declared_variables() - {CONFIG_ENV, HANDOFF_ENV} == set()


def test_nothing_but_config_reads_the_environment():
    readers = []
    for path in SRC.rglob("*.py"):
        if SRC / "config" in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv") and \
                    isinstance(node.value, ast.Name) and node.value.id == "os":
                readers.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if isinstance(node, ast.keyword) and node.arg == "envvar":  # typer/click reading a variable
                readers.append(f"{path.relative_to(SRC)}:{node.value.lineno}")
    # glibc's own malloc variable, which the server only respects (server/memory.py)
    assert readers == ["server/memory.py:34"]


def test_precedence_defaults_file_environment_options(tmp_path):
    file = tmp_path / "site.toml"
    file.write_text('db = "from-file.db"\nthreads = 3\ntrusted_proxies = "10.0.0.1"\nhf_url = "http://file"\n'
                    '[digest]\ntopics_count = 7\n')
    assert Settings().db == "data/papersift.db" and Settings().threads == 0
    env = {"PAPERSIFT_THREADS": "2", "PAPERSIFT_TRUSTED_PROXIES": "10.0.0.2", "PAPERSIFT_DIGEST_TOPICS_COUNT": "8"}
    settings = load_settings(file, env=env, options={"trusted_proxies": "10.0.0.3", "db": None})
    assert settings.db == "from-file.db" and settings.hf_url == "http://file"  # the file over the defaults
    assert settings.threads == 2 and settings.digest.topics_count == 8  # the environment over the file
    assert settings.trusted_proxies == "10.0.0.3"  # an option over the environment (None: not given)
    assert settings.source == str(file)
    named = load_settings(env={CONFIG_ENV: str(file)})  # the file named by the variable
    assert named.db == "from-file.db"


@pytest.mark.parametrize("env, message", [
    ({"PAPERSIFT_THREADS": "many"}, "PAPERSIFT_THREADS: expected whole number"),
    ({"PAPERSIFT_THREADS": "-1"}, "threads must be 0"),
    ({"PAPERSIFT_DB_POOL_SIZE": "0"}, "db_pool_size must be 1..1000"),
    ({"PAPERSIFT_COOKIE_SECURE": "sometimes"}, "cookie_secure must be auto, true or false"),
    ({"PAPERSIFT_DB": ""}, "db must name a database"),
    ({"PAPERSIFT_EMBED_DEVICE": "tpu"}, "embed_device must be cpu or cuda"),
    ({"PAPERSIFT_EMBED_DEVICE": "cuda"}, "set embedder to minilm-fp32"),  # the int8 default is CPU-only
])
def test_bad_values_name_the_setting(env, message):
    with pytest.raises(BadInput, match=message):
        load_settings(env=env)


def test_a_file_may_not_hold_a_personal_token_or_unknown_keys(tmp_path):
    file = tmp_path / "site.toml"
    for text, message in [('token = "pst_x"\n', "token: unknown key"), ('colour = "blue"\n', "colour: unknown key"),
                          ('[smtp]\nhots = "x"\n', "smtp.hots: unknown key"), ("smtp = 1\n", r"\[smtp\] must be")]:
        file.write_text(text)
        with pytest.raises(BadInput, match=message):
            load_settings(file, env={})
    assert load_settings(env={"PAPERSIFT_TOKEN": " pst_y "}).token == "pst_y"  # the variable is the way


def test_one_setting_from_the_environment_alone():
    assert environment_value("threads", {"PAPERSIFT_THREADS": "4"}) == 4
    assert environment_value("cache", {}) == ""
    # only that setting is read and checked: a broken neighbour does not stop the embedder
    assert environment_value("threads", {"PAPERSIFT_COOKIE_SECURE": "sometimes", "PAPERSIFT_SMTP_PORT": "x"}) == 0
    with pytest.raises(BadInput, match="PAPERSIFT_DB_POOL_TIMEOUT"):
        environment_value("db_pool_timeout", {"PAPERSIFT_DB_POOL_TIMEOUT": "soon"})
    # the device alone: whether it fits the embedder is the whole configuration's check (and the embedder's)
    assert environment_value("embed_device", {"PAPERSIFT_EMBED_DEVICE": " CUDA "}) == "cuda"


def test_a_gpu_with_the_float32_embedder_is_a_valid_configuration():
    settings = load_settings(env={"PAPERSIFT_EMBED_DEVICE": "cuda", "PAPERSIFT_EMBEDDER": "minilm-fp32"})
    assert (settings.embed_device, settings.embedder) == ("cuda", "minilm-fp32")
    assert load_settings(env={}).embed_device == "cpu"


def test_the_workers_get_the_settings_their_command_resolved():
    settings = load_settings(env={"PAPERSIFT_DB": "x.db", "PAPERSIFT_SMTP_HOST": "mail.example.org",
                                  "PAPERSIFT_BASE_URL": "https://p.example.org",
                                  "PAPERSIFT_SMTP_SENDER": "p <d@example.org>",
                                  "PAPERSIFT_SCHEDULE_SOURCES": "hf"})
    again = Settings.from_json(settings.to_json())
    assert again == settings and again.schedule.sources == ["hf"] and again.smtp.host == "mail.example.org"
