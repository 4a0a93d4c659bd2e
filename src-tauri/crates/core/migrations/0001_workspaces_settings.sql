-- One workspace per client or brand. Everything later (accounts, posts, inbox...) hangs off
-- a workspace with ON DELETE CASCADE, so deleting a workspace deletes its data.
CREATE TABLE workspaces (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
    time_zone   TEXT NOT NULL,
    color       TEXT NOT NULL CHECK (color GLOB '#[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]'),
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;

CREATE UNIQUE INDEX workspaces_name_unique ON workspaces (name COLLATE NOCASE);

-- Application settings as JSON values. Never holds secrets (those live in the OS keychain).
CREATE TABLE settings (
    key         TEXT PRIMARY KEY NOT NULL,
    value       TEXT NOT NULL CHECK (json_valid(value)),
    updated_at  TEXT NOT NULL
) STRICT;
