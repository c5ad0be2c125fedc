"""papersift's benchmarks, one entry point: ``python -m bench list | run NAME [ARGS] | check`` (docs/BENCHMARKS.md)."""
