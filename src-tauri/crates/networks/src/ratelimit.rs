//! Rate-limit headers: Mastodon and X send `X-RateLimit-Limit/Remaining/Reset` (Mastodon's
//! reset is an ISO 8601 time, X's epoch seconds); Bluesky's xrpc-server sends
//! `RateLimit-Limit/Remaining/Reset` (epoch seconds) and `RateLimit-Policy: "<limit>;w=<secs>"`;
//! the IETF draft's `RateLimit-Reset` is a number of seconds. `Retry-After` is seconds or an
//! HTTP date.

use std::time::Duration;

use chrono::{DateTime, Utc};
use http::HeaderMap;

/// What the last response said about the budget left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: Option<u64>,
    pub remaining: Option<u64>,
    pub reset_at: Option<DateTime<Utc>>,
    /// The window from `RateLimit-Policy` (`w=`), when sent.
    pub window: Option<Duration>,
}

/// Epoch values below this are read as "seconds from now" (the IETF draft's form).
const EPOCH_THRESHOLD: i64 = 1_000_000_000;

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok().map(str::trim)
}

fn parse_reset(value: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Ok(n) = value.parse::<i64>() {
        return if n >= EPOCH_THRESHOLD {
            DateTime::from_timestamp(n, 0)
        } else {
            Some(now + chrono::Duration::seconds(n.max(0)))
        };
    }
    if let Ok(f) = value.parse::<f64>() {
        let secs = f as i64;
        return if secs >= EPOCH_THRESHOLD {
            DateTime::from_timestamp(secs, 0)
        } else {
            Some(now + chrono::Duration::milliseconds((f.max(0.0) * 1000.0) as i64))
        };
    }
    DateTime::parse_from_rfc3339(value)
        .ok()
        .map(|d| d.with_timezone(&Utc))
}

impl RateLimit {
    /// Reads whichever family of headers the response carries; `None` when it has none.
    pub fn from_headers(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Self> {
        for prefix in ["x-ratelimit-", "ratelimit-"] {
            let limit = header(headers, &format!("{prefix}limit")).and_then(|v| {
                // "300" or, in some drafts, "300, 300;w=300".
                v.split([',', ';']).next()?.trim().parse().ok()
            });
            let remaining =
                header(headers, &format!("{prefix}remaining")).and_then(|v| v.parse().ok());
            let reset_at =
                header(headers, &format!("{prefix}reset")).and_then(|v| parse_reset(v, now));
            if limit.is_none() && remaining.is_none() && reset_at.is_none() {
                continue;
            }
            let window = header(headers, "ratelimit-policy").and_then(|p| {
                p.split(';')
                    .find_map(|part| part.trim().strip_prefix("w="))
                    .and_then(|w| w.trim().parse::<u64>().ok())
                    .map(Duration::from_secs)
            });
            return Some(Self {
                limit,
                remaining,
                reset_at,
                window,
            });
        }
        None
    }

    /// Nothing left in this window.
    pub fn exhausted(&self) -> bool {
        self.remaining == Some(0)
    }

    /// Time until the window resets, from `now`.
    pub fn reset_in(&self, now: DateTime<Utc>) -> Option<Duration> {
        let reset = self.reset_at?;
        Some((reset - now).to_std().unwrap_or(Duration::ZERO))
    }
}

/// `Retry-After`: delay seconds or an HTTP date.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = header(headers, "retry-after")?;
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

/// The wait a 429 asks for: `Retry-After` first, else the rate-limit reset.
pub fn wait_after_429(
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> (Option<Duration>, Option<RateLimit>) {
    let limit = RateLimit::from_headers(headers, now);
    let wait = retry_after(headers, now).or_else(|| limit.and_then(|l| l.reset_in(now)));
    (wait, limit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-27T03:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn mastodon_headers_with_an_iso_reset() {
        let h = headers(&[
            ("X-RateLimit-Limit", "300"),
            ("X-RateLimit-Remaining", "0"),
            ("X-RateLimit-Reset", "2026-11-27T03:05:00.000Z"),
        ]);
        let rl = RateLimit::from_headers(&h, now()).unwrap();
        assert_eq!(rl.limit, Some(300));
        assert!(rl.exhausted());
        assert_eq!(rl.reset_in(now()), Some(Duration::from_secs(300)));
    }

    #[test]
    fn bluesky_headers_with_epoch_reset_and_policy() {
        let epoch = now().timestamp() + 120;
        let h = headers(&[
            ("RateLimit-Limit", "30"),
            ("RateLimit-Remaining", "29"),
            ("RateLimit-Reset", &epoch.to_string()),
            ("RateLimit-Policy", "30;w=300"),
        ]);
        let rl = RateLimit::from_headers(&h, now()).unwrap();
        assert_eq!((rl.limit, rl.remaining), (Some(30), Some(29)));
        assert_eq!(rl.window, Some(Duration::from_secs(300)));
        assert_eq!(rl.reset_in(now()), Some(Duration::from_secs(120)));
    }

    #[test]
    fn ietf_draft_reset_is_seconds_from_now() {
        let h = headers(&[("RateLimit-Remaining", "5"), ("RateLimit-Reset", "42")]);
        let rl = RateLimit::from_headers(&h, now()).unwrap();
        assert_eq!(rl.reset_in(now()), Some(Duration::from_secs(42)));
    }

    #[test]
    fn no_headers_no_limit() {
        assert_eq!(RateLimit::from_headers(&HeaderMap::new(), now()), None);
    }

    #[test]
    fn retry_after_seconds_and_http_date() {
        assert_eq!(
            retry_after(&headers(&[("Retry-After", "7")]), now()),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(
                &headers(&[("Retry-After", "Fri, 27 Nov 2026 03:01:00 GMT")]),
                now()
            ),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            retry_after(&headers(&[("Retry-After", "soon")]), now()),
            None
        );
    }

    #[test]
    fn a_429_prefers_retry_after_then_the_reset() {
        let h = headers(&[
            ("Retry-After", "3"),
            ("X-RateLimit-Reset", "2026-11-27T03:05:00Z"),
        ]);
        assert_eq!(wait_after_429(&h, now()).0, Some(Duration::from_secs(3)));
        let h = headers(&[("X-RateLimit-Reset", "2026-11-27T03:05:00Z")]);
        assert_eq!(wait_after_429(&h, now()).0, Some(Duration::from_secs(300)));
    }
}
