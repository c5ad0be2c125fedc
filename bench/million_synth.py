"""The recipe of the million-paper bench corpus: synthetic papers and vectors grown from the 80K real ones.

Used by ``bench/million_corpus.py`` (which runs the phases); everything here is a pure function of
the real data and one seed, so a killed build re-derives exactly the same papers and vectors.

Recipe, for synthetic paper ``i`` (0-based) of ``n``:

* **base**: a real paper drawn uniformly with replacement from the 80,317 (``plan["base"]``);
  its authors, categories, comment and, when it is on the Daily Papers feed, its organisation,
  upvotes, comments, GitHub repo and AI summary are kept.
* **id**: new-style ``YYMM.NNNNN`` in months 1501-2312 (108 months, round-robin, numbers from
  00001 up), skipping the 23 real ids in that range: valid for ``ids.parse_arxiv_id`` and never
  a real paper of this corpus.
* **dates**: every date of the base (first listing, listing days, arXiv time, feed day, capture
  time) moves by the same number of days ``delta``, chosen so that the first listing day lands on
  ``SPAN_START + (base_day - SPAN_START + offset) mod SPAN_DAYS`` with ``offset`` uniform in
  [0, SPAN_DAYS): the synthetic days are uniform over 2024-01-01..2026-08-31, and the base's own
  lags (listing to feed day) are kept.
* **text**: the title is kept; the abstract is the base's sentences with one of them (uniform
  position) replaced by a uniformly chosen sentence of another paper with the same primary
  category (papers without a category form one group); a one-sentence abstract gets the donor
  sentence appended. BM25 therefore sees near-duplicates, not exact ties.
* **vector**: ``normalize(base_vector + SIGMA * g)``, ``g ~ N(0, I_384)`` from
  ``default_rng([seed, chunk])``. For a unit base, ``E|SIGMA g|^2 = 384 SIGMA^2 = 0.384`` and
  the cosine to the base is ``1 / sqrt(1 + 0.384) = 0.850``; two siblings of one base meet at
  about 0.72.
"""

from __future__ import annotations

import gzip
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Callable

import numpy as np

SPAN_START = date(2024, 1, 1)
SPAN_END = date(2026, 8, 31)
SPAN_DAYS = (SPAN_END - SPAN_START).days + 1
DIM = 384
SIGMA = float(np.sqrt(0.001))  # 0.0316228: cos(base, synthetic) = 1 / sqrt(1 + 384 * 0.001) = 0.850
MONTHS = [f"{yy:02d}{mm:02d}" for yy in range(15, 24) for mm in range(1, 13)]  # 1501..2312
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")

Progress = Callable[[int], None] | None


@dataclass
class RealCorpus:
    """The 80,317 real papers in the order of the shared embeddings file."""

    ids: list[str]
    arxiv: dict[str, dict]  # id -> arxiv-jsonl line
    hf: dict[str, dict]  # id -> first hf-daily line of the paper
    sentences: list[list[str]]  # per paper, its abstract's sentences
    group: np.ndarray  # per paper, the index of its primary-category group
    members: list[np.ndarray]  # per group, the papers in it


def load_real(data: Path) -> RealCorpus:
    with gzip.open(data / "embeddings" / "papers-80k-ids.txt.gz", "rt") as fh:
        ids = [line.strip() for line in fh if line.strip()]
    arxiv = {}
    with gzip.open(data / "arxiv-cs-2025-2026.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            arxiv[obj["id"]] = obj
    hf: dict[str, dict] = {}
    with gzip.open(data / "hf-daily-papers-2024-2026.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            obj = json.loads(line)
            hf.setdefault(obj["arxiv_id"], obj)
    sentences, primary = [], []
    for pid in ids:
        rec = arxiv.get(pid) or hf[pid]
        sentences.append(split_sentences(rec.get("abstract") or ""))
        cats = (arxiv.get(pid) or {}).get("categories") or [""]
        primary.append(cats[0])
    names = sorted(set(primary))
    group = np.array([names.index(c) for c in primary], dtype=np.int32)
    members = [np.flatnonzero(group == g) for g in range(len(names))]
    return RealCorpus(ids, arxiv, hf, sentences, group, members)


def split_sentences(text: str) -> list[str]:
    text = " ".join(text.split())
    return [s for s in _SENTENCE.split(text) if s] if text else []


def synthetic_ids(n: int, taken: set[str]) -> list[str]:
    """``n`` new-style ids in months 1501-2312, round-robin over the months, none in ``taken``."""
    out, j = [], 0
    while len(out) < n:
        pid = f"{MONTHS[j % len(MONTHS)]}.{j // len(MONTHS) + 1:05d}"
        j += 1
        if pid not in taken:
            out.append(pid)
    return out


def make_plan(real: RealCorpus, n: int, seed: int) -> dict[str, np.ndarray]:
    """Every random choice of the recipe, drawn once from ``seed``."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, len(real.ids), n, dtype=np.int64)
    offset = rng.integers(0, SPAN_DAYS, n, dtype=np.int64)
    groups = real.group[base]
    sizes = np.array([len(m) for m in real.members])[groups]
    pick = (rng.random(n) * sizes).astype(np.int64)
    donor = np.array([real.members[g][k] for g, k in zip(groups, pick, strict=True)], dtype=np.int64)
    clash = (donor == base) & (sizes > 1)  # another paper, not the base itself
    donor[clash] = [real.members[g][(k + 1) % s] for g, k, s in zip(groups[clash], pick[clash], sizes[clash],
                                                                      strict=True)]
    return {"base": base.astype(np.int32), "offset": offset.astype(np.int32), "donor": donor.astype(np.int32),
            "slot": rng.random(n).astype(np.float32), "line": rng.random(n).astype(np.float32)}


def _abstract(real: RealCorpus, plan: dict, i: int) -> str:
    own = list(real.sentences[plan["base"][i]])
    given = real.sentences[plan["donor"][i]]
    if not given:
        return " ".join(own)
    extra = given[int(plan["line"][i] * len(given))]
    if len(own) >= 2:
        own[int(plan["slot"][i] * len(own))] = extra
    else:
        own.append(extra)
    return " ".join(own)


def _shift(day: str, delta: int) -> str:
    return (date.fromisoformat(day[:10]) + timedelta(days=delta)).isoformat()


def synthetic_records(real: RealCorpus, plan: dict, i: int, pid: str) -> tuple[dict, dict | None]:
    """The arxiv-jsonl line of synthetic paper ``i`` and, if its base is on the feed, its hf-daily line."""
    base_id = real.ids[plan["base"][i]]
    ax, hf = real.arxiv.get(base_id), real.hf.get(base_id)
    first = ax["first_listing_date"] if ax else hf["published_at"][:10]
    start = date.fromisoformat(first)
    new = SPAN_START + timedelta(days=((start - SPAN_START).days + int(plan["offset"][i])) % SPAN_DAYS)
    delta = (new - start).days
    title, abstract = (ax or hf)["title"], _abstract(real, plan, i)
    days = [_shift(d, delta) for d in (ax["listing_dates"] if ax else [first])]
    line = {"id": pid, "title": title, "abstract": abstract, "authors": (ax or hf)["authors"],
            "categories": ax["categories"] if ax else [], "comment": ax["comment"] if ax else None,
            "first_listing_date": new.isoformat(), "listing_dates": days}
    if hf is None:
        return line, None
    moved = dict(hf, arxiv_id=pid, title=title, abstract=abstract, feed_date=_shift(hf["feed_date"], delta))
    moved["published_at"] = _shift(hf["published_at"], delta) + hf["published_at"][10:]
    captured = datetime.fromisoformat(hf["captured_at"]) + timedelta(days=delta)
    moved["captured_at"] = captured.isoformat()
    if hf.get("submitted_on_daily_at"):
        moved["submitted_on_daily_at"] = _shift(hf["submitted_on_daily_at"], delta) + hf["submitted_on_daily_at"][10:]
    return line, moved


def write_synthetic(real: RealCorpus, plan: dict, ids: list[str], arxiv_path: Path, hf_path: Path,
                    progress: Progress = None) -> dict[str, int]:
    """Both JSONL.gz files, written to temporary names and renamed when complete (a kill leaves none)."""
    tmp_a, tmp_h = arxiv_path.with_suffix(".tmp"), hf_path.with_suffix(".tmp")
    counts = {"arxiv_lines": 0, "hf_lines": 0}
    with gzip.open(tmp_a, "wt", encoding="utf-8", compresslevel=3) as fa, \
            gzip.open(tmp_h, "wt", encoding="utf-8", compresslevel=3) as fh:
        for i, pid in enumerate(ids):
            line, hf = synthetic_records(real, plan, i, pid)
            fa.write(json.dumps(line, ensure_ascii=False) + "\n")
            counts["arxiv_lines"] += 1
            if hf is not None:
                fh.write(json.dumps(hf, ensure_ascii=False) + "\n")
                counts["hf_lines"] += 1
            if progress and i % 1000 == 999:
                progress(1000)
    tmp_a.replace(arxiv_path)
    tmp_h.replace(hf_path)
    return counts


def synthetic_vectors(real_vectors: np.ndarray, base: np.ndarray, seed: int, chunk: int) -> np.ndarray:
    """Unit float32 rows ``normalize(real[base] + SIGMA * g)`` for one chunk of the plan's bases."""
    rng = np.random.default_rng([seed, chunk])
    rows = real_vectors[base].astype(np.float32)
    rows += SIGMA * rng.standard_normal(rows.shape, dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


# ---------------------------------------------------------------- the geometry check
def top_k(matrix: np.ndarray, queries: np.ndarray, k: int, chunk: int = 100_000) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-``k`` cosines of unit ``queries`` over the rows of ``matrix`` (float16, maybe memory-mapped)."""
    best_s = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_i = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, len(matrix), chunk):
        scores = queries @ np.asarray(matrix[start:start + chunk], dtype=np.float32).T
        keep = min(k, scores.shape[1])
        part = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
        best_s = np.hstack([best_s, np.take_along_axis(scores, part, 1)])
        best_i = np.hstack([best_i, part + start])
        order = np.argsort(-best_s, axis=1)[:, :k]
        best_s, best_i = np.take_along_axis(best_s, order, 1), np.take_along_axis(best_i, order, 1)
    return best_s, best_i


def drop_self(scores: np.ndarray, index: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The top ``k`` of each query paper without the paper itself."""
    out_s, out_i = [], []
    for s, i, row in zip(scores, index, rows, strict=True):
        keep = i != row
        out_s.append(s[keep][:k])
        out_i.append(i[keep][:k])
    return np.array(out_s), np.array(out_i)


def quantiles(values: np.ndarray) -> dict[str, float]:
    qs = np.percentile(values, [1, 10, 50, 90, 99])
    return {"mean": round(float(np.mean(values)), 4), "min": round(float(np.min(values)), 4),
            **{f"p{p}": round(float(v), 4) for p, v in zip((1, 10, 50, 90, 99), qs, strict=True)},
            "max": round(float(np.max(values)), 4)}


def neighbour_stats(scores: np.ndarray, index: np.ndarray, family: np.ndarray | None,
                    query_family: np.ndarray | None) -> dict:
    """Top-1 and 10th cosines; with families, how much of the top 10 is copies of one real paper."""
    stats = {"top1_cos": quantiles(scores[:, 0]), "top10th_cos": quantiles(scores[:, 9])}
    if family is not None:
        stats["_index"] = index
        fam = family[index]
        stats["distinct_families_in_top10"] = quantiles(np.array([len(set(r)) for r in fam], dtype=np.float64))
        if query_family is not None:
            stats["own_family_share_of_top10"] = round(float(np.mean(fam == query_family[:, None])), 4)
    return stats
