//! While the app runs, Mastodon accounts follow their notification stream: each streamed
//! notification triggers a sync from the stored cursor (so what the stream carries and what
//! paging finds are one and the same, without gaps or duplicates). A broken stream is opened
//! again after a jittered, growing pause; a rate limit is waited out.

use std::collections::HashSet;
use std::time::Duration;

use postwerk_networks::backoff::{Backoff, RandomJitter};
use postwerk_networks::mastodon::Mastodon;
use postwerk_networks::{NetworkError, NetworkKind};

use crate::accounts::{ACCESS_TOKEN, Health};
use crate::secrets::SecretKey;
use crate::{Core, Error};

/// How often an account that cannot be followed now (it needs reconnecting, its sign-in is
/// missing) is looked at again.
const LOOK_EVERY: Duration = Duration::from_secs(60);
/// How often the accounts are looked at for one just connected (one indexed query).
const NEW_ACCOUNTS_EVERY: Duration = Duration::from_secs(3);

/// Follows every Mastodon account's stream until the process ends.
pub async fn follow_all(core: Core) {
    let mut followed: HashSet<String> = HashSet::new();
    loop {
        match core.accounts().list_all().await {
            Ok(accounts) => {
                for a in accounts
                    .into_iter()
                    .filter(|a| a.network == NetworkKind::Mastodon)
                {
                    if followed.insert(a.id.clone()) {
                        let core = core.clone();
                        tokio::spawn(async move { follow_mastodon(core, a.id).await });
                    }
                }
            }
            Err(e) => tracing::info!(error = %e, "cannot list accounts to follow"),
        }
        tokio::time::sleep(NEW_ACCOUNTS_EVERY).await;
    }
}

/// Follows one Mastodon account's notification stream until the account is removed.
pub async fn follow_mastodon(core: Core, account_id: String) {
    let backoff = Backoff {
        base: Duration::from_secs(1),
        max: Duration::from_secs(60),
    };
    let mut attempt: u32 = 0;
    loop {
        let account = match core.accounts().get(&account_id).await {
            Ok(a) => a,
            Err(Error::NotFound { .. }) => {
                tracing::info!(account = %account_id, "account removed; stream stopped");
                return;
            }
            Err(e) => {
                tracing::info!(error = %e, "cannot read the account; trying again");
                tokio::time::sleep(LOOK_EVERY).await;
                continue;
            }
        };
        if account.health == Health::NeedsReconnect {
            tokio::time::sleep(LOOK_EVERY).await;
            continue;
        }
        let token = match core
            .accounts()
            .secrets()
            .get(SecretKey::account(&account.id, ACCESS_TOKEN))
            .await
        {
            Ok(Some(t)) => t,
            _ => {
                tokio::time::sleep(LOOK_EVERY).await;
                continue;
            }
        };
        let Ok(base) = url::Url::parse(&account.server) else {
            return;
        };
        let client = Mastodon::new(core.http().clone(), base);
        let wait = match client.stream_notifications(&token).await {
            Ok(mut stream) => {
                tracing::info!(account = %account.id, "following the notification stream");
                // Anything that came while the stream was down.
                if let Err(e) = core.sync_inbox_account(&account.id).await {
                    tracing::info!(error = %e, "inbox sync after connecting failed");
                }
                attempt = 0;
                loop {
                    match stream.next().await {
                        Ok(Some(_)) => {
                            if let Err(e) = core.sync_inbox_account(&account.id).await {
                                tracing::info!(error = %e, "inbox sync after a streamed notification failed");
                            }
                        }
                        Ok(None) => break None,
                        Err(e) => {
                            tracing::info!(account = %account.id, error = %e, "notification stream broke");
                            break None;
                        }
                    }
                }
            }
            Err(NetworkError::RateLimited { retry_after, .. }) => retry_after,
            Err(e) => {
                tracing::info!(account = %account.id, error = %e, "cannot open the notification stream");
                None
            }
        };
        let pause = backoff
            .delay(attempt, &RandomJitter)
            .max(wait.unwrap_or_default());
        attempt = attempt.saturating_add(1);
        tokio::time::sleep(pause).await;
    }
}
