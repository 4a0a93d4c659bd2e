//! Answering from the inbox: a reply goes into the outbox first (with its idempotency key, or
//! its Bluesky record key, chosen before anything is sent), then out. When the network cannot
//! be reached it stays queued and is sent later, in order; the reply is never lost and never
//! sent twice.

use chrono::Utc;
use postwerk_networks::NetworkError;
use postwerk_networks::bluesky::{self, StrongRef};
use postwerk_networks::bluesky_richtext;
use postwerk_networks::mastodon::NewStatus;
use serde::Serialize;
use sqlx::Row;

use crate::inbox_thread::PostRef;
use crate::posts::DraftTarget;
use crate::publish::Publisher;
use crate::rules::TextCheck;
use crate::store::now_utc;
use crate::{Error, Result};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ReplyState {
    Sent,
    /// Kept in the outbox; sent when the network answers.
    Queued,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ReplyOutcome {
    pub outbox_id: String,
    pub state: ReplyState,
    pub url: Option<String>,
    pub error: Option<String>,
}

struct Answerable {
    id: i64,
    account_id: String,
    network: String,
    kind: String,
    author_handle: String,
}

struct Pending {
    id: String,
    key: String,
    text: String,
    account_id: String,
    network: String,
    kind: String,
    subject_id: Option<String>,
    subject_cid: Option<String>,
    root_uri: Option<String>,
    root_cid: Option<String>,
    author_handle: String,
    item_id: i64,
    conversation_id: Option<String>,
    attempts: i64,
    created_at: String,
}

impl Publisher {
    /// The length check for a reply as it will be sent: a Mastodon reply starts with the
    /// author's handle; a Bluesky direct message has the chat's limits (1,000 characters),
    /// any other reply the network's post limits. `to` is another post of the conversation.
    pub async fn check_reply(
        &self,
        item_id: &str,
        text: &str,
        to: Option<&PostRef>,
    ) -> Result<TextCheck> {
        let item = self.answerable(item_id).await?;
        let text = text.trim();
        if item.network == "bluesky" && item.kind == "dm" {
            return Ok(crate::rules::check_bluesky_message(text));
        }
        let checked = if item.network == "mastodon" {
            let author = to.map_or(item.author_handle.as_str(), |t| t.author_handle.as_str());
            mastodon_reply_text(author, text)
        } else {
            text.to_string()
        };
        let check = self
            .composer
            .check_target(
                &DraftTarget {
                    account_id: item.account_id.clone(),
                    text_override: Some(checked),
                    thread_parts: None,
                },
                "",
                "",
                &[],
            )
            .await?;
        check
            .parts
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid("text", "nothing to check"))
    }

    /// The item, when it can be answered.
    async fn answerable(&self, item_id: &str) -> Result<Answerable> {
        let id: i64 = item_id
            .parse()
            .map_err(|_| Error::invalid("item", format!("{item_id} is not an inbox item")))?;
        let row = sqlx::query(
            "SELECT account_id, network, kind, subject_id, author_handle FROM inbox_items WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or_else(|| Error::not_found(format!("inbox item {item_id}")))?;
        let kind: String = row.try_get("kind")?;
        if !matches!(kind.as_str(), "mention" | "reply" | "quote" | "dm")
            || row.try_get::<Option<String>, _>("subject_id")?.is_none()
        {
            return Err(Error::invalid(
                "item",
                "only mentions, replies, quotes and messages can be answered",
            ));
        }
        Ok(Answerable {
            id,
            account_id: row.try_get("account_id")?,
            network: row.try_get("network")?,
            kind,
            author_handle: row.try_get("author_handle")?,
        })
    }

    /// Replies to an inbox item (a mention, reply, quote or message), or to another post of
    /// its conversation (`to`), with the composer's rules: text the network would refuse is
    /// refused here, with the reason.
    pub async fn reply(
        &self,
        item_id: &str,
        text: &str,
        to: Option<&PostRef>,
    ) -> Result<ReplyOutcome> {
        let item = self.answerable(item_id).await?;
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::invalid("text", "write something to reply"));
        }
        let to = match to {
            // A chat message answers the conversation, not a message.
            Some(_) if item.network == "bluesky" && item.kind == "dm" => None,
            Some(t) if item.network == "bluesky" && t.cid.is_none() => {
                return Err(Error::invalid(
                    "to",
                    "a Bluesky post is answered by its URI and CID",
                ));
            }
            other => other,
        };
        let check = self.check_reply(item_id, text, to).await?;
        if !check.ok {
            return Err(Error::invalid(
                "text",
                check
                    .message
                    .unwrap_or_else(|| format!("{} of {} characters", check.length, check.limit)),
            ));
        }
        let outbox_id = uuid::Uuid::new_v4().to_string();
        // Bluesky: the record key; Mastodon: the Idempotency-Key.
        let key = if item.network == "bluesky" {
            bluesky_richtext::new_tid()
        } else {
            uuid::Uuid::new_v4().to_string()
        };
        sqlx::query(
            "INSERT INTO inbox_outbox (id, item_id, text, state, idempotency_key, created_at, updated_at, to_id, to_cid, to_author) \
             VALUES (?1, ?2, ?3, 'queued', ?4, ?5, ?5, ?6, ?7, ?8)",
        )
        .bind(&outbox_id)
        .bind(item.id)
        .bind(text)
        .bind(&key)
        .bind(now_utc())
        .bind(to.map(|t| &t.id))
        .bind(to.and_then(|t| t.cid.as_ref()))
        .bind(to.map(|t| &t.author_handle))
        .execute(self.store.pool())
        .await?;
        self.send_reply(&outbox_id).await
    }

    /// Tells the networks that these items were read here: a Mastodon direct conversation
    /// (`POST /api/v1/conversations/:id/read`) or a Bluesky chat (`updateRead`), once per
    /// conversation. Other kinds have no read state on the network. A conversation the
    /// network does not know (or refuses) is skipped and logged. Returns how many were told.
    pub async fn mark_read_on_networks(&self, item_ids: &[String]) -> Result<u32> {
        let mut conversations = std::collections::BTreeSet::new();
        for id in item_ids {
            let Ok(id) = id.parse::<i64>() else { continue };
            let row: Option<(String, String, Option<String>)> = sqlx::query_as(
                "SELECT account_id, network, conversation_id FROM inbox_items WHERE id = ? AND kind = 'dm'",
            )
            .bind(id)
            .fetch_optional(self.store.pool())
            .await?;
            if let Some((account, network, Some(conversation))) = row {
                conversations.insert((account, network, conversation));
            }
        }
        let mut told = 0;
        for (account, network, conversation) in conversations {
            let result = match network.as_str() {
                "mastodon" => match self.mastodon_for(&account).await {
                    Ok((client, token)) => client
                        .mark_conversation_read(&token, &conversation)
                        .await
                        .map_err(Error::Network),
                    Err(e) => Err(e),
                },
                "bluesky" => {
                    self.accounts
                        .with_bluesky(&account, |b, pds, access| {
                            let conversation = conversation.clone();
                            async move { b.update_read(&pds, &access, &conversation).await }
                        })
                        .await
                }
                _ => continue,
            };
            match result {
                Ok(()) => told += 1,
                Err(e) => {
                    tracing::info!(account = %account, error = %e, "could not mark a conversation read on the network");
                }
            }
        }
        Ok(told)
    }

    /// Sends the queued replies, oldest first. Returns how many went out.
    pub async fn flush_outbox(&self) -> Result<usize> {
        let queued: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM inbox_outbox WHERE state = 'queued' ORDER BY created_at, id",
        )
        .fetch_all(self.store.pool())
        .await?;
        let mut sent = 0;
        for id in queued {
            match self.send_reply(&id).await?.state {
                ReplyState::Sent => sent += 1,
                // The network still does not answer: keep the order, try later.
                ReplyState::Queued => break,
                ReplyState::Failed => {}
            }
        }
        Ok(sent)
    }

    async fn pending(&self, outbox_id: &str) -> Result<Pending> {
        let r = sqlx::query(
            "SELECT o.id, o.idempotency_key, o.text, o.attempts, o.created_at, i.id AS item_id, i.account_id, i.network, i.kind, \
             coalesce(o.to_id, i.subject_id) AS subject_id, coalesce(o.to_cid, i.subject_cid) AS subject_cid, \
             i.root_uri, i.root_cid, coalesce(o.to_author, i.author_handle) AS author_handle, i.conversation_id \
             FROM inbox_outbox o JOIN inbox_items i ON i.id = o.item_id WHERE o.id = ?",
        )
        .bind(outbox_id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or_else(|| Error::not_found(format!("reply {outbox_id}")))?;
        Ok(Pending {
            id: r.try_get("id")?,
            key: r.try_get("idempotency_key")?,
            text: r.try_get("text")?,
            account_id: r.try_get("account_id")?,
            network: r.try_get("network")?,
            kind: r.try_get("kind")?,
            subject_id: r.try_get("subject_id")?,
            subject_cid: r.try_get("subject_cid")?,
            root_uri: r.try_get("root_uri")?,
            root_cid: r.try_get("root_cid")?,
            author_handle: r.try_get("author_handle")?,
            item_id: r.try_get("item_id")?,
            conversation_id: r.try_get("conversation_id")?,
            attempts: r.try_get("attempts")?,
            created_at: r.try_get("created_at")?,
        })
    }

    async fn send_reply(&self, outbox_id: &str) -> Result<ReplyOutcome> {
        let p = self.pending(outbox_id).await?;
        let sent = match p.network.as_str() {
            "mastodon" => self.reply_mastodon(&p).await,
            "bluesky" => self.reply_bluesky(&p).await,
            other => Err(Error::invalid(
                "network",
                format!("replying on {other} is not available yet"),
            )),
        };
        let (state, url, error) = match sent {
            Ok(url) => (ReplyState::Sent, url, None),
            Err(Error::Network(e))
                if e.is_retryable() || matches!(e, NetworkError::Transient { .. }) =>
            {
                (ReplyState::Queued, None, Some(e.to_string()))
            }
            Err(e) => (ReplyState::Failed, None, Some(e.to_string())),
        };
        let state_text = match state {
            ReplyState::Sent => "sent",
            ReplyState::Queued => "queued",
            ReplyState::Failed => "failed",
        };
        sqlx::query(
            "UPDATE inbox_outbox SET state = ?, remote_url = ?, last_error = ?, attempts = attempts + 1, updated_at = ? WHERE id = ?",
        )
        .bind(state_text)
        .bind(&url)
        .bind(&error)
        .bind(now_utc())
        .bind(&p.id)
        .execute(self.store.pool())
        .await?;
        if state == ReplyState::Sent {
            sqlx::query("UPDATE inbox_items SET read = 1 WHERE id = ?")
                .bind(p.item_id)
                .execute(self.store.pool())
                .await?;
        } else {
            tracing::info!(reply = %p.id, ?state, error = ?error, "reply not sent");
        }
        Ok(ReplyOutcome {
            outbox_id: p.id,
            state,
            url,
            error,
        })
    }

    async fn reply_mastodon(&self, p: &Pending) -> Result<Option<String>> {
        let (client, token) = self.mastodon_for(&p.account_id).await?;
        // Mastodon notifies the people named in the text: start with the author, as its own
        // web client does.
        let text = mastodon_reply_text(&p.author_handle, &p.text);
        let status = NewStatus {
            status: text,
            in_reply_to_id: p.subject_id.clone(),
            visibility: (p.kind == "dm").then(|| "direct".to_string()),
            ..NewStatus::default()
        };
        let posted = client
            .post_status(&token, &status, &p.key)
            .await
            .map_err(|e| match e {
                NetworkError::AuthExpired { message, .. } => Error::NeedsReconnect {
                    account: p.account_id.clone(),
                    message,
                },
                e => Error::Network(e),
            })?;
        Ok(posted.url)
    }

    /// A chat message: the chat service has no idempotency key, so a retry first looks for
    /// the message among the conversation's newest (it may have arrived before the answer was
    /// lost).
    async fn reply_bluesky_chat(&self, p: &Pending) -> Result<Option<String>> {
        let convo = p
            .conversation_id
            .clone()
            .ok_or_else(|| Error::invalid("item", "this message has no conversation"))?;
        let did: String = sqlx::query_scalar("SELECT remote_id FROM accounts WHERE id = ?")
            .bind(&p.account_id)
            .fetch_one(self.store.pool())
            .await?;
        if p.attempts > 0 {
            let c = convo.clone();
            let (latest, _) = self
                .accounts
                .with_bluesky(&p.account_id, |b, pds, access| {
                    let c = c.clone();
                    async move { b.get_messages(&pds, &access, &c, None).await }
                })
                .await?;
            if latest.iter().any(|m| {
                m.sender.did == did
                    && m.text == p.text
                    && m.sent_at.as_str() >= p.created_at.as_str()
            }) {
                return Ok(None);
            }
        }
        let text = p.text.clone();
        self.accounts
            .with_bluesky(&p.account_id, |b, pds, access| {
                let c = convo.clone();
                let text = text.clone();
                async move { b.send_message(&pds, &access, &c, &text).await }
            })
            .await?;
        Ok(None)
    }

    async fn reply_bluesky(&self, p: &Pending) -> Result<Option<String>> {
        if p.kind == "dm" {
            return self.reply_bluesky_chat(p).await;
        }
        let (Some(parent_uri), Some(parent_cid)) = (&p.subject_id, &p.subject_cid) else {
            return Err(Error::invalid(
                "item",
                "this Bluesky item has no post to reply to",
            ));
        };
        let parent = StrongRef {
            uri: parent_uri.clone(),
            cid: parent_cid.clone(),
        };
        let root = match (&p.root_uri, &p.root_cid) {
            (Some(uri), Some(cid)) => StrongRef {
                uri: uri.clone(),
                cid: cid.clone(),
            },
            _ => parent.clone(),
        };
        let mut record = serde_json::json!({
            "$type": "app.bsky.feed.post",
            "text": p.text,
            "createdAt": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "reply": { "root": root, "parent": parent },
        });
        let facets = self.facets(&p.text).await;
        if !facets.is_empty() {
            record["facets"] = serde_json::to_value(&facets).unwrap_or_default();
        }
        let (did, handle): (String, String) =
            sqlx::query_as("SELECT remote_id, handle FROM accounts WHERE id = ?")
                .bind(&p.account_id)
                .fetch_one(self.store.pool())
                .await?;
        let rkey = p.key.clone();
        let created = self
            .accounts
            .with_bluesky(&p.account_id, |b, pds, access| {
                let record = record.clone();
                let did = did.clone();
                let rkey = rkey.clone();
                async move { b.create_post(&pds, &access, &did, &rkey, &record).await }
            })
            .await?;
        Ok(bluesky::post_web_url(
            handle.trim_start_matches('@'),
            &created.uri,
        ))
    }
}

/// A Mastodon reply names the author first (so they are notified), as Mastodon's web client
/// does, unless the text already does.
fn mastodon_reply_text(author: &str, text: &str) -> String {
    let mention = format!("@{author}");
    if text.contains(&mention) {
        text.to_string()
    } else {
        format!("{mention} {text}")
    }
}
