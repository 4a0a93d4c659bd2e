//! Publishing on the fake Mastodon: statuses, idempotency, media processing, scheduling and
//! injected faults.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use postwerk_fakes::FakeMastodon;
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const REDIRECT: &str = "http://127.0.0.1:8765/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk";
const SCOPES: &str = "read write:statuses write:media";

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Registers an app and walks the authorization flow; returns a user token with `scopes`.
async fn user_token(http: &reqwest::Client, fake: &FakeMastodon, scopes: &str) -> String {
    let app: Value = http
        .post(fake.url().join("api/v1/apps").unwrap())
        .json(&json!({"client_name": "Postwerk", "redirect_uris": REDIRECT, "scopes": scopes}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (client_id, secret) = (
        app["client_id"].as_str().unwrap(),
        app["client_secret"].as_str().unwrap(),
    );
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(VERIFIER.as_bytes()));
    let mut url = fake.url().join("oauth/authorize").unwrap();
    url.query_pairs_mut().extend_pairs([
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("scope", scopes),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ]);
    let html = http.get(url).send().await.unwrap().text().await.unwrap();
    let mut form: Vec<(String, String)> = html
        .lines()
        .filter_map(|l| l.strip_prefix("<input type=\"hidden\" name=\""))
        .map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"").unwrap();
            (
                name.to_owned(),
                rest.strip_suffix("\">").unwrap().to_owned(),
            )
        })
        .collect();
    form.push(("decision".into(), "approve".into()));
    let res = http
        .post(fake.url().join("oauth/authorize").unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(res.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let token: Value = http
        .post(fake.url().join("oauth/token").unwrap())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", client_id),
            ("client_secret", secret),
            ("redirect_uri", REDIRECT),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().unwrap().to_owned()
}

async fn setup() -> (FakeMastodon, reqwest::Client, String) {
    let fake = FakeMastodon::start().await;
    let http = http();
    let token = user_token(&http, &fake, SCOPES).await;
    (fake, http, token)
}

async fn post_status(
    http: &reqwest::Client,
    fake: &FakeMastodon,
    token: &str,
    key: Option<&str>,
    body: &Value,
) -> (StatusCode, Value) {
    let mut req = http
        .post(fake.url().join("api/v1/statuses").unwrap())
        .bearer_auth(token)
        .json(body);
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    let res = req.send().await.unwrap();
    (res.status(), res.json().await.unwrap())
}

fn png() -> Vec<u8> {
    // The avatar the fake serves is a real 16x16 PNG.
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    // IHDR: 16x16, 8-bit RGB.
    bytes.extend_from_slice(&[0, 0, 0, 13]);
    bytes.extend_from_slice(b"IHDR");
    bytes.extend_from_slice(&[0, 0, 0, 16, 0, 0, 0, 16, 8, 2, 0, 0, 0]);
    bytes.extend_from_slice(&[0x90, 0x91, 0x68, 0x36]);
    bytes
}

async fn upload(
    http: &reqwest::Client,
    fake: &FakeMastodon,
    token: &str,
    bytes: Vec<u8>,
    mime: &str,
    description: Option<&str>,
) -> (StatusCode, Value) {
    let mut form = Form::new().part(
        "file",
        Part::bytes(bytes)
            .file_name("picture.png")
            .mime_str(mime)
            .unwrap(),
    );
    if let Some(description) = description {
        form = form.text("description", description.to_owned());
    }
    let res = http
        .post(fake.url().join("api/v2/media").unwrap())
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn idempotency_replay_returns_the_same_status_and_creates_one() {
    let (fake, http, token) = setup().await;
    let body = json!({"status": "Hello <world> https://example.com/a", "visibility": "unlisted", "language": "en"});
    let (status, first) = post_status(&http, &fake, &token, Some("key-1"), &body).await;
    assert_eq!(status, StatusCode::OK, "{first}");
    let id = first["id"].as_str().unwrap();
    assert_eq!(first["visibility"], "unlisted");
    assert_eq!(first["account"]["username"], "ada");
    assert_eq!(first["url"], format!("{}@ada/{id}", fake.url()));
    assert!(
        first["content"]
            .as_str()
            .unwrap()
            .starts_with("<p>Hello &lt;world&gt; <a href=\"https://example.com/a\"")
    );

    let (status, again) = post_status(&http, &fake, &token, Some("key-1"), &body).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again["id"], first["id"]);
    // Even with a different body: the key decides.
    let (_, other_body) = post_status(
        &http,
        &fake,
        &token,
        Some("key-1"),
        &json!({"status": "else"}),
    )
    .await;
    assert_eq!(other_body["id"], first["id"]);

    let statuses = fake.statuses();
    assert_eq!(statuses.len(), 1);
    assert_eq!(statuses[0].id, id);
    assert_eq!(statuses[0].idempotency_key.as_deref(), Some("key-1"));
    assert_eq!(statuses[0].raw_body, serde_json::to_vec(&body).unwrap());
    assert_eq!(statuses[0].application.as_deref(), Some("Postwerk"));

    // Another key creates another status; so does no key.
    let (_, second) = post_status(&http, &fake, &token, Some("key-2"), &body).await;
    assert_ne!(second["id"], first["id"]);
    post_status(&http, &fake, &token, None, &body).await;
    assert_eq!(fake.statuses().len(), 3);

    // The statuses family of rate limits shows on this endpoint.
    let res = http
        .post(fake.url().join("api/v1/statuses").unwrap())
        .bearer_auth(&token)
        .form(&[("status", "form encoded")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-ratelimit-limit"], "300");
    assert_eq!(res.headers()["x-ratelimit-remaining"], "296");
    let listed: Value = http
        .get(fake.url().join("_fake/statuses").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["idempotencyKey"], "key-1");
    assert_eq!(
        STANDARD
            .decode(listed[3]["rawBody"].as_str().unwrap())
            .unwrap(),
        b"status=form+encoded"
    );
}

#[tokio::test]
async fn too_long_status_is_refused_and_counted_like_mastodon() {
    let (fake, http, token) = setup().await;
    let (status, body) = post_status(
        &http,
        &fake,
        &token,
        None,
        &json!({"status": "x".repeat(501)}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body,
        json!({"error": "Validation failed: Text character limit of 500 exceeded"})
    );
    // The content warning counts too.
    let (status, _) = post_status(
        &http,
        &fake,
        &token,
        None,
        &json!({"status": "x".repeat(490), "spoiler_text": "y".repeat(11)}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(fake.statuses().is_empty());

    // 500 graphemes pass: a 300-character URL counts 23, a remote mention counts as @user,
    // an emoji family counts one.
    let url = format!("https://example.com/{}", "p".repeat(280));
    let text = format!(
        "{url} @ada@elsewhere.example 👨‍👩‍👧{}",
        "z".repeat(500 - 23 - 1 - 4 - 1 - 1)
    );
    let (status, body) = post_status(&http, &fake, &token, None, &json!({"status": text})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = post_status(
        &http,
        &fake,
        &token,
        None,
        &json!({"status": format!("{text}!")}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    fake.set_max_characters(5000);
    let (status, _) = post_status(
        &http,
        &fake,
        &token,
        None,
        &json!({"status": "x".repeat(501)}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    // Blank text without media, a missing reply target, an app without write:statuses.
    let (status, body) = post_status(&http, &fake, &token, None, &json!({"status": " "})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": "Validation failed: Text can't be blank"})
        )
    );
    let (status, body) = post_status(
        &http,
        &fake,
        &token,
        None,
        &json!({"status": "re", "in_reply_to_id": "1"}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::NOT_FOUND,
            json!({"error": "The post you are trying to reply to does not appear to exist."})
        )
    );
    let reader = user_token(&http, &fake, "read").await;
    let (status, _) = post_status(&http, &fake, &reader, None, &json!({"status": "no"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn media_answers_202_then_206_while_processing_then_200() {
    let (fake, http, token) = setup().await;
    fake.set_media_processing(2);
    let (status, media) = upload(&http, &fake, &token, png(), "image/png", Some("alt")).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{media}");
    assert_eq!(media["url"], Value::Null);
    assert_eq!(media["type"], "image");
    let id = media["id"].as_str().unwrap().to_owned();

    // Not ready yet: refused, nothing created.
    let (status, body) = post_status(
        &http,
        &fake,
        &token,
        None,
        &json!({"status": "pic", "media_ids": [id]}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": "Cannot attach files that have not finished processing. Try again in a moment!"})
        )
    );

    let url = fake.url().join(&format!("api/v1/media/{id}")).unwrap();
    let mut codes = Vec::new();
    for _ in 0..3 {
        let res = http
            .get(url.clone())
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        codes.push(res.status().as_u16());
        let body: Value = res.json().await.unwrap();
        if codes.last() == Some(&200) {
            assert_eq!(body["meta"]["original"]["width"], 16);
            assert!(body["url"].as_str().unwrap().ends_with("/original.png"));
        }
    }
    assert_eq!(codes, [206, 206, 200]);

    // Alt text can change before posting.
    let res = http
        .put(url.clone())
        .bearer_auth(&token)
        .json(&json!({"description": "A square"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    let (status, body) = post_status(&http, &fake, &token, None, &json!({"media_ids": [id]})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["media_attachments"][0]["id"], id.as_str());
    assert_eq!(body["media_attachments"][0]["description"], "A square");
    let media = fake.media();
    assert_eq!(media.len(), 1);
    assert_eq!(media[0].bytes, png());
    assert_eq!(media[0].mime, "image/png");
    assert_eq!(media[0].status_id.as_deref(), body["id"].as_str());

    // Attached media are no longer the user's to edit, and cannot be attached again.
    let res = http.get(url).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let (status, body) = post_status(
        &http,
        &fake,
        &token,
        None,
        &json!({"status": "again", "media_ids": [id]}),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"],
        format!("Media {id} not found or already attached to another post")
    );
}

#[tokio::test]
async fn media_uploads_are_validated() {
    let (fake, http, token) = setup().await;
    let invalid = json!({"error": "Validation failed: File content type is invalid"});
    // Declared type unsupported, or bytes that are not what the type says.
    assert_eq!(
        upload(&http, &fake, &token, b"hello".to_vec(), "text/plain", None).await,
        (StatusCode::UNPROCESSABLE_ENTITY, invalid.clone())
    );
    assert_eq!(
        upload(&http, &fake, &token, png(), "image/jpeg", None).await,
        (StatusCode::UNPROCESSABLE_ENTITY, invalid)
    );
    let (status, body) = upload(
        &http,
        &fake,
        &token,
        png(),
        "image/png",
        Some(&"d".repeat(1501)),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        body["error"],
        "Validation failed: Description is too long (maximum is 1500 characters)"
    );
    let mut big = png();
    big.resize(16 * 1024 * 1024 + 1, 0);
    assert_eq!(
        upload(&http, &fake, &token, big, "image/png", None).await,
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": "Validation failed: File file size must be less than 16 MB"})
        )
    );
    assert!(fake.media().is_empty());

    let (status, _) = upload(&http, &fake, &token, png(), "image/png", None).await;
    assert_eq!(status, StatusCode::OK);
    let res = http
        .get(fake.url().join("api/v1/media/12345").unwrap())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Record not found"})
    );

    // Five ids are too many, whatever they are.
    let (status, body) = post_status(
        &http,
        &fake,
        &token,
        None,
        &json!({"status": "x", "media_ids": ["1", "2", "3", "4", "5"]}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": "Cannot attach more than 4 files"})
        )
    );
    // Uploads need write:media (or write).
    let reader = user_token(&http, &fake, "read write:statuses").await;
    assert_eq!(
        upload(&http, &fake, &reader, png(), "image/png", None)
            .await
            .0,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn scheduling_and_the_server_side_scheduler() {
    let (fake, http, token) = setup().await;
    let soon = chrono::Utc::now() + chrono::Duration::minutes(2);
    let (status, body) = post_status(
        &http,
        &fake,
        &token,
        None,
        &json!({"status": "soon", "scheduled_at": soon.to_rfc3339()}),
    )
    .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({"error": "Validation failed: Scheduled at date must be in the future"})
        )
    );

    let at = chrono::Utc::now() + chrono::Duration::minutes(30);
    let (status, scheduled) = post_status(
        &http,
        &fake,
        &token,
        Some("sched-1"),
        &json!({"status": "later", "scheduled_at": at.to_rfc3339(), "visibility": "private"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{scheduled}");
    assert_eq!(scheduled["params"]["text"], "later");
    assert_eq!(scheduled["params"]["idempotency"], "sched-1");
    assert_eq!(scheduled["params"]["visibility"], "private");
    let id = scheduled["id"].as_str().unwrap();
    // The key replays the scheduled status.
    let (_, replay) = post_status(
        &http,
        &fake,
        &token,
        Some("sched-1"),
        &json!({"status": "x"}),
    )
    .await;
    assert_eq!(replay["id"], scheduled["id"]);
    assert!(fake.statuses().is_empty());

    let list: Value = http
        .get(fake.url().join("api/v1/scheduled_statuses").unwrap())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1);

    // Moving it too close is refused; moving it later works.
    let one = fake
        .url()
        .join(&format!("api/v1/scheduled_statuses/{id}"))
        .unwrap();
    let res = http
        .put(one.clone())
        .bearer_auth(&token)
        .json(&json!({"scheduled_at": soon.to_rfc3339()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let later = at + chrono::Duration::hours(1);
    let res = http
        .put(one.clone())
        .bearer_auth(&token)
        .json(&json!({"scheduled_at": later.to_rfc3339()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // The scheduler publishes only what is due.
    assert!(fake.publish_due_scheduled(at).is_empty());
    let published = fake.publish_due_scheduled(later);
    assert_eq!(published.len(), 1);
    let statuses = fake.statuses();
    assert_eq!(statuses[0].text, "later");
    assert_eq!(statuses[0].visibility, "private");
    assert_eq!(statuses[0].scheduled_status_id.as_deref(), Some(id));
    assert_eq!(
        fake.scheduled()[0].published_status_id.as_ref(),
        Some(&published[0])
    );
    let res = http.get(one).bearer_auth(&token).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Over HTTP too.
    let at = chrono::Utc::now() + chrono::Duration::minutes(10);
    post_status(
        &http,
        &fake,
        &token,
        None,
        &json!({"status": "via control", "scheduled_at": at.to_rfc3339()}),
    )
    .await;
    let res: Value = http
        .post(fake.url().join("_fake/publish-due").unwrap())
        .json(&json!({"now": (at + chrono::Duration::seconds(1)).to_rfc3339()}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(res["published"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn account_statuses_are_paginated_newest_first() {
    let (fake, http, token) = setup().await;
    for i in 0..5 {
        post_status(
            &http,
            &fake,
            &token,
            None,
            &json!({"status": format!("n{i}")}),
        )
        .await;
    }
    let ids: Vec<String> = fake.statuses().iter().map(|s| s.id.clone()).collect();
    let url = fake
        .url()
        .join(&format!(
            "api/v1/accounts/{}/statuses?limit=2",
            postwerk_fakes::ACCOUNT_ID
        ))
        .unwrap();
    let res = http.get(url).send().await.unwrap();
    let link = res.headers()["link"].to_str().unwrap().to_owned();
    let page: Value = res.json().await.unwrap();
    assert_eq!(page[0]["id"], ids[4].as_str());
    assert_eq!(page[1]["id"], ids[3].as_str());
    assert!(
        link.contains(&format!("max_id={}>; rel=\"next\"", ids[3])),
        "{link}"
    );
    assert!(
        link.contains(&format!("min_id={}>; rel=\"prev\"", ids[4])),
        "{link}"
    );
    let next = link.split('<').nth(1).unwrap().split('>').next().unwrap();
    let page: Value = http.get(next).send().await.unwrap().json().await.unwrap();
    assert_eq!(page[0]["id"], ids[2].as_str());

    let res = http
        .get(
            fake.url()
                .join(&format!("api/v1/statuses/{}", ids[0]))
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["content"], "<p>n0</p>");
}

#[tokio::test]
async fn drop_after_next_creates_the_status_but_the_client_sees_a_connection_error() {
    let (fake, http, token) = setup().await;
    fake.drop_after_next("/api/v1/statuses");
    let result = http
        .post(fake.url().join("api/v1/statuses").unwrap())
        .bearer_auth(&token)
        .header("Idempotency-Key", "crash-1")
        .json(&json!({"status": "did it go out?"}))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    let err = result.expect_err("the connection is closed without a response");
    // reqwest reports hyper's IncompleteMessage: a request error, not a status or timeout.
    assert!(
        err.is_request() && err.status().is_none() && !err.is_timeout(),
        "{err:?}"
    );
    let statuses = fake.statuses();
    assert_eq!(statuses.len(), 1, "the status was created");

    // The retry with the same key returns it instead of posting twice.
    let (status, body) = post_status(
        &http,
        &fake,
        &token,
        Some("crash-1"),
        &json!({"status": "did it go out?"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["id"], statuses[0].id.as_str());
    assert_eq!(fake.statuses().len(), 1);
    let posts: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.path == "/api/v1/statuses")
        .map(|r| r.status)
        .collect();
    assert_eq!(posts, [0, 200], "0 marks the dropped connection");
}

#[tokio::test]
async fn fail_next_answers_without_processing() {
    let (fake, http, token) = setup().await;
    let res = http
        .post(fake.url().join("_fake/fail-next").unwrap())
        .json(&json!({"path": "/api/v1/statuses", "status": 503, "count": 2, "retryAfter": 7}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    for _ in 0..2 {
        let res = http
            .post(fake.url().join("api/v1/statuses").unwrap())
            .bearer_auth(&token)
            .json(&json!({"status": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()["retry-after"], "7");
        assert!(res.text().await.unwrap().contains("<center>nginx</center>"));
    }
    assert!(fake.statuses().is_empty());
    fake.fail_next("/api/v1/statuses", 429, 1);
    let (status, body) = post_status(&http, &fake, &token, None, &json!({"status": "x"})).await;
    assert_eq!(
        (status, body),
        (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"error": "Too many requests"})
        )
    );
    let (status, _) = post_status(&http, &fake, &token, None, &json!({"status": "x"})).await;
    assert_eq!(status, StatusCode::OK);
    let res = http
        .post(fake.url().join("_fake/fail-next").unwrap())
        .json(&json!({"path": "/api/v1/statuses", "status": 200}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}
