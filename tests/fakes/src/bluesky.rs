//! A fake Bluesky: PDS, entryway and PLC directory in one server.
//!
//! Sessions follow the reference PDS (packages/pds): HS256 JWTs with `typ` `at+jwt` /
//! `refresh+jwt`, app-password scope, single-use refresh tokens, the xrpc-server error bodies
//! and the `RateLimit-*` headers, including the per-identifier `createSession` limit.
//!
//! XRPC methods are dispatched by NSID in [`dispatch`]; a new method is one match arm plus a
//! handler taking an [`Xrpc`] request.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

use crate::common::{
    self, FixedWindow, RateStatus, Recorded, Recorder, Server, bearer, json_response, lock, now_ms,
};
use crate::faults::{self, Faults, Flavor, HasFaults};

pub(crate) mod notify;
pub(crate) mod page;
mod repo;

pub use repo::{ReceivedBlob, ReceivedRecord};

const GLOBAL_LIMIT: u32 = 3000;
const GLOBAL_WINDOW: Duration = Duration::from_secs(300);
const CREATE_SESSION_LIMIT: u32 = 30;
const CREATE_SESSION_WINDOW: Duration = Duration::from_secs(300);
const CREATE_SESSION_DAILY_LIMIT: u32 = 300;
const DAY: Duration = Duration::from_secs(86_400);
const DEFAULT_ACCESS_TTL: Duration = Duration::from_secs(7200);
const REFRESH_TTL: Duration = Duration::from_secs(90 * 86_400);
const SERVICE_DID: &str = "did:web:127.0.0.1";
const ACCESS_SCOPE: &str = "com.atproto.appPass";
const REFRESH_SCOPE: &str = "com.atproto.refresh";

/// An XRPC error: HTTP status, error name and message.
#[derive(Debug)]
pub(crate) struct XrpcError {
    status: StatusCode,
    error: &'static str,
    message: String,
}

impl XrpcError {
    fn new(status: StatusCode, error: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            error,
            message: message.into(),
        }
    }

    fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRequest", message)
    }

    fn expired(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "ExpiredToken", message)
    }

    fn invalid_token(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidToken", message)
    }
}

impl IntoResponse for XrpcError {
    fn into_response(self) -> Response {
        json_response(
            self.status,
            &json!({ "error": self.error, "message": self.message }),
        )
    }
}

type XrpcResult = Result<Response, XrpcError>;

struct Account {
    did: String,
    handle: String,
    email: String,
    app_password: String,
    display_name: String,
    signing_key: String,
    created_at: String,
}

/// An issued access token.
struct AccessRecord {
    /// The refresh token (`jti`) it was issued with.
    session: String,
    expires_ms: u64,
    expired_by_control: bool,
    revoked: bool,
}

/// An issued refresh token, by `jti`.
struct RefreshRecord {
    expires_ms: u64,
    revoked: bool,
}

struct BskyState {
    base: Url,
    key: Vec<u8>,
    access_ttl: Duration,
    accounts: Vec<Account>,
    access: HashMap<String, AccessRecord>,
    refresh: HashMap<String, RefreshRecord>,
    secrets: Vec<String>,
    global_rate: FixedWindow,
    session_rate: FixedWindow,
    session_daily_rate: FixedWindow,
    create_session_calls: usize,
    refresh_calls: usize,
    repo: repo::RepoState,
    notify: notify::NotifyState,
}

impl BskyState {
    fn account_by_did(&self, did: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.did == did)
    }

    fn account_by_handle(&self, handle: &str) -> Option<&Account> {
        self.accounts
            .iter()
            .find(|a| a.handle.eq_ignore_ascii_case(handle))
    }

    /// A DID or a handle, as `actor` parameters are.
    fn account_by_actor(&self, actor: &str) -> Option<&Account> {
        if actor.starts_with("did:") {
            self.account_by_did(actor)
        } else {
            self.account_by_handle(actor)
        }
    }

    fn did_doc(&self, account: &Account) -> Value {
        json!({
            "@context": [
                "https://www.w3.org/ns/did/v1",
                "https://w3id.org/security/multikey/v1",
                "https://w3id.org/security/suites/secp256k1-2019/v1"
            ],
            "id": account.did,
            "alsoKnownAs": [format!("at://{}", account.handle)],
            "verificationMethod": [{
                "id": format!("{}#atproto", account.did),
                "type": "Multikey",
                "controller": account.did,
                "publicKeyMultibase": account.signing_key,
            }],
            "service": [{
                "id": "#atproto_pds",
                "type": "AtprotoPersonalDataServer",
                "serviceEndpoint": self.base.as_str().trim_end_matches('/'),
            }]
        })
    }

    fn sign(&self, header: &Value, payload: &Value) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        let signature = hmac_sha256(&self.key, signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }

    /// Issues an access/refresh pair for `did`.
    fn issue_session(&mut self, did: &str) -> (String, String) {
        let now = now_ms();
        let iat = now / 1000;
        let access_ttl_ms = u64::try_from(self.access_ttl.as_millis()).unwrap_or(u64::MAX);
        let access_exp_ms = now.saturating_add(access_ttl_ms);
        let refresh_exp_ms = now.saturating_add(REFRESH_TTL.as_secs() * 1000);
        let jti = common::random_hex(32);
        let access = self.sign(
            &json!({ "typ": "at+jwt", "alg": "HS256" }),
            &json!({
                "scope": ACCESS_SCOPE,
                "sub": did,
                "iat": iat,
                "exp": access_exp_ms / 1000,
                "aud": SERVICE_DID,
            }),
        );
        let refresh = self.sign(
            &json!({ "typ": "refresh+jwt", "alg": "HS256" }),
            &json!({
                "scope": REFRESH_SCOPE,
                "sub": did,
                "aud": SERVICE_DID,
                "jti": jti,
                "iat": iat,
                "exp": refresh_exp_ms / 1000,
            }),
        );
        self.access.insert(
            access.clone(),
            AccessRecord {
                session: jti.clone(),
                expires_ms: access_exp_ms,
                expired_by_control: false,
                revoked: false,
            },
        );
        self.refresh.insert(
            jti,
            RefreshRecord {
                expires_ms: refresh_exp_ms,
                revoked: false,
            },
        );
        self.secrets.push(access.clone());
        self.secrets.push(refresh.clone());
        (access, refresh)
    }

    fn add_account(
        &mut self,
        handle: &str,
        email: &str,
        app_password: &str,
        display_name: &str,
    ) -> Result<String, String> {
        let handle = handle.trim().to_ascii_lowercase();
        if handle.is_empty() || handle.starts_with('@') || !handle.contains('.') {
            return Err(format!("not a valid handle: {handle:?}"));
        }
        if self.account_by_handle(&handle).is_some() {
            return Err(format!("handle already taken: {handle}"));
        }
        let did = new_did(&handle);
        self.accounts.push(Account {
            did: did.clone(),
            handle,
            email: email.trim().to_owned(),
            app_password: app_password.to_owned(),
            display_name: display_name.to_owned(),
            signing_key: format!("zQ3sh{}", random_base58(48)),
            created_at: chrono::Utc::now()
                .format("%Y-%m-%dT%H:%M:%S%.3fZ")
                .to_string(),
        });
        Ok(did)
    }
}

/// HMAC-SHA256 (RFC 2104).
fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block_key = [0_u8; BLOCK];
    if key.len() > BLOCK {
        block_key[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block_key[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block_key.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Sha256::new();
    outer.update(block_key.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// `did:plc:` and 24 characters of lowercase base32 (a-z, 2-7), as the PLC directory makes them
/// from the hash of the genesis operation.
fn new_did(handle: &str) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut hasher = Sha256::new();
    hasher.update(handle.as_bytes());
    hasher.update(common::random_bytes(16));
    let digest = hasher.finalize();
    // 24 characters need 120 bits: read 5 bits at a time from the first 15 bytes.
    let mut out = String::from("did:plc:");
    let mut acc = 0_u32;
    let mut bits = 0;
    for &byte in digest.iter().take(15) {
        acc = (acc << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(ALPHABET[((acc >> bits) & 31) as usize]));
        }
    }
    out
}

fn random_base58(len: usize) -> String {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    (0..len)
        .map(|_| char::from(ALPHABET[fastrand::usize(..ALPHABET.len())]))
        .collect()
}

/// A verified JWT: header `typ`, payload.
struct Jwt {
    typ: String,
    payload: Value,
}

fn decode_jwt(key: &[u8], token: &str) -> Option<Jwt> {
    let mut parts = token.split('.');
    let (header, payload, signature) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let expected = hmac_sha256(key, format!("{header}.{payload}").as_bytes());
    let given = URL_SAFE_NO_PAD.decode(signature).ok()?;
    if given.as_slice() != expected.as_slice() {
        return None;
    }
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    let payload: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    if header.get("alg")?.as_str()? != "HS256" {
        return None;
    }
    Some(Jwt {
        typ: header.get("typ")?.as_str()?.to_owned(),
        payload,
    })
}

#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<BskyState>>,
    recorder: Recorder,
    faults: Arc<Mutex<Faults>>,
}

impl HasFaults for Shared {
    fn faults(&self) -> &Arc<Mutex<Faults>> {
        &self.faults
    }
    const FLAVOR: Flavor = Flavor::Bluesky;
}

/// A fake Bluesky PDS, entryway and PLC directory in one server on 127.0.0.1. Dropping it stops
/// the server.
pub struct FakeBluesky {
    shared: Shared,
    server: Server,
}

impl FakeBluesky {
    /// Binds 127.0.0.1 on a port the OS chooses and serves on the current tokio runtime.
    pub async fn start() -> FakeBluesky {
        let (listener, addr) = Server::bind().await;
        let base = Url::parse(&format!("http://{addr}/")).expect("a valid loopback URL");
        let shared = Shared {
            state: Arc::new(Mutex::new(BskyState {
                base,
                key: common::random_bytes(32),
                access_ttl: DEFAULT_ACCESS_TTL,
                accounts: Vec::new(),
                access: HashMap::new(),
                refresh: HashMap::new(),
                secrets: Vec::new(),
                global_rate: FixedWindow::new(GLOBAL_LIMIT, GLOBAL_WINDOW, false),
                session_rate: FixedWindow::new(CREATE_SESSION_LIMIT, CREATE_SESSION_WINDOW, false),
                session_daily_rate: FixedWindow::new(CREATE_SESSION_DAILY_LIMIT, DAY, false),
                create_session_calls: 0,
                refresh_calls: 0,
                repo: repo::RepoState::default(),
                notify: notify::NotifyState::default(),
            })),
            recorder: Recorder::default(),
            faults: Arc::default(),
        };
        let server = Server::spawn(listener, addr, router(shared.clone()));
        FakeBluesky { shared, server }
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> Url {
        self.server.url()
    }

    /// Creates an account that logs in with `app_password` and returns its DID
    /// (`did:plc:` + 24 lowercase base32 characters).
    ///
    /// # Panics
    /// If the handle is invalid (no dot, leading `@`) or already taken.
    pub fn add_account(
        &self,
        handle: &str,
        email: &str,
        app_password: &str,
        display_name: &str,
    ) -> String {
        lock(&self.shared.state)
            .add_account(handle, email, app_password, display_name)
            .unwrap_or_else(|err| panic!("FakeBluesky::add_account: {err}"))
    }

    /// Someone did something to the account `to_handle`: `reason` is like, repost, follow,
    /// mention, reply or quote; `text` the post's text (mention, reply, quote); `subject` the
    /// post it is about (like, repost) or replies to. Returns the notification's record URI.
    pub fn add_notification(
        &self,
        to_handle: &str,
        reason: &str,
        from_handle: &str,
        text: Option<&str>,
        subject: Option<&str>,
    ) -> String {
        lock(&self.shared.state)
            .add_notification(to_handle, reason, from_handle, text, subject)
            .unwrap_or_else(|err| panic!("FakeBluesky::add_notification: {err}"))
    }

    /// `from_handle` sends a chat message to the account `to_handle`. Returns the message id.
    pub fn add_chat_message(&self, to_handle: &str, from_handle: &str, text: &str) -> String {
        lock(&self.shared.state)
            .add_chat_message(to_handle, from_handle, text)
            .unwrap_or_else(|err| panic!("FakeBluesky::add_chat_message: {err}"))
    }

    /// How many messages of a conversation `handle` has not read.
    pub fn chat_unread(&self, handle: &str, convo_id: &str) -> usize {
        let state = lock(&self.shared.state);
        let did = state
            .accounts
            .iter()
            .find(|a| a.handle == handle)
            .map(|a| a.did.clone())
            .unwrap_or_default();
        state
            .notify
            .convos
            .iter()
            .find(|c| c.id == convo_id)
            .map_or(0, |c| c.unread_for(&did))
    }

    /// `handle` read the conversation in Bluesky's own app, up to its newest message.
    pub fn read_chat_elsewhere(&self, handle: &str, convo_id: &str) {
        let mut state = lock(&self.shared.state);
        let did = state
            .accounts
            .iter()
            .find(|a| a.handle == handle)
            .map(|a| a.did.clone())
            .unwrap_or_default();
        if let Some(c) = state.notify.convos.iter_mut().find(|c| c.id == convo_id)
            && let Some(rev) = c.messages.last().map(|m| m.rev.clone())
        {
            c.read.retain(|(d, _)| *d != did);
            c.read.push((did, rev));
        }
    }

    /// Every chat message in every conversation, as (conversation id, message).
    pub fn chat_messages(&self) -> Vec<(String, notify::ChatMessage)> {
        lock(&self.shared.state)
            .notify
            .convos
            .iter()
            .flat_map(|c| c.messages.iter().map(|m| (c.id.clone(), m.clone())))
            .collect()
    }

    /// Lifetime of access tokens issued from now on (default 2 hours).
    pub fn set_access_ttl(&self, ttl: Duration) {
        lock(&self.shared.state).access_ttl = ttl;
    }

    /// Every access token issued so far answers `ExpiredToken` from now on.
    pub fn expire_access_tokens(&self) {
        for record in lock(&self.shared.state).access.values_mut() {
            record.expired_by_control = true;
        }
    }

    /// Every access and refresh JWT ever issued, in issue order.
    pub fn secrets(&self) -> Vec<String> {
        lock(&self.shared.state).secrets.clone()
    }

    /// The requests answered so far, in arrival order (control requests excluded).
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.recorder.snapshot()
    }

    /// How many `com.atproto.server.createSession` requests arrived (whatever their outcome).
    pub fn create_session_calls(&self) -> usize {
        lock(&self.shared.state).create_session_calls
    }

    /// How many `com.atproto.server.refreshSession` requests arrived (whatever their outcome).
    pub fn refresh_calls(&self) -> usize {
        lock(&self.shared.state).refresh_calls
    }

    /// Every record created through `createRecord`, in creation order (deleted ones flagged).
    pub fn records(&self) -> Vec<ReceivedRecord> {
        lock(&self.shared.state).repo.records()
    }

    /// Every blob received through `uploadBlob`, in upload order (a re-upload of the same
    /// bytes by the same account replaces the earlier entry).
    pub fn blobs(&self) -> Vec<ReceivedBlob> {
        lock(&self.shared.state).repo.blobs()
    }

    /// Every request takes `latency` longer (half before it is processed, half after), so a
    /// client killed at a random moment is often killed mid-request.
    pub fn set_latency(&self, latency: std::time::Duration) {
        faults::set_latency(&self.shared.faults, latency);
    }

    /// Random faults on `rate` (0..1) of the requests whose path starts with one of
    /// `prefixes`: 500, 502, 503, 429 with `Retry-After: 1`, a reset before processing, a reset
    /// after processing (the answer is lost), and a hang of `hang` after processing (the client
    /// times out). Deterministic for a `seed` and an order of requests. A rate of 0 turns it off.
    pub fn set_chaos(&self, rate: f64, prefixes: &[&str], hang: std::time::Duration, seed: u64) {
        faults::set_chaos(&self.shared.faults, rate, prefixes, hang, seed);
    }

    /// How many faults of each kind [`Self::set_chaos`] injected, by name.
    pub fn chaos_counts(&self) -> std::collections::HashMap<&'static str, u64> {
        faults::chaos_counts(&self.shared.faults)
    }

    /// The next request to `path` (e.g. `/xrpc/com.atproto.repo.createRecord`) is processed as
    /// usual (the record is created) but answered by closing the connection without a response.
    ///
    /// # Panics
    /// If `path` does not start with `/`, has a query or is a control path.
    pub fn drop_after_next(&self, path: &str) {
        faults::arm_drop(&self.shared.faults, path);
    }

    /// The next `count` requests to `path` are answered with `status` and the XRPC error body
    /// for it, without being processed. A count of 0 disarms.
    ///
    /// # Panics
    /// If `path` is not a plain request path or `status` is not 400..=599.
    pub fn fail_next(&self, path: &str, status: u16, count: u32) {
        faults::arm_fail(&self.shared.faults, path, status, count, None);
    }

    /// Like [`fail_next`](Self::fail_next), with a `Retry-After: <secs>` header.
    ///
    /// # Panics
    /// As [`fail_next`](Self::fail_next).
    pub fn fail_next_retry_after(
        &self,
        path: &str,
        status: u16,
        count: u32,
        retry_after_secs: u64,
    ) {
        faults::arm_fail(
            &self.shared.faults,
            path,
            status,
            count,
            Some(retry_after_secs),
        );
    }
}

fn router(shared: Shared) -> Router {
    Router::new()
        .route("/xrpc/{nsid}", any(xrpc))
        .route("/img/avatar/plain/{did}/{file}", get(avatar))
        .route("/_page/article", get(page::article))
        .route("/_page/og.jpg", get(page::og_image))
        .route("/_page/huge", get(page::huge))
        .route("/_fake/records", get(fake_records))
        .route("/_fake/blobs", get(fake_blobs))
        .route(
            "/_fake/drop-after-next",
            post(faults::control_drop::<Shared>),
        )
        .route("/_fake/fail-next", post(faults::control_fail::<Shared>))
        .route("/_fake/accounts", post(fake_add_account))
        .route("/_fake/notifications", post(fake_notification))
        .route("/_fake/chat", post(fake_chat))
        .route("/_fake/chat-messages", get(fake_chat_messages))
        .route("/_fake/expire-access-tokens", post(fake_expire))
        .route("/_fake/config", post(fake_config))
        .route("/_fake/secrets", get(fake_secrets))
        .route("/_fake/requests", get(fake_requests))
        .route("/_fake/stats", get(fake_stats))
        .route("/{did}", get(plc_document))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            global_rate_limit,
        ))
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            faults::layer::<Shared>,
        ))
        .layer(middleware::from_fn_with_state(
            shared.recorder.clone(),
            common::record,
        ))
        .with_state(shared)
}

async fn not_found() -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &json!({ "error": "NotFound", "message": "Not Found" }),
    )
}

/// The global limit counted for this request, read by handlers with their own limits.
#[derive(Clone, Copy)]
struct GlobalRate(RateStatus);

/// The xrpc-server global limiter: 3000 requests per 5 minutes per IP on /xrpc. The headers
/// describe the tightest limit a request counted against; handlers that count a limit of their
/// own set the headers themselves.
async fn global_rate_limit(
    State(shared): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut req: Request,
    next: Next,
) -> Response {
    if !req.uri().path().starts_with("/xrpc/") {
        return next.run(req).await;
    }
    let status = lock(&shared.state)
        .global_rate
        .hit(&peer.ip().to_string(), now_ms());
    let mut response = if status.exceeded {
        rate_limit_exceeded()
    } else {
        req.extensions_mut().insert(GlobalRate(status));
        next.run(req).await
    };
    if !response.headers().contains_key("ratelimit-limit") {
        common::set_atproto_rate_headers(response.headers_mut(), &status);
    }
    response
}

fn rate_limit_exceeded() -> Response {
    XrpcError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "RateLimitExceeded",
        "Rate Limit Exceeded",
    )
    .into_response()
}

/// The parts of an XRPC request handlers need.
pub(crate) struct Xrpc {
    method: Method,
    headers: HeaderMap,
    query: HashMap<String, String>,
    body: Bytes,
    global: Option<RateStatus>,
}

impl Xrpc {
    fn param(&self, name: &str) -> Result<&str, XrpcError> {
        self.query.get(name).map(String::as_str).ok_or_else(|| {
            XrpcError::invalid_request(format!("Params must have the property \"{name}\""))
        })
    }

    /// The JSON object body of a procedure, checked like xrpc-server does.
    fn json_input(&self) -> Result<serde_json::Map<String, Value>, XrpcError> {
        let content_type = self
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|v| {
                v.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            });
        match content_type.as_deref() {
            None if self.body.is_empty() => {
                return Err(XrpcError::invalid_request(
                    "Request encoding (Content-Type) required but not provided",
                ));
            }
            None => {}
            Some("application/json") => {}
            Some(other) => {
                return Err(XrpcError::invalid_request(format!(
                    "Wrong request encoding (Content-Type): {other}"
                )));
            }
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err(XrpcError::invalid_request("Input must be an object")),
            Err(_) => Err(XrpcError::invalid_request("Request body is not valid JSON")),
        }
    }
}

fn required_string<'a>(
    input: &'a serde_json::Map<String, Value>,
    name: &str,
) -> Result<&'a str, XrpcError> {
    match input.get(name) {
        None => Err(XrpcError::invalid_request(format!(
            "Input must have the property \"{name}\""
        ))),
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(XrpcError::invalid_request(format!(
            "Input/{name} must be a string"
        ))),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Query,
    Procedure,
}

async fn xrpc(State(shared): State<Shared>, Path(nsid): Path<String>, req: Request) -> Response {
    let global = req.extensions().get::<GlobalRate>().map(|g| g.0);
    if nsid == "com.atproto.repo.uploadBlob"
        && let Err(err) = repo::check_declared_length(req.headers())
    {
        return err.into_response();
    }
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, 64 * 1024 * 1024).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return XrpcError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "PayloadTooLarge",
                "request entity too large",
            )
            .into_response();
        }
    };
    let query = parts
        .uri
        .query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default();
    let request = Xrpc {
        method: parts.method,
        headers: parts.headers,
        query,
        body,
        global,
    };
    dispatch(&shared, &nsid, &request).unwrap_or_else(IntoResponse::into_response)
}

/// Routes an XRPC call by NSID.
fn dispatch(shared: &Shared, nsid: &str, req: &Xrpc) -> XrpcResult {
    let (kind, handler): (Kind, fn(&Shared, &Xrpc) -> XrpcResult) = match nsid {
        "com.atproto.server.createSession" => (Kind::Procedure, create_session),
        "com.atproto.server.refreshSession" => (Kind::Procedure, refresh_session),
        "com.atproto.server.deleteSession" => (Kind::Procedure, delete_session),
        "com.atproto.server.getSession" => (Kind::Query, get_session),
        "com.atproto.server.describeServer" => (Kind::Query, describe_server),
        "com.atproto.identity.resolveHandle" => (Kind::Query, resolve_handle),
        "app.bsky.actor.getProfile" => (Kind::Query, get_profile),
        "com.atproto.repo.uploadBlob" => (Kind::Procedure, repo::upload_blob),
        "com.atproto.repo.createRecord" => (Kind::Procedure, repo::create_record),
        "com.atproto.repo.deleteRecord" => (Kind::Procedure, repo::delete_record),
        "com.atproto.repo.getRecord" => (Kind::Query, repo::get_record),
        "com.atproto.repo.listRecords" => (Kind::Query, repo::list_records),
        "app.bsky.notification.listNotifications" => (Kind::Query, notify::list_notifications),
        "app.bsky.feed.getPostThread" => (Kind::Query, notify::get_post_thread),
        "chat.bsky.convo.listConvos" => (Kind::Query, notify::list_convos),
        "chat.bsky.convo.getMessages" => (Kind::Query, notify::get_messages),
        "chat.bsky.convo.sendMessage" => (Kind::Procedure, notify::send_message),
        "chat.bsky.convo.updateRead" => (Kind::Procedure, notify::update_read),
        _ => {
            return Err(XrpcError::new(
                StatusCode::NOT_IMPLEMENTED,
                "MethodNotImplemented",
                "Method Not Implemented",
            ));
        }
    };
    let expected = match kind {
        Kind::Query => Method::GET,
        Kind::Procedure => Method::POST,
    };
    let allowed = req.method == expected || (kind == Kind::Query && req.method == Method::HEAD);
    if !allowed {
        return Err(XrpcError::invalid_request(format!(
            "Incorrect HTTP method ({}) expected {expected}",
            req.method
        )));
    }
    handler(shared, req)
}

/// The account an access token belongs to, checked like the PDS's access verifier.
fn authenticate_access(state: &BskyState, req: &Xrpc) -> Result<String, XrpcError> {
    let token = bearer(&req.headers).ok_or_else(|| {
        XrpcError::new(
            StatusCode::UNAUTHORIZED,
            "AuthMissing",
            "Authentication Required",
        )
    })?;
    let jwt = decode_jwt(&state.key, &token)
        .ok_or_else(|| XrpcError::invalid_token("Token could not be verified"))?;
    let scope = jwt.payload.get("scope").and_then(Value::as_str);
    if jwt.typ != "at+jwt" || scope != Some(ACCESS_SCOPE) {
        return Err(XrpcError::invalid_token("Bad token scope"));
    }
    let record = state
        .access
        .get(&token)
        .ok_or_else(|| XrpcError::invalid_token("Token could not be verified"))?;
    if record.revoked {
        return Err(XrpcError::invalid_token("Token has been revoked"));
    }
    if record.expired_by_control || now_ms() >= record.expires_ms {
        return Err(XrpcError::expired("Token has expired"));
    }
    let did = jwt
        .payload
        .get("sub")
        .and_then(Value::as_str)
        .ok_or_else(|| XrpcError::invalid_token("Token could not be verified"))?;
    if state.account_by_did(did).is_none() {
        return Err(XrpcError::invalid_token("Token could not be verified"));
    }
    Ok(did.to_owned())
}

/// The refresh token's `jti` and account, checked like the PDS's refresh verifier.
fn authenticate_refresh(state: &BskyState, req: &Xrpc) -> Result<(String, String), XrpcError> {
    let token = bearer(&req.headers).ok_or_else(|| {
        XrpcError::new(
            StatusCode::UNAUTHORIZED,
            "AuthMissing",
            "Authentication Required",
        )
    })?;
    let jwt = decode_jwt(&state.key, &token)
        .ok_or_else(|| XrpcError::invalid_token("Token could not be verified"))?;
    if jwt.typ != "refresh+jwt" {
        return Err(XrpcError::invalid_token("Invalid token type"));
    }
    if jwt.payload.get("scope").and_then(Value::as_str) != Some(REFRESH_SCOPE) {
        return Err(XrpcError::invalid_token("Bad token scope"));
    }
    let jti = jwt.payload.get("jti").and_then(Value::as_str).unwrap_or("");
    let did = jwt.payload.get("sub").and_then(Value::as_str).unwrap_or("");
    let record = state
        .refresh
        .get(jti)
        .ok_or_else(|| XrpcError::expired("Token has been revoked"))?;
    if now_ms() >= record.expires_ms {
        return Err(XrpcError::expired("Token has expired"));
    }
    if record.revoked || state.account_by_did(did).is_none() {
        return Err(XrpcError::expired("Token has been revoked"));
    }
    Ok((jti.to_owned(), did.to_owned()))
}

fn json_ok(body: &Value) -> XrpcResult {
    Ok(json_response(StatusCode::OK, body))
}

fn create_session(shared: &Shared, req: &Xrpc) -> XrpcResult {
    let mut state = lock(&shared.state);
    state.create_session_calls += 1;
    let input = req.json_input()?;
    let identifier = required_string(&input, "identifier")?.trim().to_owned();
    let password = required_string(&input, "password")?.to_owned();

    // Route limits are keyed by identifier and counted before the password is checked.
    let key = identifier.to_lowercase();
    let now = now_ms();
    let short = state.session_rate.hit(&key, now);
    let daily = state.session_daily_rate.hit(&key, now);
    let tightest = [Some(short), Some(daily), req.global]
        .into_iter()
        .flatten()
        .min_by_key(|s| s.remaining)
        .unwrap_or(short);
    let mut response = if short.exceeded || daily.exceeded {
        rate_limit_exceeded()
    } else {
        create_session_inner(&mut state, &identifier, &password)
            .unwrap_or_else(IntoResponse::into_response)
    };
    common::set_atproto_rate_headers(response.headers_mut(), &tightest);
    Ok(response)
}

fn create_session_inner(state: &mut BskyState, identifier: &str, password: &str) -> XrpcResult {
    let found = if identifier.starts_with("did:") {
        state.account_by_did(identifier)
    } else if identifier.contains('@') {
        state
            .accounts
            .iter()
            .find(|a| a.email.eq_ignore_ascii_case(identifier))
    } else {
        state.account_by_handle(identifier)
    };
    let Some(account) = found.filter(|a| a.app_password == password) else {
        return Err(XrpcError::new(
            StatusCode::UNAUTHORIZED,
            "AuthenticationRequired",
            "Invalid identifier or password",
        ));
    };
    let (did, handle, email) = (
        account.did.clone(),
        account.handle.clone(),
        account.email.clone(),
    );
    let did_doc = state.did_doc(account);
    let (access, refresh) = state.issue_session(&did);
    json_ok(&json!({
        "accessJwt": access,
        "refreshJwt": refresh,
        "handle": handle,
        "did": did,
        "didDoc": did_doc,
        "email": email,
        "emailConfirmed": true,
        "emailAuthFactor": false,
        "active": true,
    }))
}

fn refresh_session(shared: &Shared, req: &Xrpc) -> XrpcResult {
    let mut state = lock(&shared.state);
    state.refresh_calls += 1;
    let (jti, did) = authenticate_refresh(&state, req)?;
    if let Some(record) = state.refresh.get_mut(&jti) {
        record.revoked = true;
    }
    let account = state
        .account_by_did(&did)
        .ok_or_else(|| XrpcError::expired("Token has been revoked"))?;
    let handle = account.handle.clone();
    let did_doc = state.did_doc(account);
    let (access, refresh) = state.issue_session(&did);
    json_ok(&json!({
        "accessJwt": access,
        "refreshJwt": refresh,
        "handle": handle,
        "did": did,
        "didDoc": did_doc,
        "active": true,
    }))
}

fn delete_session(shared: &Shared, req: &Xrpc) -> XrpcResult {
    let mut state = lock(&shared.state);
    let (jti, _did) = authenticate_refresh(&state, req)?;
    if let Some(record) = state.refresh.get_mut(&jti) {
        record.revoked = true;
    }
    for record in state.access.values_mut().filter(|r| r.session == jti) {
        record.revoked = true;
    }
    Ok(StatusCode::OK.into_response())
}

fn get_session(shared: &Shared, req: &Xrpc) -> XrpcResult {
    let state = lock(&shared.state);
    let did = authenticate_access(&state, req)?;
    let account = state
        .account_by_did(&did)
        .ok_or_else(|| XrpcError::invalid_token("Token could not be verified"))?;
    json_ok(&json!({
        "handle": account.handle,
        "did": account.did,
        "didDoc": state.did_doc(account),
        "email": account.email,
        "emailConfirmed": true,
        "emailAuthFactor": false,
        "active": true,
    }))
}

fn describe_server(_shared: &Shared, _req: &Xrpc) -> XrpcResult {
    json_ok(&json!({
        "did": SERVICE_DID,
        "availableUserDomains": [".test"],
        "inviteCodeRequired": true,
        "phoneVerificationRequired": false,
        "links": {},
        "contact": {},
    }))
}

fn resolve_handle(shared: &Shared, req: &Xrpc) -> XrpcResult {
    let handle = req.param("handle")?;
    let state = lock(&shared.state);
    match state.account_by_handle(handle) {
        Some(account) => json_ok(&json!({ "did": account.did })),
        None => Err(XrpcError::invalid_request("Unable to resolve handle")),
    }
}

fn get_profile(shared: &Shared, req: &Xrpc) -> XrpcResult {
    let state = lock(&shared.state);
    authenticate_access(&state, req)?;
    let actor = req.param("actor")?;
    let account = state
        .account_by_actor(actor)
        .ok_or_else(|| XrpcError::invalid_request("Profile not found"))?;
    json_ok(&json!({
        "did": account.did,
        "handle": account.handle,
        "displayName": account.display_name,
        "description": "Fake account on a fake PDS.",
        "avatar": format!("{}img/avatar/plain/{}/avatar@png", state.base, account.did),
        "associated": { "lists": 0, "feedgens": 0, "starterPacks": 0, "labeler": false },
        "followersCount": 42,
        "followsCount": 7,
        "postsCount": 1843,
        "indexedAt": account.created_at,
        "createdAt": account.created_at,
        "labels": [],
        "viewer": { "muted": false, "blockedBy": false },
    }))
}

async fn avatar(
    State(shared): State<Shared>,
    Path((did, file)): Path<(String, String)>,
) -> Response {
    let known = lock(&shared.state).account_by_did(&did).is_some();
    if !known || file != "avatar@png" {
        return not_found().await;
    }
    common::png_response(common::tiny_png([0x10, 0x83, 0xFE]))
}

/// PLC directory: `GET /did:plc:<id>` returns the DID document.
async fn plc_document(State(shared): State<Shared>, Path(did): Path<String>) -> Response {
    if !did.starts_with("did:plc:") {
        return not_found().await;
    }
    let state = lock(&shared.state);
    match state.account_by_did(&did) {
        Some(account) => {
            let mut response = json_response(StatusCode::OK, &state.did_doc(account));
            response.headers_mut().insert(
                CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/did+ld+json; charset=utf-8"),
            );
            response
        }
        None => json_response(
            StatusCode::NOT_FOUND,
            &json!({ "message": format!("DID not registered: {did}") }),
        ),
    }
}

fn control_error(message: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &json!({ "error": "InvalidRequest", "message": message }),
    )
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AccountBody {
    handle: String,
    email: String,
    password: String,
    display_name: String,
}

async fn fake_add_account(State(shared): State<Shared>, body: Bytes) -> Response {
    let account = match serde_json::from_slice::<AccountBody>(&body) {
        Ok(account) => account,
        Err(err) => return control_error(&err.to_string()),
    };
    let added = lock(&shared.state).add_account(
        &account.handle,
        &account.email,
        &account.password,
        &account.display_name,
    );
    match added {
        Ok(did) => json_response(StatusCode::OK, &json!({ "did": did })),
        Err(err) => control_error(&err),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NotificationBody {
    to: String,
    reason: String,
    from: String,
    text: Option<String>,
    subject: Option<String>,
}

/// `POST /_fake/notifications {to, reason, from, text?, subject?}` (see
/// [`FakeBluesky::add_notification`]). Answers `{uri}`.
async fn fake_notification(State(shared): State<Shared>, body: Bytes) -> Response {
    let n = match serde_json::from_slice::<NotificationBody>(&body) {
        Ok(n) => n,
        Err(err) => return control_error(&err.to_string()),
    };
    let added = lock(&shared.state).add_notification(
        &n.to,
        &n.reason,
        &n.from,
        n.text.as_deref(),
        n.subject.as_deref(),
    );
    match added {
        Ok(uri) => json_response(StatusCode::OK, &json!({ "uri": uri })),
        Err(err) => control_error(&err),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ChatBody {
    to: String,
    from: String,
    text: String,
}

/// `POST /_fake/chat {to, from, text}`: a direct message to the account `to`.
async fn fake_chat(State(shared): State<Shared>, body: Bytes) -> Response {
    let c = match serde_json::from_slice::<ChatBody>(&body) {
        Ok(c) => c,
        Err(err) => return control_error(&err.to_string()),
    };
    match lock(&shared.state).add_chat_message(&c.to, &c.from, &c.text) {
        Ok(id) => json_response(StatusCode::OK, &json!({ "id": id })),
        Err(err) => control_error(&err),
    }
}

/// `GET /_fake/chat-messages`: every chat message, as `[{convo, message}]`.
async fn fake_chat_messages(State(shared): State<Shared>) -> Response {
    let state = lock(&shared.state);
    let all: Vec<Value> = state
        .notify
        .convos
        .iter()
        .flat_map(|c| {
            c.messages
                .iter()
                .map(move |m| json!({ "convo": c.id, "message": m }))
        })
        .collect();
    json_response(StatusCode::OK, &Value::Array(all))
}

async fn fake_expire(State(shared): State<Shared>) -> Response {
    for record in lock(&shared.state).access.values_mut() {
        record.expired_by_control = true;
    }
    json_response(StatusCode::OK, &json!({}))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConfigBody {
    access_ttl_secs: Option<u64>,
}

async fn fake_config(State(shared): State<Shared>, body: Bytes) -> Response {
    match serde_json::from_slice::<ConfigBody>(&body) {
        Ok(config) => {
            if let Some(secs) = config.access_ttl_secs {
                lock(&shared.state).access_ttl = Duration::from_secs(secs);
            }
            json_response(StatusCode::OK, &json!({}))
        }
        Err(err) => control_error(&err.to_string()),
    }
}

async fn fake_secrets(State(shared): State<Shared>) -> Response {
    json_response(StatusCode::OK, &json!(lock(&shared.state).secrets))
}

async fn fake_requests(State(shared): State<Shared>) -> Response {
    json_response(StatusCode::OK, &json!(shared.recorder.snapshot()))
}

async fn fake_records(State(shared): State<Shared>) -> Response {
    json_response(StatusCode::OK, &json!(lock(&shared.state).repo.records()))
}

async fn fake_blobs(State(shared): State<Shared>) -> Response {
    json_response(StatusCode::OK, &json!(lock(&shared.state).repo.blobs()))
}

async fn fake_stats(State(shared): State<Shared>) -> Response {
    let state = lock(&shared.state);
    json_response(
        StatusCode::OK,
        &json!({
            "createSessionCalls": state.create_session_calls,
            "refreshCalls": state.refresh_calls,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hmac_long_key_rfc4231_case_6() {
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn dids_have_the_plc_shape() {
        let did = new_did("ada.test");
        let id = did.strip_prefix("did:plc:").unwrap();
        assert_eq!(id.len(), 24);
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c))
        );
    }

    #[test]
    fn jwt_round_trip_and_tamper() {
        let key = b"k".to_vec();
        let state_key = key.clone();
        let token = {
            let header = URL_SAFE_NO_PAD.encode(r#"{"typ":"at+jwt","alg":"HS256"}"#);
            let payload = URL_SAFE_NO_PAD.encode(r#"{"sub":"did:plc:x"}"#);
            let sig =
                URL_SAFE_NO_PAD.encode(hmac_sha256(&key, format!("{header}.{payload}").as_bytes()));
            format!("{header}.{payload}.{sig}")
        };
        let jwt = decode_jwt(&state_key, &token).unwrap();
        assert_eq!(jwt.typ, "at+jwt");
        assert!(decode_jwt(b"other", &token).is_none());
        assert!(decode_jwt(&state_key, &format!("{token}x")).is_none());
    }
}
