//! Postwerk's core: domain types, the SQLite store, secrets, workspaces and settings.
//! It never depends on Tauri; the desktop shell and the CLI both call into [`Core`].

pub mod accounts;
pub mod background;
pub mod clock;
pub mod compose;
pub mod error;
pub mod html;
pub mod inbox;
pub mod inbox_reply;
pub mod inbox_rules;
pub mod inbox_stream;
pub mod inbox_sync;
pub mod inbox_thread;
pub mod links;
pub mod logging;
pub mod media;
pub mod paths;
pub mod planner;
pub mod posts;
pub mod publish;
pub mod rules;
pub mod schedule;
pub mod scheduler;
pub mod secrets;
pub mod settings;
pub mod store;
pub mod tz;
pub mod workspaces;

pub use accounts::{Account, Accounts, NetConfig};
pub use error::{Error, ErrorCode, Result};
pub use paths::AppPaths;
pub use postwerk_networks as networks;
pub use secrets::{Secret, SecretKey, SecretStore, Secrets};
pub use settings::{Language, Settings, SettingsStore};
pub use store::Store;
pub use workspaces::{NewWorkspace, Workspace, WorkspacePatch, Workspaces};

/// Facts about this installation that the UI shows.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    pub log_dir: String,
    /// The OS language as a BCP 47 tag ("de-DE"), when known.
    pub system_locale: Option<String>,
    /// The OS time zone (IANA), UTC when unknown.
    pub system_time_zone: String,
}

/// Whether the OS keychain can be used, and if not, what to do.
#[derive(Debug, Clone, serde::Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct KeychainStatus {
    pub available: bool,
    /// "secret-service", "macos-keychain", "windows-credential-manager".
    pub backend: Option<String>,
    /// Why it is not available and what to install or start.
    pub problem: Option<String>,
}

/// One open Postwerk data folder: the store plus the services built on it.
#[derive(Debug, Clone)]
pub struct Core {
    paths: AppPaths,
    store: Store,
    workspaces: Workspaces,
    settings: SettingsStore,
    accounts: Accounts,
    media: media::MediaStore,
    posts: posts::Posts,
    publisher: publish::Publisher,
    composer: compose::Composer,
    inbox: inbox::Inbox,
    http: postwerk_networks::HttpClient,
}

impl Core {
    /// Opens the data folder: creates it when missing, opens the database (refusing one from
    /// a newer Postwerk) and applies migrations.
    /// Secrets go to the OS keychain (opened on first use); network endpoints may be moved
    /// by environment variables (see [`NetConfig::from_env`]).
    pub async fn open(paths: AppPaths) -> Result<Self> {
        Self::open_with(paths, Secrets::keychain(), NetConfig::from_env()).await
    }

    pub async fn open_with(paths: AppPaths, secrets: Secrets, net: NetConfig) -> Result<Self> {
        paths.ensure()?;
        let store = Store::open(&paths.database()).await?;
        Self::with_parts(paths, store, secrets, net)
    }

    pub fn with_parts(
        paths: AppPaths,
        store: Store,
        secrets: Secrets,
        net: NetConfig,
    ) -> Result<Self> {
        let http = postwerk_networks::HttpClient::with_timeouts(
            std::time::Duration::from_secs(10),
            net.http_timeout,
        )?;
        let accounts = Accounts::new(store.clone(), secrets, http.clone(), net);
        let media = media::MediaStore::new(store.clone(), paths.data_dir().join("media"));
        Ok(Self {
            workspaces: Workspaces::new(store.clone()),
            settings: SettingsStore::new(store.clone()),
            posts: posts::Posts::new(store.clone(), media.clone()),
            publisher: publish::Publisher::new(
                store.clone(),
                accounts.clone(),
                media.clone(),
                http.clone(),
                compose::Composer::new(accounts.clone(), media.clone()),
            ),
            composer: compose::Composer::new(accounts.clone(), media.clone()),
            inbox: inbox::Inbox::new(store.clone()),
            http,
            accounts,
            media,
            paths,
            store,
        })
    }

    /// The same core on another clock (tests run the scheduler on paused tokio time).
    pub fn with_clock(mut self, clock: clock::SharedClock) -> Self {
        self.publisher = self.publisher.with_clock(clock);
        self
    }

    /// The same core with another retry backoff for scheduled posts (tests shorten it).
    pub fn with_backoff(mut self, backoff: postwerk_networks::backoff::Backoff) -> Self {
        self.publisher = self.publisher.with_backoff(backoff);
        self
    }

    /// Changes how scheduled posts are handled and tells the scheduler.
    pub async fn set_scheduling(
        &self,
        scheduling: settings::Scheduling,
    ) -> Result<settings::Scheduling> {
        let saved = self.settings.set_scheduling(scheduling).await?;
        self.publisher.changed();
        Ok(saved)
    }

    /// What the tray shows now: its labels in the UI language with the next due post in the
    /// OS time zone, whether publishing is paused, whether to start at login.
    pub async fn tray_status(&self) -> Result<background::TrayStatus> {
        let language = self.settings.get().await?.language.effective();
        let scheduling = self.settings.scheduling().await?;
        let next = self.publisher.next_post().await?;
        let zone = tz::parse_zone(&tz::system_zone()).unwrap_or(chrono_tz::UTC);
        Ok(background::TrayStatus {
            labels: background::tray_labels(language, next, self.publisher.clock().now(), zone),
            paused: scheduling.paused,
            start_at_login: scheduling.start_at_login,
        })
    }

    /// Pauses or resumes publishing (the tray's check item), keeping the other settings.
    pub async fn set_paused(&self, paused: bool) -> Result<settings::Scheduling> {
        let scheduling = self.settings.scheduling().await?;
        self.set_scheduling(settings::Scheduling {
            paused,
            ..scheduling
        })
        .await
    }

    /// The desktop notifications for a burst of scheduler events, in the UI language.
    pub async fn notices(
        &self,
        events: &[publish::PublishEvent],
    ) -> Result<Vec<background::Notice>> {
        let language = self.settings.get().await?.language.effective();
        Ok(background::notices_for(language, events))
    }

    /// The "keeps running in the tray" notification, the first time only (per data folder).
    pub async fn kept_in_tray_notice_once(&self) -> Result<Option<background::Notice>> {
        if !self.settings.first_time_told_about_tray().await? {
            return Ok(None);
        }
        let language = self.settings.get().await?.language.effective();
        Ok(Some(background::kept_in_tray_notice(language)))
    }

    /// Checks a wall-clock time in a workspace's zone.
    pub async fn check_time(&self, workspace_id: &str, input: &str) -> Result<schedule::TimeCheck> {
        let ws = self.workspaces.get(workspace_id).await?;
        schedule::check_time(&ws.time_zone, input)
    }

    /// Schedules a draft at a wall-clock time in its workspace's zone, now being the clock's.
    pub async fn schedule_post(
        &self,
        post_id: &str,
        wall_clock: &str,
    ) -> Result<Vec<publish::TargetOutcome>> {
        self.publisher
            .schedule(post_id, wall_clock, self.publisher.clock().now())
            .await
    }

    pub async fn add_to_queue(&self, post_id: &str) -> Result<Vec<publish::TargetOutcome>> {
        self.publisher
            .add_to_queue(post_id, self.publisher.clock().now())
            .await
    }

    pub async fn reschedule_target(
        &self,
        target_id: &str,
        wall_clock: &str,
    ) -> Result<publish::QueueItem> {
        self.publisher
            .reschedule_target(target_id, wall_clock, self.publisher.clock().now())
            .await
    }

    pub async fn publish_target_now(&self, target_id: &str) -> Result<publish::TargetOutcome> {
        self.publisher
            .publish_target_now(target_id, self.publisher.clock().now())
            .await
    }

    pub fn paths(&self) -> &AppPaths {
        &self.paths
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn workspaces(&self) -> &Workspaces {
        &self.workspaces
    }

    pub fn settings(&self) -> &SettingsStore {
        &self.settings
    }

    pub fn accounts(&self) -> &Accounts {
        &self.accounts
    }

    pub fn media(&self) -> &media::MediaStore {
        &self.media
    }

    pub fn posts(&self) -> &posts::Posts {
        &self.posts
    }

    pub fn publisher(&self) -> &publish::Publisher {
        &self.publisher
    }

    pub fn inbox(&self) -> &inbox::Inbox {
        &self.inbox
    }

    pub fn http(&self) -> &postwerk_networks::HttpClient {
        &self.http
    }

    /// Reads one account's new notifications and messages into the inbox.
    pub async fn sync_inbox_account(&self, account_id: &str) -> Result<u32> {
        let account = self.accounts.get(account_id).await?;
        inbox_sync::sync_account(
            &self.inbox,
            &self.accounts,
            &self.http,
            &account,
            self.publisher.clock().now(),
        )
        .await
    }

    /// Marks inbox items (read, done, important, labels). Direct messages marked read are
    /// marked read on their network too, in the background (the change here does not wait
    /// for the network, nor fail with it).
    pub async fn change_inbox(&self, ids: &[String], change: &inbox::InboxChange) -> Result<u64> {
        let changed = self.inbox.change(ids, change).await?;
        if change.read == Some(true) {
            let publisher = self.publisher.clone();
            let ids = ids.to_vec();
            tokio::spawn(async move {
                if let Err(e) = publisher.mark_read_on_networks(&ids).await {
                    tracing::info!(error = %e, "could not mark items read on their networks");
                }
            });
        }
        Ok(changed)
    }

    /// Reads new notifications of every account of a workspace (or all) into the inbox.
    pub async fn sync_inbox(
        &self,
        workspace_id: Option<&str>,
    ) -> Result<Vec<inbox_sync::SyncReport>> {
        inbox_sync::sync_all(
            &self.inbox,
            &self.accounts,
            &self.http,
            workspace_id,
            self.publisher.clock().now(),
            false,
        )
        .await
    }

    /// [`Self::sync_inbox`] for the background loop: it also backs off after failures.
    pub async fn sync_inbox_periodic(&self) -> Result<Vec<inbox_sync::SyncReport>> {
        inbox_sync::sync_all(
            &self.inbox,
            &self.accounts,
            &self.http,
            None,
            self.publisher.clock().now(),
            true,
        )
        .await
    }

    pub fn composer(&self) -> &compose::Composer {
        &self.composer
    }

    /// Deletes a workspace and all its data: its accounts are removed first (tokens revoked
    /// where the network answers, secrets deleted from the keychain), then the rows.
    pub async fn delete_workspace(&self, id: &str) -> Result<()> {
        self.workspaces.get(id).await?;
        self.accounts.remove_workspace_accounts(id).await?;
        self.workspaces.delete(id).await
    }

    pub fn app_info(&self) -> AppInfo {
        AppInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            data_dir: self.paths.data_dir().display().to_string(),
            log_dir: self.paths.log_dir().display().to_string(),
            system_locale: sys_locale::get_locale(),
            system_time_zone: tz::system_zone(),
        }
    }

    pub async fn close(&self) {
        self.store.close().await;
    }
}

/// Opens the OS keychain and reports whether it works. Runs blocking keychain calls on a
/// blocking thread.
pub async fn keychain_status() -> KeychainStatus {
    let probe = tokio::task::spawn_blocking(
        || -> std::result::Result<&'static str, secrets::SecretError> {
            let store = secrets::KeyringStore::open(secrets::SERVICE)?;
            store.check()?;
            Ok(store.backend())
        },
    )
    .await;
    match probe {
        Ok(Ok(backend)) => KeychainStatus {
            available: true,
            backend: Some(backend.to_string()),
            problem: None,
        },
        Ok(Err(e)) => KeychainStatus {
            available: false,
            backend: None,
            problem: Some(e.to_string()),
        },
        Err(join) => KeychainStatus {
            available: false,
            backend: None,
            problem: Some(format!("keychain check failed: {join}")),
        },
    }
}
