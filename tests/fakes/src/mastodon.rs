//! A fake Mastodon 4.4 instance with one logged-in user, `@ada`.
//!
//! It follows Mastodon and Doorkeeper where a client can tell the difference: app registration
//! validation, the authorization page, PKCE (S256 only, and required here), authorization code
//! rules (single use, 10 minutes, same redirect URI, same client), `reuse_access_token`, token
//! revocation, scope checks on the API, the rate-limit headers and the JSON error bodies.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::http::header::{LOCATION, WWW_AUTHENTICATE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

use crate::common::{
    self, FixedWindow, Params, Recorded, Recorder, Server, bearer, html_escape, html_response,
    json_response, lock, now_ms,
};
use crate::faults::{self, Faults, Flavor, HasFaults};

mod notify;
mod publish;
mod text;

pub use publish::{ReceivedMedia, ReceivedScheduled, ReceivedStatus};

/// The logged-in user's account id.
pub const ACCOUNT_ID: &str = "109000000000000001";
/// The logged-in user's username.
pub const USERNAME: &str = "ada";
/// The logged-in user's display name.
pub const DISPLAY_NAME: &str = "Ada Lovelace";
/// The redirect URI that makes the server show the code instead of redirecting.
pub const OOB_REDIRECT_URI: &str = "urn:ietf:wg:oauth:2.0:oob";

/// Every scope Mastodon 4.4 accepts (Doorkeeper's `default_scopes` plus `optional_scopes`;
/// docs: api/oauth-scopes). There is no `read:conversations`: conversations are read with
/// `read:statuses`.
pub const KNOWN_SCOPES: &[&str] = &[
    "read",
    "write",
    "push",
    "profile",
    "follow",
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
    "admin:read",
    "admin:read:accounts",
    "admin:read:reports",
    "admin:read:domain_allows",
    "admin:read:domain_blocks",
    "admin:read:ip_blocks",
    "admin:read:email_domain_blocks",
    "admin:read:canonical_email_blocks",
    "admin:write",
    "admin:write:accounts",
    "admin:write:reports",
    "admin:write:domain_allows",
    "admin:write:domain_blocks",
    "admin:write:ip_blocks",
    "admin:write:email_domain_blocks",
    "admin:write:canonical_email_blocks",
];

const RATE_LIMIT: u32 = 300;
const RATE_WINDOW: Duration = Duration::from_secs(300);
/// Rack::Attack `throttle_media`: 30 uploads per 30 minutes per account.
const MEDIA_RATE_LIMIT: u32 = 30;
const MEDIA_RATE_WINDOW: Duration = Duration::from_secs(1800);
const CODE_TTL_MS: u64 = 10 * 60 * 1000;
const DEFAULT_SCOPE: &str = "read";

// Doorkeeper's texts (Mastodon's config/locales/doorkeeper.en.yml).
const ERR_INVALID_REQUEST: &str = "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.";
const ERR_INVALID_CLIENT: &str = "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.";
const ERR_INVALID_REDIRECT: &str = "The redirect uri included is not valid.";
const ERR_UNSUPPORTED_RESPONSE_TYPE: &str =
    "The authorization server does not support this response type.";
const ERR_INVALID_SCOPE: &str = "The requested scope is invalid, unknown, or malformed.";
const ERR_CODE_CHALLENGE_REQUIRED: &str = "Code challenge is required.";
const ERR_CODE_CHALLENGE_METHOD: &str = "The code challenge method must be S256.";
const ERR_INVALID_GRANT: &str = "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.";
const ERR_UNSUPPORTED_GRANT: &str =
    "The authorization grant type is not supported by the authorization server.";
const ERR_ACCESS_DENIED: &str = "The resource owner or authorization server denied the request.";
const ERR_TOKEN_INVALID: &str = "The access token is invalid";

struct App {
    id: String,
    name: String,
    website: Option<String>,
    scopes: Vec<String>,
    redirect_uris: Vec<String>,
    client_id: String,
    client_secret: String,
    vapid_key: String,
}

impl App {
    fn entity(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "website": self.website,
            "scopes": self.scopes,
            "redirect_uri": self.redirect_uris.first(),
            "redirect_uris": self.redirect_uris,
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "client_secret_expires_at": 0,
            "vapid_key": self.vapid_key,
        })
    }
}

struct Grant {
    client_id: String,
    redirect_uri: String,
    scopes: Vec<String>,
    code_challenge: String,
    created_ms: u64,
    used: bool,
    token: Option<String>,
}

struct Token {
    token: String,
    client_id: String,
    /// Issued for the user (authorization code) rather than for the app (client credentials).
    user: bool,
    scopes: Vec<String>,
    created_at: i64,
    revoked: bool,
}

struct MastoState {
    base: Url,
    max_characters: u32,
    apps: Vec<App>,
    grants: Vec<(String, Grant)>,
    tokens: Vec<Token>,
    secrets: Vec<String>,
    rate: FixedWindow,
    media_rate: FixedWindow,
    publish: publish::PublishState,
    notify: notify::NotifyState,
}

impl MastoState {
    fn app_by_client_id(&self, client_id: &str) -> Option<&App> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }

    fn live_token(&self, token: &str) -> Option<&Token> {
        self.tokens.iter().find(|t| t.token == token && !t.revoked)
    }

    fn issue_token(&mut self, client_id: &str, user: bool, scopes: Vec<String>) -> String {
        // Mastodon enables Doorkeeper's `reuse_access_token`: a live token of the same app, user
        // and scopes is handed out again instead of a new one.
        if let Some(existing) = self.tokens.iter().find(|t| {
            !t.revoked
                && t.client_id == client_id
                && t.user == user
                && same_scopes(&t.scopes, &scopes)
        }) {
            return existing.token.clone();
        }
        let token = common::random_urlsafe(32);
        self.secrets.push(token.clone());
        self.tokens.push(Token {
            token: token.clone(),
            client_id: client_id.to_owned(),
            user,
            scopes,
            created_at: chrono::Utc::now().timestamp(),
            revoked: false,
        });
        token
    }

    fn revoke(&mut self, token: &str) {
        for t in self.tokens.iter_mut().filter(|t| t.token == token) {
            t.revoked = true;
        }
    }
}

fn same_scopes(a: &[String], b: &[String]) -> bool {
    a.iter().all(|s| b.contains(s)) && b.iter().all(|s| a.contains(s))
}

fn split_scopes(scope: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for s in scope.split_whitespace() {
        if !out.iter().any(|o| o == s) {
            out.push(s.to_owned());
        }
    }
    out
}

#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<MastoState>>,
    recorder: Recorder,
    faults: Arc<Mutex<Faults>>,
    /// New notifications, as JSON, for the streaming endpoint.
    stream: tokio::sync::broadcast::Sender<String>,
}

impl HasFaults for Shared {
    fn faults(&self) -> &Arc<Mutex<Faults>> {
        &self.faults
    }
    const FLAVOR: Flavor = Flavor::Mastodon;
}

/// A fake Mastodon server on 127.0.0.1. Dropping it stops the server.
pub struct FakeMastodon {
    shared: Shared,
    server: Server,
}

impl FakeMastodon {
    /// Binds 127.0.0.1 on a port the OS chooses and serves on the current tokio runtime.
    pub async fn start() -> FakeMastodon {
        let (listener, addr) = Server::bind().await;
        let base = Url::parse(&format!("http://{addr}/")).expect("a valid loopback URL");
        let shared = Shared {
            state: Arc::new(Mutex::new(MastoState {
                base,
                max_characters: 500,
                apps: Vec::new(),
                grants: Vec::new(),
                tokens: Vec::new(),
                secrets: Vec::new(),
                rate: FixedWindow::new(RATE_LIMIT, RATE_WINDOW, true),
                media_rate: FixedWindow::new(MEDIA_RATE_LIMIT, MEDIA_RATE_WINDOW, true),
                publish: publish::PublishState::default(),
                notify: notify::NotifyState::default(),
            })),
            recorder: Recorder::default(),
            faults: Arc::default(),
            stream: tokio::sync::broadcast::channel(1024).0,
        };
        let server = Server::spawn(listener, addr, router(shared.clone()));
        FakeMastodon { shared, server }
    }

    /// `http://127.0.0.1:PORT/`.
    pub fn url(&self) -> Url {
        self.server.url()
    }

    /// Sets `configuration.statuses.max_characters` (default 500).
    pub fn set_max_characters(&self, n: u32) {
        lock(&self.shared.state).max_characters = n;
    }

    /// Every client secret, authorization code and access token ever issued, in issue order.
    pub fn secrets(&self) -> Vec<String> {
        lock(&self.shared.state).secrets.clone()
    }

    /// Access tokens that still work.
    pub fn live_tokens(&self) -> Vec<String> {
        let state = lock(&self.shared.state);
        state
            .tokens
            .iter()
            .filter(|t| !t.revoked)
            .map(|t| t.token.clone())
            .collect()
    }

    /// Access tokens that were revoked.
    pub fn revoked_tokens(&self) -> Vec<String> {
        let state = lock(&self.shared.state);
        state
            .tokens
            .iter()
            .filter(|t| t.revoked)
            .map(|t| t.token.clone())
            .collect()
    }

    /// The requests answered so far, in arrival order (control requests excluded).
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.recorder.snapshot()
    }

    /// How many apps were registered through `POST /api/v1/apps`.
    pub fn apps_registered(&self) -> usize {
        lock(&self.shared.state).apps.len()
    }

    /// Every status created so far (directly or from a scheduled status), in creation order,
    /// with every parameter received.
    pub fn statuses(&self) -> Vec<ReceivedStatus> {
        lock(&self.shared.state).publish.statuses()
    }

    /// Every media upload accepted so far, in upload order.
    pub fn media(&self) -> Vec<ReceivedMedia> {
        lock(&self.shared.state).publish.media()
    }

    /// Someone else did something to the signed-in account: `kind` is Mastodon's notification
    /// type (mention, favourite, reblog, follow, quote, …), `html` the content of their status
    /// as their server wrote it (for mentions and quotes), `in_reply_to` one of our status ids
    /// (a reply), `our_status` the status a favourite or reblog is about. Returns the
    /// notification id.
    pub fn add_notification(
        &self,
        kind: &str,
        from_acct: &str,
        html: Option<&str>,
        in_reply_to: Option<&str>,
        our_status: Option<&str>,
    ) -> String {
        let mut state = lock(&self.shared.state);
        let id = incoming(
            &mut state,
            kind,
            from_acct,
            html,
            in_reply_to,
            our_status,
            "public",
        );
        if let Some(json) = notify::entity_json(&state, id) {
            let _ = self.shared.stream.send(json);
        }
        id.to_string()
    }

    /// `from_acct` sends the signed-in account a direct message (a `direct` status that
    /// mentions it, optionally answering `in_reply_to`): it shows in
    /// `/api/v1/conversations` and as a `mention` notification. Returns the status id.
    pub fn add_direct_message(
        &self,
        from_acct: &str,
        html: &str,
        in_reply_to: Option<&str>,
    ) -> String {
        let mut state = lock(&self.shared.state);
        let id = incoming(
            &mut state,
            "mention",
            from_acct,
            Some(html),
            in_reply_to,
            None,
            "direct",
        );
        if let Some(json) = notify::entity_json(&state, id) {
            let _ = self.shared.stream.send(json);
        }
        state
            .notify
            .items
            .iter()
            .find(|n| n.id == id)
            .and_then(|n| n.status.as_ref().map(|(sid, _, _)| sid.clone()))
            .unwrap_or_default()
    }

    /// The signed-in person read the conversation `status_id` belongs to elsewhere (in
    /// Mastodon's web app). Returns whether there was one.
    pub fn read_conversation_elsewhere(&self, status_id: &str) -> bool {
        let mut state = lock(&self.shared.state);
        notify::mark_read_containing(&mut state, status_id)
    }

    /// Whether the conversation `id` has messages the signed-in person has not read (`None`
    /// when there is no such conversation).
    pub fn conversation_unread(&self, id: &str) -> Option<bool> {
        notify::conversation_unread(&lock(&self.shared.state), id)
    }

    /// Favourites and reblogs received, as (favourite | reblog, status id).
    pub fn reactions(&self) -> Vec<(String, String)> {
        lock(&self.shared.state).notify.reactions.clone()
    }

    /// Every scheduled status created so far, pending, published or cancelled.
    pub fn scheduled(&self) -> Vec<ReceivedScheduled> {
        lock(&self.shared.state).publish.scheduled()
    }

    /// From now on, uploads answer 202 with `url: null` and `GET /api/v1/media/:id` answers
    /// 206 `polls` times before 200; a status naming such media before then is refused.
    /// 0 (the default) makes uploads answer 200, processed.
    pub fn set_media_processing(&self, polls: u32) {
        lock(&self.shared.state).publish.set_media_processing(polls);
    }

    /// Does what Mastodon's scheduler does at `now`: every pending scheduled status due by then
    /// becomes a status (created at `now`). Returns the new status ids, oldest schedule first.
    pub fn publish_due_scheduled(&self, now: chrono::DateTime<chrono::Utc>) -> Vec<String> {
        publish::publish_due(&mut lock(&self.shared.state), now)
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

    /// The next request to `path` (e.g. `/api/v1/statuses`) is processed as usual (the post is
    /// created) but answered by closing the connection without a response.
    ///
    /// # Panics
    /// If `path` does not start with `/`, has a query or is a control path.
    pub fn drop_after_next(&self, path: &str) {
        faults::arm_drop(&self.shared.faults, path);
    }

    /// The next `count` requests to `path` are answered with `status` and Mastodon's body for
    /// it, without being processed. A count of 0 disarms.
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
        .route("/api/v2/instance", get(instance))
        .route("/api/v1/apps", post(create_app))
        .route(
            "/api/v1/accounts/verify_credentials",
            get(verify_credentials),
        )
        .route(
            "/oauth/authorize",
            get(authorize_page).post(authorize_decision),
        )
        .route("/oauth/token", post(token))
        .route("/oauth/revoke", post(revoke))
        .route(
            "/.well-known/oauth-authorization-server",
            get(authorization_server_metadata),
        )
        .route("/system/accounts/avatars/ada.png", get(avatar))
        .route(
            "/api/v2/media",
            post(publish::upload_media).layer(DefaultBodyLimit::max(publish::MEDIA_BODY_LIMIT)),
        )
        .route(
            "/api/v1/media/{id}",
            get(publish::get_media).put(publish::update_media),
        )
        .route("/api/v1/notifications", get(notify::list))
        .route("/api/v1/streaming/user/notification", get(notify::stream))
        .route("/api/v1/statuses/{id}/context", get(notify::context))
        .route("/api/v1/conversations", get(notify::list_conversations))
        .route(
            "/api/v1/conversations/{id}/read",
            post(notify::read_conversation),
        )
        .route("/api/v1/statuses/{id}/{action}", post(notify::react))
        .route("/api/v1/statuses", post(publish::create_status))
        .route("/api/v1/statuses/{id}", get(publish::get_status))
        .route(
            "/api/v1/accounts/{id}/statuses",
            get(publish::account_statuses),
        )
        .route("/api/v1/scheduled_statuses", get(publish::list_scheduled))
        .route(
            "/api/v1/scheduled_statuses/{id}",
            get(publish::get_scheduled)
                .put(publish::update_scheduled)
                .delete(publish::delete_scheduled),
        )
        .route(
            "/system/media_attachments/files/{id}/{file}",
            get(publish::media_file),
        )
        .route("/_fake/config", post(fake_config))
        .route("/_fake/notifications", post(fake_notification))
        .route("/_fake/secrets", get(fake_secrets))
        .route("/_fake/requests", get(fake_requests))
        .route("/_fake/tokens", get(fake_tokens))
        .route("/_fake/stats", get(fake_stats))
        .route("/_fake/statuses", get(publish::fake_statuses))
        .route("/_fake/media", get(publish::fake_media))
        .route("/_fake/scheduled", get(publish::fake_scheduled))
        .route("/_fake/publish-due", post(publish::fake_publish_due))
        .route(
            "/_fake/drop-after-next",
            post(faults::control_drop::<Shared>),
        )
        .route("/_fake/fail-next", post(faults::control_fail::<Shared>))
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), rate_limit))
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

fn error(status: StatusCode, message: &str) -> Response {
    json_response(status, &json!({ "error": message }))
}

fn oauth_error(status: StatusCode, code: &str, description: &str) -> Response {
    json_response(
        status,
        &json!({ "error": code, "error_description": description }),
    )
}

async fn not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Record not found")
}

/// Rack::Attack: 300 requests per 5 minutes per access token (or per IP without one) on /api,
/// and 30 media uploads per 30 minutes per token, windows aligned to the epoch. Every /api
/// response carries the headers of the limit closest to being hit, unless the endpoint set its
/// own (`override_rate_limit_headers`, as `POST /api/v1/statuses` does).
async fn rate_limit(
    State(shared): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    if !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let media_upload = publish::is_media_upload(req.method(), req.uri().path());
    let (status, exceeded) = {
        let mut state = lock(&shared.state);
        let token = bearer(req.headers()).filter(|t| state.live_token(t).is_some());
        let key = match &token {
            Some(token) => format!("token:{token}"),
            None => format!("ip:{}", peer.ip()),
        };
        let now = now_ms();
        let general = state.rate.hit(&key, now);
        let media = match (&token, media_upload) {
            (Some(token), true) => Some(state.media_rate.hit(token, now)),
            _ => None,
        };
        let exceeded = general.exceeded || media.is_some_and(|m| m.exceeded);
        let tightest = media
            .filter(|m| m.remaining < general.remaining)
            .unwrap_or(general);
        (tightest, exceeded)
    };
    let mut response = if exceeded {
        error(StatusCode::TOO_MANY_REQUESTS, "Too many requests")
    } else {
        next.run(req).await
    };
    if exceeded || !response.headers().contains_key("x-ratelimit-limit") {
        common::set_mastodon_rate_headers(response.headers_mut(), &status);
    }
    response
}

async fn instance(State(shared): State<Shared>) -> Response {
    let state = lock(&shared.state);
    let base = state.base.as_str().trim_end_matches('/').to_owned();
    let domain = base.trim_start_matches("http://").to_owned();
    axum::Json(json!({
        "domain": domain,
        "title": "Fake Mastodon",
        "version": "4.4.0",
        "source_url": "https://github.com/mastodon/mastodon",
        "description": "A fake Mastodon instance for Postwerk's tests.",
        "usage": { "users": { "active_month": 1 } },
        "thumbnail": { "url": format!("{base}/packs/media/images/preview.png") },
        "icon": [],
        "languages": ["en", "de"],
        "configuration": {
            "urls": { "streaming": format!("ws://{domain}"), "status": null, "about": format!("{base}/about"), "privacy_policy": format!("{base}/privacy-policy"), "terms_of_service": null },
            "vapid": { "public_key": "BFake0000000000000000000000000000000000000000000000000000000000000000000000000000000000" },
            "accounts": { "max_featured_tags": 10, "max_pinned_statuses": 5 },
            "statuses": {
                "max_characters": state.max_characters,
                "max_media_attachments": 4,
                "characters_reserved_per_url": 23
            },
            "media_attachments": {
                "supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp", "video/mp4"],
                "description_limit": 1500,
                "image_size_limit": 16_777_216,
                "image_matrix_limit": 33_177_600,
                "video_size_limit": 103_809_024,
                "video_frame_rate_limit": 120,
                "video_matrix_limit": 8_294_400
            },
            "polls": {
                "max_options": 4,
                "max_characters_per_option": 50,
                "min_expiration": 300,
                "max_expiration": 2_629_746
            },
            "translation": { "enabled": false },
            "limited_federation": false
        },
        "registrations": { "enabled": false, "approval_required": false, "message": null, "url": null },
        "api_versions": { "mastodon": 6 },
        "contact": { "email": "admin@127.0.0.1", "account": null },
        "rules": []
    }))
    .into_response()
}

fn validate_redirect_uri(uri: &str) -> Result<(), &'static str> {
    if uri == OOB_REDIRECT_URI {
        return Ok(());
    }
    match Url::parse(uri) {
        Ok(url) => {
            if url.fragment().is_some() {
                Err("Validation failed: Redirect URI cannot contain a fragment.")
            } else if ["data", "vbscript", "javascript"].contains(&url.scheme()) {
                Err("Validation failed: Redirect URI is forbidden by the server.")
            } else {
                Ok(())
            }
        }
        Err(url::ParseError::RelativeUrlWithoutBase) => {
            Err("Validation failed: Redirect URI must be an absolute URI.")
        }
        Err(_) => Err("Validation failed: Redirect URI must be a valid URI."),
    }
}

async fn create_app(State(shared): State<Shared>, params: Params) -> Response {
    let unprocessable = |message: &str| error(StatusCode::UNPROCESSABLE_ENTITY, message);
    let Some(name) = params.present("client_name") else {
        return unprocessable("Validation failed: Application name can't be blank");
    };
    let redirect_uris: Vec<String> = match params.get("redirect_uris") {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
        _ => Vec::new(),
    };
    if redirect_uris.is_empty() {
        return unprocessable("Validation failed: Redirect URI can't be blank");
    }
    for uri in &redirect_uris {
        if let Err(message) = validate_redirect_uri(uri) {
            return unprocessable(message);
        }
    }
    let scopes = split_scopes(
        &params
            .present("scopes")
            .unwrap_or_else(|| DEFAULT_SCOPE.into()),
    );
    if scopes.iter().any(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
        return unprocessable("Validation failed: Scopes must be a valid scope");
    }
    let website = params.present("website");
    let mut state = lock(&shared.state);
    let app = App {
        id: (state.apps.len() + 1).to_string(),
        name,
        website,
        scopes,
        redirect_uris,
        client_id: common::random_urlsafe(32),
        client_secret: common::random_urlsafe(32),
        vapid_key: format!("B{}", common::random_urlsafe(64)),
    };
    state.secrets.push(app.client_secret.clone());
    let body = app.entity();
    state.apps.push(app);
    axum::Json(body).into_response()
}

/// The parameters of an authorization request, as sent to GET and POST /oauth/authorize.
struct AuthRequest {
    response_type: String,
    client_id: String,
    redirect_uri: String,
    scope: String,
    state: String,
    code_challenge: String,
    code_challenge_method: String,
}

impl AuthRequest {
    fn from_params(params: &Params) -> Self {
        let get = |k: &str| params.str(k).unwrap_or_default();
        Self {
            response_type: get("response_type"),
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            scope: get("scope"),
            state: get("state"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
        }
    }

    fn hidden_fields(&self) -> [(&'static str, &str); 7] {
        [
            ("client_id", &self.client_id),
            ("redirect_uri", &self.redirect_uri),
            ("state", &self.state),
            ("response_type", &self.response_type),
            ("scope", &self.scope),
            ("code_challenge", &self.code_challenge),
            ("code_challenge_method", &self.code_challenge_method),
        ]
    }

    /// The scopes asked for; Doorkeeper uses the default scope when none is given.
    fn scopes(&self) -> Vec<String> {
        let scopes = split_scopes(&self.scope);
        if scopes.is_empty() {
            vec![DEFAULT_SCOPE.to_owned()]
        } else {
            scopes
        }
    }

    /// Doorkeeper's pre-authorization checks, in its order. Returns the app's name.
    fn validate(&self, state: &MastoState) -> Result<String, &'static str> {
        if self.client_id.is_empty() {
            return Err(ERR_INVALID_REQUEST);
        }
        let app = state
            .app_by_client_id(&self.client_id)
            .ok_or(ERR_INVALID_CLIENT)?;
        if !app.redirect_uris.contains(&self.redirect_uri) {
            return Err(ERR_INVALID_REDIRECT);
        }
        if self.response_type != "code" {
            return Err(ERR_UNSUPPORTED_RESPONSE_TYPE);
        }
        if self
            .scopes()
            .iter()
            .any(|s| !app.scopes.contains(s) || !KNOWN_SCOPES.contains(&s.as_str()))
        {
            return Err(ERR_INVALID_SCOPE);
        }
        if self.code_challenge.is_empty() {
            return Err(ERR_CODE_CHALLENGE_REQUIRED);
        }
        if self.code_challenge_method != "S256" {
            return Err(ERR_CODE_CHALLENGE_METHOD);
        }
        Ok(app.name.clone())
    }
}

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{} - Fake Mastodon</title>\n</head>\n<body>\n{body}</body>\n</html>\n",
        html_escape(title)
    )
}

fn error_page(message: &str) -> Response {
    let body = format!(
        "<h1>An error has occurred</h1>\n<p class=\"error\">{}</p>\n",
        html_escape(message)
    );
    html_response(
        StatusCode::BAD_REQUEST,
        page("An error has occurred", &body),
    )
}

async fn authorize_page(State(shared): State<Shared>, params: Params) -> Response {
    let request = AuthRequest::from_params(&params);
    let app_name = match request.validate(&lock(&shared.state)) {
        Ok(name) => name,
        Err(message) => return error_page(message),
    };
    let mut body = String::from("<h1>Authorization required</h1>\n");
    body.push_str(&format!(
        "<p class=\"prompt\">Authorize {} to use your account @{USERNAME}?</p>\n",
        html_escape(&app_name)
    ));
    body.push_str("<ul class=\"scopes\">\n");
    for scope in request.scopes() {
        body.push_str(&format!("<li>{}</li>\n", html_escape(&scope)));
    }
    body.push_str("</ul>\n<form method=\"post\" action=\"/oauth/authorize\">\n");
    for (name, value) in request.hidden_fields() {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"{name}\" value=\"{}\">\n",
            html_escape(value)
        ));
    }
    body.push_str(
        "<button type=\"submit\" name=\"decision\" value=\"approve\">Authorize</button>\n",
    );
    body.push_str("<button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button>\n");
    body.push_str("</form>\n");
    html_response(StatusCode::OK, page("Authorization required", &body))
}

fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Response {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return error_page(ERR_INVALID_REDIRECT);
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            query.append_pair(k, v);
        }
    }
    let location = HeaderValue::from_str(url.as_str()).unwrap_or(HeaderValue::from_static("/"));
    (StatusCode::FOUND, [(LOCATION, location)]).into_response()
}

async fn authorize_decision(State(shared): State<Shared>, params: Params) -> Response {
    let request = AuthRequest::from_params(&params);
    let mut state = lock(&shared.state);
    if let Err(message) = request.validate(&state) {
        return error_page(message);
    }
    let state_pair = (!request.state.is_empty()).then_some(("state", request.state.as_str()));
    match params.str("decision").as_deref() {
        Some("approve") => {
            let code = common::random_urlsafe(32);
            state.secrets.push(code.clone());
            state.grants.push((
                code.clone(),
                Grant {
                    client_id: request.client_id.clone(),
                    redirect_uri: request.redirect_uri.clone(),
                    scopes: request.scopes(),
                    code_challenge: request.code_challenge.clone(),
                    created_ms: now_ms(),
                    used: false,
                    token: None,
                },
            ));
            if request.redirect_uri == OOB_REDIRECT_URI {
                let body = format!(
                    "<h1>Authorization code</h1>\n<p>Copy this authorization code and paste it to the application.</p>\n<input type=\"text\" name=\"code\" readonly value=\"{}\">\n",
                    html_escape(&code)
                );
                return html_response(StatusCode::OK, page("Authorization code", &body));
            }
            let mut pairs = vec![("code", code.as_str())];
            pairs.extend(state_pair);
            redirect_with(&request.redirect_uri, &pairs)
        }
        Some("deny") => {
            if request.redirect_uri == OOB_REDIRECT_URI {
                return error_page(ERR_ACCESS_DENIED);
            }
            let mut pairs = vec![
                ("error", "access_denied"),
                ("error_description", ERR_ACCESS_DENIED),
            ];
            pairs.extend(state_pair);
            redirect_with(&request.redirect_uri, &pairs)
        }
        _ => error_page(ERR_INVALID_REQUEST),
    }
}

/// Doorkeeper's client credentials: HTTP Basic first, then `client_id`/`client_secret` params.
fn client_credentials(headers: &HeaderMap, params: &Params) -> Option<(String, String)> {
    let basic = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("basic"))
        .and_then(|(_, encoded)| STANDARD.decode(encoded.trim()).ok())
        .and_then(|decoded| String::from_utf8(decoded).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_owned(), secret.to_owned()))
        });
    basic.or_else(|| Some((params.str("client_id")?, params.str("client_secret")?)))
}

/// The app whose credentials were presented, if they are right.
fn authenticate_client(state: &MastoState, headers: &HeaderMap, params: &Params) -> Option<String> {
    let (id, secret) = client_credentials(headers, params)?;
    let app = state.app_by_client_id(&id)?;
    (app.client_secret == secret).then(|| app.client_id.clone())
}

fn token_response(token: &Token) -> Response {
    axum::Json(json!({
        "access_token": token.token,
        "token_type": "Bearer",
        "scope": token.scopes.join(" "),
        "created_at": token.created_at,
    }))
    .into_response()
}

fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())) == challenge
}

async fn token(State(shared): State<Shared>, headers: HeaderMap, params: Params) -> Response {
    let mut state = lock(&shared.state);
    match params.str("grant_type").as_deref() {
        Some("authorization_code") => authorization_code_grant(&mut state, &headers, &params),
        Some("client_credentials") => {
            let Some(client_id) = authenticate_client(&state, &headers, &params) else {
                return oauth_error(
                    StatusCode::UNAUTHORIZED,
                    "invalid_client",
                    ERR_INVALID_CLIENT,
                );
            };
            let scopes = split_scopes(&params.str("scope").unwrap_or_default());
            let scopes = if scopes.is_empty() {
                vec![DEFAULT_SCOPE.to_owned()]
            } else {
                scopes
            };
            let allowed = state
                .app_by_client_id(&client_id)
                .is_some_and(|app| scopes.iter().all(|s| app.scopes.contains(s)));
            if !allowed {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", ERR_INVALID_SCOPE);
            }
            let token = state.issue_token(&client_id, false, scopes);
            match state.live_token(&token) {
                Some(t) => token_response(t),
                None => oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", ERR_INVALID_GRANT),
            }
        }
        Some(_) => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            ERR_UNSUPPORTED_GRANT,
        ),
        None => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: grant_type.",
        ),
    }
}

fn authorization_code_grant(
    state: &mut MastoState,
    headers: &HeaderMap,
    params: &Params,
) -> Response {
    let invalid_grant = || oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", ERR_INVALID_GRANT);
    let code = params.str("code").unwrap_or_default();
    let grant_index = state.grants.iter().position(|(c, _)| *c == code);

    // Doorkeeper validates the parameters first, then the client, then the grant.
    let uses_pkce = grant_index.is_some();
    if uses_pkce && params.present("code_verifier").is_none() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: code_verifier.",
        );
    }
    if params.present("redirect_uri").is_none() {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: redirect_uri.",
        );
    }
    let Some(client_id) = authenticate_client(state, headers, params) else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            ERR_INVALID_CLIENT,
        );
    };
    let Some(index) = grant_index else {
        return invalid_grant();
    };
    let grant = &mut state.grants[index].1;
    if grant.used {
        // A replayed code: refuse it and revoke what it produced.
        let issued = grant.token.clone();
        if let Some(token) = issued {
            state.revoke(&token);
        }
        return invalid_grant();
    }
    if grant.client_id != client_id || now_ms().saturating_sub(grant.created_ms) >= CODE_TTL_MS {
        return invalid_grant();
    }
    if params.str("redirect_uri").as_deref() != Some(grant.redirect_uri.as_str()) {
        return invalid_grant();
    }
    let verifier = params.str("code_verifier").unwrap_or_default();
    if !pkce_matches(&verifier, &grant.code_challenge) {
        return invalid_grant();
    }
    grant.used = true;
    let scopes = grant.scopes.clone();
    let token = state.issue_token(&client_id, true, scopes);
    state.grants[index].1.token = Some(token.clone());
    match state.live_token(&token) {
        Some(t) => token_response(t),
        None => invalid_grant(),
    }
}

async fn revoke(State(shared): State<Shared>, headers: HeaderMap, params: Params) -> Response {
    let Some(token) = params.present("token") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: token.",
        );
    };
    let mut state = lock(&shared.state);
    let Some(owner) = state
        .tokens
        .iter()
        .find(|t| t.token == token)
        .map(|t| t.client_id.clone())
    else {
        // RFC 7009: an unknown token is not an error.
        return axum::Json(json!({})).into_response();
    };
    if authenticate_client(&state, &headers, &params).as_deref() != Some(owner.as_str()) {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            "You are not authorized to revoke this token",
        );
    }
    state.revoke(&token);
    axum::Json(json!({})).into_response()
}

fn invalid_token() -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, ERR_TOKEN_INVALID);
    response.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static(
            "Bearer realm=\"Doorkeeper\", error=\"invalid_token\", error_description=\"The access token is invalid\"",
        ),
    );
    response
}

/// Why an API request was refused. Later endpoints add their validation failures here.
#[derive(Debug)]
enum ApiError {
    /// 401: missing, unknown or revoked token.
    InvalidToken,
    /// 403: the token has none of the scopes the endpoint accepts.
    OutsideScopes,
    /// 422: an app token (client credentials) on an endpoint that needs the user.
    RequiresUser,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::InvalidToken => invalid_token(),
            ApiError::OutsideScopes => error(
                StatusCode::FORBIDDEN,
                "This action is outside the authorized scopes",
            ),
            ApiError::RequiresUser => error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "This method requires an authenticated user",
            ),
        }
    }
}

/// Checks the bearer token like Mastodon's `doorkeeper_authorize!` (any one of `scopes`) and
/// `require_user!`, and returns it.
fn authorize_user<'a>(
    state: &'a MastoState,
    headers: &HeaderMap,
    scopes: &[&str],
) -> Result<&'a Token, ApiError> {
    let token = bearer(headers)
        .and_then(|t| state.live_token(&t))
        .ok_or(ApiError::InvalidToken)?;
    if !token.scopes.iter().any(|s| scopes.contains(&s.as_str())) {
        return Err(ApiError::OutsideScopes);
    }
    if !token.user {
        return Err(ApiError::RequiresUser);
    }
    Ok(token)
}

async fn verify_credentials(State(shared): State<Shared>, headers: HeaderMap) -> Response {
    let state = lock(&shared.state);
    if let Err(err) = authorize_user(&state, &headers, &["read", "read:accounts", "profile"]) {
        return err.into_response();
    }
    let mut account = account_entity(state.base.as_str());
    if let Value::Object(map) = &mut account {
        map.insert(
            "source".into(),
            json!({
                "privacy": "public",
                "sensitive": false,
                "language": "en",
                "note": "Counting engines",
                "fields": [],
                "follow_requests_count": 0
            }),
        );
    }
    axum::Json(account).into_response()
}

/// The Account entity of `@ada`, as statuses and `verify_credentials` show it.
fn account_entity(base: &str) -> Value {
    let avatar = format!("{base}system/accounts/avatars/ada.png");
    let header = format!("{base}headers/original/missing.png");
    json!({
        "id": ACCOUNT_ID,
        "username": USERNAME,
        "acct": USERNAME,
        "display_name": DISPLAY_NAME,
        "locked": false,
        "bot": false,
        "discoverable": true,
        "group": false,
        "created_at": "2022-11-01T00:00:00.000Z",
        "note": "<p>Counting engines</p>",
        "url": format!("{base}@{USERNAME}"),
        "uri": format!("{base}users/{USERNAME}"),
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": 42,
        "following_count": 7,
        "statuses_count": 1843,
        "last_status_at": "2026-11-26",
        "emojis": [],
        "fields": []
    })
}

async fn authorization_server_metadata(State(shared): State<Shared>) -> Response {
    let base = lock(&shared.state).base.as_str().to_owned();
    axum::Json(json!({
        "issuer": base,
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": format!("{base}oauth/authorize"),
        "token_endpoint": format!("{base}oauth/token"),
        "revocation_endpoint": format!("{base}oauth/revoke"),
        "userinfo_endpoint": format!("{base}oauth/userinfo"),
        "app_registration_endpoint": format!("{base}api/v1/apps"),
        "scopes_supported": KNOWN_SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]
    }))
    .into_response()
}

async fn avatar() -> Response {
    common::png_response(common::tiny_png([0x59, 0x3E, 0xC7]))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ConfigBody {
    max_characters: Option<u32>,
    media_processing: Option<u32>,
}

async fn fake_config(State(shared): State<Shared>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<ConfigBody>(&body) {
        Ok(config) => {
            if let Some(n) = config.max_characters {
                lock(&shared.state).max_characters = n;
            }
            if let Some(n) = config.media_processing {
                lock(&shared.state).publish.set_media_processing(n);
            }
            axum::Json(json!({})).into_response()
        }
        Err(err) => error(StatusCode::BAD_REQUEST, &err.to_string()),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NotificationBody {
    kind: String,
    from: String,
    html: Option<String>,
    in_reply_to: Option<String>,
    our_status: Option<String>,
    /// `direct` for a direct message; `public` when left out.
    visibility: Option<String>,
}

/// Records what someone else did; their status gets a snowflake id as Mastodon's do.
fn incoming(
    state: &mut MastoState,
    kind: &str,
    from_acct: &str,
    html: Option<&str>,
    in_reply_to: Option<&str>,
    our_status: Option<&str>,
    visibility: &str,
) -> u64 {
    let status_id = state.publish.snowflake();
    state.notify.add(notify::Incoming {
        kind,
        from_acct,
        html,
        in_reply_to,
        our_status,
        visibility,
        status_id,
    })
}

/// `POST /_fake/notifications {kind, from, html?, inReplyTo?, ourStatus?, visibility?}`: someone else acts
/// on the signed-in account (see [`FakeMastodon::add_notification`]). Answers `{id, statusId}`.
async fn fake_notification(State(shared): State<Shared>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<NotificationBody>(&body) {
        Ok(n) => {
            let visibility = n.visibility.as_deref().unwrap_or("public");
            if !matches!(visibility, "public" | "unlisted" | "private" | "direct") {
                return error(StatusCode::BAD_REQUEST, "unknown visibility");
            }
            let mut state = lock(&shared.state);
            let id = incoming(
                &mut state,
                &n.kind,
                &n.from,
                n.html.as_deref(),
                n.in_reply_to.as_deref(),
                n.our_status.as_deref(),
                visibility,
            );
            if let Some(json) = notify::entity_json(&state, id) {
                let _ = shared.stream.send(json);
            }
            let status_id = state
                .notify
                .items
                .iter()
                .find(|x| x.id == id)
                .and_then(|x| x.status.as_ref().map(|(sid, _, _)| sid.clone()));
            axum::Json(json!({ "id": id.to_string(), "statusId": status_id })).into_response()
        }
        Err(err) => error(StatusCode::BAD_REQUEST, &err.to_string()),
    }
}

async fn fake_secrets(State(shared): State<Shared>) -> Response {
    axum::Json(lock(&shared.state).secrets.clone()).into_response()
}

async fn fake_requests(State(shared): State<Shared>) -> Response {
    axum::Json(shared.recorder.snapshot()).into_response()
}

async fn fake_tokens(State(shared): State<Shared>) -> Response {
    let state = lock(&shared.state);
    let pick = |revoked: bool| -> Vec<String> {
        state
            .tokens
            .iter()
            .filter(|t| t.revoked == revoked)
            .map(|t| t.token.clone())
            .collect()
    };
    axum::Json(json!({ "live": pick(false), "revoked": pick(true) })).into_response()
}

async fn fake_stats(State(shared): State<Shared>) -> Response {
    let state = lock(&shared.state);
    axum::Json(json!({ "appsRegistered": state.apps.len() })).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_s256_matches_rfc7636_example() {
        assert!(pkce_matches(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
        assert!(!pkce_matches(
            "wrong",
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        ));
    }

    #[test]
    fn redirect_uri_validation() {
        assert!(validate_redirect_uri("http://127.0.0.1:8080/cb").is_ok());
        assert!(validate_redirect_uri(OOB_REDIRECT_URI).is_ok());
        assert!(validate_redirect_uri("com.example.app:/cb").is_ok());
        assert_eq!(
            validate_redirect_uri("/cb"),
            Err("Validation failed: Redirect URI must be an absolute URI.")
        );
        assert!(validate_redirect_uri("http://x/cb#frag").is_err());
        assert!(validate_redirect_uri("javascript:alert(1)").is_err());
    }
}
