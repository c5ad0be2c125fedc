"""The typed shapes of the Hugging Face–compatible routes (api/hf.py), for the OpenAPI document.

Field names are HF's own (camelCase, ``ai_summary``); formats/hf_api.py builds the values. Fields
papersift has no value for are left out of an answer, as HF leaves them out.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Field

HF_TIME = "ISO 8601 UTC with milliseconds: 2025-03-13T17:59:06.000Z"


class HFErrorBody(BaseModel):
    error: str


HF_ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": HFErrorBody, "description": "Bad date or parameter (400), unknown paper (404)"}}


class HFAuthorUser(BaseModel):
    name: str
    user: str
    fullname: str
    avatarUrl: str = ""
    type: str = "user"


class HFAuthor(BaseModel):
    name: str
    hidden: bool = False
    user: HFAuthorUser | None = Field(None, description="the reader of this site who claimed this author and was verified")
    status: str | None = Field(None, description="claimed_verified when a reader's claim was verified")


class HFUser(BaseModel):
    name: str = Field(..., description="the login (HF items spell it name, huggingface_hub reads user)")
    user: str
    fullname: str
    avatarUrl: str = ""
    type: str = "user"


class HFOrganization(BaseModel):
    name: str
    fullname: str
    avatarUrl: str = ""


class HFPaper(BaseModel):
    id: str = Field(..., description="arXiv id")
    authors: list[HFAuthor]
    publishedAt: Optional[str] = Field(None, description="arXiv v1 time; " + HF_TIME)
    title: str
    summary: str = Field(..., description="the abstract")
    upvotes: int = Field(..., ge=0)
    numComments: int = Field(0, ge=0)
    submittedOnDailyAt: Optional[str] = Field(None, description="when it went on the feed; " + HF_TIME)
    submittedOnDailyBy: Optional[HFUser] = None
    organization: Optional[HFOrganization] = None
    ai_summary: Optional[str] = None
    githubRepo: Optional[str] = None
    githubStars: Optional[int] = None
    projectPage: Optional[str] = None


class HFLinkedRepo(BaseModel):
    """A model, dataset or Space on Hugging Face that links the paper."""

    id: str = Field(..., description="owner/name on huggingface.co")
    author: str
    repoType: str = Field(..., description="model, dataset or space")
    likes: Optional[int] = Field(None, ge=0)
    downloads: Optional[int] = Field(None, ge=0)
    pipeline_tag: Optional[str] = Field(None, description="a model's task")
    emoji: Optional[str] = None
    title: Optional[str] = None
    shortDescription: Optional[str] = None


class HFPaperPage(HFPaper):
    """``/api/papers/{id}``: the paper, and (when harvested from Hugging Face) what links it there: the
    first repositories of each kind and their totals."""

    linkedModels: Optional[list[HFLinkedRepo]] = None
    numTotalModels: Optional[int] = Field(None, ge=0)
    linkedDatasets: Optional[list[HFLinkedRepo]] = None
    numTotalDatasets: Optional[int] = Field(None, ge=0)
    linkedSpaces: Optional[list[HFLinkedRepo]] = None
    numTotalSpaces: Optional[int] = Field(None, ge=0)


class HFItem(BaseModel):
    """One element of the feed or of a search."""

    paper: HFPaper
    publishedAt: Optional[str] = Field(None, description="when it went on the feed; " + HF_TIME)
    title: str
    summary: str
    numComments: int = Field(0, ge=0)
    submittedBy: Optional[HFUser] = None
    organization: Optional[HFOrganization] = None
    isAuthorParticipating: bool = False
