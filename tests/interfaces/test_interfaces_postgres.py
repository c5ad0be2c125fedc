"""The JSON API, the website's accounts flows and the email digests, on PostgreSQL.

The same test functions as tests/interfaces/test_api.py, tests/interfaces/test_web_accounts.py and
tests/interfaces/test_digest_web.py (imported, so pytest runs them here too, unchanged), over the same real
sample of the HF archive, the same planted papers and the same real servers (uvicorn, the fake
arXiv, aiosmtpd, ``papersift digest send`` processes); only the fixtures differ: the service
here is on a fresh PostgreSQL database. Together with those modules this is the parametrisation
over both backends (each backend's run is collected once: the SQLite one there, this one here).
Left out: the tests that read SQLite's tables directly (``store._db``), which stay SQLite-only,
and the ones that build a store of their own (they do not take the fixtures).
"""

from __future__ import annotations

import pytest

from papersift.config import DigestSettings, Settings, SMTPSettings
from papersift.digest import Digests
from papersift.server.app import create_app
from papersift.service import Papersift
from tests.fakes.server import FakeHTTP, fixture

from ..helpers import head_jsonl, running_server
from ..smtp_support import SMTPServer
from ..web_support import FAST_HASHER, HF_ARCHIVE, planted_papers
from .test_api import (  # noqa: F401  (collected and run here, on PostgreSQL)
    test_bad_input_is_a_json_4xx,
    test_health_and_openapi,
    test_paper_similar_and_daily,
    test_search_with_snippets_and_filters,
    test_the_hf_routes_answer_hf_shapes_and_errors,
)
from .test_digest_web import (  # noqa: F401
    test_an_active_address_gets_a_manage_link_not_a_change,
    test_bad_subscribe_input_is_a_400_with_the_reason,
    test_forged_expired_and_misused_tokens_change_nothing,
    test_hostile_metadata_is_text_in_every_part_of_the_digest,
    test_subscribe_page_prefills_from_email_me_links,
    test_subscribing_from_account_settings,
    topic_papers,
)
from .test_web_accounts import (  # noqa: F401
    test_admin_hides_papers_and_users,
    test_api_tokens_vote_save_submit,
    test_daily_papers_api_speaks_hf_parameters,
    test_forged_or_missing_csrf_is_403,
    test_local_votes_add_to_source_upvotes_and_rank_the_feed,
    test_login_throttling_per_email_and_address,
    test_save_and_library,
    test_session_cookie_is_secure_over_https,
    test_sign_up_errors_are_shown_on_the_form,
    test_submit_a_paper_by_arxiv_id,
    test_vote_without_js_is_a_form_post_and_idempotent,
)


@pytest.fixture(scope="module")
def pg_database(pg_server):
    """One fresh database per module (the flows of one module share a site, as there)."""
    name = pg_server.create_database()
    url = pg_server.url(name)
    yield url
    site = _SITES.pop(url, None)
    if site is not None:
        site.close()
    pg_server.drop_database(name)


@pytest.fixture(scope="module")
def index_env(tmp_path_factory):
    """PAPERSIFT_INDEX_DIR for the module: the CLI processes the tests start (``digest send``)
    need it on a postgresql:// database, which has no file to keep indexes beside."""
    with pytest.MonkeyPatch.context() as patch:
        folder = tmp_path_factory.mktemp("pg-index")
        patch.setenv("PAPERSIFT_INDEX_DIR", str(folder))
        yield folder


def pg_site(url: str, index_dir, tmp, lines: int = 3000) -> Papersift:
    """web_support.build_service on PostgreSQL: the same sample and planted papers."""
    sample = head_jsonl(HF_ARCHIVE, tmp / "hf.jsonl", lines)
    svc = Papersift(url, index_dir=index_dir, embedder=False, settings=Settings(), password_hasher=FAST_HASHER)
    svc.ingest_file("hf-daily", sample)
    svc.store.upsert_papers(planted_papers())
    svc.indexes_lexical_only().sync_lexical()
    return svc


@pytest.fixture(scope="module")
def api(tmp_path_factory, pg_database, index_env):
    """test_api.py's fixture on PostgreSQL."""
    import httpx

    svc = shared_site(tmp_path_factory, pg_database, index_env)
    with running_server(create_app(svc, background=False)) as base:
        with httpx.Client(base_url=base, timeout=30) as client:
            yield client


_SITES: dict[str, Papersift] = {}


def shared_site(tmp_path_factory, url, index_dir) -> Papersift:
    """One loaded database for the API, accounts and digest flows (loading is the slow part):
    the modules' flows use different accounts, addresses and papers, as they do on one site."""
    if url not in _SITES:
        svc = pg_site(url, index_dir, tmp_path_factory.mktemp("pg-site"))
        svc.store.upsert_papers(topic_papers())
        svc.indexes_lexical_only().sync_lexical()
        _SITES[url] = svc
    return _SITES[url]


@pytest.fixture(scope="module")
def env(request, tmp_path_factory, pg_database, index_env):
    """One site for both the accounts flows (test_web_accounts.py's ``env``: the fake arXiv) and
    the digest flows (test_digest_web.py's: a real SMTP server, a config file for the CLI)."""
    svc = shared_site(tmp_path_factory, pg_database, index_env)
    arxiv = FakeHTTP()
    arxiv.script("/oai", fixture("oai_getrecord.xml"), query={"identifier": "oai:arXiv.org:2503.11731"})
    arxiv.script("/oai", fixture("oai_getrecord_old_id.xml"), query={"identifier": "oai:arXiv.org:hep-th/9901001"})
    arxiv.script("/oai", fixture("oai_id_does_not_exist.xml"))
    smtp = SMTPServer().start()
    # the shared site, switched to this module's fake arXiv and SMTP server (it reads its settings as it goes)
    config = svc.settings
    config.arxiv_oai_url = arxiv.url + "/oai"
    config.smtp = SMTPSettings(host="127.0.0.1", port=smtp.port, starttls=False,
                               sender="papersift <digest@papers.example.org>",
                               unsubscribe_mailto="unsubscribe@papers.example.org")
    config.digest = DigestSettings(retry_base_seconds=0)
    hub = svc
    app = create_app(hub, background=False)
    tmp = tmp_path_factory.mktemp("pg-digest")
    try:
        with running_server(app) as base:
            config.base_url = base
            toml = tmp / "papersift.toml"
            toml.write_text(f'base_url = "{base}"\n[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nstarttls = false\n'
                            'sender = "papersift <digest@papers.example.org>"\n'
                            'unsubscribe_mailto = "unsubscribe@papers.example.org"\n')
            yield {"base": base, "svc": svc, "hub": hub, "arxiv": arxiv, "smtp": smtp, "config": config,
                   "toml": toml, "digests": Digests(hub)}
    finally:
        arxiv.close()
        smtp.stop()


def test_the_site_runs_on_postgresql(env, api):
    """The fixtures above really are PostgreSQL (so the imported flows ran there)."""
    from papersift.store.postgres import PostgresStore

    assert isinstance(env["svc"].store, PostgresStore) and env["svc"].db.startswith("postgresql://")
    assert api.get("/api/v1/health").json()["papers"] > 600  # the whole real sample
