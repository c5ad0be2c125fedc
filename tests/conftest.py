"""Shared fixtures: a scriptable local HTTP server, and the real data folder beside the repo."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fakes.server import FakeHTTP


@pytest.fixture
def fake_http():
    """A real HTTP server on 127.0.0.1 (random port); script replies with ``.script(path, ...)``."""
    server = FakeHTTP()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` beside the checkout; skips (never fails) where it is absent."""
    path = Path(__file__).resolve().parents[2] / "shared" / "data"
    if not path.is_dir():
        pytest.skip(f"../shared/data not found: expected the real data folder at {path} "
                    "(CI has shared/ beside the checkout; a fresh clone does not)")
    return path
