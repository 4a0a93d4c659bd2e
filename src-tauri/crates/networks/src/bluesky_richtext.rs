//! Bluesky rich text: facets with UTF-8 byte offsets for links, mentions and tags
//! (NETWORKS.md Appendix A), and record keys (TIDs).

use serde::Serialize;

/// A facet as the lexicon wants it (`app.bsky.richtext.facet`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Facet {
    pub index: ByteSlice,
    pub features: Vec<Feature>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ByteSlice {
    pub byte_start: usize,
    pub byte_end: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "$type")]
pub enum Feature {
    #[serde(rename = "app.bsky.richtext.facet#link")]
    Link { uri: String },
    #[serde(rename = "app.bsky.richtext.facet#mention")]
    Mention { did: String },
    #[serde(rename = "app.bsky.richtext.facet#tag")]
    Tag { tag: String },
}

/// A span found in the text, before mentions are resolved to DIDs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Span {
    Link {
        start: usize,
        end: usize,
        uri: String,
    },
    /// `handle` without the `@`; the span includes the `@`.
    Mention {
        start: usize,
        end: usize,
        handle: String,
    },
    /// `tag` without the `#`; the span includes the `#`.
    Tag {
        start: usize,
        end: usize,
        tag: String,
    },
}

impl Span {
    pub fn range(&self) -> (usize, usize) {
        match self {
            Self::Link { start, end, .. }
            | Self::Mention { start, end, .. }
            | Self::Tag { start, end, .. } => (*start, *end),
        }
    }
}

const TRAILING: &[char] = &['.', ',', ';', ':', '!', '?', ')', ']', '}', '"', '\'', '…'];

fn boundary_before(text: &str, at: usize) -> bool {
    text[..at]
        .chars()
        .next_back()
        .is_none_or(|c| c.is_whitespace() || matches!(c, '(' | '[' | '{' | '"' | '\''))
}

fn valid_handle(h: &str) -> bool {
    let labels: Vec<&str> = h.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
}

/// Finds links (`http(s)://…`, trailing punctuation trimmed), mentions (`@handle.domain`) and
/// hashtags (`#tag`, not only digits, at most 64 graphemes) with byte offsets into `text`.
/// Spans never overlap.
pub fn detect(text: &str) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < bytes.len() {
        let rest = &text[i..];
        if (rest.starts_with("https://") || rest.starts_with("http://")) && boundary_before(text, i)
        {
            let len = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let mut url = &rest[..len];
            // Drop trailing punctuation one character at a time; keep a ')' that closes a
            // '(' inside the URL.
            while let Some(last) = url.chars().next_back() {
                if !TRAILING.contains(&last) {
                    break;
                }
                if last == ')' && url.matches('(').count() >= url.matches(')').count() {
                    break;
                }
                url = &url[..url.len() - last.len_utf8()];
            }
            let scheme_len = if url.starts_with("https://") { 8 } else { 7 };
            if url.len() > scheme_len && url[scheme_len..].contains('.') {
                spans.push(Span::Link {
                    start: i,
                    end: i + url.len(),
                    uri: url.to_string(),
                });
                i += url.len();
                continue;
            }
            i += len.max(1);
            continue;
        }
        if rest.starts_with('@') && boundary_before(text, i) {
            let body = &rest[1..];
            let len = body
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                .unwrap_or(body.len());
            let handle = body[..len].trim_end_matches('.');
            if valid_handle(handle) {
                let end = i + 1 + handle.len();
                spans.push(Span::Mention {
                    start: i,
                    end,
                    handle: handle.to_ascii_lowercase(),
                });
                i = end;
                continue;
            }
        }
        if (rest.starts_with('#') || rest.starts_with('＃')) && boundary_before(text, i) {
            let hash_len = rest.chars().next().map(char::len_utf8).unwrap_or(1);
            let body = &rest[hash_len..];
            let len = body
                .find(|c: char| {
                    c.is_whitespace() || (c.is_ascii_punctuation() && c != '_' && c != '-')
                })
                .unwrap_or(body.len());
            let tag = body[..len].trim_end_matches(TRAILING);
            let graphemes = unicode_segmentation::UnicodeSegmentation::graphemes(tag, true).count();
            if !tag.is_empty()
                && !tag.chars().all(|c| c.is_ascii_digit())
                && graphemes <= 64
                && tag.len() <= 640
            {
                let end = i + hash_len + tag.len();
                spans.push(Span::Tag {
                    start: i,
                    end,
                    tag: tag.to_string(),
                });
                i = end;
                continue;
            }
        }
        i += rest.chars().next().map(char::len_utf8).unwrap_or(1);
    }
    spans
}

/// Turns spans into facets; `resolve` maps a handle to a DID (a mention whose handle does not
/// resolve stays plain text, as the docs advise).
pub fn facets(spans: &[Span], resolve: impl Fn(&str) -> Option<String>) -> Vec<Facet> {
    spans
        .iter()
        .filter_map(|span| {
            let (start, end) = span.range();
            let feature = match span {
                Span::Link { uri, .. } => Feature::Link { uri: uri.clone() },
                Span::Mention { handle, .. } => Feature::Mention {
                    did: resolve(handle)?,
                },
                Span::Tag { tag, .. } => Feature::Tag { tag: tag.clone() },
            };
            Some(Facet {
                index: ByteSlice {
                    byte_start: start,
                    byte_end: end,
                },
                features: vec![feature],
            })
        })
        .collect()
}

const S32: &[u8; 32] = b"234567abcdefghijklmnopqrstuvwxyz";

/// A record key in the atproto TID format: 53 bits of microseconds since the epoch and 10
/// bits of clock id, base32-sortable, 13 characters. Chosen by Postwerk before the request, so
/// a retried create cannot make a second post.
pub fn tid(micros: u64, clock_id: u16) -> String {
    let value: u64 = ((micros & ((1 << 53) - 1)) << 10) | u64::from(clock_id & 0x3ff);
    let mut out = [0u8; 13];
    for (i, slot) in out.iter_mut().enumerate() {
        let shift = 60 - 5 * i as u32;
        *slot = S32[((value >> shift) & 0x1f) as usize];
    }
    String::from_utf8(out.to_vec()).expect("ascii")
}

/// A fresh TID for now.
pub fn new_tid() -> String {
    let micros = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    tid(micros, fastrand::u16(0..1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slice<'a>(text: &'a str, span: &Span) -> &'a str {
        let (s, e) = span.range();
        &text[s..e]
    }

    #[test]
    fn the_docs_multibyte_mention_example() {
        // From the Bluesky docs: the mention spans bytes 23 to 35.
        let text = "✨ example mentioning @atproto.com to share the URL 👨‍❤️‍👨 https://en.wikipedia.org/wiki/CBOR.";
        let spans = detect(text);
        let mention = spans
            .iter()
            .find(|s| matches!(s, Span::Mention { .. }))
            .unwrap();
        assert_eq!(mention.range(), (23, 35));
        assert_eq!(slice(text, mention), "@atproto.com");
        let link = spans
            .iter()
            .find(|s| matches!(s, Span::Link { .. }))
            .unwrap();
        assert_eq!(
            slice(text, link),
            "https://en.wikipedia.org/wiki/CBOR",
            "the final dot is not part of the URL"
        );
    }

    #[test]
    fn tags_without_hash_and_not_numbers() {
        let text = "Frische #Brötchen! #2024 and #bäckerei_life, (#neu)";
        let tags: Vec<String> = detect(text)
            .into_iter()
            .filter_map(|s| match s {
                Span::Tag { tag, .. } => Some(tag),
                _ => None,
            })
            .collect();
        assert_eq!(tags, ["Brötchen", "bäckerei_life", "neu"]);
    }

    #[test]
    fn links_keep_balanced_parentheses_and_drop_trailing_punctuation() {
        let text = "See https://en.wikipedia.org/wiki/Bread_(food), and (https://example.com/x).";
        let links: Vec<&str> = detect(text).iter().map(|s| slice(text, s)).collect();
        assert_eq!(
            links,
            [
                "https://en.wikipedia.org/wiki/Bread_(food)",
                "https://example.com/x"
            ]
        );
    }

    #[test]
    fn emails_and_bare_at_are_not_mentions() {
        let text = "mail ada@example.com or @ or @nodot but @ada.bsky.social.";
        let mentions: Vec<Span> = detect(text)
            .into_iter()
            .filter(|s| matches!(s, Span::Mention { .. }))
            .collect();
        assert_eq!(mentions.len(), 1);
        assert_eq!(slice(text, &mentions[0]), "@ada.bsky.social");
    }

    #[test]
    fn unresolved_mentions_are_left_as_text() {
        let spans = detect("hi @ada.bsky.social and @ghost.example.com");
        let facets = facets(&spans, |h| {
            (h == "ada.bsky.social").then(|| "did:plc:ada".to_string())
        });
        assert_eq!(facets.len(), 1);
        assert_eq!(
            facets[0].features[0],
            Feature::Mention {
                did: "did:plc:ada".into()
            }
        );
        let json = serde_json::to_value(&facets[0]).unwrap();
        assert_eq!(json["index"]["byteStart"], 3);
        assert_eq!(
            json["features"][0]["$type"],
            "app.bsky.richtext.facet#mention"
        );
    }

    #[test]
    fn tids_are_13_sortable_chars() {
        let a = tid(1_700_000_000_000_000, 0);
        let b = tid(1_700_000_000_000_001, 0);
        assert_eq!(a.len(), 13);
        assert!(a < b);
        assert!(a.chars().all(|c| S32.contains(&(c as u8))));
        assert!(
            matches!(a.as_bytes()[0], b'2'..=b'7' | b'a'..=b'j'),
            "the top bit is 0"
        );
        assert_ne!(new_tid(), "");
    }
}
