//! Publishing on the fake Bluesky PDS: blobs, records, lexicon validation, reads, injected
//! faults and the link-card pages.

use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use postwerk_fakes::FakeBluesky;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const HANDLE: &str = "ada.bsky.test";
const PASSWORD: &str = "abcd-efgh-ijkl-mnop";
const CREATED_AT: &str = "2026-11-27T10:00:00.000Z";

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

struct Session {
    did: String,
    token: String,
}

async fn login(http: &reqwest::Client, fake: &FakeBluesky, handle: &str) -> Session {
    let body: Value = http
        .post(
            fake.url()
                .join("xrpc/com.atproto.server.createSession")
                .unwrap(),
        )
        .json(&json!({"identifier": handle, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Session {
        did: body["did"].as_str().unwrap().to_owned(),
        token: body["accessJwt"].as_str().unwrap().to_owned(),
    }
}

async fn setup() -> (FakeBluesky, reqwest::Client, Session) {
    let fake = FakeBluesky::start().await;
    fake.add_account(HANDLE, "ada@example.test", PASSWORD, "Ada");
    let http = http();
    let session = login(&http, &fake, HANDLE).await;
    (fake, http, session)
}

fn xrpc_error(error: &str, message: &str) -> Value {
    json!({ "error": error, "message": message })
}

async fn create(
    http: &reqwest::Client,
    fake: &FakeBluesky,
    session: &Session,
    input: Value,
) -> (StatusCode, Value) {
    let res = http
        .post(
            fake.url()
                .join("xrpc/com.atproto.repo.createRecord")
                .unwrap(),
        )
        .bearer_auth(&session.token)
        .json(&input)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

fn post(session: &Session, record: Value) -> Value {
    json!({"repo": session.did, "collection": "app.bsky.feed.post", "record": record})
}

async fn upload(
    http: &reqwest::Client,
    fake: &FakeBluesky,
    session: &Session,
    bytes: Vec<u8>,
    mime: &str,
) -> (StatusCode, Value) {
    let res = http
        .post(fake.url().join("xrpc/com.atproto.repo.uploadBlob").unwrap())
        .bearer_auth(&session.token)
        .header("content-type", mime)
        .body(bytes)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

fn png(len: usize) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR\0\0\0\x10\0\0\0\x10\x08\x02\0\0\0".to_vec();
    bytes.resize(len.max(bytes.len()), 0);
    bytes
}

fn images_embed(blob: &Value) -> Value {
    json!({
        "$type": "app.bsky.embed.images",
        "images": [{"image": blob, "alt": "", "aspectRatio": {"width": 16, "height": 16}}]
    })
}

#[tokio::test]
async fn a_post_with_facets_and_an_image_is_stored_as_sent() {
    let (fake, http, ada) = setup().await;
    let (status, uploaded) = upload(&http, &fake, &ada, png(300), "image/png").await;
    assert_eq!(status, StatusCode::OK, "{uploaded}");
    let blob = &uploaded["blob"];
    assert_eq!(blob["$type"], "blob");
    assert_eq!(blob["mimeType"], "image/png");
    assert_eq!(blob["size"], 300);
    let cid = blob["ref"]["$link"].as_str().unwrap();
    assert!(cid.starts_with("bafkrei"), "{cid}");
    let blobs = fake.blobs();
    assert_eq!(blobs.len(), 1);
    assert_eq!(blobs[0].bytes, png(300));
    assert_eq!(
        (blobs[0].did.as_str(), blobs[0].cid.as_str()),
        (ada.did.as_str(), cid)
    );

    let text = "✨ Go to this site #atproto";
    let input = post(
        &ada,
        json!({
            "$type": "app.bsky.feed.post",
            "text": text,
            "createdAt": CREATED_AT,
            "langs": ["en"],
            "facets": [
                {"index": {"byteStart": 10, "byteEnd": 19}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/"}]},
                {"index": {"byteStart": 20, "byteEnd": 28}, "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "atproto"}]}
            ],
            "embed": images_embed(blob),
        }),
    );
    let (status, created) = create(&http, &fake, &ada, input.clone()).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let uri = created["uri"].as_str().unwrap();
    let rkey = uri.rsplit('/').next().unwrap();
    assert_eq!(uri, format!("at://{}/app.bsky.feed.post/{rkey}", ada.did));
    assert_eq!(rkey.len(), 13);
    assert_eq!(created["validationStatus"], "valid");
    assert!(created["commit"]["rev"].is_string());

    let records = fake.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].value, input["record"]);
    assert_eq!(records[0].raw_body, serde_json::to_vec(&input).unwrap());

    let got: Value = http
        .get(fake.url().join(&format!(
            "xrpc/com.atproto.repo.getRecord?repo={}&collection=app.bsky.feed.post&rkey={rkey}",
            ada.did
        )).unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["uri"], uri);
    assert_eq!(got["cid"], created["cid"]);
    assert_eq!(got["value"]["text"], text);

    let listed: Value = http
        .get(fake.url().join("_fake/blobs").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        STANDARD
            .decode(listed[0]["bytes"].as_str().unwrap())
            .unwrap(),
        png(300)
    );
}

#[tokio::test]
async fn create_record_without_created_at_is_rejected() {
    let (fake, http, ada) = setup().await;
    let (status, body) = create(&http, &fake, &ada, post(&ada, json!({"text": "hi"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        xrpc_error(
            "InvalidRequest",
            "Invalid app.bsky.feed.post record: Record must have the property \"createdAt\""
        )
    );
    let (status, body) = create(
        &http,
        &fake,
        &ada,
        post(&ada, json!({"text": "hi", "createdAt": "2026-11-27 10:00"})),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["message"],
        "Invalid app.bsky.feed.post record: Record/createdAt must be an valid atproto datetime (both RFC-3339 and ISO-8601)"
    );
    let (_, body) = create(
        &http,
        &fake,
        &ada,
        post(
            &ada,
            json!({"text": "é".repeat(301), "createdAt": CREATED_AT}),
        ),
    )
    .await;
    assert_eq!(
        body["message"],
        "Invalid app.bsky.feed.post record: Record/text must not be longer than 300 graphemes"
    );
    let (_, body) = create(
        &http,
        &fake,
        &ada,
        post(
            &ada,
            json!({"$type": "app.bsky.feed.like", "text": "x", "createdAt": CREATED_AT}),
        ),
    )
    .await;
    assert_eq!(
        body["message"],
        "Invalid $type: expected app.bsky.feed.post, got app.bsky.feed.like"
    );
    assert!(fake.records().is_empty());
}

#[tokio::test]
async fn facets_out_of_range_are_rejected() {
    let (fake, http, ada) = setup().await;
    let facet = |start: u64, end: u64| {
        post(
            &ada,
            json!({
                "text": "héllo",
                "createdAt": CREATED_AT,
                "facets": [{"index": {"byteStart": start, "byteEnd": end}, "features": [{"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com"}]}]
            }),
        )
    };
    // "héllo" is 6 bytes.
    let (status, body) = create(&http, &fake, &ada, facet(0, 7)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"], "InvalidRequest");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Record/facets/0/index/byteEnd (7) must not be greater than the UTF-8 length of Record/text (6)"),
        "{body}"
    );
    // Inside the é.
    let (status, _) = create(&http, &fake, &ada, facet(2, 6)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = create(&http, &fake, &ada, facet(3, 3)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // A mention needs a DID, a tag comes without '#'.
    let (_, body) = create(
        &http,
        &fake,
        &ada,
        post(
            &ada,
            json!({"text": "@ada", "createdAt": CREATED_AT, "facets": [{"index": {"byteStart": 0, "byteEnd": 4}, "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "ada.bsky.test"}]}]}),
        ),
    )
    .await;
    assert_eq!(
        body["message"],
        "Invalid app.bsky.feed.post record: Record/facets/0/features/0/did must be a valid did"
    );
    let (status, _) = create(
        &http,
        &fake,
        &ada,
        post(
            &ada,
            json!({"text": "#tag", "createdAt": CREATED_AT, "facets": [{"index": {"byteStart": 0, "byteEnd": 4}, "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "#tag"}]}]}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(fake.records().is_empty());
    let (status, _) = create(&http, &fake, &ada, facet(1, 6)).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn duplicate_rkey_is_rejected_and_nothing_is_created() {
    let (fake, http, ada) = setup().await;
    let mut input = post(&ada, json!({"text": "first", "createdAt": CREATED_AT}));
    input["rkey"] = json!("3lbxyzabcde2a");
    let (status, created) = create(&http, &fake, &ada, input.clone()).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert!(created["uri"].as_str().unwrap().ends_with("/3lbxyzabcde2a"));

    input["record"]["text"] = json!("second");
    let (status, body) = create(&http, &fake, &ada, input.clone()).await;
    // The reference PDS fails in its MST insert and answers 500.
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        body,
        xrpc_error("InternalServerError", "Internal Server Error")
    );
    let records = fake.records();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].value["text"], "first");

    input["rkey"] = json!("a/b");
    let (status, body) = create(&http, &fake, &ada, input).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            xrpc_error("InvalidRequest", "Input/rkey must be a valid Record Key")
        )
    );

    // Deleting frees the key; listRecords shows newest first.
    let res = http
        .post(
            fake.url()
                .join("xrpc/com.atproto.repo.deleteRecord")
                .unwrap(),
        )
        .bearer_auth(&ada.token)
        .json(
            &json!({"repo": ada.did, "collection": "app.bsky.feed.post", "rkey": "3lbxyzabcde2a"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = http
        .get(fake.url().join(&format!(
            "xrpc/com.atproto.repo.getRecord?repo={HANDLE}&collection=app.bsky.feed.post&rkey=3lbxyzabcde2a"
        )).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        xrpc_error(
            "RecordNotFound",
            &format!(
                "Could not locate record: at://{}/app.bsky.feed.post/3lbxyzabcde2a",
                ada.did
            )
        )
    );
    for text in ["a", "b", "c"] {
        create(
            &http,
            &fake,
            &ada,
            post(&ada, json!({"text": text, "createdAt": CREATED_AT})),
        )
        .await;
    }
    let list = |query: String| {
        let http = http.clone();
        let url = fake
            .url()
            .join(&format!("xrpc/com.atproto.repo.listRecords?{query}"))
            .unwrap();
        async move {
            http.get(url)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let page = list(format!(
        "repo={}&collection=app.bsky.feed.post&limit=2",
        ada.did
    ))
    .await;
    let texts: Vec<&str> = page["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["value"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["c", "b"]);
    let cursor = page["cursor"].as_str().unwrap();
    let page = list(format!(
        "repo={}&collection=app.bsky.feed.post&limit=2&cursor={cursor}",
        ada.did
    ))
    .await;
    assert_eq!(page["records"][0]["value"]["text"], "a");
    assert_eq!(page["records"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn blobs_of_another_account_and_oversized_blobs_are_rejected() {
    let (fake, http, ada) = setup().await;
    fake.add_account("bob.bsky.test", "bob@example.test", PASSWORD, "Bob");
    let bob = login(&http, &fake, "bob.bsky.test").await;
    let (_, uploaded) = upload(&http, &fake, &bob, png(100), "image/png").await;
    let blob = uploaded["blob"].clone();
    let record = json!({"text": "", "createdAt": CREATED_AT, "embed": images_embed(&blob)});
    let (status, body) = create(&http, &fake, &ada, post(&ada, record.clone())).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            xrpc_error(
                "BlobNotFound",
                &format!(
                    "Could not find blob: {}",
                    blob["ref"]["$link"].as_str().unwrap()
                )
            )
        )
    );
    assert!(fake.records().is_empty());
    // Bob may use it.
    let (status, _) = create(&http, &fake, &bob, post(&bob, record)).await;
    assert_eq!(status, StatusCode::OK);

    // Writing to someone else's repo is refused.
    let (status, body) = create(
        &http,
        &fake,
        &ada,
        post(&bob, json!({"text": "x", "createdAt": CREATED_AT})),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "AuthenticationRequired");

    // Images are at most 2,000,000 bytes.
    let (_, uploaded) = upload(&http, &fake, &ada, png(2_000_001), "image/png").await;
    let (status, body) = create(
        &http,
        &fake,
        &ada,
        post(
            &ada,
            json!({"text": "", "createdAt": CREATED_AT, "embed": images_embed(&uploaded["blob"])}),
        ),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::BAD_REQUEST,
            xrpc_error(
                "BlobTooLarge",
                "This file is too large. It is 1.91MB but the maximum size is 1.91MB."
            )
        )
    );

    // The mime type is sniffed; a record claiming another one is refused.
    let (_, uploaded) = upload(&http, &fake, &ada, png(50), "image/jpeg").await;
    assert_eq!(uploaded["blob"]["mimeType"], "image/png");
    let mut claimed = uploaded["blob"].clone();
    claimed["mimeType"] = json!("image/jpeg");
    let (_, body) = create(
        &http,
        &fake,
        &ada,
        post(
            &ada,
            json!({"text": "", "createdAt": CREATED_AT, "embed": images_embed(&claimed)}),
        ),
    )
    .await;
    assert_eq!(body["error"], "InvalidMimeType");

    // uploadBlob needs a Content-Type and a body.
    let res = http
        .post(fake.url().join("xrpc/com.atproto.repo.uploadBlob").unwrap())
        .bearer_auth(&ada.token)
        .body(Vec::new())
        .header("content-type", "image/png")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "InvalidRequest"
    );
    let res = http
        .post(fake.url().join("xrpc/com.atproto.repo.uploadBlob").unwrap())
        .bearer_auth(&ada.token)
        .body(png(10))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        xrpc_error(
            "InvalidRequest",
            "Request encoding (Content-Type) required but not provided"
        )
    );
}

#[tokio::test]
async fn blobs_over_50_mb_are_refused_before_the_body_is_read() {
    let (fake, _http, ada) = setup().await;
    let mut stream = tokio::net::TcpStream::connect(fake.url().socket_addrs(|| None).unwrap()[0])
        .await
        .unwrap();
    let request = format!(
        "POST /xrpc/com.atproto.repo.uploadBlob HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\nContent-Type: image/png\r\nContent-Length: 52428801\r\n\r\n",
        ada.token
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = vec![0_u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut response))
        .await
        .unwrap()
        .unwrap();
    let response = String::from_utf8_lossy(&response[..n]);
    assert!(response.starts_with("HTTP/1.1 413"), "{response}");
    assert!(
        response.contains(r#"{"error":"PayloadTooLarge","message":"request entity too large"}"#)
    );
}

#[tokio::test]
async fn drop_after_next_creates_the_record_but_the_client_sees_a_connection_error() {
    let (fake, http, ada) = setup().await;
    let res = http
        .post(fake.url().join("_fake/drop-after-next").unwrap())
        .json(&json!({"path": "/xrpc/com.atproto.repo.createRecord"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let mut input = post(&ada, json!({"text": "killed", "createdAt": CREATED_AT}));
    input["rkey"] = json!("3lbkilledpub2");
    let result = http
        .post(
            fake.url()
                .join("xrpc/com.atproto.repo.createRecord")
                .unwrap(),
        )
        .bearer_auth(&ada.token)
        .json(&input)
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    let err = result.expect_err("no response");
    assert!(
        err.is_request() && err.status().is_none() && !err.is_timeout(),
        "{err:?}"
    );
    assert_eq!(fake.records().len(), 1, "the record exists");

    // Reconciling: the record is there under the chosen rkey.
    let res = http
        .get(fake.url().join(&format!(
            "xrpc/com.atproto.repo.getRecord?repo={}&collection=app.bsky.feed.post&rkey=3lbkilledpub2",
            ada.did
        )).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // fail-next: answered without processing.
    fake.fail_next_retry_after("/xrpc/com.atproto.repo.createRecord", 503, 1, 30);
    let res = http
        .post(
            fake.url()
                .join("xrpc/com.atproto.repo.createRecord")
                .unwrap(),
        )
        .bearer_auth(&ada.token)
        .json(&post(&ada, json!({"text": "x", "createdAt": CREATED_AT})))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(res.headers()["retry-after"], "30");
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        xrpc_error("NotEnoughResources", "Not Enough Resources")
    );
    assert_eq!(fake.records().len(), 1);
}

#[tokio::test]
async fn link_card_pages() {
    let (fake, http, _) = setup().await;
    let html = http
        .get(fake.url().join("_page/article").unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let image = format!("{}_page/og.jpg", fake.url());
    assert!(html.contains(&format!("<meta property=\"og:image\" content=\"{image}\">")));
    assert!(html.contains("<meta property=\"og:title\" content=\"Notes on the Analytical Engine &amp; its &quot;Note G&quot;\">"));
    assert!(html.contains("og:description"));
    let res = http.get(image).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(
        &res.bytes().await.unwrap()[..],
        postwerk_fakes::OG_IMAGE_JPEG
    );

    // The huge page keeps coming; a client reads a bounded amount and stops.
    let started = Instant::now();
    let mut res = http
        .get(
            fake.url()
                .join("_page/huge?chunk=65536&delayMs=10")
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert!(res.content_length().is_none());
    let mut read = 0;
    while let Some(chunk) = res.chunk().await.unwrap() {
        read += chunk.len();
        if read > 1_000_000 {
            break;
        }
    }
    drop(res);
    assert!(read > 1_000_000);
    assert!(started.elapsed() < Duration::from_secs(10));
}
