"""The models, datasets and Spaces on Hugging Face that link a paper: its ``/api/papers/{id}`` answer.

The feed (``/api/daily_papers``) does not carry them; the paper's own answer does, beside the fields
the feed has::

    {"id", "title", ..., "githubRepo"?, "githubStars"?,
     "linkedModels": [{"id": "meta-llama/Llama-Guard-3-8B", "author", "authorData", "downloads",
                       "likes", "pipeline_tag", "lastModified", "private", "gated", "repoType": "model", ...}],
     "numTotalModels": 72,
     "linkedDatasets": [{"id", "author", "downloads", "likes", "lastModified", "repoType": "dataset", ...}],
     "numTotalDatasets": 15,
     "linkedSpaces": [{"id": "nanotron/ultrascale-playbook", "emoji": "🌌", "title"?, "shortDescription"?,
                       "likes"?, "running", "featured", ...}],
     "numTotalSpaces": 324}

(as ``huggingface_hub.PaperInfo`` reads it: ``linked_models``, ``num_total_models``, ...; a list may be
shorter than its total). :func:`parse_hf_links` keeps, per kind, the total and the first
:data:`TOP_LINKED` repositories with the few fields a page shows; a repository whose id is not
``owner/name`` is dropped, so every link it makes is a real huggingface.co path.
"""

from __future__ import annotations

import re
from typing import Any

from papersift.errors import BadInput
from papersift.ingest.fields import clean_text, count, require_object

TOP_LINKED = 10
# kind as Paper.hf_links keeps it, HF's list key, HF's total key
LINKED_KEYS = (("models", "linkedModels", "numTotalModels"), ("datasets", "linkedDatasets", "numTotalDatasets"),
               ("spaces", "linkedSpaces", "numTotalSpaces"))
_REPO_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,95}/[A-Za-z0-9_][A-Za-z0-9._-]{0,95}", re.ASCII)
_TEXT_FIELDS = {"models": (("pipeline_tag", 100),), "datasets": (),
                "spaces": (("emoji", 16), ("title", 200), ("shortDescription", 300))}


def parse_hf_links(obj: Any) -> dict[str, dict] | None:
    """``Paper.hf_links`` from an ``/api/papers/{id}`` answer; None when it has none of the keys (an
    answer that says nothing about them must not erase what is known)."""
    obj = require_object(obj, "paper")
    if not any(key in obj for _, items, total in LINKED_KEYS for key in (items, total)):
        return None
    links: dict[str, dict] = {}
    for kind, items_key, total_key in LINKED_KEYS:
        items = obj.get(items_key) or []
        if not isinstance(items, list):
            raise BadInput(f"{items_key} must be a list, got {type(items).__name__}")
        top = [repo for repo in (_repository(kind, item) for item in items) if repo is not None]
        total = count(obj.get(total_key), total_key)
        links[kind] = {"total": max(total or 0, len(top)), "top": top[:TOP_LINKED]}
    return links


def _repository(kind: str, item: Any) -> dict | None:
    """One linked repository, or None when it is not one (no ``owner/name`` id, a bad count)."""
    if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not _REPO_ID.fullmatch(item["id"]):
        return None
    try:
        repo: dict[str, Any] = {"id": item["id"], "likes": count(item.get("likes"), "likes"),
                                "downloads": count(item.get("downloads"), "downloads")}
        for name, limit in _TEXT_FIELDS[kind]:
            value = item.get(name)
            repo[name] = clean_text(value, name, limit) if isinstance(value, str) else None
    except BadInput:
        return None
    return {key: value for key, value in repo.items() if value is not None}
