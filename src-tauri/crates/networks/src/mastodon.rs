//! Mastodon: per-instance app registration, OAuth 2 + PKCE through the loopback redirect,
//! `verify_credentials`, revoke. See NETWORKS.md section 1.

use serde::Deserialize;
use url::Url;

use crate::http::{Answer, HttpClient, check_url};
use crate::oauth::OAuthConfig;
use crate::ratelimit::wait_after_429;
use crate::{Capabilities, NetworkError, NetworkKind, Op, Profile, Result, Secret};

pub const CAPABILITIES: Capabilities = Capabilities {
    publish_text: true,
    publish_images: true,
    publish_video: true,
    threads: true,
    native_scheduling: true,
    inbox: true,
    direct_messages: true,
    search: true,
    metrics: true,
    reminder_only: false,
};

/// What Postwerk asks for: publish, media, read its own posts, notifications and DMs,
/// favourite and boost. Granular scopes, so the consent screen lists exactly these.
pub const SCOPES: &[&str] = &[
    "read:accounts",
    "read:statuses",
    "read:notifications",
    "write:statuses",
    "write:media",
    "write:favourites",
    "write:conversations",
];

pub const CLIENT_NAME: &str = "Postwerk";
pub const WEBSITE: &str = "https://postwerk.app";

/// Turns what a user types ("mastodon.social", "@ada@mastodon.social",
/// "https://mastodon.social/@ada") into the instance's base URL. https only, except loopback.
pub fn normalize_instance(input: &str) -> Result<Url> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(NetworkError::invalid_input(
            "Enter your Mastodon server, for example mastodon.social",
        ));
    }
    // "@user@host" or "user@host": the part after the last '@'.
    let without_user = if !trimmed.contains("://") && trimmed.contains('@') {
        trimmed.rsplit('@').next().unwrap_or(trimmed)
    } else {
        trimmed
    };
    let with_scheme = if without_user.contains("://") {
        without_user.to_string()
    } else {
        format!("https://{without_user}")
    };
    let url = Url::parse(&with_scheme).map_err(|_| {
        NetworkError::invalid_input(format!("\"{trimmed}\" is not a server address"))
    })?;
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| NetworkError::invalid_input(format!("\"{trimmed}\" has no server name")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(NetworkError::invalid_input(
            "a server address has no user name or password",
        ));
    }
    if matches!(url.host(), Some(url::Host::Domain(d)) if !d.contains('.') && !d.eq_ignore_ascii_case("localhost"))
    {
        return Err(NetworkError::invalid_input(format!(
            "\"{host}\" is not a full server name (for example mastodon.social)"
        )));
    }
    check_url(&url)?;
    let mut base = url.clone();
    base.set_path("/");
    base.set_query(None);
    base.set_fragment(None);
    Ok(base)
}

/// Limits and facts from `/api/v2/instance` (or `/api/v1/instance` on servers before 4.0).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InstanceInfo {
    pub domain: String,
    pub title: String,
    pub version: String,
    pub max_characters: u32,
    pub characters_reserved_per_url: u32,
    pub max_media_attachments: u32,
    pub image_size_limit: u64,
    pub video_size_limit: u64,
    pub supported_mime_types: Vec<String>,
    pub description_limit: u32,
}

/// A registration from `POST /api/v1/apps`, cached per instance by the core.
#[derive(Debug, Clone)]
pub struct AppRegistration {
    pub client_id: String,
    pub client_secret: Secret,
    pub redirect_uris: Vec<String>,
    pub scopes: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Mastodon {
    http: HttpClient,
    base: Url,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: Option<String>,
    error_description: Option<String>,
}

/// The one place Mastodon's answers become [`NetworkError`]s.
pub fn map_error(answer: &Answer, op: Op) -> NetworkError {
    let body: Option<ErrorBody> = serde_json::from_slice(&answer.body).ok();
    let message = body
        .as_ref()
        .and_then(|b| b.error_description.clone().or_else(|| b.error.clone()))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(&answer.body);
            let text = text.trim();
            if text.is_empty() || text.starts_with('<') {
                format!("HTTP {}", answer.status.as_u16())
            } else {
                text.chars().take(300).collect()
            }
        });
    match answer.status.as_u16() {
        401 => NetworkError::AuthExpired {
            message,
            refreshable: false,
        },
        403 => NetworkError::Forbidden { message },
        404 | 410 => NetworkError::NotFound { message },
        422 if op == Op::Publish => NetworkError::InvalidPost { reason: message },
        422 => NetworkError::invalid_input(message),
        429 => {
            let (retry_after, limit) = wait_after_429(&answer.headers, chrono::Utc::now());
            NetworkError::RateLimited { retry_after, limit }
        }
        408 | 500..=599 => NetworkError::Transient {
            message: format!("{} is having trouble ({message})", "the Mastodon server"),
            retry_after: crate::ratelimit::retry_after(&answer.headers, chrono::Utc::now()),
        },
        _ => NetworkError::other(message),
    }
}

#[derive(Deserialize)]
struct V2Instance {
    domain: String,
    title: String,
    version: String,
    #[serde(default)]
    configuration: V2Configuration,
}

#[derive(Deserialize, Default)]
struct V2Configuration {
    #[serde(default)]
    statuses: StatusesConfig,
    #[serde(default)]
    media_attachments: MediaConfig,
}

#[derive(Deserialize)]
struct StatusesConfig {
    #[serde(default = "default_max_characters")]
    max_characters: u32,
    #[serde(default = "default_reserved_per_url")]
    characters_reserved_per_url: u32,
    #[serde(default = "default_max_media")]
    max_media_attachments: u32,
}

impl Default for StatusesConfig {
    fn default() -> Self {
        Self {
            max_characters: default_max_characters(),
            characters_reserved_per_url: default_reserved_per_url(),
            max_media_attachments: default_max_media(),
        }
    }
}

#[derive(Deserialize)]
struct MediaConfig {
    #[serde(default)]
    supported_mime_types: Vec<String>,
    #[serde(default = "default_image_limit")]
    image_size_limit: u64,
    #[serde(default = "default_video_limit")]
    video_size_limit: u64,
    #[serde(default = "default_description_limit")]
    description_limit: u32,
}

impl Default for MediaConfig {
    fn default() -> Self {
        Self {
            supported_mime_types: Vec::new(),
            image_size_limit: default_image_limit(),
            video_size_limit: default_video_limit(),
            description_limit: default_description_limit(),
        }
    }
}

fn default_max_characters() -> u32 {
    500
}
fn default_reserved_per_url() -> u32 {
    23
}
fn default_max_media() -> u32 {
    4
}
fn default_image_limit() -> u64 {
    16_777_216
}
fn default_video_limit() -> u64 {
    103_809_024
}
fn default_description_limit() -> u32 {
    1500
}

#[derive(Deserialize)]
struct V1Instance {
    uri: String,
    title: String,
    version: String,
    #[serde(default)]
    configuration: V2Configuration,
}

#[derive(Deserialize)]
struct AppAnswer {
    client_id: String,
    client_secret: String,
    #[serde(default)]
    redirect_uris: Vec<String>,
    #[serde(default)]
    redirect_uri: Option<String>,
    #[serde(default)]
    scopes: Vec<String>,
}

#[derive(Deserialize)]
struct AccountAnswer {
    id: String,
    username: String,
    acct: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    avatar: Option<String>,
    #[serde(default)]
    url: Option<String>,
}

impl Mastodon {
    /// A client for the instance at `base` (already normalised).
    pub fn new(http: HttpClient, base: Url) -> Self {
        Self { http, base }
    }

    pub fn base(&self) -> &Url {
        &self.base
    }

    fn url(&self, path: &str) -> Url {
        self.base.join(path).expect("static path")
    }

    async fn call(&self, request: reqwest::RequestBuilder, op: Op) -> Result<Answer> {
        self.http
            .send(request)
            .await?
            .map_err(|a| map_error(&a, op))
    }

    /// Reads the instance's limits (v2, falling back to v1 on servers before 4.0).
    pub async fn instance(&self) -> Result<InstanceInfo> {
        let http = self.http.reqwest();
        match self
            .call(http.get(self.url("api/v2/instance")), Op::Read)
            .await
        {
            Ok(answer) => {
                let v2: V2Instance = answer.json().map_err(|_| not_mastodon(&self.base))?;
                Ok(info(v2.domain, v2.title, v2.version, v2.configuration))
            }
            Err(NetworkError::NotFound { .. }) => {
                let answer = self
                    .call(http.get(self.url("api/v1/instance")), Op::Read)
                    .await
                    .map_err(|e| match e {
                        NetworkError::NotFound { .. } => not_mastodon(&self.base),
                        e => e,
                    })?;
                let v1: V1Instance = answer.json().map_err(|_| not_mastodon(&self.base))?;
                Ok(info(v1.uri, v1.title, v1.version, v1.configuration))
            }
            Err(e) => Err(e),
        }
    }

    /// Registers Postwerk on this instance (`POST /api/v1/apps`). Call once per instance and
    /// cache the result.
    pub async fn register_app(&self, redirect_uris: &[String]) -> Result<AppRegistration> {
        let body = serde_json::json!({
            "client_name": CLIENT_NAME,
            "redirect_uris": redirect_uris,
            "scopes": SCOPES.join(" "),
            "website": WEBSITE,
        });
        let answer = self
            .call(
                self.http
                    .reqwest()
                    .post(self.url("api/v1/apps"))
                    .json(&body),
                Op::Auth,
            )
            .await?;
        let app: AppAnswer = answer.json()?;
        let mut uris = app.redirect_uris;
        if uris.is_empty() {
            uris = app
                .redirect_uri
                .map(|s| s.split_whitespace().map(str::to_string).collect())
                .unwrap_or_default();
        }
        Ok(AppRegistration {
            client_id: app.client_id,
            client_secret: Secret::new(app.client_secret),
            redirect_uris: uris,
            scopes: if app.scopes.is_empty() {
                SCOPES.iter().map(|s| s.to_string()).collect()
            } else {
                app.scopes
            },
        })
    }

    /// The OAuth endpoints for a registered app (client credentials go in the form body).
    pub fn oauth(&self, app: &AppRegistration) -> OAuthConfig {
        OAuthConfig {
            authorize_url: self.url("oauth/authorize"),
            token_url: self.url("oauth/token"),
            revoke_url: Some(self.url("oauth/revoke")),
            client_id: app.client_id.clone(),
            client_secret: Some(app.client_secret.clone()),
            scopes: SCOPES.iter().map(|s| s.to_string()).collect(),
            credentials_in_body: true,
        }
    }

    /// Who the token belongs to (`GET /api/v1/accounts/verify_credentials`).
    pub async fn verify_credentials(&self, token: &Secret) -> Result<Profile> {
        let answer = self
            .call(
                self.http
                    .reqwest()
                    .get(self.url("api/v1/accounts/verify_credentials"))
                    .bearer_auth(token.expose()),
                Op::Read,
            )
            .await?;
        let account: AccountAnswer = answer.json()?;
        let host = self.base.host_str().unwrap_or_default();
        let port = self
            .base
            .port()
            .map(|p| format!(":{p}"))
            .unwrap_or_default();
        let handle = if account.acct.contains('@') {
            account.acct.clone()
        } else {
            format!("{}@{host}{port}", account.username)
        };
        Ok(Profile {
            network: NetworkKind::Mastodon,
            remote_id: account.id,
            handle: format!("@{handle}"),
            display_name: if account.display_name.trim().is_empty() {
                account.username
            } else {
                account.display_name
            },
            avatar_url: account.avatar.and_then(|a| Url::parse(&a).ok()),
            profile_url: account.url.and_then(|u| Url::parse(&u).ok()),
        })
    }

    /// Revokes the token (`POST /oauth/revoke` with the client credentials in the body, as
    /// Mastodon documents it; RFC 7009: an unknown token also answers 200).
    pub async fn revoke(&self, app: &AppRegistration, token: &Secret) -> Result<()> {
        let form = [
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.expose()),
            ("token", token.expose()),
        ];
        self.call(
            self.http
                .reqwest()
                .post(self.url("oauth/revoke"))
                .form(&form),
            Op::Auth,
        )
        .await?;
        Ok(())
    }
}

fn not_mastodon(base: &Url) -> NetworkError {
    NetworkError::invalid_input(format!(
        "{} does not answer like a Mastodon server",
        base.host_str().unwrap_or("the server")
    ))
}

fn info(domain: String, title: String, version: String, c: V2Configuration) -> InstanceInfo {
    InstanceInfo {
        domain,
        title,
        version,
        max_characters: c.statuses.max_characters,
        characters_reserved_per_url: c.statuses.characters_reserved_per_url,
        max_media_attachments: c.statuses.max_media_attachments,
        image_size_limit: c.media_attachments.image_size_limit,
        video_size_limit: c.media_attachments.video_size_limit,
        supported_mime_types: c.media_attachments.supported_mime_types,
        description_limit: c.media_attachments.description_limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_addresses_are_normalised() {
        for (input, want) in [
            ("mastodon.social", "https://mastodon.social/"),
            ("  Mastodon.Social/ ", "https://mastodon.social/"),
            ("https://mastodon.social/@ada", "https://mastodon.social/"),
            ("@ada@chaos.social", "https://chaos.social/"),
            ("ada@chaos.social", "https://chaos.social/"),
            (
                "https://mastodon.example:8443/about?x=1#top",
                "https://mastodon.example:8443/",
            ),
            ("http://127.0.0.1:3000", "http://127.0.0.1:3000/"),
        ] {
            assert_eq!(normalize_instance(input).unwrap().as_str(), want, "{input}");
        }
    }

    #[test]
    fn bad_instance_addresses_get_a_specific_error() {
        for (input, says) in [
            ("", "Enter your Mastodon server"),
            ("http://mastodon.social", "must use https"),
            ("ftp://mastodon.social", "unsupported address scheme"),
            ("mastodon", "not a full server name"),
            (
                "https://user:pw@mastodon.social",
                "no user name or password",
            ),
        ] {
            let err = normalize_instance(input).unwrap_err().to_string();
            assert!(err.contains(says), "{input}: {err}");
        }
    }
}

/// A status to post (`POST /api/v1/statuses`).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct NewStatus {
    pub status: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub media_ids: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spoiler_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// ISO 8601, at least 5 minutes ahead: the server holds the post.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_at: Option<String>,
}

/// What Mastodon answered for a created status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostedStatus {
    pub id: String,
    pub url: Option<String>,
    /// Set when the server holds it (`scheduled_at`): the ScheduledStatus id.
    pub scheduled_id: Option<String>,
}

#[derive(Deserialize)]
struct MediaAnswer {
    id: String,
    #[serde(default)]
    url: Option<String>,
}

#[derive(Deserialize)]
struct StatusAnswer {
    id: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    scheduled_at: Option<String>,
}

impl Mastodon {
    /// Uploads one media file (`POST /api/v2/media`) and waits while the server answers 202
    /// (polling `GET /api/v1/media/:id` until it stops answering 206). Returns the media id.
    pub async fn upload_media(
        &self,
        token: &Secret,
        bytes: Vec<u8>,
        mime: &str,
        file_name: &str,
        description: Option<&str>,
    ) -> Result<String> {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_string())
            .mime_str(mime)
            .map_err(|e| NetworkError::invalid_input(format!("bad media type {mime}: {e}")))?;
        let mut form = reqwest::multipart::Form::new().part("file", part);
        if let Some(d) = description.filter(|d| !d.is_empty()) {
            form = form.text("description", d.to_string());
        }
        let answer = self
            .call(
                self.http
                    .reqwest()
                    .post(self.url("api/v2/media"))
                    .bearer_auth(token.expose())
                    .multipart(form),
                Op::Publish,
            )
            .await?;
        let media: MediaAnswer = answer.json()?;
        if answer.status.as_u16() == 202 || media.url.is_none() {
            self.wait_for_media(token, &media.id).await?;
        }
        Ok(media.id)
    }

    async fn wait_for_media(&self, token: &Secret, id: &str) -> Result<()> {
        let mut delay = std::time::Duration::from_millis(250);
        for _ in 0..60 {
            let answer = self
                .call(
                    self.http
                        .reqwest()
                        .get(self.url(&format!("api/v1/media/{id}")))
                        .bearer_auth(token.expose()),
                    Op::Publish,
                )
                .await?;
            if answer.status.as_u16() != 206 {
                return Ok(());
            }
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(std::time::Duration::from_secs(5));
        }
        Err(NetworkError::transient(format!(
            "the Mastodon server is still processing media {id}"
        )))
    }

    /// Posts a status. The `Idempotency-Key` makes a retried request return the first
    /// status instead of posting twice (the server keeps keys for an hour).
    pub async fn post_status(
        &self,
        token: &Secret,
        status: &NewStatus,
        idempotency_key: &str,
    ) -> Result<PostedStatus> {
        let answer = self
            .call(
                self.http
                    .reqwest()
                    .post(self.url("api/v1/statuses"))
                    .bearer_auth(token.expose())
                    .header("Idempotency-Key", idempotency_key)
                    .json(status),
                Op::Publish,
            )
            .await?;
        let s: StatusAnswer = answer.json()?;
        Ok(
            if s.scheduled_at.is_some() && status.scheduled_at.is_some() {
                PostedStatus {
                    id: s.id.clone(),
                    url: None,
                    scheduled_id: Some(s.id),
                }
            } else {
                PostedStatus {
                    id: s.id,
                    url: s.url,
                    scheduled_id: None,
                }
            },
        )
    }
}

/// A status held by the server's scheduler (`ScheduledStatus`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ScheduledStatus {
    pub id: String,
    pub scheduled_at: String,
    #[serde(default)]
    pub params: ScheduledParams,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ScheduledParams {
    #[serde(default)]
    pub text: Option<String>,
}

/// A status as listed on an account (the fields settling needs).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusSummary {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
    pub created_at: String,
    #[serde(default)]
    pub in_reply_to_id: Option<String>,
    /// HTML.
    #[serde(default)]
    pub content: String,
}

impl StatusSummary {
    /// The letters and digits of the content with the HTML tags removed: enough to recognise a
    /// status we sent (links, mentions and tags are rendered as HTML by the server).
    pub fn plain_signature(&self) -> String {
        let mut out = String::new();
        let mut in_tag = false;
        for c in self.content.chars() {
            match c {
                '<' => in_tag = true,
                '>' => in_tag = false,
                c if !in_tag && c.is_alphanumeric() => out.extend(c.to_lowercase()),
                _ => {}
            }
        }
        out
    }
}

/// The letters and digits of a text, lowercased, with the domain of each mention dropped as
/// the server renders it (compare with [`StatusSummary::plain_signature`]).
pub fn text_signature(text: &str) -> String {
    text.split_whitespace()
        .map(
            |word| match word.strip_prefix('@').and_then(|w| w.split_once('@')) {
                Some((user, _domain)) => user,
                None => word,
            },
        )
        .flat_map(str::chars)
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Mastodon {
    /// `GET /api/v1/scheduled_statuses/:id`; `None` when the server no longer holds it
    /// (published, or deleted).
    pub async fn scheduled_status(
        &self,
        token: &Secret,
        id: &str,
    ) -> Result<Option<ScheduledStatus>> {
        let result = self
            .call(
                self.http
                    .reqwest()
                    .get(self.url(&format!("api/v1/scheduled_statuses/{id}")))
                    .bearer_auth(token.expose()),
                Op::Read,
            )
            .await;
        match result {
            Ok(answer) => Ok(Some(answer.json()?)),
            Err(NetworkError::NotFound { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every pending scheduled status (`GET /api/v1/scheduled_statuses`, following `max_id`
    /// pages of 40; the server holds at most 300).
    pub async fn scheduled_statuses(&self, token: &Secret) -> Result<Vec<ScheduledStatus>> {
        self.pages_by_max_id(
            "api/v1/scheduled_statuses",
            token,
            10,
            |s: &ScheduledStatus| s.id.clone(),
        )
        .await
    }

    /// Reads up to `pages` pages of 40 from `path`, newest first, following `max_id`.
    async fn pages_by_max_id<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: &Secret,
        pages: usize,
        id_of: impl Fn(&T) -> String,
    ) -> Result<Vec<T>> {
        let mut all: Vec<T> = Vec::new();
        let mut max_id: Option<String> = None;
        for _ in 0..pages.max(1) {
            let mut request = self
                .http
                .reqwest()
                .get(self.url(path))
                .query(&[("limit", "40")])
                .bearer_auth(token.expose());
            if let Some(max) = &max_id {
                request = request.query(&[("max_id", max.as_str())]);
            }
            let page: Vec<T> = self.call(request, Op::Read).await?.json()?;
            let done = page.len() < 40;
            max_id = page.last().map(&id_of);
            all.extend(page);
            if done || max_id.is_none() {
                break;
            }
        }
        Ok(all)
    }

    /// `PUT /api/v1/scheduled_statuses/:id` with a new `scheduled_at` (at least 5 min ahead).
    pub async fn reschedule_status(
        &self,
        token: &Secret,
        id: &str,
        scheduled_at: &str,
    ) -> Result<ScheduledStatus> {
        self.call(
            self.http
                .reqwest()
                .put(self.url(&format!("api/v1/scheduled_statuses/{id}")))
                .bearer_auth(token.expose())
                .form(&[("scheduled_at", scheduled_at)]),
            Op::Publish,
        )
        .await?
        .json()
    }

    /// `DELETE /api/v1/scheduled_statuses/:id`. Gone already counts as done.
    pub async fn cancel_scheduled(&self, token: &Secret, id: &str) -> Result<()> {
        match self
            .call(
                self.http
                    .reqwest()
                    .delete(self.url(&format!("api/v1/scheduled_statuses/{id}")))
                    .bearer_auth(token.expose()),
                Op::Publish,
            )
            .await
        {
            Ok(_) | Err(NetworkError::NotFound { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// The account's most recent statuses, newest first (`GET /api/v1/accounts/:id/statuses`,
    /// up to `pages` pages of 40).
    pub async fn recent_statuses(
        &self,
        token: &Secret,
        account_id: &str,
        pages: usize,
    ) -> Result<Vec<StatusSummary>> {
        self.pages_by_max_id(
            &format!("api/v1/accounts/{account_id}/statuses"),
            token,
            pages,
            |s: &StatusSummary| s.id.clone(),
        )
        .await
    }
}

#[cfg(test)]
mod signature_tests {
    use super::*;

    #[test]
    fn a_rendered_status_is_recognised_by_its_letters() {
        let status = StatusSummary {
            id: "1".into(),
            url: None,
            created_at: "2026-01-01T00:00:00.000Z".into(),
            in_reply_to_id: None,
            content: r#"<p>Fresh bread! <a href="https://x.example/b" class="mention hashtag">#<span>Bread</span></a> <a href="https://x.example/"><span class="invisible">https://</span><span class="">x.example/</span></a></p>"#.into(),
        };
        assert_eq!(
            status.plain_signature(),
            text_signature("Fresh bread! #bread https://x.example/")
        );
    }
}

/// A notification (`GET /api/v1/notifications`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Notification {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub created_at: String,
    pub account: NotificationAccount,
    #[serde(default)]
    pub status: Option<NotificationStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NotificationAccount {
    pub id: String,
    pub acct: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub avatar: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct NotificationStatus {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub uri: Option<String>,
    #[serde(default)]
    pub in_reply_to_id: Option<String>,
    #[serde(default)]
    pub in_reply_to_account_id: Option<String>,
    #[serde(default)]
    pub visibility: Option<String>,
    /// HTML, as the author's server wrote it: untrusted.
    #[serde(default)]
    pub content: String,
}

/// A direct-message conversation (`GET /api/v1/conversations`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Conversation {
    pub id: String,
    #[serde(default)]
    pub unread: bool,
    /// The other participants.
    #[serde(default)]
    pub accounts: Vec<NotificationAccount>,
    #[serde(default)]
    pub last_status: Option<ConversationStatus>,
}

/// A status of a conversation, with its author.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ConversationStatus {
    #[serde(flatten)]
    pub status: NotificationStatus,
    pub created_at: String,
    pub account: NotificationAccount,
}

/// One page and where the `Link` header says the neighbours are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// `max_id` of the next (older) page.
    pub older: Option<String>,
    /// `min_id` of the previous (newer) page.
    pub newer: Option<String>,
    pub rate_limit: Option<crate::ratelimit::RateLimit>,
}

pub type NotificationPage = Page<Notification>;

/// Which page of a list to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageRequest {
    pub max_id: Option<String>,
    pub min_id: Option<String>,
    pub limit: u32,
}

/// The `max_id` / `min_id` of a `Link` header's `next` and `prev` links.
pub fn parse_link_header(value: &str) -> (Option<String>, Option<String>) {
    let mut next = None;
    let mut prev = None;
    for part in value.split(',') {
        let Some((url, params)) = part.trim().split_once(';') else {
            continue;
        };
        let url = url.trim().trim_start_matches('<').trim_end_matches('>');
        let Ok(url) = Url::parse(url) else { continue };
        let rel_next = params.contains("rel=\"next\"");
        let rel_prev = params.contains("rel=\"prev\"");
        for (k, v) in url.query_pairs() {
            if rel_next && k == "max_id" {
                next = Some(v.to_string());
            }
            if rel_prev && (k == "min_id" || k == "since_id") {
                prev = Some(v.to_string());
            }
        }
    }
    (next, prev)
}

impl Mastodon {
    /// One page of notifications, newest first.
    pub async fn notifications(
        &self,
        token: &Secret,
        page: &PageRequest,
    ) -> Result<NotificationPage> {
        self.list_page("api/v1/notifications", token, page).await
    }

    /// One page of direct-message conversations, the most recently active first. Its
    /// `max_id` / `min_id` are internal: take them from the `Link` header only.
    pub async fn conversations(
        &self,
        token: &Secret,
        page: &PageRequest,
    ) -> Result<Page<Conversation>> {
        self.list_page("api/v1/conversations", token, page).await
    }

    /// `POST /api/v1/conversations/:id/read`.
    pub async fn mark_conversation_read(&self, token: &Secret, id: &str) -> Result<()> {
        self.call(
            self.http
                .reqwest()
                .post(self.url(&format!("api/v1/conversations/{id}/read")))
                .bearer_auth(token.expose()),
            Op::Read,
        )
        .await?;
        Ok(())
    }

    async fn list_page<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        token: &Secret,
        page: &PageRequest,
    ) -> Result<Page<T>> {
        let mut request = self
            .http
            .reqwest()
            .get(self.url(path))
            .query(&[("limit", page.limit.clamp(1, 80).to_string())])
            .bearer_auth(token.expose());
        if let Some(max) = &page.max_id {
            request = request.query(&[("max_id", max)]);
        }
        if let Some(min) = &page.min_id {
            request = request.query(&[("min_id", min)]);
        }
        let answer = self.call(request, Op::Read).await?;
        let items: Vec<T> = answer.json()?;
        let (older, newer) = answer
            .headers
            .get(reqwest::header::LINK)
            .and_then(|v| v.to_str().ok())
            .map(parse_link_header)
            .unwrap_or((None, None));
        Ok(Page {
            items,
            older,
            newer,
            rate_limit: answer.rate_limit,
        })
    }
}

#[cfg(test)]
mod link_tests {
    use super::*;

    #[test]
    fn link_header_gives_the_older_and_newer_pages() {
        let v = r#"<https://m.example/api/v1/notifications?limit=40&max_id=108>; rel="next", <https://m.example/api/v1/notifications?limit=40&min_id=150>; rel="prev""#;
        assert_eq!(
            parse_link_header(v),
            (Some("108".into()), Some("150".into()))
        );
        assert_eq!(parse_link_header("garbage"), (None, None));
    }
}

/// A status in a conversation (`GET /api/v1/statuses/:id/context`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ThreadStatus {
    pub id: String,
    #[serde(default)]
    pub url: Option<String>,
    pub created_at: String,
    #[serde(default)]
    pub in_reply_to_id: Option<String>,
    /// HTML: untrusted.
    #[serde(default)]
    pub content: String,
    pub account: NotificationAccount,
    #[serde(default)]
    pub visibility: Option<String>,
    /// Whether the signed-in account favourited / boosted it.
    #[serde(default)]
    pub favourited: Option<bool>,
    #[serde(default)]
    pub reblogged: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Context {
    pub ancestors: Vec<ThreadStatus>,
    pub descendants: Vec<ThreadStatus>,
}

impl Mastodon {
    /// The status and the conversation around it.
    pub async fn context(&self, token: &Secret, id: &str) -> Result<Context> {
        self.call(
            self.http
                .reqwest()
                .get(self.url(&format!("api/v1/statuses/{id}/context")))
                .bearer_auth(token.expose()),
            Op::Read,
        )
        .await?
        .json()
    }

    /// `GET /api/v1/statuses/:id`.
    pub async fn status(&self, token: &Secret, id: &str) -> Result<ThreadStatus> {
        self.call(
            self.http
                .reqwest()
                .get(self.url(&format!("api/v1/statuses/{id}")))
                .bearer_auth(token.expose()),
            Op::Read,
        )
        .await?
        .json()
    }

    /// Favourites (`favourite`) or boosts (`reblog`) a status, or undoes that
    /// (`unfavourite`, `unreblog`); doing it twice changes nothing.
    pub async fn react(&self, token: &Secret, id: &str, action: &str) -> Result<()> {
        self.call(
            self.http
                .reqwest()
                .post(self.url(&format!("api/v1/statuses/{id}/{action}")))
                .bearer_auth(token.expose()),
            Op::Publish,
        )
        .await?;
        Ok(())
    }
}

/// The user's notifications as they happen (`GET /api/v1/streaming/user/notification`,
/// server-sent events).
pub struct NotificationStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
    event: String,
    data: String,
}

/// No byte (not even a heartbeat) for this long means the stream is dead.
pub const STREAM_IDLE: std::time::Duration = std::time::Duration::from_secs(90);

impl NotificationStream {
    /// The next notification; `None` when the server closed the stream.
    pub async fn next(&mut self) -> Result<Option<Notification>> {
        loop {
            while let Some(end) = self.buffer.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buffer.drain(..=end).collect();
                let line = String::from_utf8_lossy(&line[..line.len() - 1])
                    .trim_end_matches('\r')
                    .to_string();
                if line.is_empty() {
                    let event = std::mem::take(&mut self.event);
                    let data = std::mem::take(&mut self.data);
                    if event == "notification" && !data.is_empty() {
                        return serde_json::from_str(&data).map(Some).map_err(|e| {
                            NetworkError::other(format!(
                                "a streamed notification could not be read: {e}"
                            ))
                        });
                    }
                } else if line.starts_with(':') {
                    // heartbeat
                } else if let Some(v) = line.strip_prefix("event:") {
                    self.event = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    if !self.data.is_empty() {
                        self.data.push('\n');
                    }
                    self.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
            match tokio::time::timeout(STREAM_IDLE, self.response.chunk()).await {
                Err(_) => {
                    return Err(NetworkError::transient(
                        "the Mastodon stream went quiet (no heartbeat)",
                    ));
                }
                Ok(Ok(Some(bytes))) => self.buffer.extend_from_slice(&bytes),
                Ok(Ok(None)) => return Ok(None),
                Ok(Err(e)) => return Err(crate::http::transport_error(e)),
            }
        }
    }
}

impl Mastodon {
    /// Opens the notification stream.
    pub async fn stream_notifications(&self, token: &Secret) -> Result<NotificationStream> {
        let response = self
            .http
            .reqwest()
            .get(self.url("api/v1/streaming/user/notification"))
            .bearer_auth(token.expose())
            .header(reqwest::header::ACCEPT, "text/event-stream")
            // A stream lasts as long as the app runs; silence is caught by STREAM_IDLE.
            .timeout(std::time::Duration::from_secs(7 * 24 * 3600))
            .send()
            .await
            .map_err(crate::http::transport_error)?;
        if !response.status().is_success() {
            let status = response.status();
            let headers = response.headers().clone();
            let body = response
                .bytes()
                .await
                .map(|b| b.to_vec())
                .unwrap_or_default();
            let answer = Answer {
                status,
                rate_limit: crate::ratelimit::RateLimit::from_headers(&headers, chrono::Utc::now()),
                headers,
                body,
            };
            return Err(map_error(&answer, Op::Read));
        }
        Ok(NotificationStream {
            response,
            buffer: Vec::new(),
            event: String::new(),
            data: String::new(),
        })
    }
}
