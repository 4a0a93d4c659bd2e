//! The scheduler's clock, injected so tests run on paused tokio time, exact to the millisecond.

use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, Utc};

/// What time it is for the scheduler.
pub trait Clock: Send + Sync + Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A wall clock that follows tokio's clock from a fixed start: with `tokio::time::pause()` it
/// moves only when tokio's time does (`advance`, or sleeping with auto-advance).
#[derive(Debug, Clone, Copy)]
pub struct TokioClock {
    start: DateTime<Utc>,
    origin: tokio::time::Instant,
}

impl TokioClock {
    /// A clock that reads `start` now.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self {
            start,
            origin: tokio::time::Instant::now(),
        }
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now().duration_since(self.origin);
        self.start + chrono::Duration::from_std(elapsed).unwrap_or_default()
    }
}

pub type SharedClock = Arc<dyn Clock>;

/// RFC 3339 with milliseconds, as every time is stored (text order is time order).
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Reads a stored time.
pub fn parse_stamp(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}
