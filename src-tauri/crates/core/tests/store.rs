//! The store on a real SQLite file.

use std::path::Path;

use postwerk_core::store::known_schema_version;
use postwerk_core::{AppPaths, Core, ErrorCode, NewWorkspace};
use sqlx::{ConnectOptions, Connection};

fn new_ws(name: &str) -> NewWorkspace {
    NewWorkspace {
        name: name.into(),
        time_zone: Some("Europe/Berlin".into()),
        color: None,
    }
}

async fn raw(path: &Path) -> sqlx::SqliteConnection {
    sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .connect()
        .await
        .unwrap()
}

fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[tokio::test]
async fn opens_a_new_file_with_wal_foreign_keys_and_all_migrations() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nested/data");
    let core = Core::open(AppPaths::at(&data)).await.unwrap();
    assert!(data.join("postwerk.db").is_file());
    assert!(data.join("logs").is_dir());

    let mut conn = core.store().pool().acquire().await.unwrap();
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(fk, 1);
    let max: i64 = sqlx::query_scalar("SELECT max(version) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(max, known_schema_version());
    drop(conn);
    core.close().await;
}

#[tokio::test]
async fn data_survives_closing_and_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(AppPaths::at(dir.path())).await.unwrap();
    let ws = core.workspaces().create(new_ws("Acme")).await.unwrap();
    core.close().await;

    let core = Core::open(AppPaths::at(dir.path())).await.unwrap();
    assert_eq!(core.workspaces().list().await.unwrap(), vec![ws]);
    core.close().await;
}

#[tokio::test]
async fn a_database_from_a_newer_postwerk_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let paths = AppPaths::at(dir.path());
    let core = Core::open(paths.clone()).await.unwrap();
    core.workspaces().create(new_ws("Acme")).await.unwrap();
    core.close().await;

    // A newer Postwerk applied a migration this build does not know.
    let future = known_schema_version() + 1;
    let mut conn = raw(&paths.database()).await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, installed_on, success, checksum, execution_time) \
         VALUES (?, 'from the future', CURRENT_TIMESTAMP, 1, x'00', 0)",
    )
    .bind(future)
    .execute(&mut conn)
    .await
    .unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let before = file_bytes(&paths.database());

    let err = Core::open(paths.clone()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::DatabaseIncompatible);
    let msg = err.to_string();
    assert!(
        msg.contains("written by a newer version of Postwerk"),
        "{msg}"
    );
    assert!(msg.contains(&format!("schema {future}")), "{msg}");
    assert!(msg.contains("left untouched"), "{msg}");
    assert_eq!(
        file_bytes(&paths.database()),
        before,
        "the refused database was modified"
    );
}

#[tokio::test]
async fn a_file_that_is_not_a_database_is_refused_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let paths = AppPaths::at(dir.path());
    std::fs::write(paths.database(), b"these are my notes, not a database, but big enough to look like one .....................................").unwrap();
    let before = file_bytes(&paths.database());
    let err = Core::open(paths.clone()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Io);
    assert!(
        err.to_string().contains("cannot open the database"),
        "{err}"
    );
    assert_eq!(file_bytes(&paths.database()), before);
}

#[tokio::test]
async fn a_deleted_workspace_takes_its_settings_reference_along() {
    let dir = tempfile::tempdir().unwrap();
    let core = Core::open(AppPaths::at(dir.path())).await.unwrap();
    let a = core.workspaces().create(new_ws("A")).await.unwrap();
    core.settings()
        .set_current_workspace(Some(&a.id))
        .await
        .unwrap();
    core.workspaces().delete(&a.id).await.unwrap();
    assert_eq!(
        core.settings().get().await.unwrap().current_workspace_id,
        None
    );
    core.close().await;
}
