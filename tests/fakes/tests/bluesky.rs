//! The fake Bluesky rejects what the reference PDS rejects.

use std::time::Duration;

use postwerk_fakes::FakeBluesky;
use reqwest::StatusCode;
use serde_json::{Value, json};

const HANDLE: &str = "ada.bsky.test";
const EMAIL: &str = "ada@example.test";
const PASSWORD: &str = "abcd-efgh-ijkl-mnop";

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().no_proxy().build().unwrap()
}

async fn setup() -> (FakeBluesky, reqwest::Client, String) {
    let fake = FakeBluesky::start().await;
    let did = fake.add_account(HANDLE, EMAIL, PASSWORD, "Ada Lovelace");
    (fake, http(), did)
}

async fn call(
    http: &reqwest::Client,
    fake: &FakeBluesky,
    method: reqwest::Method,
    nsid: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> reqwest::Response {
    let mut req = http.request(method, fake.url().join(&format!("xrpc/{nsid}")).unwrap());
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

async fn login(
    http: &reqwest::Client,
    fake: &FakeBluesky,
    identifier: &str,
    password: &str,
) -> (StatusCode, Value) {
    let res = call(
        http,
        fake,
        reqwest::Method::POST,
        "com.atproto.server.createSession",
        None,
        Some(json!({ "identifier": identifier, "password": password })),
    )
    .await;
    (res.status(), res.json().await.unwrap())
}

async fn get(
    http: &reqwest::Client,
    fake: &FakeBluesky,
    nsid_and_query: &str,
    token: Option<&str>,
) -> (StatusCode, Value) {
    let res = call(
        http,
        fake,
        reqwest::Method::GET,
        nsid_and_query,
        token,
        None,
    )
    .await;
    (res.status(), res.json().await.unwrap())
}

async fn refresh(http: &reqwest::Client, fake: &FakeBluesky, token: &str) -> (StatusCode, Value) {
    let res = call(
        http,
        fake,
        reqwest::Method::POST,
        "com.atproto.server.refreshSession",
        Some(token),
        None,
    )
    .await;
    (res.status(), res.json().await.unwrap())
}

fn xrpc_error(error: &str, message: &str) -> Value {
    json!({ "error": error, "message": message })
}

fn jwt_part(token: &str, index: usize) -> Value {
    use base64::Engine as _;
    let part = token.split('.').nth(index).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn login_by_handle_email_or_did_and_use_the_session() {
    let (fake, http, did) = setup().await;
    let id = did.strip_prefix("did:plc:").unwrap();
    assert_eq!(id.len(), 24);
    assert!(
        id.chars()
            .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c))
    );

    for identifier in ["ADA.bsky.test", EMAIL, did.as_str()] {
        let (status, session) = login(&http, &fake, identifier, PASSWORD).await;
        assert_eq!(status, StatusCode::OK, "{identifier}: {session}");
        assert_eq!(session["did"], did.as_str());
        assert_eq!(session["handle"], HANDLE);
        assert_eq!(session["email"], EMAIL);
        assert_eq!(session["active"], true);
        assert_eq!(session["didDoc"]["id"], did.as_str());
        assert_eq!(
            session["didDoc"]["service"][0]["serviceEndpoint"],
            fake.url().as_str().trim_end_matches('/')
        );
    }
    let (_, session) = login(&http, &fake, HANDLE, PASSWORD).await;
    let access = session["accessJwt"].as_str().unwrap();
    let refresh_jwt = session["refreshJwt"].as_str().unwrap();
    assert_eq!(
        jwt_part(access, 0),
        json!({"typ": "at+jwt", "alg": "HS256"})
    );
    let claims = jwt_part(access, 1);
    assert_eq!(claims["scope"], "com.atproto.appPass");
    assert_eq!(claims["sub"], did.as_str());
    assert_eq!(claims["aud"], "did:web:127.0.0.1");
    assert_eq!(
        claims["exp"].as_u64().unwrap() - claims["iat"].as_u64().unwrap(),
        7200
    );
    let refresh_claims = jwt_part(refresh_jwt, 1);
    assert_eq!(refresh_claims["scope"], "com.atproto.refresh");
    assert!(refresh_claims["jti"].is_string());
    assert_eq!(
        refresh_claims["exp"].as_u64().unwrap() - refresh_claims["iat"].as_u64().unwrap(),
        90 * 86_400
    );

    let (status, me) = get(&http, &fake, "com.atproto.server.getSession", Some(access)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["did"], did.as_str());

    let (status, profile) = get(
        &http,
        &fake,
        "app.bsky.actor.getProfile?actor=ada.bsky.test",
        Some(access),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(profile["displayName"], "Ada Lovelace");
    let avatar = http
        .get(profile["avatar"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(avatar.status(), StatusCode::OK);
    assert_eq!(avatar.headers()["content-type"], "image/png");

    assert_eq!(
        get(
            &http,
            &fake,
            "app.bsky.actor.getProfile?actor=nobody.bsky.test",
            Some(access)
        )
        .await,
        (
            StatusCode::BAD_REQUEST,
            xrpc_error("InvalidRequest", "Profile not found")
        )
    );
    assert_eq!(fake.create_session_calls(), 4);
    assert_eq!(fake.secrets().len(), 8);
    assert!(fake.secrets().contains(&refresh_jwt.to_owned()));
}

#[tokio::test]
async fn wrong_credentials_and_malformed_input_are_refused() {
    let (fake, http, _) = setup().await;
    let invalid = (
        StatusCode::UNAUTHORIZED,
        xrpc_error("AuthenticationRequired", "Invalid identifier or password"),
    );
    assert_eq!(login(&http, &fake, HANDLE, "wrong").await, invalid);
    assert_eq!(
        login(&http, &fake, "@ada.bsky.test", PASSWORD).await,
        invalid
    );
    assert_eq!(
        login(&http, &fake, "bob.bsky.test", PASSWORD).await,
        invalid
    );

    let res = call(
        &http,
        &fake,
        reqwest::Method::POST,
        "com.atproto.server.createSession",
        None,
        Some(json!({ "password": PASSWORD })),
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        xrpc_error(
            "InvalidRequest",
            "Input must have the property \"identifier\""
        )
    );
    let res = call(
        &http,
        &fake,
        reqwest::Method::POST,
        "com.atproto.server.createSession",
        None,
        Some(json!({ "identifier": HANDLE })),
    )
    .await;
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        xrpc_error(
            "InvalidRequest",
            "Input must have the property \"password\""
        )
    );
    let res = call(
        &http,
        &fake,
        reqwest::Method::GET,
        "com.atproto.server.createSession",
        None,
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(fake.secrets().is_empty());
}

#[tokio::test]
async fn authenticated_endpoints_check_the_token() {
    let (fake, http, _) = setup().await;
    let (_, session) = login(&http, &fake, HANDLE, PASSWORD).await;
    let refresh_jwt = session["refreshJwt"].as_str().unwrap();
    let access = session["accessJwt"].as_str().unwrap();

    assert_eq!(
        get(&http, &fake, "com.atproto.server.getSession", None).await,
        (
            StatusCode::UNAUTHORIZED,
            xrpc_error("AuthMissing", "Authentication Required")
        )
    );
    assert_eq!(
        get(
            &http,
            &fake,
            "com.atproto.server.getSession",
            Some("abc.def.ghi")
        )
        .await,
        (
            StatusCode::BAD_REQUEST,
            xrpc_error("InvalidToken", "Token could not be verified")
        )
    );
    // A token signed by someone else: same claims, another signature.
    let (head, _) = access.rsplit_once('.').unwrap();
    let forged = format!("{head}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
    assert_eq!(
        get(&http, &fake, "com.atproto.server.getSession", Some(&forged))
            .await
            .1["error"],
        "InvalidToken"
    );
    assert_eq!(
        get(
            &http,
            &fake,
            "com.atproto.server.getSession",
            Some(refresh_jwt)
        )
        .await,
        (
            StatusCode::BAD_REQUEST,
            xrpc_error("InvalidToken", "Bad token scope")
        )
    );
    assert_eq!(
        refresh(&http, &fake, access).await,
        (
            StatusCode::BAD_REQUEST,
            xrpc_error("InvalidToken", "Invalid token type")
        )
    );

    fake.expire_access_tokens();
    let expired = (
        StatusCode::BAD_REQUEST,
        xrpc_error("ExpiredToken", "Token has expired"),
    );
    assert_eq!(
        get(&http, &fake, "com.atproto.server.getSession", Some(access)).await,
        expired
    );
    assert_eq!(
        get(
            &http,
            &fake,
            &format!("app.bsky.actor.getProfile?actor={HANDLE}"),
            Some(access)
        )
        .await,
        expired
    );
    // Refreshing recovers.
    let (status, fresh) = refresh(&http, &fake, refresh_jwt).await;
    assert_eq!(status, StatusCode::OK);
    let new_access = fresh["accessJwt"].as_str().unwrap();
    assert_eq!(
        get(
            &http,
            &fake,
            "com.atproto.server.getSession",
            Some(new_access)
        )
        .await
        .0,
        StatusCode::OK
    );

    // A zero TTL makes new access tokens expire at once.
    fake.set_access_ttl(Duration::ZERO);
    let (_, short) = login(&http, &fake, HANDLE, PASSWORD).await;
    assert_eq!(
        get(
            &http,
            &fake,
            "com.atproto.server.getSession",
            short["accessJwt"].as_str()
        )
        .await,
        expired
    );
}

#[tokio::test]
async fn refresh_rotates_and_delete_session_revokes() {
    let (fake, http, did) = setup().await;
    let (_, session) = login(&http, &fake, HANDLE, PASSWORD).await;
    let old_refresh = session["refreshJwt"].as_str().unwrap();
    let old_access = session["accessJwt"].as_str().unwrap();

    let (status, rotated) = refresh(&http, &fake, old_refresh).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(rotated["did"], did.as_str());
    assert_eq!(rotated["handle"], HANDLE);
    assert_eq!(rotated["active"], true);
    let new_refresh = rotated["refreshJwt"].as_str().unwrap();
    assert_ne!(new_refresh, old_refresh);

    let revoked = (
        StatusCode::BAD_REQUEST,
        xrpc_error("ExpiredToken", "Token has been revoked"),
    );
    assert_eq!(refresh(&http, &fake, old_refresh).await, revoked);
    // The old access token lives on until it expires, as on the reference PDS.
    assert_eq!(
        get(
            &http,
            &fake,
            "com.atproto.server.getSession",
            Some(old_access)
        )
        .await
        .0,
        StatusCode::OK
    );
    assert_eq!(fake.refresh_calls(), 2);

    let new_access = rotated["accessJwt"].as_str().unwrap();
    let res = call(
        &http,
        &fake,
        reqwest::Method::POST,
        "com.atproto.server.deleteSession",
        Some(new_refresh),
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.bytes().await.unwrap().is_empty());
    assert_eq!(refresh(&http, &fake, new_refresh).await, revoked);
    assert_eq!(
        get(
            &http,
            &fake,
            "com.atproto.server.getSession",
            Some(new_access)
        )
        .await
        .1["error"],
        "InvalidToken"
    );
}

#[tokio::test]
async fn create_session_is_rate_limited_per_identifier() {
    let (fake, http, _) = setup().await;
    for attempt in 1..=30 {
        let res = call(
            &http,
            &fake,
            reqwest::Method::POST,
            "com.atproto.server.createSession",
            None,
            Some(json!({ "identifier": HANDLE, "password": "wrong" })),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(res.headers()["ratelimit-limit"], "30");
        assert_eq!(
            res.headers()["ratelimit-remaining"],
            (30 - attempt).to_string().as_str()
        );
        assert_eq!(res.headers()["ratelimit-policy"], "30;w=300");
    }
    // The 31st attempt is refused even with the right password.
    let res = call(
        &http,
        &fake,
        reqwest::Method::POST,
        "com.atproto.server.createSession",
        None,
        Some(json!({ "identifier": "Ada.Bsky.Test", "password": PASSWORD })),
    )
    .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["ratelimit-remaining"], "0");
    let reset: u64 = res.headers()["ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(reset > now && reset <= now + 301, "{reset} vs {now}");
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        xrpc_error("RateLimitExceeded", "Rate Limit Exceeded")
    );
    // Another identifier has its own budget.
    assert_eq!(login(&http, &fake, EMAIL, PASSWORD).await.0, StatusCode::OK);
    assert_eq!(fake.create_session_calls(), 32);
}

#[tokio::test]
async fn every_xrpc_response_has_rate_limit_headers() {
    let (fake, http, did) = setup().await;
    let responses = [
        call(
            &http,
            &fake,
            reqwest::Method::GET,
            "com.example.nothing",
            None,
            None,
        )
        .await,
        call(
            &http,
            &fake,
            reqwest::Method::GET,
            "com.atproto.identity.resolveHandle?handle=ada.bsky.test",
            None,
            None,
        )
        .await,
        call(
            &http,
            &fake,
            reqwest::Method::GET,
            "com.atproto.server.getSession",
            None,
            None,
        )
        .await,
    ];
    let statuses: Vec<_> = responses.iter().map(reqwest::Response::status).collect();
    assert_eq!(
        statuses,
        [
            StatusCode::NOT_IMPLEMENTED,
            StatusCode::OK,
            StatusCode::UNAUTHORIZED
        ]
    );
    for (i, res) in responses.iter().enumerate() {
        assert_eq!(res.headers()["ratelimit-limit"], "3000");
        assert_eq!(
            res.headers()["ratelimit-remaining"],
            (2999 - i).to_string().as_str()
        );
        assert_eq!(res.headers()["ratelimit-policy"], "3000;w=300");
        assert!(res.headers().contains_key("ratelimit-reset"));
    }
    let [unknown, resolved, _] = responses;
    assert_eq!(
        unknown.json::<Value>().await.unwrap(),
        xrpc_error("MethodNotImplemented", "Method Not Implemented")
    );
    assert_eq!(
        resolved.json::<Value>().await.unwrap(),
        json!({ "did": did })
    );

    assert_eq!(
        get(
            &http,
            &fake,
            "com.atproto.identity.resolveHandle?handle=nobody.test",
            None
        )
        .await,
        (
            StatusCode::BAD_REQUEST,
            xrpc_error("InvalidRequest", "Unable to resolve handle")
        )
    );
    assert_eq!(
        get(&http, &fake, "com.atproto.identity.resolveHandle", None)
            .await
            .1["error"],
        "InvalidRequest"
    );

    // PLC directory.
    let doc: Value = http
        .get(format!("{}{did}", fake.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["id"], did.as_str());
    assert_eq!(doc["alsoKnownAs"], json!(["at://ada.bsky.test"]));
    assert!(
        doc["verificationMethod"][0]["publicKeyMultibase"]
            .as_str()
            .unwrap()
            .starts_with("zQ3sh")
    );
    let res = http
        .get(format!("{}did:plc:aaaaaaaaaaaaaaaaaaaaaaaa", fake.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({ "message": "DID not registered: did:plc:aaaaaaaaaaaaaaaaaaaaaaaa" })
    );

    let recorded = fake.requests();
    assert_eq!(recorded[0].path, "/xrpc/com.example.nothing");
    assert_eq!(recorded[0].status, 501);
    assert_eq!(recorded.len(), 7);
}
