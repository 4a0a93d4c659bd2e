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
    /// Bluesky: the post's CID (a reply or like names the post by URI and CID).
    pub cid: Option<String>,
    /// Whether the account liked (favourited) / reposted (boosted) it.
    pub liked: bool,
    pub reposted: bool,
}

/// A post of the conversation to answer or react to instead of the item's own, as
/// [`Publisher::thread`] gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct PostRef {
    pub id: String,
    pub cid: Option<String>,
    pub author_handle: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Reaction {
    /// Favourite (Mastodon), like (Bluesky).
    Like,
    /// Boost (Mastodon), repost (Bluesky).
    Repost,
}

impl Reaction {
    fn as_str(self) -> &'static str {
        match self {
            Self::Like => "like",
            Self::Repost => "repost",
        }
    }

    fn bluesky_collection(self) -> &'static str {
        match self {
            Self::Like => "app.bsky.feed.like",
            Self::Repost => "app.bsky.feed.repost",
        }
    }
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
                        cid: None,
                        liked: st.favourited.unwrap_or(false),
                        reposted: st.reblogged.unwrap_or(false),
                    });
                }
                self.remember_reactions(&s.account_id, &out, &std::collections::HashMap::new())
                    .await?;
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
                // The like and repost records the AppView says the account has.
                let mut records = std::collections::HashMap::new();
                collect_viewer_records(&thread, &mut records);
                self.remember_reactions(&s.account_id, &out, &records)
                    .await?;
                Ok(out)
            }
            other => Err(Error::invalid(
                "network",
                format!("conversations on {other} are not available yet"),
            )),
        }
    }

    /// Keeps the reactions the network reported for the posts of a conversation, so undoing
    /// one finds its record (Bluesky) and a second click never likes twice.
    async fn remember_reactions(
        &self,
        account_id: &str,
        posts: &[ThreadPost],
        records: &std::collections::HashMap<(String, Reaction), String>,
    ) -> Result<()> {
        let mut tx = self.store.pool().begin().await?;
        for post in posts {
            for (reaction, on) in [
                (Reaction::Like, post.liked),
                (Reaction::Repost, post.reposted),
            ] {
                if on {
                    sqlx::query(
                        "INSERT INTO inbox_reactions (account_id, subject_id, reaction, record_uri, created_at) \
                         VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET record_uri = coalesce(?4, record_uri)",
                    )
                    .bind(account_id)
                    .bind(&post.id)
                    .bind(reaction.as_str())
                    .bind(records.get(&(post.id.clone(), reaction)))
                    .bind(crate::store::now_utc())
                    .execute(&mut *tx)
                    .await?;
                } else {
                    sqlx::query(
                        "DELETE FROM inbox_reactions WHERE account_id = ? AND subject_id = ? AND reaction = ?",
                    )
                    .bind(account_id)
                    .bind(&post.id)
                    .bind(reaction.as_str())
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Likes or boosts (`on`), or takes that back, for the post an inbox item is about or
    /// another post of its conversation (`post`). Liking what is already liked, or undoing
    /// what is not, changes nothing.
    pub async fn react(
        &self,
        item_id: &str,
        post: Option<&PostRef>,
        reaction: Reaction,
        on: bool,
    ) -> Result<()> {
        let mut s = self.subject(item_id).await?;
        if let Some(post) = post {
            s.id.clone_from(&post.id);
            s.cid.clone_from(&post.cid);
        }
        let stored: Option<Option<String>> = sqlx::query_scalar(
            "SELECT record_uri FROM inbox_reactions WHERE account_id = ? AND subject_id = ? AND reaction = ?",
        )
        .bind(&s.account_id)
        .bind(&s.id)
        .bind(reaction.as_str())
        .fetch_optional(self.store.pool())
        .await?;
        let forget = || async {
            sqlx::query(
                "DELETE FROM inbox_reactions WHERE account_id = ? AND subject_id = ? AND reaction = ?",
            )
            .bind(&s.account_id)
            .bind(&s.id)
            .bind(reaction.as_str())
            .execute(self.store.pool())
            .await
        };
        let remember = |record: Option<String>| async {
            sqlx::query(
                "INSERT INTO inbox_reactions (account_id, subject_id, reaction, record_uri, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET record_uri = ?4",
            )
            .bind(&s.account_id)
            .bind(&s.id)
            .bind(reaction.as_str())
            .bind(record)
            .bind(crate::store::now_utc())
            .execute(self.store.pool())
            .await
        };
        match s.network.as_str() {
            "mastodon" => {
                let (client, token) = self.mastodon_for(&s.account_id).await?;
                let action = match (reaction, on) {
                    (Reaction::Like, true) => "favourite",
                    (Reaction::Repost, true) => "reblog",
                    (Reaction::Like, false) => "unfavourite",
                    (Reaction::Repost, false) => "unreblog",
                };
                client
                    .react(&token, &s.id, action)
                    .await
                    .map_err(Error::Network)?;
                if on {
                    remember(None).await?;
                } else {
                    forget().await?;
                }
                Ok(())
            }
            "bluesky" => {
                let did: String = sqlx::query_scalar("SELECT remote_id FROM accounts WHERE id = ?")
                    .bind(&s.account_id)
                    .fetch_one(self.store.pool())
                    .await?;
                let collection = reaction.bluesky_collection();
                if !on {
                    let Some(record) = stored.flatten() else {
                        forget().await?;
                        return Ok(());
                    };
                    let rkey = record.rsplit('/').next().unwrap_or_default().to_string();
                    self.accounts
                        .with_bluesky(&s.account_id, |b, pds, access| {
                            let did = did.clone();
                            let rkey = rkey.clone();
                            async move {
                                b.delete_record(&pds, &access, &did, collection, &rkey)
                                    .await
                            }
                        })
                        .await?;
                    forget().await?;
                    return Ok(());
                }
                if stored.is_some() {
                    return Ok(());
                }
                let cid = s
                    .cid
                    .clone()
                    .ok_or_else(|| Error::invalid("item", "this item has no post to like"))?;
                let record = serde_json::json!({
                    "$type": collection,
                    "subject": { "uri": s.id, "cid": cid },
                    "createdAt": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                });
                // Remembered before it is sent: a second click meanwhile does not like twice.
                let rkey = bluesky_richtext::new_tid();
                remember(Some(format!("at://{did}/{collection}/{rkey}"))).await?;
                let created = self
                    .accounts
                    .with_bluesky(&s.account_id, |b, pds, access| {
                        let record = record.clone();
                        let did = did.clone();
                        let rkey = rkey.clone();
                        async move {
                            b.create_record(&pds, &access, &did, collection, &rkey, &record)
                                .await
                        }
                    })
                    .await;
                // The answer may have been lost after the record was made: ask for it by its
                // key before forgetting it, so a second click does not like twice.
                let created = match created {
                    Err(Error::Network(e)) if e.is_retryable() => {
                        let found =
                            self.accounts
                                .with_bluesky(&s.account_id, |b, pds, access| {
                                    let did = did.clone();
                                    let rkey = rkey.clone();
                                    async move {
                                        b.get_record(&pds, &access, &did, collection, &rkey).await
                                    }
                                })
                                .await;
                        match found {
                            Ok(Some(record)) => Ok(record),
                            _ => Err(Error::Network(e)),
                        }
                    }
                    other => other,
                };
                match created {
                    Ok(created) => {
                        remember(Some(created.uri)).await?;
                        Ok(())
                    }
                    Err(e) => {
                        forget().await?;
                        Err(e)
                    }
                }
            }
            other => Err(Error::invalid(
                "network",
                format!("reactions on {other} are not available yet"),
            )),
        }
    }
}

/// The viewer's like and repost record URIs in a Bluesky thread, by (post URI, reaction).
fn collect_viewer_records(
    node: &serde_json::Value,
    out: &mut std::collections::HashMap<(String, Reaction), String>,
) {
    let post = &node["post"];
    if let Some(uri) = post["uri"].as_str() {
        for (reaction, key) in [(Reaction::Like, "like"), (Reaction::Repost, "repost")] {
            if let Some(record) = post["viewer"][key].as_str() {
                out.insert((uri.to_string(), reaction), record.to_string());
            }
        }
    }
    if let Some(parent) = node.get("parent") {
        collect_viewer_records(parent, out);
    }
    if let Some(replies) = node.get("replies").and_then(serde_json::Value::as_array) {
        for r in replies {
            collect_viewer_records(r, out);
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
        cid: post["cid"].as_str().map(str::to_string),
        liked: post["viewer"]["like"].is_string(),
        reposted: post["viewer"]["repost"].is_string(),
    }
}
