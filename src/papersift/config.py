"""Site configuration for email, links and the scheduler: ``papersift.toml`` + ``PAPERSIFT_*``.

Precedence (DESIGN.md): defaults < the config file < environment variables < CLI flags. The
file is ``--config PATH`` / ``PAPERSIFT_CONFIG``, else ``./papersift.toml`` when it exists.
Every key has an environment override named ``PAPERSIFT_<SECTION>_<KEY>`` (top-level keys:
``PAPERSIFT_<KEY>``), e.g. ``PAPERSIFT_SMTP_HOST``, ``PAPERSIFT_BASE_URL``,
``PAPERSIFT_DIGEST_SEND_TIME``. Lists in the environment are comma separated. A bad value is
a :class:`BadInput` that names the key, so ``papersift`` exits 2 with one line.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from papersift.errors import BadInput

CONFIG_ENV = "PAPERSIFT_CONFIG"
DEFAULT_FILE = "papersift.toml"
INDEX_DIR_ENV = "PAPERSIFT_INDEX_DIR"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$", re.ASCII)


@dataclass
class SMTPConfig:
    host: str = ""  # empty: email is switched off (subscribing says so; feeds still work)
    port: int = 587
    starttls: bool = True
    ca_file: str = ""  # extra CA certificates (PEM) to trust for STARTTLS, e.g. a private CA
    user: str = ""
    password: str = ""
    sender: str = ""  # the From address, e.g. "papersift <digest@example.org>"
    timeout: float = 30.0
    # An address that really processes "unsubscribe" mail; leave empty and the List-Unsubscribe
    # header carries only the https link (a mailto nobody reads would be a broken promise).
    unsubscribe_mailto: str = ""


@dataclass
class DigestConfig:
    send_time: str = "07:00"  # HH:MM in `timezone`, every day; who is due is decided per cadence
    weekly_day: str = "mon"  # weekly digests go out on this day (or the first run after it)
    timezone: str = "UTC"
    trending_count: int = 10
    topics_count: int = 20
    for_you_count: int = 5  # "For you": a signed-in subscriber's recommendations (0: none)
    bounce_threshold: int = 3  # permanent failures in a row before an address is disabled
    max_attempts: int = 8  # temporary failures before a message is given up
    retry_base_seconds: float = 60.0  # backoff: base * 2**(attempt-1), capped at retry_max_seconds
    retry_max_seconds: float = 6 * 3600.0
    confirm_hours: float = 48.0  # a confirmation link's lifetime
    link_days: float = 180.0  # unsubscribe / manage links in emails
    claim_lease_minutes: float = 15.0  # a 'sending' row older than this is an abandoned claim
    poll_seconds: float = 60.0  # `papersift run`: how often due retries and confirmations go out


@dataclass
class ScheduleConfig:
    harvest_times: list[str] = field(default_factory=lambda: ["06:00", "18:00"])
    sources: list[str] = field(default_factory=lambda: ["hf", "arxiv"])
    hf_days: int = 2
    arxiv_set: str = "cs"


@dataclass
class Config:
    base_url: str = ""  # where the site is reached, for links in emails and feeds
    secret_key: str = ""  # signs email links; empty: a random key is made once and kept in the DB
    smtp: SMTPConfig = field(default_factory=SMTPConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    source: str | None = None  # the file it came from, for messages

    # ---- derived values, checked
    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp.host)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.digest.timezone)

    def require_email(self) -> None:
        if not self.smtp.host:
            raise BadInput("email is not configured: set smtp.host in papersift.toml or PAPERSIFT_SMTP_HOST")
        if not self.smtp.sender:
            raise BadInput("set smtp.sender (the From address) in papersift.toml or PAPERSIFT_SMTP_SENDER")

    def require_base_url(self) -> str:
        if not self.base_url:
            raise BadInput("set base_url (where readers reach this site, e.g. https://papers.example.org) "
                           "in papersift.toml or PAPERSIFT_BASE_URL: email links need it")
        return self.base_url


def index_dir_setting(env: Mapping[str, str] | None = None) -> Path | None:
    """The configured folder for the derived indexes (``PAPERSIFT_INDEX_DIR``), or None when
    unset: then the store says where its indexes go (``papersift.store.default_index_dir``).
    Read apart from :func:`load_config` because the corpus needs it without any site config."""
    env = os.environ if env is None else env
    value = (env.get(INDEX_DIR_ENV) or "").strip()
    return Path(value) if value else None


SECTIONS = {"smtp": SMTPConfig, "digest": DigestConfig, "schedule": ScheduleConfig}


def load_config(path: str | Path | None = None, env: Mapping[str, str] | None = None) -> Config:
    """Defaults, then the file, then the environment; validated."""
    env = os.environ if env is None else env
    explicit = path or env.get(CONFIG_ENV)
    file = Path(explicit) if explicit else Path(DEFAULT_FILE)
    data: dict = {}
    if explicit and not file.is_file():
        raise BadInput(f"config file not found: {file}")
    if file.is_file():
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise BadInput(f"{file}: not valid TOML: {exc}") from None
    config = Config(source=str(file) if file.is_file() else None)
    where = str(file)
    for key, value in data.items():
        if key in SECTIONS:
            if not isinstance(value, dict):
                raise BadInput(f"{where}: [{key}] must be a table")
            section = getattr(config, key)
            for sub, sub_value in value.items():
                _set(section, sub, sub_value, f"{where}: {key}.{sub}")
        elif key in ("base_url", "secret_key"):
            _set(config, key, value, f"{where}: {key}")
        else:
            raise BadInput(f"{where}: unknown key {key!r}")
    for name in ("base_url", "secret_key"):
        if f"PAPERSIFT_{name.upper()}" in env:
            _set(config, name, env[f"PAPERSIFT_{name.upper()}"], f"PAPERSIFT_{name.upper()}", from_env=True)
    for section_name, cls in SECTIONS.items():
        section = getattr(config, section_name)
        for f in dataclasses.fields(cls):
            var = f"PAPERSIFT_{section_name.upper()}_{f.name.upper()}"
            if var in env:
                _set(section, f.name, env[var], var, from_env=True)
    validate(config)
    return config


def _set(target, key: str, value, where: str, from_env: bool = False) -> None:
    fields = {f.name: f for f in dataclasses.fields(target)}
    if key not in fields or key == "source" or key in SECTIONS:
        raise BadInput(f"{where}: unknown key")
    current = getattr(target, key)
    try:
        setattr(target, key, _convert(value, current, from_env))
    except (TypeError, ValueError):
        kind = type(current).__name__.replace("str", "text").replace("float", "number").replace("int", "whole number")
        raise BadInput(f"{where}: expected {kind}, got {str(value)[:60]!r}") from None


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
    if not isinstance(value, str):
        raise TypeError
    return value.strip()


def parse_time(text: str, where: str) -> time:
    match = _TIME.match(text or "")
    if not match:
        raise BadInput(f"{where}: expected a time HH:MM (24-hour), got {text[:20]!r}")
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def validate(config: Config) -> None:
    if config.base_url:
        parts = urlsplit(config.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise BadInput(f"base_url must be an http(s) URL such as https://papers.example.org, "
                           f"got {config.base_url[:80]!r}")
        config.base_url = config.base_url.rstrip("/")
    smtp, digest, schedule = config.smtp, config.digest, config.schedule
    if not 0 < smtp.port < 65536:
        raise BadInput(f"smtp.port must be between 1 and 65535, got {smtp.port}")
    if smtp.timeout <= 0:
        raise BadInput("smtp.timeout must be positive")
    if smtp.ca_file and not Path(smtp.ca_file).is_file():
        raise BadInput(f"smtp.ca_file: no such file {smtp.ca_file[:200]}")
    if smtp.host:  # email on: everything an email needs, checked now rather than at 07:00
        if not config.base_url:
            raise BadInput("smtp.host is set, so set base_url too (where readers reach this site, e.g. "
                           "https://papers.example.org): links in emails need it, and a link built from a "
                           "request's Host header could point anywhere")
        if "@" not in smtp.sender:
            raise BadInput(f"smtp.host is set, so set smtp.sender to a From address such as "
                           f"'papersift <digest@example.org>' (got {smtp.sender[:80]!r})")
    parse_time(digest.send_time, "digest.send_time")
    if digest.weekly_day.lower()[:3] not in WEEKDAYS:
        raise BadInput(f"digest.weekly_day must be one of {', '.join(WEEKDAYS)}, got {digest.weekly_day[:20]!r}")
    digest.weekly_day = digest.weekly_day.lower()[:3]
    try:
        ZoneInfo(digest.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(f"digest.timezone: unknown time zone {digest.timezone[:60]!r} (e.g. UTC, Europe/Paris)") from None
    for name in ("trending_count", "topics_count", "for_you_count"):
        if not 0 <= getattr(digest, name) <= 100:
            raise BadInput(f"digest.{name} must be between 0 and 100")
    for name in ("bounce_threshold", "max_attempts"):
        if getattr(digest, name) < 1:
            raise BadInput(f"digest.{name} must be at least 1")
    for name in ("retry_base_seconds", "retry_max_seconds"):
        if getattr(digest, name) < 0:
            raise BadInput(f"digest.{name} must not be negative")
    for name in ("confirm_hours", "link_days", "claim_lease_minutes", "poll_seconds"):
        if getattr(digest, name) <= 0:
            raise BadInput(f"digest.{name} must be positive")
    for value in schedule.harvest_times:
        parse_time(value, "schedule.harvest_times")
    unknown = set(schedule.sources) - {"hf", "arxiv"}
    if unknown:
        raise BadInput(f"schedule.sources: unknown source {sorted(unknown)[0]!r}: use hf and/or arxiv")
    if not 1 <= schedule.hf_days <= 30:
        raise BadInput("schedule.hf_days must be between 1 and 30")
