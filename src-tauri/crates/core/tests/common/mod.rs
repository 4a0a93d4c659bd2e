//! The test environment shared by the publishing and scheduler tests: a real data folder,
//! secrets in memory, the fake Mastodon and Bluesky servers, and one account on each.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use postwerk_core::accounts::{ConnectBluesky, NetConfig, StartMastodon};
use postwerk_core::posts::{DraftInput, DraftMediaInput, DraftTarget};
use postwerk_core::secrets::MemoryStore;
use postwerk_core::{AppPaths, Core, NewWorkspace, Secret, SecretStore, Secrets};
use postwerk_fakes::{FakeBluesky, FakeMastodon};
use postwerk_networks::bluesky::Directory;

pub struct Env {
    pub dir: tempfile::TempDir,
    pub core: Core,
    pub workspace: String,
    pub masto_account: String,
    pub bsky_account: String,
    pub mastodon: FakeMastodon,
    pub bsky: FakeBluesky,
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn play_browser(authorize_url: &str) {
    postwerk_fakes::play_mastodon_sign_in(authorize_url, "approve").await;
}

pub async fn env() -> Env {
    env_with_timeout(Duration::from_secs(60)).await
}

/// [`env`] with requests to the networks limited to `http_timeout`.
pub async fn env_with_timeout(http_timeout: Duration) -> Env {
    let mastodon = FakeMastodon::start().await;
    let bsky = FakeBluesky::start().await;
    bsky.add_account("ada.test", "ada@example.com", "app-pass-1234", "Ada");
    bsky.add_account("bob.test", "bob@example.com", "bob-pass-1234", "Bob");
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open_with(
        AppPaths::at(dir.path().join("data")),
        Secrets::with_store(Arc::new(MemoryStore::new()) as Arc<dyn SecretStore>),
        NetConfig {
            bluesky: Directory {
                entryway: bsky.url(),
                plc_directory: bsky.url(),
            },
            oauth_ports: vec![free_port()],
            oauth_timeout: Duration::from_secs(20),
            http_timeout,
        },
    )
    .await
    .unwrap();
    let workspace = core
        .workspaces()
        .create(NewWorkspace {
            name: "Bäckerei".into(),
            time_zone: Some("Europe/Berlin".into()),
            color: None,
        })
        .await
        .unwrap()
        .id;
    let bsky_account = core
        .accounts()
        .connect_bluesky(ConnectBluesky {
            workspace_id: workspace.clone(),
            identifier: "ada.test".into(),
            password: Secret::new("app-pass-1234"),
            service: None,
            reconnect_id: None,
        })
        .await
        .unwrap()
        .id;
    let pending = core
        .accounts()
        .start_mastodon(StartMastodon {
            workspace_id: workspace.clone(),
            instance: mastodon.url().to_string(),
            reconnect_id: None,
        })
        .await
        .unwrap();
    let finish = {
        let accounts = core.accounts().clone();
        let flow = pending.flow_id.clone();
        tokio::spawn(async move { accounts.finish_mastodon(&flow).await })
    };
    play_browser(&pending.authorize_url).await;
    let masto_account = finish.await.unwrap().unwrap().id;
    Env {
        dir,
        core,
        workspace,
        masto_account,
        bsky_account,
        mastodon,
        bsky,
    }
}

pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 7 % 256) as u8, (y * 5 % 256) as u8, 90])
    });
    let mut out = Vec::new();
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

impl Env {
    pub async fn draft(
        &self,
        text: &str,
        media: Vec<DraftMediaInput>,
        targets: Vec<DraftTarget>,
    ) -> String {
        self.core
            .posts()
            .save_draft(DraftInput {
                id: None,
                workspace_id: self.workspace.clone(),
                text: text.into(),
                spoiler: String::new(),
                media,
                targets,
            })
            .await
            .unwrap()
            .id
    }

    pub fn both(&self) -> Vec<DraftTarget> {
        [&self.masto_account, &self.bsky_account]
            .into_iter()
            .map(|id| DraftTarget {
                account_id: id.clone(),
                text_override: None,
                thread_parts: None,
            })
            .collect()
    }
}

impl Env {
    pub fn only(&self, account: &str) -> Vec<DraftTarget> {
        vec![DraftTarget {
            account_id: account.to_string(),
            text_override: None,
            thread_parts: None,
        }]
    }
}
