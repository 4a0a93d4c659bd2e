//! Jittered exponential backoff with an injectable random source, so tests are exact.

use std::time::Duration;

use crate::NetworkError;

/// A source of uniform numbers in `[0, 1)`.
pub trait Jitter: Send + Sync {
    fn unit(&self) -> f64;
}

/// The real random source.
#[derive(Debug, Default, Clone, Copy)]
pub struct RandomJitter;

impl Jitter for RandomJitter {
    fn unit(&self) -> f64 {
        fastrand::f64()
    }
}

/// Always the same value: for tests.
#[derive(Debug, Clone, Copy)]
pub struct FixedJitter(pub f64);

impl Jitter for FixedJitter {
    fn unit(&self) -> f64 {
        self.0.clamp(0.0, 1.0 - f64::EPSILON)
    }
}

/// "Equal jitter": attempt `n` waits between half and all of `min(max, base * 2^n)`, so retries
/// from many targets spread out but never collapse to zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Self {
            base: Duration::from_secs(2),
            max: Duration::from_secs(15 * 60),
        }
    }
}

impl Backoff {
    /// The ceiling for attempt `attempt` (0-based), before jitter.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(31));
        self.base.saturating_mul(factor).min(self.max)
    }

    pub fn delay(&self, attempt: u32, jitter: &dyn Jitter) -> Duration {
        let cap = self.ceiling(attempt);
        let half = cap / 2;
        half + half.mul_f64(jitter.unit())
    }

    /// The delay before retrying after `error`: never shorter than what the network asked for
    /// (`Retry-After` or the rate-limit reset).
    pub fn delay_after(&self, attempt: u32, error: &NetworkError, jitter: &dyn Jitter) -> Duration {
        let computed = self.delay(attempt, jitter);
        match error.retry_after() {
            Some(asked) => computed.max(asked),
            None => computed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_up_to_the_cap() {
        let b = Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        let ceilings: Vec<u64> = (0..8).map(|n| b.ceiling(n).as_secs()).collect();
        assert_eq!(ceilings, [1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(b.ceiling(1000), Duration::from_secs(60));
    }

    #[test]
    fn jitter_spreads_between_half_and_the_ceiling() {
        let b = Backoff {
            base: Duration::from_secs(4),
            max: Duration::from_secs(60),
        };
        assert_eq!(b.delay(0, &FixedJitter(0.0)), Duration::from_secs(2));
        assert_eq!(b.delay(0, &FixedJitter(0.5)), Duration::from_secs(3));
        assert!(b.delay(0, &FixedJitter(1.0)) <= Duration::from_secs(4));
        for _ in 0..100 {
            let d = b.delay(2, &RandomJitter);
            assert!(
                d >= Duration::from_secs(8) && d < Duration::from_secs(16),
                "{d:?}"
            );
        }
    }

    #[test]
    fn honours_what_the_network_asked_for() {
        let b = Backoff::default();
        let err = NetworkError::RateLimited {
            retry_after: Some(Duration::from_secs(120)),
            limit: None,
        };
        assert_eq!(
            b.delay_after(0, &err, &FixedJitter(0.0)),
            Duration::from_secs(120)
        );
        let err = NetworkError::transient("reset");
        assert_eq!(
            b.delay_after(0, &err, &FixedJitter(0.0)),
            Duration::from_secs(1)
        );
    }
}
