-- Likes and reposts the user gave from the inbox, so a second click undoes instead of
-- liking twice (Bluesky would store a second like record), and the conversation shows them.
CREATE TABLE inbox_reactions (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- The post: a Mastodon status id or a Bluesky post URI.
    subject_id  TEXT NOT NULL,
    reaction    TEXT NOT NULL CHECK (reaction IN ('like', 'repost')),
    -- Bluesky: the like or repost record's URI (deleting it undoes the reaction).
    record_uri  TEXT,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (account_id, subject_id, reaction)
) STRICT;

-- A reply from the conversation may answer another post of the thread than the item's own:
-- the post, its CID (Bluesky) and its author (Mastodon names them first).
ALTER TABLE inbox_outbox ADD COLUMN to_id TEXT;
ALTER TABLE inbox_outbox ADD COLUMN to_cid TEXT;
ALTER TABLE inbox_outbox ADD COLUMN to_author TEXT;

-- The unread count per workspace (the sidebar's badge) reads this index only.
CREATE INDEX inbox_workspace_open ON inbox_items (workspace_id, done, read);

-- The labels in use (the label filter's choices): only labelled items are read.
CREATE INDEX inbox_workspace_labelled ON inbox_items (workspace_id) WHERE labels != '[]';
