"""`papersift harvest` end to end: the CLI against local servers speaking the arXiv and HF wire formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from papersift.service import Papersift
from tests.fakes.server import Reply, fixture

TOKEN2, TOKEN3 = "6961524|1001", "6961524|2001"


def harvest(db, fake_http, *args):
    env = {**os.environ, "PAPERSIFT_DB": str(db), "PAPERSIFT_ARXIV_OAI_URL": fake_http.url + "/oai",
           "PAPERSIFT_HF_URL": fake_http.url}
    return subprocess.run([sys.executable, "-m", "papersift.cli", "harvest", *args, "--json"],
                          capture_output=True, text=True, env=env, timeout=120)


def test_arxiv_harvest_stores_papers_and_continues_from_where_it_reached(tmp_path, fake_http):
    fake_http.script("/oai", fixture("oai_page1.xml"), query={"verb": "ListRecords", "from": "2025-03-17"})
    fake_http.script("/oai", fixture("oai_page2.xml"), query={"resumptionToken": TOKEN2})
    fake_http.script("/oai", fixture("oai_page3.xml"), query={"resumptionToken": TOKEN3})
    fake_http.script("/oai", fixture("oai_no_records.xml"), query={"verb": "ListRecords", "from": "2025-03-18"})
    db = tmp_path / "p.db"
    proc = harvest(db, fake_http, "arxiv", "--from", "2025-03-17", "--until", "2025-03-18")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)["arxiv"]
    assert report["inserted"] == 5 and report["bad"] == 1 and report["bad_lines"][0]["line"] > 0
    svc = Papersift(db, embedder=False)
    assert svc.store.count_papers() == 5 and svc.paper("cs/9901001").title
    assert svc.search("the", mode="bm25").total >= 1  # searchable right away
    # The next run without --from starts at the day the previous one reached, not from scratch.
    again = harvest(db, fake_http, "arxiv")
    assert again.returncode == 0, again.stderr
    last = fake_http.requests_to("/oai")[-1].query
    assert last["from"] == "2025-03-18" and "resumptionToken" not in last
    assert json.loads(again.stdout)["arxiv"]["inserted"] == 0


def test_hf_harvest_skips_a_rejected_day_and_keeps_the_others(tmp_path, fake_http):
    fake_http.script("/api/daily_papers", fixture("hf_daily_2025-03-17.json"), query={"date": "2025-03-17"})
    fake_http.script("/api/daily_papers", Reply(400, {"Content-Type": "application/json"}, '{"error": "bad date"}'),
                     query={"date": "2025-03-16"})
    fake_http.script("/api/daily_papers", "[]", query={"date": "2025-03-15"})
    db = tmp_path / "p.db"
    env = {**os.environ, "PAPERSIFT_DB": str(db), "PAPERSIFT_HF_URL": fake_http.url}
    code = ("import sys; from papersift.service import Papersift; "
            "r = Papersift(sys.argv[1], embedder=False).harvest_hf(['2025-03-15', '2025-03-16', '2025-03-17'], "
            "base_url=sys.argv[2]); import json; print(json.dumps(r.as_dict()))")
    proc = subprocess.run([sys.executable, "-c", code, str(db), fake_http.url], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    expected = 2  # the fixture's third item has negative upvotes: reported, skipped
    assert report["inserted"] == expected and report["bad"] == 2
    assert {"2025-03-16", "2025-03-17"} == {b["error"][:10] for b in report["bad_lines"]}
    feed = Papersift(db, embedder=False).daily("2025-03-17")
    assert feed.total == expected and len(feed.items) == expected


def test_harvest_of_an_unreachable_source_is_a_clean_error(tmp_path, fake_http):
    proc = harvest(tmp_path / "p.db", fake_http, "arxiv", "--from", "2025-03-17")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and proc.stderr.strip()


def test_an_arxiv_harvest_tells_a_progress_bar_the_list_s_size(tmp_path, fake_http):
    # OAI-PMH gives the whole list's size (completeListSize) with its first page: the bar shows n/6, not n/?
    fake_http.script("/oai", fixture("oai_page1.xml"), query={"verb": "ListRecords", "from": "2025-03-17"})
    fake_http.script("/oai", fixture("oai_page2.xml"), query={"resumptionToken": TOKEN2})
    fake_http.script("/oai", fixture("oai_page3.xml"), query={"resumptionToken": TOKEN3})

    class Bar:
        def __init__(self):
            self.totals: list[int] = []
            self.done = 0

        def __call__(self, n: int = 1) -> None:
            self.done += n

        def total(self, n: int) -> None:
            self.totals.append(n)

    bar = Bar()
    svc = Papersift(tmp_path / "p.db", embedder=False)
    svc.harvest_arxiv("2025-03-17", "2025-03-18", base_url=fake_http.url + "/oai", progress=bar)
    assert bar.totals and set(bar.totals) == {6} and bar.done == 5
    assert svc.harvest_arxiv("2025-03-17", "2025-03-18", base_url=fake_http.url + "/oai",
                             progress=lambda n: None).result.unchanged == 5  # a plain callable still works
