//! `postwerk account ...` against the fake networks, with the real OS keychain (run through
//! `scripts/test`, which provides a private D-Bus with gnome-keyring).

use std::io::{BufRead, BufReader};
use std::process::Stdio;

use postwerk_fakes::{FakeBluesky, FakeMastodon};

mod common;
use common::{accounts, add_mastodon, bluesky_shop, command, ok, run};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the OS keychain: runs through scripts/test"]
async fn bluesky_add_list_rm_with_the_password_on_stdin() {
    let bsky = FakeBluesky::start().await;
    bsky.add_account(
        "ada.test",
        "ada@example.com",
        "app-pass-1234",
        "Ada Lovelace",
    );
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(&run(
        data,
        &bsky,
        &["workspace", "add", "Acme", "--tz", "Europe/Berlin"],
        "",
    ));

    let wrong = run(
        data,
        &bsky,
        &[
            "account",
            "add",
            "bluesky",
            "--identifier",
            "ada.test",
            "--password-stdin",
        ],
        "nope\n",
    );
    assert!(!wrong.status.success());
    assert!(String::from_utf8_lossy(&wrong.stderr).contains("Invalid identifier or password"));

    let out = ok(&run(
        data,
        &bsky,
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
    assert!(
        out.contains("Connected @ada.test (Ada Lovelace) on Bluesky"),
        "{out}"
    );
    let list = accounts(data, &bsky);
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["health"], "ok");
    assert_eq!(list[0]["network"], "bluesky");
    let table = ok(&run(data, &bsky, &["account", "list"], ""));
    assert!(
        table.contains("@ada.test") && table.contains("ok"),
        "{table}"
    );

    // Nothing the CLI printed, and nothing in the data folder, holds a token.
    let printed = serde_json::to_string(&list).unwrap() + &table + &out;
    for secret in bsky.secrets() {
        assert!(!printed.contains(&secret));
    }

    let id = list[0]["id"].as_str().unwrap().to_string();
    let out = ok(&run(data, &bsky, &["account", "rm", &id], ""));
    assert!(
        out.contains("Removed @ada.test and signed out on Bluesky"),
        "{out}"
    );
    assert!(accounts(data, &bsky).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the OS keychain: runs through scripts/test"]
async fn mastodon_add_prints_the_sign_in_page_and_waits_for_the_browser() {
    let mastodon = FakeMastodon::start().await;
    let bsky = FakeBluesky::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(&run(
        data,
        &bsky,
        &["workspace", "add", "Acme", "--tz", "Europe/Berlin"],
        "",
    ));
    let out = add_mastodon(data, &bsky, &mastodon, &["--json"]).await;
    let account: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(account["displayName"], "Ada Lovelace");
    assert_eq!(account["network"], "mastodon");
    let printed = String::from_utf8_lossy(&out.stdout);
    for secret in mastodon.secrets() {
        assert!(!printed.contains(&secret));
    }
    let id = account["id"].as_str().unwrap().to_string();
    ok(&run(data, &bsky, &["account", "rm", &id], ""));
    assert_eq!(mastodon.live_tokens().len(), 0, "the token was revoked");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the OS keychain: runs through scripts/test"]
async fn post_publishes_now_and_prints_each_outcome() {
    let bsky = FakeBluesky::start().await;
    let (dir, id) = bluesky_shop(&bsky, "Europe/Berlin");
    let data = dir.path();
    let out = ok(&run(
        data,
        &bsky,
        &["post", "--account", &id, "--json", "Hallo #Welt"],
        "",
    ));
    let outcomes: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
    assert_eq!(outcomes[0]["state"], "published");
    assert!(
        outcomes[0]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://bsky.app/profile/ada.test/post/")
    );
    assert_eq!(bsky.records().len(), 1);
    assert_eq!(bsky.records()[0].value["text"], "Hallo #Welt");

    // Too long for Bluesky: refused before anything is sent, with the reason.
    let long = "Brot ".repeat(70);
    let refused = run(data, &bsky, &["post", "--account", &id, long.trim()], "");
    assert!(!refused.status.success());
    let printed = String::from_utf8_lossy(&refused.stdout);
    assert!(
        printed.contains("failed") && printed.contains("Bluesky"),
        "{printed}"
    );
    assert_eq!(bsky.records().len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the OS keychain: runs through scripts/test"]
async fn post_at_queues_and_only_one_daemon_owns_the_data_folder() {
    let bsky = FakeBluesky::start().await;
    let (dir, id) = bluesky_shop(&bsky, "America/New_York");
    let data = dir.path();

    let when = (chrono::Utc::now() + chrono::Duration::hours(2))
        .with_timezone(&chrono_tz::America::New_York)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let out = ok(&run(
        data,
        &bsky,
        &["post", "--account", &id, "--at", &when, "Später"],
        "",
    ));
    assert!(out.contains(&format!("scheduled for {when}")), "{out}");
    let skipped = run(
        data,
        &bsky,
        &["post", "--account", &id, "--at", "2030-03-10 02:30", "Nie"],
        "",
    );
    assert!(!skipped.status.success());
    assert!(
        String::from_utf8_lossy(&skipped.stderr).contains("does not exist in America/New_York")
    );
    let queue: Vec<serde_json::Value> =
        serde_json::from_str(&ok(&run(data, &bsky, &["queue", "list", "--json"], ""))).unwrap();
    assert_eq!(queue.len(), 1, "the refused post left nothing behind");
    assert_eq!(queue[0]["state"], "scheduled");
    assert_eq!(queue[0]["scheduledLocal"], when);
    assert_eq!(queue[0]["scheduledZone"], "America/New_York");

    // One daemon runs; a second one is told who owns the folder.
    let mut first = command(data, &bsky, &["daemon"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(first.stderr.take().unwrap()).lines();
    let started = tokio::task::spawn_blocking(move || lines.next().unwrap().unwrap())
        .await
        .unwrap();
    assert!(started.contains("publishing scheduled posts"), "{started}");
    let second = run(data, &bsky, &["daemon", "--once"], "");
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(
        err.contains("postwerk daemon (pid") && err.contains("quit it first"),
        "{err}"
    );
    first.kill().unwrap();
    first.wait().unwrap();
    ok(&run(data, &bsky, &["daemon", "--once"], ""));
    assert_eq!(bsky.records().len(), 0, "not due yet");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the OS keychain: runs through scripts/test"]
async fn queue_slots_post_queue_then_move_pause_and_cancel() {
    let bsky = FakeBluesky::start().await;
    let (dir, id) = bluesky_shop(&bsky, "Asia/Tokyo");
    let data = dir.path();

    // Without queue times, --queue says what to do and leaves nothing behind.
    let refused = run(
        data,
        &bsky,
        &["post", "--account", &id, "--queue", "Eins"],
        "",
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("has no queue times yet"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let bad = run(
        data,
        &bsky,
        &["queue", "slots", "--account", &id, "--set", "moon 09:00"],
        "",
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a weekday"));
    let slots = ok(&run(
        data,
        &bsky,
        &[
            "queue",
            "slots",
            "--account",
            &id,
            "--set",
            "tue 09:30, fri 17:00",
        ],
        "",
    ));
    assert_eq!(slots.trim(), "tue 09:30\nfri 17:00");

    for text in ["Eins", "Zwei"] {
        ok(&run(
            data,
            &bsky,
            &[
                "post",
                "--account",
                &id,
                "--queue",
                "--evergreen-days",
                "14",
                text,
            ],
            "",
        ));
    }
    let queue: Vec<serde_json::Value> =
        serde_json::from_str(&ok(&run(data, &bsky, &["queue", "list", "--json"], ""))).unwrap();
    assert_eq!(queue.len(), 2);
    let times: Vec<&str> = queue
        .iter()
        .map(|q| q["localTime"].as_str().unwrap())
        .collect();
    assert!(
        times[0].ends_with("09:30") || times[0].ends_with("17:00"),
        "{times:?}"
    );
    assert_ne!(times[0], times[1], "two posts, two slots");
    assert!(
        queue
            .iter()
            .all(|q| q["queued"] == true && q["evergreenGapDays"] == 14)
    );
    assert!(
        queue.iter().all(|q| q["heldBy"] == "postwerk"),
        "Bluesky needs Postwerk running"
    );

    let target = queue[0]["targetId"].as_str().unwrap();
    let when = (chrono::Utc::now() + chrono::Duration::days(3))
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .format("%Y-%m-%d 08:15")
        .to_string();
    let moved = ok(&run(data, &bsky, &["queue", "move", target, &when], ""));
    assert!(
        moved.contains(&format!("scheduled at {when} Asia/Tokyo")),
        "{moved}"
    );
    assert!(ok(&run(data, &bsky, &["queue", "pause", target], "")).contains("paused"));
    assert!(ok(&run(data, &bsky, &["queue", "resume", target], "")).contains("scheduled"));
    assert!(ok(&run(data, &bsky, &["queue", "cancel", target], "")).contains("cancelled"));
    let again = run(data, &bsky, &["queue", "resume", target], "");
    assert!(String::from_utf8_lossy(&again.stderr).contains("not paused"));
    assert_eq!(bsky.records().len(), 0);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the OS keychain: runs through scripts/test"]
async fn inbox_sync_then_list_unread_and_search() {
    let mastodon = FakeMastodon::start().await;
    let bsky = FakeBluesky::start().await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    ok(&run(data, &bsky, &["workspace", "add", "Acme"], ""));
    ok(&add_mastodon(data, &bsky, &mastodon, &[]).await);
    let empty = ok(&run(data, &bsky, &["inbox", "list"], ""));
    assert!(empty.contains("The inbox is empty"), "{empty}");
    mastodon.add_notification(
        "mention",
        "bob@other.example",
        Some("<p>Gibt es heute Zimtschnecken?</p>"),
        None,
        None,
    );
    mastodon.add_notification("follow", "cy@other.example", None, None, None);
    let synced = ok(&run(data, &bsky, &["inbox", "sync"], ""));
    assert!(synced.contains("2 new"), "{synced}");
    assert!(ok(&run(data, &bsky, &["inbox", "sync"], "")).contains("0 new"));
    let items: Vec<serde_json::Value> = serde_json::from_str(&ok(&run(
        data,
        &bsky,
        &["inbox", "list", "--unread", "--json"],
        "",
    )))
    .unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[1]["kind"], "mention");
    assert_eq!(items[1]["text"], "Gibt es heute Zimtschnecken?");
    let found = ok(&run(
        data,
        &bsky,
        &["inbox", "list", "--search", "zimt"],
        "",
    ));
    assert!(
        found.contains("bob@other.example") && !found.contains("cy@other.example"),
        "{found}"
    );
}
