//! The scheduler loop shared by the app and `postwerk daemon`: own the data folder, settle
//! what a crash left open, then publish what falls due, once a second.

use std::time::Duration;

use crate::Core;
use crate::paths::DataLock;

/// How long a claimed target may stay claimed before another owner may settle it.
pub const LEASE: Duration = Duration::from_secs(300);

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
    match core.publisher().recover_after_crash().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(count = n, "settled posts a crash had left unconfirmed"),
        Err(e) => tracing::error!(error = %e, "cannot settle unconfirmed posts"),
    }
    tracing::info!(%owner, "scheduler running");
    loop {
        if let Err(e) = core.publisher().run_due(chrono::Utc::now(), LEASE).await {
            tracing::error!(error = %e, "scheduler tick failed");
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
