-- Media files, content-addressed: the file lives in <data>/media/<sha256>.<ext>.
CREATE TABLE media (
    id          TEXT PRIMARY KEY NOT NULL,  -- sha256 hex of the bytes
    mime        TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    width       INTEGER,
    height      INTEGER,
    file_name   TEXT NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;

-- One idea in a workspace: the master text, its media, and one target per account.
CREATE TABLE posts (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    text          TEXT NOT NULL DEFAULT '',
    spoiler       TEXT NOT NULL DEFAULT '',
    -- draft: being written; submitted: publishing or done (see the targets)
    status        TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'submitted')),
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;

CREATE INDEX posts_workspace ON posts (workspace_id, status, updated_at);

CREATE TABLE post_media (
    post_id    TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    media_id   TEXT NOT NULL REFERENCES media (id),
    alt        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (post_id, position)
) STRICT;

-- The post on one account.
CREATE TABLE post_targets (
    id                TEXT PRIMARY KEY NOT NULL,
    post_id           TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- Per-network text; NULL means the master text.
    text_override     TEXT,
    -- JSON array of the thread's parts when the user split it; NULL means one part.
    thread_parts      TEXT CHECK (thread_parts IS NULL OR json_valid(thread_parts)),
    state             TEXT NOT NULL DEFAULT 'draft' CHECK (state IN
                        ('draft', 'scheduled', 'publishing', 'published', 'failed', 'needs_reconnect', 'unconfirmed', 'handed_off')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT,
    last_error        TEXT,
    last_error_code   TEXT,
    -- Chosen once, before the first attempt; per part "<key>-<n>" (Mastodon Idempotency-Key).
    idempotency_key   TEXT NOT NULL,
    -- JSON array, one entry per part as it is sent: the record key chosen before the request
    -- (Bluesky), then the remote id / uri / cid once the network confirmed it.
    parts_done        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(parts_done)),
    -- JSON object: media id -> remote media id / blob, so retries do not upload twice.
    media_done        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(media_done)),
    remote_id         TEXT,
    remote_url        TEXT,
    scheduled_at      TEXT,
    scheduled_local   TEXT,
    scheduled_zone    TEXT,
    native_schedule_id TEXT,
    lease_until       TEXT,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (post_id, account_id)
) STRICT;

CREATE INDEX post_targets_state ON post_targets (state, next_attempt_at);
