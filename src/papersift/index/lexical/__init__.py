"""The lexical index over tantivy: BM25 search, sorts and snippets (``bm25.py``), the schema and text
analyzers (``schema.py``), dates as tantivy holds them (``dates.py``), the passing sets kept per filter
(``passing.py``) and the snippets as safe HTML (``snippets.py``)."""
