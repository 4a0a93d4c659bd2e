//! `tracing` to a daily rolling file in the log folder and to stderr. Used by the app and
//! the CLI alike; the filter comes from `POSTWERK_LOG` (default `info`).

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Keeps the file writer alive; drop it last (it flushes).
pub struct LogGuard {
    _file: WorkerGuard,
}

/// Starts logging. `stderr_level` is the filter for stderr (the CLI keeps it quiet).
pub fn init(log_dir: &Path, stderr_filter: &str) -> crate::Result<LogGuard> {
    std::fs::create_dir_all(log_dir)
        .map_err(|e| crate::Error::io(format!("creating {}", log_dir.display()), e))?;
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("postwerk")
        .filename_suffix("log")
        .max_log_files(14)
        .build(log_dir)
        .map_err(|e| {
            crate::Error::io(
                format!("opening a log file in {}", log_dir.display()),
                std::io::Error::other(e),
            )
        })?;
    let (file_writer, guard) = tracing_appender::non_blocking(appender);
    let file_filter =
        EnvFilter::try_from_env("POSTWERK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let stderr_filter =
        EnvFilter::try_from_env("POSTWERK_LOG").unwrap_or_else(|_| EnvFilter::new(stderr_filter));
    let result = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(file_writer)
                .with_ansi(false)
                .with_filter(file_filter),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_filter(stderr_filter),
        )
        .try_init();
    if let Err(e) = result {
        // A subscriber is already set (tests); keep it.
        tracing::debug!(error = %e, "logging already initialised");
    }
    Ok(LogGuard { _file: guard })
}

use tracing_subscriber::Layer as _;
