//! What the tray shows and the notifications it raises, from a real store and the fake Bluesky.

mod common;

use std::time::Duration;

use postwerk_core::Language;
use postwerk_core::posts::{DraftInput, DraftTarget};
use postwerk_core::publish::TargetState;

#[tokio::test]
async fn the_tray_shows_the_next_post_and_a_failed_one_becomes_a_notice() {
    // The shared test set-up: a real data folder, the fakes, a Bluesky and a Mastodon account.
    let env = common::env().await;
    let (core, workspace, account) = (
        env.core.clone(),
        env.workspace.clone(),
        env.bsky_account.clone(),
    );
    core.settings().set_language(Language::En).await.unwrap();
    let status = core.tray_status().await.unwrap();
    assert_eq!(status.labels.next_post, "No posts scheduled");
    assert_eq!(status.labels.pause, "Pause publishing");
    assert!(!status.paused);
    core.settings().set_language(Language::De).await.unwrap();
    assert_eq!(
        core.tray_status().await.unwrap().labels.next_post,
        "Keine Beiträge geplant"
    );
    core.settings().set_language(Language::En).await.unwrap();

    // 350 characters: too long for Bluesky, which the check before sending finds at due time.
    let long = "Brot ".repeat(70);
    let post = core
        .posts()
        .save_draft(DraftInput {
            id: None,
            workspace_id: workspace.clone(),
            text: long.trim().into(),
            spoiler: String::new(),
            media: vec![],
            targets: vec![DraftTarget {
                account_id: account.clone(),
                text_override: None,
                thread_parts: None,
            }],
        })
        .await
        .unwrap()
        .id;
    let now = chrono::Utc::now();
    let when = now + chrono::Duration::minutes(10);
    let wall_clock = when
        .with_timezone(&chrono_tz::Europe::Berlin)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    core.publisher()
        .schedule(&post, &wall_clock, now)
        .await
        .unwrap();
    let due = core.publisher().next_due().await.unwrap().unwrap();
    // Shown in the OS zone (the tray spans workspaces), whatever zone the workspace has.
    let local = postwerk_core::tz::parse_zone(&postwerk_core::tz::system_zone()).unwrap();
    let next_post = core.tray_status().await.unwrap().labels.next_post;
    assert!(
        next_post.starts_with("Next post: ")
            && next_post.ends_with(&due.with_timezone(&local).format(" %H:%M").to_string()),
        "{next_post}"
    );

    // Pausing from the tray keeps the other scheduling settings.
    let before = core.settings().scheduling().await.unwrap();
    assert!(core.set_paused(true).await.unwrap().paused);
    assert!(core.tray_status().await.unwrap().paused);
    assert_eq!(core.set_paused(false).await.unwrap(), before);

    let mut events = core.publisher().subscribe();
    let later = when + chrono::Duration::minutes(1);
    let claimed = core
        .publisher()
        .run_due(later, Duration::from_secs(300))
        .await
        .unwrap();
    assert_eq!(claimed, 1);
    let mut seen = Vec::new();
    while let Ok(event) = events.try_recv() {
        seen.push(event);
    }
    let notices = core.notices(&seen).await.unwrap();
    let outcome = core.publisher().outcomes(&post).await.unwrap();
    assert_eq!(outcome[0].state, TargetState::Failed);
    assert_eq!(notices.len(), 1, "{seen:?}");
    assert!(
        notices[0].title.starts_with("Post not published: ")
            && notices[0].title.contains("ada.test"),
        "{:?}",
        notices[0]
    );
    assert_eq!(Some(&notices[0].body), outcome[0].error.as_ref());
    assert_eq!(
        core.tray_status().await.unwrap().labels.next_post,
        "No posts scheduled"
    );

    // The "keeps running in the tray" notice comes once per data folder.
    let first = core.kept_in_tray_notice_once().await.unwrap().unwrap();
    assert_eq!(
        first.body,
        "Postwerk keeps running in the tray to publish your scheduled posts."
    );
    assert_eq!(core.kept_in_tray_notice_once().await.unwrap(), None);
}
