//! The inbox store on a real SQLite file: ingest without duplicates, newest first with
//! filters and search, paging, read / done / important / labels.

use std::sync::Arc;

use postwerk_core::accounts::NetConfig;
use postwerk_core::inbox::{InboxChange, InboxFilter, InboxKind, NewInboxItem};
use postwerk_core::secrets::MemoryStore;
use postwerk_core::{AppPaths, Core, NewWorkspace, SecretStore, Secrets};

async fn core_with_accounts() -> (tempfile::TempDir, Core, String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open_with(
        AppPaths::at(dir.path().join("data")),
        Secrets::with_store(Arc::new(MemoryStore::new()) as Arc<dyn SecretStore>),
        NetConfig::default(),
    )
    .await
    .unwrap();
    let ws = core
        .workspaces()
        .create(NewWorkspace {
            name: "Laden".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .id;
    let mut ids = Vec::new();
    for (network, handle) in [
        ("mastodon", "ada@masto.example"),
        ("bluesky", "ada.bsky.example"),
    ] {
        let id = uuid_like(handle);
        sqlx::query(
            "INSERT INTO accounts (id, workspace_id, network, server_url, remote_id, handle, display_name, connected_at, updated_at) \
             VALUES (?, ?, ?, 'https://x.example/', ?, ?, 'Ada', 'now', 'now')",
        )
        .bind(&id)
        .bind(&ws)
        .bind(network)
        .bind(handle)
        .bind(handle)
        .execute(core.store().pool())
        .await
        .unwrap();
        ids.push(id);
    }
    (dir, core, ws, ids[0].clone(), ids[1].clone())
}

fn uuid_like(s: &str) -> String {
    format!("acct-{}", s.replace(['@', '.'], "-"))
}

fn item(account: &str, n: u32, kind: InboxKind, author: &str, text: &str) -> NewInboxItem {
    NewInboxItem {
        account_id: account.into(),
        kind,
        remote_id: format!("n{n}"),
        subject_id: Some(format!("s{n}")),
        subject_cid: None,
        root_uri: None,
        root_cid: None,
        subject_url: Some(format!("https://x.example/s/{n}")),
        conversation_id: None,
        author_id: author.into(),
        author_handle: author.into(),
        author_name: format!("{author} Name"),
        author_avatar: None,
        text: text.into(),
        html: None,
        created_at: format!("2026-11-{:02}T10:00:00.000Z", 1 + n % 28),
    }
}

#[tokio::test]
async fn items_are_stored_once_listed_newest_first_filtered_searched_and_marked() {
    let (_dir, core, ws, masto, bsky) = core_with_accounts().await;
    let inbox = core.inbox();
    let batch = vec![
        item(
            &masto,
            1,
            InboxKind::Mention,
            "bob@x.example",
            "Habt ihr morgen Brötchen?",
        ),
        item(&masto, 2, InboxKind::Like, "cy@x.example", ""),
        item(
            &bsky,
            3,
            InboxKind::Reply,
            "dora.bsky.social",
            "Die Brezeln waren super",
        ),
        item(
            &bsky,
            4,
            InboxKind::Dm,
            "emil.bsky.social",
            "Kann ich eine Torte bestellen?",
        ),
    ];
    assert_eq!(inbox.ingest(&batch).await.unwrap().len(), 4);
    assert_eq!(
        inbox.ingest(&batch).await.unwrap().len(),
        0,
        "a second sync adds nothing"
    );

    let all = inbox
        .list(&InboxFilter {
            workspace_id: ws.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        all.items
            .iter()
            .map(|i| i.text.as_str())
            .collect::<Vec<_>>(),
        [
            "Kann ich eine Torte bestellen?",
            "Die Brezeln waren super",
            "",
            "Habt ihr morgen Brötchen?"
        ]
    );
    let only_bluesky = inbox
        .list(&InboxFilter {
            workspace_id: ws.clone(),
            networks: vec!["bluesky".into()],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(only_bluesky.items.len(), 2);
    let dms = inbox
        .list(&InboxFilter {
            workspace_id: ws.clone(),
            kinds: vec![InboxKind::Dm],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(dms.items[0].author_handle, "emil.bsky.social");

    // Search: words as prefixes, diacritics folded, the author too; hostile input is text.
    let search = |q: &str| InboxFilter {
        workspace_id: ws.clone(),
        query: Some(q.into()),
        ..Default::default()
    };
    assert_eq!(
        inbox.list(&search("brotchen")).await.unwrap().items.len(),
        1
    );
    assert_eq!(inbox.list(&search("Brez")).await.unwrap().items.len(), 1);
    assert_eq!(inbox.list(&search("dora")).await.unwrap().items.len(), 1);
    assert_eq!(
        inbox
            .list(&search("\" OR 1=1 --"))
            .await
            .unwrap()
            .items
            .len(),
        0
    );

    // Paging: two at a time, no gaps, no repeats.
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = inbox
            .list(&InboxFilter {
                workspace_id: ws.clone(),
                limit: Some(2),
                after: after.clone(),
                ..Default::default()
            })
            .await
            .unwrap();
        seen.extend(page.items.iter().map(|i| i.id.clone()));
        match page.next {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(
        seen,
        all.items.iter().map(|i| i.id.clone()).collect::<Vec<_>>()
    );

    // Read, done, labels.
    let first = all.items[0].id.clone();
    inbox
        .change(
            std::slice::from_ref(&first),
            &InboxChange {
                read: Some(true),
                add_label: Some("Bestellung".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    inbox
        .change(
            std::slice::from_ref(&first),
            &InboxChange {
                add_label: Some("Bestellung".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let unread = inbox
        .list(&InboxFilter {
            workspace_id: ws.clone(),
            unread: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(unread.items.len(), 3);
    let labelled = inbox
        .list(&InboxFilter {
            workspace_id: ws.clone(),
            label: Some("Bestellung".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(labelled.items.len(), 1);
    assert_eq!(labelled.items[0].labels, ["Bestellung"], "a label once");
    inbox
        .change(
            std::slice::from_ref(&first),
            &InboxChange {
                remove_label: Some("Bestellung".into()),
                done: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let done = inbox
        .list(&InboxFilter {
            workspace_id: ws.clone(),
            done: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(done.items.len(), 1);
    assert!(done.items[0].labels.is_empty());
    assert!(
        inbox
            .list(&InboxFilter {
                workspace_id: ws,
                after: Some("garbage".into()),
                ..Default::default()
            })
            .await
            .is_err()
    );
}

#[tokio::test]
async fn rules_label_mark_and_notify_as_items_arrive() {
    use postwerk_core::inbox::InboxEvent;
    use postwerk_core::inbox_rules::{NewRule, RuleActions, RuleConditions};
    let (_dir, core, ws, masto, bsky) = core_with_accounts().await;
    let inbox = core.inbox();
    let rules = inbox.rules();
    let bad = rules
        .save(NewRule {
            id: None,
            workspace_id: ws.clone(),
            name: "Kaputt".into(),
            conditions: RuleConditions {
                text_matches: Some("([".into()),
                ..Default::default()
            },
            actions: RuleActions {
                mark_done: true,
                ..Default::default()
            },
            enabled: true,
        })
        .await
        .unwrap_err();
    assert!(bad.to_string().contains("is not a pattern"), "{bad}");
    let no_action = rules
        .save(NewRule {
            id: None,
            workspace_id: ws.clone(),
            name: "Nichts".into(),
            conditions: RuleConditions::default(),
            actions: RuleActions::default(),
            enabled: true,
        })
        .await
        .unwrap_err();
    assert!(no_action.to_string().contains("at least one action"));
    rules
        .save(NewRule {
            id: None,
            workspace_id: ws.clone(),
            name: "Bestellungen".into(),
            conditions: RuleConditions {
                kinds: vec![InboxKind::Mention, InboxKind::Dm],
                text_matches: Some(r"bestell|torte".into()),
                ..Default::default()
            },
            actions: RuleActions {
                label: Some("Bestellung".into()),
                mark_important: true,
                notify: true,
                ..Default::default()
            },
            enabled: true,
        })
        .await
        .unwrap();
    rules
        .save(NewRule {
            id: None,
            workspace_id: ws.clone(),
            name: "Likes erledigt".into(),
            conditions: RuleConditions {
                kinds: vec![InboxKind::Like],
                networks: vec!["bluesky".into()],
                ..Default::default()
            },
            actions: RuleActions {
                mark_done: true,
                ..Default::default()
            },
            enabled: true,
        })
        .await
        .unwrap();
    let mut events = inbox.subscribe();
    inbox
        .ingest(&[
            item(
                &bsky,
                1,
                InboxKind::Dm,
                "emil.bsky.social",
                "Kann ich eine Torte bestellen?",
            ),
            item(&bsky, 2, InboxKind::Like, "cy.bsky.social", ""),
            item(&masto, 3, InboxKind::Like, "bob@x.example", ""),
            item(
                &masto,
                4,
                InboxKind::Mention,
                "dora@x.example",
                "Schönes Wetter",
            ),
        ])
        .await
        .unwrap();
    let all = inbox
        .list(&InboxFilter {
            workspace_id: ws.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .items;
    let by_text = |t: &str| all.iter().find(|i| i.text == t).unwrap();
    let order = by_text("Kann ich eine Torte bestellen?");
    assert_eq!(
        (order.labels.clone(), order.important, order.done),
        (vec!["Bestellung".to_string()], true, false)
    );
    let likes: Vec<_> = all.iter().filter(|i| i.kind == InboxKind::Like).collect();
    assert_eq!(
        likes.iter().filter(|i| i.done).count(),
        1,
        "only the Bluesky like"
    );
    assert!(!by_text("Schönes Wetter").important);
    let mut notified = Vec::new();
    while let Ok(e) = events.try_recv() {
        if let InboxEvent::Notify { rule, author, .. } = e {
            notified.push((rule, author));
        }
    }
    assert_eq!(
        notified,
        [("Bestellungen".to_string(), "emil.bsky.social".to_string())]
    );
    assert_eq!(rules.list(&ws).await.unwrap().len(), 2);

    // The sidebar's count and the label filter's choices: the Bluesky like is done, so three
    // are unread; "Bestellung" is used once, a rule's label that matched nothing yet is listed
    // with 0.
    rules
        .save(NewRule {
            id: None,
            workspace_id: ws.clone(),
            name: "Lob".into(),
            conditions: RuleConditions {
                text_contains: Some("danke".into()),
                ..Default::default()
            },
            actions: RuleActions {
                label: Some("Lob".into()),
                ..Default::default()
            },
            enabled: true,
        })
        .await
        .unwrap();
    let summary = inbox.summary(&ws).await.unwrap();
    assert_eq!(summary.unread, 3);
    let labels: Vec<(&str, u32)> = summary
        .labels
        .iter()
        .map(|l| (l.label.as_str(), l.count))
        .collect();
    assert_eq!(labels, [("Bestellung", 1), ("Lob", 0)]);
    let ids: Vec<String> = all.iter().take(2).map(|i| i.id.clone()).collect();
    inbox
        .change(
            &ids,
            &InboxChange {
                read: Some(true),
                add_label: Some("Später".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let summary = inbox.summary(&ws).await.unwrap();
    let expected = all.iter().skip(2).filter(|i| !i.read && !i.done).count();
    assert_eq!(summary.unread as usize, expected, "{summary:?}");
    assert!(expected < 3);
    assert!(
        summary
            .labels
            .iter()
            .any(|l| l.label == "Später" && l.count == 2)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_by_another_process_are_announced() {
    use postwerk_core::inbox::InboxEvent;
    let (dir, core, ws, masto, _) = core_with_accounts().await;
    let inbox = core.inbox().clone();
    inbox
        .ingest(&[item(
            &masto,
            1,
            InboxKind::Mention,
            "bob@x.example",
            "Hallo",
        )])
        .await
        .unwrap();
    let mut events = inbox.subscribe();
    let watching = inbox.clone();
    let watch = tokio::spawn(async move {
        watching
            .watch_other_writers(std::time::Duration::from_millis(50))
            .await;
    });
    // Quiet: nothing is announced.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(events.try_recv().is_err());
    // Another process (the CLI) opens the same file and marks the item done.
    let other =
        postwerk_core::store::Store::open(&AppPaths::at(dir.path().join("data")).database())
            .await
            .unwrap();
    sqlx::query("UPDATE inbox_items SET done = 1")
        .execute(other.pool())
        .await
        .unwrap();
    let event = tokio::time::timeout(std::time::Duration::from_secs(5), events.recv())
        .await
        .expect("announced")
        .unwrap();
    assert_eq!(event, InboxEvent::Changed {});
    let page = inbox
        .list(&InboxFilter {
            workspace_id: ws,
            done: Some(false),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(page.items.is_empty());
    watch.abort();
}
