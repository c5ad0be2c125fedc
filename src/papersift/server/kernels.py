"""One thread per numeric kernel call in the server: the requests are already the parallelism.

numpy's OpenBLAS (the rescoring products) and faiss's OpenMP start a team of threads on every core
for each call and leave it spinning afterwards. A server answering from ~40 request threads on 2
cores then lost those cores to spinning teams: on the 80K load test (200 users, 3 s think time) a
p99 of ~1.45 s, against 0.38-0.77 s with one thread per kernel (docs/BENCHMARKS.md, "An id-only
lexical index and one thread per kernel").
faiss's OpenMP setting is per thread in libgomp, so the vector index also sets it on each searching
thread (index/vectors/hnsw.py); a graph build there asks for its cores back.
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits


def single_threaded_kernels() -> None:
    """Limit the BLAS and OpenMP libraries loaded so far to one thread each (for the whole process)."""
    import faiss  # noqa: F401 - loaded first, so that its libraries are among those limited
    import numpy  # noqa: F401

    threadpool_limits(limits=1)
