"""Units: one module or function at a time, no server (formats, parsers, ranking, indexes, settings)."""
