//! Publishing now: every target of a post concurrently, each with a result the user can act
//! on. No duplicates: Mastodon requests carry an `Idempotency-Key` per part, Bluesky records
//! use a record key chosen and stored before the request, media already uploaded are not
//! uploaded again, and a thread resumes at its first missing part.

use std::time::Duration;

use chrono::Utc;
use postwerk_networks::bluesky::{self, StrongRef};
use postwerk_networks::bluesky_richtext;
use postwerk_networks::mastodon::{Mastodon, NewStatus, text_signature};
use postwerk_networks::{HttpClient, NetworkError, NetworkKind};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use url::Url;

use postwerk_networks::backoff::{Backoff, RandomJitter};

use std::sync::Arc;

use crate::accounts::{ACCESS_TOKEN, Accounts};
use crate::clock::{SharedClock, SystemClock, parse_stamp, stamp};
use crate::compose::Composer;
use crate::media::{MediaStore, reencode_to_fit};
use crate::posts::{DraftMediaInput, DraftTarget};
use crate::secrets::SecretKey;
use crate::store::{Store, now_utc};
use crate::{Error, ErrorCode, Result};

/// Bluesky image blobs are re-encoded to at most this (the 2026 lexicon allows 2,000,000;
/// 1,000,000 is what older AppViews accept).
pub const BLUESKY_IMAGE_BYTES: usize = 1_000_000;
/// Link-card pages are read for at most this long and this many bytes.
const CARD_TIMEOUT: Duration = Duration::from_secs(5);
const CARD_MAX_BYTES: usize = 1_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    Draft,
    Scheduled,
    Publishing,
    Published,
    Failed,
    NeedsReconnect,
    Unconfirmed,
    HandedOff,
    /// Due while Postwerk was not running, later than the grace window: waits for the user.
    Missed,
    Paused,
    Cancelled,
}

impl TargetState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Publishing => "publishing",
            Self::Published => "published",
            Self::Failed => "failed",
            Self::NeedsReconnect => "needs_reconnect",
            Self::Unconfirmed => "unconfirmed",
            Self::HandedOff => "handed_off",
            Self::Missed => "missed",
            Self::Paused => "paused",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Self {
        match s {
            "scheduled" => Self::Scheduled,
            "publishing" => Self::Publishing,
            "published" => Self::Published,
            "failed" => Self::Failed,
            "needs_reconnect" => Self::NeedsReconnect,
            "unconfirmed" => Self::Unconfirmed,
            "handed_off" => Self::HandedOff,
            "missed" => Self::Missed,
            "paused" => Self::Paused,
            "cancelled" => Self::Cancelled,
            _ => Self::Draft,
        }
    }
}

/// What happened to one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TargetOutcome {
    pub target_id: String,
    pub account_id: String,
    pub network: NetworkKind,
    pub handle: String,
    pub state: TargetState,
    /// The live post (the first part of a thread).
    pub url: Option<String>,
    pub error_code: Option<ErrorCode>,
    pub error: Option<String>,
}

/// Who a scheduled post depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum HeldBy {
    /// The network's own scheduler holds it: it goes out with the computer off.
    Network,
    /// Postwerk (the app or `postwerk daemon`) must be running when it is due.
    Postwerk,
    /// Nothing is pending (sent, failed, missed, paused or cancelled).
    Nobody,
}

/// What the scheduler tells the app (desktop notifications, the tray).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum PublishEvent {
    Published {
        post_id: String,
        target_id: String,
        handle: String,
        url: Option<String>,
    },
    HandedOff {
        post_id: String,
        target_id: String,
        handle: String,
    },
    Failed {
        post_id: String,
        target_id: String,
        handle: String,
        message: String,
    },
    NeedsReconnect {
        post_id: String,
        target_id: String,
        handle: String,
        message: String,
    },
    Missed {
        post_id: String,
        target_id: String,
        handle: String,
        /// The wall-clock time it was due, in its zone.
        scheduled_local: String,
    },
    /// Something in the schedule changed (for the calendar and the tray).
    Changed,
}

/// A scheduled target, for the queue and the calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct QueueItem {
    pub target_id: String,
    pub post_id: String,
    pub account_id: String,
    pub workspace_id: String,
    pub network: NetworkKind,
    pub handle: String,
    pub state: TargetState,
    /// RFC 3339, UTC.
    pub scheduled_at: Option<String>,
    /// The wall-clock time the user picked, and its zone.
    pub scheduled_local: Option<String>,
    pub scheduled_zone: Option<String>,
    pub url: Option<String>,
    pub error: Option<String>,
    /// The start of the text.
    pub text: String,
    /// The due time as a wall clock in the workspace's current zone ("YYYY-MM-DD HH:MM").
    pub local_time: Option<String>,
    pub held_by: HeldBy,
    /// The network's own scheduler will hold it (Mastodon, a single post, 5 minutes or more
    /// ahead); until the hand-off happens it is held by Postwerk.
    pub hand_off: bool,
    /// The next retry after a transient failure (RFC 3339, UTC).
    pub next_attempt_at: Option<String>,
    /// Placed by "Add to queue".
    pub queued: bool,
    pub repeat_days: Option<u32>,
    pub evergreen_gap_days: Option<u32>,
}

/// One part of a thread as sent.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct PartDone {
    /// Bluesky: the record key, chosen before the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    rkey: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

impl PartDone {
    fn confirmed(&self) -> bool {
        self.id.is_some() || self.cid.is_some()
    }
}

struct Target {
    id: String,
    account_id: String,
    network: NetworkKind,
    handle: String,
    remote_id: String,
    server: String,
    parts: Vec<String>,
    spoiler: String,
    media: Vec<(String, String)>,
    idempotency_key: String,
    parts_done: Vec<PartDone>,
    media_done: serde_json::Map<String, serde_json::Value>,
    /// Sent by the scheduler (transient failures are retried later, not reported as failed).
    scheduled: bool,
    attempts: i64,
    /// The scheduler's clock when this target was claimed (retries are counted from it).
    clock: chrono::DateTime<Utc>,
    post_id: String,
    state: String,
    scheduled_at: Option<chrono::DateTime<Utc>>,
    /// Give it to the network's own scheduler when there is time.
    hand_off: bool,
    hand_off_key: Option<String>,
    /// The last claim before this one (settling after a crash asks the network about it).
    claimed_at: Option<chrono::DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct Publisher {
    pub(crate) store: Store,
    pub(crate) accounts: Accounts,
    media: MediaStore,
    pub(crate) http: HttpClient,
    pub(crate) composer: Composer,
    backoff: Backoff,
    pub(crate) clock: SharedClock,
    events: tokio::sync::broadcast::Sender<PublishEvent>,
    /// Wakes the scheduler when the schedule changed.
    pub(crate) wake: Arc<tokio::sync::Notify>,
}

/// A post can go to Mastodon's scheduler when it is due at least this far ahead (Mastodon's
/// minimum is 5 minutes; 30 s more allow for the request and the server's clock).
pub const HAND_OFF_AHEAD: Duration = Duration::from_secs(5 * 60 + 30);
/// Mastodon keeps idempotency keys this long (an hour; we stay well inside it).
const IDEMPOTENCY_WINDOW: Duration = Duration::from_secs(55 * 60);

/// The parts a target sends: the thread when split, else the override, else the master text.
fn parts_of(master: &str, text_override: Option<String>, thread: Option<String>) -> Vec<String> {
    if let Some(parts) = thread
        .and_then(|t| serde_json::from_str::<Vec<String>>(&t).ok())
        .map(|p| {
            p.into_iter()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.is_empty())
    {
        return parts;
    }
    vec![
        text_override
            .unwrap_or_else(|| master.to_string())
            .trim()
            .to_string(),
    ]
}

/// Scheduled posts retry transient failures (5xx, 429, timeouts, resets) this many times: with
/// the backoff (15 s doubling up to 15 min) that is about 75 minutes of trying.
pub const MAX_ATTEMPTS: i64 = 12;

/// When a scheduled target should be tried again after `e`, if at all: jittered exponential
/// backoff that never comes sooner than the network's `Retry-After` or rate-limit reset.
fn retry_delay(e: &Error, t: &Target, backoff: &Backoff) -> Option<Duration> {
    let Error::Network(network_error) = e else {
        return None;
    };
    if !t.scheduled || !network_error.is_retryable() || t.attempts + 1 >= MAX_ATTEMPTS {
        return None;
    }
    let attempt = u32::try_from(t.attempts).unwrap_or(0);
    Some(backoff.delay_after(attempt, network_error, &RandomJitter))
}

fn outcome_error(e: &Error) -> (ErrorCode, String, TargetState) {
    let state = match e.code() {
        ErrorCode::NeedsReconnect => TargetState::NeedsReconnect,
        _ => TargetState::Failed,
    };
    (e.code(), e.to_string(), state)
}

impl Publisher {
    pub fn new(
        store: Store,
        accounts: Accounts,
        media: MediaStore,
        http: HttpClient,
        composer: Composer,
    ) -> Self {
        Self {
            store,
            accounts,
            media,
            http,
            composer,
            backoff: Backoff {
                base: Duration::from_secs(15),
                max: Duration::from_secs(15 * 60),
            },
            clock: Arc::new(SystemClock),
            events: tokio::sync::broadcast::channel(256).0,
            wake: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// The scheduler's clock (tests inject one on paused tokio time).
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    pub fn clock(&self) -> &SharedClock {
        &self.clock
    }

    /// Scheduler events: published, failed, missed, needs reconnecting, schedule changed.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<PublishEvent> {
        self.events.subscribe()
    }

    pub(crate) fn emit(&self, event: PublishEvent) {
        // Nobody listening is fine.
        let _ = self.events.send(event);
    }

    /// Tells the scheduler to look again (the schedule changed).
    pub(crate) fn changed(&self) {
        self.wake.notify_one();
        self.emit(PublishEvent::Changed);
    }

    /// The retry backoff for scheduled targets (tests shorten it).
    pub fn with_backoff(mut self, backoff: Backoff) -> Self {
        self.backoff = backoff;
        self
    }

    /// The network's rules, checked before anything is sent: a post the network would refuse
    /// fails here with the reason ("5 images attached, Bluesky takes 4").
    async fn preflight(&self, t: &Target) -> Result<()> {
        let media: Vec<DraftMediaInput> = t
            .media
            .iter()
            .map(|(id, alt)| DraftMediaInput {
                media_id: id.clone(),
                alt: alt.clone(),
            })
            .collect();
        let items = self.composer.media_items(&media).await?;
        let target = DraftTarget {
            account_id: t.account_id.clone(),
            text_override: None,
            thread_parts: Some(t.parts.clone()),
        };
        let check = self
            .composer
            .check_target(&target, "", &t.spoiler, &items)
            .await?;
        match check.blocking_reason() {
            Some(reason) => Err(Error::invalid("post", reason)),
            None => Ok(()),
        }
    }

    async fn load_targets(&self, post_id: &str, only: &[&str]) -> Result<Vec<Target>> {
        let post = sqlx::query("SELECT text, spoiler FROM posts WHERE id = ?")
            .bind(post_id)
            .fetch_optional(self.store.pool())
            .await?
            .ok_or_else(|| Error::not_found(format!("post {post_id}")))?;
        let master: String = post.try_get("text")?;
        let spoiler: String = post.try_get("spoiler")?;
        let media: Vec<(String, String)> =
            sqlx::query("SELECT media_id, alt FROM post_media WHERE post_id = ? ORDER BY position")
                .bind(post_id)
                .fetch_all(self.store.pool())
                .await?
                .into_iter()
                .map(|r| Ok((r.try_get("media_id")?, r.try_get("alt")?)))
                .collect::<Result<_>>()?;
        let rows = sqlx::query(
            "SELECT t.id, t.account_id, t.text_override, t.thread_parts, t.state, t.idempotency_key, t.parts_done, t.media_done, \
             t.scheduled_at, t.attempts, t.post_id, t.hand_off, t.hand_off_key, t.claimed_at, \
             a.network, a.handle, a.remote_id, a.server_url FROM post_targets t JOIN accounts a ON a.id = t.account_id \
             WHERE t.post_id = ? ORDER BY t.created_at, t.id",
        )
        .bind(post_id)
        .fetch_all(self.store.pool())
        .await?;
        let mut targets = Vec::new();
        for r in rows {
            let state: String = r.try_get("state")?;
            if !only.contains(&state.as_str()) {
                continue;
            }
            let network: String = r.try_get("network")?;
            targets.push(Target {
                id: r.try_get("id")?,
                account_id: r.try_get("account_id")?,
                network: serde_json::from_value(serde_json::Value::String(network.clone()))
                    .map_err(|_| Error::Conflict(format!("unknown network {network}")))?,
                handle: r.try_get("handle")?,
                remote_id: r.try_get("remote_id")?,
                server: r.try_get("server_url")?,
                parts: parts_of(
                    &master,
                    r.try_get("text_override")?,
                    r.try_get("thread_parts")?,
                ),
                spoiler: spoiler.clone(),
                media: media.clone(),
                idempotency_key: r.try_get("idempotency_key")?,
                parts_done: serde_json::from_str(&r.try_get::<String, _>("parts_done")?)
                    .unwrap_or_default(),
                media_done: serde_json::from_str(&r.try_get::<String, _>("media_done")?)
                    .unwrap_or_default(),
                scheduled: r.try_get::<Option<String>, _>("scheduled_at")?.is_some(),
                attempts: r.try_get("attempts")?,
                clock: self.clock.now(),
                post_id: r.try_get("post_id")?,
                state,
                scheduled_at: r
                    .try_get::<Option<String>, _>("scheduled_at")?
                    .as_deref()
                    .and_then(parse_stamp),
                hand_off: r.try_get::<i64, _>("hand_off")? == 1,
                hand_off_key: r.try_get("hand_off_key")?,
                claimed_at: r
                    .try_get::<Option<String>, _>("claimed_at")?
                    .as_deref()
                    .and_then(parse_stamp),
            });
        }
        Ok(targets)
    }

    /// Publishes every target of a draft now, concurrently.
    pub async fn publish_now(&self, post_id: &str) -> Result<Vec<TargetOutcome>> {
        let status: Option<String> = sqlx::query_scalar("SELECT status FROM posts WHERE id = ?")
            .bind(post_id)
            .fetch_optional(self.store.pool())
            .await?;
        match status.as_deref() {
            None => return Err(Error::not_found(format!("post {post_id}"))),
            Some("draft") => {}
            Some(_) => {
                return Err(Error::Conflict(
                    "this post was already sent; retry its failed targets instead".into(),
                ));
            }
        }
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM post_targets WHERE post_id = ?")
            .bind(post_id)
            .fetch_one(self.store.pool())
            .await?;
        if count == 0 {
            return Err(Error::invalid(
                "targets",
                "pick at least one account to publish to",
            ));
        }
        sqlx::query("UPDATE posts SET status = 'submitted', updated_at = ? WHERE id = ?")
            .bind(now_utc())
            .bind(post_id)
            .execute(self.store.pool())
            .await?;
        self.run(post_id, &["draft"]).await
    }

    /// Publishes the targets that failed or whose outcome is unknown, and nothing else.
    pub async fn retry(&self, post_id: &str) -> Result<Vec<TargetOutcome>> {
        self.run(post_id, &["failed", "unconfirmed", "needs_reconnect"])
            .await?;
        self.outcomes(post_id).await
    }

    async fn run(&self, post_id: &str, states: &[&str]) -> Result<Vec<TargetOutcome>> {
        let targets = self.load_targets(post_id, states).await?;
        let mut tasks = tokio::task::JoinSet::new();
        for target in targets {
            let this = self.clone();
            tasks.spawn(async move { this.publish_target(target).await });
        }
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "publish task failed");
            }
        }
        self.outcomes(post_id).await
    }

    /// Schedules a draft for a wall-clock time in its workspace's zone ("YYYY-MM-DD HH:MM").
    /// A time that does not exist or exists twice (daylight saving) is refused with the
    /// nearest valid choices; a time in the past is refused.
    pub async fn schedule(
        &self,
        post_id: &str,
        wall_clock: &str,
        now: chrono::DateTime<Utc>,
    ) -> Result<Vec<TargetOutcome>> {
        let row = sqlx::query(
            "SELECT p.status, w.time_zone FROM posts p JOIN workspaces w ON w.id = p.workspace_id WHERE p.id = ?",
        )
        .bind(post_id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or_else(|| Error::not_found(format!("post {post_id}")))?;
        let status: String = row.try_get("status")?;
        if status != "draft" {
            return Err(Error::Conflict(
                "this post was already sent or scheduled".into(),
            ));
        }
        let zone: String = row.try_get("time_zone")?;
        let at = crate::schedule::resolve_in(&zone, wall_clock)?;
        if at <= now {
            return Err(Error::invalid(
                "time",
                format!("{} in {zone} is in the past", wall_clock.trim()),
            ));
        }
        let count: i64 = sqlx::query_scalar("SELECT count(*) FROM post_targets WHERE post_id = ?")
            .bind(post_id)
            .fetch_one(self.store.pool())
            .await?;
        if count == 0 {
            return Err(Error::invalid(
                "targets",
                "pick at least one account to publish to",
            ));
        }
        let local = crate::schedule::wall_clock_text(wall_clock);
        let mut tx = self.store.pool().begin().await?;
        sqlx::query("UPDATE posts SET status = 'submitted', updated_at = ? WHERE id = ?")
            .bind(now_utc())
            .bind(post_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE post_targets SET state = 'scheduled', scheduled_at = ?1, scheduled_local = ?2, scheduled_zone = ?3, \
             due_at = ?1, next_attempt_at = NULL, attempts = 0, updated_at = ?4, \
             hand_off = (SELECT a.network = 'mastodon' FROM accounts a WHERE a.id = account_id) \
               AND (thread_parts IS NULL OR json_array_length(thread_parts) <= 1) \
             WHERE post_id = ?5",
        )
        .bind(stamp(at))
        .bind(&local)
        .bind(&zone)
        .bind(now_utc())
        .bind(post_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        tracing::info!(post = %post_id, %at, %zone, "post scheduled");
        self.changed();
        self.outcomes(post_id).await
    }

    /// One scheduler step at `now`: hold the due posts of accounts that need reconnecting
    /// (and release them once reconnected), mark what is later than `grace` as missed, and
    /// claim (with a lease of `lease`) what is due and what can go to the network's own
    /// scheduler. Returns the claimed targets as (target id, post id).
    pub async fn claim(
        &self,
        now: chrono::DateTime<Utc>,
        lease: Duration,
        grace: Duration,
    ) -> Result<Vec<(String, String)>> {
        let pool = self.store.pool();
        let now_s = stamp(now);
        // Reconnected: held posts go back to the schedule (then the grace rule applies).
        let released = sqlx::query(
            "UPDATE post_targets SET state = 'scheduled', last_error = NULL, last_error_code = NULL, updated_at = ?1 \
             WHERE state = 'needs_reconnect' AND scheduled_at IS NOT NULL \
             AND account_id IN (SELECT id FROM accounts WHERE health != 'needs_reconnect')",
        )
        .bind(now_utc())
        .execute(pool)
        .await?
        .rows_affected();
        // Needs reconnecting: due posts wait for the user instead of failing one by one.
        let held: Vec<(String, String, String)> = sqlx::query_as(
            "UPDATE post_targets SET state = 'needs_reconnect', last_error_code = 'needs_reconnect', \
             last_error = (SELECT coalesce(a.health_detail, 'the account needs reconnecting') FROM accounts a WHERE a.id = account_id), \
             updated_at = ?1 \
             WHERE state = 'scheduled' AND due_at <= ?2 \
             AND account_id IN (SELECT id FROM accounts WHERE health = 'needs_reconnect') \
             RETURNING id, post_id, account_id",
        )
        .bind(now_utc())
        .bind(&now_s)
        .fetch_all(pool)
        .await?;
        for (target_id, post_id, account_id) in held {
            let handle = self.handle_of(&account_id).await;
            self.emit(PublishEvent::NeedsReconnect {
                post_id,
                target_id,
                handle,
                message: "the account needs reconnecting".into(),
            });
        }
        // Later than the grace window (the app was not running, or the laptop slept): a post,
        // or a retry whose time passed while nothing was running.
        let cut = now - chrono::Duration::from_std(grace).unwrap_or_default();
        let missed: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
            "UPDATE post_targets SET state = 'missed', lease_until = NULL, updated_at = ?1 \
             WHERE state = 'scheduled' AND due_at < ?3 \
             RETURNING id, post_id, account_id, scheduled_local",
        )
        .bind(now_utc())
        .bind(&now_s)
        .bind(stamp(cut))
        .fetch_all(pool)
        .await?;
        for (target_id, post_id, account_id, local) in &missed {
            let handle = self.handle_of(account_id).await;
            tracing::warn!(target = %target_id, due = ?local, "missed: due while Postwerk was not running");
            self.emit(PublishEvent::Missed {
                post_id: post_id.clone(),
                target_id: target_id.clone(),
                handle,
                scheduled_local: local.clone().unwrap_or_default(),
            });
        }
        let until =
            stamp(now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(5)));
        let ahead = stamp(now + chrono::Duration::from_std(HAND_OFF_AHEAD).unwrap_or_default());
        let claimed: Vec<(String, String)> = sqlx::query_as(
            "UPDATE post_targets SET state = 'publishing', lease_until = ?1, claimed_at = ?3, updated_at = ?2 \
             WHERE state = 'scheduled' \
             AND ((due_at <= ?3 AND due_at >= ?4) \
                  OR (hand_off = 1 AND scheduled_at > ?5 AND (next_attempt_at IS NULL OR next_attempt_at <= ?3))) \
             AND account_id NOT IN (SELECT id FROM accounts WHERE health = 'needs_reconnect') \
             RETURNING id, post_id",
        )
        .bind(until)
        .bind(now_utc())
        .bind(&now_s)
        .bind(stamp(cut))
        .bind(ahead)
        .fetch_all(pool)
        .await?;
        if released > 0 || !missed.is_empty() {
            self.emit(PublishEvent::Changed);
        }
        Ok(claimed)
    }

    async fn handle_of(&self, account_id: &str) -> String {
        sqlx::query_scalar("SELECT handle FROM accounts WHERE id = ?")
            .bind(account_id)
            .fetch_optional(self.store.pool())
            .await
            .ok()
            .flatten()
            .unwrap_or_default()
    }

    /// When the scheduler next has something to do (the earliest due time), if anything.
    pub async fn next_due(&self) -> Result<Option<chrono::DateTime<Utc>>> {
        let next: Option<String> =
            sqlx::query_scalar("SELECT min(due_at) FROM post_targets WHERE state = 'scheduled'")
                .fetch_one(self.store.pool())
                .await?;
        Ok(next.as_deref().and_then(parse_stamp))
    }

    /// When the next scheduled post goes out, whoever sends it (Postwerk or the network).
    pub async fn next_post(&self) -> Result<Option<chrono::DateTime<Utc>>> {
        let next: Option<String> = sqlx::query_scalar(
            "SELECT min(coalesce(due_at, scheduled_at)) FROM post_targets WHERE state IN ('scheduled', 'handed_off')",
        )
        .fetch_one(self.store.pool())
        .await?;
        Ok(next.as_deref().and_then(parse_stamp))
    }

    /// Claims what is due at `now` (see [`Self::claim`], with the grace window from the
    /// settings) and publishes it, waiting for the outcomes. Returns how many were claimed.
    pub async fn run_due(&self, now: chrono::DateTime<Utc>, lease: Duration) -> Result<usize> {
        let grace = crate::settings::SettingsStore::new(self.store.clone())
            .scheduling()
            .await?
            .grace();
        let claimed = self.claim(now, lease, grace).await?;
        self.publish_claimed(&claimed, &["publishing"], now).await?;
        Ok(claimed.len())
    }

    /// Publishes one claimed target (the scheduler spawns one task per claim).
    pub async fn publish_claim(
        &self,
        target_id: &str,
        post_id: &str,
        clock: chrono::DateTime<Utc>,
    ) {
        match self.load_targets(post_id, &["publishing"]).await {
            Ok(targets) => {
                if let Some(mut target) = targets.into_iter().find(|t| t.id == target_id) {
                    target.clock = clock;
                    self.publish_target(target).await;
                }
            }
            Err(e) => {
                tracing::error!(error = %e, target = %target_id, "cannot load a claimed target")
            }
        }
    }

    /// After a crash: targets whose lease ran out were being published when the process died,
    /// so their outcome is unknown. They become `unconfirmed` and are settled by asking the
    /// network first (Mastodon: the idempotency key within its hour, else the account's recent
    /// posts; Bluesky: does the stored record key exist), then sending only what is missing.
    /// Returns how many were settled.
    pub async fn recover(&self, now: chrono::DateTime<Utc>) -> Result<usize> {
        self.settle(Some(now)).await
    }

    /// [`Self::recover`] for a process that owns the data folder (it holds the
    /// [`crate::paths::DataLock`]): no other process can be publishing, so every claimed
    /// target is left over from a crash, whatever its lease says.
    pub async fn recover_after_crash(&self) -> Result<usize> {
        self.settle(None).await
    }

    async fn settle(&self, now: Option<chrono::DateTime<Utc>>) -> Result<usize> {
        let stale: Vec<(String, String)> = sqlx::query_as(
            "UPDATE post_targets SET state = 'unconfirmed', updated_at = ?1 \
             WHERE state = 'publishing' AND (?2 IS NULL OR lease_until IS NULL OR lease_until < ?2) \
             RETURNING id, post_id",
        )
        .bind(now_utc())
        .bind(now.map(stamp))
        .fetch_all(self.store.pool())
        .await?;
        if !stale.is_empty() {
            tracing::warn!(
                count = stale.len(),
                "settling targets left unconfirmed by a crash"
            );
        }
        let clock = now.unwrap_or_else(|| self.clock.now());
        self.publish_claimed(&stale, &["unconfirmed"], clock)
            .await?;
        Ok(stale.len())
    }

    async fn publish_claimed(
        &self,
        claimed: &[(String, String)],
        states: &[&str],
        clock: chrono::DateTime<Utc>,
    ) -> Result<()> {
        let mut tasks = tokio::task::JoinSet::new();
        for (target_id, post_id) in claimed {
            let target = self
                .load_targets(post_id, states)
                .await?
                .into_iter()
                .find(|t| &t.id == target_id);
            if let Some(mut target) = target {
                target.clock = clock;
                let this = self.clone();
                tasks.spawn(async move { this.publish_target(target).await });
            }
        }
        while let Some(done) = tasks.join_next().await {
            if let Err(e) = done {
                tracing::error!(error = %e, "publish task failed");
            }
        }
        Ok(())
    }

    /// Scheduled and recently handled targets of a workspace (or all), soonest first.
    pub async fn queue(&self, workspace_id: Option<&str>) -> Result<Vec<QueueItem>> {
        self.schedule_items(&crate::planner::ScheduleFilter {
            workspace_id: workspace_id.map(str::to_string),
            ..Default::default()
        })
        .await
    }

    /// The current outcome of every target of a post.
    pub async fn outcomes(&self, post_id: &str) -> Result<Vec<TargetOutcome>> {
        let rows = sqlx::query(
            "SELECT t.id, t.account_id, t.state, t.remote_url, t.last_error, t.last_error_code, a.network, a.handle \
             FROM post_targets t JOIN accounts a ON a.id = t.account_id WHERE t.post_id = ? ORDER BY t.created_at, t.id",
        )
        .bind(post_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.into_iter()
            .map(|r| {
                let code: Option<String> = r.try_get("last_error_code")?;
                Ok(TargetOutcome {
                    target_id: r.try_get("id")?,
                    account_id: r.try_get("account_id")?,
                    network: serde_json::from_value(serde_json::Value::String(
                        r.try_get("network")?,
                    ))
                    .unwrap_or(NetworkKind::Mastodon),
                    handle: r.try_get("handle")?,
                    state: TargetState::parse(&r.try_get::<String, _>("state")?),
                    url: r.try_get("remote_url")?,
                    error_code: code
                        .and_then(|c| serde_json::from_value(serde_json::Value::String(c)).ok()),
                    error: r.try_get("last_error")?,
                })
            })
            .collect()
    }

    async fn set_state(
        &self,
        target: &str,
        state: TargetState,
        error: Option<(ErrorCode, String)>,
    ) -> Result<()> {
        let (code, message) = match error {
            Some((c, m)) => (
                serde_json::to_value(c)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string)),
                Some(m),
            ),
            None => (None, None),
        };
        sqlx::query("UPDATE post_targets SET state = ?, last_error_code = ?, last_error = ?, lease_until = NULL, updated_at = ? WHERE id = ?")
            .bind(state.as_str())
            .bind(code)
            .bind(message)
            .bind(now_utc())
            .bind(target)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    async fn save_progress(&self, t: &Target) -> Result<()> {
        sqlx::query(
            "UPDATE post_targets SET parts_done = ?, media_done = ?, updated_at = ? WHERE id = ?",
        )
        .bind(serde_json::to_string(&t.parts_done).unwrap_or_else(|_| "[]".into()))
        .bind(serde_json::Value::Object(t.media_done.clone()).to_string())
        .bind(now_utc())
        .bind(&t.id)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    async fn publish_target(&self, mut target: Target) {
        let id = target.id.clone();
        if let Err(e) = sqlx::query("UPDATE post_targets SET state = 'publishing', attempts = attempts + 1, updated_at = ? WHERE id = ?")
            .bind(now_utc())
            .bind(&id)
            .execute(self.store.pool())
            .await
        {
            tracing::error!(error = %e, "cannot mark the target as publishing");
            return;
        }
        let result = self.attempt(&mut target).await;
        let outcome = match result {
            Ok(Sent::Published(url)) => {
                let first = target.parts_done.first().cloned().unwrap_or_default();
                let done = sqlx::query("UPDATE post_targets SET state = 'published', remote_id = ?, remote_url = ?, last_error = NULL, last_error_code = NULL, lease_until = NULL, updated_at = ? WHERE id = ?")
                    .bind(first.id.or(first.uri))
                    .bind(&url)
                    .bind(now_utc())
                    .bind(&id)
                    .execute(self.store.pool())
                    .await
                    .map(|_| ())
                    .map_err(Error::from);
                self.emit(PublishEvent::Published {
                    post_id: target.post_id.clone(),
                    target_id: id.clone(),
                    handle: target.handle.clone(),
                    url,
                });
                match done {
                    Ok(()) => self.after_published(&target.post_id).await,
                    Err(e) => Err(e),
                }
            }
            Ok(Sent::HandedOff(native)) => {
                tracing::info!(target = %id, scheduled = %native, "held by the Mastodon server's scheduler");
                let done = sqlx::query("UPDATE post_targets SET state = 'handed_off', native_schedule_id = ?, next_attempt_at = NULL, last_error = NULL, last_error_code = NULL, lease_until = NULL, updated_at = ? WHERE id = ?")
                    .bind(&native)
                    .bind(now_utc())
                    .bind(&id)
                    .execute(self.store.pool())
                    .await
                    .map(|_| ())
                    .map_err(Error::from);
                self.emit(PublishEvent::HandedOff {
                    post_id: target.post_id.clone(),
                    target_id: id.clone(),
                    handle: target.handle.clone(),
                });
                done
            }
            Ok(Sent::KeepLocal(reason)) => {
                tracing::warn!(target = %id, %reason, "the network did not take the post into its scheduler; Postwerk sends it");
                sqlx::query("UPDATE post_targets SET state = 'scheduled', hand_off = 0, hand_off_key = NULL, last_error = ?, last_error_code = NULL, lease_until = NULL, updated_at = ? WHERE id = ?")
                    .bind(reason)
                    .bind(now_utc())
                    .bind(&id)
                    .execute(self.store.pool())
                    .await
                    .map(|_| ())
                    .map_err(Error::from)
            }
            Err(e) => match retry_delay(&e, &target, &self.backoff) {
                Some(delay) => {
                    let (code, message, _) = outcome_error(&e);
                    let next = target.clock + chrono::Duration::from_std(delay).unwrap_or_default();
                    tracing::info!(target = %id, error = %message, %next, "will retry");
                    self.set_retry(&id, next, code, message).await
                }
                None => {
                    let (code, message, state) = outcome_error(&e);
                    tracing::warn!(target = %id, network = ?target.network, error = %message, "publishing failed");
                    if state == TargetState::NeedsReconnect {
                        if let Err(e) = self
                            .accounts
                            .mark_needs_reconnect(&target.account_id, &message)
                            .await
                        {
                            tracing::error!(error = %e, "cannot mark the account");
                        }
                        self.emit(PublishEvent::NeedsReconnect {
                            post_id: target.post_id.clone(),
                            target_id: id.clone(),
                            handle: target.handle.clone(),
                            message: message.clone(),
                        });
                    } else {
                        self.emit(PublishEvent::Failed {
                            post_id: target.post_id.clone(),
                            target_id: id.clone(),
                            handle: target.handle.clone(),
                            message: message.clone(),
                        });
                    }
                    self.set_state(&id, state, Some((code, message))).await
                }
            },
        };
        if let Err(e) = outcome {
            tracing::error!(error = %e, "cannot record the outcome");
        }
    }

    /// One attempt: settle what a crash left open, check the rules, then hand the post to the
    /// network's scheduler or send it.
    async fn attempt(&self, t: &mut Target) -> Result<Sent> {
        if t.state == "unconfirmed"
            && let Some(native) = self.ask_network(t).await?
        {
            return Ok(Sent::HandedOff(native));
        }
        self.preflight(t).await?;
        let first_confirmed = t.parts_done.first().is_some_and(PartDone::confirmed);
        let hand_off = t.hand_off
            && t.network == NetworkKind::Mastodon
            && t.parts.len() == 1
            && !first_confirmed
            && t.scheduled_at.is_some_and(|at| {
                // A hand-off already started is settled with its own key, however close.
                t.hand_off_key.is_some()
                    || at - t.clock
                        >= chrono::Duration::from_std(HAND_OFF_AHEAD).unwrap_or_default()
            });
        if hand_off {
            return self.hand_off_mastodon(t).await;
        }
        match t.network {
            NetworkKind::Mastodon => self.publish_mastodon(t).await.map(Sent::Published),
            NetworkKind::Bluesky => self.publish_bluesky(t).await.map(Sent::Published),
            other => Err(Error::invalid(
                "network",
                format!(
                    "publishing to {} is not available yet",
                    other.display_name()
                ),
            )),
        }
    }

    /// A target whose outcome is unknown (the process died while sending it): ask the network
    /// what it has before anything is sent again. Returns the network's scheduled-status id
    /// when a hand-off turns out to have happened.
    async fn ask_network(&self, t: &mut Target) -> Result<Option<String>> {
        match t.network {
            NetworkKind::Bluesky => {
                // A part with a stored record key but no confirmation: does the record exist?
                for n in 0..t.parts_done.len() {
                    let part = t.parts_done[n].clone();
                    let (Some(rkey), false) = (part.rkey.clone(), part.confirmed()) else {
                        continue;
                    };
                    let did = t.remote_id.clone();
                    let found = self
                        .accounts
                        .with_bluesky(&t.account_id, |b, pds, access| {
                            let did = did.clone();
                            let rkey = rkey.clone();
                            async move { b.get_post(&pds, &access, &did, &rkey).await }
                        })
                        .await?;
                    if let Some(r) = found {
                        tracing::info!(target = %t.id, part = n, "the record exists: it went out before the crash");
                        t.parts_done[n].url = bluesky::post_web_url(&t.handle, &r.uri);
                        t.parts_done[n].uri = Some(r.uri);
                        t.parts_done[n].cid = Some(r.cid);
                        self.save_progress(t).await?;
                    }
                }
                Ok(None)
            }
            NetworkKind::Mastodon => {
                let within_window = t.claimed_at.is_some_and(|c| {
                    t.clock - c < chrono::Duration::from_std(IDEMPOTENCY_WINDOW).unwrap_or_default()
                });
                if within_window {
                    // Sending again with the same Idempotency-Key returns what the server
                    // made the first time (or makes it, if it never arrived).
                    return Ok(None);
                }
                let (client, token) = self.mastodon_client(t).await?;
                if t.hand_off_key.is_some() {
                    let text = text_signature(t.parts.first().map_or("", String::as_str));
                    let held = client
                        .scheduled_statuses(&token)
                        .await
                        .map_err(Error::Network)?;
                    if let Some(s) = held.iter().find(|s| {
                        s.params.text.as_deref().map(text_signature).as_deref()
                            == Some(text.as_str())
                            && parse_stamp(&s.scheduled_at) == t.scheduled_at
                    }) {
                        return Ok(Some(s.id.clone()));
                    }
                }
                let since = t.claimed_at.or(t.scheduled_at).unwrap_or(t.clock)
                    - chrono::Duration::minutes(1);
                let recent = client
                    .recent_statuses(&token, &t.remote_id, 2)
                    .await
                    .map_err(Error::Network)?;
                let mut previous: Option<String> = None;
                for n in 0..t.parts.len() {
                    if let Some(done) = t.parts_done.get(n).filter(|p| p.confirmed()) {
                        previous = done.id.clone();
                        continue;
                    }
                    let want = text_signature(&t.parts[n]);
                    let found = recent.iter().find(|s| {
                        s.in_reply_to_id == previous
                            && parse_stamp(&s.created_at).is_some_and(|c| c >= since)
                            && s.plain_signature() == want
                    });
                    let Some(found) = found else { break };
                    tracing::info!(target = %t.id, part = n, status = %found.id, "found on the account: it went out before the crash");
                    while t.parts_done.len() <= n {
                        t.parts_done.push(PartDone::default());
                    }
                    t.parts_done[n].id = Some(found.id.clone());
                    t.parts_done[n].url = found.url.clone();
                    previous = Some(found.id.clone());
                }
                self.save_progress(t).await?;
                // A hand-off that is not held and did not go out: start a fresh one.
                if t.hand_off_key.is_some()
                    && !t.parts_done.first().is_some_and(PartDone::confirmed)
                {
                    t.hand_off_key = None;
                    self.set_hand_off_key(&t.id, None).await?;
                }
                Ok(None)
            }
            _ => Ok(None),
        }
    }

    async fn set_hand_off_key(&self, target: &str, key: Option<&str>) -> Result<()> {
        sqlx::query("UPDATE post_targets SET hand_off_key = ?, updated_at = ? WHERE id = ?")
            .bind(key)
            .bind(now_utc())
            .bind(target)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// Gives a single post to the Mastodon server's scheduler (`scheduled_at`), media uploaded
    /// now. The request carries its own Idempotency-Key, chosen and stored first.
    async fn hand_off_mastodon(&self, t: &mut Target) -> Result<Sent> {
        let at = t
            .scheduled_at
            .ok_or_else(|| Error::Conflict("no time to hand off".into()))?;
        let (client, token) = self.mastodon_client(t).await?;
        let media_ids = self.mastodon_media(&client, &token, t).await?;
        let key = match &t.hand_off_key {
            Some(k) => k.clone(),
            None => {
                let k = format!("{}-h{}", t.idempotency_key, bluesky_richtext::new_tid());
                self.set_hand_off_key(&t.id, Some(&k)).await?;
                t.hand_off_key = Some(k.clone());
                k
            }
        };
        let status = NewStatus {
            status: t.parts[0].clone(),
            media_ids,
            spoiler_text: (!t.spoiler.trim().is_empty()).then(|| t.spoiler.clone()),
            scheduled_at: Some(stamp(at)),
            ..NewStatus::default()
        };
        match client.post_status(&token, &status, &key).await {
            Ok(posted) => match posted.scheduled_id {
                Some(native) => Ok(Sent::HandedOff(native)),
                None => {
                    // The server published it at once (a replay after it went out).
                    while t.parts_done.is_empty() {
                        t.parts_done.push(PartDone::default());
                    }
                    t.parts_done[0].id = Some(posted.id);
                    t.parts_done[0].url = posted.url.clone();
                    self.save_progress(t).await?;
                    Ok(Sent::Published(posted.url))
                }
            },
            Err(NetworkError::InvalidPost { reason }) => {
                // Too close, or the server's limits (300 pending, 50 a day): Postwerk sends it.
                self.set_hand_off_key(&t.id, None).await?;
                t.hand_off_key = None;
                Ok(Sent::KeepLocal(format!(
                    "Mastodon did not take the post into its scheduler ({reason}); Postwerk will send it, so keep Postwerk running"
                )))
            }
            Err(NetworkError::AuthExpired { message, .. }) => Err(Error::NeedsReconnect {
                account: t.account_id.clone(),
                message,
            }),
            Err(e) => Err(Error::Network(e)),
        }
    }

    async fn set_retry(
        &self,
        target: &str,
        next: chrono::DateTime<Utc>,
        code: ErrorCode,
        message: String,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE post_targets SET state = 'scheduled', next_attempt_at = ?1, \
             due_at = CASE WHEN scheduled_at > ?1 THEN scheduled_at ELSE ?1 END, \
             last_error_code = ?2, last_error = ?3, lease_until = NULL, updated_at = ?4 WHERE id = ?5",
        )
        .bind(stamp(next))
        .bind(serde_json::to_value(code).ok().and_then(|v| v.as_str().map(str::to_string)))
        .bind(message)
        .bind(now_utc())
        .bind(target)
        .execute(self.store.pool())
        .await?;
        self.wake.notify_one();
        Ok(())
    }

    async fn mastodon_client(&self, t: &Target) -> Result<(Mastodon, postwerk_networks::Secret)> {
        let token = self
            .accounts
            .secrets()
            .get(SecretKey::account(&t.account_id, ACCESS_TOKEN))
            .await?
            .ok_or_else(|| Error::NeedsReconnect {
                account: t.account_id.clone(),
                message: "the sign-in is missing from the keychain".into(),
            })?;
        let base = Url::parse(&t.server)
            .map_err(|_| Error::Conflict(format!("bad server URL {}", t.server)))?;
        Ok((Mastodon::new(self.http.clone(), base), token))
    }

    /// Uploads the post's media once (remembered per target) and returns the remote ids.
    async fn mastodon_media(
        &self,
        client: &Mastodon,
        token: &postwerk_networks::Secret,
        t: &mut Target,
    ) -> Result<Vec<String>> {
        let mut media_ids = Vec::new();
        for (media_id, alt) in t.media.clone() {
            if let Some(remote) = t.media_done.get(&media_id).and_then(|v| v.as_str()) {
                media_ids.push(remote.to_string());
                continue;
            }
            let (bytes, mime) = self.media_bytes(&media_id).await?;
            let name = format!(
                "{}.{}",
                &media_id[..12.min(media_id.len())],
                mime.rsplit('/').next().unwrap_or("bin")
            );
            let remote = client
                .upload_media(token, bytes, &mime, &name, Some(alt.as_str()))
                .await
                .map_err(|e| mastodon_error(e, &t.account_id))?;
            t.media_done
                .insert(media_id.clone(), serde_json::Value::String(remote.clone()));
            self.save_progress(t).await?;
            media_ids.push(remote);
        }
        Ok(media_ids)
    }

    async fn media_bytes(&self, media_id: &str) -> Result<(Vec<u8>, String)> {
        self.media.read(media_id).await
    }

    async fn publish_mastodon(&self, t: &mut Target) -> Result<Option<String>> {
        let (client, token) = self.mastodon_client(t).await?;
        let media_ids = self.mastodon_media(&client, &token, t).await?;
        let account = t.account_id.clone();
        let map = |e: NetworkError| mastodon_error(e, &account);
        let mut previous: Option<String> = None;
        for (n, text) in t.parts.clone().iter().enumerate() {
            if let Some(done) = t.parts_done.get(n).filter(|p| p.confirmed()) {
                previous = done.id.clone();
                continue;
            }
            let status = NewStatus {
                status: text.clone(),
                media_ids: if n == 0 {
                    media_ids.clone()
                } else {
                    Vec::new()
                },
                in_reply_to_id: previous.clone(),
                spoiler_text: (!t.spoiler.trim().is_empty()).then(|| t.spoiler.clone()),
                ..NewStatus::default()
            };
            let key = format!("{}-{n}", t.idempotency_key);
            let posted = client
                .post_status(&token, &status, &key)
                .await
                .map_err(map)?;
            while t.parts_done.len() <= n {
                t.parts_done.push(PartDone::default());
            }
            t.parts_done[n] = PartDone {
                id: Some(posted.id.clone()),
                url: posted.url.clone(),
                ..PartDone::default()
            };
            self.save_progress(t).await?;
            previous = Some(posted.id);
        }
        Ok(t.parts_done.first().and_then(|p| p.url.clone()))
    }

    async fn publish_bluesky(&self, t: &mut Target) -> Result<Option<String>> {
        // Images: re-encoded to fit, EXIF dropped, uploaded once.
        let mut images = Vec::new();
        for (media_id, alt) in t.media.clone() {
            if let Some(blob) = t.media_done.get(&media_id).cloned() {
                images.push(blob_embed(blob, &alt));
                continue;
            }
            let (bytes, mime) = self.media_bytes(&media_id).await?;
            let (bytes, mime, w, h) = tokio::task::spawn_blocking(move || {
                reencode_to_fit(&bytes, &mime, BLUESKY_IMAGE_BYTES)
            })
            .await
            .map_err(|e| Error::Conflict(e.to_string()))??;
            let blob = self
                .accounts
                .with_bluesky(&t.account_id, |b, pds, access| {
                    let bytes = bytes.clone();
                    async move { b.upload_blob(&pds, &access, bytes, mime).await }
                })
                .await?;
            let entry =
                serde_json::json!({ "blob": blob, "aspectRatio": { "width": w, "height": h } });
            t.media_done.insert(media_id.clone(), entry.clone());
            self.save_progress(t).await?;
            images.push(blob_embed(entry, &alt));
        }
        let mut root: Option<StrongRef> = None;
        let mut parent: Option<StrongRef> = None;
        for (n, text) in t.parts.clone().iter().enumerate() {
            if let Some(done) = t.parts_done.get(n).filter(|p| p.confirmed()) {
                let r = StrongRef {
                    uri: done.uri.clone().unwrap_or_default(),
                    cid: done.cid.clone().unwrap_or_default(),
                };
                root.get_or_insert_with(|| r.clone());
                parent = Some(r);
                continue;
            }
            // The record key is chosen and stored before the request: a retry reuses it.
            while t.parts_done.len() <= n {
                t.parts_done.push(PartDone::default());
            }
            let rkey = match &t.parts_done[n].rkey {
                Some(k) => k.clone(),
                None => {
                    let k = bluesky_richtext::new_tid();
                    t.parts_done[n].rkey = Some(k.clone());
                    self.save_progress(t).await?;
                    k
                }
            };
            let text = text.clone();
            let embed = if n == 0 && !images.is_empty() {
                Some(serde_json::json!({ "$type": "app.bsky.embed.images", "images": images }))
            } else if n == 0 {
                self.link_card(t, &text).await
            } else {
                None
            };
            let facets = self.facets(&text).await;
            let mut record = serde_json::json!({
                "$type": "app.bsky.feed.post",
                "text": text,
                "createdAt": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            });
            if !facets.is_empty() {
                record["facets"] = serde_json::to_value(&facets).unwrap_or_default();
            }
            if let Some(embed) = embed {
                record["embed"] = embed;
            }
            if let (Some(root), Some(parent)) = (&root, &parent) {
                record["reply"] = serde_json::json!({ "root": root, "parent": parent });
            }
            let did = t.remote_id.clone();
            let created = self
                .accounts
                .with_bluesky(&t.account_id, |b, pds, access| {
                    let record = record.clone();
                    let did = did.clone();
                    let rkey = rkey.clone();
                    async move { b.create_post(&pds, &access, &did, &rkey, &record).await }
                })
                .await
                .map_err(|e| match e {
                    Error::Network(NetworkError::InvalidPost { reason }) => {
                        Error::Network(NetworkError::InvalidPost {
                            reason: format!("Bluesky refused the post: {reason}"),
                        })
                    }
                    e => e,
                })?;
            t.parts_done[n] = PartDone {
                rkey: Some(rkey),
                uri: Some(created.uri.clone()),
                cid: Some(created.cid.clone()),
                url: bluesky::post_web_url(&t.handle, &created.uri),
                id: None,
            };
            self.save_progress(t).await?;
            root.get_or_insert_with(|| created.clone());
            parent = Some(created);
        }
        Ok(t.parts_done.first().and_then(|p| p.url.clone()))
    }

    /// Facets for links, tags and mentions (handles resolved to DIDs; unresolved ones stay text).
    pub(crate) async fn facets(&self, text: &str) -> Vec<bluesky_richtext::Facet> {
        let spans = bluesky_richtext::detect(text);
        let mut dids = std::collections::HashMap::new();
        for span in &spans {
            if let bluesky_richtext::Span::Mention { handle, .. } = span
                && !dids.contains_key(handle)
            {
                let did = self
                    .accounts
                    .bluesky_client()
                    .resolve_handle(handle)
                    .await
                    .ok();
                dids.insert(handle.clone(), did);
            }
        }
        bluesky_richtext::facets(&spans, |h| dids.get(h).cloned().flatten())
    }

    /// A link card for the first link: the page's OpenGraph title, description and image
    /// (uploaded as the thumb), read within 5 s and 1 MB. No card when the page does not answer.
    async fn link_card(&self, t: &Target, text: &str) -> Option<serde_json::Value> {
        let uri = bluesky_richtext::detect(text)
            .into_iter()
            .find_map(|s| match s {
                bluesky_richtext::Span::Link { uri, .. } => Some(uri),
                _ => None,
            })?;
        let card =
            match tokio::time::timeout(CARD_TIMEOUT, fetch_open_graph(&self.http, &uri)).await {
                Ok(Ok(card)) => card,
                Ok(Err(e)) => {
                    tracing::info!(error = %e, "no link card");
                    return None;
                }
                Err(_) => {
                    tracing::info!(%uri, "link card page too slow");
                    return None;
                }
            };
        let mut external = serde_json::json!({
            "uri": uri,
            "title": card.title,
            "description": card.description,
        });
        if let Some(image) = card.image
            && let Ok(Ok((bytes, mime))) =
                tokio::time::timeout(CARD_TIMEOUT, self.http.fetch_image(&image)).await
            && let Ok(Ok((bytes, mime, _, _))) = tokio::task::spawn_blocking(move || {
                reencode_to_fit(&bytes, mime, BLUESKY_IMAGE_BYTES)
            })
            .await
            && let Ok(blob) = self
                .accounts
                .with_bluesky(&t.account_id, |b, pds, access| {
                    let bytes = bytes.clone();
                    async move { b.upload_blob(&pds, &access, bytes, mime).await }
                })
                .await
        {
            external["thumb"] = blob;
        }
        Some(serde_json::json!({ "$type": "app.bsky.embed.external", "external": external }))
    }
}

/// What one attempt achieved.
enum Sent {
    /// Sent; the live post's link.
    Published(Option<String>),
    /// Held by the network's scheduler under this id.
    HandedOff(String),
    /// The network would not hold it: it stays with Postwerk's scheduler (the reason says why).
    KeepLocal(String),
}

fn mastodon_error(e: NetworkError, account: &str) -> Error {
    match e {
        NetworkError::AuthExpired { message, .. } => Error::NeedsReconnect {
            account: account.to_string(),
            message,
        },
        NetworkError::InvalidPost { reason } => Error::Network(NetworkError::InvalidPost {
            reason: format!("Mastodon refused the post: {reason}"),
        }),
        e => Error::Network(e),
    }
}

fn blob_embed(entry: serde_json::Value, alt: &str) -> serde_json::Value {
    let mut image = serde_json::json!({ "image": entry["blob"].clone(), "alt": alt });
    if let Some(ratio) = entry.get("aspectRatio") {
        image["aspectRatio"] = ratio.clone();
    }
    image
}

/// A page's OpenGraph data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenGraph {
    pub title: String,
    pub description: String,
    pub image: Option<Url>,
}

/// Reads at most `CARD_MAX_BYTES` of an HTML page and its `og:` meta tags (falling back to
/// `<title>` and `description`).
pub async fn fetch_open_graph(http: &HttpClient, uri: &str) -> Result<OpenGraph> {
    let url = Url::parse(uri)
        .map_err(|_| Error::invalid("link", format!("{uri} is not a web address")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(Error::invalid("link", format!("{uri} is not a web page")));
    }
    let mut response = http
        .reqwest()
        .get(url.clone())
        .timeout(CARD_TIMEOUT)
        .send()
        .await
        .map_err(|e| Error::Network(postwerk_networks::http::transport_error(e)))?;
    if !response.status().is_success() {
        return Err(Error::Network(NetworkError::NotFound {
            message: format!("{uri} answered {}", response.status()),
        }));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Error::Network(postwerk_networks::http::transport_error(e)))?
    {
        let room = CARD_MAX_BYTES.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= CARD_MAX_BYTES {
            break;
        }
    }
    let html = String::from_utf8_lossy(&body);
    Ok(parse_open_graph(&html, &url))
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let lower = tag.to_ascii_lowercase();
    let key = format!("{name}=");
    let pos = lower.find(&key)? + key.len();
    let rest = &tag[pos..];
    let quote = rest.chars().next()?;
    if quote == '"' || quote == '\'' {
        let end = rest[1..].find(quote)?;
        Some(&rest[1..1 + end])
    } else {
        Some(
            rest.split(|c: char| c.is_whitespace() || c == '>')
                .next()
                .unwrap_or(""),
        )
    }
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The OpenGraph fields of a page (tolerant of attribute order and quoting).
pub fn parse_open_graph(html: &str, base: &Url) -> OpenGraph {
    let mut og = OpenGraph {
        title: String::new(),
        description: String::new(),
        image: None,
    };
    let mut fallback_title = String::new();
    let mut fallback_description = String::new();
    for tag in html.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or("");
        let lower = tag.to_ascii_lowercase();
        if lower.starts_with("title") {
            continue;
        }
        if !lower.starts_with("meta") {
            continue;
        }
        let key = attr(tag, "property")
            .or_else(|| attr(tag, "name"))
            .unwrap_or("")
            .to_ascii_lowercase();
        let Some(content) = attr(tag, "content") else {
            continue;
        };
        let content = unescape(content).trim().to_string();
        match key.as_str() {
            "og:title" => og.title = content,
            "og:description" => og.description = content,
            "og:image" | "og:image:url" if og.image.is_none() => {
                og.image = base.join(&content).ok()
            }
            "twitter:title" => fallback_title = content,
            "description" | "twitter:description" => fallback_description = content,
            _ => {}
        }
    }
    if og.title.is_empty() {
        let lower = html.to_ascii_lowercase();
        if let (Some(s), Some(e)) = (lower.find("<title>"), lower.find("</title>"))
            && s + 7 <= e
        {
            fallback_title = unescape(html[s + 7..e].trim());
        }
        og.title = fallback_title;
    }
    if og.description.is_empty() {
        og.description = fallback_description;
    }
    og.title = og.title.chars().take(300).collect();
    og.description = og.description.chars().take(1000).collect();
    og
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_graph_is_read_in_any_attribute_order() {
        let html = r#"<html><head><title>Fallback</title>
            <meta content="Fresh bread &amp; more" property="og:title">
            <meta property='og:description' content='Every morning at 6'>
            <meta property="og:image" content="/img/og.jpg"></head></html>"#;
        let og = parse_open_graph(
            html,
            &Url::parse("https://baeckerei.example/news/1").unwrap(),
        );
        assert_eq!(og.title, "Fresh bread & more");
        assert_eq!(og.description, "Every morning at 6");
        assert_eq!(
            og.image.unwrap().as_str(),
            "https://baeckerei.example/img/og.jpg"
        );
        let plain = parse_open_graph(
            "<title>Only a title</title><meta name=description content=Hi>",
            &Url::parse("https://x.example/").unwrap(),
        );
        assert_eq!(
            (
                plain.title.as_str(),
                plain.description.as_str(),
                plain.image
            ),
            ("Only a title", "Hi", None)
        );
    }

    #[test]
    fn parts_prefer_the_thread_then_the_override() {
        assert_eq!(parts_of("master", None, None), ["master"]);
        assert_eq!(parts_of("master", Some("own".into()), None), ["own"]);
        assert_eq!(
            parts_of(
                "master",
                Some("own".into()),
                Some(r#"["a"," b ",""]"#.into())
            ),
            ["a", "b"]
        );
    }
}
