-- The scheduler: missed, paused and cancelled targets, hand-off to the network's own
-- scheduler, a due time that includes retries, repeats, evergreen recycling and queue slots.
--
-- SQLite cannot change a CHECK constraint, so post_targets is rebuilt (nothing references it).

CREATE TABLE post_targets_new (
    id                TEXT PRIMARY KEY NOT NULL,
    post_id           TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    account_id        TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    text_override     TEXT,
    thread_parts      TEXT CHECK (thread_parts IS NULL OR json_valid(thread_parts)),
    -- missed: due while Postwerk was not running, later than the grace window; waits for the
    -- user. paused: kept, not sent. cancelled: will not be sent.
    state             TEXT NOT NULL DEFAULT 'draft' CHECK (state IN
                        ('draft', 'scheduled', 'publishing', 'published', 'failed', 'needs_reconnect',
                         'unconfirmed', 'handed_off', 'missed', 'paused', 'cancelled')),
    attempts          INTEGER NOT NULL DEFAULT 0,
    next_attempt_at   TEXT,
    last_error        TEXT,
    last_error_code   TEXT,
    idempotency_key   TEXT NOT NULL,
    parts_done        TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(parts_done)),
    media_done        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(media_done)),
    remote_id         TEXT,
    remote_url        TEXT,
    scheduled_at      TEXT,
    scheduled_local   TEXT,
    scheduled_zone    TEXT,
    -- When the scheduler should act: scheduled_at, or the next retry when that is later.
    due_at            TEXT,
    -- 1: hand this target to the network's own scheduler (Mastodon scheduled_statuses).
    hand_off          INTEGER NOT NULL DEFAULT 0 CHECK (hand_off IN (0, 1)),
    native_schedule_id TEXT,
    -- The Idempotency-Key of the current hand-off, chosen before the request (a new one after
    -- the network's copy was cancelled).
    hand_off_key      TEXT,
    lease_until       TEXT,
    -- The scheduler's clock when it last claimed this target (lateness, settling).
    claimed_at        TEXT,
    -- 1: placed by "Add to queue" (evergreen posts go back into the queue).
    queued            INTEGER NOT NULL DEFAULT 0 CHECK (queued IN (0, 1)),
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    UNIQUE (post_id, account_id)
) STRICT;

INSERT INTO post_targets_new (id, post_id, account_id, text_override, thread_parts, state, attempts,
    next_attempt_at, last_error, last_error_code, idempotency_key, parts_done, media_done, remote_id,
    remote_url, scheduled_at, scheduled_local, scheduled_zone, due_at, native_schedule_id, lease_until,
    created_at, updated_at)
SELECT id, post_id, account_id, text_override, thread_parts, state, attempts,
    next_attempt_at, last_error, last_error_code, idempotency_key, parts_done, media_done, remote_id,
    remote_url, scheduled_at, scheduled_local, scheduled_zone,
    CASE WHEN next_attempt_at IS NOT NULL AND next_attempt_at > scheduled_at THEN next_attempt_at ELSE scheduled_at END,
    native_schedule_id, lease_until, created_at, updated_at
FROM post_targets;

DROP TABLE post_targets;
ALTER TABLE post_targets_new RENAME TO post_targets;

CREATE INDEX post_targets_state ON post_targets (state, next_attempt_at);
CREATE INDEX post_targets_due ON post_targets (state, due_at);
CREATE INDEX post_targets_account ON post_targets (account_id, state, scheduled_at);
CREATE INDEX post_targets_post ON post_targets (post_id);

-- Repeat every N days (weeks are 7 N), or evergreen: back into the queue at least N days after
-- it went out. At most one of the two.
ALTER TABLE posts ADD COLUMN repeat_days INTEGER CHECK (repeat_days IS NULL OR repeat_days BETWEEN 1 AND 3650);
ALTER TABLE posts ADD COLUMN evergreen_gap_days INTEGER
    CHECK (evergreen_gap_days IS NULL OR evergreen_gap_days BETWEEN 1 AND 3650);
-- The post this one repeats (its series), for the calendar.
ALTER TABLE posts ADD COLUMN repeat_of TEXT REFERENCES posts (id) ON DELETE SET NULL;

-- Weekly queue slots per account, as wall-clock times in the workspace's zone.
CREATE TABLE queue_slots (
    account_id  TEXT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- 0 = Monday … 6 = Sunday
    weekday     INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    -- minutes after local midnight
    minute      INTEGER NOT NULL CHECK (minute BETWEEN 0 AND 1439),
    PRIMARY KEY (account_id, weekday, minute)
) STRICT;
