"""Collections: a user's public or private lists of papers with a note each (the library is the
private one every reader has), their upvotes, and which public collections hold a paper.

Who sees what, decided here: a private collection (and every library) only its owner, as if absent for
anyone else (404); a collection an admin hid, and every collection of a hidden user, only admins;
hidden papers are left out of the items. A collection is named like Hugging Face's,
``owner/title-words-ID``: the trailing id finds it, so an old slug after a rename still does."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from papersift.errors import BadInput, Conflict, Forbidden, NotFound, Unauthorized
from papersift.model import Collection, CollectionItem, User
from papersift.service.catalog import Card, Catalog

TITLE_MAX, DESCRIPTION_MAX, NOTE_MAX = 100, 2000, 500
ITEMS_MAX, COLLECTIONS_MAX = 1000, 100
THEMES = ("orange", "blue", "green", "purple", "pink", "indigo")
SORTS = ("upvotes", "lastModified", "trending", "newest")
_SLUG_ID = re.compile(r"-([0-9]{1,12})$")


def slug_words(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title).strip("-")[:60] or "collection"


def collection_slug(collection: Collection) -> str:
    return f"{collection.owner_handle}/{slug_words(collection.title)}-{collection.id}"


def slug_id(slug: str) -> int:
    """The collection id a slug ends with (NotFound for one that names none)."""
    match = _SLUG_ID.search(slug or "")
    if match is None:
        raise NotFound(f"no collection {slug[:120]!r}")
    return int(match.group(1))


def _text(raw: str | None, limit: int, what: str, required: bool = False) -> str:
    text = (raw or "").replace("\r\n", "\n").strip()
    if required and not text:
        raise BadInput(f"the {what} is empty")
    if len(text) > limit:
        raise BadInput(f"the {what} is too long ({len(text):,} characters; at most {limit:,})")
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t" for ch in text):
        raise BadInput(f"the {what} contains control characters")
    return text


@dataclass
class Entry:
    item: CollectionItem
    card: Card


@dataclass
class CollectionView:
    collection: Collection
    slug: str
    entries: list[Entry]
    upvoted: bool
    can_edit: bool


class Collections:
    def __init__(self, catalog: Catalog, settings, clock):
        self.catalog, self.store, self.settings, self.clock = catalog, catalog.store, settings, clock

    # ---- who sees what
    @staticmethod
    def may_see(viewer: User | None, collection: Collection) -> bool:
        if viewer is not None and viewer.id == collection.owner_id:
            return True
        if collection.private or collection.is_library:
            return False
        return not (collection.hidden_at or collection.owner_hidden) or bool(viewer and viewer.is_admin)

    def get(self, viewer: User | None, collection_id: int) -> Collection:
        found = self.store.get_collection(collection_id)
        if found is None or not self.may_see(viewer, found):
            raise NotFound(f"no collection {collection_id}")
        return found

    def by_slug(self, viewer: User | None, slug: str) -> Collection:
        return self.get(viewer, slug_id(slug))

    def view(self, viewer: User | None, collection: Collection) -> CollectionView:
        items = self.store.collection_items(collection.id)
        cards = {c.paper.id: c for c in self.catalog.cards(self.store.get_papers(i.paper_id for i in items).values(),
                                                           viewer)}
        entries = [Entry(i, cards[i.paper_id]) for i in items if i.paper_id in cards]
        upvoted = viewer is not None and self.store.user_upvoted_collection(collection.id, viewer.id)
        return CollectionView(collection, collection_slug(collection), entries, upvoted,
                              bool(viewer and viewer.id == collection.owner_id))

    def containing(self, viewer: User | None, paper_id: str) -> list[Collection]:
        """The public collections (and the viewer's own) that hold the paper."""
        found = {c.id: c for c in self.store.public_collections(paper_id=paper_id, limit=50)}
        if viewer is not None:
            for c in self.store.user_collections_holding(viewer.id, paper_id):
                found.setdefault(c.id, c)
        return list(found.values())

    def of_user(self, viewer: User | None, owner: User) -> list[Collection]:
        """``owner``'s collections that ``viewer`` may see (their private ones and library only to them)."""
        return [c for c in self.store.user_collections(owner.id) if self.may_see(viewer, c)]

    def public(self, sort: str = "upvotes", page: int = 1, per_page: int = 30, paper_id: str | None = None,
               owner: str | None = None) -> list[Collection]:
        if sort not in SORTS:
            raise BadInput(f"sort is one of {', '.join(SORTS)}")
        owner_id = None
        if owner is not None:
            user = self.store.get_user_by_username(owner)
            if user is None:
                return []
            owner_id = user.id
        return self.store.public_collections(paper_id, "upvotes" if sort == "trending" else sort, per_page,
                                             (page - 1) * per_page, owner_id)

    # ---- writes by the owner
    def create(self, viewer: User | None, title: str, description: str = "", private: bool = False) -> Collection:
        owner = self._signed_in(viewer)
        if self.store.count_user_collections(owner.id) >= COLLECTIONS_MAX:
            raise BadInput(f"you have {COLLECTIONS_MAX} collections already, the most one reader may have")
        return self.store.create_collection(owner.id, _text(title, TITLE_MAX, "title", True),
                                            _text(description, DESCRIPTION_MAX, "description"), private)

    def update(self, viewer: User | None, collection_id: int, *, title: str | None = None,
               description: str | None = None, private: bool | None = None, theme: str | None = None) -> Collection:
        found = self._own(viewer, collection_id)
        if found.is_library and (title is not None or private is False):
            raise BadInput("the library is always private and keeps its name; make a collection to share papers")
        if theme is not None and theme not in THEMES:
            raise BadInput(f"theme is one of {', '.join(THEMES)}")
        return self.store.update_collection(
            found.id, title=None if title is None else _text(title, TITLE_MAX, "title", True),
            description=None if description is None else _text(description, DESCRIPTION_MAX, "description"),
            private=private, theme=theme)

    def delete(self, viewer: User | None, collection_id: int) -> bool:
        found = self._own(viewer, collection_id)
        if found.is_library:
            raise BadInput("the library cannot be deleted (remove its papers instead)")
        return self.store.delete_collection(found.id)

    def add(self, viewer: User | None, collection_id: int, paper_id: str, note: str = "") -> tuple[CollectionItem, bool]:
        found = self._own(viewer, collection_id)
        paper = self.catalog.visible_paper(paper_id, viewer)
        if found.items >= ITEMS_MAX:
            raise BadInput(f"a collection holds at most {ITEMS_MAX} papers")
        return self.store.add_collection_item(found.id, paper.id, _text(note, NOTE_MAX, "note"))

    def update_item(self, viewer: User | None, collection_id: int, item_id: int, note: str | None = None,
                    position: int | None = None) -> CollectionItem:
        found = self._own(viewer, collection_id)
        if position is not None and not 1 <= position <= ITEMS_MAX:
            raise BadInput(f"position is between 1 and {ITEMS_MAX}")
        return self.store.update_collection_item(found.id, item_id, position=position,
                                                 note=None if note is None else _text(note, NOTE_MAX, "note"))

    def remove(self, viewer: User | None, collection_id: int, item_id: int) -> bool:
        found = self._own(viewer, collection_id)
        if not self.store.remove_collection_item(found.id, item_id):
            raise NotFound(f"no item {item_id} in this collection")
        return True

    def upvote(self, viewer: User | None, collection_id: int, on: bool = True) -> Collection:
        reader = self._signed_in(viewer)
        found = self.get(reader, collection_id)
        if found.private or found.is_library:
            raise BadInput("only public collections take upvotes")
        self.store.set_collection_upvote(found.id, reader.id, on)
        return self.get(reader, found.id)

    def hide(self, admin: User | None, collection_id: int, hidden: bool = True) -> bool:
        if admin is None or not admin.is_admin:
            raise Forbidden("only administrators hide collections")
        if self.store.get_collection(collection_id) is None:
            raise NotFound(f"no collection {collection_id}")
        return self.store.set_collection_hidden(collection_id, hidden, admin.id)

    # ---- helpers
    @staticmethod
    def _signed_in(viewer: User | None) -> User:
        if viewer is None:
            raise Unauthorized("log in to keep collections")
        return viewer

    def _own(self, viewer: User | None, collection_id: int) -> Collection:
        owner = self._signed_in(viewer)
        found = self.get(owner, collection_id)
        if found.owner_id != owner.id:
            raise Forbidden("only its owner can change a collection")
        return found


def conflict_if(added: bool, what: str) -> None:
    if not added:
        raise Conflict(what)
