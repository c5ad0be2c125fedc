"""Fakes for tests: a scriptable local HTTP server and recorded-shape wire responses."""
