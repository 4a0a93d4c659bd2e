//! Accounts against the fake Mastodon and Bluesky servers (127.0.0.1), with a real SQLite file
//! and the in-memory secret store (the real keychain is covered by `tests/keychain.rs` and the
//! WebDriver tests).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use postwerk_core::accounts::{ConnectBluesky, Health, NetConfig, StartMastodon};
use postwerk_core::secrets::MemoryStore;
use postwerk_core::{
    AppPaths, Core, ErrorCode, NewWorkspace, Secret, SecretKey, SecretStore, Secrets,
};
use postwerk_fakes::{FakeBluesky, FakeMastodon};
use postwerk_networks::bluesky::Directory;
use url::Url;

struct Env {
    _dir: tempfile::TempDir,
    data: std::path::PathBuf,
    core: Core,
    secrets: Arc<MemoryStore>,
    workspace: String,
}

async fn env_with(net: NetConfig) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let secrets = Arc::new(MemoryStore::new());
    let core = Core::open_with(
        AppPaths::at(&data),
        Secrets::with_store(secrets.clone() as Arc<dyn SecretStore>),
        net,
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
    Env {
        _dir: dir,
        data,
        core,
        secrets,
        workspace,
    }
}

fn net_for(bsky: &FakeBluesky) -> NetConfig {
    NetConfig {
        bluesky: Directory {
            entryway: bsky.url(),
            plc_directory: bsky.url(),
        },
        // A free port of its own (tests run in parallel); registered as the redirect URI.
        oauth_ports: vec![free_port()],
        oauth_timeout: Duration::from_secs(20),
        http_timeout: Duration::from_secs(60),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn bluesky_input(env: &Env, identifier: &str, password: &str) -> ConnectBluesky {
    ConnectBluesky {
        workspace_id: env.workspace.clone(),
        identifier: identifier.into(),
        password: Secret::new(password),
        service: None,
        reconnect_id: None,
    }
}

/// Every file in the data folder, as bytes.
fn data_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        out.push((
            entry.display().to_string(),
            std::fs::read(&entry).unwrap_or_default(),
        ));
    }
    out
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    if let Ok(read) = std::fs::read_dir(dir) {
        for e in read.flatten() {
            let p = e.path();
            if p.is_dir() {
                files.extend(walk(&p));
            } else {
                files.push(p);
            }
        }
    }
    files
}

fn assert_no_secrets_in(dir: &Path, secrets: &[String]) {
    assert!(
        !secrets.is_empty(),
        "the fakes issued no secrets; the scan would prove nothing"
    );
    let files = data_files(dir);
    assert!(files.iter().any(|(p, _)| p.ends_with("postwerk.db")));
    for (path, bytes) in files {
        let text = String::from_utf8_lossy(&bytes);
        for s in secrets {
            assert!(!text.contains(s.as_str()), "{path} contains a token");
        }
    }
}

#[tokio::test]
async fn bluesky_connects_through_handle_did_and_did_document() {
    let bsky = FakeBluesky::start().await;
    let did = bsky.add_account(
        "ada.test",
        "ada@example.com",
        "app-pass-1234",
        "Ada Lovelace",
    );
    let env = env_with(net_for(&bsky)).await;

    let account = env
        .core
        .accounts()
        .connect_bluesky(bluesky_input(&env, "@Ada.test", "app-pass-1234"))
        .await
        .unwrap();
    assert_eq!(account.remote_id, did);
    assert_eq!(account.handle, "@ada.test");
    assert_eq!(account.display_name, "Ada Lovelace");
    assert_eq!(account.health, Health::Ok);
    assert!(
        account
            .avatar
            .as_deref()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    assert_eq!(
        account.server,
        bsky.url().as_str().trim_end_matches('/').to_string() + "/"
    );
    assert!(
        account.token_expires_at.is_some(),
        "the refresh token's expiry is kept"
    );

    // The route went through resolution, not the fallback guess.
    let paths: Vec<String> = bsky.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths
            .iter()
            .any(|p| p == "/xrpc/com.atproto.identity.resolveHandle"),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.starts_with("/did:plc:")),
        "{paths:?}"
    );

    // Tokens are in the secret store, and nowhere in the data folder.
    for kind in ["access_token", "refresh_token"] {
        assert!(
            env.secrets
                .get(&SecretKey::account(&account.id, kind))
                .unwrap()
                .is_some()
        );
    }
    env.core.close().await;
    assert_no_secrets_in(&env.data, &bsky.secrets());
}

#[tokio::test]
async fn bluesky_falls_back_to_the_entryway_when_resolution_fails() {
    let bsky = FakeBluesky::start().await;
    bsky.add_account("ada.test", "ada@example.com", "app-pass-1234", "Ada");
    let mut net = net_for(&bsky);
    // A PLC directory that does not answer.
    net.bluesky.plc_directory = Url::parse("http://127.0.0.1:9/").unwrap();
    let env = env_with(net).await;
    let account = env
        .core
        .accounts()
        .connect_bluesky(bluesky_input(&env, "ada.test", "app-pass-1234"))
        .await
        .unwrap();
    assert_eq!(account.handle, "@ada.test");
    // Email logins go to the entryway directly.
    let again = env
        .core
        .accounts()
        .connect_bluesky(bluesky_input(&env, "ada@example.com", "app-pass-1234"))
        .await
        .unwrap();
    assert_eq!(
        again.id, account.id,
        "signing in again updates the same account"
    );
    assert_eq!(
        env.core
            .accounts()
            .list(&env.workspace)
            .await
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn bluesky_wrong_password_and_bad_input_get_specific_errors_and_store_nothing() {
    let bsky = FakeBluesky::start().await;
    bsky.add_account("ada.test", "ada@example.com", "app-pass-1234", "Ada");
    let env = env_with(net_for(&bsky)).await;
    let accounts = env.core.accounts();

    let err = accounts
        .connect_bluesky(bluesky_input(&env, "ada.test", "wrong"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::AuthFailed);
    assert!(
        err.to_string().contains("Invalid identifier or password"),
        "{err}"
    );

    let err = accounts
        .connect_bluesky(bluesky_input(&env, "ada", "x"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().starts_with("identifier:"), "{err}");

    let mut input = bluesky_input(&env, "ada.test", "app-pass-1234");
    input.service = Some("http://pds.example.com".into());
    let err = accounts.connect_bluesky(input).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert!(err.to_string().contains("https"), "{err}");

    assert!(accounts.list(&env.workspace).await.unwrap().is_empty());
    assert!(env.secrets.is_empty());
}

#[tokio::test]
async fn bluesky_refreshes_once_on_expired_token_and_stores_the_rotated_refresh_token() {
    let bsky = FakeBluesky::start().await;
    bsky.add_account("ada.test", "ada@example.com", "app-pass-1234", "Ada");
    let env = env_with(net_for(&bsky)).await;
    let accounts = env.core.accounts().clone();
    let account = accounts
        .connect_bluesky(bluesky_input(&env, "ada.test", "app-pass-1234"))
        .await
        .unwrap();
    let key = SecretKey::account(&account.id, "refresh_token");
    let first_refresh = env.secrets.get(&key).unwrap().unwrap();

    bsky.expire_access_tokens();
    // Ten callers at once: one refresh, all succeed.
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let accounts = accounts.clone();
        let id = account.id.clone();
        tasks.spawn(async move {
            accounts
                .with_bluesky(&id, |bsky, pds, access| async move {
                    bsky.get_session(&pds, &access).await
                })
                .await
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    assert_eq!(
        bsky.refresh_calls(),
        1,
        "refreshes are serialised per account"
    );
    let second_refresh = env.secrets.get(&key).unwrap().unwrap();
    assert_ne!(
        first_refresh, second_refresh,
        "the rotated refresh token was stored"
    );
    assert_eq!(accounts.get(&account.id).await.unwrap().health, Health::Ok);
}

#[tokio::test]
async fn bluesky_refreshes_before_expiry() {
    let bsky = FakeBluesky::start().await;
    bsky.add_account("ada.test", "ada@example.com", "app-pass-1234", "Ada");
    // Access tokens that live 60 s: inside the 5 minute margin from the start.
    bsky.set_access_ttl(Duration::from_secs(60));
    let env = env_with(net_for(&bsky)).await;
    let account = env
        .core
        .accounts()
        .connect_bluesky(bluesky_input(&env, "ada.test", "app-pass-1234"))
        .await
        .unwrap();
    assert_eq!(bsky.refresh_calls(), 0);
    env.core
        .accounts()
        .bluesky_access(&account.id)
        .await
        .unwrap();
    assert_eq!(bsky.refresh_calls(), 1);
}

#[tokio::test]
async fn a_dead_refresh_token_marks_the_account_and_reconnect_keeps_it() {
    let bsky = FakeBluesky::start().await;
    bsky.add_account("ada.test", "ada@example.com", "app-pass-1234", "Ada");
    bsky.add_account("bob.test", "bob@example.com", "bob-pass-5678", "Bob");
    let env = env_with(net_for(&bsky)).await;
    let accounts = env.core.accounts();
    let account = accounts
        .connect_bluesky(bluesky_input(&env, "ada.test", "app-pass-1234"))
        .await
        .unwrap();
    // Another client used (and so rotated away) our refresh token: keep the old one around.
    let key = SecretKey::account(&account.id, "refresh_token");
    let stale = env.secrets.get(&key).unwrap().unwrap();
    bsky.expire_access_tokens();
    accounts.bluesky_access(&account.id).await.ok();
    accounts
        .with_bluesky(&account.id, |b, pds, a| async move {
            b.get_session(&pds, &a).await
        })
        .await
        .unwrap();
    env.secrets.set(&key, &stale).unwrap();
    bsky.expire_access_tokens();

    let err = accounts
        .with_bluesky(&account.id, |b, pds, a| async move {
            b.get_session(&pds, &a).await
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), ErrorCode::NeedsReconnect);
    let marked = accounts.get(&account.id).await.unwrap();
    assert_eq!(marked.health, Health::NeedsReconnect);
    assert!(marked.health_detail.unwrap().contains("revoked"));

    // Reconnecting as someone else is refused; as the same account it keeps the id.
    let mut wrong = bluesky_input(&env, "bob.test", "bob-pass-5678");
    wrong.reconnect_id = Some(account.id.clone());
    assert_eq!(
        accounts.connect_bluesky(wrong).await.unwrap_err().code(),
        ErrorCode::Conflict
    );
    let mut right = bluesky_input(&env, "ada.test", "app-pass-1234");
    right.reconnect_id = Some(account.id.clone());
    let back = accounts.connect_bluesky(right).await.unwrap();
    assert_eq!(back.id, account.id);
    assert_eq!(back.health, Health::Ok);
}

async fn play_browser(authorize_url: &str, decision: &str) -> String {
    postwerk_fakes::play_mastodon_sign_in(authorize_url, decision).await
}

fn start_input(env: &Env, mastodon: &FakeMastodon) -> StartMastodon {
    StartMastodon {
        workspace_id: env.workspace.clone(),
        instance: mastodon.url().to_string(),
        reconnect_id: None,
    }
}

#[tokio::test]
async fn mastodon_connects_through_the_browser_and_remove_revokes() {
    let mastodon = FakeMastodon::start().await;
    let bsky = FakeBluesky::start().await;
    let env = env_with(net_for(&bsky)).await;
    let accounts = env.core.accounts().clone();

    let pending = accounts
        .start_mastodon(start_input(&env, &mastodon))
        .await
        .unwrap();
    let url = Url::parse(&pending.authorize_url).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge_method"], "S256");
    assert!(q["redirect_uri"].starts_with("http://127.0.0.1:"));
    assert!(q["scope"].contains("write:statuses"));

    let finish = {
        let accounts = accounts.clone();
        let flow = pending.flow_id.clone();
        tokio::spawn(async move { accounts.finish_mastodon(&flow).await })
    };
    let page = play_browser(&pending.authorize_url, "approve").await;
    assert!(page.contains("You can close this tab"), "{page}");
    let account = finish.await.unwrap().unwrap();
    assert_eq!(account.display_name, "Ada Lovelace");
    assert!(
        account.handle.starts_with("@ada@127.0.0.1:"),
        "{}",
        account.handle
    );
    assert!(
        account
            .avatar
            .as_deref()
            .unwrap()
            .starts_with("data:image/png;base64,")
    );
    assert_eq!(account.health, Health::Ok);
    assert_eq!(
        account.token_expires_at, None,
        "Mastodon tokens do not expire"
    );

    // A second sign-in reuses the registration.
    let pending = accounts
        .start_mastodon(start_input(&env, &mastodon))
        .await
        .unwrap();
    let finish = {
        let accounts = accounts.clone();
        let flow = pending.flow_id.clone();
        tokio::spawn(async move { accounts.finish_mastodon(&flow).await })
    };
    play_browser(&pending.authorize_url, "approve").await;
    let again = finish.await.unwrap().unwrap();
    assert_eq!(again.id, account.id);
    assert_eq!(
        mastodon.apps_registered(),
        1,
        "registered once per instance"
    );

    let checked = accounts.check(&account.id).await.unwrap();
    assert_eq!(checked.health, Health::Ok);

    let token = env
        .secrets
        .get(&SecretKey::account(&account.id, "access_token"))
        .unwrap()
        .unwrap();
    let removal = accounts.remove(&account.id).await.unwrap();
    assert!(removal.revoked, "{:?}", removal.detail);
    assert!(
        mastodon
            .revoked_tokens()
            .contains(&token.expose().to_string())
    );
    assert!(
        env.secrets
            .get(&SecretKey::account(&account.id, "access_token"))
            .unwrap()
            .is_none()
    );
    assert!(accounts.list(&env.workspace).await.unwrap().is_empty());

    env.core.close().await;
    assert_no_secrets_in(&env.data, &mastodon.secrets());
}

#[tokio::test]
async fn mastodon_refusal_cancel_and_revoked_token() {
    let mastodon = FakeMastodon::start().await;
    let bsky = FakeBluesky::start().await;
    let env = env_with(net_for(&bsky)).await;
    let accounts = env.core.accounts().clone();

    // The user clicks "Deny".
    let pending = accounts
        .start_mastodon(start_input(&env, &mastodon))
        .await
        .unwrap();
    let finish = {
        let accounts = accounts.clone();
        let flow = pending.flow_id.clone();
        tokio::spawn(async move { accounts.finish_mastodon(&flow).await })
    };
    let page = play_browser(&pending.authorize_url, "deny").await;
    assert!(page.contains("not granted"), "{page}");
    assert_eq!(
        finish.await.unwrap().unwrap_err().code(),
        ErrorCode::Cancelled
    );

    // The user cancels in Postwerk while the browser is open.
    let pending = accounts
        .start_mastodon(start_input(&env, &mastodon))
        .await
        .unwrap();
    let finish = {
        let accounts = accounts.clone();
        let flow = pending.flow_id.clone();
        tokio::spawn(async move { accounts.finish_mastodon(&flow).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    accounts.cancel_flow(&pending.flow_id);
    assert_eq!(
        finish.await.unwrap().unwrap_err().code(),
        ErrorCode::Cancelled
    );
    assert!(accounts.list(&env.workspace).await.unwrap().is_empty());

    // A token revoked elsewhere: the check marks the account.
    let pending = accounts
        .start_mastodon(start_input(&env, &mastodon))
        .await
        .unwrap();
    let finish = {
        let accounts = accounts.clone();
        let flow = pending.flow_id.clone();
        tokio::spawn(async move { accounts.finish_mastodon(&flow).await })
    };
    play_browser(&pending.authorize_url, "approve").await;
    let account = finish.await.unwrap().unwrap();
    env.secrets
        .set(
            &SecretKey::account(&account.id, "access_token"),
            &Secret::new("revoked-elsewhere"),
        )
        .unwrap();
    let checked = accounts.check(&account.id).await.unwrap();
    assert_eq!(checked.health, Health::NeedsReconnect);
    assert!(
        checked
            .health_detail
            .unwrap()
            .contains("access token is invalid")
    );
}

#[tokio::test]
async fn mastodon_instance_input_errors_are_specific() {
    let bsky = FakeBluesky::start().await;
    let env = env_with(net_for(&bsky)).await;
    let accounts = env.core.accounts();
    for (instance, says) in [
        ("", "Enter your Mastodon server"),
        ("http://mastodon.example", "must use https"),
        ("mastodon", "not a full server name"),
    ] {
        let err = accounts
            .start_mastodon(StartMastodon {
                workspace_id: env.workspace.clone(),
                instance: instance.into(),
                reconnect_id: None,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput, "{instance}");
        assert!(err.to_string().contains(says), "{instance}: {err}");
    }
    // A server that is not Mastodon (the Bluesky fake answers 501 / 404 on Mastodon paths).
    let err = accounts
        .start_mastodon(StartMastodon {
            workspace_id: env.workspace.clone(),
            instance: bsky.url().to_string(),
            reconnect_id: None,
        })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Mastodon"), "{err}");
}

#[tokio::test]
async fn deleting_a_workspace_removes_its_accounts_and_their_secrets() {
    let bsky = FakeBluesky::start().await;
    bsky.add_account("ada.test", "ada@example.com", "app-pass-1234", "Ada");
    let env = env_with(net_for(&bsky)).await;
    env.core
        .accounts()
        .connect_bluesky(bluesky_input(&env, "ada.test", "app-pass-1234"))
        .await
        .unwrap();
    assert!(!env.secrets.is_empty());
    env.core.delete_workspace(&env.workspace).await.unwrap();
    assert!(env.secrets.is_empty(), "no secret outlives its workspace");
    assert!(env.core.accounts().list_all().await.unwrap().is_empty());
}
