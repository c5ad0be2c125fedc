"""Screenshots of the website for the docs: feed (desktop and phone), search, paper page.

    python -m bench run screenshots [--workdir DIR] [--out docs/screenshots]

On the 80K workdir (real organisations, code links and stars; built first when missing), which is only
read. Drives Debian's /usr/bin/chromium through Playwright, like tests/system/test_e2e_browser.py.
The result lists the files written.
"""

from __future__ import annotations

import argparse
import sqlite3
from pathlib import Path

from playwright.sync_api import sync_playwright

from bench import corpus80k
from bench.common import ROOT, app_server, workdir
from papersift.server.app import create_app
from papersift.service import Papersift

NEEDS = "chromium (/usr/bin/chromium) and playwright; the 80K workdir (built first when missing)"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def examples(db: Path) -> tuple[str, str]:
    """The feed day with the most papers from organisations, and a well-upvoted paper with code."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        day = conn.execute(
            "SELECT f.day FROM feed_entries f JOIN papers p ON p.id = f.paper_id GROUP BY f.day"
            " ORDER BY SUM(p.organization IS NOT NULL) DESC, f.day DESC LIMIT 1").fetchone()[0]
        paper = conn.execute("SELECT id FROM papers WHERE has_code = 1"
                             " ORDER BY organization IS NOT NULL DESC, upvotes DESC LIMIT 1").fetchone()[0]
    return day, paper


def shoot(base: str, shots: dict, out: Path) -> list[str]:
    written = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name, (path, viewport) in shots.items():
            page = browser.new_page(viewport=viewport, device_scale_factor=1)
            page.goto(base + path)
            page.screenshot(path=str(out / name))
            written.append(str((out / name).relative_to(ROOT) if out.is_relative_to(ROOT) else out / name))
            page.close()
        browser.close()
    return written


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(prog="python -m bench run screenshots", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workdir", type=Path, default=workdir("80k"))
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--day", help="feed day to show (default: the busiest day with organisations)")
    ap.add_argument("--paper", help="paper id for paper.png (default: a well-upvoted paper with code)")
    ap.add_argument("--query", default="video diffusion")
    args = ap.parse_args(argv)
    if not Path("/usr/bin/chromium").exists():
        raise SystemExit("no /usr/bin/chromium: apt-get install chromium")
    db = corpus80k.ensure(args.workdir)
    day, paper = examples(db)
    day, paper = args.day or day, args.paper or paper
    svc = Papersift(db, embedder=False)
    args.out.mkdir(parents=True, exist_ok=True)
    shots = {
        "feed.png": (f"/papers/date/{day}?sort=upvotes", {"width": 1280, "height": 1100}),
        "search.png": (f"/search?q={args.query.replace(' ', '+')}&has_code=true", {"width": 1280, "height": 1100}),
        "paper.png": (f"/papers/{paper}", {"width": 1280, "height": 1300}),
        "feed-mobile.png": (f"/papers/date/{day}?sort=upvotes", {"width": 390, "height": 844}),
    }
    try:
        with app_server(create_app(svc, background=False)) as base:
            written = shoot(base, shots, args.out)
    finally:
        svc.close()
    return {"day": day, "paper": paper, "files": written}
