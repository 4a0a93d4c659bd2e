//! Workspaces: one per client or brand, each with its own IANA time zone and colour.

use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::store::{Store, now_utc};
use crate::{Error, Result, tz};

/// Longest workspace name, in characters.
pub const MAX_NAME_CHARS: usize = 80;

/// Colours offered for new workspaces, used in turn.
pub const PALETTE: [&str; 8] = [
    "#4f46e5", "#0891b2", "#059669", "#d97706", "#dc2626", "#db2777", "#7c3aed", "#475569",
];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    pub id: String,
    pub name: String,
    /// IANA zone, for example "Europe/Berlin".
    pub time_zone: String,
    /// `#rrggbb`, lower case.
    pub color: String,
    /// RFC 3339, UTC.
    pub created_at: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct NewWorkspace {
    pub name: String,
    /// `None`: the system's zone.
    pub time_zone: Option<String>,
    /// `None`: the next colour of the palette.
    pub color: Option<String>,
}

/// Fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct WorkspacePatch {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    pub color: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Workspaces {
    store: Store,
}

fn validate_name(name: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", "must not be empty"));
    }
    let chars = name.chars().count();
    if chars > MAX_NAME_CHARS {
        return Err(Error::invalid(
            "name",
            format!("is {chars} characters long; at most {MAX_NAME_CHARS} are allowed"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "must not contain control characters",
        ));
    }
    Ok(name.to_string())
}

fn validate_color(color: &str) -> Result<String> {
    let c = color.trim().to_ascii_lowercase();
    let ok = c.len() == 7 && c.starts_with('#') && c[1..].chars().all(|ch| ch.is_ascii_hexdigit());
    if ok {
        Ok(c)
    } else {
        Err(Error::invalid(
            "colour",
            format!("\"{}\" is not a colour like #4f46e5", color.trim()),
        ))
    }
}

fn from_row(row: &sqlx::sqlite::SqliteRow) -> Workspace {
    Workspace {
        id: row.get("id"),
        name: row.get("name"),
        time_zone: row.get("time_zone"),
        color: row.get("color"),
        created_at: row.get("created_at"),
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.is_unique_violation())
}

fn duplicate_name(name: &str) -> Error {
    Error::Conflict(format!("a workspace named \"{name}\" already exists"))
}

impl Workspaces {
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// All workspaces, by name.
    pub async fn list(&self) -> Result<Vec<Workspace>> {
        let rows = sqlx::query(
            "SELECT id, name, time_zone, color, created_at FROM workspaces ORDER BY name COLLATE NOCASE, id",
        )
        .fetch_all(self.store.pool())
        .await?;
        Ok(rows.iter().map(from_row).collect())
    }

    pub async fn get(&self, id: &str) -> Result<Workspace> {
        let row = sqlx::query(
            "SELECT id, name, time_zone, color, created_at FROM workspaces WHERE id = ?",
        )
        .bind(id)
        .fetch_optional(self.store.pool())
        .await?;
        row.as_ref()
            .map(from_row)
            .ok_or_else(|| Error::not_found(format!("workspace {id}")))
    }

    /// Finds a workspace by id, or by name (case-insensitive), as the CLI accepts either.
    pub async fn find(&self, id_or_name: &str) -> Result<Workspace> {
        let row = sqlx::query(
            "SELECT id, name, time_zone, color, created_at FROM workspaces \
             WHERE id = ?1 OR name = ?2 COLLATE NOCASE ORDER BY id = ?1 DESC LIMIT 1",
        )
        .bind(id_or_name)
        .bind(id_or_name.trim())
        .fetch_optional(self.store.pool())
        .await?;
        row.as_ref()
            .map(from_row)
            .ok_or_else(|| Error::not_found(format!("workspace \"{id_or_name}\"")))
    }

    pub async fn create(&self, input: NewWorkspace) -> Result<Workspace> {
        let name = validate_name(&input.name)?;
        let time_zone = match input.time_zone.as_deref() {
            Some(z) => tz::parse_zone(z)?.name().to_string(),
            None => tz::system_zone(),
        };
        let color = match input.color.as_deref() {
            Some(c) => validate_color(c)?,
            None => {
                let count: i64 = sqlx::query_scalar("SELECT count(*) FROM workspaces")
                    .fetch_one(self.store.pool())
                    .await?;
                PALETTE[count as usize % PALETTE.len()].to_string()
            }
        };
        let now = now_utc();
        let ws = Workspace {
            id: uuid::Uuid::new_v4().to_string(),
            name,
            time_zone,
            color,
            created_at: now.clone(),
        };
        sqlx::query(
            "INSERT INTO workspaces (id, name, time_zone, color, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        )
        .bind(&ws.id)
        .bind(&ws.name)
        .bind(&ws.time_zone)
        .bind(&ws.color)
        .bind(&now)
        .bind(&now)
        .execute(self.store.pool())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                duplicate_name(&ws.name)
            } else {
                e.into()
            }
        })?;
        tracing::info!(workspace = %ws.id, zone = %ws.time_zone, "workspace created");
        Ok(ws)
    }

    pub async fn update(&self, id: &str, patch: WorkspacePatch) -> Result<Workspace> {
        let mut ws = self.get(id).await?;
        if let Some(name) = patch.name.as_deref() {
            ws.name = validate_name(name)?;
        }
        if let Some(zone) = patch.time_zone.as_deref() {
            ws.time_zone = tz::parse_zone(zone)?.name().to_string();
        }
        if let Some(color) = patch.color.as_deref() {
            ws.color = validate_color(color)?;
        }
        sqlx::query(
            "UPDATE workspaces SET name = ?, time_zone = ?, color = ?, updated_at = ? WHERE id = ?",
        )
        .bind(&ws.name)
        .bind(&ws.time_zone)
        .bind(&ws.color)
        .bind(now_utc())
        .bind(&ws.id)
        .execute(self.store.pool())
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                duplicate_name(&ws.name)
            } else {
                e.into()
            }
        })?;
        tracing::info!(workspace = %ws.id, "workspace updated");
        Ok(ws)
    }

    /// Deletes the workspace and, through `ON DELETE CASCADE`, everything that belongs to it.
    pub async fn delete(&self, id: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM workspaces WHERE id = ?")
            .bind(id)
            .execute(self.store.pool())
            .await?;
        if done.rows_affected() == 0 {
            return Err(Error::not_found(format!("workspace {id}")));
        }
        tracing::info!(workspace = %id, "workspace deleted");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;

    async fn workspaces() -> Workspaces {
        Workspaces::new(Store::in_memory().await.unwrap())
    }

    fn new(name: &str, tz: Option<&str>) -> NewWorkspace {
        NewWorkspace {
            name: name.into(),
            time_zone: tz.map(Into::into),
            color: None,
        }
    }

    #[tokio::test]
    async fn create_list_rename_and_delete() {
        let ws = workspaces().await;
        let bakery = ws
            .create(new("  Bäckerei Sonnenschein ", Some("europe/berlin")))
            .await
            .unwrap();
        assert_eq!(bakery.name, "Bäckerei Sonnenschein");
        assert_eq!(bakery.time_zone, "Europe/Berlin");
        assert_eq!(bakery.color, PALETTE[0]);
        let studio = ws
            .create(new("Acme Studio", Some("America/New_York")))
            .await
            .unwrap();
        assert_eq!(studio.color, PALETTE[1]);

        let names: Vec<_> = ws
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|w| w.name)
            .collect();
        assert_eq!(names, ["Acme Studio", "Bäckerei Sonnenschein"]);

        let renamed = ws
            .update(
                &studio.id,
                WorkspacePatch {
                    name: Some("Acme".into()),
                    time_zone: Some("Asia/Tokyo".into()),
                    color: Some("#ABCDEF".into()),
                },
            )
            .await
            .unwrap();
        assert_eq!(
            (
                renamed.name.as_str(),
                renamed.time_zone.as_str(),
                renamed.color.as_str()
            ),
            ("Acme", "Asia/Tokyo", "#abcdef")
        );
        assert_eq!(ws.get(&studio.id).await.unwrap(), renamed);
        assert_eq!(ws.find("acme").await.unwrap().id, studio.id);
        assert_eq!(ws.find(&studio.id).await.unwrap().id, studio.id);

        ws.delete(&studio.id).await.unwrap();
        assert_eq!(ws.list().await.unwrap(), vec![bakery]);
        assert_eq!(
            ws.delete(&studio.id).await.unwrap_err().code(),
            ErrorCode::NotFound
        );
    }

    #[tokio::test]
    async fn default_zone_is_the_systems() {
        let ws = workspaces().await;
        let w = ws.create(new("Mine", None)).await.unwrap();
        assert_eq!(w.time_zone, tz::system_zone());
    }

    #[tokio::test]
    async fn bad_input_is_refused_with_a_specific_reason_and_nothing_is_written() {
        let ws = workspaces().await;
        let cases = [
            (new("   ", None), "name: must not be empty"),
            (
                new(&"x".repeat(81), None),
                "name: is 81 characters long; at most 80 are allowed",
            ),
            (new("Tab\there", None), "control characters"),
            (
                new("Ok", Some("Mars/Base")),
                "\"Mars/Base\" is not an IANA time zone",
            ),
            (
                NewWorkspace {
                    name: "Ok".into(),
                    time_zone: None,
                    color: Some("blue".into()),
                },
                "\"blue\" is not a colour",
            ),
        ];
        for (input, expected) in cases {
            let err = ws.create(input).await.unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidInput);
            assert!(err.to_string().contains(expected), "{err} !~ {expected}");
        }
        assert!(ws.list().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn names_are_unique_ignoring_case_on_create_and_rename() {
        let ws = workspaces().await;
        ws.create(new("Acme", None)).await.unwrap();
        let other = ws.create(new("Other", None)).await.unwrap();
        let err = ws.create(new("ACME", None)).await.unwrap_err();
        assert_eq!(err.code(), ErrorCode::Conflict);
        assert_eq!(err.to_string(), "a workspace named \"ACME\" already exists");
        let err = ws
            .update(
                &other.id,
                WorkspacePatch {
                    name: Some("acme".into()),
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Conflict);
        assert_eq!(ws.get(&other.id).await.unwrap().name, "Other");
    }

    #[tokio::test]
    async fn a_failed_update_changes_nothing() {
        let ws = workspaces().await;
        let w = ws.create(new("Acme", Some("UTC"))).await.unwrap();
        let err = ws
            .update(
                &w.id,
                WorkspacePatch {
                    name: Some("New name".into()),
                    time_zone: Some("Nowhere/City".into()),
                    color: None,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidInput);
        assert_eq!(ws.get(&w.id).await.unwrap(), w);
    }
}
