//! The conversation around an inbox item (Mastodon `statuses/:id/context`, Bluesky
//! `getPostThread`), its HTML reduced to the safe subset, and liking / boosting it.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use postwerk_networks::bluesky;
use postwerk_networks::bluesky_richtext;

use crate::publish::Publisher;
use crate::{Error, Result};

/// One post of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct ThreadPost {
    pub id: String,
    pub author_handle: String,
    pub author_name: String,
    pub text: String,
    /// Safe HTML (Mastodon), or none.
    pub html: Option<String>,
    pub created_at: String,
    pub url: Option<String>,
    /// The item the conversation was opened from.
    pub is_subject: bool,
    /// How many levels below the first post shown.
    pub depth: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Reaction {
    /// Favourite (Mastodon), like (Bluesky).
    Like,
    /// Boost (Mastodon), repost (Bluesky).
    Repost,
}

struct Subject {
    account_id: String,
    network: String,
    id: String,
    cid: Option<String>,
}

impl Publisher {
    async fn subject(&self, item_id: &str) -> Result<Subject> {
        let id: i64 = item_id
            .parse()
            .map_err(|_| Error::invalid("item", format!("{item_id} is not an inbox item")))?;
        let r = sqlx::query(
            "SELECT account_id, network, kind, subject_id, subject_cid FROM inbox_items WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or_else(|| Error::not_found(format!("inbox item {item_id}")))?;
        let subject: Option<String> = r.try_get("subject_id")?;
        Ok(Subject {
            account_id: r.try_get("account_id")?,
            network: r.try_get("network")?,
            id: subject.ok_or_else(|| Error::invalid("item", "this item is not about a post"))?,
            cid: r.try_get("subject_cid")?,
        })
    }

    /// The conversation around an inbox item, oldest first.
    pub async fn thread(&self, item_id: &str) -> Result<Vec<ThreadPost>> {
        let s = self.subject(item_id).await?;
        match s.network.as_str() {
            "mastodon" => {
                let (client, token) = self.mastodon_for(&s.account_id).await?;
                let subject = client.status(&token, &s.id).await.map_err(Error::Network)?;
                let context = client
                    .context(&token, &s.id)
                    .await
                    .map_err(Error::Network)?;
                let mut depth_of: std::collections::HashMap<String, u32> =
                    std::collections::HashMap::new();
                let mut out = Vec::new();
                for st in context
                    .ancestors
                    .iter()
                    .chain(std::iter::once(&subject))
                    .chain(context.descendants.iter())
                {
                    let depth = st
                        .in_reply_to_id
                        .as_ref()
                        .and_then(|p| depth_of.get(p))
                        .map_or(0, |d| d + 1);
                    depth_of.insert(st.id.clone(), depth);
                    out.push(ThreadPost {
                        id: st.id.clone(),
                        author_handle: st.account.acct.clone(),
                        author_name: st.account.display_name.clone(),
                        text: crate::html::to_text(&st.content),
                        html: Some(crate::html::sanitize(&st.content)),
                        created_at: st.created_at.clone(),
                        url: st
                            .url
                            .clone()
                            .filter(|u| u.starts_with("https://") || u.starts_with("http://")),
                        is_subject: st.id == s.id,
                        depth,
                    });
                }
                Ok(out)
            }
            "bluesky" => {
                let uri = s.id.clone();
                let thread = self
                    .accounts
                    .with_bluesky(&s.account_id, |b, pds, access| {
                        let uri = uri.clone();
                        async move { b.get_post_thread(&pds, &access, &uri).await }
                    })
                    .await?;
                let mut out = Vec::new();
                // Parents, from the root down.
                let mut parents = Vec::new();
                let mut p = thread.get("parent");
                while let Some(node) = p {
                    parents.push(node);
                    p = node.get("parent");
                }
                for node in parents.iter().rev() {
                    out.push(bluesky_post(node, &s.id, 0));
                }
                fn walk(
                    node: &serde_json::Value,
                    subject: &str,
                    depth: u32,
                    out: &mut Vec<ThreadPost>,
                ) {
                    out.push(bluesky_post(node, subject, depth));
                    if let Some(replies) = node.get("replies").and_then(serde_json::Value::as_array)
                    {
                        for r in replies {
                            walk(r, subject, depth + 1, out);
                        }
                    }
                }
                walk(&thread, &s.id, 0, &mut out);
                Ok(out)
            }
            other => Err(Error::invalid(
                "network",
                format!("conversations on {other} are not available yet"),
            )),
        }
    }

    /// Likes or boosts the post an inbox item is about.
    pub async fn react(&self, item_id: &str, reaction: Reaction) -> Result<()> {
        let s = self.subject(item_id).await?;
        match s.network.as_str() {
            "mastodon" => {
                let (client, token) = self.mastodon_for(&s.account_id).await?;
                let action = match reaction {
                    Reaction::Like => "favourite",
                    Reaction::Repost => "reblog",
                };
                client
                    .react(&token, &s.id, action)
                    .await
                    .map_err(Error::Network)
            }
            "bluesky" => {
                let cid = s
                    .cid
                    .clone()
                    .ok_or_else(|| Error::invalid("item", "this item has no post to like"))?;
                let collection = match reaction {
                    Reaction::Like => "app.bsky.feed.like",
                    Reaction::Repost => "app.bsky.feed.repost",
                };
                let record = serde_json::json!({
                    "$type": collection,
                    "subject": { "uri": s.id, "cid": cid },
                    "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                });
                let did: String = sqlx::query_scalar("SELECT remote_id FROM accounts WHERE id = ?")
                    .bind(&s.account_id)
                    .fetch_one(self.store.pool())
                    .await?;
                let rkey = bluesky_richtext::new_tid();
                self.accounts
                    .with_bluesky(&s.account_id, |b, pds, access| {
                        let record = record.clone();
                        let did = did.clone();
                        let rkey = rkey.clone();
                        async move {
                            b.create_record(&pds, &access, &did, collection, &rkey, &record)
                                .await
                        }
                    })
                    .await?;
                Ok(())
            }
            other => Err(Error::invalid(
                "network",
                format!("reactions on {other} are not available yet"),
            )),
        }
    }
}

fn bluesky_post(node: &serde_json::Value, subject: &str, depth: u32) -> ThreadPost {
    let post = &node["post"];
    let uri = post["uri"].as_str().unwrap_or_default().to_string();
    let handle = post["author"]["handle"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    ThreadPost {
        id: uri.clone(),
        author_name: post["author"]["displayName"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        text: post["record"]["text"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        html: None,
        created_at: post["indexedAt"].as_str().unwrap_or_default().to_string(),
        url: bluesky::post_web_url(&handle, &uri),
        author_handle: handle,
        is_subject: uri == subject,
        depth,
    }
}
