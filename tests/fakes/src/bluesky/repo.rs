//! Repository writes and reads on the fake PDS: `uploadBlob`, `createRecord`, `getRecord`,
//! `listRecords` and `deleteRecord`, following packages/pds (api/com/atproto/repo,
//! repo/prepare.ts, actor-store/blob/transactor.ts) and the `@atproto/lexicon` validators.
//!
//! Records of `app.bsky.feed.post` are validated against the lexicon with the lexicon
//! package's messages (`Record/text must not be longer than 300 graphemes`, ...). A few checks
//! are stricter than the reference PDS, which accepts these and leaves them to the AppView;
//! their messages end in `[fake-only check]` (see `strict_post_checks`).

use axum::http::StatusCode;
use serde_json::{Map, Value, json};
use unicode_segmentation::UnicodeSegmentation;

use super::{BskyState, Shared, Xrpc, XrpcError, XrpcResult, authenticate_access, json_ok};
use crate::common::{self, lock};
use crate::media;

/// The PDS's `blobUploadLimit` (bytes).
pub(crate) const BLOB_UPLOAD_LIMIT: usize = 52_428_800;
/// `app.bsky.embed.images#image.image.maxSize` (2026 lexicon; formerly 1,000,000).
const IMAGE_MAX_SIZE: u64 = 2_000_000;
/// `app.bsky.embed.external#external.thumb.maxSize`.
const THUMB_MAX_SIZE: u64 = 1_000_000;
/// `app.bsky.embed.video.video.maxSize`.
const VIDEO_MAX_SIZE: u64 = 100_000_000;
const POST: &str = "app.bsky.feed.post";
const FACET_MENTION: &str = "app.bsky.richtext.facet#mention";
const FACET_LINK: &str = "app.bsky.richtext.facet#link";
const FACET_TAG: &str = "app.bsky.richtext.facet#tag";
const FAKE_ONLY: &str = " [fake-only check]";

/// A record created through `createRecord`.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedRecord {
    pub did: String,
    pub collection: String,
    pub rkey: String,
    pub uri: String,
    pub cid: String,
    /// The record as stored (the input's `record`, with `$type` filled in when it was missing).
    pub value: Value,
    /// The `createRecord` request body, byte for byte.
    #[serde(serialize_with = "common::serialize_base64")]
    pub raw_body: Vec<u8>,
    /// Removed with `deleteRecord`.
    pub deleted: bool,
}

/// A blob received through `uploadBlob`.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceivedBlob {
    pub did: String,
    pub cid: String,
    /// The MIME type the PDS stored: sniffed from the bytes, else the `Content-Type` sent.
    pub mime: String,
    /// The `Content-Type` header sent.
    pub declared_mime: String,
    #[serde(serialize_with = "common::serialize_base64")]
    pub bytes: Vec<u8>,
}

/// Repository state, part of the fake's state.
#[derive(Default)]
pub(crate) struct RepoState {
    pub(crate) records: Vec<ReceivedRecord>,
    blobs: Vec<ReceivedBlob>,
    /// Latest commit per DID: (cid, rev).
    commits: Vec<(String, String, String)>,
}

impl RepoState {
    pub(crate) fn records(&self) -> Vec<ReceivedRecord> {
        self.records.clone()
    }

    pub(crate) fn blobs(&self) -> Vec<ReceivedBlob> {
        self.blobs.clone()
    }

    fn live(&self, did: &str, collection: &str, rkey: &str) -> Option<&ReceivedRecord> {
        self.records
            .iter()
            .find(|r| !r.deleted && r.did == did && r.collection == collection && r.rkey == rkey)
    }

    fn commit(&mut self, did: &str) -> Value {
        let rev = media::next_tid();
        let cid = media::record_cid(format!("{did} {rev}").as_bytes());
        self.commits.retain(|(d, _, _)| d != did);
        self.commits
            .push((did.to_owned(), cid.clone(), rev.clone()));
        json!({ "cid": cid, "rev": rev })
    }
}

fn internal_error() -> XrpcError {
    XrpcError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "InternalServerError",
        "Internal Server Error",
    )
}

fn auth_required() -> XrpcError {
    XrpcError::new(
        StatusCode::UNAUTHORIZED,
        "AuthenticationRequired",
        "Authentication Required",
    )
}

fn payload_too_large() -> XrpcError {
    XrpcError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "PayloadTooLarge",
        "request entity too large",
    )
}

/// Rejects an upload whose `Content-Length` is over the limit before the body is read, as
/// xrpc-server's `decodeBodyStream` does.
pub(crate) fn check_declared_length(headers: &axum::http::HeaderMap) -> Result<(), XrpcError> {
    let declared = headers
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match declared {
        Some(n) if n > BLOB_UPLOAD_LIMIT as u64 => Err(payload_too_large()),
        _ => Ok(()),
    }
}

/// `com.atproto.repo.uploadBlob`: raw body, `Content-Type` required.
pub(crate) fn upload_blob(shared: &Shared, req: &Xrpc) -> XrpcResult {
    let mut state = lock(&shared.state);
    let did = authenticate_access(&state, req)?;
    check_declared_length(&req.headers)?;
    let declared = req
        .headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|v| !v.is_empty());
    let Some(declared) = declared else {
        return Err(XrpcError::invalid_request(
            "Request encoding (Content-Type) required but not provided",
        ));
    };
    if req.body.is_empty() {
        // The reference PDS would store an empty blob; nothing useful uploads zero bytes.
        return Err(XrpcError::invalid_request(format!(
            "A request body is expected but none was provided{FAKE_ONLY}"
        )));
    }
    if req.body.len() > BLOB_UPLOAD_LIMIT {
        return Err(payload_too_large());
    }
    let bytes = req.body.to_vec();
    let cid = media::blob_cid(&bytes);
    let mime = media::sniff(&bytes).map_or_else(|| declared.clone(), str::to_owned);
    let size = bytes.len();
    state.repo.blobs.retain(|b| !(b.did == did && b.cid == cid));
    state.repo.blobs.push(ReceivedBlob {
        did,
        cid: cid.clone(),
        mime: mime.clone(),
        declared_mime: declared,
        bytes,
    });
    json_ok(&json!({
        "blob": {
            "$type": "blob",
            "ref": { "$link": cid },
            "mimeType": mime,
            "size": size,
        }
    }))
}

/// The DID a `repo` (DID or handle) names, if the fake hosts it.
fn resolve_repo(state: &BskyState, repo: &str) -> Option<String> {
    state.account_by_actor(repo).map(|a| a.did.clone())
}

fn is_nsid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() >= 3
        && s.len() <= 317
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.len() <= 63
                && p.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && parts
            .last()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Record key syntax (atproto spec): 1 to 512 of `A-Za-z0-9 . - _ : ~`, not `.` or `..`.
fn is_record_key(s: &str) -> bool {
    (1..=512).contains(&s.len())
        && s != "."
        && s != ".."
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:~".contains(&b))
}

fn is_did(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("did:") else {
        return false;
    };
    let Some((method, id)) = rest.split_once(':') else {
        return false;
    };
    s.len() <= 2048
        && !method.is_empty()
        && method.bytes().all(|b| b.is_ascii_lowercase())
        && !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:%-".contains(&b))
        && !id.ends_with([':', '%'])
}

fn is_handle(s: &str) -> bool {
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && s.len() <= 253
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        && labels
            .last()
            .is_some_and(|l| l.as_bytes()[0].is_ascii_alphabetic())
}

/// `ensureValidDatetime` of `@atproto/syntax`: RFC 3339 and ISO 8601 at once, a timezone, no
/// `-00:00`, and a date that exists.
fn is_datetime(s: &str) -> bool {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| {
        b.get(range.clone())
            .is_some_and(|d| d.len() == range.len() && d.iter().all(u8::is_ascii_digit))
    };
    let shape = b.len() >= 20
        && b.len() <= 64
        && digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    if !shape || s.ends_with("-00:00") {
        return false;
    }
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if !(1..=20).contains(&n) {
            return false;
        }
        rest = &frac[n..];
    }
    let zone_ok = rest == "Z"
        || (rest.len() == 6
            && (rest.starts_with('+') || rest.starts_with('-'))
            && rest.as_bytes()[3] == b':'
            && rest[1..3].bytes().all(|c| c.is_ascii_digit())
            && rest[4..6].bytes().all(|c| c.is_ascii_digit()));
    zone_ok && chrono::DateTime::parse_from_rfc3339(s).is_ok()
}

/// `formats.uri` of the lexicon package.
fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !rest.is_empty()
        && !rest.starts_with('/')
        && !s.chars().any(char::is_whitespace)
}

fn is_at_uri(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("at://") else {
        return false;
    };
    let mut parts = rest.splitn(3, '/');
    let authority = parts.next().unwrap_or("");
    let collection_ok = parts.next().is_none_or(is_nsid);
    let rkey_ok = parts.next().is_none_or(is_record_key);
    (is_did(authority) || is_handle(authority)) && collection_ok && rkey_ok
}

fn is_language(s: &str) -> bool {
    let mut parts = s.split('-');
    let primary = parts.next().unwrap_or("");
    let primary_ok = ((2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic()))
        || primary == "i"
        || primary == "x";
    primary_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// A blob reference found in a record, with its lexicon path (keys only, no indices).
struct FoundBlob {
    path: String,
    cid: String,
    mime: String,
}

/// Validation of one value at `path` against a lexicon type, returning the lexicon
/// package's message on failure.
type Check = Result<(), String>;

fn object<'a>(path: &str, v: &'a Value) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{path} must be an object"))
}

/// The property `key`, checked with `f` if present; `Ok(None)` if absent and optional.
fn prop<'a>(
    path: &str,
    map: &'a Map<String, Value>,
    key: &str,
    required: bool,
) -> Result<Option<(String, &'a Value)>, String> {
    match map.get(key) {
        None if required => Err(format!("{path} must have the property \"{key}\"")),
        None => Ok(None),
        Some(v) => Ok(Some((format!("{path}/{key}"), v))),
    }
}

fn string<'a>(
    path: &str,
    v: &'a Value,
    max_len: Option<usize>,
    max_graphemes: Option<usize>,
) -> Result<&'a str, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("{path} must be a string"))?;
    if let Some(max) = max_len
        && s.len() > max
    {
        return Err(format!("{path} must not be longer than {max} characters"));
    }
    if let Some(max) = max_graphemes
        && s.graphemes(true).count() > max
    {
        return Err(format!("{path} must not be longer than {max} graphemes"));
    }
    Ok(s)
}

fn integer(path: &str, v: &Value, minimum: i64) -> Result<i64, String> {
    let n = v
        .as_i64()
        .filter(|_| v.is_i64() || v.is_u64())
        .ok_or_else(|| format!("{path} must be an integer"))?;
    if n < minimum {
        return Err(format!("{path} can not be less than {minimum}"));
    }
    Ok(n)
}

fn array<'a>(path: &str, v: &'a Value, max_len: Option<usize>) -> Result<&'a Vec<Value>, String> {
    let items = v
        .as_array()
        .ok_or_else(|| format!("{path} must be an array"))?;
    if let Some(max) = max_len
        && items.len() > max
    {
        return Err(format!("{path} must not have more than {max} elements"));
    }
    Ok(items)
}

fn format_check(path: &str, ok: bool, what: &str) -> Check {
    if ok {
        Ok(())
    } else {
        Err(format!("{path} must be {what}"))
    }
}

/// The `$type` of a union member, or the lexicon package's message.
fn union_type<'a>(path: &str, v: &'a Value) -> Result<&'a str, String> {
    v.as_object()
        .and_then(|m| m.get("$type"))
        .and_then(Value::as_str)
        .ok_or_else(|| format!("{path} must be an object which includes the \"$type\" property"))
}

/// A typed blob ref: `{"$type":"blob","ref":{"$link":cid},"mimeType","size"}`.
fn blob(path: &str, v: &Value, found: &mut Vec<FoundBlob>, lex_path: &str) -> Check {
    let not_blob = || format!("{path} should be a blob ref");
    let map = v.as_object().ok_or_else(not_blob)?;
    if map.get("$type").and_then(Value::as_str) != Some("blob") {
        return Err(not_blob());
    }
    let cid = map
        .get("ref")
        .and_then(Value::as_object)
        .filter(|r| r.len() == 1)
        .and_then(|r| r.get("$link"))
        .and_then(Value::as_str)
        .filter(|c| media::is_cid(c))
        .ok_or_else(not_blob)?;
    let mime = map
        .get("mimeType")
        .and_then(Value::as_str)
        .ok_or_else(not_blob)?;
    if !map.get("size").is_some_and(|s| s.is_u64()) {
        return Err(not_blob());
    }
    found.push(FoundBlob {
        path: lex_path.to_owned(),
        cid: cid.to_owned(),
        mime: mime.to_owned(),
    });
    Ok(())
}

fn strong_ref(path: &str, v: &Value) -> Check {
    let map = object(path, v)?;
    if let Some((p, uri)) = prop(path, map, "uri", true)? {
        let s = string(&p, uri, None, None)?;
        format_check(&p, is_at_uri(s), "a valid at-uri")?;
    }
    if let Some((p, cid)) = prop(path, map, "cid", true)? {
        let s = string(&p, cid, None, None)?;
        format_check(&p, media::is_cid(s), "a cid string")?;
    }
    Ok(())
}

fn aspect_ratio(path: &str, v: &Value) -> Check {
    let map = object(path, v)?;
    for key in ["width", "height"] {
        if let Some((p, n)) = prop(path, map, key, true)? {
            integer(&p, n, 1)?;
        }
    }
    Ok(())
}

fn facet(path: &str, v: &Value) -> Check {
    let map = object(path, v)?;
    if let Some((p, index)) = prop(path, map, "index", true)? {
        let index = object(&p, index)?;
        for key in ["byteStart", "byteEnd"] {
            if let Some((q, n)) = prop(&p, index, key, true)? {
                integer(&q, n, 0)?;
            }
        }
    }
    if let Some((p, features)) = prop(path, map, "features", true)? {
        for (i, feature) in array(&p, features, None)?.iter().enumerate() {
            let q = format!("{p}/{i}");
            let kind = union_type(&q, feature)?;
            let fmap = object(&q, feature)?;
            match kind {
                FACET_MENTION => {
                    if let Some((r, did)) = prop(&q, fmap, "did", true)? {
                        let s = string(&r, did, None, None)?;
                        format_check(&r, is_did(s), "a valid did")?;
                    }
                }
                FACET_LINK => {
                    if let Some((r, uri)) = prop(&q, fmap, "uri", true)? {
                        let s = string(&r, uri, None, None)?;
                        format_check(&r, is_uri(s), "a uri")?;
                    }
                }
                FACET_TAG => {
                    if let Some((r, tag)) = prop(&q, fmap, "tag", true)? {
                        string(&r, tag, Some(640), Some(64))?;
                    }
                }
                // The union is open: unknown features pass the lexicon.
                _ => {}
            }
        }
    }
    Ok(())
}

fn images_embed(
    path: &str,
    map: &Map<String, Value>,
    prefix: &str,
    found: &mut Vec<FoundBlob>,
) -> Check {
    if let Some((p, images)) = prop(path, map, "images", true)? {
        for (i, image) in array(&p, images, Some(4))?.iter().enumerate() {
            let q = format!("{p}/{i}");
            let imap = object(&q, image)?;
            if let Some((r, b)) = prop(&q, imap, "image", true)? {
                blob(&r, b, found, &format!("{prefix}images/image"))?;
            }
            if let Some((r, alt)) = prop(&q, imap, "alt", true)? {
                string(&r, alt, None, None)?;
            }
            if let Some((r, ratio)) = prop(&q, imap, "aspectRatio", false)? {
                aspect_ratio(&r, ratio)?;
            }
        }
    }
    Ok(())
}

fn external_embed(
    path: &str,
    map: &Map<String, Value>,
    prefix: &str,
    found: &mut Vec<FoundBlob>,
) -> Check {
    if let Some((p, external)) = prop(path, map, "external", true)? {
        let emap = object(&p, external)?;
        if let Some((q, uri)) = prop(&p, emap, "uri", true)? {
            let s = string(&q, uri, None, None)?;
            format_check(&q, is_uri(s), "a uri")?;
        }
        for key in ["title", "description"] {
            if let Some((q, v)) = prop(&p, emap, key, true)? {
                string(&q, v, None, None)?;
            }
        }
        if let Some((q, thumb)) = prop(&p, emap, "thumb", false)? {
            blob(&q, thumb, found, &format!("{prefix}external/thumb"))?;
        }
    }
    Ok(())
}

fn video_embed(
    path: &str,
    map: &Map<String, Value>,
    prefix: &str,
    found: &mut Vec<FoundBlob>,
) -> Check {
    if let Some((p, video)) = prop(path, map, "video", true)? {
        blob(&p, video, found, &format!("{prefix}video"))?;
    }
    if let Some((p, alt)) = prop(path, map, "alt", false)? {
        string(&p, alt, Some(10_000), Some(1000))?;
    }
    if let Some((p, ratio)) = prop(path, map, "aspectRatio", false)? {
        aspect_ratio(&p, ratio)?;
    }
    Ok(())
}

fn embed(path: &str, v: &Value, found: &mut Vec<FoundBlob>) -> Check {
    let kind = union_type(path, v)?;
    let map = object(path, v)?;
    match kind {
        "app.bsky.embed.images" => images_embed(path, map, "embed/", found),
        "app.bsky.embed.external" => external_embed(path, map, "embed/", found),
        "app.bsky.embed.video" => video_embed(path, map, "embed/", found),
        "app.bsky.embed.record" => {
            if let Some((p, record)) = prop(path, map, "record", true)? {
                strong_ref(&p, record)?;
            }
            Ok(())
        }
        "app.bsky.embed.recordWithMedia" => {
            if let Some((p, record)) = prop(path, map, "record", true)? {
                let rmap = object(&p, record)?;
                if let Some((q, inner)) = prop(&p, rmap, "record", true)? {
                    strong_ref(&q, inner)?;
                }
            }
            if let Some((p, media)) = prop(path, map, "media", true)? {
                let kind = union_type(&p, media)?;
                let mmap = object(&p, media)?;
                match kind {
                    "app.bsky.embed.images" => images_embed(&p, mmap, "embed/media/", found)?,
                    "app.bsky.embed.external" => external_embed(&p, mmap, "embed/media/", found)?,
                    "app.bsky.embed.video" => video_embed(&p, mmap, "embed/media/", found)?,
                    _ => {}
                }
            }
            Ok(())
        }
        // The embed union is open.
        _ => Ok(()),
    }
}

/// `app.bsky.feed.post` against its lexicon, properties in lexicon order. Collects the blob
/// refs it meets.
fn validate_post(record: &Map<String, Value>, found: &mut Vec<FoundBlob>) -> Check {
    let path = "Record";
    if let Some((p, text)) = prop(path, record, "text", true)? {
        string(&p, text, Some(3000), Some(300))?;
    }
    if let Some((p, facets)) = prop(path, record, "facets", false)? {
        for (i, f) in array(&p, facets, None)?.iter().enumerate() {
            facet(&format!("{p}/{i}"), f)?;
        }
    }
    if let Some((p, reply)) = prop(path, record, "reply", false)? {
        let map = object(&p, reply)?;
        for key in ["root", "parent"] {
            if let Some((q, r)) = prop(&p, map, key, true)? {
                strong_ref(&q, r)?;
            }
        }
    }
    if let Some((p, e)) = prop(path, record, "embed", false)? {
        embed(&p, e, found)?;
    }
    if let Some((p, langs)) = prop(path, record, "langs", false)? {
        for (i, lang) in array(&p, langs, Some(3))?.iter().enumerate() {
            let q = format!("{p}/{i}");
            let s = string(&q, lang, None, None)?;
            format_check(&q, is_language(s), "a well-formed BCP 47 language tag")?;
        }
    }
    if let Some((p, labels)) = prop(path, record, "labels", false)? {
        union_type(&p, labels)?;
    }
    if let Some((p, tags)) = prop(path, record, "tags", false)? {
        for (i, tag) in array(&p, tags, Some(8))?.iter().enumerate() {
            string(&format!("{p}/{i}"), tag, Some(640), Some(64))?;
        }
    }
    if let Some((p, created)) = prop(path, record, "createdAt", true)? {
        let s = string(&p, created, None, None)?;
        format_check(
            &p,
            is_datetime(s),
            "an valid atproto datetime (both RFC-3339 and ISO-8601)",
        )?;
    }
    Ok(())
}

/// Checks the reference PDS does not make (the AppView drops such facets silently, and
/// replies to missing posts dangle); the fake refuses them so a client bug shows.
fn strict_post_checks(state: &BskyState, record: &Map<String, Value>) -> Check {
    let text = record.get("text").and_then(Value::as_str).unwrap_or("");
    if let Some(facets) = record.get("facets").and_then(Value::as_array) {
        for (i, facet) in facets.iter().enumerate() {
            let path = format!("Record/facets/{i}");
            let index = &facet["index"];
            let start = index["byteStart"].as_u64().unwrap_or(0);
            let end = index["byteEnd"].as_u64().unwrap_or(0);
            let len = text.len() as u64;
            if start >= end {
                return Err(format!(
                    "{path}/index/byteStart ({start}) must be less than byteEnd ({end}){FAKE_ONLY}"
                ));
            }
            if end > len {
                return Err(format!(
                    "{path}/index/byteEnd ({end}) must not be greater than the UTF-8 length of Record/text ({len}){FAKE_ONLY}"
                ));
            }
            let boundary = |at: u64| usize::try_from(at).is_ok_and(|at| text.is_char_boundary(at));
            if !boundary(start) || !boundary(end) {
                return Err(format!(
                    "{path}/index must start and end on UTF-8 character boundaries of Record/text{FAKE_ONLY}"
                ));
            }
            let features = facet["features"].as_array().map_or(&[][..], Vec::as_slice);
            if features.is_empty() {
                return Err(format!(
                    "{path}/features must not have fewer than 1 elements{FAKE_ONLY}"
                ));
            }
            for (j, feature) in features.iter().enumerate() {
                let kind = feature["$type"].as_str().unwrap_or("");
                if ![FACET_MENTION, FACET_LINK, FACET_TAG].contains(&kind) {
                    return Err(format!(
                        "{path}/features/{j} $type must be one of {FACET_MENTION}, {FACET_LINK}, {FACET_TAG}{FAKE_ONLY}"
                    ));
                }
                if kind == FACET_TAG {
                    let tag = feature["tag"].as_str().unwrap_or("");
                    if tag.starts_with('#')
                        || tag.starts_with('＃')
                        || tag.is_empty()
                        || tag.chars().any(char::is_whitespace)
                    {
                        return Err(format!(
                            "{path}/features/{j}/tag must be the tag without \"#\" and without whitespace{FAKE_ONLY}"
                        ));
                    }
                }
            }
        }
    }
    let embed = record.get("embed");
    let images = embed
        .filter(|e| e["$type"] == "app.bsky.embed.images")
        .and_then(|e| e["images"].as_array());
    if images.is_some_and(Vec::is_empty) {
        return Err(format!(
            "Record/embed/images must not have fewer than 1 elements{FAKE_ONLY}"
        ));
    }
    if let Some(reply) = record.get("reply") {
        for key in ["root", "parent"] {
            let uri = reply[key]["uri"].as_str().unwrap_or("");
            let cid = reply[key]["cid"].as_str().unwrap_or("");
            let Some(rest) = uri.strip_prefix("at://") else {
                continue;
            };
            let mut parts = rest.splitn(3, '/');
            let (authority, collection, rkey) = (
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
                parts.next().unwrap_or(""),
            );
            let Some(did) = resolve_repo(state, authority) else {
                // Another PDS's post: not the fake's to check.
                continue;
            };
            match state.repo.live(&did, collection, rkey) {
                Some(found) if found.cid == cid => {}
                Some(_) => {
                    return Err(format!(
                        "Record/reply/{key}/cid does not match the record at {uri}{FAKE_ONLY}"
                    ));
                }
                None => {
                    return Err(format!(
                        "Record/reply/{key} refers to a record that does not exist: {uri}{FAKE_ONLY}"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Size and type constraints by blob path (`CONSTRAINTS` in repo/prepare.ts).
fn constraint(path: &str) -> Option<(u64, &'static str)> {
    match path {
        "embed/images/image" | "embed/media/images/image" => Some((IMAGE_MAX_SIZE, "image/*")),
        "embed/external/thumb" | "embed/media/external/thumb" => Some((THUMB_MAX_SIZE, "image/*")),
        "embed/video" | "embed/media/video" => Some((VIDEO_MAX_SIZE, "video/mp4")),
        _ => None,
    }
}

fn accepts(accept: &str, mime: &str) -> bool {
    match accept.strip_suffix("/*") {
        Some(kind) => mime.starts_with(&format!("{kind}/")),
        None => mime == accept,
    }
}

/// `verifyBlobAndMakePermanent`: the blob must be in this DID's store, within the size the
/// lexicon allows at its path, and of the type it claims and the lexicon accepts.
fn verify_blobs(
    state: &BskyState,
    did: &str,
    found: &[FoundBlob],
    constrained: bool,
) -> Result<(), XrpcError> {
    for blob in found {
        let Some(stored) = state
            .repo
            .blobs
            .iter()
            .find(|b| b.did == did && b.cid == blob.cid)
        else {
            return Err(XrpcError::new(
                StatusCode::BAD_REQUEST,
                "BlobNotFound",
                format!("Could not find blob: {}", blob.cid),
            ));
        };
        let limits = constraint(&blob.path).filter(|_| constrained);
        let size = stored.bytes.len() as u64;
        if let Some((max, _)) = limits
            && size > max
        {
            return Err(XrpcError::new(
                StatusCode::BAD_REQUEST,
                "BlobTooLarge",
                format!(
                    "This file is too large. It is {} but the maximum size is {}.",
                    media::format_bytes(size),
                    media::format_bytes(max)
                ),
            ));
        }
        if blob.mime != stored.mime {
            return Err(XrpcError::new(
                StatusCode::BAD_REQUEST,
                "InvalidMimeType",
                format!(
                    "Referenced Mimetype does not match stored blob. Expected: {}, Got: {}",
                    stored.mime, blob.mime
                ),
            ));
        }
        if let Some((_, accept)) = limits
            && !accepts(accept, &blob.mime)
        {
            return Err(XrpcError::new(
                StatusCode::BAD_REQUEST,
                "InvalidMimeType",
                format!(
                    "Wrong type of file. It is {} but it must match {accept}.",
                    blob.mime
                ),
            ));
        }
    }
    Ok(())
}

/// Every blob ref anywhere in a value that was not validated against a lexicon.
fn collect_blobs(v: &Value, path: &mut Vec<String>, found: &mut Vec<FoundBlob>) {
    match v {
        Value::Array(items) => {
            for item in items {
                collect_blobs(item, path, found);
            }
        }
        Value::Object(map) => {
            if map.get("$type").and_then(Value::as_str) == Some("blob") {
                let cid = map["ref"]["$link"].as_str().unwrap_or("").to_owned();
                let mime = map["mimeType"].as_str().unwrap_or("").to_owned();
                found.push(FoundBlob {
                    path: path.join("/"),
                    cid,
                    mime,
                });
                return;
            }
            for (key, item) in map {
                path.push(key.clone());
                collect_blobs(item, path, found);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Legacy `{cid, mimeType}` blob refs are refused (`assertNoLegacyBlobRefs`).
fn legacy_blob_path(v: &Value, path: &mut Vec<String>) -> Option<String> {
    match v {
        Value::Array(items) => items.iter().find_map(|i| legacy_blob_path(i, path)),
        Value::Object(map) => {
            let legacy = map.len() == 2
                && map.get("cid").is_some_and(Value::is_string)
                && map.get("mimeType").is_some_and(Value::is_string);
            if legacy {
                return Some(path.join("/"));
            }
            for (key, item) in map {
                path.push(key.clone());
                let hit = legacy_blob_path(item, path);
                path.pop();
                if hit.is_some() {
                    return hit;
                }
            }
            None
        }
        _ => None,
    }
}

/// `com.atproto.repo.createRecord`.
pub(crate) fn create_record(shared: &Shared, req: &Xrpc) -> XrpcResult {
    let mut state = lock(&shared.state);
    let did = authenticate_access(&state, req)?;
    let input = req.json_input()?;

    // Input schema (xrpc-server validates it before the handler runs).
    let field = |name: &str| input.get(name);
    let repo = match field("repo") {
        None => {
            return Err(XrpcError::invalid_request(
                "Input must have the property \"repo\"",
            ));
        }
        Some(Value::String(s)) if is_did(s) || is_handle(s) => s.clone(),
        Some(Value::String(_)) => {
            return Err(XrpcError::invalid_request(
                "Input/repo must be a valid did or a handle",
            ));
        }
        Some(_) => return Err(XrpcError::invalid_request("Input/repo must be a string")),
    };
    let collection = match field("collection") {
        None => {
            return Err(XrpcError::invalid_request(
                "Input must have the property \"collection\"",
            ));
        }
        Some(Value::String(s)) if is_nsid(s) => s.clone(),
        Some(Value::String(_)) => {
            return Err(XrpcError::invalid_request(
                "Input/collection must be a valid nsid",
            ));
        }
        Some(_) => {
            return Err(XrpcError::invalid_request(
                "Input/collection must be a string",
            ));
        }
    };
    let rkey = match field("rkey") {
        None => None,
        Some(Value::String(s)) if s.len() <= 512 && is_record_key(s) => Some(s.clone()),
        Some(Value::String(s)) if s.len() > 512 => {
            return Err(XrpcError::invalid_request(
                "Input/rkey must not be longer than 512 characters",
            ));
        }
        Some(Value::String(_)) => {
            return Err(XrpcError::invalid_request(
                "Input/rkey must be a valid Record Key",
            ));
        }
        Some(_) => return Err(XrpcError::invalid_request("Input/rkey must be a string")),
    };
    let validate = match field("validate") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            return Err(XrpcError::invalid_request(
                "Input/validate must be a boolean",
            ));
        }
    };
    let mut record = match field("record") {
        None => {
            return Err(XrpcError::invalid_request(
                "Input must have the property \"record\"",
            ));
        }
        Some(Value::Object(map)) => map.clone(),
        Some(_) => return Err(XrpcError::invalid_request("Input/record must be an object")),
    };

    // findAccount, then the repo must be the caller's.
    let Some(repo_did) = resolve_repo(&state, &repo) else {
        return Err(XrpcError::invalid_request(format!(
            "Could not find repo: {repo}"
        )));
    };
    if repo_did != did {
        return Err(auth_required());
    }

    // prepareCreate.
    let maybe_validate = validate != Some(false);
    let has_type = record
        .get("$type")
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty());
    if !has_type {
        record.insert("$type".into(), Value::String(collection.clone()));
    }
    let record_type = record["$type"].as_str().unwrap_or("").to_owned();
    if maybe_validate && record_type != collection {
        return Err(XrpcError::invalid_request(format!(
            "Invalid $type: expected {collection}, got {record_type}"
        )));
    }
    let record_value = Value::Object(record.clone());
    if let Some(path) = legacy_blob_path(&record_value, &mut Vec::new()) {
        return Err(XrpcError::invalid_request(format!(
            "Legacy blob ref at '{path}'"
        )));
    }
    let mut found = Vec::new();
    let validation_status = if !maybe_validate {
        collect_blobs(&record_value, &mut Vec::new(), &mut found);
        None
    } else if record_type == POST {
        let invalid = |message: String| {
            XrpcError::invalid_request(format!("Invalid {POST} record: {message}"))
        };
        validate_post(&record, &mut found).map_err(invalid)?;
        strict_post_checks(&state, &record).map_err(invalid)?;
        Some("valid")
    } else if validate == Some(true) {
        return Err(XrpcError::invalid_request(format!(
            "Lexicon not found: lex:{record_type}"
        )));
    } else {
        collect_blobs(&record_value, &mut Vec::new(), &mut found);
        Some("unknown")
    };
    let rkey = rkey.unwrap_or_else(media::next_tid);

    // processWrites: blobs, then the MST insert, which fails on an existing key.
    verify_blobs(&state, &did, &found, validation_status == Some("valid"))?;
    if state.repo.live(&did, &collection, &rkey).is_some() {
        // The reference PDS surfaces the MST's "There is already a value at key" as a plain
        // error, which xrpc-server answers with 500.
        return Err(internal_error());
    }

    let uri = format!("at://{did}/{collection}/{rkey}");
    let stored = serde_json::to_vec(&record_value).unwrap_or_default();
    let cid = media::record_cid(&stored);
    let commit = state.repo.commit(&did);
    state.repo.records.push(ReceivedRecord {
        did,
        collection,
        rkey,
        uri: uri.clone(),
        cid: cid.clone(),
        value: record_value,
        raw_body: req.body.to_vec(),
        deleted: false,
    });
    let mut body = json!({ "uri": uri, "cid": cid, "commit": commit });
    if let Some(status) = validation_status {
        body["validationStatus"] = json!(status);
    }
    json_ok(&body)
}

fn record_view(record: &ReceivedRecord) -> Value {
    json!({ "uri": record.uri, "cid": record.cid, "value": record.value })
}

/// `com.atproto.repo.getRecord?repo&collection&rkey&cid?` (no auth needed).
pub(crate) fn get_record(shared: &Shared, req: &Xrpc) -> XrpcResult {
    let repo = req.param("repo")?;
    let collection = req.param("collection")?;
    let rkey = req.param("rkey")?;
    let state = lock(&shared.state);
    let did = resolve_repo(&state, repo);
    let uri = format!(
        "at://{}/{collection}/{rkey}",
        did.as_deref().unwrap_or(repo)
    );
    let found = did
        .as_deref()
        .and_then(|did| state.repo.live(did, collection, rkey))
        .filter(|r| req.query.get("cid").is_none_or(|cid| *cid == r.cid));
    match found {
        Some(record) => json_ok(&record_view(record)),
        None => Err(XrpcError::new(
            StatusCode::BAD_REQUEST,
            "RecordNotFound",
            format!("Could not locate record: {uri}"),
        )),
    }
}

/// `com.atproto.repo.listRecords?repo&collection&limit&cursor&reverse`: newest first by
/// record key; the cursor is the last record key of the page.
pub(crate) fn list_records(shared: &Shared, req: &Xrpc) -> XrpcResult {
    let repo = req.param("repo")?;
    let collection = req.param("collection")?;
    let limit = match req.query.get("limit") {
        None => 50,
        Some(raw) => {
            let n: i64 = raw.trim().parse().unwrap_or(0);
            if n > 100 {
                return Err(XrpcError::invalid_request(
                    "Params/limit can not be greater than 100",
                ));
            }
            if n < 1 {
                return Err(XrpcError::invalid_request(
                    "Params/limit can not be less than 1",
                ));
            }
            usize::try_from(n).unwrap_or(50)
        }
    };
    let reverse = req.query.get("reverse").is_some_and(|r| r == "true");
    let cursor = req.query.get("cursor").filter(|c| !c.is_empty());
    let state = lock(&shared.state);
    let Some(did) = resolve_repo(&state, repo) else {
        return Err(XrpcError::invalid_request(format!(
            "Could not find repo: {repo}"
        )));
    };
    let mut records: Vec<&ReceivedRecord> = state
        .repo
        .records
        .iter()
        .filter(|r| !r.deleted && r.did == did && r.collection == collection)
        .filter(|r| match cursor {
            None => true,
            Some(c) if reverse => r.rkey.as_str() > c.as_str(),
            Some(c) => r.rkey.as_str() < c.as_str(),
        })
        .collect();
    records.sort_by(|a, b| a.rkey.cmp(&b.rkey));
    if !reverse {
        records.reverse();
    }
    records.truncate(limit);
    let mut body = json!({ "records": records.iter().map(|r| record_view(r)).collect::<Vec<_>>() });
    if let Some(last) = records.last() {
        body["cursor"] = json!(last.rkey);
    }
    json_ok(&body)
}

/// `com.atproto.repo.deleteRecord {repo, collection, rkey}`. Deleting a record that does not
/// exist succeeds without a commit.
pub(crate) fn delete_record(shared: &Shared, req: &Xrpc) -> XrpcResult {
    let mut state = lock(&shared.state);
    let did = authenticate_access(&state, req)?;
    let input = req.json_input()?;
    let text_field = |name: &str| -> Result<String, XrpcError> {
        match input.get(name) {
            None => Err(XrpcError::invalid_request(format!(
                "Input must have the property \"{name}\""
            ))),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(XrpcError::invalid_request(format!(
                "Input/{name} must be a string"
            ))),
        }
    };
    let repo = text_field("repo")?;
    let collection = text_field("collection")?;
    let rkey = text_field("rkey")?;
    let Some(repo_did) = resolve_repo(&state, &repo) else {
        return Err(XrpcError::invalid_request(format!(
            "Could not find repo: {repo}"
        )));
    };
    if repo_did != did {
        return Err(auth_required());
    }
    let exists = state.repo.live(&did, &collection, &rkey).is_some();
    if !exists {
        return json_ok(&json!({}));
    }
    for record in &mut state.repo.records {
        if !record.deleted
            && record.did == did
            && record.collection == collection
            && record.rkey == rkey
        {
            record.deleted = true;
        }
    }
    let commit = state.repo.commit(&did);
    json_ok(&json!({ "commit": commit }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert!(is_datetime("2026-11-27T10:00:00Z"));
        assert!(is_datetime("2026-11-27T10:00:00.123456+01:00"));
        assert!(!is_datetime("2026-11-27T10:00:00"));
        assert!(!is_datetime("2026-11-27 10:00:00Z"));
        assert!(!is_datetime("2026-11-27T10:00:00-00:00"));
        assert!(!is_datetime("2026-02-30T10:00:00Z"));
        assert!(is_record_key("3jzfcijpj2z2a"));
        assert!(is_record_key("self"));
        assert!(!is_record_key(".."));
        assert!(!is_record_key("a/b"));
        assert!(is_did("did:plc:abc234"));
        assert!(!is_did("ada.bsky.test"));
        assert!(is_uri("https://example.com/x"));
        assert!(!is_uri("example.com"));
        assert!(is_at_uri(
            "at://did:plc:abc/app.bsky.feed.post/3jzfcijpj2z2a"
        ));
        assert!(is_language("en") && is_language("pt-BR") && !is_language("english"));
        assert!(is_nsid("app.bsky.feed.post") && !is_nsid("post"));
    }

    #[test]
    fn post_lexicon_messages() {
        let check = |v: Value| validate_post(v.as_object().unwrap(), &mut Vec::new());
        assert_eq!(
            check(json!({"text": "hi"})),
            Err("Record must have the property \"createdAt\"".into())
        );
        assert_eq!(
            check(json!({"text": "é".repeat(301), "createdAt": "2026-01-01T00:00:00Z"})),
            Err("Record/text must not be longer than 300 graphemes".into())
        );
        assert_eq!(
            check(json!({"text": "x".repeat(3001), "createdAt": "2026-01-01T00:00:00Z"})),
            Err("Record/text must not be longer than 3000 characters".into())
        );
        assert_eq!(
            check(json!({"text": "", "createdAt": "yesterday"})),
            Err(
                "Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)"
                    .into()
            )
        );
        assert_eq!(
            check(
                json!({"text": "", "createdAt": "2026-01-01T00:00:00Z", "embed": {"$type": "app.bsky.embed.images", "images": [{"image": {"$type": "blob"}}]}})
            ),
            Err("Record/embed/images/0/image should be a blob ref".into())
        );
    }
}
