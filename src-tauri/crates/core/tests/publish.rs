//! Publishing now against the fake Mastodon and Bluesky servers: what they received, byte for
//! byte, and no duplicates when a request's answer is lost.

mod common;

use std::time::Duration;

use common::{env, png};

use postwerk_core::ErrorCode;
use postwerk_core::posts::{DraftMediaInput, DraftTarget};
use postwerk_core::publish::{HeldBy, TargetState};
use postwerk_networks::NetworkKind;

#[tokio::test]
async fn text_with_emoji_link_tag_and_image_reaches_both_networks_exactly() {
    let env = env().await;
    let image = env
        .core
        .media()
        .import("bread.png", png(1200, 800))
        .await
        .unwrap();
    let card_page = format!("{}_page/article", env.bsky.url());
    let text = format!("Frische Brötchen 🥐👩‍👩‍👧 ab 6 Uhr! {card_page} #Bäckerei");
    let post = env
        .draft(
            &text,
            vec![DraftMediaInput {
                media_id: image.id.clone(),
                alt: "Ein Korb mit Brötchen".into(),
            }],
            env.both(),
        )
        .await;
    let outcomes = env.core.publisher().publish_now(&post).await.unwrap();
    assert_eq!(outcomes.len(), 2);
    for o in &outcomes {
        assert_eq!(o.state, TargetState::Published, "{o:?}");
        assert!(o.url.is_some(), "{o:?}");
    }

    // Mastodon: the text as written, the image with its alt text, an idempotency key.
    let statuses = env.mastodon.statuses();
    assert_eq!(statuses.len(), 1);
    let media = env.mastodon.media();
    assert_eq!(media.len(), 1);
    assert_eq!(
        media[0].description.as_deref(),
        Some("Ein Korb mit Brötchen")
    );
    assert_eq!(
        media[0].bytes,
        png(1200, 800),
        "Mastodon gets the original file"
    );

    // Bluesky: facets with UTF-8 byte offsets, the re-encoded image blob, alt text.
    let records = env.bsky.records();
    assert_eq!(records.len(), 1);
    let record = &records[0].value;
    assert_eq!(record["text"], text);
    assert!(record["createdAt"].as_str().unwrap().ends_with('Z'));
    let facets = record["facets"].as_array().unwrap();
    let link_start = text.find("http").unwrap();
    let link = facets
        .iter()
        .find(|f| f["features"][0]["$type"] == "app.bsky.richtext.facet#link")
        .unwrap();
    assert_eq!(link["index"]["byteStart"], link_start);
    assert_eq!(link["index"]["byteEnd"], link_start + card_page.len());
    assert_eq!(link["features"][0]["uri"], card_page);
    let tag = facets
        .iter()
        .find(|f| f["features"][0]["$type"] == "app.bsky.richtext.facet#tag")
        .unwrap();
    assert_eq!(tag["features"][0]["tag"], "Bäckerei");
    assert_eq!(tag["index"]["byteStart"], text.find('#').unwrap());
    assert_eq!(tag["index"]["byteEnd"], text.len());
    let images = record["embed"]["images"].as_array().unwrap();
    assert_eq!(images[0]["alt"], "Ein Korb mit Brötchen");
    let blobs = env.bsky.blobs();
    assert_eq!(blobs.len(), 1);
    assert_eq!(blobs[0].mime, "image/jpeg");
    assert!(blobs[0].bytes.len() <= 1_000_000);
    assert_eq!(images[0]["image"]["ref"]["$link"], blobs[0].cid);
    assert_eq!(images[0]["aspectRatio"]["width"], 1200);
}

#[tokio::test]
async fn a_link_without_images_gets_a_card_with_its_thumb() {
    let env = env().await;
    let page = format!("{}_page/article", env.bsky.url());
    let post = env
        .draft(
            &format!("Neu im Blog, mit Dank an @bob.test und @ghost.example.com: {page}"),
            vec![],
            vec![DraftTarget {
                account_id: env.bsky_account.clone(),
                text_override: None,
                thread_parts: None,
            }],
        )
        .await;
    let outcomes = env.core.publisher().publish_now(&post).await.unwrap();
    assert_eq!(outcomes[0].state, TargetState::Published, "{outcomes:?}");
    let record = &env.bsky.records()[0].value;
    let external = &record["embed"]["external"];
    assert_eq!(record["embed"]["$type"], "app.bsky.embed.external");
    assert_eq!(external["uri"], page);
    assert!(!external["title"].as_str().unwrap().is_empty());
    assert_eq!(external["thumb"]["ref"]["$link"], env.bsky.blobs()[0].cid);
    // The mention of a known handle became a facet with its DID; the unknown one stays text.
    let text = record["text"].as_str().unwrap();
    let mentions: Vec<&serde_json::Value> = record["facets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["features"][0]["$type"] == "app.bsky.richtext.facet#mention")
        .collect();
    assert_eq!(mentions.len(), 1);
    let start = text.find("@bob.test").unwrap();
    assert_eq!(mentions[0]["index"]["byteStart"], start);
    assert_eq!(mentions[0]["index"]["byteEnd"], start + "@bob.test".len());
    assert!(
        mentions[0]["features"][0]["did"]
            .as_str()
            .unwrap()
            .starts_with("did:plc:")
    );
}

#[tokio::test]
async fn a_thread_goes_out_in_order_and_replies_chain() {
    let env = env().await;
    let parts = vec![
        "Teil eins.".to_string(),
        "Teil zwei.".to_string(),
        "Teil drei.".to_string(),
    ];
    let targets = [&env.masto_account, &env.bsky_account]
        .into_iter()
        .map(|id| DraftTarget {
            account_id: id.clone(),
            text_override: None,
            thread_parts: Some(parts.clone()),
        })
        .collect();
    let post = env
        .draft("Teil eins. Teil zwei. Teil drei.", vec![], targets)
        .await;
    let outcomes = env.core.publisher().publish_now(&post).await.unwrap();
    assert!(
        outcomes.iter().all(|o| o.state == TargetState::Published),
        "{outcomes:?}"
    );
    let statuses = env.mastodon.statuses();
    assert_eq!(statuses.len(), 3);
    assert_eq!(
        statuses[1].in_reply_to_id.as_deref(),
        Some(statuses[0].id.as_str())
    );
    assert_eq!(
        statuses[2].in_reply_to_id.as_deref(),
        Some(statuses[1].id.as_str())
    );
    let records = env.bsky.records();
    assert_eq!(records.len(), 3);
    assert_eq!(records[2].value["reply"]["root"]["uri"], records[0].uri);
    assert_eq!(records[2].value["reply"]["parent"]["uri"], records[1].uri);
}

#[tokio::test]
async fn a_dropped_connection_then_retry_makes_no_second_post() {
    let env = env().await;
    env.mastodon.drop_after_next("/api/v1/statuses");
    env.bsky
        .drop_after_next("/xrpc/com.atproto.repo.createRecord");
    let post = env.draft("Nur einmal, bitte.", vec![], env.both()).await;
    let first = env.core.publisher().publish_now(&post).await.unwrap();
    assert!(
        first.iter().all(|o| o.state == TargetState::Failed),
        "{first:?}"
    );
    assert!(
        first
            .iter()
            .all(|o| o.error_code == Some(ErrorCode::NetworkUnavailable)),
        "{first:?}"
    );
    // Both networks did create the post; only the answer was lost.
    assert_eq!(env.mastodon.statuses().len(), 1);
    assert_eq!(env.bsky.records().len(), 1);

    let again = env.core.publisher().retry(&post).await.unwrap();
    assert!(
        again.iter().all(|o| o.state == TargetState::Published),
        "{again:?}"
    );
    assert_eq!(
        env.mastodon.statuses().len(),
        1,
        "the idempotency key replayed the first status"
    );
    assert_eq!(
        env.bsky.records().len(),
        1,
        "the record key made the retry find the first record"
    );
    let url = again
        .iter()
        .find(|o| o.account_id == env.masto_account)
        .unwrap()
        .url
        .clone()
        .unwrap();
    assert!(url.ends_with(&env.mastodon.statuses()[0].id), "{url}");
}

#[tokio::test]
async fn refusals_are_specific_and_only_failed_targets_are_retried() {
    let env = env().await;
    let long = "Brot ".repeat(70); // 350 characters: fine for Mastodon, too long for Bluesky
    let post = env.draft(long.trim(), vec![], env.both()).await;
    let outcomes = env.core.publisher().publish_now(&post).await.unwrap();
    let masto = outcomes
        .iter()
        .find(|o| o.account_id == env.masto_account)
        .unwrap();
    let bsky = outcomes
        .iter()
        .find(|o| o.account_id == env.bsky_account)
        .unwrap();
    assert_eq!(masto.state, TargetState::Published);
    assert_eq!(bsky.state, TargetState::Failed);
    let message = bsky.error.clone().unwrap();
    assert!(message.contains("Bluesky"), "{message}");
    assert!(message.contains("300"), "{message}");
    let again = env.core.publisher().retry(&post).await.unwrap();
    assert_eq!(
        env.mastodon.statuses().len(),
        1,
        "the published target was not sent again"
    );
    assert_eq!(
        again
            .iter()
            .filter(|o| o.state == TargetState::Failed)
            .count(),
        1
    );
}

#[tokio::test]
async fn mastodon_media_still_processing_is_polled_until_ready() {
    let env = env().await;
    env.mastodon.set_media_processing(2);
    let image = env
        .core
        .media()
        .import("bread.png", png(64, 64))
        .await
        .unwrap();
    let post = env
        .draft(
            "Mit Bild",
            vec![DraftMediaInput {
                media_id: image.id,
                alt: "Brot".into(),
            }],
            vec![DraftTarget {
                account_id: env.masto_account.clone(),
                text_override: None,
                thread_parts: None,
            }],
        )
        .await;
    let outcomes = env.core.publisher().publish_now(&post).await.unwrap();
    assert_eq!(outcomes[0].state, TargetState::Published, "{outcomes:?}");
    let polls = env
        .mastodon
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/api/v1/media/"))
        .map(|r| r.status)
        .collect::<Vec<_>>();
    assert_eq!(polls, [206, 206, 200], "polled while processing");
    assert_eq!(env.mastodon.statuses()[0].media_ids.len(), 1);
}

#[tokio::test]
async fn too_many_images_for_bluesky_is_refused_before_sending() {
    let env = env().await;
    let mut media = Vec::new();
    for i in 0..5 {
        let img = env
            .core
            .media()
            .import(&format!("{i}.png"), png(20 + i, 20))
            .await
            .unwrap();
        media.push(DraftMediaInput {
            media_id: img.id,
            alt: format!("Bild {i}"),
        });
    }
    let post = env.draft("Fünf Bilder", media, env.both()).await;
    let outcomes = env.core.publisher().publish_now(&post).await.unwrap();
    let bsky = outcomes
        .iter()
        .find(|o| o.account_id == env.bsky_account)
        .unwrap();
    let masto = outcomes
        .iter()
        .find(|o| o.account_id == env.masto_account)
        .unwrap();
    assert_eq!(bsky.state, TargetState::Failed);
    assert_eq!(bsky.error_code, Some(ErrorCode::InvalidInput));
    assert!(
        bsky.error
            .as_deref()
            .unwrap()
            .contains("5 images attached, Bluesky takes 4"),
        "{bsky:?}"
    );
    assert!(env.bsky.blobs().is_empty(), "nothing was uploaded");
    assert_eq!(
        masto.state,
        TargetState::Failed,
        "Mastodon takes 4 too: {masto:?}"
    );
    assert!(env.mastodon.media().is_empty());
}

#[tokio::test]
async fn an_interrupted_thread_resumes_without_repeating_a_part() {
    let env = env().await;
    let parts = vec![
        "Eins.".to_string(),
        "Zwei.".to_string(),
        "Drei.".to_string(),
    ];
    let targets = [&env.masto_account, &env.bsky_account]
        .into_iter()
        .map(|id| DraftTarget {
            account_id: id.clone(),
            text_override: None,
            thread_parts: Some(parts.clone()),
        })
        .collect();
    let post = env.draft("Eins. Zwei. Drei.", vec![], targets).await;
    // The first part goes through on both networks, but its answer is lost.
    env.mastodon.drop_after_next("/api/v1/statuses");
    env.bsky
        .drop_after_next("/xrpc/com.atproto.repo.createRecord");
    let first = env.core.publisher().publish_now(&post).await.unwrap();
    assert!(
        first.iter().all(|o| o.state == TargetState::Failed),
        "{first:?}"
    );
    assert_eq!(env.mastodon.statuses().len(), 1);
    assert_eq!(env.bsky.records().len(), 1);

    let again = env.core.publisher().retry(&post).await.unwrap();
    assert!(
        again.iter().all(|o| o.state == TargetState::Published),
        "{again:?}"
    );
    let statuses = env.mastodon.statuses();
    assert_eq!(
        statuses.iter().map(|s| s.text.as_str()).collect::<Vec<_>>(),
        ["Eins.", "Zwei.", "Drei."]
    );
    assert_eq!(
        statuses[1].in_reply_to_id.as_deref(),
        Some(statuses[0].id.as_str())
    );
    let records = env.bsky.records();
    assert_eq!(
        records
            .iter()
            .map(|r| r.value["text"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["Eins.", "Zwei.", "Drei."]
    );
    assert_eq!(records[1].value["reply"]["parent"]["uri"], records[0].uri);
}

fn berlin_wall_clock(t: chrono::DateTime<chrono::Utc>) -> String {
    t.with_timezone(&chrono_tz::Europe::Berlin)
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[tokio::test]
async fn a_scheduled_post_goes_out_once_when_due_in_the_workspace_zone() {
    let env = env().await;
    let post = env.draft("Später, bitte.", vec![], env.both()).await;
    let now = chrono::Utc::now();
    let when = now + chrono::Duration::minutes(10);
    let scheduled = env
        .core
        .publisher()
        .schedule(&post, &berlin_wall_clock(when), now)
        .await
        .unwrap();
    assert!(scheduled.iter().all(|o| o.state == TargetState::Scheduled));
    let queue = env
        .core
        .publisher()
        .queue(Some(&env.workspace))
        .await
        .unwrap();
    assert_eq!(queue.len(), 2);
    assert_eq!(queue[0].scheduled_zone.as_deref(), Some("Europe/Berlin"));
    assert_eq!(
        queue[0].scheduled_local.as_deref(),
        Some(berlin_wall_clock(when).as_str())
    );

    let lease = Duration::from_secs(300);
    // Ten minutes ahead: the Mastodon copy goes to the server's scheduler now; Bluesky waits.
    assert_eq!(
        env.core.publisher().run_due(now, lease).await.unwrap(),
        1,
        "only the hand-off"
    );
    assert!(env.mastodon.statuses().is_empty() && env.bsky.records().is_empty());
    let held = env.mastodon.scheduled();
    assert_eq!(held.len(), 1);
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&held[0].scheduled_at).unwrap(),
        chrono::DateTime::parse_from_rfc3339(queue[0].scheduled_at.as_deref().unwrap()).unwrap()
    );
    let queue = env
        .core
        .publisher()
        .queue(Some(&env.workspace))
        .await
        .unwrap();
    let by_network = |n: NetworkKind| queue.iter().find(|q| q.network == n).unwrap().clone();
    assert_eq!(
        by_network(NetworkKind::Mastodon).state,
        TargetState::HandedOff
    );
    assert_eq!(by_network(NetworkKind::Mastodon).held_by, HeldBy::Network);
    assert_eq!(by_network(NetworkKind::Bluesky).held_by, HeldBy::Postwerk);
    assert_eq!(
        env.core.publisher().run_due(now, lease).await.unwrap(),
        0,
        "handed off once"
    );

    let due = when + chrono::Duration::minutes(1);
    assert_eq!(env.core.publisher().run_due(due, lease).await.unwrap(), 1);
    assert_eq!(
        env.core.publisher().run_due(due, lease).await.unwrap(),
        0,
        "claimed once"
    );
    // The server publishes its copy; reconciling finds it and its link.
    assert_eq!(env.mastodon.publish_due_scheduled(due).len(), 1);
    assert_eq!(env.core.publisher().reconcile(due).await.unwrap(), 1);
    let outcomes = env.core.publisher().outcomes(&post).await.unwrap();
    assert!(
        outcomes.iter().all(|o| o.state == TargetState::Published),
        "{outcomes:?}"
    );
    let statuses = env.mastodon.statuses();
    assert_eq!(statuses.len(), 1);
    let mastodon = outcomes
        .iter()
        .find(|o| o.network == NetworkKind::Mastodon)
        .unwrap();
    assert!(
        mastodon.url.as_deref().unwrap().ends_with(&statuses[0].id),
        "{mastodon:?}"
    );
    assert_eq!(env.bsky.records().len(), 1);
}

#[tokio::test]
async fn past_and_daylight_saving_times_are_refused() {
    let env = env().await;
    let post = env.draft("Zeitreise", vec![], env.both()).await;
    let now = chrono::Utc::now();
    let publisher = env.core.publisher();
    let err = publisher
        .schedule(
            &post,
            &berlin_wall_clock(now - chrono::Duration::hours(1)),
            now,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is in the past"), "{err}");
    let err = publisher
        .schedule(&post, "2030-03-31 02:30", now)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("does not exist in Europe/Berlin"),
        "{err}"
    );
    assert!(err.to_string().contains("03:00 +02:00"), "{err}");
    let err = publisher
        .schedule(&post, "2030-10-27 02:30", now)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("happens twice"), "{err}");
    // Nothing changed: still a draft.
    assert_eq!(
        env.core
            .posts()
            .latest_draft(&env.workspace)
            .await
            .unwrap()
            .unwrap()
            .id,
        post
    );
}

#[tokio::test]
async fn after_a_crash_an_expired_lease_is_settled_without_a_second_post() {
    let env = env().await;
    let post = env.draft("Absturz", vec![], env.both()).await;
    let now = chrono::Utc::now();
    let when = now + chrono::Duration::minutes(6);
    env.core
        .publisher()
        .schedule(&post, &berlin_wall_clock(when), now)
        .await
        .unwrap();
    // The process "dies" after the requests went out: both networks created the post, the
    // answers were lost, and the targets stay claimed.
    env.mastodon.drop_after_next("/api/v1/statuses");
    env.bsky
        .drop_after_next("/xrpc/com.atproto.repo.createRecord");
    let due = when + chrono::Duration::minutes(1);
    env.core
        .publisher()
        .run_due(due, Duration::from_secs(300))
        .await
        .unwrap();
    sqlx::query("UPDATE post_targets SET state = 'publishing', lease_until = ? WHERE post_id = ?")
        .bind((due + chrono::Duration::minutes(5)).to_rfc3339())
        .bind(&post)
        .execute(env.core.store().pool())
        .await
        .unwrap();
    assert_eq!(env.mastodon.statuses().len(), 1);
    assert_eq!(env.bsky.records().len(), 1);

    // Restart inside the lease: nothing is touched. After it: settled, no duplicates.
    assert_eq!(env.core.publisher().recover(due).await.unwrap(), 0);
    let later = due + chrono::Duration::minutes(10);
    assert_eq!(env.core.publisher().recover(later).await.unwrap(), 2);
    let outcomes = env.core.publisher().outcomes(&post).await.unwrap();
    assert!(
        outcomes.iter().all(|o| o.state == TargetState::Published),
        "{outcomes:?}"
    );
    assert_eq!(env.mastodon.statuses().len(), 1);
    assert_eq!(env.bsky.records().len(), 1);
}

#[tokio::test]
async fn transient_failures_of_a_scheduled_post_retry_after_what_the_network_asked() {
    let env = env().await;
    let post = env.draft("Geduld", vec![], env.both()).await;
    let now = chrono::Utc::now();
    let when = now + chrono::Duration::minutes(6);
    env.core
        .publisher()
        .schedule(&post, &berlin_wall_clock(when), now)
        .await
        .unwrap();
    env.mastodon
        .fail_next_retry_after("/api/v1/statuses", 429, 1, 120);
    env.bsky
        .fail_next("/xrpc/com.atproto.repo.createRecord", 502, 1);
    let due = when + chrono::Duration::minutes(1);
    let lease = Duration::from_secs(300);
    assert_eq!(env.core.publisher().run_due(due, lease).await.unwrap(), 2);
    let outcomes = env.core.publisher().outcomes(&post).await.unwrap();
    assert!(
        outcomes.iter().all(|o| o.state == TargetState::Scheduled),
        "back in the queue: {outcomes:?}"
    );
    assert!(
        outcomes.iter().all(|o| o.error.is_some()),
        "the reason is kept: {outcomes:?}"
    );
    let next: Vec<(String, String)> =
        sqlx::query_as("SELECT account_id, next_attempt_at FROM post_targets WHERE post_id = ?")
            .bind(&post)
            .fetch_all(env.core.store().pool())
            .await
            .unwrap();
    for (account, at) in &next {
        let at = chrono::DateTime::parse_from_rfc3339(at)
            .unwrap()
            .with_timezone(&chrono::Utc);
        if *account == env.masto_account {
            assert!(
                at >= due + chrono::Duration::milliseconds(119_999),
                "Retry-After honoured: {at}"
            );
        } else {
            // Backoff: between half and all of 15 s for the first retry.
            assert!(at >= due + chrono::Duration::milliseconds(7_499), "{at}");
            assert!(at <= due + chrono::Duration::seconds(15), "{at}");
        }
    }
    // Not yet due again; then both go out, once.
    assert_eq!(env.core.publisher().run_due(due, lease).await.unwrap(), 0);
    let later = due + chrono::Duration::minutes(5);
    assert_eq!(env.core.publisher().run_due(later, lease).await.unwrap(), 2);
    let outcomes = env.core.publisher().outcomes(&post).await.unwrap();
    assert!(
        outcomes.iter().all(|o| o.state == TargetState::Published),
        "{outcomes:?}"
    );
    assert_eq!(env.mastodon.statuses().len(), 1);
    assert_eq!(env.bsky.records().len(), 1);
}

fn post_count(requests: &[postwerk_fakes::Recorded], path: &str) -> usize {
    requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == path)
        .count()
}

#[tokio::test]
async fn an_unconfirmed_post_is_settled_by_asking_the_network_before_sending_again() {
    let env = env().await;
    let post = env.draft("Angekommen? @bob.test", vec![], env.both()).await;
    // Scheduled three minutes ago, so that it falls due now (the fakes stamp real times).
    let now = chrono::Utc::now() - chrono::Duration::minutes(3);
    let when = now + chrono::Duration::minutes(2);
    let publisher = env.core.publisher();
    publisher
        .schedule(&post, &berlin_wall_clock(when), now)
        .await
        .unwrap();
    // Both requests arrive and the answers are lost; then the process dies.
    env.mastodon.drop_after_next("/api/v1/statuses");
    env.bsky
        .drop_after_next("/xrpc/com.atproto.repo.createRecord");
    let due = when + chrono::Duration::minutes(1);
    publisher
        .run_due(due, Duration::from_secs(300))
        .await
        .unwrap();
    sqlx::query("UPDATE post_targets SET state = 'publishing', lease_until = ?, claimed_at = ? WHERE post_id = ?")
        .bind((due + chrono::Duration::minutes(5)).to_rfc3339())
        .bind(due.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .bind(&post)
        .execute(env.core.store().pool())
        .await
        .unwrap();
    let masto_posts = post_count(&env.mastodon.requests(), "/api/v1/statuses");
    let bsky_posts = post_count(&env.bsky.requests(), "/xrpc/com.atproto.repo.createRecord");
    assert_eq!((masto_posts, bsky_posts), (1, 1));

    // Two hours later the Idempotency-Key has expired: Postwerk looks at the account's recent
    // statuses (and Bluesky: does the record key exist) and sends nothing again.
    let later = due + chrono::Duration::hours(2);
    assert_eq!(publisher.recover(later).await.unwrap(), 2);
    let outcomes = publisher.outcomes(&post).await.unwrap();
    assert!(
        outcomes.iter().all(|o| o.state == TargetState::Published),
        "{outcomes:?}"
    );
    let statuses = env.mastodon.statuses();
    assert_eq!(statuses.len(), 1);
    let mastodon = outcomes
        .iter()
        .find(|o| o.network == NetworkKind::Mastodon)
        .unwrap();
    assert!(mastodon.url.as_deref().unwrap().ends_with(&statuses[0].id));
    assert_eq!(
        post_count(&env.mastodon.requests(), "/api/v1/statuses"),
        1,
        "not sent again"
    );
    assert_eq!(
        post_count(&env.bsky.requests(), "/xrpc/com.atproto.repo.createRecord"),
        1,
        "not sent again"
    );
    assert!(
        env.mastodon.requests().iter().any(|r| r.method == "GET"
            && r.path.ends_with("/statuses")
            && r.path.contains("/accounts/")),
        "asked Mastodon for the account's statuses"
    );
    assert!(
        env.bsky
            .requests()
            .iter()
            .any(|r| r.path == "/xrpc/com.atproto.repo.getRecord"),
        "asked the PDS for the record key"
    );
}

#[tokio::test]
async fn an_unconfirmed_post_that_never_arrived_is_sent_once_on_settling() {
    let env = env().await;
    let post = env.draft("Nie angekommen", vec![], env.both()).await;
    let now = chrono::Utc::now();
    let when = now + chrono::Duration::minutes(2);
    let publisher = env.core.publisher();
    publisher
        .schedule(&post, &berlin_wall_clock(when), now)
        .await
        .unwrap();
    // Claimed, a record key chosen, and the process died before any request left.
    let due = when + chrono::Duration::minutes(1);
    sqlx::query("UPDATE post_targets SET state = 'publishing', lease_until = ?, claimed_at = ?, parts_done = CASE WHEN account_id = ? THEN '[{\"rkey\":\"3lzzzzzzzzz22\"}]' ELSE '[]' END WHERE post_id = ?")
        .bind((due + chrono::Duration::minutes(5)).to_rfc3339())
        .bind(due.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .bind(&env.bsky_account)
        .bind(&post)
        .execute(env.core.store().pool())
        .await
        .unwrap();
    let later = due + chrono::Duration::hours(2);
    assert_eq!(publisher.recover(later).await.unwrap(), 2);
    let outcomes = publisher.outcomes(&post).await.unwrap();
    assert!(
        outcomes.iter().all(|o| o.state == TargetState::Published),
        "{outcomes:?}"
    );
    assert_eq!(env.mastodon.statuses().len(), 1);
    let records = env.bsky.records();
    assert_eq!(records.len(), 1);
    assert_eq!(
        records[0].rkey, "3lzzzzzzzzz22",
        "the stored record key is used"
    );
}
