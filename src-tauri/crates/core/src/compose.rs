//! The composer's live checks: each picked account's text (or thread parts) and media against
//! its network's rules, with the limits of the account's own server.

use postwerk_networks::NetworkKind;
use postwerk_networks::mastodon::InstanceInfo;
use serde::{Deserialize, Serialize};

use crate::accounts::Accounts;
use crate::media::MediaStore;
use crate::posts::{DraftMediaInput, DraftTarget};
use crate::rules::{self, Limits, MediaItem, MediaProblem, TextCheck};
use crate::{Error, Result};

#[derive(Debug, Clone, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct CheckInput {
    pub workspace_id: String,
    pub text: String,
    pub spoiler: String,
    pub media: Vec<DraftMediaInput>,
    pub targets: Vec<DraftTarget>,
}

/// The verdict for one account: one text check per part, and the media problems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TargetCheck {
    pub account_id: String,
    pub network: NetworkKind,
    pub parts: Vec<TextCheck>,
    pub media: Vec<MediaProblem>,
    /// Nothing blocks publishing to this account.
    pub ok: bool,
}

impl TargetCheck {
    /// The first reason this target cannot be published, in words.
    pub fn blocking_reason(&self) -> Option<String> {
        let name = self.network.display_name();
        if let Some((n, part)) = self.parts.iter().enumerate().find(|(_, p)| !p.ok) {
            let msg = part.message.clone().unwrap_or_else(|| {
                format!("{} of {} characters for {name}", part.length, part.limit)
            });
            return Some(if self.parts.len() > 1 {
                format!("part {}: {msg}", n + 1)
            } else {
                msg
            });
        }
        if self.parts.iter().all(|p| p.length == 0) && self.media.is_empty() {
            return Some(format!("the post for {name} is empty"));
        }
        self.media
            .iter()
            .find(|m| m.blocking)
            .map(|m| m.message.clone())
    }
}

#[derive(Debug, Clone)]
pub struct Composer {
    accounts: Accounts,
    media: MediaStore,
}

impl Composer {
    pub fn new(accounts: Accounts, media: MediaStore) -> Self {
        Self { accounts, media }
    }

    async fn limits(
        &self,
        account_id: &str,
    ) -> Result<(NetworkKind, Limits, Option<InstanceInfo>)> {
        let account = self.accounts.get(account_id).await?;
        let info = self.accounts.server_info(account_id).await?;
        let limits = info.as_ref().map(Limits::from_instance).unwrap_or_default();
        Ok((account.network, limits, info))
    }

    pub async fn media_items(&self, media: &[DraftMediaInput]) -> Result<Vec<MediaItem>> {
        let mut items = Vec::new();
        for m in media {
            let info = self.media.info_light(&m.media_id).await?;
            items.push(MediaItem {
                mime: info.mime,
                bytes: u64::from(info.bytes),
                alt: Some(m.alt.clone()).filter(|a| !a.trim().is_empty()),
                width: info.width,
                height: info.height,
            });
        }
        Ok(items)
    }

    /// Checks one target: its parts (thread, override or master text) and the media.
    pub async fn check_target(
        &self,
        target: &DraftTarget,
        master: &str,
        spoiler: &str,
        items: &[MediaItem],
    ) -> Result<TargetCheck> {
        let (network, limits, info) = self.limits(&target.account_id).await?;
        let parts: Vec<String> = match &target.thread_parts {
            Some(parts) if !parts.is_empty() => parts.clone(),
            _ => vec![
                target
                    .text_override
                    .clone()
                    .unwrap_or_else(|| master.to_string()),
            ],
        };
        let checks: Vec<TextCheck> = parts
            .iter()
            .enumerate()
            // The content warning goes with the first part only.
            .map(|(n, p)| {
                rules::check_text(
                    network,
                    p.trim(),
                    if n == 0 { spoiler } else { "" },
                    &limits,
                )
            })
            .collect();
        let media = rules::check_media(network, items, &rules::media_rules(network, info.as_ref()));
        let mut check = TargetCheck {
            account_id: target.account_id.clone(),
            network,
            parts: checks,
            media,
            ok: true,
        };
        check.ok = check.blocking_reason().is_none();
        Ok(check)
    }

    pub async fn check(&self, input: &CheckInput) -> Result<Vec<TargetCheck>> {
        let items = self.media_items(&input.media).await?;
        let mut out = Vec::new();
        for target in &input.targets {
            let account = self.accounts.get(&target.account_id).await?;
            if account.workspace_id != input.workspace_id {
                return Err(Error::invalid(
                    "targets",
                    format!("account {} is not in this workspace", target.account_id),
                ));
            }
            out.push(
                self.check_target(target, &input.text, &input.spoiler, &items)
                    .await?,
            );
        }
        Ok(out)
    }

    /// Splits a text into parts that each fit the account's network.
    pub async fn split(&self, account_id: &str, text: &str) -> Result<Vec<String>> {
        let (network, limits, _) = self.limits(account_id).await?;
        Ok(rules::split_thread(network, text, &limits))
    }
}
