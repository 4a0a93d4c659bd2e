//! Events the Rust side sends to the window.

use postwerk_core::publish::PublishEvent;
use serde::Serialize;

/// Something happened to a scheduled post (published, failed, missed, held for reconnecting)
/// or the schedule changed: the calendar and queue lists reload.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct ScheduleEvent(pub PublishEvent);

/// New inbox items arrived, or a rule asked to be told about one: the inbox reloads.
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct InboxChanged(pub postwerk_core::inbox::InboxEvent);
