//! Helpers the CLI tests share: run `postwerk` against a data folder with the fake networks.
#![allow(dead_code)] // each test file uses its own subset

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use postwerk_fakes::{FakeBluesky, FakeMastodon};

/// `postwerk --data-dir DATA ARGS...`, pointed at the fake Bluesky directory.
pub fn command(data: &Path, bsky: &FakeBluesky, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_postwerk"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("POSTWERK_DATA_DIR")
        .env("POSTWERK_BLUESKY_ENTRYWAY", bsky.url().as_str())
        .env("POSTWERK_PLC_DIRECTORY", bsky.url().as_str());
    cmd
}

/// Runs `postwerk` with `stdin` and returns what it did.
pub fn run(data: &Path, bsky: &FakeBluesky, args: &[&str], stdin: &str) -> Output {
    let mut child = command(data, bsky, args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// Asserts success and returns standard output.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

pub fn accounts(data: &Path, bsky: &FakeBluesky) -> Vec<serde_json::Value> {
    serde_json::from_str(&ok(&run(data, bsky, &["account", "list", "--json"], ""))).unwrap()
}

/// `postwerk account add mastodon --no-browser EXTRA...`, with the test playing the browser:
/// reads the sign-in page the CLI prints, approves it, and returns the CLI's output.
pub async fn add_mastodon(
    data: &Path,
    bsky: &FakeBluesky,
    mastodon: &FakeMastodon,
    extra: &[&str],
) -> Output {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let instance = mastodon.url();
    let mut args = vec![
        "account",
        "add",
        "mastodon",
        "--instance",
        instance.as_str(),
        "--no-browser",
    ];
    args.extend_from_slice(extra);
    let mut child = command(data, bsky, &args)
        .env("POSTWERK_OAUTH_PORTS", port.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Keep reading standard error to the end: a closed pipe would kill the CLI when it
    // writes its next line.
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.trim().starts_with("http") {
                let _ = tx.send(line.trim().to_string());
            }
        }
    });
    let url =
        tokio::task::spawn_blocking(move || rx.recv().expect("the CLI printed no sign-in page"))
            .await
            .unwrap();
    assert!(url.contains("/oauth/authorize?"), "{url}");
    assert!(
        url.contains(&format!("127.0.0.1%3A{port}%2Fcallback")),
        "the registered port: {url}"
    );
    let page = postwerk_fakes::play_mastodon_sign_in(&url, "approve").await;
    assert!(page.contains("You can close this tab"));
    tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap()
}

/// A data folder with one workspace in `tz` and the Bluesky account `ada.test` connected
/// through the CLI (password on stdin). Returns the folder and the account's id.
pub fn bluesky_shop(bsky: &FakeBluesky, tz: &str) -> (tempfile::TempDir, String) {
    bsky.add_account("ada.test", "ada@example.com", "app-pass-1234", "Ada");
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(&run(
        data,
        bsky,
        &["workspace", "add", "Acme", "--tz", tz],
        "",
    ));
    ok(&run(
        data,
        bsky,
        &[
            "account",
            "add",
            "bluesky",
            "--identifier",
            "ada.test",
            "--password-stdin",
        ],
        "app-pass-1234\n",
    ));
    let id = accounts(data, bsky)[0]["id"].as_str().unwrap().to_string();
    (dir, id)
}
