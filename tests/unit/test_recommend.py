"""The recommender core on a small real sample of arXiv listings, and
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
from datetime import date

import numpy as np
import pytest

from papersift.errors import BadInput
from papersift.evaluate.recs_data import ARXIV_FILE, VECTORS, read_vectors
from papersift.model import Paper
from papersift.recommend import FeatureSpace, Reader, Recommender, RecParams
from papersift.recommend.features import paper_words
from papersift.recommend.ordering import PriorParams, mmr_order, prior
from papersift.recommend.reader import ModelParams, ReaderModel, sample_unseen, train
from papersift.recommend.recommender import explain

from ..helpers import SHARED

ARXIV = SHARED / ARXIV_FILE
SAMPLE = 3000  # the first listings (2025-03-18 onwards)


def _need_data():
    if not ARXIV.is_file() or not (SHARED / VECTORS).is_file():
        pytest.skip(f"{ARXIV} or {SHARED / VECTORS} not found: the recommender tests need the real listings "
                    "and their precomputed vectors (../shared/data)")


@pytest.fixture(scope="module")
def sample(shared_data):
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


def test_mmr_puts_a_different_paper_before_a_near_duplicate_of_the_top():
    """The reordering itself, worked by hand. Candidates (positions): 0 is about b, 1 about c, 2 and 3
    both about a (3 repeats 2). Relevance 1.0, 0.9, 0.8, 0.0 for 2, 3, 0, 1 (already in [0, 1]). At
    balance 0.7, after 2 leads: 3 gains .7 x .9 - .3 x 1 = .33 (it repeats 2), 0 gains .7 x .8 = .56,
    so 0 comes second and the near-duplicate third."""
    embeddings = np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0], [1, 0, 0]], dtype=np.float64)
    relevance = np.array([0.8, 0.0, 1.0, 0.9])
    assert mmr_order(embeddings, relevance, 0.7, top=4).tolist() == [2, 0, 3, 1]
    assert mmr_order(embeddings, relevance, 1.0, top=4).tolist() == [2, 3, 0, 1]  # relevance only
    # only the best `top` are reordered; the rest follow in relevance order
    assert mmr_order(embeddings, relevance, 0.7, top=2).tolist() == [2, 3, 0, 1]
    tail = np.vstack([embeddings, [[0, 1, 0], [0, 0, 1]]])
    assert mmr_order(tail, np.append(relevance, [-1.0, -0.5]), 0.7, top=4).tolist() == [2, 0, 3, 1, 5, 4]
    # three candidates are enough to diversify: a balance of 0.5 weighs the repeat as much as relevance
    three = embeddings[[0, 2, 3]]
    assert mmr_order(three, np.array([0.8, 1.0, 0.9]), 0.5, top=3).tolist() == [1, 0, 2]
    assert mmr_order(three[:2], np.array([0.8, 1.0]), 0.0, top=3).tolist() == [1, 0]  # two: relevance order
    # every paper picked so far counts, not only the last: after a and b, a third topic c (the least
    # relevant: 0 after rescaling) gains 0, a repeat of a .5 x .8 - .5 x 1 = -.1, of b .5 x .7 - .5 = -.15
    two_topics = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float64)
    assert mmr_order(two_topics, np.array([1.0, 0.9, 0.8, 0.7, 0.0]), 0.5, top=5).tolist() == [0, 1, 4, 2, 3]
    # the rescaling is over the top only: at top 3 the 0.8 paper is the least relevant there (0), so
    # the repeat (.5 after rescaling) gains .7 x .5 - .3 = .05 and still beats it (0)
    assert mmr_order(embeddings, relevance, 0.7, top=3).tolist() == [2, 3, 0, 1]
    assert mmr_order(np.zeros((0, 3)), np.zeros(0), 0.9, top=50).tolist() == []  # nothing to rank
    # ties keep the candidates' own order (a stable sort), however many there are
    tied = np.array([1.0, 0.5] * 60 + [0.7] * 17)
    assert mmr_order(np.eye(len(tied)), tied, 1.0, top=50).tolist() == \
        list(range(0, 120, 2)) + list(range(120, 137)) + list(range(1, 120, 2))
    # equal relevance: similarity alone decides after the first (stable: the first position leads)
    assert mmr_order(embeddings, np.ones(4), 0.5, top=4).tolist() == [0, 1, 2, 3]
    assert mmr_order(embeddings[[2, 3, 0]], np.ones(3), 0.5, top=3).tolist() == [0, 2, 1]


def _cli(*args):
    env = {**os.environ, "PAPERSIFT_SHARED_DATA": str(SHARED)}
    return subprocess.run([sys.executable, "-m", "papersift.cli", "eval-recs", *args], capture_output=True,
                          text=True, env=env, timeout=600)


@pytest.mark.slow
def test_eval_recs_runs_end_to_end_and_prints_the_table(shared_data):
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


@pytest.mark.slow
def test_eval_recs_cutoff_outside_the_listings_exits_2(shared_data):
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


# ---- the parts, on a few hand-made papers (exact numbers worked by hand)
def _tiny() -> tuple[list[Paper], np.ndarray]:
    texts = [("Graph networks", "Graph neural networks for molecules and proteins."),
             ("Graph networks", "Graph neural networks of molecules and proteins."),
             ("Café robots", "Robots in the café: grasping cups."),
             ("Robot grasping", "Cafe robots learn grasping."),
             ("Speech", "Speech recognition with transformers."),
             ("Translation", "Machine translation with transformers.")]
    papers = [Paper(id=f"2405.0000{i}", title=t, abstract=a, authors=[f"Ada  Lovelace{i}"], categories=["cs.LG"],
                    published=f"2024-05-0{i + 1}T00:00:00Z", upvotes=i) for i, (t, a) in enumerate(texts)]
    return papers, np.eye(6, 4, dtype=np.float32) * 2  # two rows (4, 5) with no vector direction: zero rows


def test_paper_words_reads_title_and_abstract_only():
    assert paper_words(Paper(id="x", title=" T ", abstract=" A ", authors=["Someone"])) == "T. A"
    assert paper_words(Paper(id="x", title="Only a title")) == "Only a title"
    assert paper_words(Paper(id="x", abstract="Only an abstract")) == "Only an abstract"
    assert paper_words(Paper(id="x")) == ""


def test_the_words_are_lower_case_unaccented_content_words_and_pairs():
    papers, vectors = _tiny()
    vocabulary = set(FeatureSpace(papers, vectors).vocabulary)
    assert {"graph", "molecules", "neural", "robots", "cafe", "grasping", "transformers"} <= vocabulary
    assert {"graph neural", "neural networks", "molecules proteins"} <= vocabulary  # pairs too, stop words left out
    assert "with" not in vocabulary and "the" not in vocabulary  # stop words
    assert "café" not in vocabulary  # accents stripped: "Café" and "Cafe" are one word
    assert not [w for w in vocabulary if w != w.lower()]
    assert "speech" not in vocabulary  # in one paper only (min_df 2)
    numbered = FeatureSpace([Paper(id=f"n{i}", title=t) for i, t in enumerate(
        ["Model 2024 v2 q", "Model 2024 v2 q", "Data x_1", "Data x_1", "Other", "Other"])], np.ones((6, 2)))
    assert "2024" not in numbered.vocabulary and "q" not in numbered.vocabulary  # a word starts with a letter...
    assert {"model", "v2", "x_1", "data"} <= set(numbered.vocabulary)  # ...and has two characters or more
    space = FeatureSpace(papers, vectors)
    assert space.words.dtype == np.float32 and space.words.format == "csr"


def test_tf_idf_is_sublinear_and_drops_words_in_most_papers():
    repeated = [Paper(id=f"p{i}", title="alpha beta", abstract=("gamma " * 10 if i == 0 else "gamma delta"))
                for i in range(2)] + [Paper(id=f"q{i}", title="epsilon zeta", abstract="alpha") for i in range(3)]
    space = FeatureSpace(repeated, np.ones((5, 2)))
    assert "alpha" not in space.vocabulary  # in all five papers: more than half (max_df 0.5)
    col = {w: i for i, w in enumerate(space.vocabulary)}
    row = space.words[0].toarray().ravel()
    # gamma x10 and beta x1, same idf (both in the same 2 papers): sublinear tf is 1 + ln(10) against 1
    assert row[col["gamma"]] / row[col["beta"]] == pytest.approx(1 + np.log(10), rel=1e-5)


def test_a_feature_space_keeps_votes_days_and_refuses_what_does_not_fit():
    papers, vectors = _tiny()
    papers[0].upvotes, papers[1].upvotes, papers[2].published, papers[3].published = None, -4, None, "not a date"
    space = FeatureSpace(papers, vectors)
    assert space.votes.tolist() == [0, 0, 2, 3, 4, 5]
    assert space.days[0] == date(2024, 5, 1).toordinal() and np.isnan(space.days[2:4]).all()
    assert np.allclose(space.embeddings[:4], np.eye(4)) and not space.embeddings[4:].any()  # zero rows stay zero
    with pytest.raises(BadInput) as misaligned:
        FeatureSpace(papers, vectors[:5])
    assert misaligned.value.message == "6 papers but 5 embeddings: they must be aligned"
    with pytest.raises(BadInput) as empty:
        FeatureSpace([], vectors[:0])
    assert empty.value.message == "a feature space needs at least one paper"
    other = FeatureSpace(papers[:2], vectors[:2], vectorizer=space.vectorizer)  # fitted elsewhere: not refitted
    assert list(other.vocabulary) == list(space.vocabulary)
    assert abs(other.words - space.words[:2]).max() == 0


def test_an_extension_carries_days_votes_categories_and_authors(monkeypatch):
    from papersift.recommend import features

    papers, vectors = _tiny()
    base = FeatureSpace(papers[:4], vectors[:4])
    extra = [replace(papers[4], upvotes=None, categories=["cs.CL"]), replace(papers[5], upvotes=-1, published=None)]
    grown = base.extended(extra, vectors[4:])
    assert grown.votes.tolist() == [0, 1, 2, 3, 0, 0]
    assert grown.days[4] == date(2024, 5, 5).toordinal() and np.isnan(grown.days[5])
    assert grown.categories[4:] == [("cs.CL",), ("cs.LG",)] and grown.authors[4] == ("Ada  Lovelace4",)
    # the words of outside papers are kept for the next reader, at most EXTRA_WORDS_MAX of them
    monkeypatch.setattr(features, "EXTRA_WORDS_MAX", 4)
    more = [replace(p, id=f"2406.0000{i}") for i, p in enumerate(papers[:2])]
    again = base.extended(more, vectors[:2])
    assert abs(again.words[4:] - base.vectorizer.transform([paper_words(p) for p in more])).max() < 1e-6
    assert len(base.__dict__["_extra_words"]) == 4  # 2 + 2: at the bound, kept
    newest = [replace(p, id=f"2407.0000{i}") for i, p in enumerate(papers[2:4])]
    last = base.extended(newest, vectors[2:4])
    assert abs(last.words[4:] - base.vectorizer.transform([paper_words(p) for p in newest])).max() < 1e-6
    assert len(base.__dict__["_extra_words"]) == 2  # 4 + 2 is over: emptied, then this call's two


def test_the_design_scales_each_block_and_needs_one():
    papers, vectors = _tiny()
    space = FeatureSpace(papers, vectors)
    rows = np.array([0, 2])
    both = space.design(rows, 0.5, 2.0)
    assert both.format == "csr" and both.shape == (2, 4 + len(space.vocabulary))
    assert np.allclose(both[:, :4].toarray(), space.embeddings[rows] * 0.5)
    assert np.allclose(both[:, 4:].toarray(), space.words[rows].toarray() * 2.0)
    assert space.design(rows, 0.0, 1.0).shape == (2, len(space.vocabulary))
    assert space.design(rows, 1.0, 0.0).shape == (2, 4)
    with pytest.raises(BadInput) as neither:
        space.design(rows, 0.0, 0.0)
    assert neither.value.message == "at least one of the embedding and words weights must be positive"


def test_the_prior_adds_votes_follows_and_recency_as_documented():
    papers, vectors = _tiny()
    papers[5].published = None
    space = FeatureSpace(papers, vectors)
    rows = np.arange(6)
    reader = Reader(followed_categories=["CS.lg"], followed_authors=[" ada LOVELACE3 "])
    votes_only = prior(space, rows, Reader(), PriorParams(votes=0.3, follows=1.0))
    assert np.allclose(votes_only, 0.3 * np.log1p([0, 1, 2, 3, 4, 5]))
    papers2 = [replace(p, categories=["cs.CV"]) if i != 1 else p for i, p in enumerate(papers)]
    follows = prior(FeatureSpace(papers2, vectors), rows, reader, PriorParams(votes=0.0, follows=2.0))
    assert follows.tolist() == [0.0, 2.0, 0.0, 2.0, 0.0, 0.0]  # paper 1 by category, paper 3 by its author
    recency = prior(space, rows, Reader(), PriorParams(recency=3.0, votes=0.0))
    # newest dated candidate (May 5) is today; each 30 days older costs 3; no date: as old as the oldest
    assert np.allclose(recency, [-3 * 4 / 30, -3 * 3 / 30, -3 * 2 / 30, -3 / 30, 0.0, -3 * 4 / 30])
    later = prior(space, rows, Reader(), PriorParams(recency=3.0, votes=0.0), now_day=date(2024, 5, 11).toordinal())
    assert np.allclose(later[:5], [-1.0, -0.9, -0.8, -0.7, -0.6]) and later[5] == pytest.approx(-1.0)
    future = prior(space, rows, Reader(), PriorParams(recency=3.0, votes=0.0), now_day=date(2024, 5, 2).toordinal())
    assert future[2:5].tolist() == [0.0, 0.0, 0.0]  # a paper "from the future" is as fresh as today, no bonus
    undated = FeatureSpace([replace(p, published=None) for p in papers], vectors)
    assert prior(undated, rows, Reader(), PriorParams(recency=3.0, votes=0.0)).tolist() == [0.0] * 6
    combined = prior(FeatureSpace(papers2, vectors), rows, reader, PriorParams(recency=3.0, votes=0.3, follows=2.0))
    assert np.allclose(combined, recency + 0.3 * np.log1p([0, 1, 2, 3, 4, 5]) + [0, 2, 0, 2, 0, 0])


def test_sampling_unseen_papers():
    rng = np.random.default_rng(0)
    pool = np.arange(10, 20)
    assert sample_unseen(pool, 0, set(), rng).tolist() == [] and sample_unseen(pool[:0], 5, set(), rng).tolist() == []
    one = sample_unseen(pool, 1, set(), rng)
    assert one.dtype == np.int64 and len(one) == 1 and 10 <= one[0] < 20
    assert sample_unseen(pool[:1], 3, set(), rng).tolist() == [10]  # a pool of one
    drawn = sample_unseen(pool, 50, {10, 11}, rng)
    assert sorted(drawn.tolist()) == list(range(12, 20))  # every row but the excluded, each once
    assert sample_unseen(pool, 4, set(), np.random.default_rng(7)).tolist() == \
        sample_unseen(pool, 4, set(), np.random.default_rng(7)).tolist()  # seeded: the same draw
    assert {int(r) for _ in range(30) for r in sample_unseen(pool, 3, set(), rng)} == set(range(10, 20))


def test_the_model_its_blocks_its_scores_and_its_words():
    papers, vectors = _tiny()
    space = FeatureSpace(papers, vectors)
    none = np.empty(0, dtype=np.int64)
    assert train(space, none, none, np.array([2]), ModelParams()) is None  # no positive: the prior alone
    centroid = train(space, np.array([0, 1]), none, none, ModelParams())  # nothing to contrast: the mean
    design = space.design(np.array([0, 1]), 0.1, 1.0).toarray().mean(axis=0)
    assert centroid.intercept == 0.0 and np.allclose(centroid.coef_embedding, design[:4])
    assert np.allclose(centroid.coef_words, design[4:])
    words_only = train(space, np.array([0]), none, np.array([2, 3]), ModelParams(embedding_weight=0.0))
    assert words_only.coef_embedding is None and len(words_only.coef_words) == len(space.vocabulary)
    meaning_only = train(space, np.array([0]), none, np.array([2, 3]), ModelParams(words_weight=0.0))
    assert meaning_only.coef_words is None and len(meaning_only.coef_embedding) == 4
    with_negative = train(space, np.array([0]), np.array([2]), np.array([3]), ModelParams())
    ignored = train(space, np.array([0]), np.array([2]), np.array([3]), ModelParams(use_negatives=False))
    plain = train(space, np.array([0]), none, np.array([3]), ModelParams())
    assert np.allclose(ignored.coef_words, plain.coef_words, atol=1e-3)  # liblinear's own shuffling: not bit for bit
    assert not np.allclose(with_negative.coef_words, plain.coef_words, atol=0.1)
    col = {w: i for i, w in enumerate(space.vocabulary)}
    assert plain.coef_words[col["robots"]] < 0 and with_negative.coef_words[col["robots"]] < 0  # contrasted, not a mean
    assert not np.allclose(train(space, np.array([0]), none, np.array([3]), ModelParams(c=0.1)).coef_words,
                           plain.coef_words, atol=0.05)  # C is the fit's
    # the positives weigh as much as the rest together, however many: two copies of one paper are one paper
    twins = FeatureSpace([papers[0], replace(papers[0], id="2405.99999")] + papers[2:],
                         np.vstack([vectors[:1], vectors[:1], vectors[2:]]))
    once = train(twins, np.array([0]), none, np.array([2, 3, 4]), ModelParams())
    twice = train(twins, np.array([0, 1]), none, np.array([2, 3, 4]), ModelParams())
    assert np.allclose(once.coef_words, twice.coef_words, atol=1e-3) and abs(once.intercept - twice.intercept) < 1e-3
    # decision: intercept + embedding block x weight + words block x weight, by hand
    model = ReaderModel(ModelParams(embedding_weight=0.5, words_weight=2.0), np.array([1.0, -2.0, 0.0, 0.0]),
                        np.ones(len(space.vocabulary)), 0.25)
    rows = np.array([0, 1, 4])
    expected = 0.25 + space.embeddings[rows] @ [0.5, -1.0, 0, 0] + 2.0 * space.words[rows].sum(axis=1).A1
    assert np.allclose(model.decision(space, rows), expected)
    assert model.decision(space, rows).dtype == np.float64
    assert np.allclose(ReaderModel(ModelParams(), None, None, 0.5).decision(space, rows), 0.5)
    # the words that raised a score: coefficient x tf-idf x weight, positive ones only, best first
    col = {w: i for i, w in enumerate(space.vocabulary)}
    coef = np.zeros(len(space.vocabulary))
    coef[col["graph"]], coef[col["molecules"]], coef[col["neural"]] = 3.0, 1.0, -1.0
    words = ReaderModel(ModelParams(words_weight=2.0), None, coef, 0.0).word_contributions(space, 0)
    tfidf = space.words[0].toarray().ravel()
    assert words == [("graph", pytest.approx(6.0 * tfidf[col["graph"]])),
                     ("molecules", pytest.approx(2.0 * tfidf[col["molecules"]]))]
    many = ReaderModel(ModelParams(), None, np.ones(len(space.vocabulary)), 0.0).word_contributions(space, 0)
    assert len(many) == 5 and [w for w, _ in many] == sorted((w for w, _ in many), key=lambda w: -tfidf[col[w]])


def test_an_explanation_names_three_liked_papers_and_five_words():
    papers, vectors = _tiny()
    space = FeatureSpace(papers, np.vstack([vectors[:4], [[1, 1, 0, 0], [1, 0, 1, 0]]]).astype(np.float32))
    model = ReaderModel(ModelParams(), None, np.ones(len(space.vocabulary)), 0.0)
    why = explain(space, model, 0, np.array([1, 4, 5, 2]))
    assert [pid for pid, _ in why.liked] == ["2405.00004", "2405.00005", "2405.00001"]  # closest first, three
    assert [s for _, s in why.liked] == pytest.approx([2 ** -0.5, 2 ** -0.5, 0.0])
    assert why.words == model.word_contributions(space, 0, 5) and len(why.words) == 5
    assert explain(space, None, 0, np.array([], dtype=np.int64)).as_dict() == {"liked": [], "words": []}
    shown = explain(space, model, 0, np.array([1, 4])).as_dict()  # what the API and the pages show
    first_word, weight = why.words[0]
    assert shown == {"liked": [{"id": "2405.00004", "similarity": 0.7071}, {"id": "2405.00001", "similarity": 0.0}],
                     "words": [{"word": w, "weight": round(x, 4)} for w, x in why.words]}
    assert shown["words"][0] == {"word": first_word, "weight": round(weight, 4)} and weight != round(weight, 4)


def test_a_reader_refuses_one_string_and_a_dismissal_beats_a_like():
    with pytest.raises(BadInput) as bad:
        Reader(negatives="2503.11731")
    assert bad.value.message == "Reader.negatives must be a list of strings, not one string"
    reader = Reader(positives=["a", "b", "a"], negatives=["b"], seen=["c"])
    assert reader.positives == ("a",) and reader.negatives == ("b",) and reader.excluded() == {"a", "b", "c"}


def test_the_recommender_adds_the_standardised_model_to_the_prior_and_ranks_with_it():
    papers, vectors = _tiny()
    space = FeatureSpace(papers, vectors)
    rows, reader = np.arange(6), Reader(positives=["2405.00000"])
    rec = Recommender(space, RecParams(prior=PriorParams(votes=0.3)))
    model = ReaderModel(ModelParams(embedding_weight=1.0), np.array([0.2, 0.4, 0.0, 0.0]), None, 0.0)
    raw = model.decision(space, rows)  # 0.2, 0.4, 0, 0, 0, 0: a spread below 1
    expected = 0.3 * np.log1p(np.arange(6)) + (raw - raw.mean()) / raw.std()
    assert np.allclose(rec.scores(reader, rows, model), expected)
    flat = ReaderModel(ModelParams(), None, None, 0.5)  # the same score everywhere: no spread to divide by
    assert np.allclose(rec.scores(reader, rows, flat), 0.3 * np.log1p(np.arange(6)))
    # "today" reaches the recency prior: on May 1 no candidate is older than today, so none loses anything
    fresh = Recommender(space, RecParams(prior=PriorParams(recency=3.0, votes=0.0), diversity=1.0))
    may1 = date(2024, 5, 1).toordinal()
    assert fresh.scores(Reader(), rows, None, now_day=may1).tolist() == [0.0] * 6
    ranked, scored = fresh.rank(Reader(), rows, None, now_day=may1)
    assert ranked.tolist() == [0, 1, 2, 3, 4, 5] and scored.tolist() == [0.0] * 6
    assert fresh.rank(Reader(), rows, None)[0].tolist() == [5, 4, 3, 2, 1, 0]  # by default today is the newest day
    assert rec.recommend(reader, []) == [] and rec.recommend(reader, ["2401.99999"]) == []  # nothing to rank
    picks = fresh.recommend(Reader(), [p.id for p in papers], k=3, now_day=may1)
    assert [(r.paper_id, r.score) for r in picks] == [("2405.00000", 0.0), ("2405.00001", 0.0), ("2405.00002", 0.0)]


def test_the_recommender_diversifies_only_its_top():
    two_topics = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=np.float32)
    titles = ["Alpha beta", "Gamma delta", "Alpha beta", "Gamma delta", "Epsilon zeta", "Epsilon zeta"]
    votes = [100, 50, 20, 10, 0, 0]
    papers = [Paper(id=f"2405.0000{i}", title=t, upvotes=v) for i, (t, v) in enumerate(zip(titles, votes, strict=True))]
    space = FeatureSpace(papers, np.vstack([two_topics, [[1, 1, 1]]]))
    rows = np.arange(5)
    whole = Recommender(space, RecParams(diversity=0.5, diversify_top=5)).rank(Reader(), rows)[0]
    assert whole.tolist() == [0, 1, 4, 2, 3]  # the third topic before the repeats (see test_mmr_... above)
    top_two = Recommender(space, RecParams(diversity=0.5, diversify_top=2)).rank(Reader(), rows)[0]
    assert top_two.tolist() == [0, 1, 2, 3, 4]


def test_the_recommender_learns_against_its_pool_never_the_readers_own_papers():
    papers, vectors = _tiny()
    space = FeatureSpace(papers, vectors)
    none = np.empty(0, dtype=np.int64)
    reader = Reader(positives=["2405.00000"])
    everyone = Recommender(space).train(reader)  # 150 draws from 6 rows: every other row, never row 0
    assert np.allclose(everyone.coef_words, train(space, np.array([0]), none, np.arange(1, 6), ModelParams()).coef_words,
                       atol=1e-3)
    pooled = Recommender(space, unseen_pool=["2405.00002", "2405.00003"]).train(reader)
    assert np.allclose(pooled.coef_words, train(space, np.array([0]), none, np.array([2, 3]), ModelParams()).coef_words,
                       atol=1e-3)


def test_ten_recommendations_by_default(sample, author):
    papers, _, space = sample
    name, liked, held_out = author
    assert len(Recommender(space).recommend(Reader(positives=liked), _candidates(space, held_out, papers, name))) == 10
