//! The one error type that crosses IPC: `{code, message}`, never a bare string.

use postwerk_core::ErrorCode;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct IpcError {
    pub code: ErrorCode,
    pub message: String,
}

impl From<postwerk_core::Error> for IpcError {
    fn from(e: postwerk_core::Error) -> Self {
        let code = e.code();
        if code == ErrorCode::Internal {
            tracing::error!(error = %e, "command failed");
        } else {
            tracing::info!(error = %e, ?code, "command refused");
        }
        Self {
            code,
            message: e.to_string(),
        }
    }
}

pub type IpcResult<T> = Result<T, IpcError>;
