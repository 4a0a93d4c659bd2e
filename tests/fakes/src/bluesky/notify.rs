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
