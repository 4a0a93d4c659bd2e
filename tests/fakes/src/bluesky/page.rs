//! Web pages for link cards: an article with OpenGraph tags and a real JPEG, and a page that
//! never ends (to test size and time bounds on fetching).

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncWriteExt;

use super::Shared;
use crate::common::{html_escape, html_response, lock};

/// `og:title` of `GET /_page/article` (unescaped).
pub const ARTICLE_TITLE: &str = "Notes on the Analytical Engine & its \"Note G\"";
/// `og:description` of `GET /_page/article` (unescaped).
pub const ARTICLE_DESCRIPTION: &str =
    "Ada Lovelace's notes on Menabrea's sketch <translated>, with the first published program.";
/// The bytes `GET /_page/og.jpg` serves: a 120x63 baseline JPEG.
pub const OG_IMAGE_JPEG: &[u8] = include_bytes!("../../assets/og.jpg");

/// `GET /_page/article`.
pub(super) async fn article(State(shared): State<Shared>) -> Response {
    let base = lock(&shared.state).base.as_str().to_owned();
    let title = html_escape(ARTICLE_TITLE);
    let description = html_escape(ARTICLE_DESCRIPTION);
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{title}</title>\n<meta name=\"description\" content=\"{description}\">\n<meta property=\"og:type\" content=\"article\">\n<meta property=\"og:url\" content=\"{base}_page/article\">\n<meta property=\"og:title\" content=\"{title}\">\n<meta property=\"og:description\" content=\"{description}\">\n<meta property=\"og:image\" content=\"{base}_page/og.jpg\">\n<meta property=\"og:image:width\" content=\"120\">\n<meta property=\"og:image:height\" content=\"63\">\n<meta name=\"twitter:card\" content=\"summary_large_image\">\n</head>\n<body>\n<article>\n<h1>{title}</h1>\n<p>{description}</p>\n</article>\n</body>\n</html>\n"
    );
    html_response(StatusCode::OK, body)
}

/// `GET /_page/og.jpg`.
pub(super) async fn og_image() -> Response {
    (
        [
            (CONTENT_TYPE, "image/jpeg"),
            (CACHE_CONTROL, "public, max-age=86400"),
        ],
        OG_IMAGE_JPEG,
    )
        .into_response()
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct HugeParams {
    bytes: Option<u64>,
    chunk: Option<usize>,
    delay_ms: Option<u64>,
}

/// `GET /_page/huge?bytes=&chunk=&delayMs=`: an HTML page with OpenGraph tags up front, then
/// filler, `bytes` long in total (default 1 GiB), sent `chunk` bytes (default 64 KiB) every
/// `delayMs` (default 50 ms), without a `Content-Length`. Sending stops when the client goes
/// away.
pub(super) async fn huge(
    State(shared): State<Shared>,
    Query(params): Query<HugeParams>,
) -> Response {
    let base = lock(&shared.state).base.as_str().to_owned();
    let total = params.bytes.unwrap_or(1 << 30);
    let chunk = params.chunk.unwrap_or(64 * 1024).clamp(1, 1 << 20);
    let delay = Duration::from_millis(params.delay_ms.unwrap_or(50));
    let head = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Huge</title>\n<meta property=\"og:title\" content=\"Huge\">\n<meta property=\"og:image\" content=\"{base}_page/og.jpg\">\n<!--"
    );
    let (mut writer, reader) = tokio::io::duplex(chunk);
    tokio::spawn(async move {
        let head = head.into_bytes();
        let first = usize::try_from(total).map_or(head.len(), |t| head.len().min(t));
        if writer.write_all(&head[..first]).await.is_err() {
            return;
        }
        let mut sent = first as u64;
        let filler = vec![b'-'; chunk];
        while sent < total {
            tokio::time::sleep(delay).await;
            let n = usize::try_from(total - sent).map_or(chunk, |left| left.min(chunk));
            if writer.write_all(&filler[..n]).await.is_err() {
                return;
            }
            sent += n as u64;
        }
    });
    (
        [(CONTENT_TYPE, "text/html; charset=utf-8")],
        Body::from_stream(tokio_util::io::ReaderStream::new(reader)),
    )
        .into_response()
}
