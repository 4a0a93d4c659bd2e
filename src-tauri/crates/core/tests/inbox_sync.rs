//! Mastodon notifications into the inbox against the fake server: kinds mapped, HTML reduced
//! to the safe subset, the backfill limit, forward paging from the stored cursor, and a sync
//! cut short by a server error resuming without gaps or duplicates.

mod common;

use postwerk_core::inbox::{InboxFilter, InboxKind};
use postwerk_core::inbox_thread::PostRef;

use common::env;

/// The sync report of one account.
fn report<'a>(
    reports: &'a [postwerk_core::inbox_sync::SyncReport],
    account: &str,
) -> &'a postwerk_core::inbox_sync::SyncReport {
    reports.iter().find(|r| r.account_id == account).unwrap()
}

/// Every item of the test's workspace, newest first.
async fn all_items(env: &common::Env) -> Vec<postwerk_core::inbox::InboxItem> {
    env.core
        .inbox()
        .list(&all(&env.workspace))
        .await
        .unwrap()
        .items
}

fn all(ws: &str) -> InboxFilter {
    InboxFilter {
        workspace_id: ws.to_string(),
        limit: Some(500),
        ..Default::default()
    }
}

#[tokio::test]
async fn notifications_arrive_mapped_and_sanitised_and_later_syncs_add_only_new_ones() {
    let env = env().await;
    let ours = env
        .draft("Frisches Brot", vec![], env.only(&env.masto_account))
        .await;
    env.core.publisher().publish_now(&ours).await.unwrap();
    let our_status = env.mastodon.statuses()[0].id.clone();
    let m = &env.mastodon;
    m.add_notification(
        "mention",
        "mallory@evil.example",
        Some(r#"<p>Hallo <img src=x onerror="window.__pwned=1"><a href="javascript:window.__pwned=1">klick</a> <script>window.__pwned=1</script></p>"#),
        None,
        None,
    );
    m.add_notification(
        "favourite",
        "bob@other.example",
        None,
        None,
        Some(&our_status),
    );
    m.add_notification("follow", "cy@other.example", None, None, None);
    m.add_notification(
        "mention",
        "dora@other.example",
        Some(r#"<p><span class="h-card"><a href="https://x.example/@ada" class="u-url mention">@<span>ada</span></a></span> Ist das Brot vegan?</p>"#),
        Some(&our_status),
        None,
    );
    m.add_notification(
        "reblog",
        "emil@other.example",
        None,
        None,
        Some(&our_status),
    );

    let reports = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let masto = report(&reports, &env.masto_account);
    assert_eq!((masto.new_items, masto.problem.as_deref()), (5, None));
    let bsky = report(&reports, &env.bsky_account);
    assert_eq!((bsky.new_items, bsky.problem.as_deref()), (0, None));

    let items = all_items(&env).await;
    let kinds: Vec<InboxKind> = items.iter().map(|i| i.kind).collect();
    assert_eq!(
        kinds,
        [
            InboxKind::Repost,
            InboxKind::Reply,
            InboxKind::Follow,
            InboxKind::Like,
            InboxKind::Mention
        ]
    );
    let hostile = items
        .iter()
        .find(|i| i.author_handle == "mallory@evil.example")
        .unwrap();
    let html = hostile.html.as_deref().unwrap().to_lowercase();
    for bad in ["<script", "onerror", "javascript:", "<img"] {
        assert!(!html.contains(bad), "{html}");
    }
    assert_eq!(hostile.text, "Hallo klick");
    let reply = items.iter().find(|i| i.kind == InboxKind::Reply).unwrap();
    assert_eq!(reply.text, "@ada Ist das Brot vegan?");
    assert!(
        reply
            .html
            .as_deref()
            .unwrap()
            .contains(r#"href="https://x.example/@ada""#)
    );

    // 120 more: read forward from the cursor in pages of 80, each once.
    for i in 0..120 {
        m.add_notification(
            "mention",
            "fan@other.example",
            Some(&format!("<p>Nachricht {i}</p>")),
            None,
            None,
        );
    }
    // The second page fails: what was read stays, the rest comes with the next sync.
    m.fail_next("/api/v1/notifications", 502, 1);
    let first_try = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let first_try = first_try
        .iter()
        .find(|r| r.account_id == env.masto_account)
        .unwrap();
    assert!(first_try.problem.is_some(), "{first_try:?}");
    let again = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let again = again
        .iter()
        .find(|r| r.account_id == env.masto_account)
        .unwrap();
    assert_eq!(
        first_try.new_items + again.new_items,
        120,
        "{first_try:?} {again:?}"
    );
    let items = all_items(&env).await;
    assert_eq!(items.len(), 125);
    let mut texts: Vec<&str> = items
        .iter()
        .map(|i| i.text.as_str())
        .filter(|t| t.starts_with("Nachricht"))
        .collect();
    texts.sort_unstable();
    texts.dedup();
    assert_eq!(texts.len(), 120, "no gaps, no duplicates");
    let nothing = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    assert_eq!(
        nothing
            .iter()
            .find(|r| r.account_id == env.masto_account)
            .unwrap()
            .new_items,
        0
    );
}

#[tokio::test]
async fn the_first_sync_reads_back_at_most_500_items() {
    let env = env().await;
    for i in 0..620 {
        env.mastodon.add_notification(
            "mention",
            "fan@other.example",
            Some(&format!("<p>Alt {i}</p>")),
            None,
            None,
        );
    }
    let reports = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let masto = report(&reports, &env.masto_account);
    assert_eq!(masto.new_items, 500);
    let items = all_items(&env).await;
    assert_eq!(items[0].text, "Alt 619", "the newest are kept");
    env.mastodon.add_notification(
        "mention",
        "fan@other.example",
        Some("<p>Neu</p>"),
        None,
        None,
    );
    let reports = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    assert_eq!(report(&reports, &env.masto_account).new_items, 1);
}

#[tokio::test]
async fn bluesky_notifications_are_walked_back_to_what_was_seen() {
    let env = env().await;
    let ours = env
        .draft("Neue Torte", vec![], env.only(&env.bsky_account))
        .await;
    env.core.publisher().publish_now(&ours).await.unwrap();
    let our_uri = env.bsky.records()[0].uri.clone();
    let b = &env.bsky;
    b.add_notification(
        "ada.test",
        "mention",
        "bob.test",
        Some("Hallo @ada.test, habt ihr offen?"),
        None,
    );
    b.add_notification("ada.test", "like", "cy.test", None, Some(&our_uri));
    b.add_notification(
        "ada.test",
        "reply",
        "dora.test",
        Some("Sieht lecker aus"),
        Some(&our_uri),
    );
    b.add_notification("ada.test", "follow", "emil.test", None, None);
    b.add_notification("bob.test", "mention", "x.test", Some("not for ada"), None);
    let reports = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let bsky = report(&reports, &env.bsky_account);
    assert_eq!((bsky.new_items, bsky.problem.as_deref()), (4, None));
    let items = all_items(&env).await;
    let reply = items.iter().find(|i| i.kind == InboxKind::Reply).unwrap();
    assert_eq!(reply.text, "Sieht lecker aus");
    assert_eq!(reply.conversation_id.as_deref(), Some(our_uri.as_str()));
    assert!(
        reply
            .subject_url
            .as_deref()
            .unwrap()
            .starts_with("https://bsky.app/profile/dora.test/post/")
    );
    let like = items.iter().find(|i| i.kind == InboxKind::Like).unwrap();
    assert!(
        like.subject_url
            .as_deref()
            .unwrap()
            .starts_with("https://bsky.app/profile/ada.test/post/"),
        "{like:?}"
    );

    // 230 more: three pages back to the one seen last, each once.
    for i in 0..230 {
        b.add_notification(
            "ada.test",
            "mention",
            "fan.test",
            Some(&format!("Nachricht {i}")),
            None,
        );
    }
    b.fail_next("/xrpc/app.bsky.notification.listNotifications", 502, 1);
    let failed = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    assert!(
        failed
            .iter()
            .find(|r| r.account_id == env.bsky_account)
            .unwrap()
            .problem
            .is_some()
    );
    let again = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    assert_eq!(
        again
            .iter()
            .find(|r| r.account_id == env.bsky_account)
            .unwrap()
            .new_items,
        230
    );
    let nothing = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    assert_eq!(
        nothing
            .iter()
            .find(|r| r.account_id == env.bsky_account)
            .unwrap()
            .new_items,
        0
    );
    let items = all_items(&env).await;
    assert_eq!(items.len(), 234);
    assert_eq!(items[0].text, "Nachricht 229");
}

#[tokio::test]
async fn a_reply_lands_in_the_right_thread_and_one_written_offline_goes_out_later() {
    use postwerk_core::inbox_reply::ReplyState;
    let env = env().await;
    let ours = env
        .draft("Neue Torte", vec![], env.only(&env.bsky_account))
        .await;
    env.core.publisher().publish_now(&ours).await.unwrap();
    let our = env.bsky.records()[0].clone();
    env.mastodon.add_notification(
        "mention",
        "bob@other.example",
        Some("<p>@ada Habt ihr heute offen?</p>"),
        None,
        None,
    );
    env.bsky.add_notification(
        "ada.test",
        "reply",
        "dora.test",
        Some("Sieht lecker aus"),
        Some(&our.uri),
    );
    env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let items = all_items(&env).await;
    let masto_item = items.iter().find(|i| i.network == "mastodon").unwrap();
    let bsky_item = items.iter().find(|i| i.network == "bluesky").unwrap();
    let publisher = env.core.publisher();

    // Too long for Bluesky: refused with the reason, nothing sent.
    let err = publisher
        .reply(&bsky_item.id, &"Danke ".repeat(60), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Bluesky"), "{err}");

    // 497 characters fit Mastodon's 500, but not with "@bob " in front, as it is sent.
    let err = publisher
        .reply(&masto_item.id, &"a".repeat(497), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("Mastodon"), "{err}");
    let sent = publisher
        .reply(&masto_item.id, "Ja, bis 18 Uhr!", None)
        .await
        .unwrap();
    assert_eq!(sent.state, ReplyState::Sent, "{sent:?}");
    let status = env
        .mastodon
        .statuses()
        .into_iter()
        .find(|s| s.text.contains("bis 18 Uhr"))
        .unwrap();
    assert_eq!(status.text, "@bob@other.example Ja, bis 18 Uhr!");
    assert!(status.in_reply_to_id.is_some());

    // The PDS is down: the reply waits in the outbox, then goes out once, in the thread.
    env.bsky
        .fail_next("/xrpc/com.atproto.repo.createRecord", 503, 1);
    let queued = publisher
        .reply(&bsky_item.id, "Danke, Dora!", None)
        .await
        .unwrap();
    assert_eq!(queued.state, ReplyState::Queued, "{queued:?}");
    let flushed = publisher.flush_outbox().await.unwrap();
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT state, last_error FROM inbox_outbox")
            .fetch_all(env.core.store().pool())
            .await
            .unwrap();
    assert_eq!(flushed, 1, "{rows:?}");
    assert_eq!(publisher.flush_outbox().await.unwrap(), 0);
    let replies: Vec<_> = env
        .bsky
        .records()
        .into_iter()
        .filter(|r| r.value["text"] == "Danke, Dora!")
        .collect();
    assert_eq!(replies.len(), 1);
    assert_eq!(
        replies[0].value["reply"]["root"]["uri"],
        our.uri.as_str(),
        "the thread's root is our post"
    );
    assert_eq!(
        replies[0].value["reply"]["parent"]["uri"],
        bsky_item_subject(&env, &bsky_item.id).await
    );
}

async fn bsky_item_subject(env: &common::Env, id: &str) -> String {
    sqlx::query_scalar("SELECT subject_id FROM inbox_items WHERE id = ?")
        .bind(id.parse::<i64>().unwrap())
        .fetch_one(env.core.store().pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn the_conversation_around_an_item_and_likes_and_boosts() {
    use postwerk_core::inbox_thread::Reaction;
    let env = env().await;
    let masto_post = env
        .draft("Heute: Apfelkuchen", vec![], env.only(&env.masto_account))
        .await;
    env.core.publisher().publish_now(&masto_post).await.unwrap();
    let our_status = env.mastodon.statuses()[0].id.clone();
    let bsky_post = env
        .draft(
            "Heute: Zwetschgenkuchen",
            vec![],
            env.only(&env.bsky_account),
        )
        .await;
    env.core.publisher().publish_now(&bsky_post).await.unwrap();
    let our_record = env.bsky.records()[0].clone();
    env.mastodon.add_notification(
        "mention",
        "bob@other.example",
        Some(r#"<p>@ada Mit Sahne? <a href="javascript:alert(1)">x</a></p>"#),
        Some(&our_status),
        None,
    );
    env.bsky.add_notification(
        "ada.test",
        "reply",
        "dora.test",
        Some("Mit Streuseln?"),
        Some(&our_record.uri),
    );
    env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let items = all_items(&env).await;
    let publisher = env.core.publisher();

    let masto_item = items.iter().find(|i| i.network == "mastodon").unwrap();
    let thread = publisher.thread(&masto_item.id).await.unwrap();
    let texts: Vec<&str> = thread.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["Heute: Apfelkuchen", "@ada Mit Sahne? x"]);
    assert!(thread[1].is_subject && !thread[0].is_subject);
    assert_eq!(thread[1].depth, 1);
    assert!(!thread[1].html.as_deref().unwrap().contains("javascript"));

    let bsky_item = items.iter().find(|i| i.network == "bluesky").unwrap();
    let thread = publisher.thread(&bsky_item.id).await.unwrap();
    let texts: Vec<&str> = thread.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(texts, ["Heute: Zwetschgenkuchen", "Mit Streuseln?"]);
    assert!(thread[1].is_subject);

    publisher
        .react(&masto_item.id, None, Reaction::Like, true)
        .await
        .unwrap();
    publisher
        .react(&masto_item.id, None, Reaction::Repost, true)
        .await
        .unwrap();
    let reactions = env.mastodon.reactions();
    assert_eq!(reactions.len(), 2);
    assert!(
        reactions.iter().all(|(_, id)| id != &our_status),
        "the reply is liked, not our post"
    );
    publisher
        .react(&bsky_item.id, None, Reaction::Like, true)
        .await
        .unwrap();
    let likes: Vec<_> = env
        .bsky
        .records()
        .into_iter()
        .filter(|r| r.collection == "app.bsky.feed.like")
        .collect();
    assert_eq!(likes.len(), 1);
    assert_eq!(
        likes[0].value["subject"]["uri"],
        bsky_item_subject(&env, &bsky_item.id).await
    );

    // The conversation shows what the account did; liking again does not like twice.
    let thread = publisher.thread(&bsky_item.id).await.unwrap();
    assert!(thread[1].liked && !thread[1].reposted && !thread[0].liked);
    publisher
        .react(&bsky_item.id, None, Reaction::Like, true)
        .await
        .unwrap();
    let live_likes = |env: &common::Env| {
        env.bsky
            .records()
            .into_iter()
            .filter(|r| r.collection == "app.bsky.feed.like" && !r.deleted)
            .count()
    };
    assert_eq!(live_likes(&env), 1, "a second like is not a second record");
    // Taking it back deletes the like record.
    publisher
        .react(&bsky_item.id, None, Reaction::Like, false)
        .await
        .unwrap();
    assert_eq!(live_likes(&env), 0);
    let thread = publisher.thread(&bsky_item.id).await.unwrap();
    assert!(!thread[1].liked);
    // Another post of the conversation (our own) can be liked too.
    let ours = thread[0].clone();
    publisher
        .react(
            &bsky_item.id,
            Some(&PostRef {
                id: ours.id.clone(),
                cid: ours.cid.clone(),
                author_handle: ours.author_handle.clone(),
            }),
            Reaction::Repost,
            true,
        )
        .await
        .unwrap();
    let thread = publisher.thread(&bsky_item.id).await.unwrap();
    assert!(thread[0].reposted && !thread[1].reposted);
    // And answered from there: parent is that post, root the thread's.
    let out = publisher
        .reply(
            &bsky_item.id,
            "Für alle: ab 14 Uhr.",
            Some(&PostRef {
                id: ours.id.clone(),
                cid: ours.cid.clone(),
                author_handle: ours.author_handle.clone(),
            }),
        )
        .await
        .unwrap();
    assert!(out.url.is_some(), "{out:?}");
    let reply = env
        .bsky
        .records()
        .into_iter()
        .rfind(|r| r.collection == "app.bsky.feed.post")
        .unwrap();
    assert_eq!(reply.value["reply"]["parent"]["uri"], ours.id.as_str());
    assert_eq!(
        reply.value["reply"]["parent"]["cid"],
        ours.cid.as_deref().unwrap()
    );
    assert_eq!(reply.value["reply"]["root"]["uri"], ours.id.as_str());

    // Mastodon: the favourite shows and is taken back with unfavourite.
    let thread = publisher.thread(&masto_item.id).await.unwrap();
    assert!(thread[1].liked && thread[1].reposted && !thread[0].liked);
    publisher
        .react(&masto_item.id, None, Reaction::Like, false)
        .await
        .unwrap();
    assert_eq!(env.mastodon.reactions().len(), 1);
    let thread = publisher.thread(&masto_item.id).await.unwrap();
    assert!(!thread[1].liked && thread[1].reposted);
}

#[tokio::test]
async fn another_post_of_the_conversation_is_answered_in_place() {
    use postwerk_core::inbox_reply::ReplyState;
    let env = env().await;
    let post = env
        .draft("Neue Öffnungszeiten", vec![], env.only(&env.masto_account))
        .await;
    env.core.publisher().publish_now(&post).await.unwrap();
    let our_status = env.mastodon.statuses()[0].id.clone();
    env.mastodon.add_notification(
        "mention",
        "bob@other.example",
        Some("<p>@ada Auch sonntags?</p>"),
        Some(&our_status),
        None,
    );
    env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let bob = all_items(&env).await.remove(0);
    let publisher = env.core.publisher();
    let bob_status = publisher.thread(&bob.id).await.unwrap()[1].id.clone();
    // Cy answers Bob in the thread.
    env.mastodon.add_notification(
        "mention",
        "cy@other.example",
        Some("<p>@bob @ada Das wüsste ich auch gern.</p>"),
        Some(&bob_status),
        None,
    );
    // From Bob's item, the conversation shows Cy's post, and it can be answered there.
    let thread = publisher.thread(&bob.id).await.unwrap();
    let texts: Vec<&str> = thread.iter().map(|p| p.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Neue Öffnungszeiten",
            "@ada Auch sonntags?",
            "@bob @ada Das wüsste ich auch gern."
        ]
    );
    let cy = &thread[2];
    assert_eq!(cy.depth, 2);
    let to = PostRef {
        id: cy.id.clone(),
        cid: cy.cid.clone(),
        author_handle: cy.author_handle.clone(),
    };
    // The counter counts the handle Mastodon puts in front (the domain does not count).
    let check = publisher
        .check_reply(&bob.id, "Nachtrag", Some(&to))
        .await
        .unwrap();
    assert_eq!(check.length, "@cy Nachtrag".chars().count() as u32);
    let out = publisher
        .reply(&bob.id, "Nachtrag: sonntags geschlossen.", Some(&to))
        .await
        .unwrap();
    assert_eq!(out.state, ReplyState::Sent, "{out:?}");
    let sent = env.mastodon.statuses().last().unwrap().clone();
    assert_eq!(sent.in_reply_to_id.as_deref(), Some(cy.id.as_str()));
    assert_eq!(
        sent.text,
        "@cy@other.example Nachtrag: sonntags geschlossen."
    );
}

#[tokio::test]
async fn a_bluesky_message_may_be_as_long_as_the_chat_allows() {
    use postwerk_core::inbox_reply::ReplyState;
    let env = env().await;
    env.bsky
        .add_chat_message("ada.test", "fan.test", "Erzähl mir alles über eure Torten!");
    env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let dm = all_items(&env).await.remove(0);
    let publisher = env.core.publisher();
    let long = "Torte ".repeat(160); // 960 characters: too long for a post, fine for a message
    let check = publisher.check_reply(&dm.id, &long, None).await.unwrap();
    assert_eq!((check.ok, check.limit), (true, 1000));
    let out = publisher.reply(&dm.id, &long, None).await.unwrap();
    assert_eq!(out.state, ReplyState::Sent, "{out:?}");
    assert_eq!(env.bsky.chat_messages().last().unwrap().1.text, long.trim());
    let err = publisher
        .reply(&dm.id, &"x".repeat(1001), None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("1,001 of 1,000"), "{err}");
    assert_eq!(
        env.bsky.chat_messages().len(),
        2,
        "the long one was not sent"
    );
}

#[tokio::test]
async fn bluesky_direct_messages_arrive_and_are_answered_in_their_conversation() {
    use postwerk_core::inbox_reply::ReplyState;
    let env = env().await;
    env.bsky.add_chat_message(
        "ada.test",
        "fan.test",
        "Hallo! Geht eine Torte für Samstag?",
    );
    let reports = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let bsky = report(&reports, &env.bsky_account);
    assert_eq!((bsky.new_items, bsky.problem.as_deref()), (1, None));
    let items = all_items(&env).await;
    let dm = items.iter().find(|i| i.kind == InboxKind::Dm).unwrap();
    assert_eq!(dm.author_handle, "fan.test");
    let out = env
        .core
        .publisher()
        .reply(&dm.id, "Ja, gern!", None)
        .await
        .unwrap();
    assert_eq!(out.state, ReplyState::Sent, "{out:?}");
    let messages = env.bsky.chat_messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1].1.text, "Ja, gern!");
    assert_eq!(messages[0].0, messages[1].0, "same conversation");
    // Our own message is not an inbox item; the next one from the fan is.
    env.bsky
        .add_chat_message("ada.test", "fan.test", "Super, danke!");
    let reports = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    assert_eq!(report(&reports, &env.bsky_account).new_items, 1);
    // Chat needs the proxy header: the PDS does not know the method without it.
    let listed = env.bsky.requests();
    assert!(
        listed
            .iter()
            .any(|r| r.path == "/xrpc/chat.bsky.convo.listConvos" && r.status == 200)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_mastodon_notification_reaches_the_inbox_without_a_sync() {
    let env = env().await;
    let follow = tokio::spawn(postwerk_core::inbox_stream::follow_mastodon(
        env.core.clone(),
        env.masto_account.clone(),
    ));
    // Wait until the stream is open (the fake has seen the request), then a mention comes.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !env
        .mastodon
        .requests()
        .iter()
        .any(|r| r.path == "/api/v1/streaming/user/notification")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the stream was never opened"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    env.mastodon.add_notification(
        "mention",
        "bob@other.example",
        Some("<p>Live!</p>"),
        None,
        None,
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let items = all_items(&env).await;
        if items.iter().any(|i| i.text == "Live!") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the streamed mention never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    follow.abort();
}

#[tokio::test]
async fn a_rate_limited_account_is_not_asked_again_before_the_network_said() {
    let env = env().await;
    env.mastodon.add_notification(
        "mention",
        "bob@other.example",
        Some("<p>Hallo</p>"),
        None,
        None,
    );
    env.mastodon
        .fail_next_retry_after("/api/v1/notifications", 429, 1, 120);
    let first = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let masto = first
        .iter()
        .find(|r| r.account_id == env.masto_account)
        .unwrap();
    assert!(
        masto.problem.as_deref().unwrap().contains("rate limited"),
        "{masto:?}"
    );
    let asked = |env: &common::Env| {
        env.mastodon
            .requests()
            .iter()
            .filter(|r| r.path == "/api/v1/notifications")
            .count()
    };
    let before = asked(&env);
    let again = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let masto = again
        .iter()
        .find(|r| r.account_id == env.masto_account)
        .unwrap();
    assert!(
        masto.problem.as_deref().unwrap().contains("waiting until"),
        "{masto:?}"
    );
    assert_eq!(
        asked(&env),
        before,
        "not asked again within the two minutes"
    );
    // A server error is retried at once when the user asks, but the background sync waits.
    let other = env.core.sync_inbox_periodic().await.unwrap();
    assert!(
        other
            .iter()
            .find(|r| r.account_id == env.masto_account)
            .unwrap()
            .problem
            .as_deref()
            .unwrap()
            .contains("waiting until")
    );
}

#[tokio::test]
async fn mastodon_direct_messages_come_from_conversations_once_and_are_answered_privately() {
    use postwerk_core::inbox_reply::ReplyState;
    let env = env().await;
    let m = &env.mastodon;
    let first = m.add_direct_message(
        "fan@other.example",
        "<p>@ada Habt ihr am Samstag eine Torte frei?</p>",
        None,
    );
    let reports = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let masto = report(&reports, &env.masto_account);
    // The message is both a conversation and a mention notification: stored once.
    assert_eq!((masto.new_items, masto.problem.as_deref()), (1, None));
    assert!(
        m.requests()
            .iter()
            .any(|r| r.path == "/api/v1/conversations" && r.status == 200)
    );
    let items = all_items(&env).await;
    assert_eq!(items.len(), 1);
    let dm = &items[0];
    assert_eq!(dm.kind, InboxKind::Dm);
    assert_eq!(dm.text, "@ada Habt ihr am Samstag eine Torte frei?");
    assert!(!dm.read);
    let conversation = dm.conversation_id.clone().unwrap();
    assert_eq!(
        conversation, first,
        "the conversation is named by its first message"
    );

    // The answer is private and in the conversation.
    let out = env
        .core
        .publisher()
        .reply(&dm.id, "Ja, eine Schwarzwälder.", None)
        .await
        .unwrap();
    assert_eq!(out.state, ReplyState::Sent, "{out:?}");
    let ours = m.statuses().last().unwrap().clone();
    assert_eq!(ours.visibility, "direct");
    assert_eq!(ours.in_reply_to_id.as_deref(), Some(first.as_str()));

    // Two more messages before the next sync: the conversation lists only the last one, the
    // earlier one comes from its context. Our own answer is not an inbox item.
    let second = m.add_direct_message("fan@other.example", "<p>Super!</p>", Some(&ours.id));
    m.add_direct_message(
        "fan@other.example",
        "<p>Ich hole sie um 10 ab.</p>",
        Some(&second),
    );
    let reports = env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    assert_eq!(report(&reports, &env.masto_account).new_items, 2);
    let items = all_items(&env).await;
    let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "Ich hole sie um 10 ab.",
            "Super!",
            "@ada Habt ihr am Samstag eine Torte frei?"
        ]
    );
    assert!(
        items
            .iter()
            .all(|i| i.conversation_id.as_deref() == Some(conversation.as_str()))
    );

    // A conversation read in Mastodon's own app comes in read.
    let other = m.add_direct_message("cy@other.example", "<p>Schon gelesen</p>", None);
    assert!(m.read_conversation_elsewhere(&other));
    env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let items = all_items(&env).await;
    let read_elsewhere = items.iter().find(|i| i.text == "Schon gelesen").unwrap();
    assert!(read_elsewhere.read);
    assert_eq!(items.len(), 4, "nothing twice");
}

#[tokio::test]
async fn mastodon_conversations_are_paged_by_the_link_header_and_resumed_from_the_cursor() {
    let env = env().await;
    let m = &env.mastodon;
    for n in 0..45 {
        m.add_direct_message(
            &format!("kunde{n}@other.example"),
            &format!("<p>Frage {n}</p>"),
            None,
        );
    }
    env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let pages: Vec<String> = m
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/conversations")
        .map(|r| r.query.clone().unwrap_or_default())
        .collect();
    assert_eq!(pages.len(), 2, "{pages:?}");
    assert!(
        pages[1].contains("max_id="),
        "the second page follows the Link header: {pages:?}"
    );
    let count = |env: &common::Env| {
        let ws = env.workspace.clone();
        let inbox = env.core.inbox().clone();
        async move { inbox.list(&all(&ws)).await.unwrap().items.len() }
    };
    assert_eq!(count(&env).await, 45);
    // The next sync stops at the first conversation it has seen.
    m.add_direct_message("kunde99@other.example", "<p>Noch eine</p>", None);
    env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let later = m
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/conversations")
        .count();
    assert_eq!(later, 3);
    assert_eq!(count(&env).await, 46);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_syncs_of_one_account_at_once_read_the_backfill_once() {
    let env = env().await;
    env.mastodon.add_notification(
        "mention",
        "bob@other.example",
        Some("<p>@ada Hallo</p>"),
        None,
        None,
    );
    // The stream's sync on connecting and the periodic one start together.
    env.mastodon
        .set_latency(std::time::Duration::from_millis(40));
    let (a, b) = tokio::join!(
        env.core.sync_inbox_account(&env.masto_account),
        env.core.sync_inbox_account(&env.masto_account)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    let backfills = env
        .mastodon
        .requests()
        .iter()
        .filter(|r| {
            r.path == "/api/v1/notifications"
                && !r.query.as_deref().unwrap_or_default().contains("min_id")
        })
        .count();
    assert_eq!(
        backfills, 1,
        "the second sync went on from the first one's cursor"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_read_here_are_read_on_the_network_and_the_other_way_round() {
    let env = env().await;
    // Mastodon: marking the message read here marks its conversation read there.
    let first = env.mastodon.add_direct_message(
        "fan@other.example",
        "<p>@ada Gibt es Gutscheine?</p>",
        None,
    );
    env.bsky
        .add_chat_message("ada.test", "fan.test", "Habt ihr WLAN?");
    env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let items = all_items(&env).await;
    let masto = items.iter().find(|i| i.network == "mastodon").unwrap();
    let bsky = items.iter().find(|i| i.network == "bluesky").unwrap();
    assert!(!masto.read && !bsky.read);
    let convo = bsky.conversation_id.clone().unwrap();
    assert_eq!(env.mastodon.conversation_unread(&first), Some(true));
    assert_eq!(env.bsky.chat_unread("ada.test", &convo), 1);

    env.core
        .change_inbox(
            &[masto.id.clone(), bsky.id.clone()],
            &postwerk_core::inbox::InboxChange {
                read: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    // The networks are told in the background.
    for _ in 0..100 {
        if env.mastodon.conversation_unread(&first) == Some(false)
            && env.bsky.chat_unread("ada.test", &convo) == 0
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(env.mastodon.conversation_unread(&first), Some(false));
    assert_eq!(env.bsky.chat_unread("ada.test", &convo), 0);
    // Telling again is harmless; what is not an item is skipped.
    assert_eq!(
        env.core
            .publisher()
            .mark_read_on_networks(&[masto.id.clone(), "not-an-id".into()])
            .await
            .unwrap(),
        1
    );

    // A chat read in Bluesky's own app comes in read.
    env.bsky
        .add_chat_message("ada.test", "fan.test", "Schon gesehen?");
    env.bsky.read_chat_elsewhere("ada.test", &convo);
    env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let seen = all_items(&env)
        .await
        .into_iter()
        .find(|i| i.text == "Schon gesehen?")
        .unwrap();
    assert!(seen.read);
}

#[tokio::test]
async fn a_like_whose_answer_was_lost_is_found_by_its_key_and_not_made_twice() {
    use postwerk_core::inbox_thread::Reaction;
    let env = env().await;
    env.bsky.add_notification(
        "ada.test",
        "mention",
        "dora.test",
        Some("@ada.test Schöner Laden!"),
        None,
    );
    env.core.sync_inbox(Some(&env.workspace)).await.unwrap();
    let item = all_items(&env).await.remove(0);
    // The PDS stores the like, then the connection drops before the answer.
    env.bsky
        .drop_after_next("/xrpc/com.atproto.repo.createRecord");
    let publisher = env.core.publisher();
    publisher
        .react(&item.id, None, Reaction::Like, true)
        .await
        .unwrap();
    publisher
        .react(&item.id, None, Reaction::Like, true)
        .await
        .unwrap();
    let likes = env
        .bsky
        .records()
        .into_iter()
        .filter(|r| r.collection == "app.bsky.feed.like" && !r.deleted)
        .count();
    assert_eq!(likes, 1);
    // And it can be taken back.
    publisher
        .react(&item.id, None, Reaction::Like, false)
        .await
        .unwrap();
    assert!(
        env.bsky
            .records()
            .iter()
            .all(|r| r.collection != "app.bsky.feed.like" || r.deleted)
    );
}
