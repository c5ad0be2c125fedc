"""The vector index: the `VectorIndex` protocol (``protocol.py``), the exact in-RAM reference
(``exact.py``), and the default, an HNSW graph over int8 codes (``hnsw.py``) rescored from the float16
rows of a crash-safe append-only file (``vector_file.py``)."""
