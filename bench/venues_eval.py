"""How well ``parse_venue`` reads the venue and year from arXiv comments: precision and recall on a hand-labelled set.

    python -m bench run venues_eval                 # score tests/data/venue_comments.jsonl
    python -m bench run venues_eval --draw          # print the sample the labels were made from (needs ../shared/data)

The labelled set (``tests/data/venue_comments.jsonl``) is a seeded random sample of the non-empty comments of
``arxiv-cs-2025-2026.jsonl.gz``: 200 from comments that mention a venue-like word (an acronym, "accepted",
"appear", "proceedings", "workshop", "journal", "conference", "published") and 150 from the rest, so that the
set measures false positives as well as misses. Each was labelled by hand before the rules were written.

Scored on (venue name, year) pairs: a prediction is a true positive when both match the label, a false
positive when the label differs (or is null), a false negative when a labelled venue is missed or got wrong
(a wrong prediction is both). Also the name alone, and the track's accuracy over the rows where the name is
right. Precision and recall carry a percentile bootstrap 95% interval over comments (1,000 resamples, seed 0).
"""

from __future__ import annotations

import argparse
import gzip
import json
import math
import random
import re
from pathlib import Path

from bench.common import ROOT, need_data
from papersift.venues import parse_venue

NEEDS = "nothing for the score (tests/data/venue_comments.jsonl); ../shared/data for --draw"

LABELS = ROOT / "tests" / "data" / "venue_comments.jsonl"
SOURCE = "arxiv-cs-2025-2026.jsonl.gz"
SEED = 20261207
WITH_VENUE_WORD, OTHERS = 200, 150
RESAMPLES = 1000

# Only for drawing the sample: a broad net of words a venue statement tends to carry. It decides which
# stratum a comment is drawn from, nothing about its label.
VENUE_WORD = re.compile(
    r"accept|appear|proceeding|workshop|journal|conference|published|"
    r"\b(?:neurips|nips|iclr|icml|cvpr|iccv|eccv|acl|emnlp|naacl|coling|eacl|aaai|ijcai|kdd|www|sigir|cikm|"
    r"wsdm|recsys|miccai|icra|iros|corl|rss|uai|aistats|colt|tmlr|jmlr|tpami|pami|ijcv|tacl|mm|wacv|bmvc|3dv|"
    r"icassp|interspeech|inlg|lrec|chi|uist|cscw|icse|fse|ase|issta|pldi|popl|oopsla|sosp|osdi|nsdi|sigcomm|"
    r"infocom|usenix|ccs|ndss|stoc|focs|soda|icalp|ieee|acm|tnnls|tip|tmi|ral|ra-l|tvcg|siggraph|eurographics|"
    r"isbi|midl|icip|icme|iclr|ecai|aamas|icde|vldb|sigmod|l4dc|hri|humanoids|isit|globecom|icc|dac|iccad|"
    r"date|isca|micro|hpca|asplos|sc|ppopp|icdm|sdm|pakdd|ecml|acml|ijcnn|icpr|accv|iccvw|cvprw)\b",
    re.IGNORECASE | re.ASCII,
)


def comments(path: Path) -> list[tuple[str, str]]:
    """(id, comment) for every paper with a non-empty comment, in the file's order."""
    found = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            text = (record.get("comment") or "").strip()
            if text:
                found.append((record["id"], text))
    return found


def draw(path: Path) -> list[tuple[str, str, str]]:
    """(stratum, id, comment): the seeded sample the labels were written for, sorted by id."""
    every = comments(path)
    with_word = [c for c in every if VENUE_WORD.search(c[1])]
    others = [c for c in every if not VENUE_WORD.search(c[1])]
    rng = random.Random(SEED)
    picked = [("venue-word", *c) for c in rng.sample(with_word, WITH_VENUE_WORD)]
    picked += [("other", *c) for c in rng.sample(others, OTHERS)]
    return sorted(picked, key=lambda row: row[1])


def print_draw() -> None:
    for stratum, paper_id, text in draw(need_data(SOURCE) / SOURCE):
        print(json.dumps({"stratum": stratum, "id": paper_id, "comment": text}, ensure_ascii=False))


def read_labels(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def outcomes(rows: list[dict], key) -> list[tuple[int, int, int]]:
    """Per comment (true positive, false positive, false negative) for what ``key`` reads off a venue."""
    counted = []
    for row in rows:
        venue = parse_venue(row["comment"])
        predicted = key(venue.name, venue.year) if venue else None
        truth = key(row["venue"], row["year"]) if row["venue"] else None
        hit = predicted is not None and predicted == truth
        counted.append((int(hit), int(predicted is not None and not hit), int(truth is not None and not hit)))
    return counted


def ratios(counted: list[tuple[int, int, int]]) -> tuple[float, float]:
    tp, fp, fn = (sum(column) for column in zip(*counted, strict=True))
    return (tp / (tp + fp) if tp + fp else 0.0), (tp / (tp + fn) if tp + fn else 0.0)


def with_interval(counted: list[tuple[int, int, int]]) -> dict:
    """Precision and recall with a percentile bootstrap 95% interval over comments (seeded)."""
    rng = random.Random(0)
    draws = [ratios([rng.choice(counted) for _ in counted]) for _ in range(RESAMPLES)]
    precision, recall = ratios(counted)
    tp, fp, fn = (sum(column) for column in zip(*counted, strict=True))
    return {"precision": round(precision, 4), "precision_ci95": interval([d[0] for d in draws]),
            "precision_wilson95": wilson(tp, tp + fp),
            "recall": round(recall, 4), "recall_ci95": interval([d[1] for d in draws]),
            "recall_wilson95": wilson(tp, tp + fn),
            "tp": tp, "fp": fp, "fn": fn}


def wilson(successes: int, trials: int, z: float = 1.96) -> list[float]:
    """The Wilson score interval: unlike the bootstrap it stays informative at a ratio of 1.0 (no errors
    to resample), where the bootstrap interval collapses to [1, 1]."""
    if not trials:
        return [0.0, 0.0]
    ratio, spread = successes / trials, z * z / trials
    centre = (ratio + spread / 2) / (1 + spread)
    half = z * math.sqrt(ratio * (1 - ratio) / trials + spread / trials / 4) / (1 + spread)
    return [round(centre - half, 4), round(centre + half, 4)]


def interval(values: list[float]) -> list[float]:
    ordered = sorted(values)
    return [round(ordered[int(0.025 * len(ordered))], 4), round(ordered[int(0.975 * len(ordered)) - 1], 4)]


def track_accuracy(rows: list[dict]) -> dict:
    """How often the track is right where the venue name is."""
    named = [(row, parse_venue(row["comment"])) for row in rows if row["venue"]]
    judged = [(row, venue) for row, venue in named if venue and venue.name == row["venue"]]
    right = sum(venue.track == row["track"] for row, venue in judged)
    return {"accuracy": round(right / len(judged), 4) if judged else 0.0, "judged": len(judged)}


def mistakes(rows: list[dict]) -> list[str]:
    """Every row where the (name, year, track) read differs from the label, for reading."""
    wrong = []
    for row in rows:
        venue = parse_venue(row["comment"])
        got = (venue.name, venue.year, venue.track) if venue else None
        want = (row["venue"], row["year"], row["track"]) if row["venue"] else None
        if got != want:
            wrong.append(f"{row['id']}: want {want}, got {got}: {row['comment'][:120]!r}")
    return wrong


def score(rows: list[dict]) -> dict:
    with_venue = [row for row in rows if row["venue"]]
    tracks: dict[str, int] = {}
    for row in with_venue:
        tracks[row["track"]] = tracks.get(row["track"], 0) + 1
    return {"comments": len(rows), "labelled_venue": len(with_venue), "labelled_null": len(rows) - len(with_venue),
            "tracks": dict(sorted(tracks.items())),
            "name_year": with_interval(outcomes(rows, lambda name, year: (name, year))),
            "name_only": with_interval(outcomes(rows, lambda name, year: name)),
            "track": track_accuracy(rows)}


def main(argv: list[str] | None = None) -> dict | None:
    parser = argparse.ArgumentParser(prog="python -m bench run venues_eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--draw", action="store_true", help="print the labelled set's sample instead of scoring")
    parser.add_argument("--labels", type=Path, default=LABELS)
    parser.add_argument("--mistakes", action="store_true", help="also print every row read differently from its label")
    args = parser.parse_args(argv)
    if args.draw:
        print_draw()
        return None
    rows = read_labels(args.labels)
    if args.mistakes:
        print("\n".join(mistakes(rows)))
    return score(rows)


if __name__ == "__main__":
    print(json.dumps(main()))
