//! Pieces both fakes share: the request recorder, fixed-window rate limiting and its headers,
//! request parameter parsing (query, form or JSON), random strings, a tiny PNG and the server
//! task that stops when its owner is dropped.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// One request a fake answered, as seen from outside: method, path, query, status.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    /// When the request arrived, in microseconds since the Unix epoch (for lateness benches).
    pub received_at_us: u64,
}

/// Locks a mutex, carrying on if a panicking handler poisoned it (the state stays usable).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The requests a fake answered, in arrival order. Control requests under `/_fake/` are not
/// recorded.
#[derive(Clone, Default)]
pub(crate) struct Recorder(Arc<Mutex<Vec<Recorded>>>);

impl Recorder {
    pub(crate) fn snapshot(&self) -> Vec<Recorded> {
        lock(&self.0).clone()
    }
}

/// Whether a path is one of the fakes' own control endpoints.
pub(crate) fn is_control_path(path: &str) -> bool {
    path == "/_fake" || path.starts_with("/_fake/")
}

/// Middleware: records method, path and final status of every non-control request. The slot is
/// reserved on arrival so the order is the order requests came in.
pub(crate) async fn record(State(recorder): State<Recorder>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    if is_control_path(&path) {
        return next.run(req).await;
    }
    let index = {
        let mut log = lock(&recorder.0);
        log.push(Recorded {
            method: req.method().as_str().to_owned(),
            path,
            query: req.uri().query().map(str::to_owned),
            status: 0,
            received_at_us: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX)),
        });
        log.len() - 1
    };
    let response = next.run(req).await;
    if let Some(entry) = lock(&recorder.0).get_mut(index) {
        entry.status = response.status().as_u16();
    }
    response
}

/// Outcome of counting one request against a fixed-window limit.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RateStatus {
    pub limit: u32,
    pub remaining: u32,
    /// When the current window ends, in milliseconds since the epoch.
    pub reset_at_ms: u64,
    pub window: Duration,
    pub exceeded: bool,
}

#[derive(Clone, Copy)]
struct Bucket {
    start_ms: u64,
    count: u32,
}

/// A fixed-window counter per key. `aligned` windows start at multiples of the window length
/// since the epoch (Rack::Attack, used by Mastodon); otherwise a window starts at the first
/// request of a key (rate-limiter-flexible, used by the atproto PDS).
pub(crate) struct FixedWindow {
    limit: u32,
    window: Duration,
    aligned: bool,
    buckets: HashMap<String, Bucket>,
}

impl FixedWindow {
    pub(crate) fn new(limit: u32, window: Duration, aligned: bool) -> Self {
        Self {
            limit,
            window,
            aligned,
            buckets: HashMap::new(),
        }
    }

    /// Counts one request for `key` at `now_ms`. Requests past the limit still count.
    pub(crate) fn hit(&mut self, key: &str, now_ms: u64) -> RateStatus {
        let window_ms = u64::try_from(self.window.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let fresh_start = if self.aligned {
            now_ms - now_ms % window_ms
        } else {
            now_ms
        };
        let bucket = self.buckets.entry(key.to_owned()).or_insert(Bucket {
            start_ms: fresh_start,
            count: 0,
        });
        if now_ms >= bucket.start_ms.saturating_add(window_ms) {
            *bucket = Bucket {
                start_ms: fresh_start,
                count: 0,
            };
        }
        bucket.count = bucket.count.saturating_add(1);
        RateStatus {
            limit: self.limit,
            remaining: self.limit.saturating_sub(bucket.count),
            reset_at_ms: bucket.start_ms.saturating_add(window_ms),
            window: self.window,
            exceeded: bucket.count > self.limit,
        }
    }
}

fn header_value(value: impl ToString) -> HeaderValue {
    HeaderValue::from_str(&value.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Mastodon's headers: `X-RateLimit-Limit`, `X-RateLimit-Remaining` and `X-RateLimit-Reset`
/// (an ISO 8601 UTC timestamp with milliseconds).
pub(crate) fn set_mastodon_rate_headers(headers: &mut HeaderMap, status: &RateStatus) {
    let reset = i64::try_from(status.reset_at_ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ");
    headers.insert(
        HeaderName::from_static("x-ratelimit-limit"),
        header_value(status.limit),
    );
    headers.insert(
        HeaderName::from_static("x-ratelimit-remaining"),
        header_value(status.remaining),
    );
    headers.insert(
        HeaderName::from_static("x-ratelimit-reset"),
        header_value(reset),
    );
}

/// The atproto xrpc-server headers: `RateLimit-Limit`, `RateLimit-Remaining`,
/// `RateLimit-Reset` (epoch seconds) and `RateLimit-Policy` (`<limit>;w=<window secs>`).
pub(crate) fn set_atproto_rate_headers(headers: &mut HeaderMap, status: &RateStatus) {
    headers.insert(
        HeaderName::from_static("ratelimit-limit"),
        header_value(status.limit),
    );
    headers.insert(
        HeaderName::from_static("ratelimit-remaining"),
        header_value(status.remaining),
    );
    headers.insert(
        HeaderName::from_static("ratelimit-reset"),
        header_value(status.reset_at_ms.div_ceil(1000)),
    );
    headers.insert(
        HeaderName::from_static("ratelimit-policy"),
        header_value(format!("{};w={}", status.limit, status.window.as_secs())),
    );
}

/// A JSON response with the given status.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// An HTML response with the given status.
pub(crate) fn html_response(status: StatusCode, body: String) -> Response {
    (status, [(CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response()
}

/// Escapes text for HTML element content and double-quoted attribute values.
pub(crate) fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Serializes bytes as standard base64 (for the `/_fake/` listings).
pub(crate) fn serialize_base64<S: serde::Serializer>(
    bytes: &[u8],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Now as Mastodon and atproto write timestamps: RFC 3339, UTC, milliseconds, `Z`.
pub(crate) fn iso_ms(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `n` random bytes.
pub(crate) fn random_bytes(n: usize) -> Vec<u8> {
    std::iter::repeat_with(|| fastrand::u8(..))
        .take(n)
        .collect()
}

/// Base64url (no padding) of `n` random bytes: 32 bytes give the 43 characters Doorkeeper's
/// `SecureRandom.urlsafe_base64(32)` tokens have.
pub(crate) fn random_urlsafe(n: usize) -> String {
    URL_SAFE_NO_PAD.encode(random_bytes(n))
}

/// Lowercase hex of `n` random bytes.
pub(crate) fn random_hex(n: usize) -> String {
    random_bytes(n).iter().map(|b| format!("{b:02x}")).collect()
}

/// The bearer token of an `Authorization: Bearer <token>` header, if there is one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<String> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// Request parameters merged the way Rails merges them: the query string first, then a JSON
/// object body or a form body. Form keys ending in `[]` collect into arrays.
#[derive(Debug, Default)]
pub(crate) struct Params(pub HashMap<String, Value>);

impl Params {
    fn insert_form_pair(&mut self, key: &str, value: &str) {
        if let Some(base) = key.strip_suffix("[]") {
            let entry = self
                .0
                .entry(base.to_owned())
                .or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(items) = entry {
                items.push(Value::String(value.to_owned()));
            } else {
                *entry = Value::Array(vec![Value::String(value.to_owned())]);
            }
        } else {
            self.0
                .insert(key.to_owned(), Value::String(value.to_owned()));
        }
    }

    fn merge_form(&mut self, bytes: &[u8]) {
        for (key, value) in url::form_urlencoded::parse(bytes) {
            self.insert_form_pair(&key, &value);
        }
    }

    /// A scalar parameter as a string (numbers and booleans are converted, as Rails does).
    pub(crate) fn str(&self, key: &str) -> Option<String> {
        match self.0.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A scalar parameter that is present and not blank.
    pub(crate) fn present(&self, key: &str) -> Option<String> {
        self.str(key).filter(|s| !s.trim().is_empty())
    }

    /// A parameter as a raw JSON value.
    pub(crate) fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }
}

/// A JSON body that is not an object: Rails answers 400.
#[derive(Debug)]
pub(crate) struct BadBody;

impl IntoResponse for BadBody {
    fn into_response(self) -> Response {
        json_response(
            StatusCode::BAD_REQUEST,
            &serde_json::json!({"error": "Error while parsing request body"}),
        )
    }
}

impl Params {
    /// Parses a request the way Rails does: the query string, then a JSON object body
    /// (`application/json` or `+json`) or a form body. Other bodies are ignored. A JSON body that
    /// is not an object is refused with Rails' 400.
    pub(crate) fn parse(
        query: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<Self, BadBody> {
        let mut params = Params::default();
        if let Some(query) = query {
            params.merge_form(query.as_bytes());
        }
        if body.is_empty() {
            return Ok(params);
        }
        let content_type = content_type
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .unwrap_or_default();
        if content_type == "application/json" || content_type.ends_with("+json") {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => params.0.extend(map),
                Ok(_) | Err(_) => return Err(BadBody),
            }
        } else if content_type == "application/x-www-form-urlencoded" {
            params.merge_form(body);
        }
        Ok(params)
    }

    /// A parameter as a list of strings: an array (of strings or numbers) or a single scalar.
    pub(crate) fn strings(&self, key: &str) -> Option<Vec<String>> {
        match self.0.get(key)? {
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(|v| match v {
                        Value::String(s) => Some(s.clone()),
                        Value::Number(n) => Some(n.to_string()),
                        _ => None,
                    })
                    .collect(),
            ),
            Value::String(s) => Some(vec![s.clone()]),
            Value::Number(n) => Some(vec![n.to_string()]),
            _ => None,
        }
    }

    /// Every parameter as one JSON object, as received.
    pub(crate) fn to_json(&self) -> Value {
        let mut keys: Vec<&String> = self.0.keys().collect();
        keys.sort();
        Value::Object(
            keys.into_iter()
                .map(|k| (k.clone(), self.0[k].clone()))
                .collect(),
        )
    }
}

impl<S: Send + Sync> FromRequest<S> for Params {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let query = req.uri().query().map(str::to_owned);
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Params::parse(query.as_deref(), content_type.as_deref(), &bytes)
            .map_err(IntoResponse::into_response)
    }
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn adler32(bytes: &[u8]) -> u32 {
    let (mut a, mut b) = (1_u32, 0_u32);
    for &byte in bytes {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    (b << 16) | a
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    let len = u32::try_from(data.len()).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A valid 16x16 RGB PNG (a diagonal two-colour split), built with stored deflate blocks so no
/// compressor is needed. `rgb` is the main colour.
pub(crate) fn tiny_png(rgb: [u8; 3]) -> Vec<u8> {
    const SIZE: u8 = 16;
    let mut raw = Vec::with_capacity(usize::from(SIZE) * (usize::from(SIZE) * 3 + 1));
    for y in 0..SIZE {
        raw.push(0); // filter: none
        for x in 0..SIZE {
            if x + y < SIZE {
                raw.extend_from_slice(&rgb);
            } else {
                raw.extend_from_slice(&[0xFF, 0xFF, 0xFF]);
            }
        }
    }
    let len = u16::try_from(raw.len()).unwrap_or(u16::MAX);
    let mut zlib = vec![0x78, 0x01, 0x01];
    zlib.extend_from_slice(&len.to_le_bytes());
    zlib.extend_from_slice(&(!len).to_le_bytes());
    zlib.extend_from_slice(&raw);
    zlib.extend_from_slice(&adler32(&raw).to_be_bytes());

    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&u32::from(SIZE).to_be_bytes());
    ihdr.extend_from_slice(&u32::from(SIZE).to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB, deflate, no filter, no interlace

    let mut png = vec![0x89, b'P', b'N', b'G', b'\r', b'\n', 0x1A, b'\n'];
    png_chunk(&mut png, b"IHDR", &ihdr);
    png_chunk(&mut png, b"IDAT", &zlib);
    png_chunk(&mut png, b"IEND", &[]);
    png
}

/// An `image/png` response.
pub(crate) fn png_response(bytes: Vec<u8>) -> Response {
    (
        [
            (CONTENT_TYPE, "image/png"),
            (
                axum::http::header::CACHE_CONTROL,
                "public, max-age=31536000",
            ),
        ],
        bytes,
    )
        .into_response()
}

/// A running server. Dropping it aborts the accept loop, so the port stops answering new
/// connections.
pub(crate) struct Server {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Server {
    /// Binds 127.0.0.1 on a port the OS chooses.
    pub(crate) async fn bind() -> (TcpListener, SocketAddr) {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener
            .local_addr()
            .expect("local address of the listener");
        (listener, addr)
    }

    /// Serves `router` on `listener` in a task on the current tokio runtime.
    pub(crate) fn spawn(listener: TcpListener, addr: SocketAddr, router: Router) -> Self {
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, service).await {
                tracing::error!(%addr, %err, "fake server stopped");
            }
        });
        Self { addr, task }
    }

    /// `http://127.0.0.1:PORT/`.
    pub(crate) fn url(&self) -> url::Url {
        url::Url::parse(&format!("http://{}/", self.addr)).expect("a valid loopback URL")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_has_signature_and_valid_chunk_crcs() {
        let png = tiny_png([0x59, 0x3E, 0xC7]);
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let mut at = 8;
        let mut kinds = Vec::new();
        while at < png.len() {
            let len = u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
            let body = &png[at + 4..at + 8 + len];
            let crc = u32::from_be_bytes(png[at + 8 + len..at + 12 + len].try_into().unwrap());
            assert_eq!(crc32(body), crc);
            kinds.push(String::from_utf8_lossy(&body[..4]).into_owned());
            at += 12 + len;
        }
        assert_eq!(kinds, ["IHDR", "IDAT", "IEND"]);
    }

    #[test]
    fn crc_matches_known_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(adler32(b"Wikipedia"), 0x11E6_0398);
    }

    #[test]
    fn fixed_window_counts_and_resets() {
        let mut w = FixedWindow::new(2, Duration::from_secs(10), true);
        let a = w.hit("k", 12_345);
        assert_eq!((a.remaining, a.exceeded, a.reset_at_ms), (1, false, 20_000));
        assert!(!w.hit("k", 12_400).exceeded);
        assert!(w.hit("k", 12_500).exceeded);
        assert_eq!(w.hit("k", 20_000).remaining, 1);
        assert_eq!(w.hit("other", 20_000).remaining, 1);
    }

    #[test]
    fn form_arrays_collect() {
        let mut p = Params::default();
        p.merge_form(b"a=1&b%5B%5D=x&b[]=y&c=%20");
        assert_eq!(p.str("a").as_deref(), Some("1"));
        assert_eq!(p.get("b"), Some(&serde_json::json!(["x", "y"])));
        assert_eq!(p.present("c"), None);
    }
}
