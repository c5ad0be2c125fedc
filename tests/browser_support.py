"""Shared pieces of the browser tests: Debian's chromium driven by Playwright, and axe-core.

``require_chromium()`` at the top of a test module skips it where chromium or playwright is missing
(a failure under CI, which installs both: .ci/run, pyproject's test extra); the ``browser`` fixture (one headless chromium a
module) is in tests/system/conftest.py. ``axe_violations`` runs
the axe-core engine that the ``axe-playwright-python`` package ships (no download at run time) on
the page as it is, limited to the WCAG 2.x A and AA rules.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def require_chromium() -> None:
    """Skip the calling test module without chromium (CI installs it, so there it is an error)."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CI"):  # CI installs chromium (.ci/run): a missing browser there is a failure
        raise RuntimeError(f"{CHROMIUM} not found in CI: .ci/run should have installed Debian's chromium")
    pytest.skip(f"{CHROMIUM} not found: install Debian's chromium (`apt-get install -y chromium`, which "
                ".ci/run does) to run the browser tests", allow_module_level=True)


def axe_violations(page) -> list[str]:
    """axe-core's WCAG A/AA violations on ``page``, one line each (rule: the first few offending nodes)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_A_AA},
                                       "resultTypes": ["violations"]})
    return [f"{v['id']}: " + "; ".join(" ".join(n["target"]) for n in v["nodes"][:3])
            for v in results.response["violations"]]

