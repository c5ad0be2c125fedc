"""The author-as-user protocol's data: papers with listing dates, their precomputed
vectors, and the users a cutoff date defines.

A user is a normalised author name with at least 5 papers listed before the cutoff T and at
least one listed in the 30 days from T; the profile is up to 20 of their latest papers before T;
the candidates are every paper listed in those 30 days; relevant = the user's own window papers.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import numpy as np

from papersift.errors import BadInput
from papersift.model import Paper

ARXIV_FILE = "arxiv-cs-2025-2026.jsonl.gz"
HF_FILE = "hf-daily-papers-2024-2026.jsonl.gz"
VECTORS, VECTOR_IDS = "embeddings/papers-80k-minilm-int8.f16.npy", "embeddings/papers-80k-ids.txt.gz"
WINDOW_DAYS, MIN_BEFORE, PROFILE_SIZE = 30, 5, 20


def normal_name(name: str) -> str:
    """"José  García-López" and "Jose Garcia Lopez" are one user: accents, case, punctuation and
    spacing removed. Different people with one name merge too (a known limit of the protocol)."""
    text = unicodedata.normalize("NFKD", name)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return " ".join(re.sub(r"[^a-z]+", " ", text).split())


def parse_cutoff(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise BadInput(f"--cutoff must be a date YYYY-MM-DD, not {str(text)[:40]!r}") from None


@dataclass
class EvalUser:
    name: str
    profile: list[str]  # up to 20 latest paper ids before T, newest first
    relevant: set[str]  # their papers in the window
    coauthors: set[str]  # normalised names on the profile papers, the user left out


@dataclass
class Corpus:
    papers: list[Paper]  # listed before T + 30 days, with ``published`` = first listing date
    listed: dict[str, str]  # id -> first listing date
    names: dict[str, frozenset[str]]  # id -> normalised author names (never features: users and co-authors)


def read_papers(data_dir: Path, until: str) -> Corpus:
    """Papers first listed before ``until``, with upvotes from the HF archive where it has them."""
    path = data_dir / ARXIV_FILE
    if not path.is_file():
        raise BadInput(f"{path} not found: eval-recs reads the arXiv listings in ../shared/data (or --data DIR)")
    votes = _hf_upvotes(data_dir / HF_FILE)
    papers, listed, names = [], {}, {}
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            day = row.get("first_listing_date") or ""
            if not day or day >= until or row["id"] in listed:
                continue
            papers.append(Paper(id=row["id"], title=row.get("title"), abstract=row.get("abstract"),
                                authors=list(row.get("authors") or []), categories=list(row.get("categories") or []),
                                published=day + "T00:00:00Z", upvotes=votes.get(row["id"])))
            listed[row["id"]] = day
            names[row["id"]] = frozenset(n for n in map(normal_name, row.get("authors") or []) if n)
    return Corpus(papers, listed, names)


def _hf_upvotes(path: Path) -> dict[str, int]:
    """The highest upvote count each paper had on a Daily Papers morning (the community prior)."""
    votes: dict[str, int] = {}
    if not path.is_file():
        return votes
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            row = json.loads(line)
            if row.get("arxiv_id") and row.get("upvotes") is not None:
                votes[row["arxiv_id"]] = max(votes.get(row["arxiv_id"], 0), int(row["upvotes"]))
    return votes


def read_vectors(data_dir: Path, ids: list[str]) -> np.ndarray:
    """The product model's vectors for ``ids`` (float32 rows, aligned), from the shared folder."""
    matrix_path, ids_path = data_dir / VECTORS, data_dir / VECTOR_IDS
    if not matrix_path.is_file() or not ids_path.is_file():
        raise BadInput(f"{matrix_path.parent} has no {matrix_path.name} / {ids_path.name}: eval-recs uses the "
                       "precomputed vectors of the default model (see ../shared/data/README.md) rather than "
                       "embedding 75K papers again")
    with gzip.open(ids_path, "rt") as handle:
        position = {line.strip(): i for i, line in enumerate(handle) if line.strip()}
    missing = [i for i in ids if i not in position]
    if missing:
        raise BadInput(f"{len(missing)} papers have no precomputed vector (first: {missing[0]}); "
                       "the embeddings folder does not match the listings file")
    matrix = np.load(matrix_path, mmap_mode="r")
    return np.asarray(matrix[[position[i] for i in ids]], dtype=np.float32)


def window_bounds(cutoff: date) -> tuple[str, str]:
    return cutoff.isoformat(), (cutoff + timedelta(days=WINDOW_DAYS)).isoformat()


def select_users(corpus: Corpus, cutoff: date) -> list[EvalUser]:
    """Every user the cutoff defines, sorted by name (a stable order for seeded sampling)."""
    start, end = window_bounds(cutoff)
    before: dict[str, list[str]] = defaultdict(list)
    during: dict[str, set[str]] = defaultdict(set)
    for pid, day in corpus.listed.items():
        for name in corpus.names[pid]:
            if day < start:
                before[name].append(pid)
            elif day < end:
                during[name].add(pid)
    users = []
    for name in sorted(during):
        papers = before.get(name, [])
        if len(papers) < MIN_BEFORE:
            continue
        profile = sorted(papers, key=lambda p: (corpus.listed[p], p), reverse=True)[:PROFILE_SIZE]
        coauthors = set().union(*(corpus.names[p] for p in profile)) - {name}
        users.append(EvalUser(name, profile, during[name], coauthors))
    return users


def sample_users(users: list[EvalUser], limit: int | None, seed: int) -> list[EvalUser]:
    """``limit`` users drawn with a seeded generator (all of them without a limit)."""
    if limit is None or limit >= len(users):
        return users
    picks = np.random.default_rng(seed).choice(len(users), size=limit, replace=False)
    return [users[i] for i in sorted(picks)]
