"""The SQLite schema, as versioned migrations (the runner is in sqlite.py, on ``PRAGMA user_version``).

The steps mirror PostgreSQL's (postgres_schema.py): version N means the same tables on both backends,
so a later feature adds one step to each, with the same number. Each entry migrates the schema from
version i to i+1. Append, never edit: databases in use were made by these exact statements. The
runner splits a step on semicolons, so none may stand inside a statement.
"""

from __future__ import annotations

# 1: papers, feed rows, cursors, watermarks, embeddings
PAPERS_SCHEMA = """
    CREATE TABLE papers (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        data TEXT NOT NULL,
        title TEXT,
        published TEXT,
        organization TEXT,
        upvotes INTEGER,
        has_code INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE UNIQUE INDEX papers_seq ON papers(seq);
    CREATE INDEX papers_published ON papers(published);
    CREATE TABLE feed_entries (
        paper_id TEXT NOT NULL REFERENCES papers(id),
        day TEXT NOT NULL,
        upvotes INTEGER,
        num_comments INTEGER,
        rank INTEGER,
        submitted_by TEXT,
        captured_at TEXT,
        PRIMARY KEY (paper_id, day)
    );
    CREATE INDEX feed_entries_day ON feed_entries(day);
    CREATE TABLE cursors (name TEXT PRIMARY KEY, value TEXT, updated_at TEXT NOT NULL);
    CREATE TABLE watermarks (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);
    CREATE TABLE embeddings (
        paper_id TEXT NOT NULL,
        model TEXT NOT NULL,
        text_hash TEXT NOT NULL,
        vector BLOB NOT NULL,
        PRIMARY KEY (model, paper_id)
    );
    """

# 2: the website (accounts, votes, saves, moderation) and the organisation / author listings. The
# author rows of existing papers are filled from their JSON here; new and changed papers keep them
# current in SQLiteStore._write_papers.
COMMUNITY_SCHEMA = """
    CREATE INDEX papers_organization ON papers(organization COLLATE NOCASE, published);
    CREATE TABLE paper_authors (
        paper_id TEXT NOT NULL REFERENCES papers(id),
        position INTEGER NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (paper_id, position)
    );
    CREATE INDEX paper_authors_name ON paper_authors(name COLLATE NOCASE);
    INSERT INTO paper_authors(paper_id, position, name)
        SELECT p.id, j.key, j.value FROM papers p, json_each(p.data, '$.authors') j
        WHERE j.type = 'text' AND j.value != '';
    CREATE TABLE users (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        is_admin INTEGER NOT NULL DEFAULT 0,
        hidden INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    );
    CREATE TABLE sessions (
        session_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        csrf_token TEXT NOT NULL,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        token_hash TEXT NOT NULL UNIQUE,
        user_id INTEGER NOT NULL REFERENCES users(id),
        name TEXT NOT NULL,
        created_at TEXT NOT NULL,
        last_used_at TEXT
    );
    CREATE TABLE login_failures (key TEXT NOT NULL, at TEXT NOT NULL);
    CREATE INDEX login_failures_key ON login_failures(key, at);
    CREATE TABLE votes (
        user_id INTEGER NOT NULL REFERENCES users(id),
        paper_id TEXT NOT NULL REFERENCES papers(id),
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, paper_id)
    );
    CREATE INDEX votes_paper ON votes(paper_id);
    CREATE TABLE saves (
        user_id INTEGER NOT NULL REFERENCES users(id),
        paper_id TEXT NOT NULL REFERENCES papers(id),
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, paper_id)
    );
    CREATE TABLE hidden_papers (
        paper_id TEXT PRIMARY KEY REFERENCES papers(id),
        hidden_by INTEGER REFERENCES users(id),
        hidden_at TEXT NOT NULL
    )
"""

# 3: email digests (subscribers, topics, outbox, sent papers) and generated secrets
DIGEST_SCHEMA = """
    CREATE TABLE secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE subscribers (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        user_id INTEGER REFERENCES users(id),
        cadence TEXT NOT NULL CHECK (cadence IN ('daily', 'weekly')),
        trending INTEGER NOT NULL DEFAULT 1,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'active', 'unsubscribed', 'disabled')),
        confirm_nonce TEXT,
        token_epoch INTEGER NOT NULL DEFAULT 0,
        bounces INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        confirmed_at TEXT,
        updated_at TEXT NOT NULL,
        status_reason TEXT
    );
    CREATE INDEX subscribers_status ON subscribers(status, cadence);
    CREATE INDEX subscribers_user ON subscribers(user_id);
    CREATE TABLE subscriber_topics (
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
        kind TEXT NOT NULL CHECK (kind IN ('category', 'organization', 'author', 'search')),
        value TEXT NOT NULL,
        PRIMARY KEY (subscriber_id, kind, value)
    );
    CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
        kind TEXT NOT NULL,
        period_key TEXT NOT NULL,
        recipient TEXT NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        payload TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        claimed_by TEXT,
        claimed_at TEXT,
        last_error TEXT,
        smtp_reply TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        UNIQUE (subscriber_id, kind, period_key)
    );
    CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
    CREATE TABLE sent_papers (
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
        paper_id TEXT NOT NULL,
        outbox_id INTEGER NOT NULL REFERENCES outbox(id),
        PRIMARY KEY (subscriber_id, paper_id)
    ) WITHOUT ROWID
"""

# 4: the recommender's signals. One row per (user, paper, kind): a second click is a no-op, and
# "more" and "not for me" on one paper can both exist.
SIGNALS_SCHEMA = """
    CREATE TABLE signals (
        user_id INTEGER NOT NULL REFERENCES users(id),
        paper_id TEXT NOT NULL REFERENCES papers(id),
        kind TEXT NOT NULL CHECK (kind IN ('more', 'not_for_me')),
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, paper_id, kind)
    );
    CREATE INDEX signals_paper ON signals(paper_id)
"""

# 5: the secret of each reader's private recommendations feed (only its hash, like API tokens). One
# per reader: making a new one replaces (revokes) the old.
FEED_TOKENS_SCHEMA = """
    CREATE TABLE feed_tokens (
        user_id INTEGER PRIMARY KEY REFERENCES users(id),
        token_hash TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
    )
"""

# 6: what an API token may do. Every token made before could vote and save: they stay "write".
TOKEN_SCOPE_SCHEMA = """
    ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'write' CHECK (scope IN ('read', 'write'))
"""

# 7: arXiv's listings, one row per (category, listing day, paper), derived from each paper's
# ``listed`` / ``replaced`` days and categories when it is written (papers.py), and the categories a
# signed-in reader follows. Papers stored before keep no rows until ingested again.
LISTINGS_SCHEMA = """
    CREATE TABLE listings (
        category TEXT NOT NULL,
        day TEXT NOT NULL,
        paper_id TEXT NOT NULL REFERENCES papers(id),
        kind TEXT NOT NULL CHECK (kind IN ('new', 'cross', 'replace')),
        PRIMARY KEY (category, day, paper_id)
    );
    CREATE INDEX listings_day ON listings(day);
    CREATE INDEX listings_paper ON listings(paper_id);
    CREATE TABLE followed_categories (
        user_id INTEGER NOT NULL REFERENCES users(id),
        category TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (user_id, category)
    )
"""

# 8: a submitter's feed rows, newest first (Hugging Face's daily papers of one submitter, without a
# period). And ``has_code`` now also counts a repository the abstract or comment links (code_links.py):
# the papers that may link one take the next change numbers, in their old order, so each index reads
# them again and keeps their has_code as the code now says. The LIKE only narrows which papers are read
# again; the column follows at each paper's next write (no query reads it).
SUBMITTER_SCHEMA = """
    CREATE INDEX feed_entries_submitter ON feed_entries(submitted_by, day);
    UPDATE papers SET seq = renumbered.seq FROM (
        SELECT id, (SELECT MAX(seq) FROM papers) + ROW_NUMBER() OVER (ORDER BY seq) AS seq FROM papers
        WHERE has_code = 0 AND (data LIKE '%github.com/%' OR data LIKE '%gitlab.com/%'
                                OR data LIKE '%huggingface.co/%' OR data LIKE '%hf.co/%')) AS renumbered
    WHERE papers.id = renumbered.id
"""

# 9: the research community. A user gets a unique handle (``username``: /users/NAME, @mentions, the owner
# of a collection; filled for existing users by the service at start-up), two choices (mail about
# replies and mentions; whether the profile lists their upvotes) and the time they proved their
# address. Discussion: comments one level deep, previous texts kept for moderators, reactions, reports.
# Collections, with the library as each reader's private collection (``is_library``): the saves move
# into it and their table goes. Claims of author positions. The outbox also carries mail to a user (a
# notification) that no digest subscription owns: SQLite cannot drop a NOT NULL, so ``outbox`` and
# ``sent_papers`` (which references it) are rebuilt in the documented order (new tables, copy, drop the
# old, rename), which foreign keys allow.
COMMUNITY_V2_SCHEMA = """
    ALTER TABLE users ADD COLUMN username TEXT;
    ALTER TABLE users ADD COLUMN notify_email INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE users ADD COLUMN show_upvotes INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE users ADD COLUMN email_verified_at TEXT;
    CREATE UNIQUE INDEX users_username ON users(username COLLATE NOCASE);
    CREATE TABLE comments (
        id INTEGER PRIMARY KEY,
        paper_id TEXT NOT NULL REFERENCES papers(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        parent_id INTEGER REFERENCES comments(id),
        body TEXT NOT NULL,
        created_at TEXT NOT NULL,
        edited_at TEXT,
        deleted_at TEXT,
        hidden_at TEXT,
        hidden_by INTEGER REFERENCES users(id)
    );
    CREATE INDEX comments_paper ON comments(paper_id, id);
    CREATE INDEX comments_user ON comments(user_id, id);
    CREATE INDEX comments_parent ON comments(parent_id);
    CREATE TABLE comment_revisions (
        comment_id INTEGER NOT NULL REFERENCES comments(id),
        body TEXT NOT NULL,
        replaced_at TEXT NOT NULL
    );
    CREATE INDEX comment_revisions_comment ON comment_revisions(comment_id);
    CREATE TABLE comment_reactions (
        comment_id INTEGER NOT NULL REFERENCES comments(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        reaction TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (comment_id, user_id, reaction)
    );
    CREATE TABLE comment_reports (
        comment_id INTEGER NOT NULL REFERENCES comments(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        reason TEXT NOT NULL,
        created_at TEXT NOT NULL,
        resolved_at TEXT,
        PRIMARY KEY (comment_id, user_id)
    );
    CREATE TABLE collections (
        id INTEGER PRIMARY KEY,
        owner_id INTEGER NOT NULL REFERENCES users(id),
        title TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        private INTEGER NOT NULL DEFAULT 0,
        is_library INTEGER NOT NULL DEFAULT 0,
        theme TEXT,
        hidden_at TEXT,
        hidden_by INTEGER REFERENCES users(id),
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX collections_owner ON collections(owner_id);
    CREATE UNIQUE INDEX collections_library ON collections(owner_id) WHERE is_library = 1;
    CREATE TABLE collection_items (
        id INTEGER PRIMARY KEY,
        collection_id INTEGER NOT NULL REFERENCES collections(id),
        paper_id TEXT NOT NULL REFERENCES papers(id),
        note TEXT NOT NULL DEFAULT '',
        position INTEGER NOT NULL,
        added_at TEXT NOT NULL,
        UNIQUE (collection_id, paper_id)
    );
    CREATE INDEX collection_items_paper ON collection_items(paper_id);
    CREATE TABLE collection_upvotes (
        collection_id INTEGER NOT NULL REFERENCES collections(id),
        user_id INTEGER NOT NULL REFERENCES users(id),
        created_at TEXT NOT NULL,
        PRIMARY KEY (collection_id, user_id)
    );
    INSERT INTO collections(owner_id, title, description, private, is_library, created_at, updated_at)
        SELECT user_id, 'Library', '', 1, 1, MIN(created_at), MAX(created_at) FROM saves GROUP BY user_id;
    INSERT INTO collection_items(collection_id, paper_id, note, position, added_at)
        SELECT c.id, s.paper_id, '', ROW_NUMBER() OVER (PARTITION BY s.user_id ORDER BY s.created_at, s.rowid),
               s.created_at
        FROM saves s JOIN collections c ON c.owner_id = s.user_id AND c.is_library = 1
        ORDER BY s.user_id, s.created_at, s.rowid;
    DROP TABLE saves;
    CREATE TABLE author_claims (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        paper_id TEXT NOT NULL REFERENCES papers(id),
        position INTEGER NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'rejected')),
        how TEXT,
        hidden INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        decided_at TEXT,
        decided_by INTEGER REFERENCES users(id),
        UNIQUE (user_id, paper_id)
    );
    CREATE INDEX author_claims_paper ON author_claims(paper_id, position);
    CREATE INDEX author_claims_status ON author_claims(status, id);
    CREATE TABLE outbox_v9 (
        id INTEGER PRIMARY KEY,
        subscriber_id INTEGER REFERENCES subscribers(id),
        kind TEXT NOT NULL,
        period_key TEXT NOT NULL,
        recipient TEXT NOT NULL,
        message_id TEXT NOT NULL UNIQUE,
        payload TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        claimed_by TEXT,
        claimed_at TEXT,
        last_error TEXT,
        smtp_reply TEXT,
        created_at TEXT NOT NULL,
        sent_at TEXT,
        user_id INTEGER REFERENCES users(id),
        UNIQUE (subscriber_id, kind, period_key),
        UNIQUE (user_id, kind, period_key),
        CHECK ((subscriber_id IS NULL) <> (user_id IS NULL))
    );
    INSERT INTO outbox_v9(id, subscriber_id, kind, period_key, recipient, message_id, payload, status, attempts,
                          next_attempt_at, claimed_by, claimed_at, last_error, smtp_reply, created_at, sent_at)
        SELECT id, subscriber_id, kind, period_key, recipient, message_id, payload, status, attempts,
               next_attempt_at, claimed_by, claimed_at, last_error, smtp_reply, created_at, sent_at FROM outbox;
    CREATE TABLE sent_papers_v9 (
        subscriber_id INTEGER NOT NULL REFERENCES subscribers(id),
        paper_id TEXT NOT NULL,
        outbox_id INTEGER NOT NULL REFERENCES outbox_v9(id),
        PRIMARY KEY (subscriber_id, paper_id)
    ) WITHOUT ROWID;
    INSERT INTO sent_papers_v9 SELECT subscriber_id, paper_id, outbox_id FROM sent_papers;
    DROP TABLE sent_papers;
    DROP TABLE outbox;
    ALTER TABLE outbox_v9 RENAME TO outbox;
    ALTER TABLE sent_papers_v9 RENAME TO sent_papers;
    CREATE INDEX outbox_due ON outbox(status, next_attempt_at)
"""

# 10: webhooks: a reader's URLs their digest is also delivered to (through the outbox, kind "webhook",
# addressed to the reader), each with the secret that signs its requests and its run of failures.
WEBHOOKS_SCHEMA = """
    CREATE TABLE webhooks (
        id INTEGER PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES users(id),
        url TEXT NOT NULL,
        format TEXT NOT NULL CHECK (format IN ('json', 'slack', 'discord')),
        secret TEXT NOT NULL,
        active INTEGER NOT NULL DEFAULT 1,
        failures INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX webhooks_user ON webhooks(user_id)
"""

MIGRATIONS = [PAPERS_SCHEMA, COMMUNITY_SCHEMA, DIGEST_SCHEMA, SIGNALS_SCHEMA, FEED_TOKENS_SCHEMA, TOKEN_SCOPE_SCHEMA,
              LISTINGS_SCHEMA, SUBMITTER_SCHEMA, COMMUNITY_V2_SCHEMA, WEBHOOKS_SCHEMA]
SCHEMA_VERSION = len(MIGRATIONS)
