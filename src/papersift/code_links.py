"""Repository links a paper's abstract or arXiv comment names: GitHub, GitLab and Hugging Face.

Authors put the code in the text ("The ConvLLaVA model series are publicly available at
https://github.com/alibaba/conv-llava."), often with no link anywhere else. :func:`find_code_links`
reads it back as repositories:

* One regular expression finds each mention of a host (``github.com``, ``gitlab.com``,
  ``huggingface.co`` / ``hf.co``, with or without a scheme or ``www.``) and the run of URL characters
  after it. It is a literal alternation followed by one character class, so it runs in linear time;
  the run stops at whitespace, brackets, quotes and backslashes (LaTeX's ``\\url{...}``,
  ``\\href{...}{...}``; its escaped ``\\_`` is read as ``_`` first).
* The standard library's ``urllib.parse.urlsplit`` then takes the path apart (dropping any query or
  fragment), and each host's rule keeps only a repository: GitHub ``owner/name`` (a deeper path such
  as ``/tree/main/x`` names the same repository), GitLab ``group[/subgroup...]/name`` up to GitLab's
  ``/-/`` separator, Hugging Face ``owner/name`` for a model and ``datasets/`` or ``spaces/`` before
  it for the others. A user or organisation page, a site page (``github.com/topics``,
  ``huggingface.co/papers``, ``/collections``) is not a repository and is skipped.
* Sentence punctuation after a URL ("... at github.com/a/b.") and a ``.git`` ending are cut off.

Links come back in the order the text gives them (the abstract first), each repository once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Kind = Literal["github", "gitlab", "model", "dataset", "space"]
CODE_HOSTS: tuple[Kind, ...] = ("github", "gitlab")  # code proper; the others are Hugging Face repositories

MAX_SCAN_CHARS = 20_000  # a comment or abstract is far shorter; the rest of a hostile one is not read
MAX_LINKS = 20

_LATEX_ESCAPE = re.compile(r"\\([_%&#~])")
_MENTION = re.compile(r"(?<![\w.@-])(?:www\.)?(github\.com|gitlab\.com|huggingface\.co|hf\.co)/"
                      r"([^\s<>\"'`(){}\[\]|\\^]{1,300})", re.IGNORECASE | re.ASCII)
_TRAILING = ".,;:!?*'\"~"
_GITHUB_OWNER = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})", re.ASCII)
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}", re.ASCII)
_GITHUB_SITE = frozenset({
    "about", "apps", "collections", "contact", "customer-stories", "enterprise", "events", "explore", "features",
    "github", "issues", "join", "login", "marketplace", "new", "notifications", "orgs", "pricing", "pulls",
    "readme", "resources", "search", "security", "settings", "site", "solutions", "sponsors", "team", "topics",
    "trending", "users"})
_GITLAB_SITE = frozenset({"explore", "help", "users", "dashboard", "groups", "projects", "search", "-"})
_HF_SITE = frozenset({
    "api", "blog", "buckets", "chat", "collections", "course", "docs", "enterprise", "join", "learn", "login",
    "models", "new", "new-dataset", "new-space", "organizations", "papers", "posts", "pricing", "privacy",
    "settings", "tasks", "terms-of-service", "welcome"})
_HF_KINDS: dict[str, Kind] = {"datasets": "dataset", "spaces": "space"}
_HF_PATHS: dict[Kind, str] = {"model": "", "dataset": "datasets/", "space": "spaces/"}


@dataclass(frozen=True)
class CodeLink:
    """One repository: its canonical https URL, where it lives, and its ``owner/name`` path."""

    url: str
    kind: Kind
    name: str

    @property
    def is_code(self) -> bool:
        return self.kind in CODE_HOSTS


def find_code_links(*texts: str | None) -> list[CodeLink]:
    """The repositories the texts link, in order, each once (compared case-insensitively)."""
    found: dict[str, CodeLink] = {}
    for text in texts:
        if not text:
            continue
        plain = _LATEX_ESCAPE.sub(r"\1", text[:MAX_SCAN_CHARS])
        for match in _MENTION.finditer(plain):
            link = _repository(match.group(1).lower(), match.group(2))
            if link is not None:
                found.setdefault(link.url.lower(), link)
            if len(found) >= MAX_LINKS:
                return list(found.values())
    return list(found.values())


def _segments(rest: str) -> list[str]:
    path = urlsplit("https://host/" + rest.rstrip(_TRAILING)).path
    return [s for s in path.split("/") if s]


def _strip_name(name: str) -> str:
    name = name.rstrip(_TRAILING)
    return name[:-4] if name.lower().endswith(".git") else name


def _repository(host: str, rest: str) -> CodeLink | None:
    segments = _segments(rest)
    if host == "github.com":
        return _github(segments)
    if host == "gitlab.com":
        return _gitlab(segments)
    return _hugging_face(segments)


def _github(segments: list[str]) -> CodeLink | None:
    if len(segments) < 2 or segments[0].lower() in _GITHUB_SITE:
        return None
    owner, name = segments[0], _strip_name(segments[1])
    if not (_GITHUB_OWNER.fullmatch(owner) and _NAME.fullmatch(name)) or name in (".", ".."):
        return None
    return CodeLink(f"https://github.com/{owner}/{name}", "github", f"{owner}/{name}")


def _gitlab(segments: list[str]) -> CodeLink | None:
    if segments and segments[0].lower() in _GITLAB_SITE:
        return None
    path = segments[:segments.index("-")] if "-" in segments else segments
    path = path[:20]  # GitLab nests groups 20 deep at most
    if len(path) < 2:
        return None
    path[-1] = _strip_name(path[-1])
    if not all(_NAME.fullmatch(part) for part in path):
        return None
    name = "/".join(path)
    return CodeLink(f"https://gitlab.com/{name}", "gitlab", name)


def _hugging_face(segments: list[str]) -> CodeLink | None:
    kind: Kind = "model"
    if segments and segments[0].lower() in _HF_KINDS:
        kind, segments = _HF_KINDS[segments[0].lower()], segments[1:]
    elif segments and segments[0].lower() in _HF_SITE:
        return None
    if len(segments) < 2:
        return None
    owner, name = segments[0], _strip_name(segments[1])
    if not (_NAME.fullmatch(owner) and _NAME.fullmatch(name)):
        return None
    return CodeLink(f"https://huggingface.co/{_HF_PATHS[kind]}{owner}/{name}", kind, f"{owner}/{name}")
