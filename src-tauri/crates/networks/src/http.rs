//! The one HTTP client every connector shares: rustls, timeouts, a `Postwerk/<version>` user
//! agent, bounded response bodies, and the single place where transport failures become
//! [`NetworkError`]s.

use std::time::Duration;

use chrono::Utc;
use http::{HeaderMap, StatusCode};
use url::Url;

use crate::ratelimit::RateLimit;
use crate::{NetworkError, Result};

pub const USER_AGENT: &str = concat!("Postwerk/", env!("CARGO_PKG_VERSION"));
/// JSON answers larger than this are refused (no API answer Postwerk reads comes close).
pub const MAX_JSON_BYTES: usize = 8 * 1024 * 1024;
/// Avatars and other small images Postwerk keeps locally.
pub const MAX_AVATAR_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct HttpClient {
    inner: reqwest::Client,
}

/// A response whose status was already checked, with its rate-limit headers read.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub rate_limit: Option<RateLimit>,
}

impl Answer {
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        serde_json::from_slice(&self.body)
            .map_err(|e| NetworkError::other(format!("the server's answer could not be read: {e}")))
    }
}

impl HttpClient {
    pub fn new() -> Result<Self> {
        Self::with_timeouts(Duration::from_secs(10), Duration::from_secs(60))
    }

    pub fn with_timeouts(connect: Duration, total: Duration) -> Result<Self> {
        // reqwest is built without a bundled crypto provider; use ring (idempotent).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let inner = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(connect)
            .timeout(total)
            .redirect(reqwest::redirect::Policy::limited(5))
            .https_only(false) // checked per URL by `check_url`, which allows loopback http
            .build()
            .map_err(|e| NetworkError::other(format!("cannot set up HTTP: {e}")))?;
        Ok(Self { inner })
    }

    pub fn reqwest(&self) -> &reqwest::Client {
        &self.inner
    }

    /// Sends a request and reads the whole (bounded) body. Transport problems become
    /// `Transient`; HTTP error statuses are returned as `Err(Answer)` for the network's own
    /// `map_error` to translate.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<std::result::Result<Answer, Answer>> {
        let response = request.send().await.map_err(transport_error)?;
        let answer = read_answer(response, MAX_JSON_BYTES).await?;
        if answer.status.is_success() {
            Ok(Ok(answer))
        } else {
            Ok(Err(answer))
        }
    }

    /// Downloads a small image (an avatar): https or loopback only, an image MIME type, at
    /// most `MAX_AVATAR_BYTES`, and bytes that really are PNG, JPEG, GIF or WebP.
    pub async fn fetch_image(&self, url: &Url) -> Result<(Vec<u8>, &'static str)> {
        check_url(url)?;
        let response = self
            .inner
            .get(url.clone())
            .send()
            .await
            .map_err(transport_error)?;
        if !response.status().is_success() {
            return Err(NetworkError::NotFound {
                message: format!("image {url} answered {}", response.status()),
            });
        }
        let answer = read_answer(response, MAX_AVATAR_BYTES).await?;
        let mime = sniff_image(&answer.body).ok_or_else(|| {
            NetworkError::other(format!("{url} is not a PNG, JPEG, GIF or WebP image"))
        })?;
        Ok((answer.body, mime))
    }
}

async fn read_answer(mut response: reqwest::Response, limit: usize) -> Result<Answer> {
    let status = response.status();
    let headers = response.headers().clone();
    if let Some(len) = response.content_length()
        && len as usize > limit
    {
        return Err(NetworkError::other(format!(
            "the server's answer is too large ({len} bytes)"
        )));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > limit {
            return Err(NetworkError::other(format!(
                "the server's answer is larger than {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let rate_limit = RateLimit::from_headers(&headers, Utc::now());
    Ok(Answer {
        status,
        headers,
        body,
        rate_limit,
    })
}

/// The one mapping of transport failures.
pub fn transport_error(e: reqwest::Error) -> NetworkError {
    let what = if e.is_timeout() {
        "the server did not answer in time"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "the connection broke while reading the answer"
    } else if e.is_builder() {
        return NetworkError::invalid_input(format!("invalid request: {e}"));
    } else {
        "network error"
    };
    let host = e
        .url()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    NetworkError::transient(if host.is_empty() {
        what.to_string()
    } else {
        format!("{what} ({host})")
    })
}

/// Network URLs must be https; plain http is allowed only to this machine (tests, local
/// servers).
pub fn check_url(url: &Url) -> Result<()> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) => Ok(()),
        "http" => Err(NetworkError::invalid_input(format!(
            "{} must use https",
            url.host_str().unwrap_or("the server")
        ))),
        other => Err(NetworkError::invalid_input(format!(
            "unsupported address scheme \"{other}\": use https"
        ))),
    }
}

pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Recognises image bytes by their signature.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_everywhere_http_only_on_loopback() {
        for ok in [
            "https://mastodon.social/",
            "http://127.0.0.1:8080/",
            "http://localhost/",
            "http://[::1]:3000/",
        ] {
            assert!(check_url(&Url::parse(ok).unwrap()).is_ok(), "{ok}");
        }
        for bad in [
            "http://mastodon.social/",
            "ftp://x.org/",
            "http://10.0.0.1/",
        ] {
            assert!(check_url(&Url::parse(bad).unwrap()).is_err(), "{bad}");
        }
    }

    #[test]
    fn images_are_recognised_by_their_bytes() {
        assert_eq!(sniff_image(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"<svg onload=alert(1)>"), None);
    }

    #[test]
    fn the_user_agent_names_postwerk_and_its_version() {
        assert!(USER_AGENT.starts_with("Postwerk/0."));
    }
}
