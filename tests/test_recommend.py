"""The recommender core (issue 11, part A) on a small real sample of arXiv listings, and
`papersift eval-recs` as a user runs it.

The sample's vectors are the shared folder's precomputed ones (the default model, the vectors
eval-recs uses), so these tests take seconds rather than embedding papers first.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from papersift.errors import BadInput
from papersift.evaluate.recs_data import ARXIV_FILE, VECTORS, read_vectors
from papersift.model import Paper
from papersift.recommend import FeatureSpace, Reader, Recommender, RecParams

from .helpers import SHARED

ARXIV = SHARED / ARXIV_FILE
SAMPLE = 3000  # the first listings (2025-03-18 onwards)


def _need_data():
    if not ARXIV.is_file() or not (SHARED / VECTORS).is_file():
        pytest.skip(f"{ARXIV} or {SHARED / VECTORS} not found: the recommender tests need the real listings "
                    "and their precomputed vectors (../shared/data)")


@pytest.fixture(scope="module")
def sample():
    _need_data()
    papers = []
    with gzip.open(ARXIV, "rt") as handle:
        for line in itertools.islice(handle, SAMPLE):
            row = json.loads(line)
            papers.append(Paper(id=row["id"], title=row["title"], abstract=row["abstract"], authors=row["authors"],
                                categories=row["categories"], published=row["first_listing_date"] + "T00:00:00Z"))
    vectors = read_vectors(SHARED, [p.id for p in papers])
    return papers, vectors, FeatureSpace(papers, vectors)


@pytest.fixture(scope="module")
def author(sample):
    """A real author with >= 8 papers in the sample whose papers hang together (one reader's taste):
    their older papers are the likes, the newer ones what the model should find."""
    papers, vectors, space = sample
    counts = Counter(a for p in papers for a in p.authors)

    def coherence(name):
        rows = [i for i, p in enumerate(papers) if name in p.authors]
        unit = space.embeddings[rows]
        return float((unit @ unit.T).mean())

    name = max((a for a, n in counts.items() if n >= 8), key=coherence)
    own = sorted((p for p in papers if name in p.authors), key=lambda p: (p.published, p.id))
    return name, [p.id for p in own[:5]], [p.id for p in own[5:]]


def _candidates(space, held_out, papers, author_name, n=300):
    others = [p.id for p in papers if author_name not in p.authors]
    rng = np.random.default_rng(0)
    return list(held_out) + [others[i] for i in rng.choice(len(others), size=n, replace=False)]


def test_ranks_held_out_positives_above_random_papers(sample, author):
    papers, _, space = sample
    name, liked, held_out = author
    candidates = _candidates(space, held_out, papers, name)
    picks = [r.paper_id for r in Recommender(space).recommend(Reader(positives=liked), candidates, k=len(candidates))]
    ranks = [picks.index(pid) for pid in held_out]
    # Among 300 random papers each held-out paper would sit at rank ~150 by chance.
    assert np.median(ranks) < 30, (name, ranks)
    assert not set(liked) & set(picks)


def test_not_for_me_pushes_the_paper_and_its_near_duplicates_down(sample, author):
    papers, _, space = sample
    name, liked, held_out = author
    candidates = _candidates(space, held_out, papers, name)
    rec = Recommender(space)
    before = [r.paper_id for r in rec.recommend(Reader(positives=liked), candidates, k=len(candidates))]
    # The reader dismisses the best-ranked paper by someone else; its near-duplicates are the three
    # other candidates closest to it in both views (meaning and words), the author's own left out.
    dismissed = next(p for p in before if p not in held_out)
    others = [c for c in candidates if c not in held_out and c != dismissed]
    rows, row = space.rows(others), space.row[dismissed]
    closeness = space.embeddings[rows] @ space.embeddings[row] + (space.words[rows] @ space.words[row].T).toarray().ravel()
    near = [others[i] for i in np.argsort(-closeness)[:3]]
    after = [r.paper_id for r in rec.recommend(Reader(positives=liked, negatives=[dismissed]), candidates,
                                               k=len(candidates))]
    assert dismissed not in after  # a dismissed paper is never shown again
    before = [p for p in before if p != dismissed]  # so that its removal alone moves nothing
    moved = [after.index(p) - before.index(p) for p in near]
    assert all(m > 0 for m in moved), (near, moved)
    held = [after.index(p) - before.index(p) for p in held_out]
    assert np.mean(held) < np.mean(moved)  # the reader's own kind of paper keeps its place better


def test_explanations_name_real_liked_papers_and_real_words(sample, author):
    papers, _, space = sample
    name, liked, held_out = author
    by_id = {p.id: p for p in papers}
    recs = Recommender(space).recommend(Reader(positives=liked), _candidates(space, held_out, papers, name), k=10)
    assert len(recs) == 10
    for rec in recs:
        assert rec.why.liked and {pid for pid, _ in rec.why.liked} <= set(liked)
        sims = [s for _, s in rec.why.liked]
        assert sims == sorted(sims, reverse=True)
        assert rec.why.words, rec.paper_id
        text = f"{by_id[rec.paper_id].title} {by_id[rec.paper_id].abstract}".lower()
        for word, weight in rec.why.words:
            assert weight > 0 and all(part in text for part in word.split()), (word, rec.paper_id)


def test_author_names_are_never_features(sample):
    papers, vectors, space = sample
    # A made-up name on one paper in ten: frequent enough to survive min_df and max_df if names were read.
    renamed = [replace(p, authors=["Qwertyx Zyxwvut"]) if i % 10 == 0 else p for i, p in enumerate(papers)]
    other = FeatureSpace(renamed, vectors)
    assert not any("qwertyx" in w or "zyxwvut" in w for w in other.vocabulary)
    assert (space.words != other.words).nnz == 0
    reader = Reader(positives=[papers[0].id, papers[10].id])
    candidates = [p.id for p in papers[100:400]]
    assert ([r.paper_id for r in Recommender(space).recommend(reader, candidates)]
            == [r.paper_id for r in Recommender(other).recommend(reader, candidates)])


def test_cold_reader_and_bad_input(sample):
    papers, vectors, space = sample
    followed = Reader(followed_categories=["cs.RO"])
    recs = Recommender(space, RecParams()).recommend(followed, [p.id for p in papers[:500]], k=5)
    assert len(recs) == 5 and all("cs.RO" in space.categories[space.row[r.paper_id]] for r in recs)
    with pytest.raises(BadInput):
        FeatureSpace(papers[:10], vectors[:9])
    with pytest.raises(BadInput):
        Reader(positives="2503.11731")


def _cli(*args):
    env = {**os.environ, "PAPERSIFT_SHARED_DATA": str(SHARED)}
    return subprocess.run([sys.executable, "-m", "papersift.cli", "eval-recs", *args], capture_output=True,
                          text=True, env=env, timeout=600)


@pytest.mark.slow
def test_eval_recs_runs_end_to_end_and_prints_the_table():
    _need_data()
    proc = _cli("--cutoff", "2025-04-15", "--limit", "4")
    assert proc.returncode == 0, proc.stderr[-2000:]
    for name in ("random", "recency", "category prior", "BM25", "arxiv-sanity-lite", "MiniLM centroid",
                 "papersift", "embedding only", "tf-idf only", "without negatives", "no shared co-author",
                 "paired bootstrap"):
        assert name in proc.stdout, name
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("args, message", [
    (["--cutoff", "2026-02-30"], "--cutoff must be a date"),
    (["--cutoff", "yesterday"], "--cutoff must be a date"),
    (["--cutoff", "2026-03-01", "--limit", "0"], "--limit must be at least 1"),
    (["--limit", "5"], "--cutoff"),
])
def test_eval_recs_bad_input_exits_2_with_a_message(args, message):
    proc = _cli(*args)
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert message in proc.stderr + proc.stdout and "Traceback" not in proc.stderr


def test_eval_recs_cutoff_outside_the_listings_exits_2():
    _need_data()
    proc = _cli("--cutoff", "2030-01-01", "--limit", "3")
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "no paper is listed from 2030-01-01" in proc.stderr and "Traceback" not in proc.stderr


def test_an_extended_space_scores_outside_papers_with_the_fitted_words(sample, author):
    """A reader's liked papers outside the shared window join a copy of its space with the window's
    vocabulary: the copy ranks as a space fitted with them would, and the shared space is unchanged."""
    papers, vectors, _ = sample
    name, liked, held_out = author
    by_id = {p.id: i for i, p in enumerate(papers)}
    window = [i for i, p in enumerate(papers) if p.id not in liked]
    base = FeatureSpace([papers[i] for i in window], vectors[window])
    extra = [papers[by_id[pid]] for pid in liked]
    grown = base.extended(extra, vectors[[by_id[pid] for pid in liked]])
    assert len(base) == len(window) and len(grown) == len(window) + len(liked)
    assert list(grown.rows(liked)) == list(range(len(window), len(grown)))
    fresh = base.vectorizer.transform([f"{p.title}. {p.abstract}" for p in extra])
    assert abs(grown.words[len(window):] - fresh).max() < 1e-6
    assert np.allclose(np.linalg.norm(grown.embeddings[len(window):], axis=1), 1.0, atol=1e-5)
    again = base.extended(extra, vectors[[by_id[pid] for pid in liked]])  # the words cache gives the same rows
    assert abs(again.words - grown.words).max() == 0
    recs = Recommender(grown).recommend(Reader(positives=liked), _candidates(grown, held_out, papers, name), k=10)
    assert {r.paper_id for r in recs} & set(held_out)  # the liked papers' words and vectors still teach
