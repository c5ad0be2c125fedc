"""The website's service layer: accounts, votes, saves, submissions, moderation, and the
viewer-aware read side (feeds with local votes, hidden papers left out).

Sits beside ``service.py`` in the data flow: it calls the Papersift service and the Store
(never SQL or an index directly), and ``web/``, ``api/`` and ``cli.py`` call it.
"""

from __future__ import annotations

from ..service import Papersift
from .accounts import Accounts
from .actions import Actions, Submission, VoteState
from .catalog import Card, Catalog, FeedView, Listing, PaperView, SearchView
from .errors import Forbidden, TooManyAttempts, Unauthorized

__all__ = ["Community", "Accounts", "Actions", "Catalog", "Card", "FeedView", "Listing", "PaperView",
           "SearchView", "Submission", "VoteState", "Forbidden", "TooManyAttempts", "Unauthorized"]


class Community:
    """Everything the website needs, bound to one Papersift service."""

    def __init__(self, service: Papersift, arxiv_oai_url: str | None = None, password_hasher=None):
        self.service = service
        self.accounts = Accounts(service.store, password_hasher)
        self.catalog = Catalog(service)
        self.actions = Actions(service, self.catalog, arxiv_oai_url)
