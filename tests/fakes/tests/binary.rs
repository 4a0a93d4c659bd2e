//! The `postwerk-fakes` binary: one JSON line with both URLs, `/_fake/` controls, and exit on
//! end of stdin.

use std::process::Stdio;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn binary_prints_urls_serves_controls_and_exits_on_stdin_eof() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_postwerk-fakes"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let urls: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(urls.as_object().unwrap().len(), 2, "{line}");
    let mastodon = url::Url::parse(urls["mastodon"].as_str().unwrap()).unwrap();
    let bluesky = url::Url::parse(urls["bluesky"].as_str().unwrap()).unwrap();
    for u in [&mastodon, &bluesky] {
        assert_eq!(u.host_str(), Some("127.0.0.1"));
        assert_eq!(u.path(), "/");
    }

    // Bluesky controls.
    let res = http
        .post(bluesky.join("_fake/accounts").unwrap())
        .json(&json!({"handle": "ada.bsky.test", "email": "ada@example.test", "password": "pw-pw", "displayName": "Ada"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let did = res.json::<Value>().await.unwrap()["did"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(did.starts_with("did:plc:"));
    let res = http
        .post(bluesky.join("_fake/config").unwrap())
        .json(&json!({"accessTtlSecs": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = http
        .post(bluesky.join("_fake/config").unwrap())
        .json(&json!({"accessTTL": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        StatusCode::BAD_REQUEST,
        "unknown keys are refused"
    );
    let session: Value = http
        .post(
            bluesky
                .join("xrpc/com.atproto.server.createSession")
                .unwrap(),
        )
        .json(&json!({"identifier": "ada.bsky.test", "password": "pw-pw"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = session["accessJwt"].as_str().unwrap();
    let res = http
        .post(bluesky.join("_fake/expire-access-tokens").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let res = http
        .get(bluesky.join("xrpc/com.atproto.server.getSession").unwrap())
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["error"], "ExpiredToken");
    let secrets: Vec<String> = http
        .get(bluesky.join("_fake/secrets").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(secrets.contains(&access.to_owned()));
    let mut requests: Value = http
        .get(bluesky.join("_fake/requests").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    // Arrival times are recorded (for the lateness bench); they vary, so they are checked
    // for presence and dropped before comparing.
    for r in requests.as_array_mut().unwrap() {
        let at = r
            .as_object_mut()
            .unwrap()
            .remove("received_at_us")
            .and_then(|v| v.as_u64())
            .unwrap();
        assert!(at > 1_700_000_000_000_000, "{at}");
    }
    assert_eq!(
        requests,
        json!([
            {"method": "POST", "path": "/xrpc/com.atproto.server.createSession", "query": null, "status": 200},
            {"method": "GET", "path": "/xrpc/com.atproto.server.getSession", "query": null, "status": 400},
        ])
    );
    let stats: Value = http
        .get(bluesky.join("_fake/stats").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats, json!({"createSessionCalls": 1, "refreshCalls": 0}));

    // Mastodon controls.
    let res = http
        .post(mastodon.join("_fake/config").unwrap())
        .json(&json!({"maxCharacters": 11000}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let instance: Value = http
        .get(mastodon.join("api/v2/instance").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        instance["configuration"]["statuses"]["max_characters"],
        11000
    );
    let mut requests: Value = http
        .get(mastodon.join("_fake/requests").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for r in requests.as_array_mut().unwrap() {
        assert!(
            r.as_object_mut()
                .unwrap()
                .remove("received_at_us")
                .is_some()
        );
    }
    assert_eq!(
        requests,
        json!([{"method": "GET", "path": "/api/v2/instance", "query": null, "status": 200}])
    );
    let secrets: Value = http
        .get(mastodon.join("_fake/secrets").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(secrets, json!([]));

    // Publishing controls.
    for (base, path) in [
        (&mastodon, "_fake/statuses"),
        (&mastodon, "_fake/media"),
        (&mastodon, "_fake/scheduled"),
        (&bluesky, "_fake/records"),
        (&bluesky, "_fake/blobs"),
    ] {
        let listed: Value = http
            .get(base.join(path).unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(listed, json!([]), "{path}");
    }
    let res = http
        .post(mastodon.join("_fake/config").unwrap())
        .json(&json!({"mediaProcessing": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let published: Value = http
        .post(mastodon.join("_fake/publish-due").unwrap())
        .json(&json!({}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(published, json!({"published": []}));
    for base in [&mastodon, &bluesky] {
        let res = http
            .post(base.join("_fake/fail-next").unwrap())
            .json(&json!({"path": "/anything", "status": 500, "count": 0}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let res = http
            .post(base.join("_fake/drop-after-next").unwrap())
            .json(&json!({"path": "/_fake/requests"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "control paths stay");
    }
    let res = http
        .get(bluesky.join("_page/article").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);

    // End of stdin stops it.
    drop(child.stdin.take());
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success());
}
