"""Every setting, declared once: its type, default, one line of help, the command-line option that
also sets it, and whether the config file may hold it. Everything else (loading, checks, the
generated table in docs/CONFIGURATION.md) reads these declarations."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from papersift.errors import BadInput

CONFIG_ENV = "PAPERSIFT_CONFIG"
DEFAULT_FILE = "papersift.toml"
INDEX_DIR_ENV = "PAPERSIFT_INDEX_DIR"
# How `serve --workers N` gives each worker process the settings it resolved: uvicorn starts a
# worker by importing an app factory, which takes no arguments. Internal: not a setting.
HANDOFF_ENV = "PAPERSIFT_WORKER_SETTINGS"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
COOKIE_MODES = {"auto": "auto", "1": "true", "true": "true", "yes": "true", "on": "true",
                "0": "false", "false": "false", "no": "false", "off": "false"}


def setting(default: Any = None, help: str = "", *, factory=None, option: str = "", in_file: bool = True):
    """A declared setting: its default, one line for the docs, the command-line option that also sets
    it, and whether the config file may hold it (a personal token belongs in no shared file)."""
    meta = {"help": help, "option": option, "in_file": in_file}
    if factory is not None:
        return field(default_factory=factory, metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class SMTPSettings:
    host: str = setting("", "The mail server; empty: email is off (subscribing says so; feeds still work).")
    port: int = setting(587, "Its port.")
    starttls: bool = setting(True, "Upgrade the connection with STARTTLS (false only for a server on this "
                                   "machine or a trusted network).")
    ca_file: str = setting("", "Extra CA certificates (PEM) to trust for STARTTLS, e.g. a private CA.")
    user: str = setting("", "Log-in name (empty: no log-in).")
    password: str = setting("", "Log-in password.")
    sender: str = setting("", "The From address, e.g. `papersift <digest@example.org>`.")
    timeout: float = setting(30.0, "Seconds to wait for the mail server.")
    # A mailto nobody reads would be a broken promise: empty leaves only the https link.
    unsubscribe_mailto: str = setting("", "An address that really processes \"unsubscribe\" mail, added to "
                                          "List-Unsubscribe (empty: the https link only).")


@dataclass
class DigestSettings:
    send_time: str = setting("07:00", "HH:MM in `timezone`, every day; who is due is decided per cadence.")
    weekly_day: str = setting("mon", "Weekly digests go out on this day (or the first run after it).")
    timezone: str = setting("UTC", "The time zone of `send_time`, `weekly_day` and `schedule.harvest_times`.")
    trending_count: int = setting(10, "Papers in the \"Trending\" section (0..100).")
    topics_count: int = setting(20, "Papers in the \"For your topics\" section (0..100).")
    for_you_count: int = setting(5, "\"For you\": a signed-in subscriber's recommendations (0: none).")
    bounce_threshold: int = setting(3, "Permanent failures in a row before an address is disabled.")
    max_attempts: int = setting(8, "Temporary failures before a message is given up.")
    retry_base_seconds: float = setting(60.0, "Backoff: `base * 2**(attempt-1)` seconds, capped at "
                                              "`retry_max_seconds`.")
    retry_max_seconds: float = setting(6 * 3600.0, "The longest wait between two tries.")
    confirm_hours: float = setting(48.0, "A confirmation link's lifetime.")
    link_days: float = setting(180.0, "Unsubscribe and manage links' lifetime.")
    claim_lease_minutes: float = setting(15.0, "A message left 'sending' longer than this is an abandoned "
                                               "claim and is sent again.")
    poll_seconds: float = setting(60.0, "`papersift run`: how often due retries and confirmations go out.")


@dataclass
class ScheduleSettings:
    harvest_times: list[str] = setting(factory=lambda: ["06:00", "18:00"],
                                       help="`papersift run`: times of day (digest.timezone) to harvest.")
    sources: list[str] = setting(factory=lambda: ["hf", "arxiv"],
                                 help="What those harvests fetch: hf, arxiv (OAI-PMH), arxiv-listings (the daily "
                                      "listings of `arxiv_categories`).")
    hf_days: int = setting(2, "Recent Hugging Face days each harvest fetches (1..30).")
    arxiv_set: str = setting("cs", "The arXiv OAI set, e.g. cs or cs:cs:LG.")
    arxiv_categories: list[str] = setting(factory=list, help="The lab's arXiv categories (cs.CL, cs.LG...): "
                                                             "their daily listings, with `arxiv-listings` in sources.")


@dataclass
class CommunitySettings:
    comment_max_chars: int = setting(10000, "The longest comment, in characters.")
    comments_per_hour: int = setting(20, "Comments one reader may post in an hour.")
    new_account_comments_per_hour: int = setting(3, "The same for an account younger than a day.")
    claims_verified_domains: str = setting("", "Email domains (comma-separated, subdomains included) whose "
                                               "users' claims of authorship are verified at once when the "
                                               "claimed name matches their display name and they proved their "
                                               "address; other claims wait for an admin.")
    submit_requires_claim: bool = setting(False, "Only readers with a verified claimed paper may submit "
                                                 "papers to the daily feed.")
    webhooks_allow_private: bool = setting(False, "Let webhooks reach loopback and private addresses (a lab's own "
                                                  "chat server); link-local ones (cloud metadata) stay refused.")
    webhook_failures_to_disable: int = setting(3, "Failed deliveries in a row after which a webhook is switched "
                                                  "off (its owner is told by mail).")


@dataclass
class Settings:
    # ---- where the data is
    db: str = setting("data/papersift.db", "The database: a SQLite file, `sqlite:///PATH`, or "
                                           "`postgresql://user@host:5432/name`.", option="--db")
    index_dir: str = setting("", "Folder of the search indexes (derived, rebuildable). Empty: "
                                 "`<database file>.index` beside a SQLite file; required with PostgreSQL.")
    db_pool_size: int = setting(10, "PostgreSQL: connections per process (keep workers x this below the "
                                    "server's max_connections).")
    db_pool_timeout: float = setting(5.0, "PostgreSQL: seconds a call waits for a free connection before "
                                          "answering busy (503).")
    # ---- the embedding model
    embedder: str = setting("minilm", "The embedding model: minilm (int8), minilm-fp32, "
                                      "onnx:PATH[:TOKENIZER_JSON] or st:NAME.")
    threads: int = setting(0, "onnxruntime threads for embedding; 0: one per CPU core "
                              "(`serve --workers N` shares the cores out).")
    embed_device: str = setting("cpu", "Where embedding runs: cpu, or cuda (with onnxruntime-gpu installed; "
                                       "the fp32 graph: embedder minilm-fp32 or onnx:PATH). Without a usable "
                                       "GPU it runs on the CPU and says so.")
    cache: str = setting("", "Cache folder (built ONNX graphs in models/, BEIR downloads); empty: "
                             "~/.cache/papersift.")
    shared_data: str = setting("", "The project's data folder (the quick start's offline archive, "
                                   "`eval-recs`); empty: ../shared/data beside the checkout.")
    # ---- sources
    hf_url: str = setting("", "Hugging Face base URL for harvests; empty: https://huggingface.co.",
                          option="--hf-url")
    arxiv_oai_url: str = setting("", "arXiv OAI-PMH endpoint for harvests and submissions; empty: "
                                     "the public one.", option="--arxiv-url")
    arxiv_rss_url: str = setting("", "arXiv's daily listings (RSS/Atom); empty: https://rss.arxiv.org.")
    # ---- the site
    base_url: str = setting("", "Where readers reach this site (https://papers.example.org): links in "
                                "emails and feeds.")
    secret_key: str = setting("", "Signs email links; empty: a random key is made once and kept in the "
                                  "database.")
    cookie_secure: str = setting("auto", "The Secure flag on cookies: auto (when the request came over "
                                         "https), true or false.")
    trusted_proxies: str = setting("127.0.0.1", "Addresses whose X-Forwarded-For/-Proto headers are "
                                               "believed (comma-separated; `*` trusts everyone: only behind "
                                               "a proxy that overwrites them).", option="--trusted-proxies")
    token: str = setting("", "`papersift mcp`: an API token to act as its reader (prefer the variable: a "
                             "command line is visible to others).", option="--token", in_file=False)
    smtp: SMTPSettings = setting(factory=SMTPSettings)
    digest: DigestSettings = setting(factory=DigestSettings)
    schedule: ScheduleSettings = setting(factory=ScheduleSettings)
    community: CommunitySettings = setting(factory=CommunitySettings)
    source: str | None = field(default=None, compare=False)  # the file it came from, for messages

    # ---- derived values, checked
    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp.host)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.digest.timezone)

    def require_email(self) -> None:
        if not self.smtp.host:
            raise BadInput("email is not configured: set smtp.host in papersift.toml or PAPERSIFT_SMTP_HOST")
        if not self.smtp.sender:
            raise BadInput("set smtp.sender (the From address) in papersift.toml or PAPERSIFT_SMTP_SENDER")

    def require_base_url(self) -> str:
        if not self.base_url:
            raise BadInput("set base_url (where readers reach this site, e.g. https://papers.example.org) "
                           "in papersift.toml or PAPERSIFT_BASE_URL: email links need it")
        return self.base_url

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> "Settings":
        data = json.loads(text)
        sections = {name: kind(**data.pop(name)) for name, kind in SECTIONS.items()}
        return cls(**data, **sections)


SECTIONS = {"smtp": SMTPSettings, "digest": DigestSettings, "schedule": ScheduleSettings,
            "community": CommunitySettings}


def declared(kind: type) -> list[dataclasses.Field]:
    """The settings a section (or the top level) declares, in order."""
    return [f for f in dataclasses.fields(kind) if "help" in f.metadata and f.name not in SECTIONS]


def env_name(name: str, section: str | None = None) -> str:
    return f"PAPERSIFT_{section.upper()}_{name.upper()}" if section else f"PAPERSIFT_{name.upper()}"
