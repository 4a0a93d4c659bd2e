//! Publishing on the fake Mastodon: media uploads (`/api/v2/media`), statuses with the
//! `Idempotency-Key` header, native scheduling and the reads a client needs to reconcile.
//!
//! Validation order and texts follow Mastodon 4.4: `Api::V1::StatusesController#create`
//! (`set_thread`, then `PostStatusService`: idempotency, `validate_media!`, scheduled_at,
//! model validations), `Api::V2::MediaController`, `MediaAttachment` and `ScheduledStatus`
//! validations, and the messages of `config/locales/en.yml`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, Path, State};
use axum::http::header::{CONTENT_TYPE, LINK};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::text;
use super::{
    ACCOUNT_ID, ApiError, MastoState, Shared, Token, USERNAME, account_entity, authorize_user,
    error,
};
use crate::common::{self, Params, bearer, iso_ms, json_response, lock, now_ms};
use crate::media;

/// `configuration.media_attachments.supported_mime_types` of the fake instance.
pub(crate) const SUPPORTED_MIME_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/mp4",
];
pub(crate) const MAX_MEDIA_ATTACHMENTS: usize = 4;
pub(crate) const DESCRIPTION_LIMIT: usize = 1500;
pub(crate) const IMAGE_SIZE_LIMIT: usize = 16_777_216;
pub(crate) const VIDEO_SIZE_LIMIT: usize = 103_809_024;
/// What the media route reads at most (nginx's `client_max_body_size` is about this).
pub(crate) const MEDIA_BODY_LIMIT: usize = 110 * 1024 * 1024;
const IDEMPOTENCY_TTL_MS: u64 = 3_600_000;
const MIN_SCHEDULE_OFFSET_SECS: i64 = 300;
const SCHEDULED_TOTAL_LIMIT: usize = 300;
const SCHEDULED_DAILY_LIMIT: usize = 25;
/// `RateLimiter` family `statuses`: 300 statuses per 3 hours per account.
const STATUSES_LIMIT: u32 = 300;
const STATUSES_PERIOD_MS: u64 = 3 * 3_600_000;
const VISIBILITIES: &[&str] = &["public", "unlisted", "private", "direct"];

// config/locales/en.yml, media_attachments.validations and statuses.errors.
const ERR_TOO_MANY: &str = "Cannot attach more than 4 files";
const ERR_NOT_READY: &str =
    "Cannot attach files that have not finished processing. Try again in a moment!";
const ERR_IMAGES_AND_VIDEO: &str = "Cannot attach a video to a post that already contains images";
const ERR_IN_REPLY_NOT_FOUND: &str =
    "The post you are trying to reply to does not appear to exist.";
const ERR_SCHEDULED_TOO_SOON: &str = "Validation failed: Scheduled at date must be in the future";

/// A status the fake created, with every parameter it was created from.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedStatus {
    pub id: String,
    pub created_at: String,
    /// The `status` parameter (after Mastodon moves a lone `spoiler_text` into it).
    pub text: String,
    pub spoiler_text: String,
    pub visibility: String,
    pub sensitive: bool,
    pub language: String,
    pub in_reply_to_id: Option<String>,
    /// `media_ids[]` as received, in order.
    pub media_ids: Vec<String>,
    /// The `Idempotency-Key` header.
    pub idempotency_key: Option<String>,
    /// Set when the status was published from a scheduled status.
    pub scheduled_status_id: Option<String>,
    /// The client name of the app whose token posted it.
    pub application: Option<String>,
    /// Every request parameter as one JSON object (query, form or JSON body merged).
    pub params: Value,
    /// The request's `Content-Type`.
    pub content_type: Option<String>,
    /// The request body, byte for byte.
    #[serde(serialize_with = "common::serialize_base64")]
    pub raw_body: Vec<u8>,
}

/// A media upload the fake accepted.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedMedia {
    pub id: String,
    /// The `Content-Type` of the `file` part.
    pub mime: String,
    /// The `file` part, byte for byte.
    #[serde(serialize_with = "common::serialize_base64")]
    pub bytes: Vec<u8>,
    pub file_name: Option<String>,
    pub description: Option<String>,
    pub focus: Option<String>,
    /// The status it is attached to, once it is.
    pub status_id: Option<String>,
    /// The scheduled status it is attached to, once it is.
    pub scheduled_status_id: Option<String>,
}

/// A scheduled status and what became of it.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedScheduled {
    pub id: String,
    pub scheduled_at: String,
    /// The ScheduledStatus entity's `params` as the API shows them.
    pub params: Value,
    pub media_ids: Vec<String>,
    pub idempotency_key: Option<String>,
    /// The status it turned into, once published.
    pub published_status_id: Option<String>,
    /// Cancelled with `DELETE /api/v1/scheduled_statuses/:id`.
    pub deleted: bool,
    pub content_type: Option<String>,
    #[serde(serialize_with = "common::serialize_base64")]
    pub raw_body: Vec<u8>,
}

struct StoredMedia {
    received: ReceivedMedia,
    account_id: String,
    kind: &'static str,
    ext: &'static str,
    size: Option<(u32, u32)>,
    focus: Option<(f64, f64)>,
    /// GETs still answered with 206 before processing is done.
    polls_left: u32,
}

impl StoredMedia {
    fn processing(&self) -> bool {
        self.polls_left > 0
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Status,
    Scheduled,
}

struct IdempotencyEntry {
    account_id: String,
    key: String,
    target: Target,
    id: String,
    created_ms: u64,
}

/// Publishing state, part of the fake's state.
pub(crate) struct PublishState {
    statuses: Vec<ReceivedStatus>,
    media: Vec<StoredMedia>,
    scheduled: Vec<ReceivedScheduled>,
    /// The parameters each scheduled status will be published with, by id.
    scheduled_inputs: HashMap<String, StatusInput>,
    idempotency: Vec<IdempotencyEntry>,
    processing_polls: u32,
    last_snowflake: u64,
    next_scheduled_id: u64,
    /// Start and count of the `statuses` rate-limit period.
    statuses_window: Option<(u64, u32)>,
}

impl Default for PublishState {
    fn default() -> Self {
        Self {
            statuses: Vec::new(),
            media: Vec::new(),
            scheduled: Vec::new(),
            scheduled_inputs: HashMap::new(),
            idempotency: Vec::new(),
            processing_polls: 0,
            last_snowflake: 0,
            next_scheduled_id: 1,
            statuses_window: None,
        }
    }
}

impl PublishState {
    /// A Mastodon-style snowflake id: milliseconds shifted left by 16, strictly increasing.
    pub(crate) fn snowflake(&mut self) -> String {
        let id = (now_ms() << 16).max(self.last_snowflake + 1);
        self.last_snowflake = id;
        id.to_string()
    }

    pub(crate) fn statuses(&self) -> Vec<ReceivedStatus> {
        self.statuses.clone()
    }

    pub(crate) fn media(&self) -> Vec<ReceivedMedia> {
        self.media.iter().map(|m| m.received.clone()).collect()
    }

    pub(crate) fn scheduled(&self) -> Vec<ReceivedScheduled> {
        self.scheduled.clone()
    }

    pub(crate) fn set_media_processing(&mut self, polls: u32) {
        self.processing_polls = polls;
    }

    fn status(&self, id: &str) -> Option<&ReceivedStatus> {
        self.statuses.iter().find(|s| s.id == id)
    }

    fn pending_scheduled(&self, id: &str) -> Option<&ReceivedScheduled> {
        self.scheduled
            .iter()
            .find(|s| s.id == id && !s.deleted && s.published_status_id.is_none())
    }

    /// The statuses-family counter as `(remaining, reset_ms)` without counting.
    fn statuses_rate(&self, now: u64) -> (u32, u64) {
        match self.statuses_window {
            Some((start, count)) if now < start + STATUSES_PERIOD_MS => (
                STATUSES_LIMIT.saturating_sub(count),
                start + STATUSES_PERIOD_MS,
            ),
            _ => (STATUSES_LIMIT, now + STATUSES_PERIOD_MS),
        }
    }

    fn count_status(&mut self, now: u64) {
        self.statuses_window = match self.statuses_window {
            Some((start, count)) if now < start + STATUSES_PERIOD_MS => Some((start, count + 1)),
            _ => Some((now, 1)),
        };
    }
}

/// What a status is created from (also kept for a scheduled status until it is published).
#[derive(Clone)]
struct StatusInput {
    text: String,
    spoiler_text: String,
    visibility: String,
    sensitive: bool,
    language: String,
    in_reply_to_id: Option<String>,
    media_ids: Vec<String>,
    idempotency_key: Option<String>,
    application: Option<String>,
    params: Value,
    content_type: Option<String>,
    raw_body: Vec<u8>,
}

fn unprocessable(message: &str) -> Response {
    error(StatusCode::UNPROCESSABLE_ENTITY, message)
}

fn record_not_found() -> Response {
    error(StatusCode::NOT_FOUND, "Record not found")
}

fn base(state: &MastoState) -> String {
    state.base.as_str().to_owned()
}

fn domain(state: &MastoState) -> String {
    state
        .base
        .host_str()
        .map(|h| match state.base.port() {
            Some(port) => format!("{h}:{port}"),
            None => h.to_owned(),
        })
        .unwrap_or_default()
}

/// `authorize_if_got_token!`: no `Authorization` header is fine; a bad token or missing scope
/// is refused like on any other endpoint.
fn optional_auth<'a>(
    state: &'a MastoState,
    headers: &HeaderMap,
    scopes: &[&str],
) -> Result<Option<&'a Token>, ApiError> {
    if !headers.contains_key(axum::http::header::AUTHORIZATION) {
        return Ok(None);
    }
    let token = bearer(headers)
        .and_then(|t| state.live_token(&t))
        .ok_or(ApiError::InvalidToken)?;
    if !token.scopes.iter().any(|s| scopes.contains(&s.as_str())) {
        return Err(ApiError::OutsideScopes);
    }
    Ok(Some(token))
}

fn app_name(state: &MastoState, token: &Token) -> Option<(String, Option<String>)> {
    state
        .app_by_client_id(&token.client_id)
        .map(|a| (a.name.clone(), a.website.clone()))
}

// ---------------------------------------------------------------------------------------------
// Media

fn media_entity(state: &MastoState, media: &StoredMedia) -> Value {
    let base = base(state);
    let id = &media.received.id;
    let processing = media.processing();
    let url = format!(
        "{base}system/media_attachments/files/{id}/original.{}",
        media.ext
    );
    let preview = format!(
        "{base}system/media_attachments/files/{id}/small.{}",
        media.ext
    );
    let meta = if processing {
        Value::Null
    } else {
        let mut meta = serde_json::Map::new();
        if let Some((w, h)) = media.size {
            let info = json!({
                "width": w,
                "height": h,
                "size": format!("{w}x{h}"),
                "aspect": f64::from(w) / f64::from(h.max(1)),
            });
            meta.insert("original".into(), info.clone());
            meta.insert("small".into(), info);
        }
        if let Some((x, y)) = media.focus {
            meta.insert("focus".into(), json!({ "x": x, "y": y }));
        }
        Value::Object(meta)
    };
    json!({
        "id": id,
        "type": media.kind,
        "url": if processing { Value::Null } else { Value::String(url) },
        "preview_url": if processing { Value::Null } else { Value::String(preview) },
        "remote_url": null,
        "preview_remote_url": null,
        "text_url": null,
        "meta": meta,
        "description": media.received.description,
        "blurhash": if processing { Value::Null } else { Value::String("UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}".into()) },
    })
}

fn parse_focus(focus: &str) -> Option<(f64, f64)> {
    let (x, y) = focus.split_once(',')?;
    let x: f64 = x.trim().parse().ok()?;
    let y: f64 = y.trim().parse().ok()?;
    Some((x.clamp(-1.0, 1.0), y.clamp(-1.0, 1.0)))
}

/// `ActiveSupport`'s `number_to_human_size` for the two limits the fake has.
fn human_size(bytes: usize) -> String {
    format!("{} MB", bytes / (1024 * 1024))
}

struct Upload {
    file: Option<(Option<String>, Option<String>, Bytes)>,
    description: Option<String>,
    focus: Option<String>,
}

async fn read_upload(multipart: Result<Multipart, MultipartRejection>) -> Result<Upload, Response> {
    let mut upload = Upload {
        file: None,
        description: None,
        focus: None,
    };
    let Ok(mut multipart) = multipart else {
        // Not multipart: Rails sees no file.
        return Ok(upload);
    };
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(err) => return Err(body_error(err.status())),
        };
        let name = field.name().unwrap_or("").to_owned();
        let content_type = field.content_type().map(str::to_owned);
        let file_name = field.file_name().map(str::to_owned);
        let bytes = match field.bytes().await {
            Ok(bytes) => bytes,
            Err(err) => return Err(body_error(err.status())),
        };
        match name.as_str() {
            "file" => upload.file = Some((content_type, file_name, bytes)),
            "description" => upload.description = Some(String::from_utf8_lossy(&bytes).into()),
            "focus" => upload.focus = Some(String::from_utf8_lossy(&bytes).into()),
            _ => {}
        }
    }
    Ok(upload)
}

fn body_error(status: StatusCode) -> Response {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            [(CONTENT_TYPE, "text/html")],
            "<html>\r\n<head><title>413 Request Entity Too Large</title></head>\r\n<body>\r\n<center><h1>413 Request Entity Too Large</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
        )
            .into_response()
    } else {
        error(
            StatusCode::BAD_REQUEST,
            "The request you submitted was invalid or malformed.",
        )
    }
}

/// `POST /api/v2/media`.
pub(crate) async fn upload_media(
    State(shared): State<Shared>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    {
        let state = lock(&shared.state);
        if let Err(err) = authorize_user(&state, &headers, &["write", "write:media"]) {
            return err.into_response();
        }
    }
    let upload = match read_upload(multipart).await {
        Ok(upload) => upload,
        Err(response) => return response,
    };
    let Some((declared, file_name, bytes)) = upload.file else {
        return unprocessable("Validation failed: File can't be blank");
    };
    // MediaAttachment validations, all collected like ActiveRecord does.
    let mut errors = Vec::new();
    let declared = declared.unwrap_or_default().to_ascii_lowercase();
    let sniffed = media::sniff(&bytes);
    let type_ok =
        SUPPORTED_MIME_TYPES.contains(&declared.as_str()) && sniffed == Some(declared.as_str());
    if !type_ok {
        errors.push("File content type is invalid".to_owned());
    }
    let video = declared.starts_with("video/");
    let limit = if video {
        VIDEO_SIZE_LIMIT
    } else {
        IMAGE_SIZE_LIMIT
    };
    if bytes.len() > limit {
        errors.push(format!(
            "File file size must be less than {}",
            human_size(limit)
        ));
    }
    if upload
        .description
        .as_deref()
        .is_some_and(|d| d.chars().count() > DESCRIPTION_LIMIT)
    {
        errors.push(format!(
            "Description is too long (maximum is {DESCRIPTION_LIMIT} characters)"
        ));
    }
    if !errors.is_empty() {
        return unprocessable(&format!("Validation failed: {}", errors.join(", ")));
    }

    let mut state = lock(&shared.state);
    let polls = state.publish.processing_polls;
    let id = state.publish.snowflake();
    let (kind, ext) = match declared.as_str() {
        "image/png" => ("image", "png"),
        "image/jpeg" => ("image", "jpg"),
        "image/webp" => ("image", "webp"),
        "image/gif" => ("gifv", "mp4"),
        _ => ("video", "mp4"),
    };
    let stored = StoredMedia {
        received: ReceivedMedia {
            id,
            mime: declared,
            bytes: bytes.to_vec(),
            file_name,
            description: upload.description.filter(|d| !d.is_empty()),
            focus: upload.focus.clone(),
            status_id: None,
            scheduled_status_id: None,
        },
        account_id: ACCOUNT_ID.to_owned(),
        kind,
        ext,
        size: media::dimensions(&bytes),
        focus: upload.focus.as_deref().and_then(parse_focus),
        polls_left: polls,
    };
    let status = if stored.processing() {
        StatusCode::ACCEPTED
    } else {
        StatusCode::OK
    };
    let body = media_entity(&state, &stored);
    state.publish.media.push(stored);
    json_response(status, &body)
}

/// The unattached media `id` of the user (`current_account.media_attachments.where(status_id:
/// nil).find(id)`).
fn own_unattached<'a>(state: &'a mut MastoState, id: &str) -> Option<&'a mut StoredMedia> {
    state.publish.media.iter_mut().find(|m| {
        m.received.id == id && m.account_id == ACCOUNT_ID && m.received.status_id.is_none()
    })
}

/// `GET /api/v1/media/:id`: 206 while processing, then 200.
pub(crate) async fn get_media(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut state = lock(&shared.state);
    if let Err(err) = authorize_user(&state, &headers, &["write", "write:media"]) {
        return err.into_response();
    }
    let Some(media) = own_unattached(&mut state, &id) else {
        return record_not_found();
    };
    let status = if media.processing() {
        media.polls_left -= 1;
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let media = &*media;
    let snapshot = StoredMedia {
        received: media.received.clone(),
        account_id: media.account_id.clone(),
        kind: media.kind,
        ext: media.ext,
        size: media.size,
        focus: media.focus,
        // A 206 answer still shows the processing shape.
        polls_left: u32::from(status == StatusCode::PARTIAL_CONTENT),
    };
    json_response(status, &media_entity(&state, &snapshot))
}

/// `PUT /api/v1/media/:id` (`description`, `focus`).
pub(crate) async fn update_media(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: Params,
) -> Response {
    let mut state = lock(&shared.state);
    if let Err(err) = authorize_user(&state, &headers, &["write", "write:media"]) {
        return err.into_response();
    }
    let description = params.str("description");
    if description
        .as_deref()
        .is_some_and(|d| d.chars().count() > DESCRIPTION_LIMIT)
    {
        return unprocessable(&format!(
            "Validation failed: Description is too long (maximum is {DESCRIPTION_LIMIT} characters)"
        ));
    }
    let focus = params.str("focus");
    let Some(media) = own_unattached(&mut state, &id) else {
        return record_not_found();
    };
    if let Some(description) = description {
        media.received.description = Some(description).filter(|d| !d.is_empty());
    }
    if let Some(focus) = focus {
        media.focus = parse_focus(&focus);
        media.received.focus = Some(focus);
    }
    let status = if media.processing() {
        StatusCode::PARTIAL_CONTENT
    } else {
        StatusCode::OK
    };
    let index = state
        .publish
        .media
        .iter()
        .position(|m| m.received.id == id)
        .unwrap_or_default();
    json_response(status, &media_entity(&state, &state.publish.media[index]))
}

/// `GET /system/media_attachments/files/:id/:file`: the uploaded bytes.
pub(crate) async fn media_file(
    State(shared): State<Shared>,
    Path((id, file)): Path<(String, String)>,
) -> Response {
    let state = lock(&shared.state);
    let Some(media) = state
        .publish
        .media
        .iter()
        .find(|m| m.received.id == id && !m.processing())
    else {
        return record_not_found();
    };
    let expected = [
        format!("original.{}", media.ext),
        format!("small.{}", media.ext),
    ];
    if !expected.contains(&file) {
        return record_not_found();
    }
    (
        [(CONTENT_TYPE, media.received.mime.clone())],
        media.received.bytes.clone(),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Statuses

/// One of our statuses as an entity, by id.
pub(crate) fn status_entity_by_id(state: &MastoState, id: &str) -> Option<Value> {
    state.publish.status(id).map(|s| status_entity(state, s))
}

fn status_entity(state: &MastoState, status: &ReceivedStatus) -> Value {
    let base = base(state);
    let domain = domain(state);
    let media: Vec<Value> = status
        .media_ids
        .iter()
        .filter_map(|id| {
            state.publish.media.iter().find(|m| {
                &m.received.id == id && m.received.status_id.as_deref() == Some(&status.id)
            })
        })
        .map(|m| media_entity(state, m))
        .collect();
    let tags: Vec<Value> = text::hashtags(&status.text)
        .into_iter()
        .map(|t| json!({ "name": t.to_lowercase(), "url": format!("{base}tags/{}", t.to_lowercase()) }))
        .collect();
    let in_reply_to_account_id = status
        .in_reply_to_id
        .as_ref()
        .map(|_| Value::String(ACCOUNT_ID.into()))
        .unwrap_or(Value::Null);
    json!({
        "id": status.id,
        "created_at": status.created_at,
        "in_reply_to_id": status.in_reply_to_id,
        "in_reply_to_account_id": in_reply_to_account_id,
        "sensitive": status.sensitive,
        "spoiler_text": status.spoiler_text,
        "visibility": status.visibility,
        "language": status.language,
        "uri": format!("{base}users/{USERNAME}/statuses/{}", status.id),
        "url": format!("{base}@{USERNAME}/{}", status.id),
        "replies_count": state.publish.statuses.iter().filter(|s| s.in_reply_to_id.as_deref() == Some(&status.id)).count(),
        "reblogs_count": 0,
        "favourites_count": 0,
        "quotes_count": 0,
        "edited_at": null,
        "favourited": false,
        "reblogged": false,
        "muted": false,
        "bookmarked": false,
        "pinned": false,
        "content": text::to_html(&status.text, &base, USERNAME, &domain),
        "filtered": [],
        "reblog": null,
        "application": status.application.as_ref().map(|name| json!({ "name": name, "website": null })),
        "account": account_entity(&base),
        "media_attachments": media,
        "mentions": [],
        "tags": tags,
        "emojis": [],
        "card": null,
        "poll": null,
    })
}

fn scheduled_entity(state: &MastoState, scheduled: &ReceivedScheduled) -> Value {
    let media: Vec<Value> = scheduled
        .media_ids
        .iter()
        .filter_map(|id| state.publish.media.iter().find(|m| &m.received.id == id))
        .map(|m| media_entity(state, m))
        .collect();
    json!({
        "id": scheduled.id,
        "scheduled_at": scheduled.scheduled_at,
        "params": scheduled.params,
        "media_attachments": media,
    })
}

fn set_statuses_rate_headers(response: &mut Response, remaining: u32, reset_ms: u64) {
    common::set_mastodon_rate_headers(
        response.headers_mut(),
        &common::RateStatus {
            limit: STATUSES_LIMIT,
            remaining,
            reset_at_ms: reset_ms,
            window: std::time::Duration::from_millis(STATUSES_PERIOD_MS),
            exceeded: remaining == 0,
        },
    );
}

/// Rails' boolean cast: "1", "true", "t", "on" (and JSON true) are true.
fn truthy(params: &Params, key: &str) -> Option<bool> {
    let value = params.str(key)?;
    if value.is_empty() {
        return None;
    }
    Some(!matches!(
        value.to_ascii_lowercase().as_str(),
        "0" | "f" | "false" | "off"
    ))
}

/// Parses `scheduled_at` like Ruby's `to_datetime` does for the formats clients send.
fn parse_datetime(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    DateTime::parse_from_rfc3339(value)
        .map(|d| d.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc())
        })
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(value, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|n| n.and_utc())
        })
}

/// `POST /api/v1/statuses`.
pub(crate) async fn create_status(
    State(shared): State<Shared>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let mut state = lock(&shared.state);
    let token = match authorize_user(&state, &headers, &["write", "write:statuses"]) {
        Ok(token) => token,
        Err(err) => return err.into_response(),
    };
    let application = app_name(&state, token).map(|(name, _)| name);
    let now = now_ms();
    let (remaining, reset) = state.publish.statuses_rate(now);
    let mut response = create_status_inner(&mut state, &headers, &uri, &body, application, now);
    let (after, _) = state.publish.statuses_rate(now);
    let remaining = if response.status().is_success() {
        after
    } else {
        remaining
    };
    set_statuses_rate_headers(&mut response, remaining, reset);
    response
}

fn create_status_inner(
    state: &mut MastoState,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
    application: Option<String>,
    now: u64,
) -> Response {
    let content_type = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let params = match Params::parse(uri.query(), content_type.as_deref(), body) {
        Ok(params) => params,
        Err(bad) => return bad.into_response(),
    };

    // set_thread (a before_action, so before idempotency).
    let in_reply_to_id = params.present("in_reply_to_id");
    // Statuses of other people that reached us in notifications exist on this server too.
    if let Some(id) = &in_reply_to_id
        && state.publish.status(id).is_none()
        && !state
            .notify
            .items
            .iter()
            .any(|n| n.status.as_ref().is_some_and(|(sid, _, _)| sid == id))
    {
        return error(StatusCode::NOT_FOUND, ERR_IN_REPLY_NOT_FOUND);
    }

    // Idempotency: the same key from the same account within an hour returns the original.
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .filter(|k| !k.trim().is_empty());
    if let Some(key) = &idempotency_key {
        state
            .publish
            .idempotency
            .retain(|e| now.saturating_sub(e.created_ms) < IDEMPOTENCY_TTL_MS);
        if let Some(entry) = state
            .publish
            .idempotency
            .iter()
            .find(|e| e.account_id == ACCOUNT_ID && &e.key == key)
        {
            return match entry.target {
                Target::Status => match state.publish.status(&entry.id) {
                    Some(status) => json_response(StatusCode::OK, &status_entity(state, status)),
                    None => record_not_found(),
                },
                Target::Scheduled => match state.publish.pending_scheduled(&entry.id) {
                    Some(scheduled) => {
                        json_response(StatusCode::OK, &scheduled_entity(state, scheduled))
                    }
                    None => record_not_found(),
                },
            };
        }
    }

    // validate_media!
    let media_ids = params
        .strings("media_ids")
        .unwrap_or_default()
        .into_iter()
        .filter(|id| !id.trim().is_empty())
        .collect::<Vec<_>>();
    if media_ids.len() > MAX_MEDIA_ATTACHMENTS {
        return unprocessable(ERR_TOO_MANY);
    }
    let found: Vec<&StoredMedia> = media_ids
        .iter()
        .filter_map(|id| {
            state.publish.media.iter().find(|m| {
                &m.received.id == id && m.account_id == ACCOUNT_ID && m.received.status_id.is_none()
            })
        })
        .collect();
    let not_found: Vec<&str> = media_ids
        .iter()
        .filter(|id| !found.iter().any(|m| &&m.received.id == id))
        .map(String::as_str)
        .collect();
    if !not_found.is_empty() {
        return unprocessable(&format!(
            "Media {} not found or already attached to another post",
            not_found.join(", ")
        ));
    }
    if found.len() > 1 && found.iter().any(|m| m.kind != "image") {
        return unprocessable(ERR_IMAGES_AND_VIDEO);
    }
    if found.iter().any(|m| m.processing()) {
        return unprocessable(ERR_NOT_READY);
    }

    // preprocess_attributes!
    let mut text = params.str("status").unwrap_or_default();
    let mut spoiler_text = params.str("spoiler_text").unwrap_or_default();
    if text.trim().is_empty() && !spoiler_text.trim().is_empty() {
        text = std::mem::take(&mut spoiler_text);
    }
    let sensitive =
        truthy(&params, "sensitive").unwrap_or(false) || !spoiler_text.trim().is_empty();
    let visibility = params
        .present("visibility")
        .unwrap_or_else(|| "public".to_owned());
    let language = params
        .present("language")
        .filter(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()))
        .unwrap_or_else(|| "en".to_owned());
    let scheduled_at = match params.present("scheduled_at") {
        None => None,
        Some(raw) => match parse_datetime(&raw) {
            None => return unprocessable("Record invalid"),
            // A time in the past publishes now.
            Some(at) if at <= Utc::now() => None,
            Some(at) => Some(at),
        },
    };

    // Status validations.
    if !VISIBILITIES.contains(&visibility.as_str()) {
        return unprocessable("Validation failed: Visibility is not included in the list");
    }
    if text.trim().is_empty() && media_ids.is_empty() {
        return unprocessable("Validation failed: Text can't be blank");
    }
    let max = usize::try_from(state.max_characters).unwrap_or(usize::MAX);
    if text::status_length(&spoiler_text, &text) > max {
        return unprocessable(&format!(
            "Validation failed: Text character limit of {} exceeded",
            state.max_characters
        ));
    }

    let input = StatusInput {
        text,
        spoiler_text,
        visibility,
        sensitive,
        language,
        in_reply_to_id,
        media_ids,
        idempotency_key: idempotency_key.clone(),
        application,
        params: params.to_json(),
        content_type,
        raw_body: body.to_vec(),
    };

    if let Some(at) = scheduled_at {
        return schedule(state, input, at, &params, now);
    }

    if state.publish.statuses_rate(now).0 == 0 {
        return error(StatusCode::TOO_MANY_REQUESTS, "Too many requests");
    }
    let id = publish(state, input, None, Utc::now());
    state.publish.count_status(now);
    if let Some(key) = idempotency_key {
        state.publish.idempotency.push(IdempotencyEntry {
            account_id: ACCOUNT_ID.to_owned(),
            key,
            target: Target::Status,
            id: id.clone(),
            created_ms: now,
        });
    }
    match state.publish.status(&id) {
        Some(status) => json_response(StatusCode::OK, &status_entity(state, status)),
        None => record_not_found(),
    }
}

/// Creates the status and attaches its media. Returns the new id.
fn publish(
    state: &mut MastoState,
    input: StatusInput,
    scheduled_status_id: Option<String>,
    at: DateTime<Utc>,
) -> String {
    let id = state.publish.snowflake();
    for media_id in &input.media_ids {
        if let Some(media) = state
            .publish
            .media
            .iter_mut()
            .find(|m| &m.received.id == media_id)
        {
            media.received.status_id = Some(id.clone());
        }
    }
    let in_reply_to_id = input.in_reply_to_id.filter(|parent| {
        state.publish.status(parent).is_some()
            || state
                .notify
                .items
                .iter()
                .any(|n| n.status.as_ref().is_some_and(|(sid, _, _)| sid == parent))
    });
    state.publish.statuses.push(ReceivedStatus {
        id: id.clone(),
        created_at: iso_ms(at),
        text: input.text,
        spoiler_text: input.spoiler_text,
        visibility: input.visibility,
        sensitive: input.sensitive,
        language: input.language,
        in_reply_to_id,
        media_ids: input.media_ids,
        idempotency_key: input.idempotency_key,
        scheduled_status_id,
        application: input.application,
        params: input.params,
        content_type: input.content_type,
        raw_body: input.raw_body,
    });
    id
}

fn scheduled_params(input: &StatusInput, params: &Params) -> Value {
    let given = |key: &str| params.present(key).map_or(Value::Null, Value::String);
    json!({
        "text": input.text,
        "poll": params.get("poll").cloned().unwrap_or(Value::Null),
        "media_ids": if input.media_ids.is_empty() { Value::Null } else { json!(input.media_ids) },
        "sensitive": truthy(params, "sensitive").map_or(Value::Null, Value::Bool),
        "visibility": given("visibility"),
        "idempotency": input.idempotency_key,
        "scheduled_at": null,
        "spoiler_text": given("spoiler_text"),
        "language": given("language"),
        "application_id": 1,
        "in_reply_to_id": input.in_reply_to_id,
        "with_rate_limit": true,
    })
}

fn schedule(
    state: &mut MastoState,
    input: StatusInput,
    at: DateTime<Utc>,
    params: &Params,
    now: u64,
) -> Response {
    if let Err(message) = check_schedule_time(at) {
        return unprocessable(message);
    }
    let pending: Vec<&ReceivedScheduled> = state
        .publish
        .scheduled
        .iter()
        .filter(|s| !s.deleted && s.published_status_id.is_none())
        .collect();
    if pending.len() >= SCHEDULED_TOTAL_LIMIT {
        return unprocessable(&format!(
            "Validation failed: You have exceeded the limit of {SCHEDULED_TOTAL_LIMIT} scheduled posts"
        ));
    }
    let same_day = pending
        .iter()
        .filter(|s| {
            parse_datetime(&s.scheduled_at).is_some_and(|d| d.date_naive() == at.date_naive())
        })
        .count();
    if same_day >= SCHEDULED_DAILY_LIMIT {
        return unprocessable(&format!(
            "Validation failed: You have exceeded the limit of {SCHEDULED_DAILY_LIMIT} scheduled posts for today"
        ));
    }
    let id = state.publish.next_scheduled_id.to_string();
    state.publish.next_scheduled_id += 1;
    for media_id in &input.media_ids {
        if let Some(media) = state
            .publish
            .media
            .iter_mut()
            .find(|m| &m.received.id == media_id)
        {
            media.received.scheduled_status_id = Some(id.clone());
        }
    }
    let scheduled = ReceivedScheduled {
        id: id.clone(),
        scheduled_at: iso_ms(at),
        params: scheduled_params(&input, params),
        media_ids: input.media_ids.clone(),
        idempotency_key: input.idempotency_key.clone(),
        published_status_id: None,
        deleted: false,
        content_type: input.content_type.clone(),
        raw_body: input.raw_body.clone(),
    };
    if let Some(key) = &input.idempotency_key {
        state.publish.idempotency.push(IdempotencyEntry {
            account_id: ACCOUNT_ID.to_owned(),
            key: key.clone(),
            target: Target::Scheduled,
            id: id.clone(),
            created_ms: now,
        });
    }
    state.publish.scheduled_inputs.insert(id.clone(), input);
    let body = scheduled_entity(state, &scheduled);
    state.publish.scheduled.push(scheduled);
    json_response(StatusCode::OK, &body)
}

/// `ScheduledStatus#validate_future_date`: strictly more than 5 minutes ahead.
fn check_schedule_time(at: DateTime<Utc>) -> Result<(), &'static str> {
    if at <= Utc::now() + chrono::Duration::seconds(MIN_SCHEDULE_OFFSET_SECS) {
        Err(ERR_SCHEDULED_TOO_SOON)
    } else {
        Ok(())
    }
}

/// Publishes every pending scheduled status due at `now`, oldest first, like Mastodon's
/// scheduler. Returns the new status ids.
pub(crate) fn publish_due(state: &mut MastoState, now: DateTime<Utc>) -> Vec<String> {
    let mut due: Vec<(DateTime<Utc>, u64, String)> = state
        .publish
        .scheduled
        .iter()
        .filter(|s| !s.deleted && s.published_status_id.is_none())
        .filter_map(|s| {
            let at = parse_datetime(&s.scheduled_at)?;
            (at <= now).then(|| (at, s.id.parse().unwrap_or(0), s.id.clone()))
        })
        .collect();
    due.sort();
    let mut published = Vec::new();
    for (_, _, id) in due {
        let Some(input) = state.publish.scheduled_inputs.remove(&id) else {
            continue;
        };
        let status_id = publish(state, input, Some(id.clone()), now);
        if let Some(scheduled) = state.publish.scheduled.iter_mut().find(|s| s.id == id) {
            scheduled.published_status_id = Some(status_id.clone());
        }
        published.push(status_id);
    }
    published
}

/// Whether the viewer may see the status: public and unlisted for anyone, everything for the
/// account's own user token.
fn visible(status: &ReceivedStatus, viewer: Option<&Token>) -> bool {
    matches!(status.visibility.as_str(), "public" | "unlisted") || viewer.is_some_and(|t| t.user)
}

/// `GET /api/v1/statuses/:id`.
pub(crate) async fn get_status(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let state = lock(&shared.state);
    let viewer = match optional_auth(&state, &headers, &["read", "read:statuses"]) {
        Ok(viewer) => viewer,
        Err(err) => return err.into_response(),
    };
    match state.publish.status(&id) {
        Some(status) if visible(status, viewer) => {
            json_response(StatusCode::OK, &status_entity(&state, status))
        }
        // Someone else's status that reached us in a notification.
        None => match super::notify::thread_status(&state, &id) {
            Some((v, _)) if viewer.is_some() => json_response(StatusCode::OK, &v),
            _ => record_not_found(),
        },
        _ => record_not_found(),
    }
}

/// The page of `items` (newest first by numeric id) selected by `max_id`, `since_id`, `min_id`
/// and `limit`, as Mastodon's `paginate_by_id` does.
pub(crate) fn paginate<'a, T>(
    mut items: Vec<&'a T>,
    id_of: impl Fn(&T) -> u64,
    params: &Params,
    default_limit: usize,
    max_limit: usize,
) -> (Vec<&'a T>, usize) {
    let limit = params
        .str("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|&l| l > 0)
        .unwrap_or(default_limit)
        .min(max_limit);
    let bound = |key: &str| params.str(key).and_then(|v| v.parse::<u64>().ok());
    if let Some(max_id) = bound("max_id") {
        items.retain(|i| id_of(i) < max_id);
    }
    if let Some(since_id) = bound("since_id") {
        items.retain(|i| id_of(i) > since_id);
    }
    if let Some(min_id) = bound("min_id") {
        // The page immediately newer than min_id: the oldest ones above it, returned newest
        // first.
        items.retain(|i| id_of(i) > min_id);
        items.sort_by_key(|i| id_of(i));
        items.truncate(limit);
        items.reverse();
        return (items, limit);
    }
    items.sort_by_key(|i| std::cmp::Reverse(id_of(i)));
    items.truncate(limit);
    (items, limit)
}

/// The `Link` header: `next` (older) when the page is full, `prev` (newer) when it is not
/// empty. `keep` are the query parameters carried over.
pub(crate) fn link_header(
    url: &str,
    keep: &[(String, String)],
    first: Option<&str>,
    last: Option<&str>,
    full: bool,
) -> Option<HeaderValue> {
    let with = |key: &str, value: &str| {
        let mut pairs = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in keep {
            pairs.append_pair(k, v);
        }
        pairs.append_pair(key, value);
        format!("{url}?{}", pairs.finish())
    };
    let mut links = Vec::new();
    if full && let Some(last) = last {
        links.push(format!("<{}>; rel=\"next\"", with("max_id", last)));
    }
    if let Some(first) = first {
        links.push(format!("<{}>; rel=\"prev\"", with("min_id", first)));
    }
    (!links.is_empty())
        .then(|| HeaderValue::from_str(&links.join(", ")).ok())
        .flatten()
}

/// One page of a Mastodon list as the API answers it: the entities (newest first, `limit`
/// between 1 and `max` of `(default, max)`, `default` when not given) and a `Link` header naming the neighbour
/// pages by `key` (an id, or an internal one such as a conversation's last status), keeping
/// the `keep` parameters.
pub(crate) fn paged_response<T>(
    items: Vec<&T>,
    key: impl Fn(&T) -> u64,
    params: &Params,
    (default, max): (usize, usize),
    url: &str,
    keep: &[&str],
    entity: impl Fn(&T) -> Value,
) -> Response {
    let (page, limit) = paginate(items, &key, params, default, max);
    let body: Vec<Value> = page.iter().map(|item| entity(item)).collect();
    let mut response = json_response(StatusCode::OK, &Value::Array(body));
    let first = page.first().map(|item| key(item).to_string());
    let last = page.last().map(|item| key(item).to_string());
    if let Some(link) = link_header(
        url,
        &kept_params(params, keep),
        first.as_deref(),
        last.as_deref(),
        page.len() == limit,
    ) {
        response.headers_mut().insert(LINK, link);
    }
    response
}

pub(crate) fn kept_params(params: &Params, keys: &[&str]) -> Vec<(String, String)> {
    keys.iter()
        .filter_map(|&key| params.str(key).map(|value| (key.to_owned(), value)))
        .collect()
}

fn id_number(id: &str) -> u64 {
    id.parse().unwrap_or(0)
}

/// `GET /api/v1/accounts/:id/statuses`.
pub(crate) async fn account_statuses(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(account_id): Path<String>,
    params: Params,
) -> Response {
    let state = lock(&shared.state);
    let viewer = match optional_auth(&state, &headers, &["read", "read:statuses"]) {
        Ok(viewer) => viewer,
        Err(err) => return err.into_response(),
    };
    if account_id != ACCOUNT_ID {
        return record_not_found();
    }
    let exclude_replies = truthy(&params, "exclude_replies").unwrap_or(false);
    let only_media = truthy(&params, "only_media").unwrap_or(false);
    let candidates: Vec<&ReceivedStatus> = state
        .publish
        .statuses
        .iter()
        .filter(|s| visible(s, viewer))
        .filter(|s| !exclude_replies || s.in_reply_to_id.is_none())
        .filter(|s| !only_media || !s.media_ids.is_empty())
        .collect();
    paged_response(
        candidates,
        |s| id_number(&s.id),
        &params,
        (20, 40),
        &format!("{}api/v1/accounts/{ACCOUNT_ID}/statuses", base(&state)),
        &["limit", "only_media", "exclude_replies"],
        |s| status_entity(&state, s),
    )
}

/// `GET /api/v1/scheduled_statuses`.
pub(crate) async fn list_scheduled(
    State(shared): State<Shared>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let state = lock(&shared.state);
    if let Err(err) = authorize_user(&state, &headers, &["read", "read:statuses"]) {
        return err.into_response();
    }
    let pending: Vec<&ReceivedScheduled> = state
        .publish
        .scheduled
        .iter()
        .filter(|s| !s.deleted && s.published_status_id.is_none())
        .collect();
    paged_response(
        pending,
        |s| id_number(&s.id),
        &params,
        (20, 40),
        &format!("{}api/v1/scheduled_statuses", base(&state)),
        &["limit"],
        |s| scheduled_entity(&state, s),
    )
}

/// `GET /api/v1/scheduled_statuses/:id`.
pub(crate) async fn get_scheduled(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let state = lock(&shared.state);
    if let Err(err) = authorize_user(&state, &headers, &["read", "read:statuses"]) {
        return err.into_response();
    }
    match state.publish.pending_scheduled(&id) {
        Some(scheduled) => json_response(StatusCode::OK, &scheduled_entity(&state, scheduled)),
        None => record_not_found(),
    }
}

/// `PUT /api/v1/scheduled_statuses/:id` (`scheduled_at`).
pub(crate) async fn update_scheduled(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
    params: Params,
) -> Response {
    let mut state = lock(&shared.state);
    if let Err(err) = authorize_user(&state, &headers, &["write", "write:statuses"]) {
        return err.into_response();
    }
    if state.publish.pending_scheduled(&id).is_none() {
        return record_not_found();
    }
    if let Some(raw) = params.present("scheduled_at") {
        let Some(at) = parse_datetime(&raw) else {
            return unprocessable("Record invalid");
        };
        if let Err(message) = check_schedule_time(at) {
            return unprocessable(message);
        }
        if let Some(scheduled) = state.publish.scheduled.iter_mut().find(|s| s.id == id) {
            scheduled.scheduled_at = iso_ms(at);
        }
    }
    match state.publish.pending_scheduled(&id) {
        Some(scheduled) => json_response(StatusCode::OK, &scheduled_entity(&state, scheduled)),
        None => record_not_found(),
    }
}

/// `DELETE /api/v1/scheduled_statuses/:id`.
pub(crate) async fn delete_scheduled(
    State(shared): State<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let mut state = lock(&shared.state);
    if let Err(err) = authorize_user(&state, &headers, &["write", "write:statuses"]) {
        return err.into_response();
    }
    if state.publish.pending_scheduled(&id).is_none() {
        return record_not_found();
    }
    if let Some(scheduled) = state.publish.scheduled.iter_mut().find(|s| s.id == id) {
        scheduled.deleted = true;
    }
    state.publish.scheduled_inputs.remove(&id);
    for media in &mut state.publish.media {
        if media.received.scheduled_status_id.as_deref() == Some(id.as_str()) {
            media.received.scheduled_status_id = None;
        }
    }
    json_response(StatusCode::OK, &json!({}))
}

// ---------------------------------------------------------------------------------------------
// Controls

pub(crate) async fn fake_statuses(State(shared): State<Shared>) -> Response {
    json_response(StatusCode::OK, &json!(lock(&shared.state).publish.statuses))
}

pub(crate) async fn fake_media(State(shared): State<Shared>) -> Response {
    json_response(StatusCode::OK, &json!(lock(&shared.state).publish.media()))
}

pub(crate) async fn fake_scheduled(State(shared): State<Shared>) -> Response {
    json_response(
        StatusCode::OK,
        &json!(lock(&shared.state).publish.scheduled),
    )
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PublishDueBody {
    now: Option<String>,
}

/// `POST /_fake/publish-due {"now"?: RFC 3339}`.
pub(crate) async fn fake_publish_due(State(shared): State<Shared>, body: Bytes) -> Response {
    let parsed = if body.is_empty() {
        Ok(PublishDueBody::default())
    } else {
        serde_json::from_slice::<PublishDueBody>(&body).map_err(|e| e.to_string())
    };
    let now = parsed.and_then(|b| match b.now {
        None => Ok(Utc::now()),
        Some(raw) => DateTime::parse_from_rfc3339(&raw)
            .map(|d| d.with_timezone(&Utc))
            .map_err(|e| format!("now: {e}")),
    });
    match now {
        Ok(now) => {
            let published = publish_due(&mut lock(&shared.state), now);
            json_response(StatusCode::OK, &json!({ "published": published }))
        }
        Err(err) => error(StatusCode::BAD_REQUEST, &err),
    }
}

/// Whether a request is a media upload (Rack::Attack's `throttle_media`).
pub(crate) fn is_media_upload(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::POST && (path == "/api/v1/media" || path == "/api/v2/media")
}
