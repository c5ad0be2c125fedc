"""Collections: a user's lists of papers with a note each (the library is one, private), and their
upvotes. The queries, written once for both backends (sql.py says what differs between them).

Positions run 1..n without gaps: adding appends, a move shifts the items between the old and the
new place, a removal closes the gap, each in one write transaction."""

from __future__ import annotations

from papersift.errors import NotFound
from papersift.model import Collection, CollectionItem
from papersift.store.sql import Connection, Queries

_COLLECTION = (
    "SELECT c.id, c.owner_id, c.title, c.description, c.private, c.is_library, c.theme, c.hidden_at, c.created_at,"
    " c.updated_at, u.username, u.name, u.hidden,"
    " (SELECT COUNT(*) FROM collection_items i WHERE i.collection_id = c.id),"
    " (SELECT COUNT(*) FROM collection_upvotes v JOIN users w ON w.id = v.user_id AND NOT w.hidden"
    "  WHERE v.collection_id = c.id)"
    " FROM collections c JOIN users u ON u.id = c.owner_id")
# Anyone may see it: public, not hidden, its owner not hidden (the library is always private)
PUBLIC = "NOT c.private AND NOT c.is_library AND c.hidden_at IS NULL AND NOT u.hidden"
_ITEM = "SELECT id, collection_id, paper_id, note, position, added_at FROM collection_items"
SORTS = {"upvotes": "15 DESC, c.updated_at DESC, c.id DESC", "lastModified": "c.updated_at DESC, c.id DESC",
         "newest": "c.created_at DESC, c.id DESC"}


def _collection(row) -> Collection:
    (cid, owner, title, description, private, library, theme, hidden_at, created, updated, handle, name,
     owner_hidden, items, upvotes) = row
    return Collection(cid, owner, title, description, bool(private), bool(library), theme, hidden_at, created, updated,
                      handle or f"user{owner}", name, bool(owner_hidden), items, upvotes)


class CollectionTables(Queries):
    """Queries on the collection tables (mixed into each backend's store)."""

    def create_collection(self, owner_id: int, title: str, description: str = "", private: bool = False,
                          theme: str | None = None) -> Collection:
        now = self._now()
        with self._transaction() as conn:
            cid = self.dialect.new_id(conn, "INSERT INTO collections(owner_id, title, description, private, theme,"
                                      " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                                      (owner_id, title, description, private, theme, now, now))
        return self._stored_collection(cid)

    def get_collection(self, collection_id: int) -> Collection | None:
        row = self._one(f"{_COLLECTION} WHERE c.id = ?", (collection_id,))
        return _collection(row) if row else None

    def _stored_collection(self, collection_id: int) -> Collection:
        found = self.get_collection(collection_id)
        if found is None:
            raise NotFound(f"no collection {collection_id}")
        return found

    def user_collections(self, owner_id: int) -> list[Collection]:
        """Every collection of the owner (the library first, then the newest), whatever its state."""
        return [_collection(r) for r in self._all(f"{_COLLECTION} WHERE c.owner_id = ?"
                                                  " ORDER BY c.is_library DESC, c.updated_at DESC, c.id DESC", (owner_id,))]

    def public_collections(self, paper_id: str | None = None, sort: str = "upvotes", limit: int = 50,
                           offset: int = 0, owner_id: int | None = None) -> list[Collection]:
        """Public collections (holding ``paper_id``, of ``owner_id`` when given) in ``sort`` order."""
        where: list[str] = [PUBLIC]
        args: list[str | int] = []
        if paper_id is not None:
            where.append("EXISTS (SELECT 1 FROM collection_items i WHERE i.collection_id = c.id AND i.paper_id = ?)")
            args.append(paper_id)
        if owner_id is not None:
            where.append("c.owner_id = ?")
            args.append(owner_id)
        rows = self._all(f"{_COLLECTION} WHERE {' AND '.join(where)} ORDER BY {SORTS[sort]} LIMIT ? OFFSET ?",
                         (*args, limit, offset))
        return [_collection(r) for r in rows]

    def user_collections_holding(self, owner_id: int, paper_id: str) -> list[Collection]:
        """The owner's collections (any state, the library included) that hold the paper."""
        return [_collection(r) for r in self._all(
            f"{_COLLECTION} WHERE c.owner_id = ? AND EXISTS (SELECT 1 FROM collection_items i WHERE"
            " i.collection_id = c.id AND i.paper_id = ?) ORDER BY c.is_library DESC, c.updated_at DESC, c.id DESC",
            (owner_id, paper_id))]

    def count_user_collections(self, owner_id: int) -> int:
        return self._value("SELECT COUNT(*) FROM collections WHERE owner_id = ?", (owner_id,))

    def update_collection(self, collection_id: int, *, title: str | None = None, description: str | None = None,
                          private: bool | None = None, theme: str | None = None) -> Collection:
        changes = [(col, val) for col, val in (("title", title), ("description", description), ("private", private),
                                              ("theme", theme)) if val is not None]
        sets = ", ".join([f"{col} = ?" for col, _ in changes] + ["updated_at = ?"])  # fixed column names
        with self._transaction() as conn:
            conn.execute(f"UPDATE collections SET {sets} WHERE id = ?", (*[v for _, v in changes], self._now(),
                                                                        collection_id))
        return self._stored_collection(collection_id)

    def delete_collection(self, collection_id: int) -> bool:
        with self._transaction() as conn:
            conn.execute("DELETE FROM collection_items WHERE collection_id = ?", (collection_id,))
            conn.execute("DELETE FROM collection_upvotes WHERE collection_id = ?", (collection_id,))
            return conn.execute("DELETE FROM collections WHERE id = ?", (collection_id,)).rowcount > 0

    def set_collection_hidden(self, collection_id: int, hidden: bool, by_user: int | None = None) -> bool:
        with self._transaction() as conn:
            if hidden:
                return conn.execute("UPDATE collections SET hidden_at = ?, hidden_by = ? WHERE id = ?"
                                    " AND hidden_at IS NULL", (self._now(), by_user, collection_id)).rowcount > 0
            return conn.execute("UPDATE collections SET hidden_at = NULL, hidden_by = NULL WHERE id = ?"
                                " AND hidden_at IS NOT NULL", (collection_id,)).rowcount > 0

    # ---- items
    def collection_items(self, collection_id: int) -> list[CollectionItem]:
        return [CollectionItem(*r) for r in self._all(f"{_ITEM} WHERE collection_id = ? ORDER BY position, id",
                                                      (collection_id,))]

    def add_collection_item(self, collection_id: int, paper_id: str, note: str = "") -> tuple[CollectionItem, bool]:
        """Append the paper; (the item, whether it was added: False when it was there already)."""
        now = self._now()
        with self._transaction() as conn:
            added = conn.execute(self.dialect.ignoring(
                "INSERT INTO collection_items(collection_id, paper_id, note, position, added_at) SELECT ?, ?, ?,"
                " COALESCE(MAX(position), 0) + 1, ? FROM collection_items WHERE collection_id = ?"),
                (collection_id, paper_id, note, now, collection_id)).rowcount > 0
            if added:
                self._touch(conn, collection_id)
            row = conn.execute(f"{_ITEM} WHERE collection_id = ? AND paper_id = ?", (collection_id, paper_id)).fetchone()
        return CollectionItem(*row), added

    def update_collection_item(self, collection_id: int, item_id: int, *, note: str | None = None,
                               position: int | None = None) -> CollectionItem:
        with self._transaction() as conn:
            row = conn.execute(f"{_ITEM} WHERE collection_id = ? AND id = ?", (collection_id, item_id)).fetchone()
            if row is None:
                raise NotFound(f"no item {item_id} in this collection")
            if note is not None:
                conn.execute("UPDATE collection_items SET note = ? WHERE id = ?", (note, item_id))
            if position is not None:
                self._move(conn, collection_id, item_id, row[4], position)
            self._touch(conn, collection_id)
            return CollectionItem(*conn.execute(f"{_ITEM} WHERE id = ?", (item_id,)).fetchone())

    def _move(self, conn: Connection, collection_id: int, item_id: int, old: int, new: int) -> None:
        last = conn.execute("SELECT COUNT(*) FROM collection_items WHERE collection_id = ?", (collection_id,)).fetchone()[0]
        new = max(1, min(new, last))
        if new == old:
            return
        # park the item outside 1..n, shift the ones between, then place it (no unique index on position)
        if new < old:
            conn.execute("UPDATE collection_items SET position = position + 1 WHERE collection_id = ?"
                         " AND position >= ? AND position < ?", (collection_id, new, old))
        else:
            conn.execute("UPDATE collection_items SET position = position - 1 WHERE collection_id = ?"
                         " AND position > ? AND position <= ?", (collection_id, old, new))
        conn.execute("UPDATE collection_items SET position = ? WHERE id = ?", (new, item_id))

    def remove_collection_item(self, collection_id: int, item_id: int) -> bool:
        with self._transaction() as conn:
            row = conn.execute("SELECT position FROM collection_items WHERE collection_id = ? AND id = ?",
                               (collection_id, item_id)).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM collection_items WHERE id = ?", (item_id,))
            conn.execute("UPDATE collection_items SET position = position - 1 WHERE collection_id = ? AND position > ?",
                         (collection_id, row[0]))
            self._touch(conn, collection_id)
            return True

    def _touch(self, conn: Connection, collection_id: int) -> None:
        conn.execute("UPDATE collections SET updated_at = ? WHERE id = ?", (self._now(), collection_id))

    # ---- upvotes
    def set_collection_upvote(self, collection_id: int, user_id: int, on: bool) -> bool:
        with self._transaction() as conn:
            if on:
                return conn.execute(self.dialect.ignoring("INSERT INTO collection_upvotes(collection_id, user_id,"
                                                          " created_at) VALUES (?, ?, ?)"),
                                    (collection_id, user_id, self._now())).rowcount > 0
            return conn.execute("DELETE FROM collection_upvotes WHERE collection_id = ? AND user_id = ?",
                                (collection_id, user_id)).rowcount > 0

    def user_upvoted_collection(self, collection_id: int, user_id: int) -> bool:
        return self._one("SELECT 1 FROM collection_upvotes WHERE collection_id = ? AND user_id = ?",
                         (collection_id, user_id)) is not None
