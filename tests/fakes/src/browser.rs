//! The user's browser in a Mastodon sign-in, for tests: opens the authorize page, submits the
//! consent form, and follows the redirect to the app's loopback listener.

use url::Url;

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The hidden inputs of the fake's consent page (one `<input type="hidden" ...>` per line).
pub fn consent_form(html: &str) -> Vec<(String, String)> {
    html.lines()
        .filter_map(|l| {
            let rest = l.trim().strip_prefix("<input type=\"hidden\" name=\"")?;
            let (name, rest) = rest.split_once('"')?;
            let value = rest.split_once("value=\"")?.1.rsplit_once('"')?.0;
            Some((name.to_string(), unescape(value)))
        })
        .collect()
}

/// Plays the browser with `decision` ("approve" or "deny") and returns the page the app's
/// loopback listener answered with. Panics (it is for tests) when a step fails.
pub async fn play_mastodon_sign_in(authorize_url: &str, decision: &str) -> String {
    // reqwest is built without a bundled crypto provider; plain http needs none, but the
    // client builder wants one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("HTTP client");
    let page = client
        .get(authorize_url)
        .send()
        .await
        .expect("authorize page");
    assert_eq!(page.status(), 200, "the authorize page");
    let html = page.text().await.expect("authorize page body");
    let mut form = consent_form(&html);
    assert!(
        form.iter().any(|(k, _)| k == "code_challenge"),
        "no PKCE challenge in {html}"
    );
    form.push(("decision".into(), decision.into()));
    let action = Url::parse(authorize_url)
        .and_then(|u| u.join("/oauth/authorize"))
        .expect("authorize URL");
    let answer = client
        .post(action)
        .form(&form)
        .send()
        .await
        .expect("consent");
    assert_eq!(answer.status(), 302, "consent answer");
    let location = answer.headers()["location"]
        .to_str()
        .expect("location")
        .to_string();
    assert!(location.starts_with("http://127.0.0.1:"), "{location}");
    client
        .get(location)
        .send()
        .await
        .expect("loopback")
        .text()
        .await
        .expect("loopback page")
}
