"""Reading the settings: defaults < the config file < ``PAPERSIFT_*`` variables < command-line options,
then checked (``checks.py``); one setting alone from the environment; the hand-over to the worker
processes of ``serve --workers``."""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path
from typing import Any, Mapping

from papersift.config.checks import TOP_CHECKS, validate
from papersift.config.settings import CONFIG_ENV, DEFAULT_FILE, HANDOFF_ENV, SECTIONS, Settings, declared, env_name
from papersift.errors import BadInput


def load_settings(path: str | Path | None = None, env: Mapping[str, str] | None = None,
                  options: Mapping[str, Any] | None = None) -> Settings:
    """Defaults, then the file, then the environment, then ``options`` (the command line's values for
    top-level settings, None where not given); validated."""
    env = os.environ if env is None else env
    explicit = path or env.get(CONFIG_ENV)
    file = Path(explicit) if explicit else Path(DEFAULT_FILE)
    if explicit and not file.is_file():
        raise BadInput(f"config file not found: {file}")
    settings = Settings(source=str(file) if file.is_file() else None)
    if file.is_file():
        _apply_file(settings, _read_toml(file), str(file))
    _apply_env(settings, env)
    for name, value in (options or {}).items():
        if value is not None:
            _set(settings, name, value, _option(name), from_env=True)
    validate(settings)
    return settings


def _read_toml(file: Path) -> dict:
    try:
        return tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{file}: not valid TOML: {exc}") from None


def _apply_file(settings: Settings, data: dict, where: str) -> None:
    for key, value in data.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise BadInput(f"{where}: [{key}] must be a table")
            for sub, sub_value in value.items():
                _set(getattr(settings, key), sub, sub_value, f"{where}: {key}.{sub}")
        else:
            _set(settings, key, value, f"{where}: {key}", in_file=True)


def _apply_env(settings: Settings, env: Mapping[str, str]) -> None:
    for f in declared(Settings):
        if env_name(f.name) in env:
            _set(settings, f.name, env[env_name(f.name)], env_name(f.name), from_env=True)
    for section_name, kind in SECTIONS.items():
        section = getattr(settings, section_name)
        for f in declared(kind):
            var = env_name(f.name, section_name)
            if var in env:
                _set(section, f.name, env[var], var, from_env=True)


def _option(name: str) -> str:
    fields = {f.name: f for f in declared(Settings)}
    return (fields[name].metadata["option"] if name in fields else "") or f"--{name.replace('_', '-')}"


def _set(target, key: str, value, where: str, from_env: bool = False, in_file: bool = False) -> None:
    fields = {f.name: f for f in declared(type(target))}
    if key not in fields or (in_file and not fields[key].metadata["in_file"]):
        raise BadInput(f"{where}: unknown key")
    current = getattr(target, key)
    try:
        setattr(target, key, _convert(value, current, from_env))
    except (TypeError, ValueError):
        raise BadInput(f"{where}: expected {_kind(current)}, got {str(value)[:60]!r}") from None


def _kind(value) -> str:
    return {bool: "true or false", int: "whole number", float: "number", list: "list of text"}.get(type(value), "text")


def _convert(value, current, from_env: bool):
    if isinstance(current, bool):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
            return True
        if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError
    if isinstance(current, int):
        if isinstance(value, bool) or not isinstance(value, (int, str)):
            raise TypeError
        return int(value)
    if isinstance(current, float):
        if isinstance(value, bool) or not isinstance(value, (int, float, str)):
            raise TypeError
        return float(value)
    if isinstance(current, list):
        if from_env and isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise TypeError
        return value
    if not isinstance(value, (str, Path)):
        raise TypeError
    return str(value).strip()


def environment_value(name: str, env: Mapping[str, str] | None = None):
    """One top-level setting from the environment alone (its default when unset), parsed and checked by
    its declaration: for library code used without a :class:`Settings` (the embedder on its own)."""
    env = os.environ if env is None else env
    settings = Settings()
    if env_name(name) in env:
        _set(settings, name, env[env_name(name)], env_name(name), from_env=True)
    if name in TOP_CHECKS:
        TOP_CHECKS[name](settings)
    return getattr(settings, name)


def index_dir_setting(env: Mapping[str, str] | None = None) -> Path | None:
    """The configured folder for the derived indexes (``PAPERSIFT_INDEX_DIR``), or None when unset:
    then the store says where its indexes go (``papersift.store.default_index_dir``)."""
    value = environment_value("index_dir", env)
    return Path(value) if value else None


def hand_to_workers(settings: Settings, **choices) -> None:
    """Put ``settings`` and a serving command's own ``choices`` where the worker processes that
    uvicorn is about to start will find them (:func:`from_parent`)."""
    os.environ[HANDOFF_ENV] = json.dumps({"settings": settings.to_json(), "choices": choices})


def from_parent() -> tuple[Settings, dict]:
    """In a worker: the settings and choices its parent handed over, else this process's own
    (``load_settings()``) and none."""
    text = os.environ.get(HANDOFF_ENV)
    if not text:
        return load_settings(), {}
    data = json.loads(text)
    return Settings.from_json(data["settings"]), data["choices"]
