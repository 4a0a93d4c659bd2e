//! The core's error type. Every variant maps to one [`ErrorCode`] that the UI branches on;
//! add a code only when a caller acts on it differently.

use postwerk_networks::NetworkError;

use crate::secrets::SecretError;
use crate::store::StoreError;

/// Stable, machine-readable error codes that cross IPC and CLI `--json` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The user's input was refused; the message says which field and why.
    InvalidInput,
    /// The thing asked for does not exist (any more).
    NotFound,
    /// The input clashes with existing data (for example a duplicate name).
    Conflict,
    /// No OS keychain is reachable; the message says what to install or start.
    KeychainUnavailable,
    /// The database was written by a newer Postwerk and is left untouched.
    DatabaseIncompatible,
    /// A file or folder could not be read or written.
    Io,
    /// The network did not accept the credentials, or the user refused access.
    AuthFailed,
    /// The account's sign-in no longer works; the user must reconnect it.
    NeedsReconnect,
    /// The network asked Postwerk to slow down; the message says when to try again.
    RateLimited,
    /// The network could not be reached or had a temporary problem; try again.
    NetworkUnavailable,
    /// The network refused the request; the message carries its reason.
    NetworkRefused,
    /// The user cancelled (or the browser sign-in timed out).
    Cancelled,
    /// Anything else; details are in the log.
    Internal,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{field}: {reason}")]
    InvalidInput { field: &'static str, reason: String },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error("{0}")]
    AuthFailed(String),
    #[error("{message}")]
    NeedsReconnect { account: String, message: String },
    #[error("{0}")]
    Cancelled(String),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidInput {
            field,
            reason: reason.into(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        Self::NotFound { what: what.into() }
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidInput { .. } => ErrorCode::InvalidInput,
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::Conflict(_) => ErrorCode::Conflict,
            Error::Store(StoreError::NewerDatabase { .. }) => ErrorCode::DatabaseIncompatible,
            Error::Store(StoreError::Open { .. }) => ErrorCode::Io,
            Error::Store(_) => ErrorCode::Internal,
            Error::Secret(SecretError::Unavailable { .. }) => ErrorCode::KeychainUnavailable,
            Error::Secret(_) => ErrorCode::Internal,
            Error::Io { .. } => ErrorCode::Io,
            Error::AuthFailed(_) => ErrorCode::AuthFailed,
            Error::NeedsReconnect { .. } => ErrorCode::NeedsReconnect,
            Error::Cancelled(_) => ErrorCode::Cancelled,
            Error::Network(e) => match e {
                NetworkError::RateLimited { .. } => ErrorCode::RateLimited,
                NetworkError::Transient { .. } => ErrorCode::NetworkUnavailable,
                NetworkError::AuthExpired { .. } => ErrorCode::NeedsReconnect,
                NetworkError::Denied { .. } => ErrorCode::Cancelled,
                NetworkError::InvalidInput { .. } => ErrorCode::InvalidInput,
                NetworkError::Forbidden { .. }
                | NetworkError::NotFound { .. }
                | NetworkError::InvalidPost { .. }
                | NetworkError::Other { .. } => ErrorCode::NetworkRefused,
            },
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Store(StoreError::Sqlx(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
