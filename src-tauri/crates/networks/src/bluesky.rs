//! Bluesky (AT Protocol) with an app password: find the account's PDS (handle -> DID -> DID
//! document -> `#atproto_pds`, with the entryway as fallback), `createSession`, rotating
//! `refreshSession`, `deleteSession`, profile. See NETWORKS.md section 2.

use base64::Engine;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use url::Url;

use crate::http::{Answer, HttpClient, check_url};
use crate::ratelimit::wait_after_429;
use crate::{Capabilities, NetworkError, NetworkKind, Op, Profile, Result, Secret};

pub const CAPABILITIES: Capabilities = Capabilities {
    publish_text: true,
    publish_images: true,
    publish_video: true,
    threads: true,
    native_scheduling: false,
    inbox: true,
    direct_messages: true,
    search: true,
    metrics: true,
    reminder_only: false,
};

pub const DEFAULT_ENTRYWAY: &str = "https://bsky.social/";
pub const DEFAULT_PLC_DIRECTORY: &str = "https://plc.directory/";

/// Where identities are resolved. Tests point these at a local fake.
#[derive(Debug, Clone)]
pub struct Directory {
    /// Resolves handles (`com.atproto.identity.resolveHandle`) and is the login fallback.
    pub entryway: Url,
    pub plc_directory: Url,
}

impl Default for Directory {
    fn default() -> Self {
        Self {
            entryway: Url::parse(DEFAULT_ENTRYWAY).expect("static URL"),
            plc_directory: Url::parse(DEFAULT_PLC_DIRECTORY).expect("static URL"),
        }
    }
}

/// A logged-in session. The tokens go to the keychain and nowhere else.
#[derive(Debug, Clone)]
pub struct Session {
    pub did: String,
    pub handle: String,
    pub pds: Url,
    pub access: Secret,
    pub refresh: Secret,
    pub access_expires_at: Option<DateTime<Utc>>,
    pub refresh_expires_at: Option<DateTime<Utc>>,
}

/// What the user typed as identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identifier {
    Handle(String),
    Did(String),
    Email(String),
}

impl Identifier {
    pub fn parse(input: &str) -> Result<Self> {
        let s = input.trim().trim_start_matches('@').trim();
        if s.is_empty() {
            return Err(NetworkError::invalid_input(
                "Enter your Bluesky handle (for example ada.bsky.social), email or DID",
            ));
        }
        if s.starts_with("did:") {
            if s.starts_with("did:plc:") || s.starts_with("did:web:") {
                return Ok(Self::Did(s.to_string()));
            }
            return Err(NetworkError::invalid_input(format!(
                "\"{s}\" is not a DID Bluesky knows (did:plc or did:web)"
            )));
        }
        if s.contains('@') {
            return Ok(Self::Email(s.to_string()));
        }
        let handle = s.to_ascii_lowercase();
        let valid = handle.contains('.')
            && handle.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !valid {
            return Err(NetworkError::invalid_input(format!(
                "\"{s}\" is not a handle: it looks like name.bsky.social or your own domain"
            )));
        }
        Ok(Self::Handle(handle))
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Handle(s) | Self::Did(s) | Self::Email(s) => s,
        }
    }
}

#[derive(Deserialize)]
struct XrpcError {
    error: Option<String>,
    message: Option<String>,
}

/// The one place Bluesky's answers become [`NetworkError`]s.
pub fn map_error(answer: &Answer, op: Op) -> NetworkError {
    let body: Option<XrpcError> = serde_json::from_slice(&answer.body).ok();
    let name = body
        .as_ref()
        .and_then(|b| b.error.clone())
        .unwrap_or_default();
    let message = body
        .as_ref()
        .and_then(|b| b.message.clone())
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| {
            if name.is_empty() {
                format!("HTTP {}", answer.status.as_u16())
            } else {
                name.clone()
            }
        });
    let status = answer.status.as_u16();
    match (status, name.as_str()) {
        (429, _) | (_, "RateLimitExceeded") => {
            let (retry_after, limit) = wait_after_429(&answer.headers, Utc::now());
            NetworkError::RateLimited { retry_after, limit }
        }
        // An expired access token: a refresh fixes it. On refreshSession itself the refresh
        // token is dead and only a new login helps.
        (_, "ExpiredToken") => NetworkError::AuthExpired {
            message,
            refreshable: op != Op::Refresh,
        },
        (
            _,
            "InvalidToken"
            | "AuthMissing"
            | "AuthenticationRequired"
            | "AccountTakedown"
            | "AccountDeactivated",
        )
        | (401, _) => NetworkError::AuthExpired {
            message,
            refreshable: false,
        },
        (403, _) => NetworkError::Forbidden { message },
        (404, _) | (_, "RecordNotFound" | "NotFound") => NetworkError::NotFound { message },
        (400, "InvalidRequest" | "InvalidRecord" | "BlobTooLarge" | "InvalidMimeType")
            if op == Op::Publish =>
        {
            NetworkError::InvalidPost { reason: message }
        }
        (408 | 500..=599, _) => NetworkError::Transient {
            message: format!("the Bluesky server is having trouble ({message})"),
            retry_after: crate::ratelimit::retry_after(&answer.headers, Utc::now()),
        },
        (_, "AuthFactorTokenRequired") => NetworkError::other(
            "this account asks for an email code at sign-in; use an app password instead (Settings > Privacy and security > App passwords)",
        ),
        _ => NetworkError::other(message),
    }
}

/// The `exp` claim of a JWT, without checking its signature (only the server can).
pub fn jwt_expiry(token: &Secret) -> Option<DateTime<Utc>> {
    let payload = token.expose().split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    DateTime::from_timestamp(claims.get("exp")?.as_i64()?, 0)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionAnswer {
    access_jwt: String,
    refresh_jwt: String,
    handle: String,
    did: String,
    #[serde(default)]
    did_doc: Option<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileAnswer {
    did: String,
    handle: String,
    #[serde(default)]
    display_name: Option<String>,
    #[serde(default)]
    avatar: Option<String>,
}

/// The `#atproto_pds` endpoint in a DID document.
pub fn pds_from_did_doc(doc: &serde_json::Value) -> Option<Url> {
    doc.get("service")?
        .as_array()?
        .iter()
        .find(|s| {
            let id = s.get("id").and_then(|v| v.as_str()).unwrap_or_default();
            id == "#atproto_pds" || id.ends_with("#atproto_pds")
        })
        .and_then(|s| s.get("serviceEndpoint")?.as_str())
        .and_then(|e| Url::parse(e).ok())
        .filter(|u| check_url(u).is_ok())
}

#[derive(Debug, Clone)]
pub struct Bluesky {
    http: HttpClient,
    directory: Directory,
}

fn xrpc(base: &Url, method: &str) -> Url {
    base.join(&format!("xrpc/{method}")).expect("static path")
}

fn session(answer: SessionAnswer, pds: &Url) -> Session {
    let access = Secret::new(answer.access_jwt);
    let refresh = Secret::new(answer.refresh_jwt);
    Session {
        pds: answer
            .did_doc
            .as_ref()
            .and_then(pds_from_did_doc)
            .unwrap_or_else(|| pds.clone()),
        access_expires_at: jwt_expiry(&access),
        refresh_expires_at: jwt_expiry(&refresh),
        did: answer.did,
        handle: answer.handle,
        access,
        refresh,
    }
}

impl Bluesky {
    pub fn new(http: HttpClient, directory: Directory) -> Self {
        Self { http, directory }
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    async fn call(&self, request: reqwest::RequestBuilder, op: Op) -> Result<Answer> {
        self.http
            .send(request)
            .await?
            .map_err(|a| map_error(&a, op))
    }

    /// handle -> DID through the entryway's `com.atproto.identity.resolveHandle`.
    pub async fn resolve_handle(&self, handle: &str) -> Result<String> {
        #[derive(Deserialize)]
        struct Did {
            did: String,
        }
        let answer = self
            .call(
                self.http
                    .reqwest()
                    .get(xrpc(
                        &self.directory.entryway,
                        "com.atproto.identity.resolveHandle",
                    ))
                    .query(&[("handle", handle)]),
                Op::Read,
            )
            .await?;
        Ok(answer.json::<Did>()?.did)
    }

    /// DID -> DID document -> PDS endpoint (did:plc through the PLC directory, did:web
    /// through the domain's `/.well-known/did.json`).
    pub async fn pds_for_did(&self, did: &str) -> Result<Url> {
        let url = if let Some(host) = did.strip_prefix("did:web:") {
            Url::parse(&format!(
                "https://{}/.well-known/did.json",
                host.replace("%3A", ":")
            ))
            .map_err(|_| NetworkError::invalid_input(format!("bad did:web {did}")))?
        } else {
            // Not `join`: "did:plc:..." would parse as a URL scheme.
            let base = self.directory.plc_directory.as_str().trim_end_matches('/');
            Url::parse(&format!("{base}/{did}"))
                .map_err(|_| NetworkError::invalid_input(format!("bad DID {did}")))?
        };
        check_url(&url)?;
        let answer = self.call(self.http.reqwest().get(url), Op::Read).await?;
        let doc: serde_json::Value = answer.json()?;
        pds_from_did_doc(&doc).ok_or_else(|| NetworkError::NotFound {
            message: format!("the DID document of {did} names no PDS"),
        })
    }

    /// Where to log in: the PDS from the identity, or the entryway when the identifier is an
    /// email or resolution fails.
    pub async fn resolve_pds(&self, identifier: &Identifier) -> Url {
        let found = match identifier {
            Identifier::Email(_) => return self.directory.entryway.clone(),
            Identifier::Did(did) => self.pds_for_did(did).await,
            Identifier::Handle(handle) => match self.resolve_handle(handle).await {
                Ok(did) => self.pds_for_did(&did).await,
                Err(e) => Err(e),
            },
        };
        match found {
            Ok(pds) => pds,
            Err(e) => {
                tracing::info!(error = %e, "identity resolution failed; using the entryway");
                self.directory.entryway.clone()
            }
        }
    }

    pub async fn create_session(
        &self,
        pds: &Url,
        identifier: &Identifier,
        password: &Secret,
    ) -> Result<Session> {
        #[derive(serde::Serialize)]
        struct Body<'a> {
            identifier: &'a str,
            password: &'a str,
        }
        check_url(pds)?;
        let answer = self
            .call(
                self.http
                    .reqwest()
                    .post(xrpc(pds, "com.atproto.server.createSession"))
                    .json(&Body {
                        identifier: identifier.as_str(),
                        password: password.expose(),
                    }),
                Op::Auth,
            )
            .await?;
        Ok(session(answer.json()?, pds))
    }

    /// Trades the refresh token for a new pair; the old refresh token is revoked by the server.
    pub async fn refresh_session(&self, pds: &Url, refresh: &Secret) -> Result<Session> {
        let answer = self
            .call(
                self.http
                    .reqwest()
                    .post(xrpc(pds, "com.atproto.server.refreshSession"))
                    .bearer_auth(refresh.expose()),
                Op::Refresh,
            )
            .await?;
        Ok(session(answer.json()?, pds))
    }

    /// Ends the session on the server (the refresh token stops working).
    pub async fn delete_session(&self, pds: &Url, refresh: &Secret) -> Result<()> {
        self.call(
            self.http
                .reqwest()
                .post(xrpc(pds, "com.atproto.server.deleteSession"))
                .bearer_auth(refresh.expose()),
            Op::Refresh,
        )
        .await?;
        Ok(())
    }

    /// Checks the access token (`getSession`).
    pub async fn get_session(&self, pds: &Url, access: &Secret) -> Result<()> {
        self.call(
            self.http
                .reqwest()
                .get(xrpc(pds, "com.atproto.server.getSession"))
                .bearer_auth(access.expose()),
            Op::Read,
        )
        .await?;
        Ok(())
    }

    pub async fn get_profile(&self, pds: &Url, access: &Secret, actor: &str) -> Result<Profile> {
        let answer = self
            .call(
                self.http
                    .reqwest()
                    .get(xrpc(pds, "app.bsky.actor.getProfile"))
                    .query(&[("actor", actor)])
                    .bearer_auth(access.expose()),
                Op::Read,
            )
            .await?;
        let p: ProfileAnswer = answer.json()?;
        Ok(Profile {
            network: NetworkKind::Bluesky,
            profile_url: Url::parse(&format!("https://bsky.app/profile/{}", p.handle)).ok(),
            handle: format!("@{}", p.handle),
            display_name: p
                .display_name
                .filter(|d| !d.trim().is_empty())
                .unwrap_or_else(|| p.handle.clone()),
            avatar_url: p.avatar.and_then(|a| Url::parse(&a).ok()),
            remote_id: p.did,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_told_apart() {
        assert_eq!(
            Identifier::parse(" @Ada.BSKY.social ").unwrap(),
            Identifier::Handle("ada.bsky.social".into())
        );
        assert_eq!(
            Identifier::parse("ada@example.com").unwrap(),
            Identifier::Email("ada@example.com".into())
        );
        assert_eq!(
            Identifier::parse("did:plc:abc").unwrap(),
            Identifier::Did("did:plc:abc".into())
        );
        for bad in ["", "ada", "did:key:z6Mk", "ada..social", "-ada.social"] {
            assert!(Identifier::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn jwt_expiry_is_read_from_the_payload() {
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"sub":"did:plc:x","exp":1800000000}"#);
        let token = Secret::new(format!("eyJhbGciOiJIUzI1NiJ9.{payload}.sig"));
        assert_eq!(jwt_expiry(&token).unwrap().timestamp(), 1_800_000_000);
        assert_eq!(jwt_expiry(&Secret::new("not-a-jwt")), None);
    }

    #[test]
    fn the_pds_comes_from_the_did_document() {
        let doc = serde_json::json!({
            "id": "did:plc:x",
            "service": [
                {"id": "#bsky_chat", "type": "X", "serviceEndpoint": "https://chat.example"},
                {"id": "#atproto_pds", "type": "AtprotoPersonalDataServer", "serviceEndpoint": "https://pds.example.com"}
            ]
        });
        assert_eq!(
            pds_from_did_doc(&doc).unwrap().as_str(),
            "https://pds.example.com/"
        );
        let insecure = serde_json::json!({"service": [{"id": "#atproto_pds", "serviceEndpoint": "http://pds.example.com"}]});
        assert_eq!(pds_from_did_doc(&insecure), None);
    }
}

/// A strong reference to a record (for replies and quotes).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct StrongRef {
    pub uri: String,
    pub cid: String,
}

#[derive(Deserialize)]
struct BlobAnswer {
    blob: serde_json::Value,
}

#[derive(Deserialize)]
struct GetRecordAnswer {
    uri: String,
    cid: Option<String>,
}

/// The rkey part of an `at://did/collection/rkey` URI.
pub fn rkey_of(uri: &str) -> Option<&str> {
    uri.rsplit('/').next().filter(|s| !s.is_empty())
}

/// The public web address of a post.
pub fn post_web_url(handle: &str, uri: &str) -> Option<String> {
    let handle = handle.trim_start_matches('@');
    Some(format!(
        "https://bsky.app/profile/{handle}/post/{}",
        rkey_of(uri)?
    ))
}

impl Bluesky {
    /// Uploads a blob (`com.atproto.repo.uploadBlob`); returns the blob object to embed.
    pub async fn upload_blob(
        &self,
        pds: &Url,
        access: &Secret,
        bytes: Vec<u8>,
        mime: &str,
    ) -> Result<serde_json::Value> {
        let answer = self
            .call(
                self.http
                    .reqwest()
                    .post(xrpc(pds, "com.atproto.repo.uploadBlob"))
                    .bearer_auth(access.expose())
                    .header(reqwest::header::CONTENT_TYPE, mime)
                    .body(bytes),
                Op::Publish,
            )
            .await?;
        Ok(answer.json::<BlobAnswer>()?.blob)
    }

    /// Creates a post record with a record key chosen by the caller, so that a retry cannot
    /// create a second post: when the key already exists the existing record is returned.
    pub async fn create_post(
        &self,
        pds: &Url,
        access: &Secret,
        did: &str,
        rkey: &str,
        record: &serde_json::Value,
    ) -> Result<StrongRef> {
        let body = serde_json::json!({
            "repo": did,
            "collection": "app.bsky.feed.post",
            "rkey": rkey,
            "record": record,
        });
        let sent = self
            .http
            .send(
                self.http
                    .reqwest()
                    .post(xrpc(pds, "com.atproto.repo.createRecord"))
                    .bearer_auth(access.expose())
                    .json(&body),
            )
            .await?;
        match sent {
            Ok(answer) => answer.json::<StrongRef>(),
            Err(answer) => {
                let err = map_error(&answer, Op::Publish);
                // A retry of a create that went through: the record is there already. The
                // reference PDS answers a duplicate record key with a 500, so look on any
                // server error or "already exists" answer.
                let maybe_duplicate = answer.status.is_server_error()
                    || matches!(&err, NetworkError::InvalidPost { reason } if reason.to_ascii_lowercase().contains("already exists"));
                if maybe_duplicate
                    && let Some(existing) = self.get_post(pds, access, did, rkey).await?
                {
                    return Ok(existing);
                }
                Err(err)
            }
        }
    }

    /// The post with this record key, if it exists.
    pub async fn get_post(
        &self,
        pds: &Url,
        access: &Secret,
        did: &str,
        rkey: &str,
    ) -> Result<Option<StrongRef>> {
        self.get_record(pds, access, did, "app.bsky.feed.post", rkey)
            .await
    }

    /// The record of a collection (a post, a like, a repost) with this key, if it exists.
    pub async fn get_record(
        &self,
        pds: &Url,
        access: &Secret,
        did: &str,
        collection: &str,
        rkey: &str,
    ) -> Result<Option<StrongRef>> {
        let result = self
            .call(
                self.http
                    .reqwest()
                    .get(xrpc(pds, "com.atproto.repo.getRecord"))
                    .query(&[("repo", did), ("collection", collection), ("rkey", rkey)])
                    .bearer_auth(access.expose()),
                Op::Read,
            )
            .await;
        match result {
            Ok(answer) => {
                let r: GetRecordAnswer = answer.json()?;
                Ok(r.cid.map(|cid| StrongRef { uri: r.uri, cid }))
            }
            Err(NetworkError::NotFound { .. }) => Ok(None),
            Err(NetworkError::Other { message }) if message.contains("Could not locate record") => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

/// A notification (`app.bsky.notification.listNotifications`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BskyNotification {
    pub uri: String,
    pub cid: String,
    pub author: NotificationAuthor,
    /// like, repost, follow, mention, reply, quote, …
    pub reason: String,
    #[serde(default)]
    pub reason_subject: Option<String>,
    #[serde(default)]
    pub record: serde_json::Value,
    pub indexed_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NotificationAuthor {
    pub did: String,
    pub handle: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub avatar: Option<String>,
}

impl BskyNotification {
    /// The post's text (mentions, replies, quotes).
    pub fn text(&self) -> String {
        self.record
            .get("text")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// The thread's root for a reply.
    pub fn root_uri(&self) -> Option<String> {
        self.record
            .pointer("/reply/root/uri")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    }
}

#[derive(Deserialize)]
struct NotificationsAnswer {
    notifications: Vec<BskyNotification>,
    #[serde(default)]
    cursor: Option<String>,
}

impl Bluesky {
    /// One page of notifications, newest first, and the cursor of the next older page.
    pub async fn list_notifications(
        &self,
        pds: &Url,
        access: &Secret,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<(Vec<BskyNotification>, Option<String>)> {
        let mut request = self
            .http
            .reqwest()
            .get(xrpc(pds, "app.bsky.notification.listNotifications"))
            .query(&[("limit", limit.clamp(1, 100).to_string())])
            .bearer_auth(access.expose());
        if let Some(c) = cursor {
            request = request.query(&[("cursor", c)]);
        }
        let answer = self.call(request, Op::Read).await?;
        let page: NotificationsAnswer = answer.json()?;
        Ok((page.notifications, page.cursor))
    }
}

impl Bluesky {
    /// `app.bsky.feed.getPostThread`: the post, its parents and replies (as the AppView's
    /// JSON, `thread`).
    pub async fn get_post_thread(
        &self,
        pds: &Url,
        access: &Secret,
        uri: &str,
    ) -> Result<serde_json::Value> {
        let answer = self
            .call(
                self.http
                    .reqwest()
                    .get(xrpc(pds, "app.bsky.feed.getPostThread"))
                    .query(&[("uri", uri), ("depth", "6"), ("parentHeight", "80")])
                    .bearer_auth(access.expose()),
                Op::Read,
            )
            .await?;
        let body: serde_json::Value = answer.json()?;
        Ok(body.get("thread").cloned().unwrap_or_default())
    }

    /// Creates a record in any collection (a like, a repost) under a record key chosen by
    /// the caller, so a retry cannot make a second one.
    pub async fn create_record(
        &self,
        pds: &Url,
        access: &Secret,
        did: &str,
        collection: &str,
        rkey: &str,
        record: &serde_json::Value,
    ) -> Result<StrongRef> {
        let body = serde_json::json!({
            "repo": did,
            "collection": collection,
            "rkey": rkey,
            "record": record,
        });
        self.call(
            self.http
                .reqwest()
                .post(xrpc(pds, "com.atproto.repo.createRecord"))
                .bearer_auth(access.expose())
                .json(&body),
            Op::Publish,
        )
        .await?
        .json()
    }

    /// `com.atproto.repo.deleteRecord` (undoing a like or repost); deleting a record that is
    /// already gone succeeds.
    pub async fn delete_record(
        &self,
        pds: &Url,
        access: &Secret,
        did: &str,
        collection: &str,
        rkey: &str,
    ) -> Result<()> {
        self.call(
            self.http
                .reqwest()
                .post(xrpc(pds, "com.atproto.repo.deleteRecord"))
                .bearer_auth(access.expose())
                .json(&serde_json::json!({ "repo": did, "collection": collection, "rkey": rkey })),
            Op::Publish,
        )
        .await?;
        Ok(())
    }
}

/// Chat methods go through the PDS, which passes them to the chat service named here.
pub const CHAT_PROXY: &str = "did:web:api.bsky.chat#bsky_chat";

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConvoMember {
    pub did: String,
    pub handle: String,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub avatar: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Convo {
    pub id: String,
    #[serde(default)]
    pub rev: String,
    pub members: Vec<ConvoMember>,
    /// Messages the signed-in account has not read (0: read everywhere).
    #[serde(default)]
    pub unread_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatSender {
    pub did: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub id: String,
    #[serde(default)]
    pub rev: String,
    #[serde(default)]
    pub text: String,
    pub sender: ChatSender,
    pub sent_at: String,
}

#[derive(Deserialize)]
struct ConvosAnswer {
    convos: Vec<Convo>,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Deserialize)]
struct MessagesAnswer {
    messages: Vec<serde_json::Value>,
    #[serde(default)]
    cursor: Option<String>,
}

impl Bluesky {
    /// `chat.bsky.convo.listConvos`: conversations, most recent first.
    pub async fn list_convos(
        &self,
        pds: &Url,
        access: &Secret,
        cursor: Option<&str>,
    ) -> Result<(Vec<Convo>, Option<String>)> {
        let mut request = self
            .http
            .reqwest()
            .get(xrpc(pds, "chat.bsky.convo.listConvos"))
            .header("atproto-proxy", CHAT_PROXY)
            .query(&[("limit", "100")])
            .bearer_auth(access.expose());
        if let Some(c) = cursor {
            request = request.query(&[("cursor", c)]);
        }
        let page: ConvosAnswer = self.call(request, Op::Read).await?.json()?;
        Ok((page.convos, page.cursor))
    }

    /// `chat.bsky.convo.getMessages`: messages, newest first (deleted ones are skipped).
    pub async fn get_messages(
        &self,
        pds: &Url,
        access: &Secret,
        convo_id: &str,
        cursor: Option<&str>,
    ) -> Result<(Vec<ChatMessage>, Option<String>)> {
        let mut request = self
            .http
            .reqwest()
            .get(xrpc(pds, "chat.bsky.convo.getMessages"))
            .header("atproto-proxy", CHAT_PROXY)
            .query(&[("convoId", convo_id), ("limit", "100")])
            .bearer_auth(access.expose());
        if let Some(c) = cursor {
            request = request.query(&[("cursor", c)]);
        }
        let page: MessagesAnswer = self.call(request, Op::Read).await?.json()?;
        let messages = page
            .messages
            .into_iter()
            .filter_map(|m| serde_json::from_value(m).ok())
            .collect();
        Ok((messages, page.cursor))
    }

    /// `chat.bsky.convo.updateRead`: the conversation is read up to its newest message.
    pub async fn update_read(&self, pds: &Url, access: &Secret, convo_id: &str) -> Result<()> {
        self.call(
            self.http
                .reqwest()
                .post(xrpc(pds, "chat.bsky.convo.updateRead"))
                .header("atproto-proxy", CHAT_PROXY)
                .bearer_auth(access.expose())
                .json(&serde_json::json!({ "convoId": convo_id })),
            Op::Read,
        )
        .await?;
        Ok(())
    }

    /// `chat.bsky.convo.sendMessage`.
    pub async fn send_message(
        &self,
        pds: &Url,
        access: &Secret,
        convo_id: &str,
        text: &str,
    ) -> Result<ChatMessage> {
        self.call(
            self.http
                .reqwest()
                .post(xrpc(pds, "chat.bsky.convo.sendMessage"))
                .header("atproto-proxy", CHAT_PROXY)
                .bearer_auth(access.expose())
                .json(&serde_json::json!({ "convoId": convo_id, "message": { "text": text } })),
            Op::Publish,
        )
        .await?
        .json()
    }
}
