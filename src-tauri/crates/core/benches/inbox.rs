//! The inbox at scale: ingest rate, first-page and search latency (p50 / p95) on 1,000,000
//! stored items in a real SQLite file.
//!
//! `cargo bench -p postwerk-core --bench inbox` (size: `POSTWERK_BENCH_ITEMS`; with
//! `POSTWERK_BENCH_DATA_DIR` the data folder is kept there, for the scroll bench in the real
//! window, `tests/e2e/bench-inbox-scroll.mjs`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use postwerk_core::accounts::NetConfig;
use postwerk_core::inbox::{InboxFilter, InboxKind, NewInboxItem};
use postwerk_core::secrets::MemoryStore;
use postwerk_core::{AppPaths, Core, NewWorkspace, SecretStore, Secrets};

const WORDS: [&str; 24] = [
    "brot",
    "brötchen",
    "torte",
    "kuchen",
    "bestellung",
    "morgen",
    "öffnungszeiten",
    "danke",
    "lieferung",
    "preis",
    "angebot",
    "frage",
    "laden",
    "café",
    "hochzeit",
    "geburtstag",
    "vegan",
    "glutenfrei",
    "sonntag",
    "termin",
    "abholung",
    "rechnung",
    "lob",
    "kritik",
];

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let total: usize = std::env::var("POSTWERK_BENCH_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let data = std::env::var_os("POSTWERK_BENCH_DATA_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| dir.path().join("data"));
    rt.block_on(async {
        let core = Core::open_with(
            AppPaths::at(data.clone()),
            Secrets::with_store(Arc::new(MemoryStore::new()) as Arc<dyn SecretStore>),
            NetConfig::default(),
        )
        .await
        .unwrap();
        let ws = core
            .workspaces()
            .create(NewWorkspace { name: "Bench".into(), ..Default::default() })
            .await
            .unwrap()
            .id;
        let accounts: Vec<String> = (0..4).map(|i| format!("bench-account-{i}")).collect();
        for (i, id) in accounts.iter().enumerate() {
            sqlx::query(
                "INSERT INTO accounts (id, workspace_id, network, server_url, remote_id, handle, display_name, connected_at, updated_at) \
                 VALUES (?, ?, ?, 'https://x.example/', ?, ?, 'Shop', 'now', 'now')",
            )
            .bind(id)
            .bind(&ws)
            .bind(if i % 2 == 0 { "mastodon" } else { "bluesky" })
            .bind(id)
            .bind(format!("shop{i}"))
            .execute(core.store().pool())
            .await
            .unwrap();
        }
        let kinds = [InboxKind::Mention, InboxKind::Reply, InboxKind::Like, InboxKind::Repost, InboxKind::Dm, InboxKind::Quote];
        let mut rng = fastrand::Rng::with_seed(7);
        let started = Instant::now();
        let batch = 10_000;
        let mut n = 0usize;
        while n < total {
            let items: Vec<NewInboxItem> = (n..(n + batch).min(total))
                .map(|i| {
                    let words: Vec<&str> = (0..12).map(|_| WORDS[rng.usize(..WORDS.len())]).collect();
                    let secs = i as i64 * 2;
                    NewInboxItem {
                        account_id: accounts[i % accounts.len()].clone(),
                        kind: kinds[i % kinds.len()],
                        remote_id: format!("{i}"),
                        subject_id: Some(format!("post-{}", i / 7)),
                        subject_cid: None,
                        root_uri: None,
                        root_cid: None,
                        subject_url: Some(format!("https://x.example/@shop/{}", i / 7)),
                        conversation_id: None,
                        author_id: format!("user{}", i % 5000),
                        author_handle: format!("kunde{}.example", i % 5000),
                        author_name: format!("Kundin {}", i % 5000),
                        author_avatar: None,
                        text: words.join(" "),
                        html: None,
                        created_at: (chrono::DateTime::UNIX_EPOCH + chrono::Duration::seconds(1_700_000_000 + secs))
                            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    }
                })
                .collect();
            n += items.len();
            core.inbox().ingest(&items).await.unwrap();
        }
        let ingest = started.elapsed();
        println!("inbox bench: {total} items");
        println!(
            "  ingest: {:.1} s, {:.0} items/s (batches of {batch}, FTS5 index kept up to date)",
            ingest.as_secs_f64(),
            total as f64 / ingest.as_secs_f64()
        );
        let runs = 200;
        let mut first_page = Vec::new();
        for i in 0..runs {
            let filter = InboxFilter {
                workspace_id: ws.clone(),
                unread: (i % 2 == 0).then_some(true),
                ..Default::default()
            };
            let t = Instant::now();
            let page = core.inbox().list(&filter).await.unwrap();
            first_page.push(t.elapsed());
            assert_eq!(page.items.len(), 50);
        }
        first_page.sort();
        println!(
            "  first page (50, newest first; all and unread): p50 {}, p95 {}",
            ms(percentile(&first_page, 50.0)),
            ms(percentile(&first_page, 95.0))
        );
        let mut search = Vec::new();
        let mut hits = 0;
        for i in 0..runs {
            let q = match i % 4 {
                0 => WORDS[i % WORDS.len()].to_string(),
                1 => format!("{} {}", WORDS[i % WORDS.len()], WORDS[(i * 7) % WORDS.len()]),
                2 => format!("kunde{}", i * 13 % 5000),
                _ => WORDS[i % WORDS.len()][..3].to_string(),
            };
            let filter = InboxFilter { workspace_id: ws.clone(), query: Some(q), ..Default::default() };
            let t = Instant::now();
            let page = core.inbox().list(&filter).await.unwrap();
            search.push(t.elapsed());
            hits += page.items.len();
        }
        search.sort();
        println!(
            "  search (first page of hits; words, two words, an author, a prefix): p50 {}, p95 {} ({hits} hits shown over {runs} searches)",
            ms(percentile(&search, 50.0)),
            ms(percentile(&search, 95.0))
        );
        // The sidebar's badge and the label filter: 10,000 items labelled, every item unread
        // (the worst case for the count).
        let labelled: Vec<String> = core
            .inbox()
            .list(&InboxFilter { workspace_id: ws.clone(), limit: Some(500), ..Default::default() })
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|i| i.id)
            .collect();
        for (k, chunk) in labelled.chunks(50).enumerate() {
            let change = postwerk_core::inbox::InboxChange {
                add_label: Some(format!("Label {}", k % 5)),
                ..Default::default()
            };
            core.inbox().change(chunk, &change).await.unwrap();
        }
        let mut summary = Vec::new();
        let mut unread = 0;
        for _ in 0..50 {
            let t = Instant::now();
            let s = core.inbox().summary(&ws).await.unwrap();
            summary.push(t.elapsed());
            unread = s.unread;
            assert_eq!(s.labels.len(), 5);
        }
        summary.sort();
        println!(
            "  summary (unread count, capped at {unread}, and 5 labels over {total} unread items): p50 {}, p95 {}",
            ms(percentile(&summary, 50.0)),
            ms(percentile(&summary, 95.0))
        );
        let size = std::fs::metadata(data.join("postwerk.db")).map(|m| m.len()).unwrap_or(0);
        println!("  database: {:.0} MB", size as f64 / 1e6);
        core.close().await;
    });
}
