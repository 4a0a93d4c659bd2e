//! OAuth 2 for a desktop app without a server (RFC 8252): authorization code + PKCE S256 +
//! `state`, the system browser, and a one-shot loopback listener on 127.0.0.1 that receives
//! the redirect and shows a friendly "you can close this tab" page. Types, PKCE and the token
//! requests come from the `oauth2` crate, driven through Postwerk's one HTTP client.

use std::time::Duration;

use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenType};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    RequestTokenError, RevocationUrl, Scope, StandardRevocableToken, TokenResponse, TokenUrl,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::http::HttpClient;
use crate::{NetworkError, Result, Secret};

/// The redirect path on the loopback listener.
pub const CALLBACK_PATH: &str = "/callback";
/// How long Postwerk waits for the user to finish in the browser.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10 * 60);

type Client =
    BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointMaybeSet, EndpointSet>;

/// Where a provider's endpoints are and who we are there.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    pub authorize_url: Url,
    pub token_url: Url,
    pub revoke_url: Option<Url>,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    pub scopes: Vec<String>,
    /// Send the client credentials in the form body (Mastodon) instead of HTTP Basic.
    pub credentials_in_body: bool,
}

/// Tokens from a token endpoint.
#[derive(Debug, Clone)]
pub struct TokenSet {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub expires_in: Option<Duration>,
    pub scopes: Vec<String>,
}

/// One authorization in progress: the URL to open and what the answer must match.
#[derive(Debug)]
pub struct Authorization {
    pub url: Url,
    pub redirect_uri: String,
    state: CsrfToken,
    verifier: PkceCodeVerifier,
}

impl Authorization {
    pub fn state(&self) -> &str {
        self.state.secret()
    }
}

#[derive(Debug)]
struct ClientFailure(String);

impl std::fmt::Display for ClientFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ClientFailure {}

impl OAuthConfig {
    fn client(&self, redirect_uri: Option<&str>) -> Result<Client> {
        let mut client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(self.authorize_url.clone()))
            .set_token_uri(TokenUrl::from_url(self.token_url.clone()))
            .set_revocation_url_option(self.revoke_url.clone().map(RevocationUrl::from_url))
            .set_auth_type(if self.credentials_in_body {
                AuthType::RequestBody
            } else {
                AuthType::BasicAuth
            });
        if let Some(secret) = &self.client_secret {
            client = client.set_client_secret(ClientSecret::new(secret.expose().to_string()));
        }
        if let Some(uri) = redirect_uri {
            client = client.set_redirect_uri(
                RedirectUrl::new(uri.to_string())
                    .map_err(|e| NetworkError::other(format!("bad redirect URI: {e}")))?,
            );
        }
        Ok(client)
    }

    /// Builds the authorize URL with a fresh PKCE verifier (S256) and `state`.
    pub fn authorize(&self, redirect_uri: &str) -> Result<Authorization> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state) = self
            .client(Some(redirect_uri))?
            .authorize_url(CsrfToken::new_random)
            .add_scopes(self.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Authorization {
            url,
            redirect_uri: redirect_uri.to_string(),
            state,
            verifier,
        })
    }

    /// Trades the code from the redirect for tokens.
    pub async fn exchange(
        &self,
        http: &HttpClient,
        authorization: Authorization,
        code: &Secret,
    ) -> Result<TokenSet> {
        let client = self.client(Some(&authorization.redirect_uri))?;
        let send = http_fn(http);
        let response = client
            .exchange_code(AuthorizationCode::new(code.expose().to_string()))
            .set_pkce_verifier(authorization.verifier)
            .request_async(&send)
            .await
            .map_err(map_token_error)?;
        Ok(token_set(&response))
    }

    /// Refreshes with a refresh token. With rotating refresh tokens the caller must store the
    /// new refresh token before it uses the new access token (see the core's account service).
    pub async fn refresh(&self, http: &HttpClient, refresh_token: &Secret) -> Result<TokenSet> {
        let client = self.client(None)?;
        let send = http_fn(http);
        let token = oauth2::RefreshToken::new(refresh_token.expose().to_string());
        let response = client
            .exchange_refresh_token(&token)
            .request_async(&send)
            .await
            .map_err(map_token_error)?;
        Ok(token_set(&response))
    }

    /// Revokes an access token (RFC 7009).
    pub async fn revoke(&self, http: &HttpClient, access_token: &Secret) -> Result<()> {
        let client = self.client(None)?;
        let send = http_fn(http);
        let token = StandardRevocableToken::AccessToken(oauth2::AccessToken::new(
            access_token.expose().to_string(),
        ));
        client
            .revoke_token(token)
            .map_err(|e| NetworkError::other(format!("cannot revoke: {e}")))?
            .request_async(&send)
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => match r.error() {
                    oauth2::RevocationErrorResponseType::Basic(
                        BasicErrorResponseType::InvalidClient
                        | BasicErrorResponseType::UnauthorizedClient,
                    ) => NetworkError::Forbidden {
                        message: r
                            .error_description()
                            .cloned()
                            .unwrap_or_else(|| r.error().to_string()),
                    },
                    _ => NetworkError::other(
                        r.error_description()
                            .cloned()
                            .unwrap_or_else(|| r.error().to_string()),
                    ),
                },
                RequestTokenError::Request(e) => NetworkError::transient(e.to_string()),
                RequestTokenError::Parse(e, _) => {
                    NetworkError::other(format!("the revoke answer could not be read: {e}"))
                }
                RequestTokenError::Other(e) => NetworkError::other(e),
            })?;
        Ok(())
    }
}

fn token_set(
    response: &oauth2::StandardTokenResponse<oauth2::EmptyExtraTokenFields, BasicTokenType>,
) -> TokenSet {
    TokenSet {
        access_token: Secret::new(response.access_token().secret().clone()),
        refresh_token: response
            .refresh_token()
            .map(|t| Secret::new(t.secret().clone())),
        expires_in: response.expires_in(),
        scopes: response
            .scopes()
            .map(|s| s.iter().map(|s| s.to_string()).collect())
            .unwrap_or_default(),
    }
}

/// Adapts Postwerk's reqwest client to the `oauth2` crate's async client signature.
#[allow(clippy::type_complexity)]
fn http_fn(
    http: &HttpClient,
) -> impl Fn(
    oauth2::HttpRequest,
) -> std::pin::Pin<
    Box<
        dyn std::future::Future<Output = std::result::Result<oauth2::HttpResponse, ClientFailure>>
            + Send,
    >,
> {
    let client = http.reqwest().clone();
    move |request: oauth2::HttpRequest| {
        let client = client.clone();
        Box::pin(async move {
            let request = reqwest::Request::try_from(request)
                .map_err(|e| ClientFailure(format!("invalid request: {e}")))?;
            let response = client
                .execute(request)
                .await
                .map_err(|e| ClientFailure(crate::http::transport_error(e).to_string()))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response
                .bytes()
                .await
                .map_err(|e| ClientFailure(crate::http::transport_error(e).to_string()))?;
            let mut out = http::Response::builder()
                .status(status)
                .body(body.to_vec())
                .map_err(|e| ClientFailure(e.to_string()))?;
            *out.headers_mut() = headers;
            Ok(out)
        })
    }
}

fn map_token_error<RE: std::error::Error + 'static>(
    e: RequestTokenError<RE, oauth2::StandardErrorResponse<BasicErrorResponseType>>,
) -> NetworkError {
    match e {
        RequestTokenError::ServerResponse(r) => {
            let detail = r
                .error_description()
                .cloned()
                .unwrap_or_else(|| r.error().to_string());
            match r.error() {
                BasicErrorResponseType::InvalidGrant => NetworkError::AuthExpired {
                    message: detail,
                    refreshable: false,
                },
                BasicErrorResponseType::InvalidClient
                | BasicErrorResponseType::UnauthorizedClient => {
                    NetworkError::Forbidden { message: detail }
                }
                _ => NetworkError::other(detail),
            }
        }
        RequestTokenError::Request(e) => NetworkError::transient(e.to_string()),
        RequestTokenError::Parse(e, _) => {
            NetworkError::other(format!("the token answer could not be read: {e}"))
        }
        RequestTokenError::Other(e) => NetworkError::other(e),
    }
}

/// A one-shot listener on 127.0.0.1 for the browser's redirect.
#[derive(Debug)]
pub struct Loopback {
    listener: TcpListener,
    port: u16,
}

impl Loopback {
    /// Binds 127.0.0.1 on the first free port of `ports` (0 means "any port").
    pub async fn bind(ports: &[u16]) -> Result<Self> {
        let mut last = None;
        for &port in ports {
            match TcpListener::bind(("127.0.0.1", port)).await {
                Ok(listener) => {
                    let port = listener
                        .local_addr()
                        .map_err(|e| NetworkError::other(e.to_string()))?
                        .port();
                    return Ok(Self { listener, port });
                }
                Err(e) => last = Some(e),
            }
        }
        Err(NetworkError::other(format!(
            "no free port for the sign-in redirect on 127.0.0.1 (tried {ports:?}): {}",
            last.map(|e| e.to_string()).unwrap_or_default()
        )))
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}{CALLBACK_PATH}", self.port)
    }

    /// Waits for the redirect that carries `state`, answers the browser, and returns the code.
    /// Requests for other paths or with a foreign `state` are answered and ignored, so a stray
    /// or forged request cannot end the flow. Gives up after `timeout` or on `cancel`.
    pub async fn wait_for_code(
        self,
        state: &str,
        timeout: Duration,
        cancel: CancellationToken,
    ) -> Result<Secret> {
        let wait = async {
            loop {
                let (stream, _) =
                    self.listener.accept().await.map_err(|e| {
                        NetworkError::other(format!("sign-in listener failed: {e}"))
                    })?;
                match handle_redirect(stream, state).await {
                    Some(outcome) => return outcome,
                    None => continue,
                }
            }
        };
        tokio::select! {
            outcome = wait => outcome,
            _ = tokio::time::sleep(timeout) => Err(NetworkError::Denied {
                message: format!("no answer from the browser within {} minutes", timeout.as_secs() / 60),
            }),
            _ = cancel.cancelled() => Err(NetworkError::Denied { message: "sign-in cancelled".into() }),
        }
    }
}

const PAGE_STYLE: &str = "body{font-family:system-ui,sans-serif;background:#f6f7fb;color:#1f2330;display:grid;place-items:center;height:100vh;margin:0}main{background:#fff;padding:2.5rem 3rem;border-radius:14px;box-shadow:0 8px 30px #0001;max-width:28rem;text-align:center}h1{font-size:1.3rem;margin:0 0 .6rem}p{margin:0;color:#555b6e;line-height:1.5}";

fn page(title: &str, text: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title><style>{PAGE_STYLE}</style></head><body><main><h1>{title}</h1><p>{text}</p></main></body></html>"
    )
}

async fn respond(stream: &mut TcpStream, status: &str, body: &str) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nContent-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Reads one request; `Some` ends the flow (code or refusal), `None` keeps waiting.
async fn handle_redirect(mut stream: TcpStream, state: &str) -> Option<Result<Secret>> {
    let mut buf = vec![0u8; 8192];
    let mut len = 0;
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        while len < buf.len() {
            let n = stream.read(&mut buf[len..]).await.ok()?;
            if n == 0 {
                break;
            }
            len += n;
            if buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        Some(())
    })
    .await;
    if !matches!(read, Ok(Some(()))) {
        return None;
    }
    let head = String::from_utf8_lossy(&buf[..len]);
    let target = head
        .lines()
        .next()
        .and_then(|line| line.strip_prefix("GET "))
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or("");
    let Ok(url) = Url::parse("http://127.0.0.1").and_then(|base| base.join(target)) else {
        respond(
            &mut stream,
            "400 Bad Request",
            &page("Bad request", "Postwerk did not understand this request."),
        )
        .await;
        return None;
    };
    if url.path() != CALLBACK_PATH {
        respond(
            &mut stream,
            "404 Not Found",
            &page("Not found", "Nothing here."),
        )
        .await;
        return None;
    }
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if param("state").as_deref() != Some(state) {
        respond(
            &mut stream,
            "400 Bad Request",
            &page(
                "This sign-in link is not Postwerk's",
                "It does not match the sign-in Postwerk started. Start again from Postwerk.",
            ),
        )
        .await;
        return None;
    }
    if let Some(error) = param("error") {
        let detail = param("error_description").unwrap_or_else(|| error.clone());
        respond(
            &mut stream,
            "200 OK",
            &page(
                "Access was not granted",
                "You can close this tab and return to Postwerk.",
            ),
        )
        .await;
        return Some(Err(NetworkError::Denied {
            message: format!("access was not granted: {detail}"),
        }));
    }
    match param("code").filter(|c| !c.is_empty()) {
        Some(code) => {
            respond(
                &mut stream,
                "200 OK",
                &page(
                    "Postwerk is connected",
                    "You can close this tab and return to Postwerk.",
                ),
            )
            .await;
            Some(Ok(Secret::new(code)))
        }
        None => {
            respond(
                &mut stream,
                "400 Bad Request",
                &page(
                    "No code",
                    "The answer carried no authorization code. Start again from Postwerk.",
                ),
            )
            .await;
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(port: u16, target: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(format!("GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn returns_the_code_only_for_the_right_state_and_path() {
        let lb = Loopback::bind(&[0]).await.unwrap();
        let port = lb.port();
        assert_eq!(
            lb.redirect_uri(),
            format!("http://127.0.0.1:{port}/callback")
        );
        let waiter = tokio::spawn(lb.wait_for_code(
            "s3cr3t",
            Duration::from_secs(5),
            CancellationToken::new(),
        ));
        assert!(get(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        let forged = get(port, "/callback?code=evil&state=other").await;
        assert!(forged.starts_with("HTTP/1.1 400"), "{forged}");
        let ok = get(port, "/callback?code=abc%2B1&state=s3cr3t").await;
        assert!(ok.starts_with("HTTP/1.1 200"));
        assert!(ok.contains("You can close this tab"));
        let code = waiter.await.unwrap().unwrap();
        assert_eq!(code.expose(), "abc+1");
    }

    #[tokio::test]
    async fn a_refusal_in_the_browser_ends_the_flow_with_denied() {
        let lb = Loopback::bind(&[0]).await.unwrap();
        let port = lb.port();
        let waiter =
            tokio::spawn(lb.wait_for_code("st", Duration::from_secs(5), CancellationToken::new()));
        get(port, "/callback?error=access_denied&state=st").await;
        assert!(matches!(
            waiter.await.unwrap(),
            Err(NetworkError::Denied { .. })
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn times_out_and_can_be_cancelled() {
        let lb = Loopback::bind(&[0]).await.unwrap();
        let err = lb
            .wait_for_code("st", Duration::from_secs(600), CancellationToken::new())
            .await;
        assert!(
            matches!(err, Err(NetworkError::Denied { message }) if message.contains("10 minutes"))
        );
        let lb = Loopback::bind(&[0]).await.unwrap();
        let cancel = CancellationToken::new();
        cancel.cancel();
        let err = lb
            .wait_for_code("st", Duration::from_secs(600), cancel)
            .await;
        assert!(
            matches!(err, Err(NetworkError::Denied { message }) if message.contains("cancelled"))
        );
    }

    #[test]
    fn the_authorize_url_carries_pkce_s256_and_state() {
        let cfg = OAuthConfig {
            authorize_url: Url::parse("https://example.social/oauth/authorize").unwrap(),
            token_url: Url::parse("https://example.social/oauth/token").unwrap(),
            revoke_url: None,
            client_id: "cid".into(),
            client_secret: Some(Secret::new("client-secret-xyz")),
            scopes: vec!["read:accounts".into(), "write:statuses".into()],
            credentials_in_body: true,
        };
        let auth = cfg.authorize("http://127.0.0.1:47831/callback").unwrap();
        let q: std::collections::HashMap<_, _> = auth.url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["code_challenge"].len(), 43);
        assert_eq!(q["state"], auth.state());
        assert_eq!(q["scope"], "read:accounts write:statuses");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:47831/callback");
        assert!(
            !auth.url.as_str().contains("client-secret-xyz"),
            "the client secret never goes into the URL"
        );
    }
}
