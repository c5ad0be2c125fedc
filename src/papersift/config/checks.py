"""What a good value is, for each setting that has a rule; a bad one is a BadInput that names it."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from papersift.config.settings import COOKIE_MODES, WEEKDAYS, DigestSettings, ScheduleSettings, Settings
from papersift.errors import BadInput
from papersift.ids import check_category

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$", re.ASCII)


def parse_time(text: str, where: str) -> time:
    match = _TIME.match(text or "")
    if not match:
        raise BadInput(f"{where}: expected a time HH:MM (24-hour), got {text[:20]!r}")
    return time(int(match[1]), int(match[2]), int(match[3] or 0))


def validate(settings: Settings) -> None:
    _validate_top(settings)
    _validate_email(settings)
    _validate_digest(settings.digest)
    _validate_schedule(settings.schedule)


def _check_db(settings: Settings) -> None:
    if not settings.db:
        raise BadInput("db must name a database (a file path or a postgresql:// URL)")


def _check_threads(settings: Settings) -> None:
    if settings.threads < 0:
        raise BadInput(f"threads must be 0 (one per CPU core) or more, got {settings.threads}")


def _check_embed_device(settings: Settings) -> None:
    device = settings.embed_device.strip().lower()
    if device not in ("cpu", "cuda"):
        raise BadInput(f"embed_device must be cpu or cuda, got {settings.embed_device[:20]!r}")
    settings.embed_device = device


def _check_device_fits_embedder(settings: Settings) -> None:
    if settings.embed_device == "cuda" and settings.embedder.strip() == "minilm":
        raise BadInput("embed_device cuda runs float32 graphs: set embedder to minilm-fp32 (or onnx:PATH); the "
                       "default int8 minilm has CPU-only kernels")


def _check_pool(settings: Settings) -> None:
    if not (1 <= settings.db_pool_size <= 1000 and 0 < settings.db_pool_timeout <= 600):
        raise BadInput("db_pool_size must be 1..1000 and db_pool_timeout in (0, 600] seconds")


def _check_cookie_secure(settings: Settings) -> None:
    mode = COOKIE_MODES.get(settings.cookie_secure.lower())
    if mode is None:
        raise BadInput(f"cookie_secure must be auto, true or false, got {settings.cookie_secure[:20]!r}")
    settings.cookie_secure = mode


# the checks of top-level settings, by name, so that one setting can be read and checked alone
TOP_CHECKS = {"db": _check_db, "threads": _check_threads, "embed_device": _check_embed_device,
              "db_pool_size": _check_pool, "db_pool_timeout": _check_pool, "cookie_secure": _check_cookie_secure}


def _validate_top(settings: Settings) -> None:
    for check in dict.fromkeys(TOP_CHECKS.values()):
        check(settings)
    _check_device_fits_embedder(settings)


def _validate_email(settings: Settings) -> None:
    if settings.base_url:
        parts = urlsplit(settings.base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise BadInput(f"base_url must be an http(s) URL such as https://papers.example.org, "
                           f"got {settings.base_url[:80]!r}")
        settings.base_url = settings.base_url.rstrip("/")
    smtp = settings.smtp
    if not 0 < smtp.port < 65536:
        raise BadInput(f"smtp.port must be between 1 and 65535, got {smtp.port}")
    if smtp.timeout <= 0:
        raise BadInput("smtp.timeout must be positive")
    if smtp.ca_file and not Path(smtp.ca_file).is_file():
        raise BadInput(f"smtp.ca_file: no such file {smtp.ca_file[:200]}")
    if smtp.host:  # email on: everything an email needs, checked now rather than at 07:00
        if not settings.base_url:
            raise BadInput("smtp.host is set, so set base_url too (where readers reach this site, e.g. "
                           "https://papers.example.org): links in emails need it, and a link built from a "
                           "request's Host header could point anywhere")
        if "@" not in smtp.sender:
            raise BadInput(f"smtp.host is set, so set smtp.sender to a From address such as "
                           f"'papersift <digest@example.org>' (got {smtp.sender[:80]!r})")


def _validate_digest(digest: DigestSettings) -> None:
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


def _validate_schedule(schedule: ScheduleSettings) -> None:
    for value in schedule.harvest_times:
        parse_time(value, "schedule.harvest_times")
    unknown = set(schedule.sources) - {"hf", "arxiv", "arxiv-listings"}
    if unknown:
        raise BadInput(f"schedule.sources: unknown source {sorted(unknown)[0]!r}: use hf, arxiv, arxiv-listings")
    if not 1 <= schedule.hf_days <= 30:
        raise BadInput("schedule.hf_days must be between 1 and 30")
    if len(schedule.arxiv_categories) > 20:
        raise BadInput("schedule.arxiv_categories: at most 20 categories")
    for category in schedule.arxiv_categories:
        check_category(category)
    if "arxiv-listings" in schedule.sources and not schedule.arxiv_categories:
        raise BadInput("schedule.sources has arxiv-listings: name the categories in schedule.arxiv_categories")
