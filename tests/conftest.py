"""Shared fixtures (a scriptable local HTTP server, the real data folder) and the CI rule on skips.

Under ``CI=true`` a skip is a failure. CI has ``../shared/data``, the embedding weights and
chromium, so a test that skips there is a test that silently stopped running (about 175 did
when the data folder went missing). A skip that is fine even in CI (the environment differs
on purpose, e.g. an optional package happens to be installed) carries
``@pytest.mark.ci_may_skip``. Module-level skips (``allow_module_level=True``,
``importorskip``) become collection errors, which stop the run: no marker can exempt them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.fakes.server import FakeHTTP

from .helpers import SHARED
from .pg_support import pg_server, pg_url, store, store_url  # noqa: F401  (fixtures: a real PostgreSQL server)
from .recs_support import recs_site  # noqa: F401  (fixture: the recommendation tests' real site)

CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")
_CI_RULE = ("skipped under CI=true, which counts as a failure: CI must have ../shared/data "
            "(or $PAPERSIFT_SHARED_DATA), the embedding weights and chromium; mark a test "
            "@pytest.mark.ci_may_skip only when its skip is legitimate in CI too")


def pytest_configure(config):
    config.addinivalue_line("markers", "ci_may_skip: the test's skip is legitimate even under CI=true "
                                       "(otherwise a skip there is a failure, see tests/conftest.py)")


def _skip_reason(longrepr) -> str:
    # a skip's longrepr is (path, line, "Skipped: reason")
    return longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if (CI and report.skipped and not hasattr(report, "wasxfail")
            and item.get_closest_marker("ci_may_skip") is None):
        report.outcome = "failed"
        report.longrepr = f"{_skip_reason(report.longrepr)}\n{_CI_RULE}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if CI and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"{_skip_reason(report.longrepr)}\n{_CI_RULE}"


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
    """``../shared/data`` beside the checkout (or $PAPERSIFT_SHARED_DATA); skips where it is absent
    (a failure under CI=true)."""
    if not SHARED.is_dir():
        pytest.skip(f"../shared/data not found: expected the real data folder at {SHARED} "
                    "(CI has shared/ beside the checkout; a fresh clone does not)")
    return SHARED
