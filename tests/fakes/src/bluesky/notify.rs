//! `app.bsky.notification.listNotifications`, as the PDS answers it by proxying to the
//! AppView: newest first, `limit` 1–100 (default 50), an opaque `cursor` for the next older
//! page, `reasons[]` as a filter.

use base64::Engine;
use serde_json::{Value, json};

use super::{BskyState, Shared, Xrpc, XrpcError, XrpcResult, authenticate_access, json_ok};
use crate::common::{iso_ms, lock};
use crate::media::record_cid;

#[derive(Debug, Clone)]
pub(crate) struct BskyNotification {
    /// Whose notification it is.
    pub to_did: String,
    pub uri: String,
    pub cid: String,
    pub author_did: String,
    pub author_handle: String,
    pub reason: String,
    pub reason_subject: Option<String>,
    pub record: Value,
    pub indexed_at: String,
    pub seq: u64,
}

#[derive(Debug, Default)]
pub(crate) struct NotifyState {
    pub items: Vec<BskyNotification>,
    seq: u64,
    pub convos: Vec<Convo>,
}

impl BskyState {
    pub(crate) fn add_notification(
        &mut self,
        to_handle: &str,
        reason: &str,
        from_handle: &str,
        text: Option<&str>,
        subject: Option<&str>,
    ) -> Result<String, String> {
        let to = self
            .account_by_handle(to_handle)
            .ok_or_else(|| format!("no account {to_handle}"))?
            .did
            .clone();
        self.notify.seq += 1;
        let seq = self.notify.seq;
        let author_did = format!(
            "did:plc:fan{:020}",
            from_handle.bytes().map(u64::from).sum::<u64>()
        );
        let collection = match reason {
            "like" => "app.bsky.feed.like",
            "repost" => "app.bsky.feed.repost",
            "follow" => "app.bsky.graph.follow",
            _ => "app.bsky.feed.post",
        };
        let rkey = format!("3n{seq:011}");
        let uri = format!("at://{author_did}/{collection}/{rkey}");
        let now = iso_ms(chrono::Utc::now());
        let record = match reason {
            "mention" | "reply" | "quote" => {
                let mut r = json!({
                    "$type": "app.bsky.feed.post",
                    "text": text.unwrap_or(""),
                    "createdAt": now,
                });
                if reason == "reply"
                    && let Some(parent) = subject
                {
                    // The parent's CID as the repo computed it, when it is one of ours.
                    let cid = self
                        .repo
                        .records
                        .iter()
                        .find(|r| r.uri == parent)
                        .map(|r| r.cid.clone())
                        .unwrap_or_else(|| record_cid(parent.as_bytes()));
                    r["reply"] = json!({
                        "root": { "uri": parent, "cid": cid },
                        "parent": { "uri": parent, "cid": cid },
                    });
                }
                r
            }
            "follow" => json!({ "$type": collection, "subject": to, "createdAt": now }),
            _ => json!({
                "$type": collection,
                "subject": { "uri": subject.unwrap_or(""), "cid": record_cid(subject.unwrap_or("").as_bytes()) },
                "createdAt": now,
            }),
        };
        self.notify.items.push(BskyNotification {
            to_did: to,
            uri: uri.clone(),
            cid: record_cid(uri.as_bytes()),
            author_did,
            author_handle: from_handle.to_string(),
            reason: reason.to_string(),
            reason_subject: subject.map(str::to_string),
            record,
            indexed_at: now,
            seq,
        });
        Ok(uri)
    }
}

fn cursor_of(n: &BskyNotification) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}::{}", n.indexed_at, n.seq))
}

fn seq_of(cursor: &str) -> Option<u64> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .rsplit_once("::")?
        .1
        .parse()
        .ok()
}

pub(super) fn list_notifications(shared: &Shared, req: &Xrpc) -> XrpcResult {
    let state = lock(&shared.state);
    let did = authenticate_access(&state, req)?;
    let limit = match req.query.get("limit") {
        None => 50,
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(n) if n > 100 => {
                return Err(XrpcError::invalid_request(
                    "Params/limit can not be greater than 100",
                ));
            }
            Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(50),
            _ => {
                return Err(XrpcError::invalid_request(
                    "Params/limit can not be less than 1",
                ));
            }
        },
    };
    let before = match req.query.get("cursor").filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(seq_of(c).ok_or_else(|| XrpcError::invalid_request("Malformed cursor"))?),
    };
    let reasons: Vec<&str> = req
        .query
        .get("reasons")
        .map(|r| r.split(',').collect())
        .unwrap_or_default();
    let mut items: Vec<&BskyNotification> = state
        .notify
        .items
        .iter()
        .filter(|n| n.to_did == did)
        .filter(|n| before.is_none_or(|b| n.seq < b))
        .filter(|n| reasons.is_empty() || reasons.contains(&n.reason.as_str()))
        .collect();
    items.sort_by_key(|n| std::cmp::Reverse(n.seq));
    let more = items.len() > limit;
    items.truncate(limit);
    let views: Vec<Value> = items
        .iter()
        .map(|n| {
            json!({
                "uri": n.uri,
                "cid": n.cid,
                "author": {
                    "did": n.author_did,
                    "handle": n.author_handle,
                    "displayName": format!("{} (fan)", n.author_handle.split('.').next().unwrap_or("")),
                    "avatar": format!("https://cdn.bsky.example/img/avatar/plain/{}/a@jpeg", n.author_did),
                    "labels": [],
                },
                "reason": n.reason,
                "reasonSubject": n.reason_subject,
                "record": n.record,
                "isRead": false,
                "indexedAt": n.indexed_at,
                "labels": [],
            })
        })
        .collect();
    let mut body = json!({ "notifications": views, "priority": false });
    if more && let Some(last) = items.last() {
        body["cursor"] = json!(cursor_of(last));
    }
    json_ok(&body)
}

/// A post the AppView knows: one of the repo's records or one that reached us as a
/// notification. (uri, cid, author did, author handle, record, indexedAt)
fn known_post(
    state: &BskyState,
    uri: &str,
) -> Option<(String, String, String, String, Value, String)> {
    if let Some(r) = state
        .repo
        .records
        .iter()
        .find(|r| r.uri == uri && !r.deleted)
    {
        let handle = state
            .account_by_did(&r.did)
            .map(|a| a.handle.clone())
            .unwrap_or_default();
        let at = r.value["createdAt"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        return Some((
            r.uri.clone(),
            r.cid.clone(),
            r.did.clone(),
            handle,
            r.value.clone(),
            at,
        ));
    }
    state.notify.items.iter().find(|n| n.uri == uri).map(|n| {
        (
            n.uri.clone(),
            n.cid.clone(),
            n.author_did.clone(),
            n.author_handle.clone(),
            n.record.clone(),
            n.indexed_at.clone(),
        )
    })
}

/// A post as `viewer` sees it: `viewer.like` / `viewer.repost` are the URIs of the viewer's
/// own like and repost records of it, as the AppView sets them.
fn post_view(
    state: &BskyState,
    viewer: &str,
    p: &(String, String, String, String, Value, String),
) -> Value {
    let own = |collection: &str| {
        state
            .repo
            .records
            .iter()
            .find(|r| {
                !r.deleted
                    && r.did == viewer
                    && r.collection == collection
                    && r.value.pointer("/subject/uri").and_then(Value::as_str) == Some(p.0.as_str())
            })
            .map(|r| r.uri.clone())
    };
    let mut viewer_state = json!({});
    if let Some(like) = own("app.bsky.feed.like") {
        viewer_state["like"] = json!(like);
    }
    if let Some(repost) = own("app.bsky.feed.repost") {
        viewer_state["repost"] = json!(repost);
    }
    json!({
        "viewer": viewer_state,
        "$type": "app.bsky.feed.defs#postView",
        "uri": p.0,
        "cid": p.1,
        "author": { "did": p.2, "handle": p.3 },
        "record": p.4,
        "indexedAt": p.5,
        "replyCount": 0,
        "repostCount": 0,
        "likeCount": 0,
    })
}

fn parent_of(record: &Value) -> Option<String> {
    record
        .pointer("/reply/parent/uri")
        .and_then(Value::as_str)
        .map(str::to_string)
}

fn replies(state: &BskyState, viewer: &str, uri: &str, depth: u32) -> Vec<Value> {
    if depth == 0 {
        return Vec::new();
    }
    let mut children: Vec<String> = state
        .repo
        .records
        .iter()
        .filter(|r| !r.deleted && parent_of(&r.value).as_deref() == Some(uri))
        .map(|r| r.uri.clone())
        .collect();
    children.extend(
        state
            .notify
            .items
            .iter()
            .filter(|n| parent_of(&n.record).as_deref() == Some(uri))
            .map(|n| n.uri.clone()),
    );
    children
        .iter()
        .filter_map(|c| known_post(state, c))
        .map(|p| {
            json!({
                "$type": "app.bsky.feed.defs#threadViewPost",
                "post": post_view(state, viewer, &p),
                "replies": replies(state, viewer, &p.0, depth - 1),
            })
        })
        .collect()
}

/// `app.bsky.feed.getPostThread?uri&depth&parentHeight`.
pub(super) fn get_post_thread(shared: &Shared, req: &Xrpc) -> XrpcResult {
    let state = lock(&shared.state);
    let viewer = authenticate_access(&state, req)?;
    let uri = req.param("uri")?;
    let depth = req
        .query
        .get("depth")
        .and_then(|d| d.parse().ok())
        .unwrap_or(6)
        .min(1000);
    let height: u32 = req
        .query
        .get("parentHeight")
        .and_then(|d| d.parse().ok())
        .unwrap_or(80)
        .min(1000);
    let Some(post) = known_post(&state, uri) else {
        return Err(XrpcError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "NotFound",
            format!("Post not found: {uri}"),
        ));
    };
    let mut thread = json!({
        "$type": "app.bsky.feed.defs#threadViewPost",
        "post": post_view(&state, &viewer, &post),
        "replies": replies(&state, &viewer, uri, depth),
    });
    // Parents, nested upwards.
    let mut slot = &mut thread;
    let mut parent = parent_of(&post.4);
    let mut left = height;
    while let (Some(p), true) = (parent.clone(), left > 0) {
        let Some(found) = known_post(&state, &p) else {
            break;
        };
        slot["parent"] = json!({
            "$type": "app.bsky.feed.defs#threadViewPost",
            "post": post_view(&state, &viewer, &found),
        });
        slot = slot.get_mut("parent").expect("just set");
        parent = parent_of(&found.4);
        left -= 1;
    }
    json_ok(&json!({ "thread": thread }))
}

/// A chat conversation (chat.bsky.convo), reached through the PDS with
/// `atproto-proxy: did:web:api.bsky.chat#bsky_chat`.
#[derive(Debug, Clone)]
pub(crate) struct Convo {
    pub id: String,
    /// (did, handle) of each member.
    pub members: Vec<(String, String)>,
    pub messages: Vec<ChatMessage>,
    /// (member did, rev): what each member has read up to.
    pub read: Vec<(String, String)>,
}

impl Convo {
    /// Messages of others that `did` has not read.
    pub(crate) fn unread_for(&self, did: &str) -> usize {
        let read = self
            .read
            .iter()
            .find(|(d, _)| d == did)
            .map(|(_, rev)| rev.as_str());
        self.messages
            .iter()
            .filter(|m| m.sender_did != did && read.is_none_or(|r| m.rev.as_str() > r))
            .count()
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ChatMessage {
    pub id: String,
    pub rev: String,
    pub sender_did: String,
    pub text: String,
    pub sent_at: String,
}

const CHAT_PROXY: &str = "did:web:api.bsky.chat#bsky_chat";

fn require_chat_proxy(req: &Xrpc) -> Result<(), XrpcError> {
    let proxied = req
        .headers
        .get("atproto-proxy")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == CHAT_PROXY);
    if proxied {
        Ok(())
    } else {
        // Without the header the PDS does not know chat methods.
        Err(XrpcError::new(
            axum::http::StatusCode::NOT_IMPLEMENTED,
            "MethodNotImplemented",
            "Method Not Implemented",
        ))
    }
}

impl BskyState {
    /// `from_handle` writes `text` to `to_handle` (a conversation is made on first use).
    pub(crate) fn add_chat_message(
        &mut self,
        to_handle: &str,
        from_handle: &str,
        text: &str,
    ) -> Result<String, String> {
        let to = self
            .account_by_handle(to_handle)
            .ok_or_else(|| format!("no account {to_handle}"))?
            .did
            .clone();
        let from_did = format!(
            "did:plc:fan{:020}",
            from_handle.bytes().map(u64::from).sum::<u64>()
        );
        self.notify.seq += 1;
        let seq = self.notify.seq;
        let convo_index = match self.notify.convos.iter().position(|c| {
            c.members.iter().any(|(d, _)| *d == to) && c.members.iter().any(|(d, _)| *d == from_did)
        }) {
            Some(i) => i,
            None => {
                self.notify.convos.push(Convo {
                    id: format!("convo{seq:08}"),
                    members: vec![
                        (to.clone(), to_handle.to_string()),
                        (from_did.clone(), from_handle.to_string()),
                    ],
                    messages: Vec::new(),
                    read: Vec::new(),
                });
                self.notify.convos.len() - 1
            }
        };
        let id = format!("msg{seq:010}");
        self.notify.convos[convo_index].messages.push(ChatMessage {
            id: id.clone(),
            rev: format!("{seq:016}"),
            sender_did: from_did,
            text: text.to_string(),
            sent_at: iso_ms(chrono::Utc::now()),
        });
        Ok(id)
    }
}

fn message_view(m: &ChatMessage) -> Value {
    json!({
        "$type": "chat.bsky.convo.defs#messageView",
        "id": m.id,
        "rev": m.rev,
        "text": m.text,
        "sender": { "did": m.sender_did },
        "sentAt": m.sent_at,
    })
}

fn limit_of(req: &Xrpc, default: usize) -> Result<usize, XrpcError> {
    match req.query.get("limit") {
        None => Ok(default),
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(n) if n > 100 => Err(XrpcError::invalid_request(
                "Params/limit can not be greater than 100",
            )),
            Ok(n) if n >= 1 => Ok(usize::try_from(n).unwrap_or(default)),
            _ => Err(XrpcError::invalid_request(
                "Params/limit can not be less than 1",
            )),
        },
    }
}

/// `chat.bsky.convo.listConvos`: the caller's conversations, most recent first.
pub(super) fn list_convos(shared: &Shared, req: &Xrpc) -> XrpcResult {
    require_chat_proxy(req)?;
    let state = lock(&shared.state);
    let did = authenticate_access(&state, req)?;
    let limit = limit_of(req, 50)?;
    let before: Option<String> = req.query.get("cursor").filter(|c| !c.is_empty()).cloned();
    let mut convos: Vec<&Convo> = state
        .notify
        .convos
        .iter()
        .filter(|c| c.members.iter().any(|(d, _)| *d == did))
        .filter(|c| {
            before
                .as_ref()
                .is_none_or(|b| c.messages.last().is_some_and(|m| &m.rev < b))
        })
        .collect();
    convos.sort_by(|a, b| {
        b.messages
            .last()
            .map(|m| &m.rev)
            .cmp(&a.messages.last().map(|m| &m.rev))
    });
    let more = convos.len() > limit;
    convos.truncate(limit);
    let views: Vec<Value> = convos
        .iter()
        .map(|c| {
            json!({
                "id": c.id,
                "rev": c.messages.last().map(|m| m.rev.clone()).unwrap_or_default(),
                "members": c.members.iter().map(|(d, h)| json!({ "did": d, "handle": h, "displayName": format!("{} (fan)", h.split('.').next().unwrap_or("")) })).collect::<Vec<_>>(),
                "lastMessage": c.messages.last().map(message_view),
                "muted": false,
                "unreadCount": c.unread_for(&did),
            })
        })
        .collect();
    let mut body = json!({ "convos": views });
    if more && let Some(last) = convos.last().and_then(|c| c.messages.last()) {
        body["cursor"] = json!(last.rev);
    }
    json_ok(&body)
}

/// `chat.bsky.convo.getMessages?convoId&cursor&limit`: newest first.
pub(super) fn get_messages(shared: &Shared, req: &Xrpc) -> XrpcResult {
    require_chat_proxy(req)?;
    let state = lock(&shared.state);
    let did = authenticate_access(&state, req)?;
    let convo_id = req.param("convoId")?;
    let limit = limit_of(req, 50)?;
    let before: Option<String> = req.query.get("cursor").filter(|c| !c.is_empty()).cloned();
    let Some(convo) = state
        .notify
        .convos
        .iter()
        .find(|c| c.id == convo_id && c.members.iter().any(|(d, _)| *d == did))
    else {
        return Err(XrpcError::invalid_request("Convo not found"));
    };
    let mut messages: Vec<&ChatMessage> = convo
        .messages
        .iter()
        .filter(|m| before.as_ref().is_none_or(|b| &m.rev < b))
        .collect();
    messages.reverse();
    let more = messages.len() > limit;
    messages.truncate(limit);
    let mut body =
        json!({ "messages": messages.iter().map(|m| message_view(m)).collect::<Vec<_>>() });
    if more && let Some(last) = messages.last() {
        body["cursor"] = json!(last.rev);
    }
    json_ok(&body)
}

/// `chat.bsky.convo.sendMessage {convoId, message: {text}}`.
/// `chat.bsky.convo.updateRead {convoId, messageId?}`: read up to that message (the newest
/// when left out). Answers `{convo}`.
pub(super) fn update_read(shared: &Shared, req: &Xrpc) -> XrpcResult {
    require_chat_proxy(req)?;
    let input = req.json_input()?;
    let mut state = lock(&shared.state);
    let did = authenticate_access(&state, req)?;
    let convo_id = input
        .get("convoId")
        .and_then(Value::as_str)
        .ok_or_else(|| XrpcError::invalid_request("Input must have the property \"convoId\""))?;
    let message_id = input.get("messageId").and_then(Value::as_str);
    let Some(convo) = state
        .notify
        .convos
        .iter_mut()
        .find(|c| c.id == convo_id && c.members.iter().any(|(d, _)| *d == did))
    else {
        return Err(XrpcError::invalid_request("Convo not found"));
    };
    let upto = match message_id {
        Some(id) => convo.messages.iter().find(|m| m.id == id),
        None => convo.messages.last(),
    }
    .map(|m| m.rev.clone())
    .ok_or_else(|| XrpcError::invalid_request("Message not found"))?;
    convo.read.retain(|(d, _)| *d != did);
    convo.read.push((did.clone(), upto));
    let unread = convo.unread_for(&did);
    json_ok(&json!({ "convo": { "id": convo.id, "unreadCount": unread } }))
}

pub(super) fn send_message(shared: &Shared, req: &Xrpc) -> XrpcResult {
    require_chat_proxy(req)?;
    let input = req.json_input()?;
    let mut state = lock(&shared.state);
    let did = authenticate_access(&state, req)?;
    let convo_id = input
        .get("convoId")
        .and_then(Value::as_str)
        .ok_or_else(|| XrpcError::invalid_request("Input must have the property \"convoId\""))?
        .to_string();
    let text = input
        .get("message")
        .and_then(|m| m.get("text"))
        .and_then(Value::as_str)
        .ok_or_else(|| XrpcError::invalid_request("Input/message must have the property \"text\""))?
        .to_string();
    if text.chars().count() > 1000 {
        return Err(XrpcError::invalid_request(
            "Input/message/text must not be longer than 1000 graphemes",
        ));
    }
    state.notify.seq += 1;
    let seq = state.notify.seq;
    let Some(convo) = state
        .notify
        .convos
        .iter_mut()
        .find(|c| c.id == convo_id && c.members.iter().any(|(d, _)| *d == did))
    else {
        return Err(XrpcError::invalid_request("Convo not found"));
    };
    let message = ChatMessage {
        id: format!("msg{seq:010}"),
        rev: format!("{seq:016}"),
        sender_did: did,
        text,
        sent_at: iso_ms(chrono::Utc::now()),
    };
    let view = message_view(&message);
    convo.messages.push(message);
    json_ok(&view)
}
