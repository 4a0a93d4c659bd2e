//! Fault injection shared by both fakes: "the next request to this path is processed but its
//! connection is closed without an answer" (a publish killed between the server's commit and the
//! client reading the response) and "the next n requests to this path fail with this status".

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::common::{self, RateStatus, json_response, lock, now_ms};

/// Whose error bodies an injected failure imitates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    Mastodon,
    Bluesky,
}

#[derive(Clone, Copy, Debug)]
struct Failure {
    status: StatusCode,
    remaining: u32,
    retry_after: Option<u64>,
}

/// The armed faults, by request path (without query).
#[derive(Default)]
pub(crate) struct Faults {
    /// Paths whose next request is processed and then answered by closing the connection. A
    /// path armed twice drops two requests.
    drop_after: Vec<String>,
    fail: HashMap<String, Failure>,
    /// Added to every request (half before the handler runs, half after), so that a client
    /// killed at a random moment is often killed with requests in flight.
    latency: std::time::Duration,
    chaos: Option<Chaos>,
}

/// Random faults on a share of the requests to some paths: 500, 502, 503, 429 with
/// `Retry-After`, a connection reset before the request is processed, a reset after it was
/// processed (the answer is lost), and a hang until the client gives up (processed, then no
/// answer for `hang`).
pub(crate) struct Chaos {
    rate: f64,
    prefixes: Vec<String>,
    hang: std::time::Duration,
    rng: fastrand::Rng,
    /// How many of each fault were injected.
    counts: HashMap<&'static str, u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ChaosFault {
    Status(u16),
    TooMany,
    ResetBefore,
    ResetAfter,
    Hang,
}

impl ChaosFault {
    fn name(self) -> &'static str {
        match self {
            Self::Status(500) => "500",
            Self::Status(502) => "502",
            Self::Status(_) => "503",
            Self::TooMany => "429",
            Self::ResetBefore => "reset before",
            Self::ResetAfter => "reset after",
            Self::Hang => "timeout",
        }
    }
}

impl Faults {
    pub(crate) fn set_latency(&mut self, latency: std::time::Duration) {
        self.latency = latency;
    }

    pub(crate) fn set_chaos(
        &mut self,
        rate: f64,
        prefixes: &[&str],
        hang: std::time::Duration,
        seed: u64,
    ) {
        self.chaos = (rate > 0.0).then(|| Chaos {
            rate: rate.min(1.0),
            prefixes: prefixes.iter().map(|p| (*p).to_owned()).collect(),
            hang,
            rng: fastrand::Rng::with_seed(seed),
            counts: HashMap::new(),
        });
    }

    pub(crate) fn chaos_counts(&self) -> HashMap<&'static str, u64> {
        self.chaos
            .as_ref()
            .map(|c| c.counts.clone())
            .unwrap_or_default()
    }

    fn take_chaos(&mut self, path: &str) -> Option<(ChaosFault, std::time::Duration)> {
        let chaos = self.chaos.as_mut()?;
        if !chaos.prefixes.iter().any(|p| path.starts_with(p.as_str())) {
            return None;
        }
        if chaos.rng.f64() >= chaos.rate {
            return None;
        }
        let fault = match chaos.rng.u8(0..7) {
            0 => ChaosFault::Status(500),
            1 => ChaosFault::Status(502),
            2 => ChaosFault::Status(503),
            3 => ChaosFault::TooMany,
            4 => ChaosFault::ResetBefore,
            5 => ChaosFault::ResetAfter,
            _ => ChaosFault::Hang,
        };
        *chaos.counts.entry(fault.name()).or_default() += 1;
        Some((fault, chaos.hang))
    }

    pub(crate) fn arm_drop(&mut self, path: &str) {
        self.drop_after.push(path.to_owned());
    }

    /// Arms `count` failures with `status` for `path`, replacing any armed before. A count of
    /// 0 disarms. Statuses outside 400..=599 are refused.
    pub(crate) fn arm_fail(
        &mut self,
        path: &str,
        status: u16,
        count: u32,
        retry_after: Option<u64>,
    ) -> Result<(), String> {
        let status = StatusCode::from_u16(status)
            .ok()
            .filter(|s| s.is_client_error() || s.is_server_error())
            .ok_or_else(|| format!("status must be 400..=599, got {status}"))?;
        if count == 0 {
            self.fail.remove(path);
        } else {
            self.fail.insert(
                path.to_owned(),
                Failure {
                    status,
                    remaining: count,
                    retry_after,
                },
            );
        }
        Ok(())
    }

    fn take_failure(&mut self, path: &str) -> Option<Failure> {
        let failure = self.fail.get_mut(path)?;
        let taken = *failure;
        failure.remaining -= 1;
        if failure.remaining == 0 {
            self.fail.remove(path);
        }
        Some(taken)
    }

    fn take_drop(&mut self, path: &str) -> bool {
        match self.drop_after.iter().position(|p| p == path) {
            Some(index) => {
                self.drop_after.remove(index);
                true
            }
            None => false,
        }
    }
}

/// A fake's state that carries [`Faults`].
pub(crate) trait HasFaults: Clone + Send + Sync + 'static {
    fn faults(&self) -> &Arc<Mutex<Faults>>;
    const FLAVOR: Flavor;
}

/// The payload of the unwind that ends a dropped connection. It is raised with
/// `resume_unwind`, which skips the panic hook, so nothing is printed.
struct DroppedConnection;

/// Middleware: answers armed failures without running the handler, and runs the handler of an
/// armed drop to completion before abandoning the connection. Control paths are never touched.
pub(crate) async fn layer<S: HasFaults>(
    State(shared): State<S>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    if common::is_control_path(&path) {
        return next.run(req).await;
    }
    let (failure, drop_after, latency, chaos) = {
        let mut faults = lock(shared.faults());
        let latency = faults.latency;
        match faults.take_failure(&path) {
            Some(failure) => (Some(failure), false, latency, None),
            None => {
                let drop = faults.take_drop(&path);
                let chaos = if drop { None } else { faults.take_chaos(&path) };
                (None, drop, latency, chaos)
            }
        }
    };
    if let Some(failure) = failure {
        return failure_response(S::FLAVOR, failure);
    }
    let mut drop_after = drop_after;
    match chaos {
        Some((ChaosFault::Status(status), _)) => {
            return failure_response(
                S::FLAVOR,
                Failure {
                    status: StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY),
                    remaining: 1,
                    retry_after: None,
                },
            );
        }
        Some((ChaosFault::TooMany, _)) => {
            return failure_response(
                S::FLAVOR,
                Failure {
                    status: StatusCode::TOO_MANY_REQUESTS,
                    remaining: 1,
                    retry_after: Some(1),
                },
            );
        }
        Some((ChaosFault::ResetBefore, _)) => {
            std::panic::resume_unwind(Box::new(DroppedConnection));
        }
        Some((ChaosFault::ResetAfter, _)) => drop_after = true,
        Some((ChaosFault::Hang, hang)) => {
            let response = next.run(req).await;
            tokio::time::sleep(hang).await;
            return response;
        }
        None => {}
    }
    // No timer at all without latency: tests on paused tokio time would have to advance it.
    if !latency.is_zero() {
        tokio::time::sleep(latency / 2).await;
    }
    let response = next.run(req).await;
    if !latency.is_zero() {
        tokio::time::sleep(latency / 2).await;
    }
    if drop_after {
        // The request was fully processed (the post exists). Unwinding out of the connection's
        // task drops the socket without writing a byte of the response, so the client sees the
        // connection close instead of a status code. Tokio keeps the unwind inside that task.
        drop(response);
        std::panic::resume_unwind(Box::new(DroppedConnection));
    }
    response
}

fn failure_response(flavor: Flavor, failure: Failure) -> Response {
    let mut response = match flavor {
        Flavor::Mastodon => mastodon_failure(failure.status),
        Flavor::Bluesky => bluesky_failure(failure.status),
    };
    if let Some(secs) = failure.retry_after {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(secs));
    }
    if failure.status == StatusCode::TOO_MANY_REQUESTS {
        let reset_ms = now_ms() + failure.retry_after.unwrap_or(300) * 1000;
        let rate = RateStatus {
            limit: 300,
            remaining: 0,
            reset_at_ms: reset_ms,
            window: std::time::Duration::from_secs(300),
            exceeded: true,
        };
        match flavor {
            Flavor::Mastodon => common::set_mastodon_rate_headers(response.headers_mut(), &rate),
            Flavor::Bluesky => common::set_atproto_rate_headers(response.headers_mut(), &rate),
        }
    }
    response
}

const NGINX_TAIL: &str = "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

/// Mastodon's answers: JSON `{"error": ...}` from Rails for 4xx, Rails' static 500 page, and
/// nginx's pages for 502, 503 and 504.
fn mastodon_failure(status: StatusCode) -> Response {
    let reason = status.canonical_reason().unwrap_or("Error");
    let html =
        |body: String| (status, [(CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response();
    match status.as_u16() {
        401 => {
            let mut response = json_response(
                status,
                &json!({ "error": "The access token is invalid" }),
            );
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static(
                    "Bearer realm=\"Doorkeeper\", error=\"invalid_token\", error_description=\"The access token is invalid\"",
                ),
            );
            response
        }
        403 => json_response(
            status,
            &json!({ "error": "This action is outside the authorized scopes" }),
        ),
        404 => json_response(status, &json!({ "error": "Record not found" })),
        422 => json_response(status, &json!({ "error": "Validation failed" })),
        429 => json_response(status, &json!({ "error": "Too many requests" })),
        500 => html(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>We're sorry, but something went wrong (500)</title>\n</head>\n<body>\n<h1>We're sorry, but something went wrong on our end.</h1>\n</body>\n</html>\n"
                .to_owned(),
        ),
        502..=504 => html(format!(
            "<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>{code} {reason}</h1></center>\r\n{NGINX_TAIL}",
            code = status.as_u16()
        )),
        _ => json_response(status, &json!({ "error": reason })),
    }
}

/// The xrpc-server error names and messages by status (`@atproto/xrpc` `ResponseType`).
fn bluesky_failure(status: StatusCode) -> Response {
    let (error, message) = match status.as_u16() {
        400 => ("InvalidRequest", "Invalid Request"),
        401 => ("AuthenticationRequired", "Authentication Required"),
        403 => ("Forbidden", "Forbidden"),
        404 => ("XRPCNotSupported", "XRPC Not Supported"),
        406 => ("NotAcceptable", "Not Acceptable"),
        413 => ("PayloadTooLarge", "Payload Too Large"),
        415 => ("UnsupportedMediaType", "Unsupported Media Type"),
        429 => ("RateLimitExceeded", "Rate Limit Exceeded"),
        501 => ("MethodNotImplemented", "Method Not Implemented"),
        502 => ("UpstreamFailure", "Upstream Failure"),
        503 => ("NotEnoughResources", "Not Enough Resources"),
        504 => ("UpstreamTimeout", "Upstream Timeout"),
        500 => ("InternalServerError", "Internal Server Error"),
        code if code >= 500 => ("InternalServerError", "Internal Server Error"),
        _ => ("InvalidRequest", "Invalid Request"),
    };
    json_response(status, &json!({ "error": error, "message": message }))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct DropBody {
    path: String,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FailBody {
    path: String,
    status: u16,
    #[serde(default = "one")]
    count: u32,
    retry_after: Option<u64>,
}

fn one() -> u32 {
    1
}

fn control_error(flavor: Flavor, message: &str) -> Response {
    match flavor {
        Flavor::Mastodon => json_response(StatusCode::BAD_REQUEST, &json!({ "error": message })),
        Flavor::Bluesky => json_response(
            StatusCode::BAD_REQUEST,
            &json!({ "error": "InvalidRequest", "message": message }),
        ),
    }
}

fn check_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') || path.contains('?') {
        return Err(format!(
            "path must be a request path starting with / and without a query, got {path:?}"
        ));
    }
    if common::is_control_path(path) {
        return Err("control paths cannot be faulted".to_owned());
    }
    Ok(())
}

/// `POST /_fake/drop-after-next {"path":"/api/v1/statuses"}`.
pub(crate) async fn control_drop<S: HasFaults>(State(shared): State<S>, body: Bytes) -> Response {
    let parsed = serde_json::from_slice::<DropBody>(&body)
        .map_err(|err| err.to_string())
        .and_then(|b| check_path(&b.path).map(|()| b));
    match parsed {
        Ok(body) => {
            lock(shared.faults()).arm_drop(&body.path);
            json_response(StatusCode::OK, &json!({}))
        }
        Err(err) => control_error(S::FLAVOR, &err),
    }
}

/// `POST /_fake/fail-next {"path","status","count"?,"retryAfter"?}`.
pub(crate) async fn control_fail<S: HasFaults>(State(shared): State<S>, body: Bytes) -> Response {
    let parsed = serde_json::from_slice::<FailBody>(&body)
        .map_err(|err| err.to_string())
        .and_then(|b| check_path(&b.path).map(|()| b));
    let result = parsed
        .and_then(|b| lock(shared.faults()).arm_fail(&b.path, b.status, b.count, b.retry_after));
    match result {
        Ok(()) => json_response(StatusCode::OK, &json!({})),
        Err(err) => control_error(S::FLAVOR, &err),
    }
}

/// Arms a drop from the library API.
///
/// # Panics
/// If `path` is not a plain request path (see [`check_path`]).
pub(crate) fn arm_drop(faults: &Mutex<Faults>, path: &str) {
    if let Err(err) = check_path(path) {
        panic!("drop_after_next: {err}");
    }
    lock(faults).arm_drop(path);
}

/// Turns random faults on (`rate` > 0) or off (library API).
pub(crate) fn set_chaos(
    faults: &Mutex<Faults>,
    rate: f64,
    prefixes: &[&str],
    hang: std::time::Duration,
    seed: u64,
) {
    lock(faults).set_chaos(rate, prefixes, hang, seed);
}

/// How many faults of each kind were injected.
pub(crate) fn chaos_counts(faults: &Mutex<Faults>) -> HashMap<&'static str, u64> {
    lock(faults).chaos_counts()
}

/// Sets the latency of every request (library API).
pub(crate) fn set_latency(faults: &Mutex<Faults>, latency: std::time::Duration) {
    lock(faults).set_latency(latency);
}

/// Arms failures from the library API.
///
/// # Panics
/// If `path` is not a plain request path or `status` is not 400..=599.
pub(crate) fn arm_fail(
    faults: &Mutex<Faults>,
    path: &str,
    status: u16,
    count: u32,
    retry_after: Option<u64>,
) {
    let result =
        check_path(path).and_then(|()| lock(faults).arm_fail(path, status, count, retry_after));
    if let Err(err) = result {
        panic!("fail_next: {err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_count_down_and_drops_are_one_shot() {
        let mut faults = Faults::default();
        faults.arm_fail("/x", 503, 2, Some(7)).unwrap();
        assert!(faults.arm_fail("/x", 200, 1, None).is_err());
        assert_eq!(faults.take_failure("/x").unwrap().retry_after, Some(7));
        assert!(faults.take_failure("/y").is_none());
        assert!(faults.take_failure("/x").is_some());
        assert!(faults.take_failure("/x").is_none());
        faults.arm_drop("/x");
        faults.arm_drop("/x");
        assert!(faults.take_drop("/x"));
        assert!(faults.take_drop("/x"));
        assert!(!faults.take_drop("/x"));
    }

    #[test]
    fn paths_are_checked() {
        assert!(check_path("/api/v1/statuses").is_ok());
        assert!(check_path("api/v1/statuses").is_err());
        assert!(check_path("/x?y=1").is_err());
        assert!(check_path("/_fake/requests").is_err());
    }
}
