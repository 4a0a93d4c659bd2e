//! Connected accounts: connect (Mastodon through the browser, Bluesky with an app password),
//! health, reconnect, remove with revoke. Tokens live only in the keychain under
//! `account/<id>/<kind>`; the `accounts` table holds who the account is and how it is doing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, Utc};
use postwerk_networks::bluesky::{self, Bluesky, Identifier};
use postwerk_networks::mastodon::{self, AppRegistration, InstanceInfo, Mastodon};
use postwerk_networks::oauth::{Authorization, Loopback};
use postwerk_networks::{Capabilities, HttpClient, NetworkError, NetworkKind, Profile, Secret};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::secrets::{SecretKey, Secrets};
use crate::store::{Store, now_utc};
use crate::{Error, Result};

/// Secret kinds under `account/<id>/`.
pub const ACCESS_TOKEN: &str = "access_token";
pub const REFRESH_TOKEN: &str = "refresh_token";

/// Refresh a Bluesky access token this long before it expires.
const REFRESH_MARGIN: chrono::Duration = chrono::Duration::minutes(5);
/// An account whose credentials end within this time is "expiring".
const EXPIRING_WITHIN: chrono::Duration = chrono::Duration::days(7);

/// How an account is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Ok,
    /// Works now, but the sign-in ends soon unless it is renewed.
    Expiring,
    /// The sign-in no longer works; posts wait until the user reconnects.
    NeedsReconnect,
}

impl Health {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Expiring => "expiring",
            Self::NeedsReconnect => "needs_reconnect",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "expiring" => Self::Expiring,
            "needs_reconnect" => Self::NeedsReconnect,
            _ => Self::Ok,
        }
    }
}

/// A connected account as the UI and the CLI see it. Never carries a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub id: String,
    pub workspace_id: String,
    pub network: NetworkKind,
    /// Mastodon instance or Bluesky PDS.
    pub server: String,
    pub remote_id: String,
    pub handle: String,
    pub display_name: String,
    pub profile_url: Option<String>,
    /// The avatar as a `data:` URL (downloaded once, kept locally; no remote loads).
    pub avatar: Option<String>,
    pub health: Health,
    /// Why the account needs attention.
    pub health_detail: Option<String>,
    /// When the sign-in ends unless renewed (RFC 3339, UTC).
    pub token_expires_at: Option<String>,
    pub connected_at: String,
    pub capabilities: Capabilities,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ConnectBluesky {
    pub workspace_id: String,
    /// Handle, email or DID.
    pub identifier: String,
    /// An app password (never the account password).
    pub password: Secret,
    /// Hosting provider URL; `None` finds it from the identity.
    pub service: Option<String>,
    /// Reconnect this existing account instead of adding one.
    pub reconnect_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct StartMastodon {
    pub workspace_id: String,
    /// What the user typed: "mastodon.social", "@ada@chaos.social", a URL.
    pub instance: String,
    pub reconnect_id: Option<String>,
}

/// A browser sign-in in progress.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PendingSignIn {
    pub flow_id: String,
    /// The page to open in the browser (shown too, in case no browser opens).
    pub authorize_url: String,
    /// The normalised instance.
    pub instance: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Removal {
    /// The network confirmed that the token no longer works.
    pub revoked: bool,
    /// Why revoking did not work (the account is removed from Postwerk anyway).
    pub detail: Option<String>,
}

/// Where the networks are; tests point these at local fakes.
#[derive(Debug, Clone)]
pub struct NetConfig {
    pub bluesky: bluesky::Directory,
    /// Loopback ports registered as Mastodon redirect URIs; the first free one is used.
    pub oauth_ports: Vec<u16>,
    pub oauth_timeout: Duration,
    /// The longest a request to a network may take (tests shorten it).
    pub http_timeout: Duration,
}

pub const DEFAULT_OAUTH_PORTS: [u16; 5] = [47831, 47832, 47833, 47834, 47835];

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            bluesky: bluesky::Directory::default(),
            oauth_ports: DEFAULT_OAUTH_PORTS.to_vec(),
            oauth_timeout: postwerk_networks::oauth::DEFAULT_TIMEOUT,
            http_timeout: Duration::from_secs(60),
        }
    }
}

impl NetConfig {
    /// The defaults, overridden by `POSTWERK_BLUESKY_ENTRYWAY`, `POSTWERK_PLC_DIRECTORY` and
    /// `POSTWERK_OAUTH_PORTS` (comma-separated) where set.
    pub fn from_env() -> Self {
        let mut config = Self::default();
        let url = |name: &str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.is_empty())
                .and_then(|v| Url::parse(&v).ok())
        };
        if let Some(u) = url("POSTWERK_BLUESKY_ENTRYWAY") {
            config.bluesky.entryway = u;
        }
        if let Some(u) = url("POSTWERK_PLC_DIRECTORY") {
            config.bluesky.plc_directory = u;
        }
        if let Ok(ports) = std::env::var("POSTWERK_OAUTH_PORTS") {
            let parsed: Vec<u16> = ports
                .split(',')
                .filter_map(|p| p.trim().parse().ok())
                .collect();
            if !parsed.is_empty() {
                config.oauth_ports = parsed;
            }
        }
        config
    }

    fn redirect_uris(&self) -> Vec<String> {
        self.oauth_ports
            .iter()
            .map(|p| {
                format!(
                    "http://127.0.0.1:{p}{}",
                    postwerk_networks::oauth::CALLBACK_PATH
                )
            })
            .collect()
    }
}

struct Flow {
    workspace_id: String,
    reconnect_id: Option<String>,
    client: Mastodon,
    app: AppRegistration,
    info: InstanceInfo,
    authorization: Authorization,
    loopback: Loopback,
    started: std::time::Instant,
}

#[derive(Clone)]
pub struct Accounts {
    store: Store,
    secrets: Secrets,
    http: HttpClient,
    net: NetConfig,
    bluesky: Bluesky,
    locks: Arc<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>>,
    /// Bumped at every token refresh of an account, so a caller that waited for the lock can
    /// tell that someone else already refreshed (tokens issued in the same second can be
    /// byte-identical, so comparing them is not enough).
    generations: Arc<Mutex<HashMap<String, u64>>>,
    flows: Arc<Mutex<HashMap<String, Flow>>>,
    cancels: Arc<Mutex<HashMap<String, CancellationToken>>>,
}

impl std::fmt::Debug for Accounts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Accounts")
            .field("net", &self.net)
            .finish_non_exhaustive()
    }
}

/// A row of `accounts`.
#[derive(Debug, Clone)]
struct Row_ {
    id: String,
    workspace_id: String,
    network: NetworkKind,
    server: String,
    remote_id: String,
    handle: String,
    display_name: String,
    profile_url: Option<String>,
    avatar: Option<Vec<u8>>,
    avatar_mime: Option<String>,
    health: Health,
    health_detail: Option<String>,
    token_expires_at: Option<String>,
    connected_at: String,
}

const SELECT: &str = "SELECT id, workspace_id, network, server_url, remote_id, handle, display_name, \
     profile_url, avatar, avatar_mime, health, health_detail, token_expires_at, connected_at FROM accounts";

fn network_str(kind: NetworkKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn network_parse(s: &str) -> Result<NetworkKind> {
    serde_json::from_value(serde_json::Value::String(s.to_string()))
        .map_err(|_| Error::Conflict(format!("unknown network \"{s}\" in the database")))
}

fn from_row(row: &sqlx::sqlite::SqliteRow) -> Result<Row_> {
    Ok(Row_ {
        id: row.try_get("id")?,
        workspace_id: row.try_get("workspace_id")?,
        network: network_parse(&row.try_get::<String, _>("network")?)?,
        server: row.try_get("server_url")?,
        remote_id: row.try_get("remote_id")?,
        handle: row.try_get("handle")?,
        display_name: row.try_get("display_name")?,
        profile_url: row.try_get("profile_url")?,
        avatar: row.try_get("avatar")?,
        avatar_mime: row.try_get("avatar_mime")?,
        health: Health::parse(&row.try_get::<String, _>("health")?),
        health_detail: row.try_get("health_detail")?,
        token_expires_at: row.try_get("token_expires_at")?,
        connected_at: row.try_get("connected_at")?,
    })
}

fn health_for(expires_at: Option<&str>, stored: Health) -> Health {
    if stored == Health::NeedsReconnect {
        return stored;
    }
    let expiring = expires_at
        .and_then(|e| DateTime::parse_from_rfc3339(e).ok())
        .is_some_and(|e| e.with_timezone(&Utc) - Utc::now() < EXPIRING_WITHIN);
    if expiring {
        Health::Expiring
    } else {
        Health::Ok
    }
}

impl Row_ {
    fn into_account(self) -> Account {
        let avatar = match (self.avatar, self.avatar_mime) {
            (Some(bytes), Some(mime)) => Some(format!(
                "data:{mime};base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            )),
            _ => None,
        };
        Account {
            health: health_for(self.token_expires_at.as_deref(), self.health),
            id: self.id,
            workspace_id: self.workspace_id,
            network: self.network,
            server: self.server,
            remote_id: self.remote_id,
            handle: self.handle,
            display_name: self.display_name,
            profile_url: self.profile_url,
            avatar,
            health_detail: self.health_detail,
            token_expires_at: self.token_expires_at,
            connected_at: self.connected_at,
            capabilities: self.network.capabilities(),
        }
    }
}

/// What a successful sign-in produced, before it is stored.
struct Connected {
    workspace_id: String,
    reconnect_id: Option<String>,
    profile: Profile,
    server: Url,
    secrets: Vec<(&'static str, Secret)>,
    token_expires_at: Option<DateTime<Utc>>,
    server_info: Option<serde_json::Value>,
}

fn app_secret_key(instance: &Url) -> SecretKey {
    SecretKey::raw(format!(
        "mastodon-app/{}/client_secret",
        instance.as_str().trim_end_matches('/')
    ))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

impl Accounts {
    pub fn new(store: Store, secrets: Secrets, http: HttpClient, net: NetConfig) -> Self {
        Self {
            bluesky: Bluesky::new(http.clone(), net.bluesky.clone()),
            store,
            secrets,
            http,
            net,
            locks: Arc::default(),
            generations: Arc::default(),
            flows: Arc::default(),
            cancels: Arc::default(),
        }
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// The server facts read at connect time (Mastodon: the instance's limits).
    pub async fn server_info(&self, id: &str) -> Result<Option<InstanceInfo>> {
        let info: Option<Option<String>> =
            sqlx::query_scalar("SELECT server_info FROM accounts WHERE id = ?")
                .bind(id)
                .fetch_optional(self.store.pool())
                .await?;
        Ok(info.flatten().and_then(|s| serde_json::from_str(&s).ok()))
    }

    pub fn bluesky_client(&self) -> &Bluesky {
        &self.bluesky
    }

    pub async fn list(&self, workspace_id: &str) -> Result<Vec<Account>> {
        let rows = sqlx::query(&format!(
            "{SELECT} WHERE workspace_id = ? ORDER BY connected_at, id"
        ))
        .bind(workspace_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| from_row(r).map(Row_::into_account))
            .collect()
    }

    /// Every account of every workspace.
    pub async fn list_all(&self) -> Result<Vec<Account>> {
        let rows = sqlx::query(&format!("{SELECT} ORDER BY workspace_id, connected_at, id"))
            .fetch_all(self.store.pool())
            .await?;
        rows.iter()
            .map(|r| from_row(r).map(Row_::into_account))
            .collect()
    }

    async fn row(&self, id: &str) -> Result<Row_> {
        let row = sqlx::query(&format!("{SELECT} WHERE id = ?"))
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?
            .ok_or_else(|| Error::not_found(format!("account {id}")))?;
        from_row(&row)
    }

    pub async fn get(&self, id: &str) -> Result<Account> {
        Ok(self.row(id).await?.into_account())
    }

    async fn ensure_workspace(&self, workspace_id: &str) -> Result<()> {
        let exists: bool = sqlx::query_scalar("SELECT count(*) > 0 FROM workspaces WHERE id = ?")
            .bind(workspace_id)
            .fetch_one(self.store.pool())
            .await?;
        if exists {
            Ok(())
        } else {
            Err(Error::not_found(format!("workspace {workspace_id}")))
        }
    }

    async fn check_reconnect(
        &self,
        reconnect_id: Option<&str>,
        network: NetworkKind,
    ) -> Result<()> {
        if let Some(id) = reconnect_id {
            let row = self.row(id).await?;
            if row.network != network {
                return Err(Error::invalid(
                    "reconnectId",
                    format!("account {id} is a {} account", row.network.display_name()),
                ));
            }
        }
        Ok(())
    }

    fn lock_for(&self, account_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        self.locks
            .lock()
            .expect("account locks")
            .entry(account_id.to_string())
            .or_default()
            .clone()
    }

    fn generation(&self, account_id: &str) -> u64 {
        self.generations
            .lock()
            .expect("generations")
            .get(account_id)
            .copied()
            .unwrap_or(0)
    }

    fn bump_generation(&self, account_id: &str) {
        *self
            .generations
            .lock()
            .expect("generations")
            .entry(account_id.to_string())
            .or_default() += 1;
    }

    // ----- Bluesky ---------------------------------------------------------------------------

    /// Signs in with an app password and stores the account (or refreshes an existing one).
    pub async fn connect_bluesky(&self, input: ConnectBluesky) -> Result<Account> {
        self.ensure_workspace(&input.workspace_id).await?;
        self.check_reconnect(input.reconnect_id.as_deref(), NetworkKind::Bluesky)
            .await?;
        let identifier = Identifier::parse(&input.identifier)
            .map_err(|e| Error::invalid("identifier", e.to_string()))?;
        if input.password.expose().trim().is_empty() {
            return Err(Error::invalid("password", "enter an app password"));
        }
        let pds = match input
            .service
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(service) => {
                let with_scheme = if service.contains("://") {
                    service.to_string()
                } else {
                    format!("https://{service}")
                };
                let url = Url::parse(&with_scheme).map_err(|_| {
                    Error::invalid("service", format!("\"{service}\" is not a server address"))
                })?;
                postwerk_networks::http::check_url(&url)
                    .map_err(|e| Error::invalid("service", e.to_string()))?;
                url
            }
            None => self.bluesky.resolve_pds(&identifier).await,
        };
        let session = self
            .bluesky
            .create_session(&pds, &identifier, &input.password)
            .await
            .map_err(|e| match e {
                NetworkError::AuthExpired { message, .. } => Error::AuthFailed(format!(
                    "Bluesky did not accept this identifier and app password ({message})"
                )),
                e => Error::Network(e),
            })?;
        let profile = match self
            .bluesky
            .get_profile(&session.pds, &session.access, &session.did)
            .await
        {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "no Bluesky profile; using the session's handle");
                Profile {
                    network: NetworkKind::Bluesky,
                    remote_id: session.did.clone(),
                    handle: format!("@{}", session.handle),
                    display_name: session.handle.clone(),
                    avatar_url: None,
                    profile_url: None,
                }
            }
        };
        if profile.remote_id != session.did {
            return Err(Error::AuthFailed(format!(
                "the profile answered for {} instead of {}",
                profile.remote_id, session.did
            )));
        }
        self.save(Connected {
            workspace_id: input.workspace_id,
            reconnect_id: input.reconnect_id,
            profile,
            server: session.pds.clone(),
            token_expires_at: session.refresh_expires_at,
            secrets: vec![
                (REFRESH_TOKEN, session.refresh),
                (ACCESS_TOKEN, session.access),
            ],
            server_info: None,
        })
        .await
    }

    async fn tokens(&self, account_id: &str) -> Result<(Option<Secret>, Option<Secret>)> {
        let access = self
            .secrets
            .get(SecretKey::account(account_id, ACCESS_TOKEN))
            .await?;
        let refresh = self
            .secrets
            .get(SecretKey::account(account_id, REFRESH_TOKEN))
            .await?;
        Ok((access, refresh))
    }

    pub(crate) async fn mark_needs_reconnect(&self, account_id: &str, detail: &str) -> Result<()> {
        tracing::warn!(account = %account_id, %detail, "account needs reconnecting");
        sqlx::query(
            "UPDATE accounts SET health = 'needs_reconnect', health_detail = ?, updated_at = ? WHERE id = ?",
        )
        .bind(detail)
        .bind(now_utc())
        .bind(account_id)
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// Refreshes a Bluesky session. The caller holds the account's lock. The new refresh
    /// token is stored before the new access token is used (the old one is dead now).
    async fn refresh_bluesky_locked(&self, row: &Row_, refresh: &Secret) -> Result<Secret> {
        let pds = Url::parse(&row.server)
            .map_err(|_| Error::Conflict(format!("bad PDS URL {}", row.server)))?;
        match self.bluesky.refresh_session(&pds, refresh).await {
            Ok(session) => {
                self.secrets
                    .set(
                        SecretKey::account(&row.id, REFRESH_TOKEN),
                        session.refresh.clone(),
                    )
                    .await?;
                self.secrets
                    .set(
                        SecretKey::account(&row.id, ACCESS_TOKEN),
                        session.access.clone(),
                    )
                    .await?;
                sqlx::query(
                    "UPDATE accounts SET server_url = ?, token_expires_at = ?, health = 'ok', health_detail = NULL, updated_at = ? WHERE id = ?",
                )
                .bind(session.pds.as_str())
                .bind(session.refresh_expires_at.map(rfc3339))
                .bind(now_utc())
                .bind(&row.id)
                .execute(self.store.pool())
                .await?;
                self.bump_generation(&row.id);
                tracing::info!(account = %row.id, "Bluesky session refreshed");
                Ok(session.access)
            }
            Err(NetworkError::AuthExpired { message, .. }) => {
                let detail = format!(
                    "Bluesky ended the sign-in ({message}); reconnect with an app password"
                );
                self.mark_needs_reconnect(&row.id, &detail).await?;
                Err(Error::NeedsReconnect {
                    account: row.id.clone(),
                    message: detail,
                })
            }
            Err(e) => Err(Error::Network(e)),
        }
    }

    /// A usable Bluesky access token: refreshed first when it expires within minutes. One
    /// refresh at a time per account.
    pub async fn bluesky_access(&self, account_id: &str) -> Result<(Url, Secret)> {
        self.bluesky_access_gen(account_id)
            .await
            .map(|(pds, access, _)| (pds, access))
    }

    async fn bluesky_access_gen(&self, account_id: &str) -> Result<(Url, Secret, u64)> {
        let lock = self.lock_for(account_id);
        let _guard = lock.lock().await;
        let row = self.row(account_id).await?;
        let pds = Url::parse(&row.server)
            .map_err(|_| Error::Conflict(format!("bad PDS URL {}", row.server)))?;
        let (access, refresh) = self.tokens(account_id).await?;
        let Some(refresh) = refresh else {
            let detail = "the sign-in is missing from the keychain; reconnect the account";
            self.mark_needs_reconnect(account_id, detail).await?;
            return Err(Error::NeedsReconnect {
                account: account_id.into(),
                message: detail.into(),
            });
        };
        let fresh = access
            .filter(|a| bluesky::jwt_expiry(a).is_none_or(|exp| exp - Utc::now() > REFRESH_MARGIN));
        let access = match fresh {
            Some(a) => a,
            None => self.refresh_bluesky_locked(&row, &refresh).await?,
        };
        // The row may have moved to another PDS during the refresh.
        let pds = self
            .row(account_id)
            .await
            .ok()
            .and_then(|r| Url::parse(&r.server).ok())
            .unwrap_or(pds);
        Ok((pds, access, self.generation(account_id)))
    }

    /// Runs `op` with a Bluesky access token; when the PDS answers `ExpiredToken`, refreshes
    /// (once, under the account's lock, unless another caller already did) and runs it again.
    pub async fn with_bluesky<T, F, Fut>(&self, account_id: &str, op: F) -> Result<T>
    where
        F: Fn(Bluesky, Url, Secret) -> Fut,
        Fut: std::future::Future<Output = postwerk_networks::Result<T>>,
    {
        let (pds, access, used_generation) = self.bluesky_access_gen(account_id).await?;
        match op(self.bluesky.clone(), pds.clone(), access).await {
            Err(NetworkError::AuthExpired {
                refreshable: true, ..
            }) => {
                let access = {
                    let lock = self.lock_for(account_id);
                    let _guard = lock.lock().await;
                    let (current, refresh) = self.tokens(account_id).await?;
                    match (current, refresh) {
                        // Someone refreshed while we were waiting: use theirs.
                        (Some(current), _) if self.generation(account_id) != used_generation => {
                            current
                        }
                        (_, Some(refresh)) => {
                            let row = self.row(account_id).await?;
                            self.refresh_bluesky_locked(&row, &refresh).await?
                        }
                        (_, None) => {
                            return Err(Error::NeedsReconnect {
                                account: account_id.into(),
                                message: "the sign-in is missing from the keychain".into(),
                            });
                        }
                    }
                };
                let pds = self
                    .row(account_id)
                    .await
                    .ok()
                    .and_then(|r| Url::parse(&r.server).ok())
                    .unwrap_or(pds);
                op(self.bluesky.clone(), pds, access)
                    .await
                    .map_err(|e| self.auth_to_reconnect(account_id, e))
            }
            other => other.map_err(|e| self.auth_to_reconnect(account_id, e)),
        }
    }

    fn auth_to_reconnect(&self, account_id: &str, e: NetworkError) -> Error {
        match e {
            NetworkError::AuthExpired { message, .. } => Error::NeedsReconnect {
                account: account_id.into(),
                message,
            },
            e => Error::Network(e),
        }
    }

    // ----- Mastodon --------------------------------------------------------------------------

    /// The cached registration for an instance, or a new one.
    async fn mastodon_app(&self, client: &Mastodon) -> Result<AppRegistration> {
        let instance = client.base().as_str().to_string();
        let wanted = self.net.redirect_uris();
        let cached = sqlx::query(
            "SELECT client_id, redirect_uris, scopes FROM mastodon_apps WHERE instance_url = ?",
        )
        .bind(&instance)
        .fetch_optional(self.store.pool())
        .await?;
        if let Some(row) = cached {
            let uris: Vec<String> =
                serde_json::from_str(&row.try_get::<String, _>("redirect_uris")?)
                    .unwrap_or_default();
            let scopes: String = row.try_get("scopes")?;
            let secret = self.secrets.get(app_secret_key(client.base())).await?;
            let same_scopes = scopes == mastodon::SCOPES.join(" ");
            if let Some(secret) = secret
                && uris == wanted
                && same_scopes
            {
                return Ok(AppRegistration {
                    client_id: row.try_get("client_id")?,
                    client_secret: secret,
                    redirect_uris: uris,
                    scopes: scopes.split(' ').map(str::to_string).collect(),
                });
            }
        }
        let app = client.register_app(&wanted).await?;
        self.secrets
            .set(app_secret_key(client.base()), app.client_secret.clone())
            .await?;
        sqlx::query(
            "INSERT INTO mastodon_apps (instance_url, client_id, redirect_uris, scopes, registered_at) VALUES (?, ?, ?, ?, ?) \
             ON CONFLICT (instance_url) DO UPDATE SET client_id = excluded.client_id, redirect_uris = excluded.redirect_uris, \
             scopes = excluded.scopes, registered_at = excluded.registered_at",
        )
        .bind(&instance)
        .bind(&app.client_id)
        .bind(serde_json::to_string(&wanted).unwrap_or_default())
        .bind(mastodon::SCOPES.join(" "))
        .bind(now_utc())
        .execute(self.store.pool())
        .await?;
        tracing::info!(%instance, "registered Postwerk on the Mastodon instance");
        Ok(app)
    }

    /// Starts a browser sign-in: reads the instance, registers once, listens on the loopback
    /// and returns the page to open. Finish with [`Self::finish_mastodon`].
    pub async fn start_mastodon(&self, input: StartMastodon) -> Result<PendingSignIn> {
        self.ensure_workspace(&input.workspace_id).await?;
        self.check_reconnect(input.reconnect_id.as_deref(), NetworkKind::Mastodon)
            .await?;
        let base = mastodon::normalize_instance(&input.instance)
            .map_err(|e| Error::invalid("instance", e.to_string()))?;
        let client = Mastodon::new(self.http.clone(), base.clone());
        let info = client.instance().await.map_err(|e| match e {
            NetworkError::InvalidInput { message } => Error::invalid("instance", message),
            e => Error::Network(e),
        })?;
        let app = self.mastodon_app(&client).await?;
        // Sign-ins that were started but never finished (the window closed mid-way) give
        // their loopback port back once they are past the timeout.
        let timeout = self.net.oauth_timeout;
        self.flows
            .lock()
            .expect("flows")
            .retain(|_, f| f.started.elapsed() < timeout);
        let loopback = Loopback::bind(&self.net.oauth_ports).await?;
        let redirect_uri = loopback.redirect_uri();
        if !app.redirect_uris.contains(&redirect_uri) {
            return Err(Error::Conflict(format!(
                "the registration on {} does not allow {redirect_uri}",
                base.host_str().unwrap_or_default()
            )));
        }
        let authorization = client.oauth(&app).authorize(&redirect_uri)?;
        let flow_id = uuid::Uuid::new_v4().to_string();
        let pending = PendingSignIn {
            flow_id: flow_id.clone(),
            authorize_url: authorization.url.to_string(),
            instance: base.to_string(),
        };
        self.cancels
            .lock()
            .expect("flows")
            .insert(flow_id.clone(), CancellationToken::new());
        self.flows.lock().expect("flows").insert(
            flow_id,
            Flow {
                workspace_id: input.workspace_id,
                reconnect_id: input.reconnect_id,
                client,
                app,
                info,
                authorization,
                loopback,
                started: std::time::Instant::now(),
            },
        );
        Ok(pending)
    }

    /// Waits for the browser's redirect, trades the code for a token, checks who it belongs
    /// to and stores the account.
    pub async fn finish_mastodon(&self, flow_id: &str) -> Result<Account> {
        let flow = self
            .flows
            .lock()
            .expect("flows")
            .remove(flow_id)
            .ok_or_else(|| Error::not_found(format!("sign-in {flow_id}")))?;
        let cancel = self
            .cancels
            .lock()
            .expect("flows")
            .get(flow_id)
            .cloned()
            .unwrap_or_default();
        let result = self.finish_flow(flow, cancel).await;
        self.cancels.lock().expect("flows").remove(flow_id);
        result
    }

    async fn finish_flow(&self, flow: Flow, cancel: CancellationToken) -> Result<Account> {
        let state = flow.authorization.state().to_string();
        let code = flow
            .loopback
            .wait_for_code(&state, self.net.oauth_timeout, cancel)
            .await
            .map_err(|e| match e {
                NetworkError::Denied { message } => Error::Cancelled(message),
                e => Error::Network(e),
            })?;
        let oauth = flow.client.oauth(&flow.app);
        let tokens = oauth
            .exchange(&self.http, flow.authorization, &code)
            .await
            .map_err(|e| match e {
                NetworkError::AuthExpired { message, .. } | NetworkError::Forbidden { message } => {
                    Error::AuthFailed(format!("the server did not accept the sign-in ({message})"))
                }
                e => Error::Network(e),
            })?;
        let profile = flow.client.verify_credentials(&tokens.access_token).await?;
        self.save(Connected {
            workspace_id: flow.workspace_id,
            reconnect_id: flow.reconnect_id,
            profile,
            server: flow.client.base().clone(),
            secrets: vec![(ACCESS_TOKEN, tokens.access_token)],
            token_expires_at: tokens
                .expires_in
                .and_then(|d| chrono::Duration::from_std(d).ok())
                .map(|d| Utc::now() + d),
            server_info: serde_json::to_value(&flow.info).ok(),
        })
        .await
    }

    /// Stops a sign-in that is waiting for the browser.
    pub fn cancel_flow(&self, flow_id: &str) {
        if let Some(token) = self.cancels.lock().expect("flows").get(flow_id) {
            token.cancel();
        }
        // Not yet waited on: drop it (closes the listener).
        self.flows.lock().expect("flows").remove(flow_id);
    }

    // ----- common ------------------------------------------------------------------------------

    async fn fetch_avatar(&self, url: Option<&Url>) -> Option<(Vec<u8>, &'static str)> {
        let url = url?;
        match self.http.fetch_image(url).await {
            Ok(image) => Some(image),
            Err(e) => {
                tracing::info!(error = %e, "avatar not loaded");
                None
            }
        }
    }

    /// Stores a signed-in account: secrets first (no row without its tokens), then the row.
    /// A reconnect keeps the row (and so the account's posts and history); signing in to the
    /// same remote account again updates it instead of adding a second one.
    async fn save(&self, c: Connected) -> Result<Account> {
        let network_name = network_str(c.profile.network);
        let existing: Option<String> = match &c.reconnect_id {
            Some(id) => {
                let row = self.row(id).await?;
                if row.remote_id != c.profile.remote_id {
                    return Err(Error::Conflict(format!(
                        "you signed in as {}, but this account is {}; sign in as {} to reconnect it",
                        c.profile.handle, row.handle, row.handle
                    )));
                }
                Some(row.id)
            }
            None => sqlx::query_scalar(
                "SELECT id FROM accounts WHERE workspace_id = ? AND network = ? AND remote_id = ? \
                 AND (network = 'bluesky' OR server_url = ?)",
            )
            .bind(&c.workspace_id)
            .bind(&network_name)
            .bind(&c.profile.remote_id)
            .bind(c.server.as_str())
            .fetch_optional(self.store.pool())
            .await?,
        };
        let id = existing
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let lock = self.lock_for(&id);
        let _guard = lock.lock().await;
        for (kind, secret) in c.secrets {
            self.secrets
                .set(SecretKey::account(&id, kind), secret)
                .await?;
        }
        let avatar = self.fetch_avatar(c.profile.avatar_url.as_ref()).await;
        let (avatar_bytes, avatar_mime) = match avatar {
            Some((bytes, mime)) => (Some(bytes), Some(mime.to_string())),
            None => (None, None),
        };
        let now = now_utc();
        let expires = c.token_expires_at.map(rfc3339);
        let info = c.server_info.map(|v| v.to_string());
        let profile_url = c.profile.profile_url.as_ref().map(Url::to_string);
        if existing.is_some() {
            sqlx::query(
                "UPDATE accounts SET server_url = ?, handle = ?, display_name = ?, profile_url = ?, \
                 avatar = COALESCE(?, avatar), avatar_mime = COALESCE(?, avatar_mime), health = 'ok', health_detail = NULL, \
                 token_expires_at = ?, server_info = COALESCE(?, server_info), updated_at = ? WHERE id = ?",
            )
            .bind(c.server.as_str())
            .bind(&c.profile.handle)
            .bind(&c.profile.display_name)
            .bind(&profile_url)
            .bind(avatar_bytes)
            .bind(avatar_mime)
            .bind(&expires)
            .bind(info)
            .bind(&now)
            .bind(&id)
            .execute(self.store.pool())
            .await?;
            tracing::info!(account = %id, network = %network_name, "account reconnected");
        } else {
            sqlx::query(
                "INSERT INTO accounts (id, workspace_id, network, server_url, remote_id, handle, display_name, profile_url, \
                 avatar, avatar_mime, health, token_expires_at, server_info, connected_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?, ?, ?)",
            )
            .bind(&id)
            .bind(&c.workspace_id)
            .bind(&network_name)
            .bind(c.server.as_str())
            .bind(&c.profile.remote_id)
            .bind(&c.profile.handle)
            .bind(&c.profile.display_name)
            .bind(&profile_url)
            .bind(avatar_bytes)
            .bind(avatar_mime)
            .bind(&expires)
            .bind(info)
            .bind(&now)
            .bind(&now)
            .execute(self.store.pool())
            .await?;
            tracing::info!(account = %id, network = %network_name, "account connected");
        }
        self.get(&id).await
    }

    /// Asks the network whether the account's sign-in still works and records the answer.
    /// Network trouble leaves the health as it was.
    pub async fn check(&self, account_id: &str) -> Result<Account> {
        let row = self.row(account_id).await?;
        let outcome: Result<()> = match row.network {
            NetworkKind::Bluesky => {
                // Renew a refresh token that is about to run out.
                let renew = row
                    .token_expires_at
                    .as_deref()
                    .and_then(|e| DateTime::parse_from_rfc3339(e).ok())
                    .is_some_and(|e| e.with_timezone(&Utc) - Utc::now() < EXPIRING_WITHIN);
                if renew {
                    let lock = self.lock_for(account_id);
                    let _guard = lock.lock().await;
                    if let (_, Some(refresh)) = self.tokens(account_id).await? {
                        self.refresh_bluesky_locked(&row, &refresh).await?;
                    }
                }
                self.with_bluesky(account_id, |bsky, pds, access| async move {
                    bsky.get_session(&pds, &access).await
                })
                .await
            }
            NetworkKind::Mastodon => {
                let base = Url::parse(&row.server)
                    .map_err(|_| Error::Conflict(format!("bad server URL {}", row.server)))?;
                match self
                    .secrets
                    .get(SecretKey::account(account_id, ACCESS_TOKEN))
                    .await?
                {
                    Some(token) => Mastodon::new(self.http.clone(), base)
                        .verify_credentials(&token)
                        .await
                        .map(|_| ())
                        .map_err(|e| self.auth_to_reconnect(account_id, e)),
                    None => Err(Error::NeedsReconnect {
                        account: account_id.into(),
                        message: "the sign-in is missing from the keychain".into(),
                    }),
                }
            }
            other => Err(Error::invalid(
                "network",
                format!("{} cannot be checked yet", other.display_name()),
            )),
        };
        match outcome {
            Ok(()) => {
                sqlx::query("UPDATE accounts SET health = 'ok', health_detail = NULL, updated_at = ? WHERE id = ?")
                    .bind(now_utc())
                    .bind(account_id)
                    .execute(self.store.pool())
                    .await?;
            }
            Err(Error::NeedsReconnect { message, .. }) => {
                self.mark_needs_reconnect(account_id, &message).await?;
            }
            Err(e) => {
                tracing::info!(account = %account_id, error = %e, "account check inconclusive");
            }
        }
        self.get(account_id).await
    }

    /// Checks every account of a workspace, concurrently.
    pub async fn check_workspace(&self, workspace_id: &str) -> Result<Vec<Account>> {
        let accounts = self.list(workspace_id).await?;
        let mut tasks = tokio::task::JoinSet::new();
        for account in accounts {
            let this = self.clone();
            tasks.spawn(async move { this.check(&account.id).await });
        }
        while let Some(done) = tasks.join_next().await {
            if let Ok(Err(e)) = done {
                tracing::info!(error = %e, "account check failed");
            }
        }
        self.list(workspace_id).await
    }

    /// Revokes the account's token on the network (best effort), deletes its secrets and its
    /// row.
    pub async fn remove(&self, account_id: &str) -> Result<Removal> {
        let row = self.row(account_id).await?;
        let lock = self.lock_for(account_id);
        let _guard = lock.lock().await;
        let (access, refresh) = self.tokens(account_id).await?;
        let revoke: std::result::Result<(), String> = match row.network {
            NetworkKind::Mastodon => match (access, Url::parse(&row.server)) {
                (Some(token), Ok(base)) => {
                    let client = Mastodon::new(self.http.clone(), base);
                    match self.cached_app(&client).await {
                        Some(app) => client.revoke(&app, &token).await.map_err(|e| e.to_string()),
                        None => Err("Postwerk's registration on this server is gone".into()),
                    }
                }
                _ => Err("no token to revoke".into()),
            },
            NetworkKind::Bluesky => match (refresh, Url::parse(&row.server)) {
                (Some(refresh), Ok(pds)) => self
                    .bluesky
                    .delete_session(&pds, &refresh)
                    .await
                    .map_err(|e| e.to_string()),
                _ => Err("no session to end".into()),
            },
            _ => Ok(()),
        };
        for kind in [ACCESS_TOKEN, REFRESH_TOKEN] {
            self.secrets
                .delete(SecretKey::account(account_id, kind))
                .await?;
        }
        sqlx::query("DELETE FROM accounts WHERE id = ?")
            .bind(account_id)
            .execute(self.store.pool())
            .await?;
        self.locks.lock().expect("account locks").remove(account_id);
        match &revoke {
            Ok(()) => tracing::info!(account = %account_id, "account removed, token revoked"),
            Err(e) => {
                tracing::warn!(account = %account_id, error = %e, "account removed; revoking failed")
            }
        }
        Ok(Removal {
            revoked: revoke.is_ok(),
            detail: revoke.err(),
        })
    }

    async fn cached_app(&self, client: &Mastodon) -> Option<AppRegistration> {
        let row = sqlx::query(
            "SELECT client_id, redirect_uris, scopes FROM mastodon_apps WHERE instance_url = ?",
        )
        .bind(client.base().as_str())
        .fetch_optional(self.store.pool())
        .await
        .ok()??;
        let secret = self
            .secrets
            .get(app_secret_key(client.base()))
            .await
            .ok()??;
        Some(AppRegistration {
            client_id: row.try_get("client_id").ok()?,
            client_secret: secret,
            redirect_uris: serde_json::from_str(&row.try_get::<String, _>("redirect_uris").ok()?)
                .ok()?,
            scopes: row
                .try_get::<String, _>("scopes")
                .ok()?
                .split(' ')
                .map(str::to_string)
                .collect(),
        })
    }

    /// Removes every account of a workspace (before the workspace itself is deleted).
    pub async fn remove_workspace_accounts(&self, workspace_id: &str) -> Result<()> {
        for account in self.list(workspace_id).await? {
            self.remove(&account.id).await?;
        }
        Ok(())
    }
}
