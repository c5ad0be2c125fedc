"""Measurements the CLI runs: `papersift eval` (retrieval quality on BEIR folders) and `papersift eval-recs`."""
