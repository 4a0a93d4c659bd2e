//! The fake Mastodon rejects what Mastodon rejects.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use postwerk_fakes::FakeMastodon;
use reqwest::StatusCode;
use reqwest::header::LOCATION;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use url::Url;

const REDIRECT: &str = "http://127.0.0.1:8765/callback";
const VERIFIER: &str = "dBjftJeZ4CVP-mJ92K27uhbUJU1p1r_wW1gFWFOEjXk";
const SCOPES: &str = "read:accounts read:statuses write:statuses write:media";

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

struct App {
    client_id: String,
    client_secret: String,
}

async fn register(http: &reqwest::Client, fake: &FakeMastodon, scopes: &str) -> App {
    let res = http
        .post(fake.url().join("api/v1/apps").unwrap())
        .json(&json!({
            "client_name": "Postwerk",
            "redirect_uris": [REDIRECT, "urn:ietf:wg:oauth:2.0:oob"],
            "scopes": scopes,
            "website": "https://postwerk.example"
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let app: Value = res.json().await.unwrap();
    assert_eq!(app["redirect_uri"], REDIRECT);
    assert_eq!(app["client_secret_expires_at"], 0);
    assert_eq!(app["client_id"].as_str().unwrap().len(), 43);
    App {
        client_id: app["client_id"].as_str().unwrap().to_owned(),
        client_secret: app["client_secret"].as_str().unwrap().to_owned(),
    }
}

fn authorize_url(fake: &FakeMastodon, pairs: &[(&str, &str)]) -> Url {
    let mut url = fake.url().join("oauth/authorize").unwrap();
    url.query_pairs_mut().extend_pairs(pairs);
    url
}

fn standard_pairs<'a>(app: &'a App, challenge: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("response_type", "code"),
        ("client_id", &app.client_id),
        ("redirect_uri", REDIRECT),
        ("scope", "read:accounts write:statuses"),
        ("state", "st&te<1>"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ]
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// The hidden inputs of the authorization page, as a browser would submit them.
fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    html.lines()
        .filter_map(|line| line.strip_prefix("<input type=\"hidden\" name=\""))
        .map(|rest| {
            let (name, rest) = rest.split_once("\" value=\"").unwrap();
            let value = rest.strip_suffix("\">").unwrap();
            (name.to_owned(), unescape(value))
        })
        .collect()
}

/// Plays the browser: loads the page, submits it with `decision`, returns the redirect.
async fn consent(http: &reqwest::Client, fake: &FakeMastodon, url: Url, decision: &str) -> Url {
    let page = http.get(url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Authorize Postwerk to use your account @ada?"));
    let mut form = hidden_inputs(&html);
    assert_eq!(form.len(), 7);
    form.push(("decision".into(), decision.into()));
    let res = http
        .post(fake.url().join("oauth/authorize").unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FOUND);
    Url::parse(res.headers()[LOCATION].to_str().unwrap()).unwrap()
}

fn query(url: &Url, key: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

async fn get_code(http: &reqwest::Client, fake: &FakeMastodon, app: &App) -> String {
    let challenge = challenge(VERIFIER);
    let url = authorize_url(fake, &standard_pairs(app, &challenge));
    let back = consent(http, fake, url, "approve").await;
    assert!(back.as_str().starts_with(REDIRECT));
    assert_eq!(query(&back, "state").as_deref(), Some("st&te<1>"));
    query(&back, "code").unwrap()
}

async fn exchange(
    http: &reqwest::Client,
    fake: &FakeMastodon,
    app: &App,
    code: &str,
    redirect: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    let res = http
        .post(fake.url().join("oauth/token").unwrap())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("client_id", &app.client_id),
            ("client_secret", &app.client_secret),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

async fn verify(http: &reqwest::Client, fake: &FakeMastodon, token: &str) -> (StatusCode, Value) {
    let res = http
        .get(
            fake.url()
                .join("api/v1/accounts/verify_credentials")
                .unwrap(),
        )
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

fn invalid_grant() -> Value {
    json!({
        "error": "invalid_grant",
        "error_description": "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client."
    })
}

#[tokio::test]
async fn full_flow_issues_a_working_token() {
    let (fake, http) = (FakeMastodon::start().await, http());
    let app = register(&http, &fake, SCOPES).await;
    let code = get_code(&http, &fake, &app).await;
    let (status, token) = exchange(&http, &fake, &app, &code, REDIRECT, VERIFIER).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["scope"], "read:accounts write:statuses");
    assert!(token["created_at"].is_i64());
    assert!(token.get("refresh_token").is_none());
    let access = token["access_token"].as_str().unwrap();

    let res = http
        .get(
            fake.url()
                .join("api/v1/accounts/verify_credentials")
                .unwrap(),
        )
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["x-ratelimit-limit"], "300");
    assert_eq!(res.headers()["x-ratelimit-remaining"], "299");
    let reset = res.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        chrono::DateTime::parse_from_rfc3339(&reset).is_ok(),
        "{reset}"
    );
    assert!(reset.ends_with(".000Z"), "{reset}");
    let account: Value = res.json().await.unwrap();
    assert_eq!(account["id"], "109000000000000001");
    assert_eq!(account["username"], "ada");
    assert_eq!(account["display_name"], "Ada Lovelace");
    assert_eq!(account["source"]["note"], "Counting engines");

    let avatar = http
        .get(account["avatar"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(avatar.headers()["content-type"], "image/png");
    assert!(
        avatar
            .bytes()
            .await
            .unwrap()
            .starts_with(b"\x89PNG\r\n\x1a\n")
    );

    assert_eq!(fake.apps_registered(), 1);
    let secrets = fake.secrets();
    for s in [&app.client_secret, &code, &access.to_owned()] {
        assert!(secrets.contains(s), "{s} missing from secrets");
    }
    assert_eq!(fake.live_tokens(), vec![access.to_owned()]);
    let paths: Vec<_> = fake
        .requests()
        .into_iter()
        .map(|r| format!("{} {} {}", r.method, r.path, r.status))
        .collect();
    assert_eq!(
        paths[..5],
        [
            "POST /api/v1/apps 200",
            "GET /oauth/authorize 200",
            "POST /oauth/authorize 302",
            "POST /oauth/token 200",
            "GET /api/v1/accounts/verify_credentials 200",
        ]
    );
}

#[tokio::test]
async fn wrong_verifier_wrong_redirect_and_wrong_client_are_refused() {
    let (fake, http) = (FakeMastodon::start().await, http());
    let app = register(&http, &fake, SCOPES).await;
    let code = get_code(&http, &fake, &app).await;

    let wrong_verifier = "x".repeat(43);
    let (status, body) = exchange(&http, &fake, &app, &code, REDIRECT, &wrong_verifier).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, invalid_grant()));

    let other_redirect = "http://127.0.0.1:8766/callback";
    let (status, body) = exchange(&http, &fake, &app, &code, other_redirect, VERIFIER).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, invalid_grant()));

    let thief = App {
        client_id: app.client_id.clone(),
        client_secret: "not-the-secret".into(),
    };
    let (status, body) = exchange(&http, &fake, &thief, &code, REDIRECT, VERIFIER).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"], "invalid_client");

    let other_app = register(&http, &fake, SCOPES).await;
    let (status, body) = exchange(&http, &fake, &other_app, &code, REDIRECT, VERIFIER).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, invalid_grant()));

    // Failed attempts do not use the code up.
    let (status, _) = exchange(&http, &fake, &app, &code, REDIRECT, VERIFIER).await;
    assert_eq!(status, StatusCode::OK);
    assert!(fake.live_tokens().len() == 1);
}

#[tokio::test]
async fn reused_code_is_refused_and_its_token_revoked() {
    let (fake, http) = (FakeMastodon::start().await, http());
    let app = register(&http, &fake, SCOPES).await;
    let code = get_code(&http, &fake, &app).await;
    let (status, token) = exchange(&http, &fake, &app, &code, REDIRECT, VERIFIER).await;
    assert_eq!(status, StatusCode::OK);
    let access = token["access_token"].as_str().unwrap().to_owned();
    assert_eq!(verify(&http, &fake, &access).await.0, StatusCode::OK);

    let (status, body) = exchange(&http, &fake, &app, &code, REDIRECT, VERIFIER).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, invalid_grant()));
    assert_eq!(
        verify(&http, &fake, &access).await,
        (
            StatusCode::UNAUTHORIZED,
            json!({"error": "The access token is invalid"})
        )
    );
    assert_eq!(fake.revoked_tokens(), vec![access]);
    assert!(fake.live_tokens().is_empty());
}

#[tokio::test]
async fn authorize_rejects_bad_requests_with_doorkeeper_pages() {
    let (fake, http) = (FakeMastodon::start().await, http());
    let app = register(&http, &fake, SCOPES).await;
    let challenge = challenge(VERIFIER);
    let good = standard_pairs(&app, &challenge);
    let with = |key: &str, value: &'static str| -> Vec<(&str, &str)> {
        good.iter()
            .map(|&(k, v)| if k == key { (k, value) } else { (k, v) })
            .collect()
    };
    let without = |key: &str| -> Vec<(&str, &str)> {
        good.iter().copied().filter(|&(k, _)| k != key).collect()
    };
    let cases = [
        (
            with("redirect_uri", "http://127.0.0.1:9999/elsewhere"),
            "The redirect uri included is not valid.",
        ),
        (
            with("client_id", "unknown-client"),
            "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
        ),
        (
            with("response_type", "token"),
            "The authorization server does not support this response type.",
        ),
        (
            with("scope", "read:accounts write:follows"),
            "The requested scope is invalid, unknown, or malformed.",
        ),
        (
            with("code_challenge_method", "plain"),
            "The code challenge method must be S256.",
        ),
        (
            without("code_challenge_method"),
            "The code challenge method must be S256.",
        ),
        (without("code_challenge"), "Code challenge is required."),
        // Without `scope` the default `read` applies, which this app did not register.
        (
            without("scope"),
            "The requested scope is invalid, unknown, or malformed.",
        ),
    ];
    for (pairs, message) in cases {
        let res = http.get(authorize_url(&fake, &pairs)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{message}");
        let html = res.text().await.unwrap();
        assert!(html.contains(message), "{message} not in {html}");
        assert!(!html.contains("decision"));
    }
    // POST re-validates: a forged form with another redirect URI gets no code.
    let mut forged: Vec<(&str, &str)> = with("redirect_uri", "http://evil.example/cb");
    forged.push(("decision", "approve"));
    let res = http
        .post(fake.url().join("oauth/authorize").unwrap())
        .form(&forged)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(
        fake.secrets().len() == 1,
        "only the client secret was issued"
    );
}

#[tokio::test]
async fn deny_and_out_of_band() {
    let (fake, http) = (FakeMastodon::start().await, http());
    let app = register(&http, &fake, SCOPES).await;
    let challenge = challenge(VERIFIER);
    let back = consent(
        &http,
        &fake,
        authorize_url(&fake, &standard_pairs(&app, &challenge)),
        "deny",
    )
    .await;
    assert_eq!(query(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(
        query(&back, "error_description").as_deref(),
        Some("The resource owner or authorization server denied the request.")
    );
    assert_eq!(query(&back, "state").as_deref(), Some("st&te<1>"));
    assert_eq!(query(&back, "code"), None);

    let mut oob = standard_pairs(&app, &challenge);
    oob[2] = ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob");
    let html = http
        .get(authorize_url(&fake, &oob))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut form = hidden_inputs(&html);
    form.push(("decision".into(), "approve".into()));
    let res = http
        .post(fake.url().join("oauth/authorize").unwrap())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    let code = html
        .split("name=\"code\" readonly value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_owned();
    let (status, _) = exchange(
        &http,
        &fake,
        &app,
        &code,
        "urn:ietf:wg:oauth:2.0:oob",
        VERIFIER,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn revoke_needs_the_owning_client_and_kills_the_token() {
    let (fake, http) = (FakeMastodon::start().await, http());
    let app = register(&http, &fake, SCOPES).await;
    let code = get_code(&http, &fake, &app).await;
    let (_, token) = exchange(&http, &fake, &app, &code, REDIRECT, VERIFIER).await;
    let access = token["access_token"].as_str().unwrap().to_owned();
    let revoke = |client_id: String, secret: String, token: String| {
        let http = http.clone();
        let url = fake.url().join("oauth/revoke").unwrap();
        async move {
            let res = http
                .post(url)
                .form(&[
                    ("client_id", client_id),
                    ("client_secret", secret),
                    ("token", token),
                ])
                .send()
                .await
                .unwrap();
            (res.status(), res.json::<Value>().await.unwrap())
        }
    };
    let other = register(&http, &fake, SCOPES).await;
    assert_eq!(
        revoke(
            other.client_id.clone(),
            other.client_secret.clone(),
            access.clone()
        )
        .await,
        (
            StatusCode::FORBIDDEN,
            json!({"error": "unauthorized_client", "error_description": "You are not authorized to revoke this token"})
        )
    );
    assert_eq!(verify(&http, &fake, &access).await.0, StatusCode::OK);

    let ok = revoke(
        app.client_id.clone(),
        app.client_secret.clone(),
        access.clone(),
    )
    .await;
    assert_eq!(ok, (StatusCode::OK, json!({})));
    assert_eq!(
        verify(&http, &fake, &access).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(fake.revoked_tokens(), vec![access.clone()]);
    // Revoking twice, or an unknown token, is still fine (RFC 7009).
    assert_eq!(
        revoke(app.client_id.clone(), app.client_secret.clone(), access)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        revoke(app.client_id, app.client_secret, "nope".into())
            .await
            .0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn app_registration_is_validated() {
    let (fake, http) = (FakeMastodon::start().await, http());
    let url = fake.url().join("api/v1/apps").unwrap();
    let cases = [
        (
            json!({"redirect_uris": REDIRECT}),
            "Validation failed: Application name can't be blank",
        ),
        (
            json!({"client_name": "P", "redirect_uris": "/callback"}),
            "Validation failed: Redirect URI must be an absolute URI.",
        ),
        (
            json!({"client_name": "P", "redirect_uris": REDIRECT, "scopes": "read write:everything"}),
            "Validation failed: Scopes must be a valid scope",
        ),
        (
            json!({"client_name": "P", "redirect_uris": REDIRECT, "scopes": "read:conversations"}),
            "Validation failed: Scopes must be a valid scope",
        ),
    ];
    for (body, message) in cases {
        let res = http.post(url.clone()).json(&body).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            res.json::<Value>().await.unwrap(),
            json!({"error": message})
        );
    }
    // Form bodies with several redirect URIs separated by a newline; scopes default to read.
    let res = http
        .post(url)
        .form(&[
            ("client_name", "Postwerk"),
            (
                "redirect_uris",
                "http://127.0.0.1:1/a\nhttp://127.0.0.1:2/b",
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let app: Value = res.json().await.unwrap();
    assert_eq!(app["scopes"], json!(["read"]));
    assert_eq!(
        app["redirect_uris"],
        json!(["http://127.0.0.1:1/a", "http://127.0.0.1:2/b"])
    );
    assert_eq!(fake.apps_registered(), 1);
}

#[tokio::test]
async fn scopes_and_app_tokens_are_enforced_on_the_api() {
    let (fake, http) = (FakeMastodon::start().await, http());
    let app = register(&http, &fake, "write:statuses read").await;
    let challenge = challenge(VERIFIER);
    let mut pairs = standard_pairs(&app, &challenge);
    pairs[3] = ("scope", "write:statuses");
    let back = consent(&http, &fake, authorize_url(&fake, &pairs), "approve").await;
    let code = query(&back, "code").unwrap();
    let (_, token) = exchange(&http, &fake, &app, &code, REDIRECT, VERIFIER).await;
    assert_eq!(
        verify(&http, &fake, token["access_token"].as_str().unwrap()).await,
        (
            StatusCode::FORBIDDEN,
            json!({"error": "This action is outside the authorized scopes"})
        )
    );

    // Client credentials (HTTP Basic, as the oauth2 crate sends them) give an app token.
    let res = http
        .post(fake.url().join("oauth/token").unwrap())
        .basic_auth(&app.client_id, Some(&app.client_secret))
        .form(&[("grant_type", "client_credentials"), ("scope", "read")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let app_token: Value = res.json().await.unwrap();
    assert_eq!(
        verify(&http, &fake, app_token["access_token"].as_str().unwrap())
            .await
            .0,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    let res = http
        .post(fake.url().join("oauth/token").unwrap())
        .form(&[("grant_type", "password")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );

    let res = http
        .get(
            fake.url()
                .join("api/v1/accounts/verify_credentials")
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(res.headers().contains_key("www-authenticate"));
}

#[tokio::test]
async fn instance_discovery_not_found_and_rate_limit() {
    let (fake, http) = (FakeMastodon::start().await, http());
    let instance: Value = http
        .get(fake.url().join("api/v2/instance").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(instance["configuration"]["statuses"]["max_characters"], 500);
    assert_eq!(
        instance["domain"],
        fake.url().host_str().unwrap().to_owned() + ":" + &fake.url().port().unwrap().to_string()
    );
    assert_eq!(instance["api_versions"]["mastodon"], 6);
    fake.set_max_characters(5000);

    let meta: Value = http
        .get(
            fake.url()
                .join(".well-known/oauth-authorization-server")
                .unwrap(),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        meta["token_endpoint"],
        fake.url().join("oauth/token").unwrap().as_str()
    );

    let res = http
        .get(fake.url().join("api/v1/nothing").unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.headers().contains_key("x-ratelimit-remaining"));
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Record not found"})
    );

    // Two /api requests so far from this IP; the window allows 300. Windows are aligned to
    // five-minute boundaries: if one passes mid-test the counts restart, so check the reset.
    let url = fake.url().join("api/v2/instance").unwrap();
    let first = http.get(url.clone()).send().await.unwrap();
    assert_eq!(first.headers()["x-ratelimit-remaining"], "297");
    let window = first.headers()["x-ratelimit-reset"].clone();
    for _ in 0..297 {
        let res = http.get(url.clone()).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = http.get(url).send().await.unwrap();
    if res.headers()["x-ratelimit-reset"] != window {
        return; // the window rolled over during the test
    }
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["x-ratelimit-remaining"], "0");
    assert_eq!(
        res.json::<Value>().await.unwrap(),
        json!({"error": "Too many requests"})
    );
}
