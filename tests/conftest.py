"""Shared fixtures (a scriptable local HTTP server, the real data folder) and the CI rule on skips.

Under ``CI=true`` a skip is a failure. CI has ``../shared/data``, the embedding weights and
chromium, so a test that skips there is a test that silently stopped running (about 175 did
when the data folder went missing). A skip that is fine even in CI (the environment differs
on purpose, e.g. an optional package happens to be installed) carries
``@pytest.mark.ci_may_skip``. Module-level skips (``allow_module_level=True``,
``importorskip``) become collection errors, which stop the run: no marker can exempt them.

Markers (registered in pyproject.toml) say what a test needs beyond the checkout: ``shared_data``
(the full real data folder), ``pg`` (a PostgreSQL server), ``browser`` (chromium), ``slow``. The first
two are put on by the fixtures a test uses (below), so a new test cannot forget them. On a clone without
``../shared/data`` the ``shared_data`` tests are left out (skipped, with one line saying how many at the
end); the rest run on the committed sample in tests/data/.
"""

from __future__ import annotations

import collections
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


# a test that uses one of these fixtures gets the marker (the ``store`` fixture's PostgreSQL param carries
# ``pg`` itself, tests/pg_support.py)
_MARKED_BY_FIXTURE = {"shared_data": "shared_data", "pg_server": "pg", "pg_url": "pg"}
_NO_SHARED = f"../shared/data not found at {SHARED} (set PAPERSIFT_SHARED_DATA to the real data folder)"


def _unique_node_ids(items) -> None:
    # schemathesis names each generated test after its API operation ("test_x[GET /api/health]"), but
    # under pytest 9 all of them get the test function's node id; pytest-xdist schedules and reports by
    # node id, so all but one would silently not run. The operation goes back into the id.
    counts = collections.Counter(item.nodeid for item in items)
    for item in items:
        if counts[item.nodeid] > 1 and item.name.endswith("]") and not item.nodeid.endswith("]"):
            params = item.name[item.name.index("[") + 1:-1]
            node_id = getattr(item, "_id", None)
            if hasattr(node_id, "with_params"):  # pytest >= 9 keeps the id as a NodeId
                item._id = node_id.with_params(params)
            else:
                item._nodeid = f"{item.nodeid}[{params}]"


def pytest_collection_modifyitems(config, items):
    _unique_node_ids(items)
    absent = not SHARED.is_dir()
    for item in items:
        for fixture, marker in _MARKED_BY_FIXTURE.items():
            if fixture in item.fixturenames and item.get_closest_marker(marker) is None:
                item.add_marker(marker)
        if absent and item.get_closest_marker("shared_data") is not None:
            item.add_marker(pytest.mark.skip(reason=f"needs the full real data: {_NO_SHARED}"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter):
    # the outermost wrapper: the line comes after pytest's short summary, just above the counts
    result = yield
    # skip reports carry the test's markers among their keywords, under pytest-xdist too
    left_out = [r for r in terminalreporter.stats.get("skipped", []) if "shared_data" in r.keywords]
    if left_out:
        terminalreporter.write_line(f"left out {len(left_out)} tests marked shared_data: {_NO_SHARED}")
    return result


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


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` beside the checkout (or $PAPERSIFT_SHARED_DATA); skips where it is absent
    (a failure under CI=true). A test that uses it is marked ``shared_data``; one that needs the folder
    without the fixture (a module-scoped fixture of its own) carries the marker itself."""
    if not SHARED.is_dir():
        pytest.skip(f"../shared/data not found: expected the real data folder at {SHARED} "
                    "(CI has shared/ beside the checkout; a fresh clone does not)")
    return SHARED
