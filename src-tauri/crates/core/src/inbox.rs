//! The unified inbox store: items from every account of a workspace, newest first, with
//! filters, full-text search (SQLite FTS5 over author and text), read / done / important /
//! labels. Items are written in batches (sync) and read a page at a time (the UI's list).

use serde::{Deserialize, Serialize};
use sqlx::{QueryBuilder, Row, Sqlite};

use crate::store::{Store, now_utc};
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum InboxKind {
    Mention,
    Reply,
    Quote,
    Like,
    Repost,
    Follow,
    Dm,
}

impl InboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mention => "mention",
            Self::Reply => "reply",
            Self::Quote => "quote",
            Self::Like => "like",
            Self::Repost => "repost",
            Self::Follow => "follow",
            Self::Dm => "dm",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "mention" => Self::Mention,
            "reply" => Self::Reply,
            "quote" => Self::Quote,
            "like" => Self::Like,
            "repost" => Self::Repost,
            "follow" => Self::Follow,
            "dm" => Self::Dm,
            _ => return None,
        })
    }
}

/// An item as a sync brings it in (its HTML already reduced to the safe subset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewInboxItem {
    pub account_id: String,
    pub kind: InboxKind,
    pub remote_id: String,
    pub subject_id: Option<String>,
    pub subject_cid: Option<String>,
    pub root_uri: Option<String>,
    pub root_cid: Option<String>,
    pub subject_url: Option<String>,
    pub conversation_id: Option<String>,
    pub author_id: String,
    pub author_handle: String,
    pub author_name: String,
    pub author_avatar: Option<String>,
    pub text: String,
    pub html: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct InboxItem {
    pub id: String,
    pub account_id: String,
    pub network: String,
    pub kind: InboxKind,
    pub subject_url: Option<String>,
    pub conversation_id: Option<String>,
    pub author_handle: String,
    pub author_name: String,
    pub author_avatar: Option<String>,
    pub text: String,
    /// Safe HTML (links, paragraphs, line breaks; nothing active).
    pub html: Option<String>,
    pub created_at: String,
    pub read: bool,
    pub done: bool,
    pub important: bool,
    pub labels: Vec<String>,
}

/// Which items to show.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct InboxFilter {
    pub workspace_id: String,
    #[serde(default)]
    pub networks: Vec<String>,
    #[serde(default)]
    pub account_ids: Vec<String>,
    #[serde(default)]
    pub kinds: Vec<InboxKind>,
    pub unread: Option<bool>,
    pub done: Option<bool>,
    pub important: Option<bool>,
    pub label: Option<String>,
    /// Words to find in the author or the text (each word as a prefix).
    pub query: Option<String>,
    /// Continue after this item (the last of the previous page).
    pub after: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct InboxPage {
    pub items: Vec<InboxItem>,
    /// Pass as `after` for the next page; `None` at the end.
    pub next: Option<String>,
}

/// What to change on items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct InboxChange {
    pub read: Option<bool>,
    pub done: Option<bool>,
    pub important: Option<bool>,
    pub add_label: Option<String>,
    pub remove_label: Option<String>,
}

/// What the sidebar and the filters show without loading the list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct InboxSummary {
    /// Items neither read nor done (the sidebar's badge), counted up to
    /// [`UNREAD_COUNT_CAP`]: a badge says "99+" long before, and counting a million unread
    /// items would take tens of milliseconds on every change.
    pub unread: u32,
    /// Every label in use or given by a rule, by name, with how many items carry it.
    pub labels: Vec<LabelCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct LabelCount {
    pub label: String,
    pub count: u32,
}

pub const UNREAD_COUNT_CAP: u32 = 10_000;

const PAGE: u32 = 50;
const MAX_PAGE: u32 = 500;
/// Rows per INSERT statement when ingesting (20 columns each, under SQLite's 32,766
/// variables).
const INSERT_BATCH: usize = 1600;

type AccountInfo = std::collections::HashMap<String, (String, String)>;

/// `INSERT INTO inbox_items ... VALUES ...` for these (id, item) rows; the accounts map gives
/// each item's workspace and network.
fn insert_query<'a>(
    rows: &'a [(i64, &'a NewInboxItem)],
    accounts: &'a AccountInfo,
    received: &'a str,
) -> QueryBuilder<'a, Sqlite> {
    let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
        "INSERT INTO inbox_items (id, account_id, workspace_id, network, kind, remote_id, subject_id, subject_cid, root_uri, \
         root_cid, subject_url, conversation_id, author_id, author_handle, author_name, author_avatar, text, html, created_at, received_at) ",
    );
    q.push_values(rows, |mut b, (id, item)| {
        let (workspace, network) = &accounts[&item.account_id];
        b.push_bind(*id)
            .push_bind(&item.account_id)
            .push_bind(workspace)
            .push_bind(network)
            .push_bind(item.kind.as_str())
            .push_bind(&item.remote_id)
            .push_bind(&item.subject_id)
            .push_bind(&item.subject_cid)
            .push_bind(&item.root_uri)
            .push_bind(&item.root_cid)
            .push_bind(&item.subject_url)
            .push_bind(&item.conversation_id)
            .push_bind(&item.author_id)
            .push_bind(&item.author_handle)
            .push_bind(&item.author_name)
            .push_bind(&item.author_avatar)
            .push_bind(&item.text)
            .push_bind(&item.html)
            .push_bind(&item.created_at)
            .push_bind(received);
    });
    q
}

/// Turns what a person typed into an FTS5 query: each word a quoted prefix, all required.
pub fn fts_query(input: &str) -> Option<String> {
    let terms: Vec<String> = input
        .split(|c: char| !c.is_alphanumeric() && c != '@' && c != '_' && c != '.')
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{}\"*", w.replace('"', "")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// What the inbox tells the app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum InboxEvent {
    /// New items arrived in a workspace.
    Arrived { workspace_id: String, count: u32 },
    /// Something in the database changed that this process did not announce (the CLI or a
    /// daemon marked or synced items): lists and counts should be read again.
    Changed {},
    /// A rule asked to be told about this item.
    Notify {
        workspace_id: String,
        rule: String,
        author: String,
        text: String,
    },
}

#[derive(Debug, Clone)]
pub struct Inbox {
    store: Store,
    rules: crate::inbox_rules::Rules,
    events: tokio::sync::broadcast::Sender<InboxEvent>,
    /// One sync per account at a time.
    syncing: std::sync::Arc<
        std::sync::Mutex<std::collections::HashMap<String, std::sync::Arc<tokio::sync::Mutex<()>>>>,
    >,
}

impl Inbox {
    pub fn new(store: Store) -> Self {
        Self {
            rules: crate::inbox_rules::Rules::new(store.clone()),
            store,
            events: tokio::sync::broadcast::channel(256).0,
            syncing: std::sync::Arc::default(),
        }
    }

    /// Held while an account is synced (see [`crate::inbox_sync::sync_account`]).
    pub async fn sync_lock(&self, account_id: &str) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = self
            .syncing
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(account_id.to_string())
            .or_default()
            .clone();
        lock.lock_owned().await
    }

    pub fn rules(&self) -> &crate::inbox_rules::Rules {
        &self.rules
    }

    /// New items and rule notifications, for the window and desktop notifications.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<InboxEvent> {
        self.events.subscribe()
    }

    /// Sends [`InboxEvent::Changed`] whenever another connection committed to the database,
    /// looking every `every`; runs until the database can no longer be read. Does nothing for
    /// an in-memory store.
    pub async fn watch_other_writers(&self, every: std::time::Duration) {
        let mut watcher = match self.store.watcher().await {
            Ok(Some(w)) => w,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot watch the database for changes");
                return;
            }
        };
        loop {
            tokio::time::sleep(every).await;
            match watcher.changed().await {
                Ok(true) => {
                    let _ = self.events.send(InboxEvent::Changed {});
                }
                Ok(false) => {}
                Err(e) => {
                    tracing::info!(error = %e, "stopped watching the database for changes");
                    return;
                }
            }
        }
    }

    /// Applies the workspace's rules to items that just arrived (labels, done, important), in
    /// the rules' order, inside the transaction that stores them (an item is never stored
    /// without its labels). Returns the notifications the rules asked for, to send once the
    /// items are committed.
    async fn apply_rules(
        tx: &mut sqlx::SqliteConnection,
        rules: &std::collections::HashMap<String, Vec<crate::inbox_rules::Compiled>>,
        new: &[(i64, &NewInboxItem)],
        accounts: &AccountInfo,
    ) -> Result<Vec<InboxEvent>> {
        let mut notices = Vec::new();
        for (id, item) in new {
            let (workspace, network) = &accounts[&item.account_id];
            for rule in rules.get(workspace).into_iter().flatten() {
                if !rule.matches(item, network) {
                    continue;
                }
                let a = &rule.rule().actions;
                let label = a.label.as_deref().map(str::trim).filter(|l| !l.is_empty());
                sqlx::query(
                    "UPDATE inbox_items SET done = max(done, ?1), important = max(important, ?2), \
                     labels = CASE WHEN ?3 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(labels) WHERE value = ?3) \
                       THEN json_insert(labels, '$[#]', ?3) ELSE labels END WHERE id = ?4",
                )
                .bind(i64::from(a.mark_done))
                .bind(i64::from(a.mark_important))
                .bind(label)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                if a.notify {
                    notices.push(InboxEvent::Notify {
                        workspace_id: workspace.clone(),
                        rule: rule.rule().name.clone(),
                        author: item.author_handle.clone(),
                        text: item.text.chars().take(200).collect(),
                    });
                }
            }
        }
        Ok(notices)
    }

    /// Stores new items (ones already stored are skipped). Returns the new items' ids.
    pub async fn ingest(&self, items: &[NewInboxItem]) -> Result<Vec<i64>> {
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let mut accounts = AccountInfo::new();
        for item in items {
            if !accounts.contains_key(&item.account_id) {
                let row: Option<(String, String)> =
                    sqlx::query_as("SELECT workspace_id, network FROM accounts WHERE id = ?")
                        .bind(&item.account_id)
                        .fetch_optional(self.store.pool())
                        .await?;
                let row =
                    row.ok_or_else(|| Error::not_found(format!("account {}", item.account_id)))?;
                accounts.insert(item.account_id.clone(), row);
            }
        }
        let mut rules = std::collections::HashMap::new();
        for (workspace, _) in accounts.values() {
            if !rules.contains_key(workspace) {
                rules.insert(workspace.clone(), self.rules.compiled(workspace).await?);
            }
        }
        let received = now_utc();
        let mut used = std::collections::HashSet::new();
        // Items come newest first: of those in the same millisecond, the first gets the
        // highest id.
        let mut same_ms: std::collections::HashMap<i64, u64> = std::collections::HashMap::new();
        let keyed: Vec<(i64, &NewInboxItem)> = items
            .iter()
            .map(|item| {
                let rank = same_ms.entry(created_ms(item)).or_default();
                let mut id = time_id(item, *rank);
                *rank += 1;
                while !used.insert(id) {
                    id -= 1;
                }
                (id, item)
            })
            .collect();
        let mut ids = Vec::new();
        let mut new: Vec<(i64, &NewInboxItem)> = Vec::new();
        let mut tx = self.store.pool().begin().await?;
        for chunk in keyed.chunks(INSERT_BATCH) {
            let mut q = insert_query(chunk, &accounts, &received);
            // Skips items already stored, and (rarely) an id taken by another item: those
            // are found below and stored under the nearest free id.
            q.push(" ON CONFLICT DO NOTHING RETURNING id");
            let rows: Vec<(i64,)> = q.build_query_as().fetch_all(&mut *tx).await?;
            let inserted: std::collections::HashSet<i64> = rows.iter().map(|(id,)| *id).collect();
            ids.extend(inserted.iter().copied());
            new.extend(
                chunk
                    .iter()
                    .filter(|(id, _)| inserted.contains(id))
                    .map(|(id, item)| (*id, *item)),
            );
            for (id, item) in chunk.iter().filter(|(id, _)| !inserted.contains(id)) {
                let stored: bool = sqlx::query_scalar(
                    "SELECT count(*) > 0 FROM inbox_items WHERE account_id = ? AND remote_id = ?",
                )
                .bind(&item.account_id)
                .bind(&item.remote_id)
                .fetch_one(&mut *tx)
                .await?;
                if stored {
                    continue;
                }
                // The nearest free id below: a later batch of the same millisecond holds older
                // items (syncs walk back in time).
                let free: i64 = sqlx::query_scalar(
                    "SELECT max(c.id - 1) FROM inbox_items c WHERE c.id <= ?1 \
                     AND NOT EXISTS (SELECT 1 FROM inbox_items n WHERE n.id = c.id - 1)",
                )
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
                insert_query(&[(free, *item)], &accounts, &received)
                    .build()
                    .execute(&mut *tx)
                    .await?;
                ids.push(free);
                new.push((free, *item));
            }
        }
        let notices = Self::apply_rules(&mut tx, &rules, &new, &accounts).await?;
        tx.commit().await?;
        ids.sort_unstable();
        let mut counts: std::collections::BTreeMap<&str, u32> = std::collections::BTreeMap::new();
        for (_, item) in &new {
            *counts
                .entry(accounts[&item.account_id].0.as_str())
                .or_default() += 1;
        }
        for notice in notices {
            let _ = self.events.send(notice);
        }
        for (workspace_id, count) in counts {
            let _ = self.events.send(InboxEvent::Arrived {
                workspace_id: workspace_id.to_string(),
                count,
            });
        }
        Ok(ids)
    }

    /// A page of items, newest first.
    pub async fn list(&self, filter: &InboxFilter) -> Result<InboxPage> {
        let limit = filter.limit.unwrap_or(PAGE).clamp(1, MAX_PAGE);
        let search = filter.query.as_deref().and_then(fts_query);
        let mut q: QueryBuilder<Sqlite> = QueryBuilder::new(
            "SELECT i.id, i.account_id, i.network, i.kind, i.subject_url, i.conversation_id, i.author_handle, i.author_name, \
             i.author_avatar, i.text, i.html, i.created_at, i.read, i.done, i.important, i.labels ",
        );
        // With a search, the full-text index drives, newest first (ids are time-ordered), and
        // stops at the page's end instead of sorting every match.
        let order = if search.is_some() {
            q.push("FROM inbox_fts f CROSS JOIN inbox_items i ON i.id = f.rowid WHERE inbox_fts MATCH ")
                .push_bind(search.clone().unwrap_or_default())
                .push(" AND i.workspace_id = ")
                .push_bind(&filter.workspace_id);
            "f.rowid"
        } else {
            q.push("FROM inbox_items i WHERE i.workspace_id = ")
                .push_bind(&filter.workspace_id);
            "i.id"
        };
        if !filter.networks.is_empty() {
            q.push(" AND i.network IN (");
            let mut sep = q.separated(", ");
            for n in &filter.networks {
                sep.push_bind(n);
            }
            q.push(")");
        }
        if !filter.account_ids.is_empty() {
            q.push(" AND i.account_id IN (");
            let mut sep = q.separated(", ");
            for a in &filter.account_ids {
                sep.push_bind(a);
            }
            q.push(")");
        }
        if !filter.kinds.is_empty() {
            q.push(" AND i.kind IN (");
            let mut sep = q.separated(", ");
            for k in &filter.kinds {
                sep.push_bind(k.as_str());
            }
            q.push(")");
        }
        if let Some(unread) = filter.unread {
            q.push(" AND i.read = ").push_bind(i64::from(!unread));
        }
        if let Some(done) = filter.done {
            q.push(" AND i.done = ").push_bind(i64::from(done));
        }
        if let Some(important) = filter.important {
            q.push(" AND i.important = ")
                .push_bind(i64::from(important));
        }
        if let Some(label) = &filter.label {
            q.push(" AND EXISTS (SELECT 1 FROM json_each(i.labels) WHERE value = ")
                .push_bind(label)
                .push(")");
        }
        if let Some(after) = &filter.after {
            let after: i64 = after
                .parse()
                .map_err(|_| Error::invalid("after", "not a page cursor from this inbox"))?;
            q.push(format!(" AND {order} < ")).push_bind(after);
        }
        q.push(format!(" ORDER BY {order} DESC LIMIT "))
            .push_bind(i64::from(limit) + 1);
        let rows = q.build().fetch_all(self.store.pool()).await?;
        let mut items = rows.iter().map(row_to_item).collect::<Result<Vec<_>>>()?;
        let next = if items.len() > limit as usize {
            items.truncate(limit as usize);
            items.last().map(|i| i.id.clone())
        } else {
            None
        };
        Ok(InboxPage { items, next })
    }

    /// The unread count and the labels of a workspace's inbox.
    pub async fn summary(&self, workspace_id: &str) -> Result<InboxSummary> {
        let unread: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM (SELECT 1 FROM inbox_items WHERE workspace_id = ? AND done = 0 AND read = 0 LIMIT ?)",
        )
        .bind(workspace_id)
        .bind(i64::from(UNREAD_COUNT_CAP))
        .fetch_one(self.store.pool())
        .await?;
        let used: Vec<(String, i64)> = sqlx::query_as(
            "SELECT l.value, count(*) FROM inbox_items i, json_each(i.labels) l \
             WHERE i.workspace_id = ? AND i.labels != '[]' GROUP BY l.value",
        )
        .bind(workspace_id)
        .fetch_all(self.store.pool())
        .await?;
        let mut labels: std::collections::BTreeMap<String, u32> = used
            .into_iter()
            .map(|(l, n)| (l, u32::try_from(n).unwrap_or(u32::MAX)))
            .collect();
        for rule in self.rules.list(workspace_id).await? {
            if let Some(l) = rule.actions.label.as_deref().map(str::trim)
                && !l.is_empty()
            {
                labels.entry(l.to_string()).or_default();
            }
        }
        let mut labels: Vec<LabelCount> = labels
            .into_iter()
            .map(|(label, count)| LabelCount { label, count })
            .collect();
        labels.sort_by_cached_key(|l| (l.label.to_lowercase(), l.label.clone()));
        Ok(InboxSummary {
            unread: u32::try_from(unread).unwrap_or(u32::MAX),
            labels,
        })
    }

    /// Marks items (read, done, important, labels).
    pub async fn change(&self, ids: &[String], change: &InboxChange) -> Result<u64> {
        let mut changed = 0;
        let mut tx = self.store.pool().begin().await?;
        for id in ids {
            let id: i64 = id
                .parse()
                .map_err(|_| Error::invalid("ids", format!("{id} is not an inbox item")))?;
            let done = sqlx::query(
                "UPDATE inbox_items SET read = coalesce(?1, read), done = coalesce(?2, done), important = coalesce(?3, important), \
                 labels = CASE \
                   WHEN ?4 IS NOT NULL AND NOT EXISTS (SELECT 1 FROM json_each(labels) WHERE value = ?4) THEN json_insert(labels, '$[#]', ?4) \
                   ELSE labels END \
                 WHERE id = ?5",
            )
            .bind(change.read.map(i64::from))
            .bind(change.done.map(i64::from))
            .bind(change.important.map(i64::from))
            .bind(&change.add_label)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            if let Some(label) = &change.remove_label {
                sqlx::query(
                    "UPDATE inbox_items SET labels = (SELECT coalesce(json_group_array(value), '[]') FROM json_each(labels) WHERE value != ?1) WHERE id = ?2",
                )
                .bind(label)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            changed += done.rows_affected();
        }
        tx.commit().await?;
        Ok(changed)
    }

    /// Puts these items of an account (by their network ids) into a conversation.
    pub async fn join_conversation(
        &self,
        account_id: &str,
        remote_ids: &[String],
        conversation_id: &str,
    ) -> Result<()> {
        let mut tx = self.store.pool().begin().await?;
        for remote_id in remote_ids {
            sqlx::query(
                "UPDATE inbox_items SET conversation_id = ?1 WHERE account_id = ?2 AND remote_id = ?3 \
                 AND conversation_id IS NOT ?1",
            )
            .bind(conversation_id)
            .bind(account_id)
            .bind(remote_id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn cursor(&self, account_id: &str, stream: &str) -> Result<Option<String>> {
        Ok(sqlx::query_scalar(
            "SELECT cursor FROM inbox_cursors WHERE account_id = ? AND stream = ?",
        )
        .bind(account_id)
        .bind(stream)
        .fetch_optional(self.store.pool())
        .await?)
    }

    pub async fn clear_cursor(&self, account_id: &str, stream: &str) -> Result<()> {
        sqlx::query("DELETE FROM inbox_cursors WHERE account_id = ? AND stream = ?")
            .bind(account_id)
            .bind(stream)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    pub async fn set_cursor(&self, account_id: &str, stream: &str, cursor: &str) -> Result<()> {
        sqlx::query(
            "INSERT INTO inbox_cursors (account_id, stream, cursor, updated_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (account_id, stream) DO UPDATE SET cursor = ?3, updated_at = ?4",
        )
        .bind(account_id)
        .bind(stream)
        .bind(cursor)
        .bind(now_utc())
        .execute(self.store.pool())
        .await?;
        Ok(())
    }
}

fn created_ms(item: &NewInboxItem) -> i64 {
    chrono::DateTime::parse_from_rfc3339(&item.created_at)
        .map(|t| t.timestamp_millis())
        .unwrap_or(0)
        .max(0)
}

/// A time-ordered id: the creation time in milliseconds times 4096, plus 12 bits that keep
/// items of the same millisecond in order: from the remote id when it is a number that grows
/// with time (Mastodon's), else from the item's rank among those of its millisecond in the
/// batch (which comes newest first).
fn time_id(item: &NewInboxItem, rank: u64) -> i64 {
    let low = match item.remote_id.parse::<u64>() {
        Ok(n) => 2048 + n % 2048,
        Err(_) => 2047 - rank.min(2047),
    };
    created_ms(item).saturating_mul(4096) + i64::try_from(low).unwrap_or(0)
}

fn row_to_item(r: &sqlx::sqlite::SqliteRow) -> Result<InboxItem> {
    let kind: String = r.try_get("kind")?;
    let labels: String = r.try_get("labels")?;
    Ok(InboxItem {
        id: r.try_get::<i64, _>("id")?.to_string(),
        account_id: r.try_get("account_id")?,
        network: r.try_get("network")?,
        kind: InboxKind::parse(&kind).unwrap_or(InboxKind::Mention),
        subject_url: r.try_get("subject_url")?,
        conversation_id: r.try_get("conversation_id")?,
        author_handle: r.try_get("author_handle")?,
        author_name: r.try_get("author_name")?,
        author_avatar: r.try_get("author_avatar")?,
        text: r.try_get("text")?,
        html: r.try_get("html")?,
        created_at: r.try_get("created_at")?,
        read: r.try_get::<i64, _>("read")? == 1,
        done: r.try_get::<i64, _>("done")? == 1,
        important: r.try_get::<i64, _>("important")? == 1,
        labels: serde_json::from_str(&labels).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_become_safe_prefix_terms() {
        assert_eq!(
            fts_query("brot  Bäcker"),
            Some("\"brot\"* \"Bäcker\"*".into())
        );
        assert_eq!(
            fts_query("\"; DROP TABLE x; --"),
            Some("\"DROP\"* \"TABLE\"* \"x\"*".into())
        );
        assert_eq!(fts_query("  ** "), None);
        assert_eq!(fts_query("@ada.test"), Some("\"ada.test\"*".into()));
    }
}
