//! Notifications (`GET /api/v1/notifications`): what other people did to the signed-in
//! account, newest first, with `types[]` / `exclude_types[]`, `limit` (40, at most 80) and
//! `max_id` / `since_id` / `min_id` pagination with a `Link` header, as Mastodon 4.x answers.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::http::header::LINK;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::publish::{kept_params, link_header, paginate, status_entity_by_id};
use super::{MastoState, Shared, authorize_user};
use crate::common::{Params, iso_ms, json_response, lock};

/// A notification the test made happen.
#[derive(Debug, Clone)]
pub(crate) struct FakeNotification {
    pub id: u64,
    /// mention, status, reblog, follow, favourite, quote, …
    pub kind: String,
    pub created_at: String,
    pub from_acct: String,
    pub from_name: String,
    /// The other person's status (mention, quote): its id and HTML as their server wrote it.
    pub status: Option<(String, String, Option<String>)>,
    /// One of our statuses (favourite, reblog).
    pub our_status: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct NotifyState {
    pub items: Vec<FakeNotification>,
    next_id: u64,
    /// (favourite | reblog, status id), each once (Mastodon's are idempotent).
    pub reactions: Vec<(String, String)>,
}

impl NotifyState {
    pub(crate) fn add(
        &mut self,
        kind: &str,
        from_acct: &str,
        html: Option<&str>,
        in_reply_to: Option<&str>,
        our_status: Option<&str>,
    ) -> u64 {
        if self.next_id == 0 {
            self.next_id = 300_000;
        }
        self.next_id += 1;
        let id = self.next_id;
        let name = from_acct.split('@').next().unwrap_or(from_acct).to_string();
        self.items.push(FakeNotification {
            id,
            kind: kind.to_string(),
            created_at: iso_ms(chrono::Utc::now()),
            from_acct: from_acct.to_string(),
            from_name: format!("{name} (remote)"),
            status: html.map(|h| {
                (
                    format!("{}", 900_000 + id),
                    h.to_string(),
                    in_reply_to.map(str::to_string),
                )
            }),
            our_status: our_status.map(str::to_string),
        });
        id
    }
}

fn remote_account(base: &str, acct: &str, name: &str) -> Value {
    let (user, domain) = acct.split_once('@').unwrap_or((acct, "remote.example"));
    json!({
        "id": format!("{}", 700_000 + acct.bytes().map(u64::from).sum::<u64>()),
        "username": user,
        "acct": acct,
        "display_name": name,
        "url": format!("https://{domain}/@{user}"),
        "avatar": format!("{base}system/accounts/avatars/remote.png"),
        "avatar_static": format!("{base}system/accounts/avatars/remote.png"),
        "bot": false,
        "locked": false,
        "emojis": [],
        "fields": [],
    })
}

fn entity(state: &MastoState, n: &FakeNotification) -> Value {
    let base = state.base.as_str();
    let account = remote_account(base, &n.from_acct, &n.from_name);
    let status = match (&n.status, &n.our_status) {
        (Some((id, html, reply)), _) => json!({
            "id": id,
            "created_at": n.created_at,
            "in_reply_to_id": reply,
            "in_reply_to_account_id": reply.as_ref().map(|_| super::ACCOUNT_ID),
            "visibility": if n.kind == "mention" && html.contains("direct") { "direct" } else { "public" },
            "url": format!("{base}@{}/{id}", n.from_acct),
            "uri": format!("{base}users/{}/statuses/{id}", n.from_acct),
            "content": html,
            "account": account.clone(),
            "media_attachments": [],
            "mentions": [],
            "tags": [],
            "emojis": [],
        }),
        (None, Some(ours)) => status_entity_by_id(state, ours).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    json!({
        "id": n.id.to_string(),
        "type": n.kind,
        "group_key": format!("ungrouped-{}", n.id),
        "created_at": n.created_at,
        "account": account,
        "status": status,
    })
}

/// `GET /api/v1/notifications`.
pub(crate) async fn list(
    State(shared): State<Shared>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let state = lock(&shared.state);
    if let Err(err) = authorize_user(&state, &headers, &["read", "read:notifications"]) {
        return err.into_response();
    }
    let types = params.strings("types");
    let exclude = params.strings("exclude_types").unwrap_or_default();
    let candidates: Vec<&FakeNotification> = state
        .notify
        .items
        .iter()
        .filter(|n| types.as_ref().is_none_or(|t| t.contains(&n.kind)))
        .filter(|n| !exclude.contains(&n.kind))
        .collect();
    let (page, limit) = paginate(candidates, |n| n.id, &params, 40, 80);
    let body: Vec<Value> = page.iter().map(|n| entity(&state, n)).collect();
    let mut response = json_response(StatusCode::OK, &Value::Array(body));
    let url = format!("{}api/v1/notifications", state.base.as_str());
    let keep = kept_params(&params, &["limit"]);
    let first = page.first().map(|n| n.id.to_string());
    let last = page.last().map(|n| n.id.to_string());
    if let Some(link) = link_header(
        &url,
        &keep,
        first.as_deref(),
        last.as_deref(),
        page.len() == limit,
    ) {
        response.headers_mut().insert(LINK, link);
    }
    response
}

/// A status in a thread: ours or one that reached us in a notification.
pub(crate) fn thread_status(state: &MastoState, id: &str) -> Option<(Value, Option<String>)> {
    if let Some(v) = status_entity_by_id(state, id) {
        let parent = v["in_reply_to_id"].as_str().map(str::to_string);
        return Some((v, parent));
    }
    let n = state
        .notify
        .items
        .iter()
        .find(|n| n.status.as_ref().is_some_and(|(sid, _, _)| sid == id))?;
    let v = entity(state, n)["status"].clone();
    let parent = n.status.as_ref().and_then(|(_, _, reply)| reply.clone());
    Some((v, parent))
}

/// Every status id that replies to `id` (ours and others'), oldest first.
fn replies_to(state: &MastoState, id: &str) -> Vec<String> {
    let mut out: Vec<String> = state
        .publish
        .statuses()
        .iter()
        .filter(|s| s.in_reply_to_id.as_deref() == Some(id))
        .map(|s| s.id.clone())
        .collect();
    out.extend(state.notify.items.iter().filter_map(|n| match &n.status {
        Some((sid, _, Some(parent))) if parent == id => Some(sid.clone()),
        _ => None,
    }));
    out.sort_by_key(|s| (s.len(), s.clone()));
    out
}

/// `GET /api/v1/statuses/:id/context`: ancestors (oldest first) and descendants.
pub(crate) async fn context(
    State(shared): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let state = lock(&shared.state);
    if let Err(err) = authorize_user(&state, &headers, &["read", "read:statuses"]) {
        return err.into_response();
    }
    let Some((_, mut parent)) = thread_status(&state, &id) else {
        return json_response(
            StatusCode::NOT_FOUND,
            &json!({ "error": "Record not found" }),
        );
    };
    let mut ancestors = Vec::new();
    while let Some(p) = parent {
        match thread_status(&state, &p) {
            Some((v, next)) => {
                ancestors.push(v);
                parent = next;
            }
            None => break,
        }
        if ancestors.len() > 40 {
            break;
        }
    }
    ancestors.reverse();
    let mut descendants = Vec::new();
    let mut queue = replies_to(&state, &id);
    while let Some(next) = queue.first().cloned() {
        queue.remove(0);
        if let Some((v, _)) = thread_status(&state, &next) {
            descendants.push(v);
        }
        queue.extend(replies_to(&state, &next));
        if descendants.len() > 60 {
            break;
        }
    }
    json_response(
        StatusCode::OK,
        &json!({ "ancestors": ancestors, "descendants": descendants }),
    )
}

/// `POST /api/v1/statuses/:id/favourite` and `/reblog`: recorded, answered with the status.
pub(crate) async fn react(
    State(shared): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path((id, action)): axum::extract::Path<(String, String)>,
) -> Response {
    let mut state = lock(&shared.state);
    if let Err(err) = authorize_user(
        &state,
        &headers,
        &["write", "write:favourites", "write:statuses"],
    ) {
        return err.into_response();
    }
    if !matches!(action.as_str(), "favourite" | "reblog") {
        return json_response(
            StatusCode::NOT_FOUND,
            &json!({ "error": "Record not found" }),
        );
    }
    let Some((mut v, _)) = thread_status(&state, &id) else {
        return json_response(
            StatusCode::NOT_FOUND,
            &json!({ "error": "Record not found" }),
        );
    };
    if !state
        .notify
        .reactions
        .contains(&(action.clone(), id.clone()))
    {
        state.notify.reactions.push((action.clone(), id.clone()));
    }
    v[if action == "favourite" {
        "favourited"
    } else {
        "reblogged"
    }] = json!(true);
    json_response(StatusCode::OK, &v)
}

/// `GET /api/v1/streaming/user/notification` (server-sent events): an `event: notification`
/// with the entity for each new notification, and a `:thump` heartbeat at first and every
/// 10 s, as Mastodon's streaming server sends them. The token may come as a header or as
/// `access_token` in the query.
pub(crate) async fn stream(
    State(shared): State<Shared>,
    headers: HeaderMap,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let mut headers = headers;
    if let Some(token) = query.as_deref().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "access_token")
            .map(|(_, v)| v.to_string())
    }) && let Ok(v) = axum::http::HeaderValue::from_str(&format!("Bearer {token}"))
    {
        headers.insert(axum::http::header::AUTHORIZATION, v);
    }
    let receiver = {
        let state = lock(&shared.state);
        if let Err(err) = authorize_user(&state, &headers, &["read", "read:notifications"]) {
            return err.into_response();
        }
        shared.stream.subscribe()
    };
    let first = futures_util::stream::once(async {
        Ok::<_, std::convert::Infallible>(axum::body::Bytes::from_static(b":thump\n"))
    });
    let events = futures_util::stream::unfold(receiver, |mut rx| async move {
        let chunk = match tokio::time::timeout(std::time::Duration::from_secs(10), rx.recv()).await
        {
            Ok(Ok(json)) => format!("event: notification\ndata: {json}\n\n"),
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) | Err(_) => {
                ":thump\n".to_string()
            }
            Ok(Err(tokio::sync::broadcast::error::RecvError::Closed)) => return None,
        };
        Some((Ok(axum::body::Bytes::from(chunk)), rx))
    });
    let body = axum::body::Body::from_stream(futures_util::StreamExt::chain(first, events));
    (
        [
            (axum::http::header::CONTENT_TYPE, "text/event-stream"),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The entity of the notification with this id, as JSON text (for the stream).
pub(crate) fn entity_json(state: &MastoState, id: u64) -> Option<String> {
    state
        .notify
        .items
        .iter()
        .find(|n| n.id == id)
        .map(|n| entity(state, n).to_string())
}
