//! Tauri commands. Each is one call into `postwerk-core`; no logic lives here.

use postwerk_core::{
    AppInfo, KeychainStatus, Language, NewWorkspace, Settings, Workspace, WorkspacePatch,
};
use tauri::State;

use crate::AppState;
use crate::ipc_error::{IpcError, IpcResult};

#[tauri::command]
#[specta::specta]
pub fn app_info(state: State<'_, AppState>) -> IpcResult<AppInfo> {
    Ok(state.core()?.app_info())
}

#[tauri::command]
#[specta::specta]
pub fn list_time_zones() -> IpcResult<Vec<String>> {
    Ok(postwerk_core::tz::all_zones())
}

#[tauri::command]
#[specta::specta]
pub async fn keychain_status() -> IpcResult<KeychainStatus> {
    Ok(postwerk_core::keychain_status().await)
}

#[tauri::command]
#[specta::specta]
pub async fn list_workspaces(state: State<'_, AppState>) -> IpcResult<Vec<Workspace>> {
    Ok(state.core()?.workspaces().list().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn create_workspace(
    state: State<'_, AppState>,
    input: NewWorkspace,
) -> IpcResult<Workspace> {
    Ok(state.core()?.workspaces().create(input).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn update_workspace(
    state: State<'_, AppState>,
    id: String,
    patch: WorkspacePatch,
) -> IpcResult<Workspace> {
    Ok(state.core()?.workspaces().update(&id, patch).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_workspace(state: State<'_, AppState>, id: String) -> IpcResult<()> {
    Ok(state.core()?.workspaces().delete(&id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_settings(state: State<'_, AppState>) -> IpcResult<Settings> {
    Ok(state.core()?.settings().get().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_language(state: State<'_, AppState>, language: Language) -> IpcResult<Settings> {
    Ok(state.core()?.settings().set_language(language).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_current_workspace(
    state: State<'_, AppState>,
    id: Option<String>,
) -> IpcResult<Settings> {
    Ok(state
        .core()?
        .settings()
        .set_current_workspace(id.as_deref())
        .await?)
}

#[tauri::command]
#[specta::specta]
pub fn open_log_folder(state: State<'_, AppState>) -> IpcResult<()> {
    let dir = state.log_dir.clone();
    tauri_plugin_opener::open_path(&dir, None::<&str>).map_err(|e| IpcError {
        code: postwerk_core::ErrorCode::Io,
        message: format!("cannot open {}: {e}", dir.display()),
    })
}
