//! Bringing each account's notifications and direct messages (Mastodon conversations,
//! Bluesky chat) into the inbox with stored cursors: on first connect a backfill (30 days or
//! 500 items, whichever comes first), afterwards only what is newer than the cursor, page by
//! page; a cursor moves only once what it covers is safely stored (so a restart resumes
//! without gaps; items already stored are skipped).

use chrono::{DateTime, Utc};
use postwerk_networks::bluesky::{self, BskyNotification};
use postwerk_networks::mastodon::{
    Mastodon, Notification, NotificationAccount, NotificationStatus, PageRequest,
};
use postwerk_networks::{HttpClient, NetworkError, NetworkKind};
use serde::Serialize;

use crate::accounts::{ACCESS_TOKEN, Account, Accounts};
use crate::inbox::{Inbox, InboxKind, NewInboxItem};
use crate::secrets::SecretKey;
use crate::{Error, Result};

/// The first sync reads back this far at most.
pub const BACKFILL_DAYS: i64 = 30;
pub const BACKFILL_ITEMS: usize = 500;
const STREAM_NOTIFICATIONS: &str = "notifications";
const STREAM_CONVERSATIONS: &str = "conversations";
/// Not before this time (RFC 3339): a rate limit's reset, or the backoff after a failure.
const STREAM_NOT_BEFORE: &str = "_not_before";
const STREAM_RATE_LIMITED: &str = "_rate_limited";
const STREAM_FAILURES: &str = "_failures";

/// What one account's sync did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub account_id: String,
    pub handle: String,
    pub new_items: u32,
    /// Why nothing (more) was read, when something went wrong or the network is not
    /// supported yet.
    pub problem: Option<String>,
}

/// An https URL or nothing (the webview loads remote images over https only).
fn https_only(url: Option<String>) -> Option<String> {
    url.filter(|u| u.starts_with("https://"))
}

/// RFC 3339 in UTC with milliseconds (how the inbox stores times); now when unreadable.
fn utc_ms(at: &str) -> String {
    DateTime::parse_from_rfc3339(at)
        .map(|t| {
            t.with_timezone(&Utc)
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
        })
        .unwrap_or_else(|_| crate::store::now_utc())
}

/// The inbox id of a Mastodon direct message: its status (it arrives both as a `mention`
/// notification and through `/api/v1/conversations`, and is stored once).
fn mastodon_dm_id(status_id: &str) -> String {
    format!("dm:{status_id}")
}

/// A Mastodon notification as an inbox item (`None` for kinds the inbox does not show).
pub fn from_mastodon(account: &Account, n: &Notification) -> Option<NewInboxItem> {
    let kind = match n.kind.as_str() {
        "mention" => match &n.status {
            Some(s) if s.visibility.as_deref() == Some("direct") => InboxKind::Dm,
            Some(s) if s.in_reply_to_account_id.as_deref() == Some(account.remote_id.as_str()) => {
                InboxKind::Reply
            }
            _ => InboxKind::Mention,
        },
        "quote" => InboxKind::Quote,
        "favourite" => InboxKind::Like,
        "reblog" => InboxKind::Repost,
        "follow" => InboxKind::Follow,
        _ => return None,
    };
    let (text, html) = match (&n.status, kind) {
        (Some(s), InboxKind::Mention | InboxKind::Reply | InboxKind::Quote | InboxKind::Dm) => (
            crate::html::to_text(&s.content),
            Some(crate::html::sanitize(&s.content)),
        ),
        (Some(s), _) => (crate::html::to_text(&s.content), None),
        (None, _) => (String::new(), None),
    };
    Some(NewInboxItem {
        account_id: account.id.clone(),
        kind,
        remote_id: match (&n.status, kind) {
            (Some(s), InboxKind::Dm) => mastodon_dm_id(&s.id),
            _ => n.id.clone(),
        },
        subject_id: n.status.as_ref().map(|s| s.id.clone()),
        subject_cid: None,
        root_uri: None,
        root_cid: None,
        subject_url: n.status.as_ref().and_then(status_url),
        conversation_id: n
            .status
            .as_ref()
            .map(|s| s.in_reply_to_id.clone().unwrap_or_else(|| s.id.clone())),
        author_id: n.account.id.clone(),
        author_handle: n.account.acct.clone(),
        author_name: n.account.display_name.clone(),
        author_avatar: https_only(n.account.avatar.clone()),
        text,
        html,
        created_at: utc_ms(&n.created_at),
    })
}

fn status_url(s: &NotificationStatus) -> Option<String> {
    s.url
        .clone()
        .or_else(|| s.uri.clone())
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"))
}

/// A message of a Mastodon direct conversation as an inbox item.
fn mastodon_dm(
    account: &Account,
    conversation_id: &str,
    status: &NotificationStatus,
    author: &NotificationAccount,
    created_at: &str,
) -> NewInboxItem {
    NewInboxItem {
        account_id: account.id.clone(),
        kind: InboxKind::Dm,
        remote_id: mastodon_dm_id(&status.id),
        subject_id: Some(status.id.clone()),
        subject_cid: None,
        root_uri: None,
        root_cid: None,
        subject_url: status_url(status),
        conversation_id: Some(conversation_id.to_string()),
        author_id: author.id.clone(),
        author_handle: author.acct.clone(),
        author_name: author.display_name.clone(),
        author_avatar: https_only(author.avatar.clone()),
        text: crate::html::to_text(&status.content),
        html: Some(crate::html::sanitize(&status.content)),
        created_at: utc_ms(created_at),
    }
}

/// Mastodon ids are numbers in decimal: the longer one is the larger.
fn newer_id(a: &str, b: &str) -> bool {
    (a.len(), a) > (b.len(), b)
}

/// Reads one Mastodon account's direct conversations (`/api/v1/conversations`) into the
/// inbox: the conversations whose last message is newer than the stored cursor, and in each
/// the earlier messages since then (from the thread's context). Messages the account sent
/// are the conversation, not the inbox. A conversation Mastodon says was read elsewhere comes
/// in read. The first sync reads back 30 days or 500 messages.
pub async fn sync_mastodon_conversations(
    inbox: &Inbox,
    client: &Mastodon,
    token: &postwerk_networks::Secret,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<u32> {
    let seen = inbox.cursor(&account.id, STREAM_CONVERSATIONS).await?;
    let oldest = now - chrono::Duration::days(BACKFILL_DAYS);
    let is_new = |status_id: &str, created_at: &str| match &seen {
        Some(seen) => newer_id(status_id, seen),
        None => DateTime::parse_from_rfc3339(created_at).is_ok_and(|t| t >= oldest),
    };
    let mut request = PageRequest {
        limit: 40,
        ..PageRequest::default()
    };
    let mut newest: Option<String> = None;
    let mut read = 0usize;
    let mut new_items = 0u32;
    'pages: loop {
        let page = client
            .conversations(token, &request)
            .await
            .map_err(Error::Network)?;
        for conversation in &page.items {
            let Some(last) = &conversation.last_status else {
                continue;
            };
            if !is_new(&last.status.id, &last.created_at)
                || (seen.is_none() && read >= BACKFILL_ITEMS)
            {
                break 'pages;
            }
            if newest
                .as_deref()
                .is_none_or(|n| newer_id(&last.status.id, n))
            {
                newest = Some(last.status.id.clone());
            }
            let mut batch = Vec::new();
            if last.account.id != account.remote_id {
                batch.push(mastodon_dm(
                    account,
                    &conversation.id,
                    &last.status,
                    &last.account,
                    &last.created_at,
                ));
            }
            // Earlier messages that came since the last sync.
            if last.status.in_reply_to_id.is_some() {
                let context = client
                    .context(token, &last.status.id)
                    .await
                    .map_err(Error::Network)?;
                for st in context.ancestors.iter().rev() {
                    if !is_new(&st.id, &st.created_at) {
                        break;
                    }
                    if st.account.id == account.remote_id
                        || st.visibility.as_deref().is_some_and(|v| v != "direct")
                    {
                        continue;
                    }
                    let status = NotificationStatus {
                        id: st.id.clone(),
                        url: st.url.clone(),
                        uri: None,
                        in_reply_to_id: st.in_reply_to_id.clone(),
                        in_reply_to_account_id: None,
                        visibility: st.visibility.clone(),
                        content: st.content.clone(),
                    };
                    batch.push(mastodon_dm(
                        account,
                        &conversation.id,
                        &status,
                        &st.account,
                        &st.created_at,
                    ));
                }
            }
            read += batch.len().max(1);
            let ids = inbox.ingest(&batch).await?;
            new_items += u32::try_from(ids.len()).unwrap_or(u32::MAX);
            let remote_ids: Vec<String> = batch.iter().map(|i| i.remote_id.clone()).collect();
            // The same message may have come first as a notification: it joins this
            // conversation; read elsewhere means read here.
            inbox
                .join_conversation(&account.id, &remote_ids, &conversation.id)
                .await?;
            if !conversation.unread {
                let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
                inbox
                    .change(
                        &ids,
                        &crate::inbox::InboxChange {
                            read: Some(true),
                            ..Default::default()
                        },
                    )
                    .await?;
            }
        }
        match &page.older {
            Some(older) if !page.items.is_empty() => request.max_id = Some(older.clone()),
            _ => break,
        }
    }
    if let Some(newest) = newest {
        inbox
            .set_cursor(&account.id, STREAM_CONVERSATIONS, &newest)
            .await?;
    }
    Ok(new_items)
}

/// A Bluesky notification as an inbox item (`None` for reasons the inbox does not show).
pub fn from_bluesky(account: &Account, n: &BskyNotification) -> Option<NewInboxItem> {
    let kind = match n.reason.as_str() {
        "mention" => InboxKind::Mention,
        "reply" => InboxKind::Reply,
        "quote" => InboxKind::Quote,
        "like" => InboxKind::Like,
        "repost" => InboxKind::Repost,
        "follow" => InboxKind::Follow,
        _ => return None,
    };
    let created_at = utc_ms(&n.indexed_at);
    let own_handle = account.handle.trim_start_matches('@');
    let (subject_id, subject_cid, subject_url) = match kind {
        InboxKind::Mention | InboxKind::Reply | InboxKind::Quote => (
            Some(n.uri.clone()),
            Some(n.cid.clone()),
            bluesky::post_web_url(&n.author.handle, &n.uri),
        ),
        InboxKind::Like | InboxKind::Repost => (
            n.reason_subject.clone(),
            None,
            n.reason_subject
                .as_deref()
                .and_then(|s| bluesky::post_web_url(own_handle, s)),
        ),
        _ => (
            None,
            None,
            Some(format!("https://bsky.app/profile/{}", n.author.handle)),
        ),
    };
    // A reply to this item joins the thread at its root (the item itself when it starts one).
    let (root_uri, root_cid) = match (
        n.record
            .pointer("/reply/root/uri")
            .and_then(serde_json::Value::as_str),
        n.record
            .pointer("/reply/root/cid")
            .and_then(serde_json::Value::as_str),
    ) {
        (Some(u), Some(c)) => (Some(u.to_string()), Some(c.to_string())),
        _ => (subject_id.clone(), subject_cid.clone()),
    };
    Some(NewInboxItem {
        account_id: account.id.clone(),
        kind,
        remote_id: n.uri.clone(),
        subject_id,
        subject_cid,
        root_uri,
        root_cid,
        subject_url,
        conversation_id: Some(n.root_uri().unwrap_or_else(|| n.uri.clone())),
        author_id: n.author.did.clone(),
        author_handle: n.author.handle.clone(),
        author_name: n.author.display_name.clone().unwrap_or_default(),
        author_avatar: https_only(n.author.avatar.clone()),
        text: n.text(),
        html: None,
        created_at,
    })
}

/// Reads one Bluesky account's new notifications into the inbox. Bluesky pages only back in
/// time: the sync walks from the newest until it meets what the stored cursor says it saw,
/// and moves the cursor only once it got there (an interrupted walk is repeated; items already
/// stored are skipped).
pub async fn sync_bluesky(
    inbox: &Inbox,
    accounts: &Accounts,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<u32> {
    let seen = inbox.cursor(&account.id, STREAM_NOTIFICATIONS).await?;
    let seen = seen
        .as_deref()
        .and_then(|c| c.split_once('|'))
        .map(|(at, uri)| (at.to_string(), uri.to_string()));
    let oldest = now - chrono::Duration::days(BACKFILL_DAYS);
    let mut cursor: Option<String> = None;
    let mut newest: Option<String> = None;
    let mut new_items = 0u32;
    let mut read = 0usize;
    loop {
        let page_cursor = cursor.clone();
        let (items, next) = accounts
            .with_bluesky(&account.id, |b, pds, access| {
                let page_cursor = page_cursor.clone();
                async move {
                    b.list_notifications(&pds, &access, page_cursor.as_deref(), 100)
                        .await
                }
            })
            .await?;
        if newest.is_none() {
            newest = items.first().map(|n| format!("{}|{}", n.indexed_at, n.uri));
        }
        let mut stop = items.is_empty();
        let mut batch = Vec::new();
        for n in &items {
            let reached = match &seen {
                Some((at, uri)) => n.uri == *uri || n.indexed_at.as_str() < at.as_str(),
                None => {
                    read >= BACKFILL_ITEMS
                        || DateTime::parse_from_rfc3339(&n.indexed_at).is_ok_and(|t| t < oldest)
                }
            };
            if reached {
                stop = true;
                break;
            }
            read += 1;
            if let Some(item) = from_bluesky(account, n) {
                batch.push(item);
            }
        }
        new_items += u32::try_from(inbox.ingest(&batch).await?.len()).unwrap_or(u32::MAX);
        match (next, stop) {
            (Some(next), false) => cursor = Some(next),
            _ => break,
        }
    }
    if let Some(newest) = newest {
        inbox
            .set_cursor(&account.id, STREAM_NOTIFICATIONS, &newest)
            .await?;
    }
    Ok(new_items)
}

/// Reads one Bluesky account's new direct messages (chat, through the PDS) into the inbox.
/// Each conversation keeps its own cursor (the newest message's `rev` seen); a conversation
/// whose `rev` did not change is not read again.
pub async fn sync_bluesky_chat(
    inbox: &Inbox,
    accounts: &Accounts,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<u32> {
    let oldest = now - chrono::Duration::days(BACKFILL_DAYS);
    let mut convos = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let page_cursor = cursor.clone();
        let (page, next) = accounts
            .with_bluesky(&account.id, |b, pds, access| {
                let page_cursor = page_cursor.clone();
                async move { b.list_convos(&pds, &access, page_cursor.as_deref()).await }
            })
            .await?;
        convos.extend(page);
        match next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    let mut new_items = 0u32;
    for convo in convos {
        let stream = format!("dm:{}", convo.id);
        let seen = inbox.cursor(&account.id, &stream).await?;
        if seen.as_deref() == Some(convo.rev.as_str()) {
            continue;
        }
        let mut page_cursor: Option<String> = None;
        let mut newest: Option<String> = None;
        let mut read = 0usize;
        'pages: loop {
            let c = page_cursor.clone();
            let convo_id = convo.id.clone();
            let (messages, next) = accounts
                .with_bluesky(&account.id, |b, pds, access| {
                    let c = c.clone();
                    let convo_id = convo_id.clone();
                    async move { b.get_messages(&pds, &access, &convo_id, c.as_deref()).await }
                })
                .await?;
            if newest.is_none() {
                newest = messages.first().map(|m| m.rev.clone());
            }
            let mut batch = Vec::new();
            let mut stop = messages.is_empty();
            for m in &messages {
                let reached = match &seen {
                    Some(rev) => m.rev.as_str() <= rev.as_str(),
                    None => {
                        read >= BACKFILL_ITEMS
                            || DateTime::parse_from_rfc3339(&m.sent_at).is_ok_and(|t| t < oldest)
                    }
                };
                if reached {
                    stop = true;
                    break;
                }
                read += 1;
                if m.sender.did == account.remote_id {
                    continue; // our own messages are the conversation, not the inbox
                }
                let member = convo.members.iter().find(|x| x.did == m.sender.did);
                batch.push(NewInboxItem {
                    account_id: account.id.clone(),
                    kind: InboxKind::Dm,
                    remote_id: format!("chat:{}", m.id),
                    subject_id: Some(m.id.clone()),
                    subject_cid: None,
                    root_uri: None,
                    root_cid: None,
                    subject_url: None,
                    conversation_id: Some(convo.id.clone()),
                    author_id: m.sender.did.clone(),
                    author_handle: member
                        .map(|x| x.handle.clone())
                        .unwrap_or_else(|| m.sender.did.clone()),
                    author_name: member
                        .and_then(|x| x.display_name.clone())
                        .unwrap_or_default(),
                    author_avatar: https_only(member.and_then(|x| x.avatar.clone())),
                    text: m.text.clone(),
                    html: None,
                    created_at: utc_ms(&m.sent_at),
                });
            }
            let ids = inbox.ingest(&batch).await?;
            new_items += u32::try_from(ids.len()).unwrap_or(u32::MAX);
            if convo.unread_count == 0 {
                // Read in Bluesky's own app already.
                let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
                inbox
                    .change(
                        &ids,
                        &crate::inbox::InboxChange {
                            read: Some(true),
                            ..Default::default()
                        },
                    )
                    .await?;
            }
            match (next, stop) {
                (Some(n), false) => page_cursor = Some(n),
                _ => break 'pages,
            }
        }
        if let Some(newest) = newest {
            inbox.set_cursor(&account.id, &stream, &newest).await?;
        }
    }
    Ok(new_items)
}

/// Reads one Mastodon account's new direct conversations and notifications into the inbox.
pub async fn sync_mastodon(
    inbox: &Inbox,
    accounts: &Accounts,
    http: &HttpClient,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<u32> {
    let token = accounts
        .secrets()
        .get(SecretKey::account(&account.id, ACCESS_TOKEN))
        .await?
        .ok_or_else(|| Error::NeedsReconnect {
            account: account.id.clone(),
            message: "the sign-in is missing from the keychain".into(),
        })?;
    let base = url::Url::parse(&account.server)
        .map_err(|_| Error::Conflict(format!("bad server URL {}", account.server)))?;
    let client = Mastodon::new(http.clone(), base);
    // Conversations first: a direct message then arrives with its conversation and its read
    // state, and the notification about it is skipped as already stored.
    let mut new_items = sync_mastodon_conversations(inbox, &client, &token, account, now).await?;
    match inbox.cursor(&account.id, STREAM_NOTIFICATIONS).await? {
        None => {
            // Backfill, newest first, back to 30 days or 500 items.
            let oldest = now - chrono::Duration::days(BACKFILL_DAYS);
            let mut request = PageRequest {
                limit: 80,
                ..PageRequest::default()
            };
            let mut newest: Option<String> = None;
            let mut read = 0usize;
            loop {
                let page = client
                    .notifications(&token, &request)
                    .await
                    .map_err(Error::Network)?;
                if newest.is_none() {
                    newest = page.items.first().map(|n| n.id.clone());
                }
                let mut stop = page.items.is_empty();
                let mut batch = Vec::new();
                for n in &page.items {
                    let at =
                        DateTime::parse_from_rfc3339(&n.created_at).map(|t| t.with_timezone(&Utc));
                    if read >= BACKFILL_ITEMS || at.is_ok_and(|t| t < oldest) {
                        stop = true;
                        break;
                    }
                    read += 1;
                    if let Some(item) = from_mastodon(account, n) {
                        batch.push(item);
                    }
                }
                new_items += u32::try_from(inbox.ingest(&batch).await?.len()).unwrap_or(u32::MAX);
                match (&page.older, stop) {
                    (Some(older), false) => request.max_id = Some(older.clone()),
                    _ => break,
                }
            }
            if let Some(newest) = newest {
                inbox
                    .set_cursor(&account.id, STREAM_NOTIFICATIONS, &newest)
                    .await?;
            }
        }
        Some(cursor) => {
            // Forward from the cursor: each `min_id` page is the one right after it.
            let mut cursor = cursor;
            loop {
                let page = client
                    .notifications(
                        &token,
                        &PageRequest {
                            min_id: Some(cursor.clone()),
                            limit: 80,
                            ..PageRequest::default()
                        },
                    )
                    .await
                    .map_err(Error::Network)?;
                if page.items.is_empty() {
                    break;
                }
                let batch: Vec<NewInboxItem> = page
                    .items
                    .iter()
                    .filter_map(|n| from_mastodon(account, n))
                    .collect();
                new_items += u32::try_from(inbox.ingest(&batch).await?.len()).unwrap_or(u32::MAX);
                let newest = page
                    .items
                    .iter()
                    .map(|n| n.id.clone())
                    .max_by_key(|id| (id.len(), id.clone()))
                    .unwrap_or(cursor.clone());
                inbox
                    .set_cursor(&account.id, STREAM_NOTIFICATIONS, &newest)
                    .await?;
                if newest == cursor {
                    break;
                }
                cursor = newest;
            }
        }
    }
    Ok(new_items)
}

/// Reads one account's new items (notifications, direct messages) into the inbox. One sync
/// per account at a time: a second (the stream's while the periodic one runs) waits, then
/// finds little left to read.
pub async fn sync_account(
    inbox: &Inbox,
    accounts: &Accounts,
    http: &HttpClient,
    account: &Account,
    now: DateTime<Utc>,
) -> Result<u32> {
    let _one_at_a_time = inbox.sync_lock(&account.id).await;
    match account.network {
        NetworkKind::Mastodon => sync_mastodon(inbox, accounts, http, account, now).await,
        NetworkKind::Bluesky => {
            let n = sync_bluesky(inbox, accounts, account, now).await?;
            Ok(n + sync_bluesky_chat(inbox, accounts, account, now).await?)
        }
        other => Err(Error::invalid(
            "network",
            format!("the inbox does not read {} yet", other.display_name()),
        )),
    }
}

/// Syncs every account of a workspace (or all); one report per account. An account whose
/// network asked to wait (429) is skipped until then; a `periodic` sync also backs off after
/// other failures (1 min doubling to 30 min), a sync the user asked for tries at once.
pub async fn sync_all(
    inbox: &Inbox,
    accounts: &Accounts,
    http: &HttpClient,
    workspace_id: Option<&str>,
    now: DateTime<Utc>,
    periodic: bool,
) -> Result<Vec<SyncReport>> {
    let list = match workspace_id {
        Some(w) => accounts.list(w).await?,
        None => accounts.list_all().await?,
    };
    let mut reports = Vec::new();
    for account in list {
        if account.health == crate::accounts::Health::NeedsReconnect {
            reports.push(SyncReport {
                account_id: account.id.clone(),
                handle: account.handle.clone(),
                new_items: 0,
                problem: Some("the account needs reconnecting".into()),
            });
            continue;
        }
        // A rate limit is waited out; after other failures the periodic sync backs off.
        let wait_until = inbox
            .cursor(&account.id, STREAM_NOT_BEFORE)
            .await?
            .as_deref()
            .and_then(|c| DateTime::parse_from_rfc3339(c).ok())
            .map(|t| t.with_timezone(&Utc));
        let rate_limited = inbox
            .cursor(&account.id, STREAM_RATE_LIMITED)
            .await?
            .is_some();
        if let Some(until) = wait_until.filter(|u| *u > now)
            && (periodic || rate_limited)
        {
            reports.push(SyncReport {
                account_id: account.id.clone(),
                handle: account.handle.clone(),
                new_items: 0,
                problem: Some(format!(
                    "waiting until {} UTC before asking {} again",
                    until.format("%H:%M:%S"),
                    account.network.display_name()
                )),
            });
            continue;
        }
        let result = sync_account(inbox, accounts, http, &account, now).await;
        match &result {
            Ok(_) => {
                inbox.clear_cursor(&account.id, STREAM_NOT_BEFORE).await?;
                inbox.clear_cursor(&account.id, STREAM_RATE_LIMITED).await?;
                inbox.clear_cursor(&account.id, STREAM_FAILURES).await?;
            }
            Err(Error::Network(e)) if e.is_retryable() => {
                let failures: u32 = inbox
                    .cursor(&account.id, STREAM_FAILURES)
                    .await?
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(0);
                let backoff = postwerk_networks::backoff::Backoff {
                    base: std::time::Duration::from_secs(60),
                    max: std::time::Duration::from_secs(30 * 60),
                };
                let wait =
                    backoff.delay_after(failures, e, &postwerk_networks::backoff::RandomJitter);
                let until = now + chrono::Duration::from_std(wait).unwrap_or_default();
                inbox
                    .set_cursor(
                        &account.id,
                        STREAM_NOT_BEFORE,
                        &until.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                    )
                    .await?;
                inbox
                    .set_cursor(&account.id, STREAM_FAILURES, &(failures + 1).to_string())
                    .await?;
                if matches!(e, NetworkError::RateLimited { .. }) {
                    inbox
                        .set_cursor(&account.id, STREAM_RATE_LIMITED, "1")
                        .await?;
                } else {
                    inbox.clear_cursor(&account.id, STREAM_RATE_LIMITED).await?;
                }
            }
            Err(_) => {}
        }
        let (new_items, problem) = match result {
            Ok(n) => (n, None),
            Err(Error::Network(NetworkError::RateLimited { retry_after, .. })) => (
                0,
                Some(format!(
                    "rate limited; Postwerk tries again in {} s",
                    retry_after.map_or(60, |d| d.as_secs())
                )),
            ),
            Err(e) => (0, Some(e.to_string())),
        };
        if let Some(p) = &problem {
            tracing::info!(account = %account.id, problem = %p, "inbox sync stopped");
        }
        reports.push(SyncReport {
            account_id: account.id.clone(),
            handle: account.handle.clone(),
            new_items,
            problem,
        });
    }
    Ok(reports)
}
