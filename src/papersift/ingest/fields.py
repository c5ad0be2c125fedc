"""Field normalisation every ingest parser shares: one raw value in, one checked value out.

The helpers (`clean_text`, `utc_timestamp`, `count`...) turn one raw field into the value a
:class:`~papersift.model.Paper` holds, or raise :class:`BadInput` naming the field: parsers
build on them so that no KeyError/TypeError/ValueError ever escapes a parser, whether the
record came from a JSONL archive, an OAI-PMH page or a live JSON API.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Literal, overload

from papersift.errors import BadInput
from papersift.ids import parse_arxiv_id

# Field limits, far above anything real (the archives' longest: title 226 characters, abstract 3,488,
# author name 512): a value beyond them is a broken or hostile record that would bloat every page.
MAX_TITLE_CHARS = 1000
MAX_TEXT_CHARS = 100_000  # abstract, comment, AI summary
MAX_NAME_CHARS = 1000  # one author, an organisation
MAX_REF_CHARS = 2048  # identifiers and URLs (a GitHub repo, a project page)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def field(obj: dict, name: str, required: bool = False) -> Any:
    """``obj[name]`` or None; a missing/None required field is a BadInput, not a KeyError."""
    value = obj.get(name)
    if required and (value is None or value == ""):
        raise BadInput(f"missing field {name!r}")
    return value


def require_object(obj: Any, what: str = "record") -> dict:
    if not isinstance(obj, dict):
        raise BadInput(f"{what} must be a JSON object, got {type(obj).__name__}")
    return obj


def paper_id(raw: Any, name: str) -> tuple[str, int | None]:
    """``(canonical arXiv id, version)`` from field ``name``; the message names the field."""
    if raw is None or raw == "":
        raise BadInput(f"missing field {name!r}")
    try:
        return parse_arxiv_id(raw)
    except BadInput as exc:
        raise BadInput(f"{name}: {exc.message}") from None


def _string(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a string, got {type(value).__name__}")
    if "\x00" in value:  # SQLite, tantivy and browsers each treat NUL differently: refuse it
        raise BadInput(f"{name} contains a NUL character")
    return value


def opt_str(value: Any, name: str, max_chars: int = MAX_REF_CHARS) -> str | None:
    """Identifiers and URLs: stripped but not collapsed; '' -> None."""
    if value is None:
        return None
    return _limit(_string(value, name).strip(), name, max_chars) or None


def clean_text(value: Any, name: str, max_chars: int | None = None) -> str | None:
    """Collapse all whitespace runs to one space (arXiv hard-wraps at ~80 columns); '' -> None."""
    if value is None:
        return None
    text = " ".join(_string(value, name).split())
    return _limit(text, name, max_chars) or None


def title_text(value: Any, name: str) -> str:
    """A paper's title: required (a paper without one cannot be listed), at most MAX_TITLE_CHARS."""
    text = clean_text(value, name, MAX_TITLE_CHARS)
    if text is None:
        raise BadInput(f"missing field {name!r}")
    return text


def _limit(text: str, name: str, max_chars: int | None) -> str:
    if max_chars is not None and len(text) > max_chars:
        raise BadInput(f"{name} is too long ({len(text)} characters, at most {max_chars})")
    return text


def text_list(value: Any, name: str, max_chars: int = MAX_NAME_CHARS) -> list[str]:
    """A list of strings (authors, categories), each cleaned; empty entries dropped."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadInput(f"{name} must be a list, got {type(value).__name__}")
    out = []
    for i, item in enumerate(value):
        text = clean_text(item, f"{name}[{i}]", max_chars)
        if text:
            out.append(text)
    return out


def count(value: Any, name: str) -> int | None:
    """A non-negative integer count; bools and floats are refused (True is not 1 vote)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadInput(f"{name} must be a non-negative integer, got {value!r:.40}")
    if value < 0:
        raise BadInput(f"{name} must be a non-negative integer, got {value}")
    return value


@overload
def utc_timestamp(value: Any, name: str, required: Literal[True]) -> str: ...
@overload
def utc_timestamp(value: Any, name: str, required: bool = False) -> str | None: ...
def utc_timestamp(value: Any, name: str, required: bool = False) -> str | None:
    """Any ISO 8601 date or time -> ``YYYY-MM-DDTHH:MM:SSZ`` in UTC.

    A bare date means midnight UTC; a time without offset is taken as UTC (arXiv and HF both
    publish UTC). The fixed format matters: the merge compares these strings to order sources.
    """
    if value is None or value == "":
        if required:
            raise BadInput(f"missing field {name!r}")
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if _DAY.match(text):
                moment = datetime.strptime(text, "%Y-%m-%d")
            else:
                moment = datetime.fromisoformat(text)
        except ValueError:
            raise BadInput(f"{name} is not an ISO 8601 date/time: {text[:60]!r}") from None
    else:
        raise BadInput(f"{name} must be an ISO 8601 string, got {type(value).__name__}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    try:
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, ValueError):
        raise BadInput(f"{name} is out of range: {value!r:.60}") from None


@overload
def iso_day(value: Any, name: str, required: Literal[True] = True) -> str: ...
@overload
def iso_day(value: Any, name: str, required: bool) -> str | None: ...
def iso_day(value: Any, name: str, required: bool = True) -> str | None:
    """A calendar day ``YYYY-MM-DD`` (feed days, listing days), checked to be a real date."""
    if value is None or value == "":
        if required:
            raise BadInput(f"missing field {name!r}")
        return None
    if not isinstance(value, str) or not _DAY.match(value.strip()):
        raise BadInput(f"{name} must be a date YYYY-MM-DD, got {value!r:.40}")
    try:
        datetime.strptime(value.strip(), "%Y-%m-%d")
    except ValueError:
        raise BadInput(f"{name} is not a real date: {value!r}") from None
    return value.strip()
