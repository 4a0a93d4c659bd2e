//! Bluesky's text length: `app.bsky.feed.post` `text` allows at most 300 graphemes and 3000
//! UTF-8 bytes (NETWORKS.md §2 "Limits"; lexicon `maxGraphemes` / `maxLength`). URLs count
//! in full: a link facet does not shorten the text it decorates.

use unicode_segmentation::UnicodeSegmentation;

/// `maxGraphemes` of a post's text.
pub const BLUESKY_MAX_GRAPHEMES: u32 = 300;
/// `maxLength` of a post's text, in UTF-8 bytes.
pub const BLUESKY_MAX_BYTES: u32 = 3000;

/// A chat message's `maxGraphemes` and `maxLength` (`chat.bsky.convo.defs#messageInput`).
pub const BLUESKY_MESSAGE_MAX_GRAPHEMES: u32 = 1000;
pub const BLUESKY_MESSAGE_MAX_BYTES: u32 = 10_000;

/// (extended grapheme clusters, UTF-8 bytes) of `text`.
pub fn bluesky_length(text: &str) -> (u32, u32) {
    let graphemes = text.graphemes(true).count();
    (
        u32::try_from(graphemes).unwrap_or(u32::MAX),
        u32::try_from(text.len()).unwrap_or(u32::MAX),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii() {
        assert_eq!(bluesky_length("Hello, Bluesky!"), (15, 15));
        assert_eq!(bluesky_length(""), (0, 0));
    }

    #[test]
    fn family_emoji_is_one_grapheme_of_25_bytes() {
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}";
        assert_eq!(bluesky_length(family), (1, 25));
        // Flags and skin tones are one grapheme too.
        assert_eq!(bluesky_length("🇩🇪"), (1, 8));
        assert_eq!(bluesky_length("👍🏽"), (1, 8));
        // Combining marks join their base.
        assert_eq!(bluesky_length("e\u{301}"), (1, 3));
        assert_eq!(bluesky_length("\r\n"), (1, 2));
    }

    #[test]
    fn urls_count_in_full() {
        let url = "https://example.com/a/long/path/that/is/not/shortened";
        let n = u32::try_from(url.len()).unwrap();
        assert_eq!(bluesky_length(url), (n, n));
    }

    #[test]
    fn multibyte_text_can_fit_graphemes_but_not_bytes() {
        // 300 graphemes of 25 bytes each: within the grapheme limit, far over the bytes.
        let family = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}";
        let (g, b) = bluesky_length(&family.repeat(300));
        assert_eq!(g, BLUESKY_MAX_GRAPHEMES);
        assert_eq!(b, 7500);
        assert!(b > BLUESKY_MAX_BYTES);
        // 300 CJK characters are 900 bytes: fine on both counts.
        assert_eq!(bluesky_length(&"語".repeat(300)), (300, 900));
        // Combining-mark clusters: 300 graphemes of 11 bytes each.
        let zalgo = "a\u{300}\u{301}\u{302}\u{303}\u{304}";
        assert_eq!(bluesky_length(&zalgo.repeat(300)), (300, 3300));
    }
}
