//! The `postwerk` binary against a real data folder.

use std::path::Path;
use std::process::{Command, Output, Stdio};

fn postwerk(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_postwerk"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("POSTWERK_DATA_DIR")
        .stdin(Stdio::null())
        .output()
        .expect("run postwerk")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn failed(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected failure, got: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr.clone()).unwrap()
}

fn list(data: &Path) -> Vec<serde_json::Value> {
    serde_json::from_str(&ok(&postwerk(data, &["workspace", "list", "--json"]))).unwrap()
}

#[test]
fn workspace_add_list_rename_rm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    assert!(ok(&postwerk(data, &["workspace", "list"])).contains("No workspaces yet"));

    let out = ok(&postwerk(
        data,
        &[
            "workspace",
            "add",
            "Bäckerei Sonnenschein",
            "--tz",
            "Europe/Berlin",
        ],
    ));
    assert!(
        out.contains("Created workspace \"Bäckerei Sonnenschein\""),
        "{out}"
    );
    let created: serde_json::Value = serde_json::from_str(&ok(&postwerk(
        data,
        &[
            "workspace",
            "add",
            "Acme",
            "--tz",
            "america/new_york",
            "--json",
        ],
    )))
    .unwrap();
    assert_eq!(created["timeZone"], "America/New_York");

    let all = list(data);
    let names: Vec<_> = all.iter().map(|w| w["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Acme", "Bäckerei Sonnenschein"]);
    let table = ok(&postwerk(data, &["workspace", "list"]));
    assert!(
        table.contains("Europe/Berlin") && table.contains("America/New_York"),
        "{table}"
    );

    // Rename by name, then by id.
    ok(&postwerk(
        data,
        &[
            "workspace",
            "rename",
            "acme",
            "Acme GmbH",
            "--tz",
            "Europe/Vienna",
        ],
    ));
    let id = created["id"].as_str().unwrap();
    ok(&postwerk(data, &["workspace", "rename", id, "Acme AG"]));
    let acme = list(data).into_iter().find(|w| w["id"] == id).unwrap();
    assert_eq!(
        (acme["name"].as_str(), acme["timeZone"].as_str()),
        (Some("Acme AG"), Some("Europe/Vienna"))
    );

    // Without a terminal, rm needs --yes, and nothing is deleted.
    let err = failed(&postwerk(data, &["workspace", "rm", "Acme AG"]));
    assert!(err.contains("pass --yes"), "{err}");
    assert_eq!(list(data).len(), 2);
    ok(&postwerk(data, &["workspace", "rm", "Acme AG", "--yes"]));
    assert_eq!(list(data).len(), 1);
}

#[test]
fn bad_input_gets_a_specific_error_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(&postwerk(
        data,
        &["workspace", "add", "Acme", "--tz", "UTC"],
    ));

    let err = failed(&postwerk(
        data,
        &["workspace", "add", "Other", "--tz", "Mars/Base"],
    ));
    assert!(
        err.contains("\"Mars/Base\" is not an IANA time zone"),
        "{err}"
    );
    let err = failed(&postwerk(data, &["workspace", "add", "ACME"]));
    assert!(
        err.contains("a workspace named \"ACME\" already exists"),
        "{err}"
    );
    let err = failed(&postwerk(data, &["workspace", "rename", "nobody", "X"]));
    assert!(err.contains("workspace \"nobody\" not found"), "{err}");
    let err = failed(&postwerk(data, &["workspace", "rm", "nobody", "--yes"]));
    assert!(err.contains("not found"), "{err}");

    let all = list(data);
    assert_eq!(all.len(), 1);
    assert_eq!(all[0]["name"], "Acme");
}

#[test]
fn doctor_explains_a_missing_keychain_instead_of_falling_back() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_postwerk"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["doctor", "--json"])
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/postwerk-test-bus",
        )
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(report["keychain"]["available"], false, "{report}");
    let problem = report["keychain"]["problem"].as_str().unwrap();
    assert!(problem.contains("no OS keychain is reachable"), "{problem}");
    assert!(problem.contains("gnome-keyring"), "{problem}");
    // Nothing was written in its place.
    let files: Vec<_> = walk(dir.path());
    assert!(
        files
            .iter()
            .all(|f| !f.contains("secret") && !f.contains("keyring")),
        "{files:?}"
    );
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

#[test]
fn check_prints_length_limit_ok_and_the_thread_split_per_network() {
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        "{} https://example.com/{}",
        "Brot ".repeat(60).trim(),
        "x".repeat(60)
    );
    let out = ok(&postwerk(
        dir.path(),
        &[
            "check",
            "--to",
            "mastodon,bluesky,x",
            "--mastodon-max",
            "320",
            &text,
        ],
    ));
    let v: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    let by = |n: &str| v.iter().find(|e| e["network"] == n).unwrap().clone();
    // 299 characters of bread, a space, and a URL that counts 23 on Mastodon and X.
    assert_eq!(by("mastodon")["length"], 299 + 1 + 23);
    assert_eq!(by("mastodon")["limit"], 320);
    assert_eq!(by("mastodon")["ok"], false);
    assert_eq!(by("mastodon")["overBy"], 3);
    assert_eq!(by("x")["length"], 323);
    assert_eq!(by("x")["limit"], 280);
    let bsky = by("bluesky");
    assert_eq!(bsky["limit"], 300);
    assert_eq!(bsky["ok"], false);
    let thread: Vec<String> = serde_json::from_value(bsky["thread"].clone()).unwrap();
    assert!(thread.len() >= 2);
    assert!(thread.iter().all(|p| p.chars().count() <= 300));
    assert_eq!(
        thread.join(" ").split_whitespace().collect::<Vec<_>>(),
        text.split_whitespace().collect::<Vec<_>>()
    );
    // No data folder is needed to check a text.
    assert!(!dir.path().join("postwerk.db").exists());
    let err = failed(&postwerk(dir.path(), &["check", "--to", "myspace", "hi"]));
    assert!(err.contains("unknown network \"myspace\""), "{err}");
}
