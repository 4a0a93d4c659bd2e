-- Connected social accounts, one row per account per workspace. Tokens are never here: they
-- live in the OS keychain under `account/<id>/<kind>`.
CREATE TABLE accounts (
    id                 TEXT PRIMARY KEY NOT NULL,
    workspace_id       TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    network            TEXT NOT NULL,
    -- Mastodon instance or Bluesky PDS base URL.
    server_url         TEXT NOT NULL,
    -- Mastodon account id, Bluesky DID.
    remote_id          TEXT NOT NULL,
    handle             TEXT NOT NULL,
    display_name       TEXT NOT NULL,
    profile_url        TEXT,
    avatar             BLOB,
    avatar_mime        TEXT,
    -- ok | expiring | needs_reconnect
    health             TEXT NOT NULL DEFAULT 'ok' CHECK (health IN ('ok', 'expiring', 'needs_reconnect')),
    health_detail      TEXT,
    -- When the credentials stop working without a refresh (UTC, RFC 3339), if ever.
    token_expires_at   TEXT,
    -- Network facts read at connect time (limits), JSON.
    server_info        TEXT CHECK (server_info IS NULL OR json_valid(server_info)),
    connected_at       TEXT NOT NULL,
    updated_at         TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX accounts_identity ON accounts (workspace_id, network, server_url, remote_id);
CREATE INDEX accounts_workspace ON accounts (workspace_id);

-- Postwerk's registration on each Mastodon instance (POST /api/v1/apps), made once and reused.
-- The client secret is in the keychain under `mastodon-app/<instance>/client_secret`.
CREATE TABLE mastodon_apps (
    instance_url    TEXT PRIMARY KEY NOT NULL,
    client_id       TEXT NOT NULL,
    redirect_uris   TEXT NOT NULL CHECK (json_valid(redirect_uris)),
    scopes          TEXT NOT NULL,
    registered_at   TEXT NOT NULL
) STRICT;
