//! The crash test: `postwerk daemon` is killed with SIGKILL at random moments while scheduled
//! posts fall due, and started again each time. At the end, what the fake networks received is
//! compared with what was scheduled: nothing lost, nothing twice.
//!
//! CI runs 200 posts and 20 kills. The bench command runs more:
//! `POSTWERK_CRASH_POSTS=1000 POSTWERK_CRASH_KILLS=50 scripts/with-session cargo test --release -p postwerk-cli --test crash -- --ignored --nocapture`

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use postwerk_core::posts::{DraftInput, DraftTarget};
use postwerk_core::{AppPaths, Core};
use postwerk_fakes::{FakeBluesky, FakeMastodon};

mod common;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn daemon(data: &Path, bsky: &FakeBluesky) -> Child {
    common::command(data, bsky, &["daemon"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the OS keychain: runs through scripts/test"]
async fn a_daemon_killed_at_random_moments_loses_nothing_and_posts_nothing_twice() {
    let posts = env_num("POSTWERK_CRASH_POSTS", 200);
    let kills = env_num("POSTWERK_CRASH_KILLS", 20);
    // The fakes keep the real limits (Mastodon: 300 statuses per 3 hours per account; a PDS:
    // 3000 requests per 5 minutes per IP), so larger runs spread over more servers.
    let mastodons: Vec<FakeMastodon> = {
        let mut v = Vec::new();
        for _ in 0..posts.div_ceil(250).max(1) {
            v.push(FakeMastodon::start().await);
        }
        v
    };
    let pdses: Vec<FakeBluesky> = {
        let mut v = Vec::new();
        for i in 0..posts.div_ceil(400).max(1) {
            let pds = FakeBluesky::start().await;
            pds.add_account(
                &format!("crash{i}.test"),
                &format!("crash{i}@example.com"),
                "crash-pass-1234",
                "Crash",
            );
            v.push(pds);
        }
        v
    };
    let bsky = &pdses[0];
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    common::ok(&common::run(
        data,
        bsky,
        &["workspace", "add", "Crash", "--tz", "UTC"],
        "",
    ));
    for (i, pds) in pdses.iter().enumerate() {
        let identifier = format!("crash{i}.test");
        let service = pds.url().to_string();
        common::ok(&common::run(
            data,
            bsky,
            &[
                "account",
                "add",
                "bluesky",
                "--identifier",
                &identifier,
                "--service",
                &service,
                "--password-stdin",
            ],
            "crash-pass-1234\n",
        ));
    }
    // Mastodon through the sign-in page, played here.
    for mastodon in &mastodons {
        common::ok(&common::add_mastodon(data, bsky, mastodon, &[]).await);
    }

    // Schedule the posts through the core, due over the next ~40 s (second resolution).
    let core = Core::open(AppPaths::at(data)).await.unwrap();
    let workspace = core.workspaces().list().await.unwrap()[0].id.clone();
    let accounts = core.accounts().list(&workspace).await.unwrap();
    assert_eq!(accounts.len(), mastodons.len() + pdses.len());
    let on = |network: &str| -> Vec<String> {
        accounts
            .iter()
            .filter(|a| a.network.display_name().eq_ignore_ascii_case(network))
            .map(|a| a.id.clone())
            .collect()
    };
    let (masto_ids, bsky_ids) = (on("mastodon"), on("bluesky"));
    let start = chrono::Utc::now() + chrono::Duration::seconds(8);
    let spread_ms = 40_000 / posts.max(1) as i64;
    for i in 0..posts {
        let draft = core
            .posts()
            .save_draft(DraftInput {
                id: None,
                workspace_id: workspace.clone(),
                text: format!("crash-test post {i}"),
                spoiler: String::new(),
                media: vec![],
                targets: [
                    &masto_ids[i % masto_ids.len()],
                    &bsky_ids[i % bsky_ids.len()],
                ]
                .into_iter()
                .map(|id| DraftTarget {
                    account_id: id.clone(),
                    text_override: None,
                    thread_parts: None,
                })
                .collect(),
            })
            .await
            .unwrap();
        let at = start + chrono::Duration::milliseconds(spread_ms * i as i64);
        core.publisher()
            .schedule(
                &draft.id,
                &at.format("%Y-%m-%d %H:%M:%S").to_string(),
                chrono::Utc::now(),
            )
            .await
            .unwrap();
    }

    // Requests take a while, as on a real network, so kills land while posts are in flight.
    for m in &mastodons {
        m.set_latency(Duration::from_millis(600));
    }
    for pds in &pdses {
        pds.set_latency(Duration::from_millis(600));
    }

    // Kill the daemon at random moments while the posts fall due.
    let began = Instant::now();
    for _ in 0..kills {
        let mut child = daemon(data, bsky);
        tokio::time::sleep(Duration::from_millis(fastrand::u64(300..2_500))).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    // Then let one run until everything is out.
    let mut child = daemon(data, bsky);
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let done: i64 =
            sqlx::query_scalar("SELECT count(*) FROM post_targets WHERE state = 'published'")
                .fetch_one(core.store().pool())
                .await
                .unwrap();
        if done as usize == posts * 2 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let settled = std::fs::read_dir(data.join("logs"))
        .unwrap()
        .flatten()
        .map(|f| {
            std::fs::read_to_string(f.path())
                .unwrap_or_default()
                .matches("settling targets left unconfirmed")
                .count()
        })
        .sum::<usize>();
    eprintln!(
        "crash test: {posts} posts x 2 networks on {} Mastodon servers and {} PDSes, {kills} kills ({settled} restarts found posts in flight), {:.1} s",
        mastodons.len(),
        pdses.len(),
        began.elapsed().as_secs_f64()
    );

    let mut on_mastodon: HashMap<String, usize> = HashMap::new();
    for s in mastodons.iter().flat_map(FakeMastodon::statuses) {
        *on_mastodon.entry(s.text).or_default() += 1;
    }
    let mut on_bluesky: HashMap<String, usize> = HashMap::new();
    for r in pdses.iter().flat_map(FakeBluesky::records) {
        *on_bluesky
            .entry(r.value["text"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    let mut lost = Vec::new();
    let mut twice = Vec::new();
    for i in 0..posts {
        let text = format!("crash-test post {i}");
        for (network, seen) in [("mastodon", &on_mastodon), ("bluesky", &on_bluesky)] {
            match seen.get(&text).copied().unwrap_or(0) {
                0 => lost.push(format!("{network}: {text}")),
                1 => {}
                n => twice.push(format!("{network}: {text} x{n}")),
            }
        }
    }
    if !lost.is_empty() {
        type Row = (String, String, i64, Option<String>, Option<String>);
        let states: Vec<Row> = sqlx::query_as(
            "SELECT p.text, t.state, t.attempts, t.last_error, t.next_attempt_at FROM post_targets t \
             JOIN posts p ON p.id = t.post_id WHERE t.state != 'published' ORDER BY p.text",
        )
        .fetch_all(core.store().pool())
        .await
        .unwrap();
        eprintln!(
            "not published: {} targets, first: {:?}",
            states.len(),
            states.first()
        );
        for log in std::fs::read_dir(data.join("logs")).unwrap().flatten() {
            let text = std::fs::read_to_string(log.path()).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            eprintln!(
                "log tail:\n{}",
                lines[lines.len().saturating_sub(40)..].join("\n")
            );
        }
    }
    assert!(lost.is_empty(), "lost: {lost:?}");
    assert!(
        settled > 0,
        "no kill landed while posts were in flight: the test proved nothing"
    );
    assert!(twice.is_empty(), "duplicates: {twice:?}");
    assert_eq!(on_mastodon.len() + on_bluesky.len(), posts * 2);
}
