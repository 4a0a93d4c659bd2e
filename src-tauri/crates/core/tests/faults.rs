//! The scheduler against fakes that fail 30 % of the publishing requests at random: 5xx, 429
//! with `Retry-After`, connection resets before and after the server processed the request,
//! and hangs past the client's timeout. Every post is delivered exactly once.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use postwerk_core::publish::TargetState;
use postwerk_networks::backoff::Backoff;

use common::env_with_timeout;

const POSTS: usize = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_thirty_percent_of_requests_failing_every_post_goes_out_once() {
    let env = env_with_timeout(Duration::from_secs(2)).await;
    let core = env.core.clone().with_backoff(Backoff {
        base: Duration::from_millis(200),
        max: Duration::from_secs(2),
    });
    let start = chrono::Utc::now();
    let mut posts = Vec::new();
    for i in 0..POSTS {
        let text = format!("Angebot Nummer {i}");
        let post = env.draft(&text, vec![], env.both()).await;
        // Spread over ten seconds from three seconds on, as wall clocks in Berlin.
        let at = start
            + chrono::Duration::seconds(3)
            + chrono::Duration::milliseconds(i64::try_from(i).unwrap() * 250);
        let wall = at
            .with_timezone(&chrono_tz::Europe::Berlin)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string();
        core.publisher()
            .schedule(&post, &wall, start)
            .await
            .unwrap();
        posts.push((post, text));
    }
    let hang = Duration::from_secs(3);
    env.mastodon.set_chaos(
        0.3,
        &[
            "/api/v1/statuses",
            "/api/v1/accounts/",
            "/api/v1/scheduled_statuses",
        ],
        hang,
        42,
    );
    env.bsky.set_chaos(
        0.3,
        &[
            "/xrpc/com.atproto.repo.createRecord",
            "/xrpc/com.atproto.repo.getRecord",
        ],
        hang,
        7,
    );
    let scheduler = tokio::spawn(postwerk_core::scheduler::run_owned(core.clone()));

    let deadline = std::time::Instant::now() + Duration::from_secs(240);
    loop {
        let states: Vec<(String, i64)> = sqlx::query_as("SELECT state, attempts FROM post_targets")
            .fetch_all(core.store().pool())
            .await
            .unwrap();
        let done = states
            .iter()
            .filter(|(s, _)| s != "scheduled" && s != "publishing")
            .count();
        if done == states.len() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not all settled: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    scheduler.abort();

    for (post, _) in &posts {
        let outcomes = core.publisher().outcomes(post).await.unwrap();
        assert!(
            outcomes.iter().all(|o| o.state == TargetState::Published),
            "{outcomes:?}"
        );
    }
    let mut on_mastodon: HashMap<String, usize> = HashMap::new();
    for s in env.mastodon.statuses() {
        *on_mastodon.entry(s.text).or_default() += 1;
    }
    let mut on_bluesky: HashMap<String, usize> = HashMap::new();
    for r in env.bsky.records().iter().filter(|r| !r.deleted) {
        *on_bluesky
            .entry(r.value["text"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    for (_, text) in &posts {
        assert_eq!(on_mastodon.get(text), Some(&1), "Mastodon: {text}");
        assert_eq!(on_bluesky.get(text), Some(&1), "Bluesky: {text}");
    }
    assert_eq!(on_mastodon.len(), POSTS);
    assert_eq!(on_bluesky.len(), POSTS);

    // The faults really happened, of every kind.
    let mut injected = env.mastodon.chaos_counts();
    for (kind, n) in env.bsky.chaos_counts() {
        *injected.entry(kind).or_default() += n;
    }
    let attempts: i64 = sqlx::query_scalar("SELECT sum(attempts) FROM post_targets")
        .fetch_one(core.store().pool())
        .await
        .unwrap();
    eprintln!(
        "{} targets, {attempts} attempts, faults injected: {injected:?}",
        POSTS * 2
    );
    for kind in [
        "500",
        "502",
        "503",
        "429",
        "reset before",
        "reset after",
        "timeout",
    ] {
        assert!(
            injected.get(kind).copied().unwrap_or(0) > 0,
            "no {kind} injected: {injected:?}"
        );
    }
}
