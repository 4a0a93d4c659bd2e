//! The one error type every connector returns. Callers act on the variant (retry later,
//! reconnect the account, fix the post), never on a network's own error strings; each network
//! maps its responses into it in exactly one place (`mastodon::map_error`, `bluesky::map_error`),
//! and transport failures are mapped once, in [`crate::http`].

use std::time::Duration;

use crate::ratelimit::RateLimit;

#[derive(Debug, Clone, thiserror::Error)]
pub enum NetworkError {
    /// Too many requests: wait `retry_after` (from `Retry-After` or the rate-limit reset).
    #[error("rate limited{}", retry_hint(*retry_after))]
    RateLimited {
        retry_after: Option<Duration>,
        limit: Option<RateLimit>,
    },
    /// The credentials no longer work. `refreshable` says whether a token refresh may fix it
    /// (Bluesky's `ExpiredToken` on an access token); otherwise the user must reconnect.
    #[error("sign-in no longer valid: {message}")]
    AuthExpired { message: String, refreshable: bool },
    /// Signed in, but not allowed (missing scope, suspended account, ...).
    #[error("not allowed: {message}")]
    Forbidden { message: String },
    #[error("not found: {message}")]
    NotFound { message: String },
    /// The network refused the post itself; `reason` is the network's words.
    #[error("the network refused the post: {reason}")]
    InvalidPost { reason: String },
    /// Worth retrying: 5xx, timeouts, connection resets.
    #[error("temporary problem: {message}")]
    Transient {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Something the user typed cannot work (an instance address that is not https, ...).
    #[error("{message}")]
    InvalidInput { message: String },
    /// The user refused access in the browser, or closed the flow.
    #[error("{message}")]
    Denied { message: String },
    #[error("{message}")]
    Other { message: String },
}

fn retry_hint(after: Option<Duration>) -> String {
    match after {
        Some(d) => format!("; try again in {} s", d.as_secs().max(1)),
        None => String::new(),
    }
}

impl NetworkError {
    pub fn other(message: impl Into<String>) -> Self {
        Self::Other {
            message: message.into(),
        }
    }

    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput {
            message: message.into(),
        }
    }

    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient {
            message: message.into(),
            retry_after: None,
        }
    }

    /// Whether the same request may succeed later without the user doing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient { .. })
    }

    /// How long the network asked us to wait, if it said so.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } | Self::Transient { retry_after, .. } => {
                *retry_after
            }
            _ => None,
        }
    }
}

pub type Result<T, E = NetworkError> = std::result::Result<T, E>;
