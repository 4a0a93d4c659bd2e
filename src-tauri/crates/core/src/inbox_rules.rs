//! Inbox rules, as many as the user wants, applied in order as items arrive: conditions
//! (network, account, kind, text contains or matches a pattern, author) and actions (add a
//! label, mark done, mark important, notify).

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::inbox::{InboxKind, NewInboxItem};
use crate::store::{Store, now_utc};
use crate::{Error, Result};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RuleConditions {
    /// Any of these networks (empty: any).
    #[serde(default)]
    pub networks: Vec<String>,
    #[serde(default)]
    pub account_ids: Vec<String>,
    #[serde(default)]
    pub kinds: Vec<InboxKind>,
    /// The text contains this, ignoring case.
    pub text_contains: Option<String>,
    /// The text matches this regular expression.
    pub text_matches: Option<String>,
    /// The author's handle or name contains this, ignoring case.
    pub author: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct RuleActions {
    pub label: Option<String>,
    #[serde(default)]
    pub mark_done: bool,
    #[serde(default)]
    pub mark_important: bool,
    #[serde(default)]
    pub notify: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct InboxRule {
    pub id: String,
    pub workspace_id: String,
    pub name: String,
    pub conditions: RuleConditions,
    pub actions: RuleActions,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct NewRule {
    /// Set to change an existing rule.
    pub id: Option<String>,
    pub workspace_id: String,
    pub name: String,
    pub conditions: RuleConditions,
    pub actions: RuleActions,
    pub enabled: bool,
}

/// A rule ready to test items against (its pattern compiled once).
pub struct Compiled {
    rule: InboxRule,
    pattern: Option<regex::Regex>,
}

fn compile(pattern: &str) -> Result<regex::Regex> {
    regex::RegexBuilder::new(pattern)
        .case_insensitive(true)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            Error::invalid(
                "textMatches",
                format!("\"{pattern}\" is not a pattern: {e}"),
            )
        })
}

impl Compiled {
    pub fn new(rule: InboxRule) -> Result<Self> {
        let pattern = rule
            .conditions
            .text_matches
            .as_deref()
            .filter(|p| !p.is_empty())
            .map(compile)
            .transpose()?;
        Ok(Self { rule, pattern })
    }

    pub fn rule(&self) -> &InboxRule {
        &self.rule
    }

    /// Whether the item meets every condition.
    pub fn matches(&self, item: &NewInboxItem, network: &str) -> bool {
        let c = &self.rule.conditions;
        let lower = |s: &str| s.to_lowercase();
        (c.networks.is_empty() || c.networks.iter().any(|n| n == network))
            && (c.account_ids.is_empty() || c.account_ids.contains(&item.account_id))
            && (c.kinds.is_empty() || c.kinds.contains(&item.kind))
            && c.text_contains
                .as_deref()
                .filter(|t| !t.is_empty())
                .is_none_or(|t| lower(&item.text).contains(&lower(t)))
            && self.pattern.as_ref().is_none_or(|p| p.is_match(&item.text))
            && c.author
                .as_deref()
                .filter(|a| !a.is_empty())
                .is_none_or(|a| {
                    lower(&item.author_handle).contains(&lower(a))
                        || lower(&item.author_name).contains(&lower(a))
                })
    }
}

#[derive(Debug, Clone)]
pub struct Rules {
    store: Store,
}

impl Rules {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    pub async fn list(&self, workspace_id: &str) -> Result<Vec<InboxRule>> {
        let rows = sqlx::query(
            "SELECT id, workspace_id, name, conditions, actions, enabled FROM inbox_rules WHERE workspace_id = ? ORDER BY position, created_at",
        )
        .bind(workspace_id)
        .fetch_all(self.store.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(InboxRule {
                    id: r.try_get("id")?,
                    workspace_id: r.try_get("workspace_id")?,
                    name: r.try_get("name")?,
                    conditions: serde_json::from_str(&r.try_get::<String, _>("conditions")?)
                        .unwrap_or_default(),
                    actions: serde_json::from_str(&r.try_get::<String, _>("actions")?)
                        .unwrap_or_default(),
                    enabled: r.try_get::<i64, _>("enabled")? == 1,
                })
            })
            .collect()
    }

    /// Adds or changes a rule. A rule must have a name, at least one action, and a pattern
    /// that compiles.
    pub async fn save(&self, input: NewRule) -> Result<InboxRule> {
        let name = input.name.trim().to_string();
        if name.is_empty() {
            return Err(Error::invalid("name", "give the rule a name"));
        }
        let a = &input.actions;
        if a.label.as_deref().is_none_or(|l| l.trim().is_empty())
            && !a.mark_done
            && !a.mark_important
            && !a.notify
        {
            return Err(Error::invalid("actions", "choose at least one action"));
        }
        if let Some(p) = input
            .conditions
            .text_matches
            .as_deref()
            .filter(|p| !p.is_empty())
        {
            compile(p)?;
        }
        let id = input
            .id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        let position: i64 = sqlx::query_scalar(
            "SELECT coalesce((SELECT position FROM inbox_rules WHERE id = ?1), (SELECT coalesce(max(position), 0) + 1 FROM inbox_rules WHERE workspace_id = ?2))",
        )
        .bind(&id)
        .bind(&input.workspace_id)
        .fetch_one(self.store.pool())
        .await?;
        sqlx::query(
            "INSERT INTO inbox_rules (id, workspace_id, name, position, conditions, actions, enabled, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (id) DO UPDATE SET name = ?3, conditions = ?5, actions = ?6, enabled = ?7",
        )
        .bind(&id)
        .bind(&input.workspace_id)
        .bind(&name)
        .bind(position)
        .bind(serde_json::to_string(&input.conditions).unwrap_or_else(|_| "{}".into()))
        .bind(serde_json::to_string(&input.actions).unwrap_or_else(|_| "{}".into()))
        .bind(i64::from(input.enabled))
        .bind(now_utc())
        .execute(self.store.pool())
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_foreign_key_violation() => {
                Error::not_found(format!("workspace {}", input.workspace_id))
            }
            e => e.into(),
        })?;
        Ok(InboxRule {
            id,
            workspace_id: input.workspace_id,
            name,
            conditions: input.conditions,
            actions: input.actions,
            enabled: input.enabled,
        })
    }

    pub async fn delete(&self, id: &str) -> Result<()> {
        sqlx::query("DELETE FROM inbox_rules WHERE id = ?")
            .bind(id)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    /// The enabled rules of a workspace, compiled (a rule whose pattern no longer compiles is
    /// skipped with a warning).
    pub async fn compiled(&self, workspace_id: &str) -> Result<Vec<Compiled>> {
        Ok(self
            .list(workspace_id)
            .await?
            .into_iter()
            .filter(|r| r.enabled)
            .filter_map(|r| match Compiled::new(r) {
                Ok(c) => Some(c),
                Err(e) => {
                    tracing::warn!(error = %e, "skipping an inbox rule");
                    None
                }
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(text: &str, author: &str, kind: InboxKind) -> NewInboxItem {
        NewInboxItem {
            account_id: "a1".into(),
            kind,
            remote_id: "1".into(),
            subject_id: None,
            subject_cid: None,
            root_uri: None,
            root_cid: None,
            subject_url: None,
            conversation_id: None,
            author_id: "x".into(),
            author_handle: author.into(),
            author_name: String::new(),
            author_avatar: None,
            text: text.into(),
            html: None,
            created_at: "2026-11-27T10:00:00.000Z".into(),
        }
    }

    fn rule(conditions: RuleConditions) -> Compiled {
        Compiled::new(InboxRule {
            id: "r".into(),
            workspace_id: "w".into(),
            name: "r".into(),
            conditions,
            actions: RuleActions::default(),
            enabled: true,
        })
        .unwrap()
    }

    #[test]
    fn every_condition_must_hold() {
        let orders = rule(RuleConditions {
            kinds: vec![InboxKind::Mention, InboxKind::Dm],
            text_matches: Some(r"\b(bestell|order)".into()),
            ..Default::default()
        });
        assert!(orders.matches(
            &item("Ich möchte eine Torte BESTELLEN", "a", InboxKind::Dm),
            "bluesky"
        ));
        assert!(!orders.matches(
            &item("Ich möchte eine Torte bestellen", "a", InboxKind::Like),
            "bluesky"
        ));
        assert!(!orders.matches(&item("Schönes Wetter", "a", InboxKind::Dm), "bluesky"));
        let vip = rule(RuleConditions {
            networks: vec!["mastodon".into()],
            author: Some("Presse".into()),
            text_contains: Some("interview".into()),
            ..Default::default()
        });
        assert!(vip.matches(
            &item(
                "Ein Interview?",
                "presse@zeitung.example",
                InboxKind::Mention
            ),
            "mastodon"
        ));
        assert!(!vip.matches(
            &item(
                "Ein Interview?",
                "presse@zeitung.example",
                InboxKind::Mention
            ),
            "bluesky"
        ));
        assert!(
            Compiled::new(InboxRule {
                id: "r".into(),
                workspace_id: "w".into(),
                name: "bad".into(),
                conditions: RuleConditions {
                    text_matches: Some("(".into()),
                    ..Default::default()
                },
                actions: RuleActions::default(),
                enabled: true,
            })
            .is_err()
        );
    }
}
