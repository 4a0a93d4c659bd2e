//! Posts and drafts: one master text with media, one target per account with an optional
//! per-network text or thread. Drafts are saved as the user types (the UI autosaves), so a
//! crash loses nothing.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::media::{MediaInfo, MediaStore};
use crate::store::{Store, now_utc};
use crate::{Error, Result};

/// Longest master text accepted (far above every network's limit; a guard, not a rule).
pub const MAX_TEXT_CHARS: usize = 100_000;
pub const MAX_MEDIA: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DraftTarget {
    pub account_id: String,
    /// Text for this account only; `None` uses the master text.
    pub text_override: Option<String>,
    /// The thread's parts when the user split the text; `None` is a single post.
    pub thread_parts: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DraftMediaInput {
    pub media_id: String,
    pub alt: String,
}

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DraftInput {
    /// `None` starts a new draft.
    pub id: Option<String>,
    pub workspace_id: String,
    pub text: String,
    pub spoiler: String,
    pub media: Vec<DraftMediaInput>,
    pub targets: Vec<DraftTarget>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct DraftMedia {
    pub media: MediaInfo,
    pub alt: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    pub id: String,
    pub workspace_id: String,
    pub text: String,
    pub spoiler: String,
    pub media: Vec<DraftMedia>,
    pub targets: Vec<DraftTarget>,
    pub updated_at: String,
}

#[derive(Debug, Clone)]
pub struct Posts {
    store: Store,
    media: MediaStore,
}

impl Posts {
    pub fn new(store: Store, media: MediaStore) -> Self {
        Self { store, media }
    }

    /// Saves (creates or updates) a draft in one transaction.
    pub async fn save_draft(&self, input: DraftInput) -> Result<Draft> {
        if input.text.chars().count() > MAX_TEXT_CHARS {
            return Err(Error::invalid(
                "text",
                format!("is longer than {MAX_TEXT_CHARS} characters"),
            ));
        }
        if input.media.len() > MAX_MEDIA {
            return Err(Error::invalid(
                "media",
                format!("at most {MAX_MEDIA} files per post"),
            ));
        }
        let mut tx = self.store.pool().begin().await?;
        let ws_ok: bool = sqlx::query_scalar("SELECT count(*) > 0 FROM workspaces WHERE id = ?")
            .bind(&input.workspace_id)
            .fetch_one(&mut *tx)
            .await?;
        if !ws_ok {
            return Err(Error::not_found(format!(
                "workspace {}",
                input.workspace_id
            )));
        }
        let now = now_utc();
        let id = match &input.id {
            Some(id) => {
                let status: Option<String> = sqlx::query_scalar(
                    "SELECT status FROM posts WHERE id = ? AND workspace_id = ?",
                )
                .bind(id)
                .bind(&input.workspace_id)
                .fetch_optional(&mut *tx)
                .await?;
                match status.as_deref() {
                    None => return Err(Error::not_found(format!("draft {id}"))),
                    Some("draft") => {}
                    Some(_) => {
                        return Err(Error::Conflict(
                            "this post was already sent; start a new one".into(),
                        ));
                    }
                }
                sqlx::query("UPDATE posts SET text = ?, spoiler = ?, updated_at = ? WHERE id = ?")
                    .bind(&input.text)
                    .bind(&input.spoiler)
                    .bind(&now)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                id.clone()
            }
            None => {
                let id = uuid::Uuid::new_v4().to_string();
                sqlx::query("INSERT INTO posts (id, workspace_id, text, spoiler, status, created_at, updated_at) VALUES (?, ?, ?, ?, 'draft', ?, ?)")
                    .bind(&id)
                    .bind(&input.workspace_id)
                    .bind(&input.text)
                    .bind(&input.spoiler)
                    .bind(&now)
                    .bind(&now)
                    .execute(&mut *tx)
                    .await?;
                id
            }
        };
        sqlx::query("DELETE FROM post_media WHERE post_id = ?")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        for (position, m) in input.media.iter().enumerate() {
            sqlx::query(
                "INSERT INTO post_media (post_id, position, media_id, alt) VALUES (?, ?, ?, ?)",
            )
            .bind(&id)
            .bind(position as i64)
            .bind(&m.media_id)
            .bind(m.alt.trim())
            .execute(&mut *tx)
            .await
            .map_err(|e| match e {
                sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                    Error::not_found(format!("media {}", m.media_id))
                }
                e => e.into(),
            })?;
        }
        sqlx::query("DELETE FROM post_targets WHERE post_id = ? AND state = 'draft'")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        for t in &input.targets {
            let account_ws: Option<String> =
                sqlx::query_scalar("SELECT workspace_id FROM accounts WHERE id = ?")
                    .bind(&t.account_id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if account_ws.as_deref() != Some(input.workspace_id.as_str()) {
                return Err(Error::invalid(
                    "targets",
                    format!("account {} is not in this workspace", t.account_id),
                ));
            }
            let parts = t
                .thread_parts
                .as_ref()
                .map(|p| serde_json::to_string(p).unwrap_or_default());
            sqlx::query(
                "INSERT INTO post_targets (id, post_id, account_id, text_override, thread_parts, state, idempotency_key, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, 'draft', ?, ?, ?)",
            )
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(&id)
            .bind(&t.account_id)
            .bind(&t.text_override)
            .bind(parts)
            .bind(uuid::Uuid::new_v4().to_string())
            .bind(&now)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        self.get(&id).await
    }

    /// A post with its media and targets.
    pub async fn get(&self, id: &str) -> Result<Draft> {
        let row = sqlx::query(
            "SELECT id, workspace_id, text, spoiler, updated_at FROM posts WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?
        .ok_or_else(|| Error::not_found(format!("post {id}")))?;
        let media_rows =
            sqlx::query("SELECT media_id, alt FROM post_media WHERE post_id = ? ORDER BY position")
                .bind(id)
                .fetch_all(self.store.pool())
                .await?;
        let mut media = Vec::new();
        for r in media_rows {
            let media_id: String = r.try_get("media_id")?;
            media.push(DraftMedia {
                media: self.media.info(&media_id).await?,
                alt: r.try_get("alt")?,
            });
        }
        let targets = sqlx::query("SELECT account_id, text_override, thread_parts FROM post_targets WHERE post_id = ? ORDER BY created_at, id")
            .bind(id)
            .fetch_all(self.store.pool())
            .await?
            .into_iter()
            .map(|r| -> Result<DraftTarget> {
                let parts: Option<String> = r.try_get("thread_parts")?;
                Ok(DraftTarget {
                    account_id: r.try_get("account_id")?,
                    text_override: r.try_get("text_override")?,
                    thread_parts: parts.and_then(|p| serde_json::from_str(&p).ok()),
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Draft {
            id: row.try_get("id")?,
            workspace_id: row.try_get("workspace_id")?,
            text: row.try_get("text")?,
            spoiler: row.try_get("spoiler")?,
            media,
            targets,
            updated_at: row.try_get("updated_at")?,
        })
    }

    /// The draft the composer was last working on in this workspace.
    pub async fn latest_draft(&self, workspace_id: &str) -> Result<Option<Draft>> {
        let id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM posts WHERE workspace_id = ? AND status = 'draft' ORDER BY updated_at DESC, id LIMIT 1",
        )
        .bind(workspace_id)
        .fetch_optional(self.store.pool())
        .await?;
        match id {
            Some(id) => Ok(Some(self.get(&id).await?)),
            None => Ok(None),
        }
    }

    pub async fn discard_draft(&self, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM posts WHERE id = ? AND status = 'draft'")
            .bind(id)
            .execute(self.store.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(format!("draft {id}")));
        }
        Ok(())
    }
}
