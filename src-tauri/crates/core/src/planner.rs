//! What people do with scheduled posts: reschedule, pause, resume, cancel, publish a missed
//! one now, put a post into an account's queue, repeat it or recycle it (evergreen). Targets
//! held by a network's own scheduler are changed there first; when that fails nothing changes
//! here and the user gets the network's reason.

use chrono::{DateTime, Datelike, NaiveTime, Utc};
use chrono_tz::Tz;
use postwerk_networks::NetworkKind;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::clock::{parse_stamp, stamp};
use crate::publish::{
    HAND_OFF_AHEAD, HeldBy, PublishEvent, Publisher, QueueItem, TargetOutcome, TargetState,
};
use crate::store::now_utc;
use crate::tz::parse_zone;
use crate::{Error, Result};

/// A weekly queue time for an account, on the workspace's wall clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct QueueSlot {
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u8,
    /// Minutes after midnight (9:30 is 570).
    pub minute: u16,
}

/// How a post comes back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Repeat {
    /// Again every this many days after each time it went out (weeks: 7, 14, …).
    pub every_days: Option<u32>,
    /// Evergreen: back into the account's queue, at least this many days after it went out.
    pub evergreen_gap_days: Option<u32>,
}

/// Which scheduled posts to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ScheduleFilter {
    pub workspace_id: Option<String>,
    pub account_id: Option<String>,
    /// RFC 3339; due at or after.
    pub from: Option<String>,
    /// RFC 3339; due before.
    pub to: Option<String>,
    /// Only targets in these states (any when absent).
    #[serde(default)]
    #[cfg_attr(feature = "specta", specta(optional))]
    pub states: Option<Vec<TargetState>>,
}

/// States a scheduled target can be moved from.
const MOVABLE: [&str; 6] = [
    "scheduled",
    "missed",
    "paused",
    "handed_off",
    "needs_reconnect",
    "failed",
];

struct TargetRow {
    id: String,
    post_id: String,
    account_id: String,
    state: TargetState,
    network: NetworkKind,
    native: Option<String>,
    zone: String,
    single: bool,
}

fn local_text(t: DateTime<Utc>, zone: Tz) -> String {
    t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
}

impl Publisher {
    async fn target_row(&self, target_id: &str) -> Result<TargetRow> {
        let r = sqlx::query(
            "SELECT t.id, t.post_id, t.account_id, t.state, t.native_schedule_id, t.thread_parts, a.network, w.time_zone \
             FROM post_targets t JOIN accounts a ON a.id = t.account_id JOIN posts p ON p.id = t.post_id \
             JOIN workspaces w ON w.id = p.workspace_id WHERE t.id = ?",
        )
        .bind(target_id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or_else(|| Error::not_found(format!("scheduled post {target_id}")))?;
        let parts: Option<String> = r.try_get("thread_parts")?;
        let single = parts
            .as_deref()
            .and_then(|p| serde_json::from_str::<Vec<String>>(p).ok())
            .is_none_or(|p| p.iter().filter(|s| !s.trim().is_empty()).count() <= 1);
        Ok(TargetRow {
            id: r.try_get("id")?,
            post_id: r.try_get("post_id")?,
            account_id: r.try_get("account_id")?,
            state: TargetState::parse(&r.try_get::<String, _>("state")?),
            network: serde_json::from_value(serde_json::Value::String(r.try_get("network")?))
                .unwrap_or(NetworkKind::Mastodon),
            native: r.try_get("native_schedule_id")?,
            zone: r.try_get("time_zone")?,
            single,
        })
    }

    pub(crate) async fn mastodon_for(
        &self,
        account_id: &str,
    ) -> Result<(
        postwerk_networks::mastodon::Mastodon,
        postwerk_networks::Secret,
    )> {
        let server: String = sqlx::query_scalar("SELECT server_url FROM accounts WHERE id = ?")
            .bind(account_id)
            .fetch_one(self.store.pool())
            .await?;
        let token = self
            .accounts
            .secrets()
            .get(crate::secrets::SecretKey::account(
                account_id,
                crate::accounts::ACCESS_TOKEN,
            ))
            .await?
            .ok_or_else(|| Error::NeedsReconnect {
                account: account_id.to_string(),
                message: "the sign-in is missing from the keychain".into(),
            })?;
        let base = url::Url::parse(&server)
            .map_err(|_| Error::Conflict(format!("bad server URL {server}")))?;
        Ok((
            postwerk_networks::mastodon::Mastodon::new(self.http.clone(), base),
            token,
        ))
    }

    /// Takes a post back from the network's scheduler (nothing changes here if that fails).
    async fn withdraw(&self, t: &TargetRow) -> Result<()> {
        if t.state != TargetState::HandedOff {
            return Ok(());
        }
        if let Some(native) = &t.native {
            let (client, token) = self.mastodon_for(&t.account_id).await?;
            client
                .cancel_scheduled(&token, native)
                .await
                .map_err(Error::Network)?;
        }
        sqlx::query(
            "UPDATE post_targets SET native_schedule_id = NULL, hand_off_key = NULL, state = 'scheduled', updated_at = ? WHERE id = ?",
        )
        .bind(now_utc())
        .bind(&t.id)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Moves one scheduled target to another wall-clock time in its workspace's zone. A post
    /// held by Mastodon is moved there (or taken back when the new time is too close).
    pub async fn reschedule_target(
        &self,
        target_id: &str,
        wall_clock: &str,
        now: DateTime<Utc>,
    ) -> Result<QueueItem> {
        let t = self.target_row(target_id).await?;
        if !MOVABLE.contains(&t.state.as_str()) {
            return Err(Error::Conflict(format!(
                "this post is {} and cannot be moved",
                t.state.as_str().replace('_', " ")
            )));
        }
        let at = crate::schedule::resolve_in(&t.zone, wall_clock)?;
        if at <= now {
            return Err(Error::invalid(
                "time",
                format!("{} in {} is in the past", wall_clock.trim(), t.zone),
            ));
        }
        let local = crate::schedule::wall_clock_text(wall_clock);
        let ahead = at - now >= chrono::Duration::from_std(HAND_OFF_AHEAD).unwrap_or_default();
        let mut state = match t.state {
            TargetState::Paused => TargetState::Paused,
            _ => TargetState::Scheduled,
        };
        if t.state == TargetState::HandedOff {
            match (&t.native, ahead) {
                (Some(native), true) => {
                    let (client, token) = self.mastodon_for(&t.account_id).await?;
                    client
                        .reschedule_status(&token, native, &stamp(at))
                        .await
                        .map_err(Error::Network)?;
                    state = TargetState::HandedOff;
                }
                _ => self.withdraw(&t).await?,
            }
        }
        let hand_off = t.network == NetworkKind::Mastodon && t.single;
        sqlx::query(
            "UPDATE post_targets SET state = ?1, scheduled_at = ?2, due_at = ?2, scheduled_local = ?3, scheduled_zone = ?4, \
             next_attempt_at = NULL, attempts = 0, last_error = NULL, last_error_code = NULL, hand_off = ?5, updated_at = ?6 WHERE id = ?7",
        )
        .bind(state.as_str())
        .bind(stamp(at))
        .bind(&local)
        .bind(&t.zone)
        .bind(i64::from(hand_off))
        .bind(now_utc())
        .bind(&t.id)
        .execute(self.store.pool())
        .await?;
        tracing::info!(target = %t.id, %at, "rescheduled");
        self.changed();
        self.item(&t.id).await
    }

    /// Keeps a scheduled target without sending it (taken back from the network first).
    pub async fn pause_target(&self, target_id: &str) -> Result<QueueItem> {
        let t = self.target_row(target_id).await?;
        if !matches!(
            t.state,
            TargetState::Scheduled
                | TargetState::HandedOff
                | TargetState::Missed
                | TargetState::NeedsReconnect
        ) {
            return Err(Error::Conflict(format!(
                "only a scheduled post can be paused; this one is {}",
                t.state.as_str().replace('_', " ")
            )));
        }
        self.withdraw(&t).await?;
        self.set_target_state(&t.id, TargetState::Paused).await?;
        self.item(&t.id).await
    }

    /// Puts a paused target back on the schedule. When its time has passed, the grace window
    /// decides: sent now, or held as missed.
    pub async fn resume_target(&self, target_id: &str) -> Result<QueueItem> {
        let t = self.target_row(target_id).await?;
        if t.state != TargetState::Paused {
            return Err(Error::Conflict("this post is not paused".into()));
        }
        self.set_target_state(&t.id, TargetState::Scheduled).await?;
        self.item(&t.id).await
    }

    /// Will not be sent (taken back from the network first).
    pub async fn cancel_target(&self, target_id: &str) -> Result<QueueItem> {
        let t = self.target_row(target_id).await?;
        if !MOVABLE.contains(&t.state.as_str()) {
            return Err(Error::Conflict(format!(
                "this post is {} and cannot be cancelled",
                t.state.as_str().replace('_', " ")
            )));
        }
        self.withdraw(&t).await?;
        self.set_target_state(&t.id, TargetState::Cancelled).await?;
        tracing::info!(target = %t.id, "cancelled");
        self.item(&t.id).await
    }

    async fn set_target_state(&self, target_id: &str, state: TargetState) -> Result<()> {
        sqlx::query(
            "UPDATE post_targets SET state = ?, next_attempt_at = NULL, due_at = scheduled_at, lease_until = NULL, updated_at = ? WHERE id = ?",
        )
        .bind(state.as_str())
        .bind(now_utc())
        .bind(target_id)
        .execute(self.store.pool())
        .await?;
        self.changed();
        Ok(())
    }

    /// Sends a missed (or paused, or failed) scheduled target now and waits for the outcome.
    pub async fn publish_target_now(
        &self,
        target_id: &str,
        now: DateTime<Utc>,
    ) -> Result<TargetOutcome> {
        let t = self.target_row(target_id).await?;
        if !matches!(
            t.state,
            TargetState::Missed
                | TargetState::Paused
                | TargetState::Failed
                | TargetState::Scheduled
        ) {
            return Err(Error::Conflict(format!(
                "this post is {} and cannot be sent now",
                t.state.as_str().replace('_', " ")
            )));
        }
        let zone = parse_zone(&t.zone)?;
        // It is now scheduled for now, and claimed at once (a lease, as the scheduler does).
        let claimed: Option<String> = sqlx::query_scalar(
            "UPDATE post_targets SET state = 'publishing', scheduled_at = ?1, due_at = ?1, scheduled_local = ?2, \
             hand_off = 0, next_attempt_at = NULL, attempts = 0, claimed_at = ?1, lease_until = ?3, updated_at = ?4 \
             WHERE id = ?5 AND state = ?6 RETURNING id",
        )
        .bind(stamp(now))
        .bind(local_text(now, zone))
        .bind(stamp(now + chrono::Duration::from_std(crate::scheduler::LEASE).unwrap_or_default()))
        .bind(now_utc())
        .bind(&t.id)
        .bind(t.state.as_str())
        .fetch_optional(self.store.pool())
        .await?;
        if claimed.is_none() {
            return Err(Error::Conflict(
                "the post changed meanwhile; look again".into(),
            ));
        }
        self.publish_claim(&t.id, &t.post_id, now).await;
        self.changed();
        self.outcomes(&t.post_id)
            .await?
            .into_iter()
            .find(|o| o.target_id == t.id)
            .ok_or_else(|| Error::not_found(format!("scheduled post {}", t.id)))
    }

    /// Takes a scheduled post back to a draft to edit it (from every network's scheduler).
    /// Refused when any target already went out.
    pub async fn unschedule_post(&self, post_id: &str) -> Result<()> {
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM post_targets WHERE post_id = ?")
            .bind(post_id)
            .fetch_all(self.store.pool())
            .await?;
        if ids.is_empty() {
            return Err(Error::not_found(format!("post {post_id}")));
        }
        let mut rows = Vec::new();
        for id in &ids {
            let t = self.target_row(id).await?;
            if matches!(
                t.state,
                TargetState::Published | TargetState::Publishing | TargetState::Unconfirmed
            ) {
                return Err(Error::Conflict(
                    "part of this post already went out; it cannot go back to a draft".into(),
                ));
            }
            rows.push(t);
        }
        for t in &rows {
            self.withdraw(t).await?;
        }
        let mut tx = self.store.pool().begin().await?;
        sqlx::query(
            "UPDATE post_targets SET state = 'draft', scheduled_at = NULL, due_at = NULL, scheduled_local = NULL, scheduled_zone = NULL, \
             next_attempt_at = NULL, attempts = 0, last_error = NULL, last_error_code = NULL, queued = 0, updated_at = ? WHERE post_id = ?",
        )
        .bind(now_utc())
        .bind(post_id)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE posts SET status = 'draft', updated_at = ? WHERE id = ?")
            .bind(now_utc())
            .bind(post_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        self.changed();
        Ok(())
    }

    /// An account's weekly queue times, in order.
    pub async fn queue_slots(&self, account_id: &str) -> Result<Vec<QueueSlot>> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT weekday, minute FROM queue_slots WHERE account_id = ? ORDER BY weekday, minute",
        )
        .bind(account_id)
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows
            .into_iter()
            .map(|(w, m)| QueueSlot {
                weekday: u8::try_from(w).unwrap_or(0),
                minute: u16::try_from(m).unwrap_or(0),
            })
            .collect())
    }

    /// Replaces an account's weekly queue times.
    pub async fn set_queue_slots(
        &self,
        account_id: &str,
        slots: &[QueueSlot],
    ) -> Result<Vec<QueueSlot>> {
        for s in slots {
            if s.weekday > 6 || s.minute > 1439 {
                return Err(Error::invalid(
                    "slots",
                    format!(
                        "weekday {} at minute {} is not a time in the week",
                        s.weekday, s.minute
                    ),
                ));
            }
        }
        let exists: bool = sqlx::query_scalar("SELECT count(*) > 0 FROM accounts WHERE id = ?")
            .bind(account_id)
            .fetch_one(self.store.pool())
            .await?;
        if !exists {
            return Err(Error::not_found(format!("account {account_id}")));
        }
        let mut tx = self.store.pool().begin().await?;
        sqlx::query("DELETE FROM queue_slots WHERE account_id = ?")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        for s in slots {
            sqlx::query(
                "INSERT OR IGNORE INTO queue_slots (account_id, weekday, minute) VALUES (?, ?, ?)",
            )
            .bind(account_id)
            .bind(i64::from(s.weekday))
            .bind(i64::from(s.minute))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.queue_slots(account_id).await
    }

    /// The first free queue time of an account at or after `earliest` (and after `now`).
    async fn next_slot(
        &self,
        account_id: &str,
        zone: Tz,
        earliest: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>> {
        let slots = self.queue_slots(account_id).await?;
        if slots.is_empty() {
            let handle: String = sqlx::query_scalar("SELECT handle FROM accounts WHERE id = ?")
                .bind(account_id)
                .fetch_optional(self.store.pool())
                .await?
                .unwrap_or_default();
            return Err(Error::invalid(
                "queue",
                format!("{handle} has no queue times yet; add some under Calendar → Queue"),
            ));
        }
        let taken: std::collections::HashSet<String> = sqlx::query_scalar(
            "SELECT scheduled_at FROM post_targets WHERE account_id = ? AND scheduled_at IS NOT NULL \
             AND state IN ('scheduled', 'handed_off', 'publishing', 'paused', 'needs_reconnect', 'unconfirmed', 'missed')",
        )
        .bind(account_id)
        .fetch_all(self.store.pool())
        .await?
        .into_iter()
        .collect();
        let floor = earliest.max(now + chrono::Duration::minutes(1));
        let start = floor.with_timezone(&zone).date_naive();
        for day in 0..(7 * 60) {
            let date = start + chrono::Days::new(day);
            let weekday = u8::try_from(date.weekday().num_days_from_monday()).unwrap_or(0);
            for s in slots.iter().filter(|s| s.weekday == weekday) {
                let time =
                    NaiveTime::from_hms_opt(u32::from(s.minute / 60), u32::from(s.minute % 60), 0)
                        .unwrap_or_default();
                let at = crate::schedule::resolve_lenient(zone, date.and_time(time));
                if at >= floor && !taken.contains(&stamp(at)) {
                    return Ok(at);
                }
            }
        }
        Err(Error::invalid(
            "queue",
            "every queue time in the next 60 weeks is taken; add more queue times",
        ))
    }

    /// "Add to queue": each target goes to its account's next free queue time.
    pub async fn add_to_queue(
        &self,
        post_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<TargetOutcome>> {
        let row = sqlx::query(
            "SELECT p.status, w.time_zone FROM posts p JOIN workspaces w ON w.id = p.workspace_id WHERE p.id = ?",
        )
        .bind(post_id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or_else(|| Error::not_found(format!("post {post_id}")))?;
        if row.try_get::<String, _>("status")? != "draft" {
            return Err(Error::Conflict(
                "this post was already sent or scheduled".into(),
            ));
        }
        let zone_name: String = row.try_get("time_zone")?;
        let zone = parse_zone(&zone_name)?;
        let targets: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, account_id FROM post_targets WHERE post_id = ? ORDER BY created_at, id",
        )
        .bind(post_id)
        .fetch_all(self.store.pool())
        .await?;
        if targets.is_empty() {
            return Err(Error::invalid(
                "targets",
                "pick at least one account to publish to",
            ));
        }
        // Every slot first: one account without queue times leaves the post a draft.
        let mut picks = Vec::new();
        for (id, account) in &targets {
            picks.push((id.clone(), self.next_slot(account, zone, now, now).await?));
        }
        self.place(post_id, &picks, zone, &zone_name, true).await?;
        self.outcomes(post_id).await
    }

    /// Schedules the targets of a draft at the given instants.
    async fn place(
        &self,
        post_id: &str,
        picks: &[(String, DateTime<Utc>)],
        zone: Tz,
        zone_name: &str,
        queued: bool,
    ) -> Result<()> {
        let mut tx = self.store.pool().begin().await?;
        sqlx::query("UPDATE posts SET status = 'submitted', updated_at = ? WHERE id = ?")
            .bind(now_utc())
            .bind(post_id)
            .execute(&mut *tx)
            .await?;
        for (id, at) in picks {
            sqlx::query(
                "UPDATE post_targets SET state = 'scheduled', scheduled_at = ?1, due_at = ?1, scheduled_local = ?2, scheduled_zone = ?3, \
                 next_attempt_at = NULL, attempts = 0, queued = ?4, updated_at = ?5, \
                 hand_off = (SELECT a.network = 'mastodon' FROM accounts a WHERE a.id = account_id) \
                   AND (thread_parts IS NULL OR json_array_length(thread_parts) <= 1) \
                 WHERE id = ?6",
            )
            .bind(stamp(*at))
            .bind(local_text(*at, zone))
            .bind(zone_name)
            .bind(i64::from(queued))
            .bind(now_utc())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.changed();
        Ok(())
    }

    /// Sets how a post comes back after it went out (both `None`: it does not).
    pub async fn set_repeat(&self, post_id: &str, repeat: Repeat) -> Result<Repeat> {
        if repeat.every_days.is_some() && repeat.evergreen_gap_days.is_some() {
            return Err(Error::invalid(
                "repeat",
                "a post either repeats at a fixed interval or is recycled through the queue, not both",
            ));
        }
        for (field, days) in [
            ("everyDays", repeat.every_days),
            ("evergreenGapDays", repeat.evergreen_gap_days),
        ] {
            if let Some(d) = days
                && !(1..=3650).contains(&d)
            {
                return Err(Error::invalid(field, format!("{d} days: choose 1 to 3650")));
            }
        }
        let done = sqlx::query(
            "UPDATE posts SET repeat_days = ?, evergreen_gap_days = ?, updated_at = ? WHERE id = ?",
        )
        .bind(repeat.every_days.map(i64::from))
        .bind(repeat.evergreen_gap_days.map(i64::from))
        .bind(now_utc())
        .bind(post_id)
        .execute(self.store.pool())
        .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(format!("post {post_id}")));
        }
        self.changed();
        Ok(repeat)
    }

    /// After a target went out: when no target of the post is pending any more and the post
    /// repeats (or is evergreen), its next occurrence is scheduled, once.
    pub(crate) async fn after_published(&self, post_id: &str) -> Result<()> {
        let row = sqlx::query(
            "SELECT p.workspace_id, p.text, p.spoiler, p.repeat_days, p.evergreen_gap_days, w.time_zone, \
             (SELECT count(*) FROM post_targets t WHERE t.post_id = p.id AND t.state IN ('scheduled', 'publishing', 'handed_off', 'unconfirmed', 'paused')) AS pending, \
             (SELECT count(*) FROM posts n WHERE n.repeat_of = p.id) AS successors \
             FROM posts p JOIN workspaces w ON w.id = p.workspace_id WHERE p.id = ?",
        )
        .bind(post_id)
        .fetch_optional(self.store.pool())
        .await?;
        let Some(row) = row else { return Ok(()) };
        let repeat: Option<i64> = row.try_get("repeat_days")?;
        let evergreen: Option<i64> = row.try_get("evergreen_gap_days")?;
        if (repeat.is_none() && evergreen.is_none())
            || row.try_get::<i64, _>("pending")? > 0
            || row.try_get::<i64, _>("successors")? > 0
        {
            return Ok(());
        }
        let zone_name: String = row.try_get("time_zone")?;
        let zone = parse_zone(&zone_name)?;
        let now = self.clock.now();
        let targets = sqlx::query(
            "SELECT id, account_id, text_override, thread_parts, scheduled_at, state FROM post_targets WHERE post_id = ? ORDER BY created_at, id",
        )
        .bind(post_id)
        .fetch_all(self.store.pool())
        .await?;
        // The next time for each target that went out.
        let mut next = Vec::new();
        for t in &targets {
            if t.try_get::<String, _>("state")? != "published" {
                continue;
            }
            let account: String = t.try_get("account_id")?;
            let last = t
                .try_get::<Option<String>, _>("scheduled_at")?
                .as_deref()
                .and_then(parse_stamp)
                .unwrap_or(now);
            let at = if let Some(days) = repeat {
                // The same wall-clock time, `days` later (a skipped time moves past the gap).
                let local = last.with_timezone(&zone).naive_local() + chrono::Duration::days(days);
                let mut at = crate::schedule::resolve_lenient(zone, local);
                while at <= now {
                    at = crate::schedule::resolve_lenient(
                        zone,
                        at.with_timezone(&zone).naive_local() + chrono::Duration::days(days),
                    );
                }
                at
            } else {
                let gap = chrono::Duration::days(evergreen.unwrap_or(1));
                self.next_slot(&account, zone, last.max(now) + gap, now)
                    .await?
            };
            next.push((t, account, at));
        }
        if next.is_empty() {
            return Ok(());
        }
        let new_id = uuid::Uuid::new_v4().to_string();
        let stamp_now = now_utc();
        let mut tx = self.store.pool().begin().await?;
        sqlx::query(
            "INSERT INTO posts (id, workspace_id, text, spoiler, status, repeat_days, evergreen_gap_days, repeat_of, created_at, updated_at) \
             VALUES (?, ?, ?, ?, 'submitted', ?, ?, ?, ?, ?)",
        )
        .bind(&new_id)
        .bind(row.try_get::<String, _>("workspace_id")?)
        .bind(row.try_get::<String, _>("text")?)
        .bind(row.try_get::<String, _>("spoiler")?)
        .bind(repeat)
        .bind(evergreen)
        .bind(post_id)
        .bind(&stamp_now)
        .bind(&stamp_now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO post_media (post_id, position, media_id, alt) SELECT ?, position, media_id, alt FROM post_media WHERE post_id = ?")
            .bind(&new_id)
            .bind(post_id)
            .execute(&mut *tx)
            .await?;
        for (t, account, at) in &next {
            sqlx::query(
                "INSERT INTO post_targets (id, post_id, account_id, text_override, thread_parts, state, idempotency_key, scheduled_at, due_at, \
                 scheduled_local, scheduled_zone, queued, hand_off, created_at, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, 'scheduled', ?6, ?7, ?7, ?8, ?9, ?10, \
                 (SELECT a.network = 'mastodon' FROM accounts a WHERE a.id = ?3) AND (?5 IS NULL OR json_array_length(?5) <= 1), ?11, ?11)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(&new_id)
            .bind(account)
            .bind(t.try_get::<Option<String>, _>("text_override")?)
            .bind(t.try_get::<Option<String>, _>("thread_parts")?)
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(stamp(*at))
            .bind(local_text(*at, zone))
            .bind(&zone_name)
            .bind(i64::from(evergreen.is_some()))
            .bind(&stamp_now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        tracing::info!(post = %post_id, next = %new_id, "scheduled the next time this post goes out");
        self.changed();
        Ok(())
    }

    /// Asks Mastodon about posts it holds whose time has come: one that went out becomes
    /// published with its link. Returns how many changed.
    pub async fn reconcile(&self, now: DateTime<Utc>) -> Result<usize> {
        let due: Vec<(String, String, String, String, Option<String>, String)> = sqlx::query_as(
            "SELECT t.id, t.post_id, t.account_id, t.scheduled_at, t.native_schedule_id, a.remote_id FROM post_targets t \
             JOIN accounts a ON a.id = t.account_id WHERE t.state = 'handed_off' AND t.scheduled_at <= ?",
        )
        .bind(stamp(now))
        .fetch_all(self.store.pool())
        .await?;
        let mut changed = 0;
        for (id, post_id, account, scheduled_at, native, remote_id) in due {
            match self
                .reconcile_one(
                    &id,
                    &post_id,
                    &account,
                    &scheduled_at,
                    native.as_deref(),
                    &remote_id,
                )
                .await
            {
                Ok(true) => changed += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::info!(target = %id, error = %e, "cannot ask Mastodon about a held post yet")
                }
            }
        }
        Ok(changed)
    }

    async fn reconcile_one(
        &self,
        id: &str,
        post_id: &str,
        account: &str,
        scheduled_at: &str,
        native: Option<&str>,
        remote_id: &str,
    ) -> Result<bool> {
        let (client, token) = self.mastodon_for(account).await?;
        if let Some(native) = native
            && client
                .scheduled_status(&token, native)
                .await
                .map_err(Error::Network)?
                .is_some()
        {
            return Ok(false); // still held (the server's scheduler runs a little late)
        }
        let text: String = sqlx::query_scalar(
            "SELECT coalesce(t.text_override, p.text) FROM post_targets t JOIN posts p ON p.id = t.post_id WHERE t.id = ?",
        )
        .bind(id)
        .fetch_one(self.store.pool())
        .await?;
        let want = postwerk_networks::mastodon::text_signature(&text);
        let since =
            parse_stamp(scheduled_at).unwrap_or_else(Utc::now) - chrono::Duration::minutes(1);
        let recent = client
            .recent_statuses(&token, remote_id, 2)
            .await
            .map_err(Error::Network)?;
        let found = recent.iter().find(|s| {
            s.in_reply_to_id.is_none()
                && parse_stamp(&s.created_at).is_some_and(|c| c >= since)
                && s.plain_signature() == want
        });
        let handle = sqlx::query_scalar::<_, String>("SELECT handle FROM accounts WHERE id = ?")
            .bind(account)
            .fetch_one(self.store.pool())
            .await?;
        match found {
            Some(status) => {
                let parts = serde_json::json!([{ "id": status.id, "url": status.url }]).to_string();
                sqlx::query(
                    "UPDATE post_targets SET state = 'published', remote_id = ?, remote_url = ?, parts_done = ?, updated_at = ? WHERE id = ? AND state = 'handed_off'",
                )
                .bind(&status.id)
                .bind(&status.url)
                .bind(parts)
                .bind(now_utc())
                .bind(id)
                .execute(self.store.pool())
                .await?;
                tracing::info!(target = %id, status = %status.id, "Mastodon published the held post");
                self.emit(PublishEvent::Published {
                    post_id: post_id.to_string(),
                    target_id: id.to_string(),
                    handle,
                    url: status.url.clone(),
                });
                self.after_published(post_id).await?;
            }
            None => {
                let message = "Mastodon no longer holds this post and it is not on the account (deleted on the server?)";
                sqlx::query(
                    "UPDATE post_targets SET state = 'failed', last_error = ?, last_error_code = 'not_found', updated_at = ? WHERE id = ? AND state = 'handed_off'",
                )
                .bind(message)
                .bind(now_utc())
                .bind(id)
                .execute(self.store.pool())
                .await?;
                self.emit(PublishEvent::Failed {
                    post_id: post_id.to_string(),
                    target_id: id.to_string(),
                    handle,
                    message: message.into(),
                });
            }
        }
        self.changed();
        Ok(true)
    }

    async fn item(&self, target_id: &str) -> Result<QueueItem> {
        self.list_items("t.id = ?", &[target_id])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| Error::not_found(format!("scheduled post {target_id}")))
    }

    /// Scheduled targets (of a workspace, an account, a time range), soonest first.
    pub async fn schedule_items(&self, filter: &ScheduleFilter) -> Result<Vec<QueueItem>> {
        let mut clauses = vec!["t.scheduled_at IS NOT NULL".to_string()];
        let mut binds: Vec<&str> = Vec::new();
        if let Some(w) = &filter.workspace_id {
            clauses.push("p.workspace_id = ?".into());
            binds.push(w);
        }
        if let Some(a) = &filter.account_id {
            clauses.push("t.account_id = ?".into());
            binds.push(a);
        }
        if let Some(from) = &filter.from {
            clauses.push("t.scheduled_at >= ?".into());
            binds.push(from);
        }
        if let Some(to) = &filter.to {
            clauses.push("t.scheduled_at < ?".into());
            binds.push(to);
        }
        if let Some(states) = filter.states.as_ref().filter(|s| !s.is_empty()) {
            clauses.push(format!(
                "t.state IN ({})",
                states.iter().map(|_| "?").collect::<Vec<_>>().join(", ")
            ));
            binds.extend(states.iter().map(|s| s.as_str()));
        }
        self.list_items(&clauses.join(" AND "), &binds).await
    }

    async fn list_items(&self, clause: &str, binds: &[&str]) -> Result<Vec<QueueItem>> {
        let sql = format!(
            "SELECT t.id, t.post_id, t.account_id, t.state, t.scheduled_at, t.scheduled_local, t.scheduled_zone, \
             t.remote_url, t.last_error, t.next_attempt_at, t.queued, t.hand_off, a.network, a.handle, p.workspace_id, p.text, \
             p.repeat_days, p.evergreen_gap_days, w.time_zone \
             FROM post_targets t JOIN accounts a ON a.id = t.account_id JOIN posts p ON p.id = t.post_id \
             JOIN workspaces w ON w.id = p.workspace_id WHERE {clause} ORDER BY t.scheduled_at, t.id"
        );
        let mut query = sqlx::query(&sql);
        for b in binds {
            query = query.bind(*b);
        }
        let rows = query.fetch_all(self.store.pool()).await?;
        rows.into_iter()
            .map(|r| {
                let text: String = r.try_get("text")?;
                let state = TargetState::parse(&r.try_get::<String, _>("state")?);
                let scheduled_at: Option<String> = r.try_get("scheduled_at")?;
                let zone = parse_zone(&r.try_get::<String, _>("time_zone")?).ok();
                let local_time = scheduled_at
                    .as_deref()
                    .and_then(parse_stamp)
                    .zip(zone)
                    .map(|(t, z)| local_text(t, z));
                let held_by = match state {
                    TargetState::HandedOff => HeldBy::Network,
                    TargetState::Scheduled
                    | TargetState::Publishing
                    | TargetState::Unconfirmed
                    | TargetState::NeedsReconnect => HeldBy::Postwerk,
                    _ => HeldBy::Nobody,
                };
                Ok(QueueItem {
                    target_id: r.try_get("id")?,
                    post_id: r.try_get("post_id")?,
                    account_id: r.try_get("account_id")?,
                    workspace_id: r.try_get("workspace_id")?,
                    network: serde_json::from_value(serde_json::Value::String(
                        r.try_get("network")?,
                    ))
                    .unwrap_or(NetworkKind::Mastodon),
                    handle: r.try_get("handle")?,
                    state,
                    scheduled_at,
                    scheduled_local: r.try_get("scheduled_local")?,
                    scheduled_zone: r.try_get("scheduled_zone")?,
                    url: r.try_get("remote_url")?,
                    error: r.try_get("last_error")?,
                    text: text.chars().take(140).collect(),
                    local_time,
                    held_by,
                    hand_off: r.try_get::<i64, _>("hand_off")? == 1,
                    next_attempt_at: r.try_get("next_attempt_at")?,
                    queued: r.try_get::<i64, _>("queued")? == 1,
                    repeat_days: r
                        .try_get::<Option<i64>, _>("repeat_days")?
                        .and_then(|d| u32::try_from(d).ok()),
                    evergreen_gap_days: r
                        .try_get::<Option<i64>, _>("evergreen_gap_days")?
                        .and_then(|d| u32::try_from(d).ok()),
                })
            })
            .collect()
    }
}
