//! Application settings, kept in the `settings` table as JSON values. Never secrets.

use serde::{Deserialize, Serialize};

use crate::Result;
use crate::store::{Store, now_utc};

/// UI language: follow the OS, or a fixed one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    System,
    En,
    De,
}

impl Language {
    /// The language to show: the chosen one, or for `System` the OS language (German for a
    /// German locale, English for any other).
    pub fn effective(self) -> Language {
        self.effective_for(sys_locale::get_locale().as_deref())
    }

    /// [`Self::effective`] for a given OS locale ("de-DE", "de_AT.UTF-8", "en-US").
    pub fn effective_for(self, os_locale: Option<&str>) -> Language {
        match self {
            Language::System => match os_locale {
                Some(locale) if locale.to_ascii_lowercase().starts_with("de") => Language::De,
                _ => Language::En,
            },
            chosen => chosen,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub language: Language,
    /// The workspace the UI shows; always an existing one when any exists.
    pub current_workspace_id: Option<String>,
}

/// How scheduled posts are handled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Scheduling {
    /// A post due while Postwerk was not running goes out on start when it is at most this
    /// many minutes late; later ones are held as missed for the user to decide.
    pub grace_minutes: u32,
    /// Nothing is sent by Postwerk while paused (posts held by a network still go out).
    pub paused: bool,
    /// Start Postwerk (in the tray) when the user logs in.
    pub start_at_login: bool,
}

impl Default for Scheduling {
    fn default() -> Self {
        Self {
            grace_minutes: 15,
            paused: false,
            start_at_login: false,
        }
    }
}

impl Scheduling {
    pub fn grace(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::from(self.grace_minutes) * 60)
    }
}

/// The longest grace window (a week).
pub const MAX_GRACE_MINUTES: u32 = 7 * 24 * 60;

const LANGUAGE: &str = "language";
const SCHEDULING: &str = "scheduling";
const CURRENT_WORKSPACE: &str = "current_workspace";
/// Set once the user was told that closing the window keeps Postwerk running in the tray.
const TOLD_ABOUT_TRAY: &str = "told_about_tray";

#[derive(Debug, Clone)]
pub struct SettingsStore {
    store: Store,
}

impl SettingsStore {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    async fn read<T: serde::de::DeserializeOwned>(&self, key: &str) -> Result<Option<T>> {
        let value: Option<String> = sqlx::query_scalar("SELECT value FROM settings WHERE key = ?")
            .bind(key)
            .fetch_optional(self.store.pool())
            .await?;
        Ok(value.and_then(|v| match serde_json::from_str(&v) {
            Ok(parsed) => Some(parsed),
            Err(e) => {
                // An unknown value (say, from a newer version) falls back to the default.
                tracing::warn!(key, error = %e, "ignoring unreadable setting");
                None
            }
        }))
    }

    async fn write<T: Serialize>(&self, key: &str, value: &T) -> Result<()> {
        let json = serde_json::to_string(value).expect("settings values serialise");
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (key) DO UPDATE SET value = ?2, updated_at = ?3",
        )
        .bind(key)
        .bind(json)
        .bind(now_utc())
        .execute(self.store.pool())
        .await?;
        Ok(())
    }

    /// The settings, with the current workspace resolved: a stored id whose workspace is gone
    /// falls back to the first workspace by name (or none).
    pub async fn get(&self) -> Result<Settings> {
        let language = self.read(LANGUAGE).await?.unwrap_or_default();
        let stored: Option<String> = self.read(CURRENT_WORKSPACE).await?;
        let current_workspace_id: Option<String> = sqlx::query_scalar(
            "SELECT id FROM workspaces ORDER BY id = ?1 DESC, name COLLATE NOCASE, id LIMIT 1",
        )
        .bind(stored)
        .fetch_optional(self.store.pool())
        .await?;
        Ok(Settings {
            language,
            current_workspace_id,
        })
    }

    pub async fn set_language(&self, language: Language) -> Result<Settings> {
        self.write(LANGUAGE, &language).await?;
        self.get().await
    }

    pub async fn scheduling(&self) -> Result<Scheduling> {
        Ok(self.read(SCHEDULING).await?.unwrap_or_default())
    }

    pub async fn set_scheduling(&self, scheduling: Scheduling) -> Result<Scheduling> {
        if scheduling.grace_minutes > MAX_GRACE_MINUTES {
            return Err(crate::Error::invalid(
                "graceMinutes",
                format!(
                    "the grace window can be at most {MAX_GRACE_MINUTES} minutes (a week), not {}",
                    scheduling.grace_minutes
                ),
            ));
        }
        self.write(SCHEDULING, &scheduling).await?;
        Ok(scheduling)
    }

    /// True exactly once per data folder: the first call notes that the user was told that
    /// Postwerk keeps running in the tray.
    pub async fn first_time_told_about_tray(&self) -> Result<bool> {
        let inserted = sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES (?1, 'true', ?2) \
             ON CONFLICT (key) DO NOTHING",
        )
        .bind(TOLD_ABOUT_TRAY)
        .bind(now_utc())
        .execute(self.store.pool())
        .await?
        .rows_affected();
        Ok(inserted == 1)
    }

    /// Selects the workspace the UI shows. `None` clears the choice.
    pub async fn set_current_workspace(&self, id: Option<&str>) -> Result<Settings> {
        if let Some(id) = id {
            let exists: bool =
                sqlx::query_scalar("SELECT count(*) > 0 FROM workspaces WHERE id = ?")
                    .bind(id)
                    .fetch_one(self.store.pool())
                    .await?;
            if !exists {
                return Err(crate::Error::not_found(format!("workspace {id}")));
            }
        }
        self.write(CURRENT_WORKSPACE, &id).await?;
        self.get().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspaces::{NewWorkspace, Workspaces};

    #[tokio::test]
    async fn defaults_then_language_round_trip() {
        let store = Store::in_memory().await.unwrap();
        let settings = SettingsStore::new(store);
        assert_eq!(settings.get().await.unwrap(), Settings::default());
        assert_eq!(
            settings.set_language(Language::De).await.unwrap().language,
            Language::De
        );
        assert_eq!(settings.get().await.unwrap().language, Language::De);
    }

    #[tokio::test]
    async fn current_workspace_follows_deletes() {
        let store = Store::in_memory().await.unwrap();
        let ws = Workspaces::new(store.clone());
        let settings = SettingsStore::new(store.clone());
        let a = ws
            .create(NewWorkspace {
                name: "A".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        let b = ws
            .create(NewWorkspace {
                name: "B".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(
            settings
                .get()
                .await
                .unwrap()
                .current_workspace_id
                .as_deref(),
            Some(a.id.as_str())
        );
        settings.set_current_workspace(Some(&b.id)).await.unwrap();
        assert_eq!(
            settings
                .get()
                .await
                .unwrap()
                .current_workspace_id
                .as_deref(),
            Some(b.id.as_str())
        );
        ws.delete(&b.id).await.unwrap();
        assert_eq!(
            settings
                .get()
                .await
                .unwrap()
                .current_workspace_id
                .as_deref(),
            Some(a.id.as_str())
        );
        let err = settings
            .set_current_workspace(Some("nope"))
            .await
            .unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::NotFound);
    }

    #[test]
    fn the_effective_language_follows_the_os_only_for_system() {
        assert_eq!(Language::System.effective_for(Some("de-DE")), Language::De);
        assert_eq!(
            Language::System.effective_for(Some("de_AT.UTF-8")),
            Language::De
        );
        assert_eq!(Language::System.effective_for(Some("en-US")), Language::En);
        assert_eq!(Language::System.effective_for(Some("fr-FR")), Language::En);
        assert_eq!(Language::System.effective_for(None), Language::En);
        assert_eq!(Language::En.effective_for(Some("de-DE")), Language::En);
        assert_eq!(Language::De.effective_for(Some("en-US")), Language::De);
    }

    #[tokio::test]
    async fn told_about_the_tray_only_once() {
        let store = Store::in_memory().await.unwrap();
        let settings = SettingsStore::new(store);
        assert!(settings.first_time_told_about_tray().await.unwrap());
        assert!(!settings.first_time_told_about_tray().await.unwrap());
        assert!(!settings.first_time_told_about_tray().await.unwrap());
    }

    #[tokio::test]
    async fn an_unreadable_value_falls_back_to_the_default() {
        let store = Store::in_memory().await.unwrap();
        sqlx::query(
            "INSERT INTO settings (key, value, updated_at) VALUES ('language', '\"klingon\"', 'x')",
        )
        .execute(store.pool())
        .await
        .unwrap();
        assert_eq!(
            SettingsStore::new(store).get().await.unwrap().language,
            Language::System
        );
    }
}
