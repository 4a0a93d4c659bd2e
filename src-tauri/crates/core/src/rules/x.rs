//! X's weighted length: twitter-text `parseTweet` with `config/v3.json` (NETWORKS.md,
//! Appendix C).

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use super::emoji;
use super::urls::{self, Flavor};

/// `maxWeightedTweetLength` of config v3.
pub const X_MAX_WEIGHTED_LENGTH: u32 = 280;
/// `transformedURLLength`: every URL counts this much, whatever its length.
pub const X_URL_LENGTH: u32 = 23;

const SCALE: u32 = 100;
const DEFAULT_WEIGHT: u32 = 200;
/// `ranges` of config v3: code points that weigh 100 (one character).
const LIGHT_RANGES: [(u32, u32); 4] = [(0, 4351), (8192, 8205), (8208, 8223), (8242, 8247)];

/// A text measured the way X measures it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct XLength {
    /// Weighted length: most scripts 1 per character, CJK and emoji 2, URLs 23.
    pub weighted: u32,
    /// As twitter-text's `valid`: 0 < weighted <= 280 and no U+FFFE, U+FEFF, U+FFFF.
    pub valid: bool,
}

fn weight(c: char) -> u32 {
    let cp = c as u32;
    if LIGHT_RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&cp)) {
        SCALE
    } else {
        DEFAULT_WEIGHT
    }
}

/// Whether the text holds a character X refuses (U+FFFE, U+FEFF, U+FFFF).
pub(crate) fn has_invalid_chars(text: &str) -> bool {
    text.chars().any(urls::is_invalid)
}

/// The weighted length of `text` per twitter-text v3: NFC first; every URL (with or without
/// a scheme, if its TLD is known) counts 23; an emoji sequence (ZWJ family, skin tone, flag,
/// keycap) counts 2 once; U+0000–U+10FF and the general punctuation ranges count 1;
/// everything else 2.
pub fn x_weighted_length(text: &str) -> XLength {
    let normalized: String = text.nfc().collect();
    let urls = urls::extract_urls(&normalized, Flavor::X);
    let chars: Vec<(usize, char)> = normalized.char_indices().collect();
    let only_chars: Vec<char> = chars.iter().map(|&(_, c)| c).collect();

    let mut total: u32 = 0;
    let mut next_url = urls.iter().peekable();
    let mut i = 0;
    while i < chars.len() {
        let byte = chars[i].0;
        while next_url.peek().is_some_and(|u| u.end <= byte) {
            next_url.next();
        }
        if let Some(url) = next_url.peek().filter(|u| u.start == byte) {
            total += X_URL_LENGTH * SCALE;
            let end = url.end;
            while i < chars.len() && chars[i].0 < end {
                i += 1;
            }
            continue;
        }
        if let Some(len) = emoji::sequence_len(&only_chars[i..]) {
            total += DEFAULT_WEIGHT;
            i += len;
            continue;
        }
        total += weight(chars[i].1);
        i += 1;
    }
    let weighted = total / SCALE;
    XLength {
        weighted,
        valid: weighted > 0 && weighted <= X_MAX_WEIGHTED_LENGTH && !has_invalid_chars(&normalized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(text: &str) -> u32 {
        x_weighted_length(text).weighted
    }

    fn check(text: &str, weighted: u32, valid: bool) {
        assert_eq!(
            x_weighted_length(text),
            XLength { weighted, valid },
            "{text:?}"
        );
    }

    const FAMILY: &str = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}";
    const CJK_160: &str = "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。朱雀桥边野草花，乌衣巷口夕阳斜。旧时王谢堂前燕，飞入寻常百姓家。朝辞白帝彩云间，千里江陵一日还。两岸猿声啼不住，轻舟已过万重山。泪湿罗巾梦不成，夜深前殿按歌声。红颜未老恩先断，斜倚薰笼坐到明。独在异乡为异客，每逢佳节倍思亲。遥知兄弟登高处，遍插茱萸少一人。";
    const KANA_10: &str = "あいうえおかきくけこ";

    fn xs(n: usize) -> String {
        "xxxxxxxxxx-".repeat(n)
    }

    // twitter-text conformance/validate.yml, `WeightedTweetsWithDiscountedEmojiCounterTest`
    // (the v3 config with emoji parsing).
    #[test]
    fn conformance_weighted_v3() {
        check("Hi http://test.co", 26, true);
        check("http://test.co", 23, true);
        check(&format!("285 chars-{}", xs(25)), 285, false);
        check(
            &format!("285 chars- http://www.twitter.com/jack {}", xs(24)),
            299,
            false,
        );
        check(
            &format!("{} http://www.twitter.com/jack ", xs(24)),
            289,
            false,
        );
        check(&"https://www.twitter.com/aloha ".repeat(10), 240, true);
        check(CJK_160, 320, false);
        check(&"😷".repeat(160), 320, false);
        check(&format!("the{CJK_160}"), 323, false);
        check(&format!("282 chars-{}xxxxxÁx", xs(24)), 281, false);
        check(&format!("H\u{1F431}\u{263A}{FAMILY}"), 7, true);
        check("😷👾😡🔥💩", 10, true);
        check("\u{1F64B}\u{1F3FD}\u{1F468}\u{200D}\u{1F3A4}", 4, true);
        check(
            "This is a tweet with general punctuation characters: \u{2000}\u{2001}\u{2002}\u{2003}\u{2004}\u{2005}\u{2006}\u{2007}\u{2008}\u{2009}\u{200A}\u{200B} ‐ ‑ ‒ – — ― ‖  ‗ ‘ ’ ‚ ‛ “ ” „ ‟ ′ ″ ‴ ‵ ‶ ‷",
            110,
            true,
        );
        check(
            "randomurlrandomurlrandomurlrandomurlrandomurlrandomurlrandomurls.com",
            68,
            true,
        );
        check(
            &format!(
                "{} http://{}あいう.com",
                KANA_10.repeat(12),
                KANA_10.repeat(5)
            ),
            358,
            false,
        );
        check(
            &format!(
                "{} http://{}あい.com",
                KANA_10.repeat(12),
                KANA_10.repeat(5)
            ),
            264,
            true,
        );
        check(&FAMILY.repeat(140), 280, true);
        check(
            "Unicode 10.0 emoji: \u{1F92A}; \u{1F9D5}; \u{1F9D5}\u{1F3FE}; \u{1F3F4}\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}",
            34,
            true,
        );
        check(
            "Unicode 9.0 emoji: \u{1F920}; \u{1F483}; \u{1F483}\u{1F3FE}",
            29,
            true,
        );
    }

    #[test]
    fn conformance_long_urls_with_invalid_labels() {
        let long = format!("https://{}.com/foo", "somesuperlongurl".repeat(249));
        let text = format!(
            "Long url with invalid domain labels and a short url: {long} {long} {long} https://validurl.com"
        );
        check(&text, 12079, false);
    }

    // `WeightedTweetsCounterTest` cases whose v2 and v3 results agree (NFC), the
    // `UnicodeDirectionalMarkerCounterTest` cases, and the `lengths` texts (their expected
    // values there are v1 code point counts; here with v3 weights: non-BMP and Hangul 2).
    #[test]
    fn conformance_other() {
        check("A\u{301}B", 2, true);
        check("A\u{FB2C}", 4, true);
        check("ABC\u{202A}\u{FFFF}ABC\u{FFFE}", 12, false);
        check(
            "\u{2066}\u{202A}http://foobar.پاکستان/\u{202C}\u{2069}",
            31,
            true,
        );
        assert_eq!(w("This is a test."), 15);
        assert_eq!(w("http://test.com"), 23);
        assert_eq!(w("https://test.com"), 23);
        assert_eq!(w("test.com"), 23);
        assert_eq!(
            w("Test https://test.com test https://test.com test.com test"),
            86
        );
        assert_eq!(w("\u{10000}\u{10FFFF}"), 4);
        assert_eq!(w("저찀쯿쿿"), 8);
    }

    // `tweets` of validate.yml: validity of whole texts.
    #[test]
    fn conformance_tweets() {
        assert!(x_weighted_length("I am a Tweet").valid);
        let churchill = "A lie gets halfway around the world before the truth has a chance to get its pants on. Winston Churchill (1874-1965) http://bit.ly/dJpywL";
        assert!(x_weighted_length(churchill).valid);
        assert!(x_weighted_length("A lié géts halfway arøünd thé wørld béføré thé truth has a chance tø get its pants øn. Winston Churchill (1874-1965) http://bit.ly/dJpywL").valid);
        assert!(x_weighted_length(&"の".repeat(140)).valid);
        assert!(x_weighted_length(&"\u{1F431}".repeat(140)).valid);
        assert!(!x_weighted_length(&"の".repeat(141)).valid);
        assert!(!x_weighted_length("").valid);
        assert!(!x_weighted_length(&format!("{churchill} {churchill}")).valid);
        assert!(!x_weighted_length(&format!("{churchill}\n{churchill}")).valid);
    }

    #[test]
    fn emoji_weights() {
        assert_eq!(w("©"), 1);
        assert_eq!(w("©\u{FE0F}"), 2);
        assert_eq!(w("1\u{FE0F}\u{20E3}"), 2);
        assert_eq!(w("🇩🇪"), 2);
        assert_eq!(w("a\u{200D}b"), 3);
        assert_eq!(w("\u{FEFF}"), 2);
        assert!(!x_weighted_length("hi\u{FEFF}").valid);
    }
}
