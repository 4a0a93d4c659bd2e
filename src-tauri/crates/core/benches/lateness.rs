//! Lateness of scheduled posts: from the due time to the request reaching the network, with
//! 10,000 targets due within one minute across 100 accounts (50 Mastodon servers and 50
//! Bluesky PDSes, all fakes on 127.0.0.1). Prints p50 / p90 / p99 / max.
//!
//! `cargo bench -p postwerk-core --bench lateness` (sizes: `POSTWERK_BENCH_TARGETS`,
//! `POSTWERK_BENCH_ACCOUNTS`, `POSTWERK_BENCH_SPREAD_SECS`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use postwerk_core::accounts::{ConnectBluesky, NetConfig, StartMastodon};
use postwerk_core::posts::{DraftInput, DraftTarget};
use postwerk_core::secrets::MemoryStore;
use postwerk_core::{AppPaths, Core, NewWorkspace, Secret, SecretStore, Secrets};
use postwerk_fakes::{FakeBluesky, FakeMastodon};

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() {
    let targets = env_or("POSTWERK_BENCH_TARGETS", 10_000);
    let accounts = env_or("POSTWERK_BENCH_ACCOUNTS", 100).max(2);
    let spread = env_or("POSTWERK_BENCH_SPREAD_SECS", 60);

    // The fakes stand for remote servers: their own runtime and threads.
    let fakes_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mastodons: Vec<FakeMastodon> = (0..accounts / 2)
        .map(|_| fakes_rt.block_on(FakeMastodon::start()))
        .collect();
    let pdses: Vec<FakeBluesky> = (0..accounts - accounts / 2)
        .map(|i| {
            let pds = fakes_rt.block_on(FakeBluesky::start());
            pds.add_account(
                &format!("shop{i}.test"),
                &format!("shop{i}@example.com"),
                "app-pass-1234",
                "Shop",
            );
            pds
        })
        .collect();

    // Postwerk as the app runs it: two worker threads.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (core, due_by_text) = rt.block_on(async {
        let core = Core::open_with(
            AppPaths::at(dir.path().join("data")),
            Secrets::with_store(Arc::new(MemoryStore::new()) as Arc<dyn SecretStore>),
            NetConfig {
                oauth_ports: vec![free_port()],
                oauth_timeout: Duration::from_secs(20),
                ..NetConfig::default()
            },
        )
        .await
        .unwrap();
        let workspace = core
            .workspaces()
            .create(NewWorkspace {
                name: "Bench".into(),
                time_zone: Some("Europe/Berlin".into()),
                color: None,
            })
            .await
            .unwrap()
            .id;
        let setup = Instant::now();
        let mut account_ids = Vec::new();
        for m in &mastodons {
            let pending = core
                .accounts()
                .start_mastodon(StartMastodon {
                    workspace_id: workspace.clone(),
                    instance: m.url().to_string(),
                    reconnect_id: None,
                })
                .await
                .unwrap();
            let finish = {
                let accounts = core.accounts().clone();
                let flow = pending.flow_id.clone();
                tokio::spawn(async move { accounts.finish_mastodon(&flow).await })
            };
            postwerk_fakes::play_mastodon_sign_in(&pending.authorize_url, "approve").await;
            account_ids.push(finish.await.unwrap().unwrap().id);
        }
        for (i, pds) in pdses.iter().enumerate() {
            let account = core
                .accounts()
                .connect_bluesky(ConnectBluesky {
                    workspace_id: workspace.clone(),
                    identifier: format!("shop{i}.test"),
                    password: Secret::new("app-pass-1234"),
                    service: Some(pds.url().to_string()),
                    reconnect_id: None,
                })
                .await
                .unwrap();
            account_ids.push(account.id);
        }
        let placeholder = Utc::now() + chrono::Duration::hours(1);
        let wall = placeholder
            .with_timezone(&chrono_tz::Europe::Berlin)
            .format("%Y-%m-%d %H:%M")
            .to_string();
        let mut posts = Vec::with_capacity(targets);
        for i in 0..targets {
            let text = format!("Angebot {i} für heute");
            let draft = core
                .posts()
                .save_draft(DraftInput {
                    id: None,
                    workspace_id: workspace.clone(),
                    text: text.clone(),
                    spoiler: String::new(),
                    media: vec![],
                    targets: vec![DraftTarget {
                        account_id: account_ids[i % account_ids.len()].clone(),
                        text_override: None,
                        thread_parts: None,
                    }],
                })
                .await
                .unwrap();
            core.publisher().schedule(&draft.id, &wall, Utc::now()).await.unwrap();
            posts.push((draft.id, text));
        }
        // Now spread the due times evenly over the minute after a short lead.
        let t0 = Utc::now() + chrono::Duration::seconds(3);
        let step_us = (spread as i64 * 1_000_000) / targets as i64;
        let mut due_by_text: HashMap<String, DateTime<Utc>> = HashMap::new();
        let mut tx = core.store().pool().begin().await.unwrap();
        for (i, (post, text)) in posts.iter().enumerate() {
            let due = t0 + chrono::Duration::microseconds(step_us * i as i64);
            let due = due - chrono::Duration::microseconds(due.timestamp_subsec_micros() as i64 % 1000);
            let stamp = due.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            sqlx::query("UPDATE post_targets SET scheduled_at = ?1, due_at = ?1, hand_off = 0 WHERE post_id = ?2")
                .bind(&stamp)
                .bind(post)
                .execute(&mut *tx)
                .await
                .unwrap();
            due_by_text.insert(text.clone(), due);
        }
        tx.commit().await.unwrap();
        eprintln!(
            "set up {} accounts and {targets} scheduled targets in {:.1} s; due from {t0} over {spread} s",
            account_ids.len(),
            setup.elapsed().as_secs_f64()
        );
        (core, due_by_text)
    });

    let started = Instant::now();
    let scheduler = rt.spawn(postwerk_core::scheduler::run_owned(core.clone()));
    let finished = rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(spread as u64 + 600);
        loop {
            let open: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM post_targets WHERE state IN ('scheduled', 'publishing')",
            )
            .fetch_one(core.store().pool())
            .await
            .unwrap();
            if open == 0 || Instant::now() > deadline {
                break open == 0;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    scheduler.abort();
    let wall = started.elapsed();

    // When each post reached the network: Mastodon's created_at (set on arrival), and the
    // Bluesky record's createdAt (set by Postwerk as it sends the request).
    let mut lateness_ms: Vec<i64> = Vec::with_capacity(targets);
    let mut seen = 0usize;
    let mut record = |text: &str, at: &str| {
        if let (Some(due), Ok(at)) = (due_by_text.get(text), DateTime::parse_from_rfc3339(at)) {
            seen += 1;
            lateness_ms.push((at.with_timezone(&Utc) - *due).num_milliseconds());
        }
    };
    for m in &mastodons {
        for s in m.statuses() {
            record(&s.text, &s.created_at);
        }
    }
    for pds in &pdses {
        for r in pds.records() {
            record(
                r.value["text"].as_str().unwrap_or_default(),
                r.value["createdAt"].as_str().unwrap_or_default(),
            );
        }
    }
    let claims: Vec<(String, String)> = rt
        .block_on(
            sqlx::query_as(
                "SELECT scheduled_at, claimed_at FROM post_targets WHERE claimed_at IS NOT NULL",
            )
            .fetch_all(core.store().pool()),
        )
        .unwrap();
    let mut claim_ms: Vec<i64> = claims
        .iter()
        .filter_map(|(due, claimed)| {
            Some(
                (DateTime::parse_from_rfc3339(claimed).ok()?
                    - DateTime::parse_from_rfc3339(due).ok()?)
                .num_milliseconds(),
            )
        })
        .collect();
    lateness_ms.sort_unstable();
    claim_ms.sort_unstable();
    println!(
        "lateness bench: {targets} targets over {spread} s across {accounts} accounts ({} Mastodon servers, {} Bluesky PDSes)",
        mastodons.len(),
        pdses.len()
    );
    println!(
        "  all settled: {finished} in {:.1} s; {seen} posts seen on the fakes",
        wall.as_secs_f64()
    );
    println!(
        "  due -> request at the network: p50 {} ms, p90 {} ms, p99 {} ms, max {} ms",
        percentile(&lateness_ms, 50.0),
        percentile(&lateness_ms, 90.0),
        percentile(&lateness_ms, 99.0),
        lateness_ms.last().copied().unwrap_or(0)
    );
    println!(
        "  due -> claimed by the scheduler: p50 {} ms, p99 {} ms, max {} ms",
        percentile(&claim_ms, 50.0),
        percentile(&claim_ms, 99.0),
        claim_ms.last().copied().unwrap_or(0)
    );
    let duplicates = seen.saturating_sub(due_by_text.len());
    println!("  duplicates: {duplicates}");
    rt.block_on(core.close());
}
