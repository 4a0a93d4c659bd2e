//! Remote HTML (Mastodon statuses) reduced in Rust to a safe subset before it reaches the
//! webview: paragraphs, line breaks, links (http and https only, marked external, never
//! opening inside the app), and the spans Mastodon uses to shorten links and mark mentions.
//! Nothing active survives: no script, style, event handler, `javascript:` URL, SVG, iframe,
//! form or image (remote images are shown elsewhere, over https only).

use std::collections::HashSet;

/// The safe subset of `html`.
pub fn sanitize(html: &str) -> String {
    let tags: HashSet<&str> = [
        "p",
        "br",
        "a",
        "span",
        "strong",
        "em",
        "b",
        "i",
        "u",
        "del",
        "s",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
    ]
    .into_iter()
    .collect();
    let classes: HashSet<&str> = [
        "invisible",
        "ellipsis",
        "mention",
        "hashtag",
        "h-card",
        "u-url",
    ]
    .into_iter()
    .collect();
    ammonia::Builder::default()
        .tags(tags)
        .generic_attributes(HashSet::new())
        .tag_attributes(std::iter::once(("a", ["href"].into_iter().collect())).collect())
        .allowed_classes(
            std::iter::once(("span", classes.clone()))
                .chain(std::iter::once(("a", classes)))
                .collect(),
        )
        .url_schemes(["http", "https"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_relative(ammonia::UrlRelative::Deny)
        .clean(html)
        .to_string()
}

/// The text of `html` for search and previews: tags dropped, paragraphs and line breaks as
/// newlines, entities decoded.
pub fn to_text(html: &str) -> String {
    let spaced = html
        .replace("<br>", "\n")
        .replace("<br/>", "\n")
        .replace("<br />", "\n")
        .replace("</p>", "</p>\n\n")
        .replace("<p>", "\n\n<p>");
    let stripped = ammonia::Builder::empty().clean(&spaced).to_string();
    let decoded = stripped
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&");
    // Paragraph breaks at most once between blocks.
    let mut out = decoded.trim().to_string();
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mastodon_markup_keeps_links_mentions_and_paragraphs() {
        let html = r#"<p>Hi <span class="h-card"><a href="https://x.example/@ada" class="u-url mention">@<span>ada</span></a></span>, see <a href="https://baeckerei.example/angebot" rel="nofollow noopener" target="_blank"><span class="invisible">https://</span><span class="">baeckerei.example/angebot</span></a></p><p>Line<br>two</p>"#;
        let clean = sanitize(html);
        assert!(clean.contains(r#"<a href="https://x.example/@ada" class="u-url mention" rel="noopener noreferrer nofollow">"#), "{clean}");
        assert!(
            clean.contains(r#"<span class="invisible">https://</span>"#),
            "{clean}"
        );
        assert!(clean.contains("<p>Line<br>two</p>"), "{clean}");
        assert!(!clean.contains("target"), "{clean}");
        assert_eq!(
            to_text(html),
            "Hi @ada, see https://baeckerei.example/angebot\n\nLine\ntwo"
        );
    }

    #[test]
    fn script_and_event_handler_vectors_are_removed() {
        let vectors = [
            r#"<script>window.__pwned=1</script>"#,
            r#"<img src=x onerror="window.__pwned=1">"#,
            r#"<a href="javascript:window.__pwned=1">click</a>"#,
            r#"<a href="JaVaScRiPt:window.__pwned=1">click</a>"#,
            r#"<svg onload="window.__pwned=1"><script>window.__pwned=1</script></svg>"#,
            r#"<iframe src="https://evil.example/"></iframe>"#,
            r#"<p style="background:url(javascript:alert(1))" onclick="window.__pwned=1">x</p>"#,
            r#"<a href="data:text/html,<script>window.__pwned=1</script>">x</a>"#,
            r#"<math><mtext><table><mglyph><style><img src=x onerror=window.__pwned=1>"#,
            r#"<form action="https://evil.example"><input name=x></form>"#,
            r#"<a href="/relative">relative</a>"#,
        ];
        for v in vectors {
            let clean = sanitize(v);
            let lower = clean.to_lowercase();
            for bad in [
                "<script",
                "onerror",
                "onload",
                "onclick",
                "javascript:",
                "<svg",
                "<iframe",
                "<img",
                "<style",
                "data:",
                "<form",
                "<input",
                "style=",
                "/relative",
            ] {
                assert!(!lower.contains(bad), "{v} -> {clean}");
            }
        }
    }
}
