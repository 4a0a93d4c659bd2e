//! Notifications (`GET /api/v1/notifications`): what other people did to the signed-in
//! account, newest first, with `types[]` / `exclude_types[]`, `limit` (40, at most 80) and
//! `max_id` / `since_id` / `min_id` pagination with a `Link` header, as Mastodon 4.x answers.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::publish::{paged_response, status_entity_by_id};
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
    /// The other person's status (mention, quote): its id, HTML as their server wrote it and
    /// the status it replies to.
    pub status: Option<(String, String, Option<String>)>,
    /// The status's visibility: `public`, or `direct` for a direct message.
    pub visibility: String,
    /// One of our statuses (favourite, reblog).
    pub our_status: Option<String>,
}

#[derive(Debug, Default)]
pub(crate) struct NotifyState {
    pub items: Vec<FakeNotification>,
    next_id: u64,
    /// (favourite | reblog, status id), each once (Mastodon's are idempotent).
    pub reactions: Vec<(String, String)>,
    /// Conversation id → the last status id it was marked read at.
    pub conversations_read: std::collections::HashMap<String, u64>,
}

/// What someone else does, as [`NotifyState::add`] records it.
pub(crate) struct Incoming<'a> {
    pub kind: &'a str,
    pub from_acct: &'a str,
    pub html: Option<&'a str>,
    pub in_reply_to: Option<&'a str>,
    pub our_status: Option<&'a str>,
    pub visibility: &'a str,
    /// The id their status gets (a snowflake, as Mastodon's are).
    pub status_id: String,
}

impl NotifyState {
    pub(crate) fn add(&mut self, incoming: Incoming<'_>) -> u64 {
        let Incoming {
            kind,
            from_acct,
            html,
            in_reply_to,
            our_status,
            visibility,
            status_id,
        } = incoming;
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
            status: html.map(|h| (status_id, h.to_string(), in_reply_to.map(str::to_string))),
            visibility: visibility.to_string(),
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
            "visibility": n.visibility,
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
    paged_response(
        candidates,
        |n| n.id,
        &params,
        (40, 80),
        &format!("{}api/v1/notifications", state.base.as_str()),
        &["limit"],
        |n| entity(&state, n),
    )
}

/// A status in a thread: ours or one that reached us in a notification.
/// Its `favourited` and `reblogged` say what the signed-in account did to it.
pub(crate) fn thread_status(state: &MastoState, id: &str) -> Option<(Value, Option<String>)> {
    let (mut v, parent) = if let Some(v) = status_entity_by_id(state, id) {
        let parent = v["in_reply_to_id"].as_str().map(str::to_string);
        (v, parent)
    } else {
        let n = state
            .notify
            .items
            .iter()
            .find(|n| n.status.as_ref().is_some_and(|(sid, _, _)| sid == id))?;
        let v = entity(state, n)["status"].clone();
        let parent = n.status.as_ref().and_then(|(_, _, reply)| reply.clone());
        (v, parent)
    };
    let did = |action: &str| {
        state
            .notify
            .reactions
            .iter()
            .any(|(a, s)| a == action && s == id)
    };
    v["favourited"] = json!(did("favourite"));
    v["reblogged"] = json!(did("reblog"));
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
    if matches!(action.as_str(), "unfavourite" | "unreblog") {
        return unreact(&mut state, &id, &action);
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

/// `POST /api/v1/statuses/:id/unfavourite` and `/unreblog`: the reaction is taken back.
pub(crate) fn unreact(state: &mut MastoState, id: &str, action: &str) -> Response {
    let Some((mut v, _)) = thread_status(state, id) else {
        return json_response(
            StatusCode::NOT_FOUND,
            &json!({ "error": "Record not found" }),
        );
    };
    let done = action.trim_start_matches("un");
    state
        .notify
        .reactions
        .retain(|(a, s)| !(a == done && s == id));
    v[if done == "favourite" {
        "favourited"
    } else {
        "reblogged"
    }] = json!(false);
    json_response(StatusCode::OK, &v)
}

/// A direct-message conversation as the fake derives it from the direct statuses: the
/// thread's first status id is its id, its newest status the `last_status`.
struct FakeConversation {
    id: String,
    last: u64,
    last_status: Value,
    last_is_ours: bool,
    accounts: Vec<Value>,
}

/// (status id, parent, the remote author's notification; `None` for ours) of a direct status.
type Direct<'a> = (String, Option<String>, Option<&'a FakeNotification>);

fn conversations(state: &MastoState) -> Vec<FakeConversation> {
    let mut direct: Vec<Direct<'_>> = state
        .notify
        .items
        .iter()
        .filter(|n| n.visibility == "direct")
        .filter_map(|n| {
            let (id, _, parent) = n.status.as_ref()?;
            Some((id.clone(), parent.clone(), Some(n)))
        })
        .collect();
    direct.extend(
        state
            .publish
            .statuses()
            .into_iter()
            .filter(|s| s.visibility == "direct")
            .map(|s| (s.id, s.in_reply_to_id, None)),
    );
    let parent_of: std::collections::HashMap<&str, Option<&str>> = direct
        .iter()
        .map(|(id, parent, _)| (id.as_str(), parent.as_deref()))
        .collect();
    fn root(parent_of: &std::collections::HashMap<&str, Option<&str>>, start: &str) -> String {
        let mut id = start.to_string();
        for _ in 0..100 {
            match parent_of.get(id.as_str()).copied().flatten() {
                Some(p) if parent_of.contains_key(p) => id = p.to_string(),
                _ => break,
            }
        }
        id
    }
    let mut by_root: std::collections::BTreeMap<String, Vec<&Direct<'_>>> =
        std::collections::BTreeMap::new();
    for d in &direct {
        by_root.entry(root(&parent_of, &d.0)).or_default().push(d);
    }
    let base = state.base.as_str();
    by_root
        .into_iter()
        .filter_map(|(id, members)| {
            let last = members
                .iter()
                .max_by_key(|(sid, _, _)| sid.parse::<u64>().unwrap_or(0))?;
            let last_status = match last.2 {
                Some(n) => entity(state, n)["status"].clone(),
                None => status_entity_by_id(state, &last.0)?,
            };
            let mut accounts = Vec::new();
            let mut seen = std::collections::HashSet::new();
            for (_, _, n) in &members {
                if let Some(n) = n
                    && seen.insert(n.from_acct.clone())
                {
                    accounts.push(remote_account(base, &n.from_acct, &n.from_name));
                }
            }
            Some(FakeConversation {
                id,
                last: last.0.parse().unwrap_or(0),
                last_status,
                last_is_ours: last.2.is_none(),
                accounts,
            })
        })
        .collect()
}

fn conversation_entity(state: &MastoState, c: &FakeConversation) -> Value {
    let read_at = state
        .notify
        .conversations_read
        .get(&c.id)
        .copied()
        .unwrap_or(0);
    json!({
        "id": c.id,
        "unread": !c.last_is_ours && c.last > read_at,
        "accounts": c.accounts,
        "last_status": c.last_status,
    })
}

/// `GET /api/v1/conversations`: the direct conversations, the most recently active first
/// (limit 20, at most 40). As on Mastodon, the pages are keyed by each conversation's last
/// status id, which only the `Link` header carries.
pub(crate) async fn list_conversations(
    State(shared): State<Shared>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let state = lock(&shared.state);
    if let Err(err) = authorize_user(&state, &headers, &["read", "read:statuses"]) {
        return err.into_response();
    }
    let all = conversations(&state);
    paged_response(
        all.iter().collect(),
        |c| c.last,
        &params,
        (20, 40),
        &format!("{}api/v1/conversations", state.base.as_str()),
        &["limit"],
        |c| conversation_entity(&state, c),
    )
}

pub(crate) fn conversation_unread(state: &MastoState, id: &str) -> Option<bool> {
    let c = conversations(state).into_iter().find(|c| c.id == id)?;
    conversation_entity(state, &c)["unread"].as_bool()
}

/// Marks read the conversation that holds this status.
pub(crate) fn mark_read_containing(state: &mut MastoState, status_id: &str) -> bool {
    // A status's conversation is its thread's first direct status.
    let mut id = status_id.to_string();
    for _ in 0..100 {
        match thread_status(state, &id).and_then(|(_, parent)| parent) {
            Some(p)
                if thread_status(state, &p).is_some_and(|(v, _)| v["visibility"] == "direct") =>
            {
                id = p;
            }
            _ => break,
        }
    }
    let Some(c) = conversations(state).into_iter().find(|c| c.id == id) else {
        return false;
    };
    state.notify.conversations_read.insert(c.id, c.last);
    true
}

/// `POST /api/v1/conversations/:id/read`.
pub(crate) async fn read_conversation(
    State(shared): State<Shared>,
    headers: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let mut state = lock(&shared.state);
    if let Err(err) = authorize_user(&state, &headers, &["write", "write:conversations"]) {
        return err.into_response();
    }
    let Some(c) = conversations(&state).into_iter().find(|c| c.id == id) else {
        return json_response(
            StatusCode::NOT_FOUND,
            &json!({ "error": "Record not found" }),
        );
    };
    state.notify.conversations_read.insert(id, c.last);
    json_response(StatusCode::OK, &conversation_entity(&state, &c))
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
