//! Tauri commands. Each is one call into `postwerk-core`; no logic lives here.

use postwerk_core::accounts::{ConnectBluesky, PendingSignIn, Removal, StartMastodon};
use postwerk_core::compose::{CheckInput, TargetCheck};
use postwerk_core::inbox::{InboxChange, InboxFilter, InboxPage, InboxSummary};
use postwerk_core::inbox_reply::ReplyOutcome;
use postwerk_core::inbox_rules::{InboxRule, NewRule};
use postwerk_core::inbox_sync::SyncReport;
use postwerk_core::inbox_thread::{PostRef, Reaction, ThreadPost};
use postwerk_core::media::MediaInfo;
use postwerk_core::planner::{QueueSlot, Repeat, ScheduleFilter};
use postwerk_core::posts::{Draft, DraftInput};
use postwerk_core::publish::{QueueItem, TargetOutcome};
use postwerk_core::rules::TextCheck;
use postwerk_core::schedule::TimeCheck;
use postwerk_core::settings::Scheduling;
use postwerk_core::{
    Account, AppInfo, KeychainStatus, Language, NewWorkspace, Settings, Workspace, WorkspacePatch,
};
use postwerk_networks::NetworkInfo;
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
    Ok(state.core()?.delete_workspace(&id).await?)
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

/// Every network with what it can do and how it connects (for the network picker).
#[tauri::command]
#[specta::specta]
pub fn network_catalog() -> IpcResult<Vec<NetworkInfo>> {
    Ok(postwerk_networks::catalog())
}

#[tauri::command]
#[specta::specta]
pub async fn list_accounts(
    state: State<'_, AppState>,
    workspace_id: String,
) -> IpcResult<Vec<Account>> {
    Ok(state.core()?.accounts().list(&workspace_id).await?)
}

/// Asks each network whether the workspace's accounts still work; returns them updated.
#[tauri::command]
#[specta::specta]
pub async fn check_accounts(
    state: State<'_, AppState>,
    workspace_id: String,
) -> IpcResult<Vec<Account>> {
    Ok(state
        .core()?
        .accounts()
        .check_workspace(&workspace_id)
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn connect_bluesky(
    state: State<'_, AppState>,
    input: ConnectBluesky,
) -> IpcResult<Account> {
    Ok(state.core()?.accounts().connect_bluesky(input).await?)
}

/// Starts a Mastodon sign-in and opens the authorize page in the system browser.
#[tauri::command]
#[specta::specta]
pub async fn start_mastodon_sign_in(
    state: State<'_, AppState>,
    input: StartMastodon,
) -> IpcResult<PendingSignIn> {
    let pending = state.core()?.accounts().start_mastodon(input).await?;
    if tauri_plugin_opener::open_url(&pending.authorize_url, None::<&str>).is_err() {
        // The UI shows the link to open by hand. (The error repeats the URL: not logged.)
        tracing::info!("no browser could be opened for the sign-in page");
    }
    Ok(pending)
}

/// Waits for the browser to come back, then stores the account.
#[tauri::command]
#[specta::specta]
pub async fn finish_mastodon_sign_in(
    state: State<'_, AppState>,
    flow_id: String,
) -> IpcResult<Account> {
    Ok(state.core()?.accounts().finish_mastodon(&flow_id).await?)
}

#[tauri::command]
#[specta::specta]
pub fn cancel_sign_in(state: State<'_, AppState>, flow_id: String) -> IpcResult<()> {
    state.core()?.accounts().cancel_flow(&flow_id);
    Ok(())
}

/// Revokes the account's token where the network allows it and deletes its secrets and data.
#[tauri::command]
#[specta::specta]
pub async fn remove_account(state: State<'_, AppState>, id: String) -> IpcResult<Removal> {
    Ok(state.core()?.accounts().remove(&id).await?)
}

/// The draft the composer was last working on in this workspace, if any.
#[tauri::command]
#[specta::specta]
pub async fn get_draft(
    state: State<'_, AppState>,
    workspace_id: String,
) -> IpcResult<Option<Draft>> {
    Ok(state.core()?.posts().latest_draft(&workspace_id).await?)
}

/// Saves the composer's state (called as the user types).
#[tauri::command]
#[specta::specta]
pub async fn save_draft(state: State<'_, AppState>, input: DraftInput) -> IpcResult<Draft> {
    Ok(state.core()?.posts().save_draft(input).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn discard_draft(state: State<'_, AppState>, id: String) -> IpcResult<()> {
    Ok(state.core()?.posts().discard_draft(&id).await?)
}

/// Takes in an image the user dropped, pasted or picked (its bytes as base64).
#[tauri::command]
#[specta::specta]
pub async fn import_media(
    state: State<'_, AppState>,
    file_name: String,
    data_base64: String,
) -> IpcResult<MediaInfo> {
    Ok(state
        .core()?
        .media()
        .import_base64(&file_name, &data_base64)
        .await?)
}

/// Publishes a draft to all its accounts now; one outcome per account.
#[tauri::command]
#[specta::specta]
pub async fn publish_now(
    state: State<'_, AppState>,
    post_id: String,
) -> IpcResult<Vec<TargetOutcome>> {
    Ok(state.core()?.publisher().publish_now(&post_id).await?)
}

/// Publishes again only the accounts that failed.
#[tauri::command]
#[specta::specta]
pub async fn retry_failed(
    state: State<'_, AppState>,
    post_id: String,
) -> IpcResult<Vec<TargetOutcome>> {
    Ok(state.core()?.publisher().retry(&post_id).await?)
}

/// Opens a web page (a published post, a profile) in the system browser; the webview never
/// navigates away from Postwerk.
#[tauri::command]
#[specta::specta]
pub fn open_url(url: String) -> IpcResult<()> {
    let checked = postwerk_core::links::external_url(&url)?;
    tauri_plugin_opener::open_url(checked.as_str(), None::<&str>).map_err(|e| IpcError {
        code: postwerk_core::ErrorCode::Io,
        message: format!("cannot open the browser: {e}"),
    })
}

/// The live checks of the composer: per account, each part's length and the media problems.
#[tauri::command]
#[specta::specta]
pub async fn check_post(
    state: State<'_, AppState>,
    input: CheckInput,
) -> IpcResult<Vec<TargetCheck>> {
    Ok(state.core()?.composer().check(&input).await?)
}

/// Splits a text into a thread whose parts fit the account's network.
#[tauri::command]
#[specta::specta]
pub async fn split_thread(
    state: State<'_, AppState>,
    account_id: String,
    text: String,
) -> IpcResult<Vec<String>> {
    Ok(state.core()?.composer().split(&account_id, &text).await?)
}

/// How scheduled posts are handled (grace window, paused, start at login).
#[tauri::command]
#[specta::specta]
pub async fn get_scheduling(state: State<'_, AppState>) -> IpcResult<Scheduling> {
    Ok(state.core()?.settings().scheduling().await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_scheduling(
    state: State<'_, AppState>,
    scheduling: Scheduling,
) -> IpcResult<Scheduling> {
    Ok(state.core()?.set_scheduling(scheduling).await?)
}

/// Checks a wall-clock time in a workspace's zone as the user picks it (daylight saving gaps
/// and repeated hours come with the nearest valid choices).
#[tauri::command]
#[specta::specta]
pub async fn check_time(
    state: State<'_, AppState>,
    workspace_id: String,
    wall_clock: String,
) -> IpcResult<TimeCheck> {
    Ok(state.core()?.check_time(&workspace_id, &wall_clock).await?)
}

/// Schedules a draft for a wall-clock time in its workspace's zone.
#[tauri::command]
#[specta::specta]
pub async fn schedule_post(
    state: State<'_, AppState>,
    post_id: String,
    wall_clock: String,
) -> IpcResult<Vec<TargetOutcome>> {
    Ok(state.core()?.schedule_post(&post_id, &wall_clock).await?)
}

/// Puts a draft into each account's next free queue time.
#[tauri::command]
#[specta::specta]
pub async fn add_to_queue(
    state: State<'_, AppState>,
    post_id: String,
) -> IpcResult<Vec<TargetOutcome>> {
    Ok(state.core()?.add_to_queue(&post_id).await?)
}

/// Scheduled posts for the calendar and the queue lists.
#[tauri::command]
#[specta::specta]
pub async fn list_schedule(
    state: State<'_, AppState>,
    filter: ScheduleFilter,
) -> IpcResult<Vec<QueueItem>> {
    Ok(state.core()?.publisher().schedule_items(&filter).await?)
}

/// Moves one scheduled post (one account) to another wall-clock time.
#[tauri::command]
#[specta::specta]
pub async fn reschedule_target(
    state: State<'_, AppState>,
    target_id: String,
    wall_clock: String,
) -> IpcResult<QueueItem> {
    Ok(state
        .core()?
        .reschedule_target(&target_id, &wall_clock)
        .await?)
}

#[tauri::command]
#[specta::specta]
pub async fn pause_target(state: State<'_, AppState>, target_id: String) -> IpcResult<QueueItem> {
    Ok(state.core()?.publisher().pause_target(&target_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn resume_target(state: State<'_, AppState>, target_id: String) -> IpcResult<QueueItem> {
    Ok(state.core()?.publisher().resume_target(&target_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn cancel_target(state: State<'_, AppState>, target_id: String) -> IpcResult<QueueItem> {
    Ok(state.core()?.publisher().cancel_target(&target_id).await?)
}

/// Sends a missed, paused or failed scheduled post now.
#[tauri::command]
#[specta::specta]
pub async fn publish_target_now(
    state: State<'_, AppState>,
    target_id: String,
) -> IpcResult<TargetOutcome> {
    Ok(state.core()?.publish_target_now(&target_id).await?)
}

/// Takes a scheduled post back to a draft to edit it.
#[tauri::command]
#[specta::specta]
pub async fn unschedule_post(state: State<'_, AppState>, post_id: String) -> IpcResult<()> {
    Ok(state.core()?.publisher().unschedule_post(&post_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn get_queue_slots(
    state: State<'_, AppState>,
    account_id: String,
) -> IpcResult<Vec<QueueSlot>> {
    Ok(state.core()?.publisher().queue_slots(&account_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn set_queue_slots(
    state: State<'_, AppState>,
    account_id: String,
    slots: Vec<QueueSlot>,
) -> IpcResult<Vec<QueueSlot>> {
    Ok(state
        .core()?
        .publisher()
        .set_queue_slots(&account_id, &slots)
        .await?)
}

/// Repeat every N days, or evergreen recycling through the queue (or neither).
#[tauri::command]
#[specta::specta]
pub async fn set_repeat(
    state: State<'_, AppState>,
    post_id: String,
    repeat: Repeat,
) -> IpcResult<Repeat> {
    Ok(state
        .core()?
        .publisher()
        .set_repeat(&post_id, repeat)
        .await?)
}

/// A page of the unified inbox, newest first, with filters and search.
#[tauri::command]
#[specta::specta]
pub async fn list_inbox(state: State<'_, AppState>, filter: InboxFilter) -> IpcResult<InboxPage> {
    Ok(state.core()?.inbox().list(&filter).await?)
}

/// Marks inbox items read / done / important, or adds and removes a label.
#[tauri::command]
#[specta::specta]
pub async fn change_inbox(
    state: State<'_, AppState>,
    ids: Vec<String>,
    change: InboxChange,
) -> IpcResult<u32> {
    let changed = state.core()?.change_inbox(&ids, &change).await?;
    Ok(u32::try_from(changed).unwrap_or(u32::MAX))
}

/// Reads new notifications of a workspace's accounts now.
#[tauri::command]
#[specta::specta]
pub async fn sync_inbox(
    state: State<'_, AppState>,
    workspace_id: String,
) -> IpcResult<Vec<SyncReport>> {
    Ok(state.core()?.sync_inbox(Some(&workspace_id)).await?)
}

/// Answers an inbox item, or another post of its conversation (`to`); kept in the outbox and
/// sent later when the network does not answer.
#[tauri::command]
#[specta::specta]
pub async fn reply_inbox(
    state: State<'_, AppState>,
    item_id: String,
    text: String,
    to: Option<PostRef>,
) -> IpcResult<ReplyOutcome> {
    Ok(state
        .core()?
        .publisher()
        .reply(&item_id, &text, to.as_ref())
        .await?)
}

/// The length check of a reply as it will be sent (the reply box's counter).
#[tauri::command]
#[specta::specta]
pub async fn check_reply(
    state: State<'_, AppState>,
    item_id: String,
    text: String,
    to: Option<PostRef>,
) -> IpcResult<TextCheck> {
    Ok(state
        .core()?
        .publisher()
        .check_reply(&item_id, &text, to.as_ref())
        .await?)
}

/// The unread count and the labels of a workspace's inbox.
#[tauri::command]
#[specta::specta]
pub async fn inbox_summary(
    state: State<'_, AppState>,
    workspace_id: String,
) -> IpcResult<InboxSummary> {
    Ok(state.core()?.inbox().summary(&workspace_id).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn list_inbox_rules(
    state: State<'_, AppState>,
    workspace_id: String,
) -> IpcResult<Vec<InboxRule>> {
    Ok(state.core()?.inbox().rules().list(&workspace_id).await?)
}

/// Adds or changes an inbox rule (applied to items as they arrive).
#[tauri::command]
#[specta::specta]
pub async fn save_inbox_rule(state: State<'_, AppState>, rule: NewRule) -> IpcResult<InboxRule> {
    Ok(state.core()?.inbox().rules().save(rule).await?)
}

#[tauri::command]
#[specta::specta]
pub async fn delete_inbox_rule(state: State<'_, AppState>, id: String) -> IpcResult<()> {
    Ok(state.core()?.inbox().rules().delete(&id).await?)
}

/// The conversation around an inbox item, oldest first.
#[tauri::command]
#[specta::specta]
pub async fn inbox_thread(
    state: State<'_, AppState>,
    item_id: String,
) -> IpcResult<Vec<ThreadPost>> {
    Ok(state.core()?.publisher().thread(&item_id).await?)
}

/// Likes (favourites) or reposts (boosts) the post an inbox item is about, or another post
/// of its conversation (`post`); `on: false` takes it back.
#[tauri::command]
#[specta::specta]
pub async fn react_inbox(
    state: State<'_, AppState>,
    item_id: String,
    post: Option<PostRef>,
    reaction: Reaction,
    on: bool,
) -> IpcResult<()> {
    Ok(state
        .core()?
        .publisher()
        .react(&item_id, post.as_ref(), reaction, on)
        .await?)
}
