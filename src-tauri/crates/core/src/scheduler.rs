//! The scheduler loop shared by the app and `postwerk daemon`: own the data folder, settle
//! what a crash left open, then publish each post when it falls due. It sleeps until the next
//! due time (at most a second, so a laptop waking from sleep is noticed at once) and wakes
//! early when the schedule changes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::Core;
use crate::paths::DataLock;

/// How long a claimed target may stay claimed before another owner may settle it.
pub const LEASE: Duration = Duration::from_secs(300);
/// How often posts held by a network are checked once their time has passed.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(60);
/// How often every account's inbox is read and queued replies are sent again.
pub const INBOX_EVERY: Duration = Duration::from_secs(120);
/// The longest sleep between looks at the clock.
const MAX_SLEEP: Duration = Duration::from_secs(1);

/// Runs until the process ends. Returns early (after logging why) when another process owns
/// the data folder: then that one publishes.
pub async fn run(core: Core, owner: &str) {
    let _lock = match DataLock::acquire(core.paths(), owner) {
        Ok(lock) => lock,
        Err(e) => {
            tracing::warn!(error = %e, "not publishing scheduled posts from here");
            return;
        }
    };
    tracing::info!(%owner, "scheduler running");
    run_owned(core).await;
}

/// The loop itself, for a process that owns the data folder (tests call it directly).
pub async fn run_owned(core: Core) {
    let publisher = core.publisher().clone();
    match publisher.recover_after_crash().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(count = n, "settled posts a crash had left unconfirmed"),
        Err(e) => tracing::error!(error = %e, "cannot settle unconfirmed posts"),
    }
    let clock = publisher.clock().clone();
    let mut tasks = tokio::task::JoinSet::new();
    let reconciling = Arc::new(AtomicBool::new(false));
    let mut last_reconcile: Option<chrono::DateTime<chrono::Utc>> = None;
    let syncing = Arc::new(AtomicBool::new(false));
    let mut last_inbox: Option<chrono::DateTime<chrono::Utc>> = None;
    loop {
        while let Some(done) = tasks.try_join_next() {
            if let Err(e) = done {
                tracing::error!(error = %e, "publish task failed");
            }
        }
        // The time is read first thing after waking: due posts are claimed at their due time.
        let now = clock.now();
        let scheduling = core.settings().scheduling().await.unwrap_or_default();
        if !scheduling.paused {
            match publisher.claim(now, LEASE, scheduling.grace()).await {
                Ok(claimed) => {
                    for (target, post) in claimed {
                        let p = publisher.clone();
                        tasks.spawn(async move { p.publish_claim(&target, &post, now).await });
                    }
                }
                Err(e) => tracing::error!(error = %e, "scheduler tick failed"),
            }
        }
        let reconcile_due = last_reconcile.is_none_or(|last| {
            now - last >= chrono::Duration::from_std(RECONCILE_EVERY).unwrap_or_default()
        });
        if reconcile_due && !reconciling.swap(true, Ordering::SeqCst) {
            last_reconcile = Some(now);
            let p = publisher.clone();
            let flag = reconciling.clone();
            tasks.spawn(async move {
                if let Err(e) = p.reconcile(now).await {
                    tracing::info!(error = %e, "cannot reconcile held posts yet");
                }
                flag.store(false, Ordering::SeqCst);
            });
        }
        let inbox_due = last_inbox.is_none_or(|last| {
            now - last >= chrono::Duration::from_std(INBOX_EVERY).unwrap_or_default()
        });
        if inbox_due && !syncing.swap(true, Ordering::SeqCst) {
            last_inbox = Some(now);
            let core = core.clone();
            let flag = syncing.clone();
            tasks.spawn(async move {
                // Replies written offline first, then what is new.
                if let Err(e) = core.publisher().flush_outbox().await {
                    tracing::info!(error = %e, "cannot send queued replies yet");
                }
                if let Err(e) = core.sync_inbox_periodic().await {
                    tracing::info!(error = %e, "cannot read the inbox yet");
                }
                flag.store(false, Ordering::SeqCst);
            });
        }
        let mut wake_at =
            clock.deadline(now + chrono::Duration::from_std(MAX_SLEEP).unwrap_or_default());
        if !scheduling.paused
            && let Ok(Some(next)) = publisher.next_due().await
        {
            wake_at = wake_at.min(if next > now {
                clock.deadline(next)
            } else {
                // Due but not claimed (a database error): look again shortly, do not spin.
                tokio::time::Instant::now() + Duration::from_millis(1)
            });
        }
        tracing::trace!(%now, ?wake_at, "scheduler sleeps");
        tokio::select! {
            () = tokio::time::sleep_until(wake_at) => {}
            () = publisher.wake.notified() => {}
        }
    }
}
