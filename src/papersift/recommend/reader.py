"""What the recommender knows about one reader: the signals, already collected by the front door."""

from __future__ import annotations

from dataclasses import dataclass, field

from papersift.errors import BadInput


@dataclass(frozen=True)
class Reader:
    """A reader's signals as paper ids and follows.

    ``positives``: upvoted, saved, "more like this", imported from a library, picked at cold start.
    ``negatives``: "not for me". A paper in both lists counts as negative: the later, more
    deliberate click is usually the dismissal, and showing a dismissed paper again is the worse error.
    """

    positives: tuple[str, ...] = ()
    negatives: tuple[str, ...] = ()
    followed_categories: tuple[str, ...] = ()
    followed_authors: tuple[str, ...] = ()
    seen: tuple[str, ...] = field(default=())  # saved, dismissed, hidden: never recommended again

    def __post_init__(self):
        for name in ("positives", "negatives", "followed_categories", "followed_authors", "seen"):
            value = getattr(self, name)
            if isinstance(value, str):
                raise BadInput(f"Reader.{name} must be a list of strings, not one string")
            object.__setattr__(self, name, tuple(dict.fromkeys(value)))
        dismissed = set(self.negatives)
        object.__setattr__(self, "positives", tuple(p for p in self.positives if p not in dismissed))

    def excluded(self) -> set[str]:
        """Papers never to recommend: every paper the reader has already acted on."""
        return set(self.positives) | set(self.negatives) | set(self.seen)
