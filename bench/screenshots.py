"""Screenshots of the website for the docs: feed (desktop and phone), search, paper page.

    python bench/screenshots.py [--db /tmp/papersift-render-bench/papersift.db] [--out docs/screenshots]

Uses the full-corpus copy that bench/page_render.py makes (real organisations, code links and
stars); without it, a store built from the first 3,000 lines of the Hugging Face archive. Drives
Debian's /usr/bin/chromium through Playwright, like tests/test_e2e_browser.py. The store is only
read. Prints one JSON line with the files written.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from papersift.server.app import create_app
from papersift.service import Papersift

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def service(db: Path) -> Papersift:
    if db.exists():
        return Papersift(db, embedder=False)
    sys.path.insert(0, str(ROOT))
    from tests.web_support import build_service  # the test sample: real HF lines

    return build_service(Path(tempfile.mkdtemp(prefix="papersift-shots-")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", type=Path, default=Path("/tmp/papersift-render-bench/papersift.db"))
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    ap.add_argument("--day", help="feed day to show (default: the busiest day with organisations)")
    ap.add_argument("--paper", help="paper id for paper.png (default: a well-upvoted paper with code)")
    ap.add_argument("--query", default="video diffusion")
    args = ap.parse_args()

    svc = service(args.db)
    db = svc.store._db  # picking examples only; the pages come over HTTP
    day = args.day or db.execute(
        "SELECT f.day FROM feed_entries f JOIN papers p ON p.id = f.paper_id GROUP BY f.day"
        " ORDER BY SUM(p.organization IS NOT NULL) DESC, f.day DESC LIMIT 1").fetchone()[0]
    paper = args.paper or db.execute(
        "SELECT id FROM papers WHERE has_code = 1 ORDER BY organization IS NOT NULL DESC, upvotes DESC LIMIT 1"
    ).fetchone()[0]
    server = uvicorn.Server(uvicorn.Config(create_app(svc, background=False), host="127.0.0.1", port=0,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    args.out.mkdir(parents=True, exist_ok=True)
    shots = {
        "feed.png": (f"/papers/date/{day}?sort=upvotes", {"width": 1280, "height": 1100}),
        "search.png": (f"/search?q={args.query.replace(' ', '+')}&has_code=true", {"width": 1280, "height": 1100}),
        "paper.png": (f"/papers/{paper}", {"width": 1280, "height": 1300}),
        "feed-mobile.png": (f"/papers/date/{day}?sort=upvotes", {"width": 390, "height": 844}),
    }
    written = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for name, (path, viewport) in shots.items():
                page = browser.new_page(viewport=viewport, device_scale_factor=1)
                page.goto(base + path)
                page.screenshot(path=str(args.out / name))
                written.append(str((args.out / name).relative_to(ROOT) if args.out.is_relative_to(ROOT) else
                                   args.out / name))
                page.close()
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=30)
    print(json.dumps({"bench": "screenshots", "day": day, "paper": paper, "files": written}))


if __name__ == "__main__":
    main()
