//! The scheduler's clock, injected so tests run on paused tokio time, exact to the millisecond.

use std::fmt::Debug;
use std::sync::Arc;

use chrono::{DateTime, Utc};

/// What time it is for the scheduler.
pub trait Clock: Send + Sync + Debug {
    fn now(&self) -> DateTime<Utc>;

    /// The tokio instant at which this clock reads `at` (for `sleep_until`).
    fn deadline(&self, at: DateTime<Utc>) -> tokio::time::Instant {
        let until = (at - self.now()).to_std().unwrap_or_default();
        tokio::time::Instant::now() + until
    }
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
/// moves only when tokio's time does (`advance`, or sleeping with auto-advance). It reads whole
/// milliseconds (tokio's timers work in whole milliseconds of their own wheel, whose phase
/// differs from this clock's start by a fraction of a millisecond: a test advances to just
/// under the next millisecond to fire the timers due at a millisecond, and reads that
/// millisecond).
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

impl TokioClock {
    /// The tokio instant this clock started at.
    pub fn origin(&self) -> tokio::time::Instant {
        self.origin
    }

    /// What it started reading.
    pub fn start(&self) -> DateTime<Utc> {
        self.start
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = tokio::time::Instant::now().duration_since(self.origin);
        let whole_ms = i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX);
        self.start + chrono::Duration::milliseconds(whole_ms)
    }

    fn deadline(&self, at: DateTime<Utc>) -> tokio::time::Instant {
        self.origin + (at - self.start).to_std().unwrap_or_default()
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
