-- The unified inbox: mentions, replies, quotes, likes, reposts, follows and direct messages
-- from every account, kept locally (usable offline) and searchable with FTS5.

CREATE TABLE inbox_items (
    -- Time-ordered: the creation time in milliseconds times 4096 plus a few bits to keep ids
    -- unique. Newest first is then id order, which the full-text index can stream in.
    -- It is also the FTS5 content rowid.
    id               INTEGER PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    workspace_id     TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    network          TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('mention', 'reply', 'quote', 'like', 'repost', 'follow', 'dm')),
    -- The network's id for this item (notification id, message id): unique per account.
    remote_id        TEXT NOT NULL,
    -- The post the item is (a mention, reply or quote), or is about (a like or repost).
    subject_id       TEXT,
    -- Bluesky: the subject's CID, and the thread root's URI and CID (a reply needs both).
    subject_cid      TEXT,
    root_uri         TEXT,
    root_cid         TEXT,
    subject_url      TEXT,
    -- The conversation (a DM conversation id, or a thread's root).
    conversation_id  TEXT,
    author_id        TEXT NOT NULL,
    author_handle    TEXT NOT NULL,
    author_name      TEXT NOT NULL DEFAULT '',
    -- https only; shown by the webview.
    author_avatar    TEXT,
    -- Plain text (search, previews) and the network's HTML reduced to a safe subset.
    text             TEXT NOT NULL DEFAULT '',
    html             TEXT,
    created_at       TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    read             INTEGER NOT NULL DEFAULT 0 CHECK (read IN (0, 1)),
    done             INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
    important        INTEGER NOT NULL DEFAULT 0 CHECK (important IN (0, 1)),
    labels           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(labels)),
    UNIQUE (account_id, remote_id)
) STRICT;

-- Newest first per workspace, and the common filters.
CREATE INDEX inbox_workspace_time ON inbox_items (workspace_id, id DESC);
CREATE INDEX inbox_workspace_unread ON inbox_items (workspace_id, read, id DESC);
CREATE INDEX inbox_account_time ON inbox_items (account_id, id DESC);
CREATE INDEX inbox_conversation ON inbox_items (account_id, conversation_id, created_at);

CREATE VIRTUAL TABLE inbox_fts USING fts5 (
    author,
    text,
    content = 'inbox_items',
    content_rowid = 'id',
    -- No per-row column sizes: they only serve bm25 ranking, and the inbox sorts by time.
    columnsize = 0,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER inbox_items_ai AFTER INSERT ON inbox_items BEGIN
    INSERT INTO inbox_fts (rowid, author, text)
    VALUES (new.id, new.author_handle || ' ' || new.author_name, new.text);
END;
CREATE TRIGGER inbox_items_ad AFTER DELETE ON inbox_items BEGIN
    INSERT INTO inbox_fts (inbox_fts, rowid, author, text)
    VALUES ('delete', old.id, old.author_handle || ' ' || old.author_name, old.text);
END;
CREATE TRIGGER inbox_items_au AFTER UPDATE OF author_handle, author_name, text ON inbox_items BEGIN
    INSERT INTO inbox_fts (inbox_fts, rowid, author, text)
    VALUES ('delete', old.id, old.author_handle || ' ' || old.author_name, old.text);
    INSERT INTO inbox_fts (rowid, author, text)
    VALUES (new.id, new.author_handle || ' ' || new.author_name, new.text);
END;

-- Where each account's streams were read up to (opaque to the store).
CREATE TABLE inbox_cursors (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    stream      TEXT NOT NULL,
    cursor      TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (account_id, stream)
) STRICT;

-- Rules applied as items arrive: conditions and actions as JSON.
CREATE TABLE inbox_rules (
    id            TEXT PRIMARY KEY NOT NULL,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    position      INTEGER NOT NULL,
    conditions    TEXT NOT NULL CHECK (json_valid(conditions)),
    actions       TEXT NOT NULL CHECK (json_valid(actions)),
    enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    created_at    TEXT NOT NULL
) STRICT;

-- Replies written while offline (or failing), sent later in order.
CREATE TABLE inbox_outbox (
    id            TEXT PRIMARY KEY NOT NULL,
    item_id       INTEGER NOT NULL REFERENCES inbox_items (id) ON DELETE CASCADE,
    text          TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'sent', 'failed')),
    idempotency_key TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    remote_url    TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
) STRICT;
