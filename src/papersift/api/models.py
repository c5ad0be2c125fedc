"""The typed shapes of papersift's own API (``/api/v1``): what the OpenAPI document declares.

Every route names its response model, so FastAPI both documents the shape and checks each answer
against it (a drifted shape is a logged 500, not a silent change; tests/interfaces/test_openapi_schemathesis.py
checks the document against live answers). Errors are ``{"error": {"code", "message"}}`` on every
4xx, declared once as ``ERRORS``.
"""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

PREFIX = "/api/v1"
# Examples in the document: what a generated client shows and what schemathesis tries first
PAPER_ID: dict[str, Any] = {"description": "arXiv id in any common spelling (2405.15738, arXiv:2405.15738v2, hep-th/9901001)",
            "examples": ["2405.15738"]}
DAY_EXAMPLE, WEEK_EXAMPLE, MONTH_EXAMPLE = ["2024-05-27"], ["2024-W22"], ["2024-05"]


class ErrorDetail(BaseModel):
    code: str = Field(..., description="machine-readable: bad_input, not_found, unauthorized, conflict, ...")
    message: str


class ErrorBody(BaseModel):
    error: ErrorDetail


# "4XX" instead of FastAPI's default 422: bad input is a 400 here, and every 4xx has this shape
ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorBody, "description": "Bad input (400), no token (401), a read-only token on a write "
                                              "(403), not found (404), ..."}}


class IndexStatus(BaseModel):
    """This process's indexes: ``indexer`` keeps them current, a ``follower`` (another worker of
    ``serve --workers``) reads the indexer's commits; ``*_behind``: store changes not in them yet
    (null before the indexes are opened). Worth an alert when it keeps growing."""

    role: Literal["indexer", "follower"]
    lexical_behind: Optional[int] = None
    vectors_behind: Optional[int] = None


class SemanticCoverage(BaseModel):
    """How much of the corpus semantic search covers: ``indexed`` papers have a vector, of ``papers``
    in the store. ``complete`` is false while the background indexer is still catching up (the rest
    are found by keyword meanwhile). ``indexed`` and ``complete`` are null on a server without an
    embedder (``enabled`` false) and before this process opened its indexes."""

    enabled: bool
    indexed: Optional[int] = Field(None, ge=0)
    papers: int = Field(..., ge=0)
    complete: Optional[bool] = None


class Health(BaseModel):
    status: Literal["ok"]
    papers: int = Field(..., ge=0)
    index: IndexStatus
    semantic: SemanticCoverage


class VenueOut(BaseModel):
    """Where the paper appeared, read from its arXiv comment ("Accepted at NeurIPS 2025")."""

    name: str = Field(..., description="the venue's short name: NeurIPS, ICLR, TMLR")
    year: Optional[int] = Field(None, description="as the comment writes it; null when it writes none")
    track: Literal["main", "workshop", "findings", "journal", "demo", "tutorial", "other"]
    label: str = Field(..., description="NeurIPS 2025, ICLR 2026 Workshop, Findings of EMNLP 2025")
    slug: str = Field(..., description="its page: /venues/SLUG, and the search filter venue:SLUG")


class LinkedRepoOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str = Field(..., description="owner/name on huggingface.co")
    likes: Optional[int] = Field(None, ge=0)
    downloads: Optional[int] = Field(None, ge=0)


class LinkedOut(BaseModel):
    total: int = Field(..., ge=0, description="how many Hugging Face counts")
    top: list[LinkedRepoOut] = Field(..., description="the first few, in Hugging Face's order")


class PaperOut(BaseModel):
    """A paper as the API shows it (upvotes: the source's plus this site's votes)."""

    id: str
    title: Optional[str] = None
    abstract: Optional[str] = None
    authors: list[str] = []
    categories: list[str] = Field([], description="arXiv categories, primary first")
    published: Optional[str] = Field(None, description="ISO 8601 UTC, YYYY-MM-DDTHH:MM:SSZ")
    version: Optional[int] = None
    comment: Optional[str] = None
    organization: Optional[str] = None
    organization_id: Optional[str] = None
    upvotes: Optional[int] = None
    num_comments: Optional[int] = None
    github_repo: Optional[str] = None
    github_stars: Optional[int] = None
    project_page: Optional[str] = None
    ai_summary: Optional[str] = None
    feed_days: list[str] = Field([], description="the Daily Papers days it was listed on")
    listed: Optional[str] = Field(None, description="the day arXiv announced it (YYYY-MM-DD)")
    replaced: list[str] = Field([], description="the days arXiv listed later versions of it")
    venue: Optional[VenueOut] = None
    has_code: bool = Field(False, description="a repository: Hugging Face's, or one the abstract or comment links")
    code_url: Optional[str] = Field(None, description="the paper's code: Hugging Face's repository for it, else "
                                    "the first repository the abstract or comment links")
    code_links: list[str] = Field([], description="the GitHub, GitLab and Hugging Face repositories the abstract "
                                  "and comment link")
    hf_url: Optional[str] = Field(None, description="its page on Hugging Face, when harvested from there")
    hf_links: Optional[dict[Literal["models", "datasets", "spaces"], LinkedOut]] = Field(
        None, description="the models, datasets and Spaces on Hugging Face that link it (null: never asked)")
    url: Optional[str] = Field(None, description="arXiv abstract page (null for non-arXiv documents)")
    pdf_url: Optional[str] = None


class Provenance(BaseModel):
    model_config = ConfigDict(extra="allow")
    source: str
    at: str


class PaperDetail(PaperOut):
    provenance: dict[str, Provenance] = Field({}, description="field -> the source it came from, and when")


class HitOut(PaperOut):
    score: float
    snippets: dict[str, str] = Field({}, description="field -> text with the matches in <mark>")


class SearchOut(BaseModel):
    query: str
    mode: str = Field(..., description="the mode used (hybrid falls back to bm25 without embeddings)")
    sort: str
    page: int
    per_page: int
    total: int = Field(..., ge=0, description="matched + related: what the pages go through (at most 1000 deep)")
    matched: Optional[int] = Field(None, ge=0, description="papers the words match (null for mode=dense)")
    related: int = Field(0, ge=0, description="more papers found by meaning only, that the words do not match")
    counts: str = Field("", description='the same in words: "25 papers match the words; 191 more are related by meaning"')
    took_ms: float
    notes: list[str] = Field(default_factory=list, description=(
        "how the query was read where it differs from what was typed, one sentence each: an unknown `word:` "
        "searched as text, a pasted title's quotes, a query cut to its first terms"))
    results: list[HitOut]


class SimilarOut(BaseModel):
    id: str
    results: list[HitOut]


class PeriodOut(BaseModel):
    kind: Literal["date", "week", "month"]
    label: str
    start: str
    end: str
    previous: Optional[str] = Field(None, description="the period before (null at the calendar's edge)")
    next: Optional[str] = None


class FeedPaper(PaperOut):
    trending_score: float
    feed_day: str
    rank: Optional[int] = None
    submitted_by: Optional[str] = None


class FeedOut(BaseModel):
    period: PeriodOut
    sort: str
    page: int
    limit: int
    total: int = Field(..., ge=0)
    papers: list[FeedPaper]
    previous_day_with_papers: Optional[str] = None
    next_day_with_papers: Optional[str] = None


class VoteOut(BaseModel):
    id: str
    voted: bool
    upvotes: int


class SaveOut(BaseModel):
    id: str
    saved: bool


class SubmitOut(BaseModel):
    id: str
    feed_day: str
    fetched: bool = Field(..., description="true when the paper was fetched from arXiv just now")
    paper: PaperOut


class LibraryPaper(PaperOut):
    pass


class LibraryOut(BaseModel):
    total: int = Field(..., ge=0)
    p: int
    limit: int
    papers: list[LibraryPaper]


class MeOut(BaseModel):
    email: str
    name: str
    is_admin: bool
    scope: Literal["read", "write"] = Field(..., description="read: this token reads only; write: it may also vote, "
                                                             "save, submit and give feedback")


# ---- recommendations (api/recommendations.py)
class LikedOut(BaseModel):
    id: str
    similarity: float
    title: str = ""


class WordOut(BaseModel):
    word: str
    weight: float


class CoauthorOut(BaseModel):
    name: str = Field(..., description="an author of this paper who wrote one of your liked papers with you")
    papers: int = Field(..., description="how many of your liked papers they are on")


class WhyOut(BaseModel):
    coauthors: list[CoauthorOut] = Field([], description="your co-authors among this paper's authors")
    liked: list[LikedOut] = Field([], description="the reader's liked papers this one is closest to")
    words: list[WordOut] = Field([], description="the words that weighed most in the reader's model")


class PickOut(BaseModel):
    id: str
    title: Optional[str] = None
    published: Optional[str] = None
    score: float
    why: WhyOut
    because: str = Field(..., description="the explanation in plain words")


class RecommendationsOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    period: str
    day_from: Optional[str] = Field(None, alias="from")
    day_to: Optional[str] = Field(None, alias="to")
    reason: Optional[str] = Field(None, description="why the list is empty, in words for the reader")
    results: list[PickOut]


class FeedbackOut(BaseModel):
    id: str
    kind: Literal["more", "not_for_me"]
    on: bool


class SignalOut(BaseModel):
    kind: str
    paper_id: str
    title: str
    created_at: Optional[str] = None


class FollowOut(BaseModel):
    kind: str
    value: str


class SignalUser(BaseModel):
    email: str
    name: str


class SignalsOut(BaseModel):
    user: SignalUser
    signals: list[SignalOut]
    follows: list[FollowOut]


class ImportProblem(BaseModel):
    line: int = Field(..., ge=0, description="0: about the whole file")
    message: str


class ImportOut(BaseModel):
    """What a library import did: papers marked "more like this", those already marked, arXiv ids this
    server does not have, and every entry it could not use, by line."""

    added: list[str]
    already: list[str]
    missing: list[str]
    entries: int = Field(..., ge=0)
    format: str
    problems: list[ImportProblem]


class ForgetOut(BaseModel):
    deleted: int = Field(..., ge=0)


# ---- "New on arXiv" and the categories a reader follows (api/arxiv.py)
class ArxivPeriodOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    kind: Literal["date", "week", "month"]
    label: str = Field(..., description="2025-05-27, 2025-W22 or 2025-05")
    day_from: str = Field(..., alias="from", description="its first day, YYYY-MM-DD")
    day_to: str = Field(..., alias="to", description="its last day, YYYY-MM-DD")


class ListingOut(BaseModel):
    day: str = Field(..., description="the listing day (Monday to Friday) arXiv announced it on")
    kind: Literal["new", "cross", "replace"] = Field(..., description=(
        "new: one of the categories asked for is its primary; cross: a secondary one (a cross-list); "
        "replace: a later version listed again"))
    category: str = Field(..., description="the category it was listed in")
    score: Optional[float] = Field(None, description="the reader's own score (order=score), else null")


class ArxivPaper(PaperOut):
    listing: ListingOut


class ListingCounts(BaseModel):
    new: int = Field(..., ge=0)
    cross: int = Field(..., ge=0)
    replace: int = Field(..., ge=0)


class ArxivOut(BaseModel):
    period: ArxivPeriodOut
    categories: list[str] = Field(..., description="the categories shown (a reader's followed ones when none "
                                                   "were asked for; empty: every category)")
    tab: Literal["new", "cross", "replace"]
    order: Literal["listing", "score"] = Field(..., description="listing: arXiv's (newest day first, then by id); "
                                                                "score: the reader's own, best first")
    counts: ListingCounts = Field(..., description="papers in each tab of the period")
    total: int = Field(..., ge=0, description="papers in this tab")
    page: int
    limit: int
    pages: int = Field(..., ge=1)
    previous_day: Optional[str] = Field(None, description="an empty period: the latest listing day before it")
    next_day: Optional[str] = Field(None, description="an empty period: the first listing day after it")
    results: list[ArxivPaper]


class CategoriesOut(BaseModel):
    categories: list[str] = Field(..., description="the arXiv categories the reader follows, by name")
