"""Derived, rebuildable data: the lexical index (``lexical/``, tantivy), the vector index (``vectors/``),
and ``indexes.py``, which keeps both in step with the store."""
