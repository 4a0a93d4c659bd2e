//! Links the app hands to the system browser.

use url::Url;

use crate::{Error, Result};

/// Only http and https pages go to the browser (no `file:`, `javascript:` or custom schemes).
pub fn external_url(input: &str) -> Result<Url> {
    let url = Url::parse(input.trim())
        .map_err(|_| Error::invalid("url", format!("\"{input}\" is not a web address")))?;
    match url.scheme() {
        "http" | "https" => Ok(url),
        other => Err(Error::invalid(
            "url",
            format!("{other}: links are not opened"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_web_pages_are_opened() {
        assert!(external_url("https://bsky.app/profile/ada.test/post/3k").is_ok());
        for bad in [
            "javascript:alert(1)",
            "file:///etc/passwd",
            "postwerk://x",
            "not a url",
        ] {
            assert!(external_url(bad).is_err(), "{bad}");
        }
    }
}
