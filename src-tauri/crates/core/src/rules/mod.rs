//! The network rules engine: how long a text may be on each network and how the network
//! counts it, how to split a long text into a thread, and which media a post may carry.
//!
//! Sources: `shared/NETWORKS.md` (§0 summary, §1 Mastodon, §2 Bluesky, §3 X, Appendix C),
//! twitter-text (`config/v3.json`, `conformance/validate.yml`, `js/src/parseTweet.js`) and
//! Mastodon's `StatusLengthValidator`. The unit tests carry their official examples.

mod bluesky;
mod emoji;
mod mastodon;
mod media;
mod split;
mod tlds;
mod urls;
mod x;

use postwerk_networks::NetworkKind;
use serde::{Deserialize, Serialize};
use unicode_segmentation::UnicodeSegmentation;

pub use bluesky::{BLUESKY_MAX_BYTES, BLUESKY_MAX_GRAPHEMES, bluesky_length};
pub use mastodon::{MASTODON_DEFAULT_MAX_CHARACTERS, MASTODON_DEFAULT_URL_WEIGHT, mastodon_length};
pub use media::{MediaItem, MediaProblem, MediaProblemCode, MediaRules, check_media, media_rules};
pub use split::split_thread;
pub use x::{X_MAX_WEIGHTED_LENGTH, X_URL_LENGTH, XLength, x_weighted_length};

/// Per-account values that change how texts are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase", default)]
pub struct Limits {
    /// The Mastodon instance's `configuration.statuses.max_characters` (500 by default).
    pub mastodon_max_characters: u32,
    /// The instance's `characters_reserved_per_url` (23 by default).
    pub mastodon_url_weight: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            mastodon_max_characters: MASTODON_DEFAULT_MAX_CHARACTERS,
            mastodon_url_weight: MASTODON_DEFAULT_URL_WEIGHT,
        }
    }
}

impl Limits {
    /// The limits an instance reports; its zero (unknown) values fall back to the defaults.
    pub fn from_instance(info: &postwerk_networks::mastodon::InstanceInfo) -> Self {
        let d = Self::default();
        Self {
            mastodon_max_characters: nonzero_or(info.max_characters, d.mastodon_max_characters),
            mastodon_url_weight: nonzero_or(
                info.characters_reserved_per_url,
                d.mastodon_url_weight,
            ),
        }
    }
}

fn nonzero_or(value: u32, default: u32) -> u32 {
    if value == 0 { default } else { value }
}

/// What a network's text length counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub enum LengthUnit {
    /// Extended grapheme clusters ("characters" as people see them).
    Graphemes,
    /// A network-specific weighting: X (CJK and emoji 2, URLs 23), Threads (emoji count
    /// their UTF-8 bytes), TikTok (UTF-16 code units).
    Weighted,
}

/// The verdict on one text for one network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "camelCase")]
pub struct TextCheck {
    pub network: NetworkKind,
    /// The length as the network counts it, in `unit`.
    pub length: u32,
    /// The most the network takes, in `unit`; 0 when not known (or only bytes are limited).
    pub limit: u32,
    /// Within every limit the network has (and, on X, no character X refuses).
    pub ok: bool,
    /// How far `length` is over `limit` (0 when within it).
    pub over_by: u32,
    pub unit: LengthUnit,
    /// UTF-8 bytes, for networks that also limit bytes (Bluesky, YouTube).
    pub bytes: Option<u32>,
    pub byte_limit: Option<u32>,
    /// An English sentence for the UI when not ok, e.g. "312 of 300 characters: 12 too many
    /// for Bluesky". The UI may build its own from the numbers.
    pub message: Option<String>,
}

/// How one network limits text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TextRule {
    limit: u32,
    unit: LengthUnit,
    byte_limit: Option<u32>,
}

const fn graphemes(limit: u32) -> TextRule {
    TextRule {
        limit,
        unit: LengthUnit::Graphemes,
        byte_limit: None,
    }
}

/// The text limits from NETWORKS.md §0 and the network sections. ⚠ marks values the
/// document itself flags as unconfirmed.
fn text_rule(network: NetworkKind, limits: &Limits) -> TextRule {
    match network {
        NetworkKind::Mastodon => graphemes(limits.mastodon_max_characters),
        NetworkKind::Bluesky => TextRule {
            byte_limit: Some(BLUESKY_MAX_BYTES),
            ..graphemes(BLUESKY_MAX_GRAPHEMES)
        },
        NetworkKind::X => TextRule {
            limit: X_MAX_WEIGHTED_LENGTH,
            unit: LengthUnit::Weighted,
            byte_limit: None,
        },
        // ⚠ "widely cited".
        NetworkKind::Linkedin => graphemes(3000),
        // ⚠ "about 63,206".
        NetworkKind::FacebookPages => graphemes(63_206),
        // ⚠ third-party figure for the caption.
        NetworkKind::Instagram => graphemes(2200),
        // "each emoji counts as its UTF-8 byte length".
        NetworkKind::Threads => TextRule {
            limit: 500,
            unit: LengthUnit::Weighted,
            byte_limit: None,
        },
        // The description: 5000 bytes; the title (100) is a separate field.
        NetworkKind::Youtube => TextRule {
            byte_limit: Some(5000),
            ..graphemes(0)
        },
        // The Pin description.
        NetworkKind::Pinterest => graphemes(800),
        // The title: 2200 UTF-16 code units.
        NetworkKind::Tiktok => TextRule {
            limit: 2200,
            unit: LengthUnit::Weighted,
            byte_limit: None,
        },
        // ⚠ the summary.
        NetworkKind::GoogleBusiness => graphemes(1500),
        // A text message; a media caption takes 1024.
        NetworkKind::Telegram => graphemes(4096),
        // The self text; the title (300) is a separate field.
        NetworkKind::Reddit => graphemes(40_000),
        NetworkKind::Flickr | NetworkKind::Xing => graphemes(0),
    }
}

/// For networks whose length is a sum over graphemes (all but Mastodon and X, where URLs
/// and mentions shrink): what one grapheme weighs.
pub(crate) fn grapheme_weight(network: NetworkKind, g: &str) -> Option<u32> {
    let n = match network {
        NetworkKind::Mastodon | NetworkKind::X => return None,
        // Threads: an emoji counts its UTF-8 bytes (NETWORKS.md §7 "Limits").
        NetworkKind::Threads if emoji::is_emoji_grapheme(g) => g.len(),
        // TikTok: UTF-16 code units.
        NetworkKind::Tiktok => g.encode_utf16().count(),
        _ => 1,
    };
    Some(u32::try_from(n).unwrap_or(u32::MAX))
}

fn threads_length(text: &str) -> u32 {
    text.graphemes(true)
        .filter_map(|g| grapheme_weight(NetworkKind::Threads, g))
        .fold(0u32, u32::saturating_add)
}

/// The network's (length limit, byte limit); 0 and `None` when there is none.
pub(crate) fn limit_numbers(network: NetworkKind, limits: &Limits) -> (u32, Option<u32>) {
    let rule = text_rule(network, limits);
    (rule.limit, rule.byte_limit)
}

fn grapheme_count(text: &str) -> u32 {
    u32::try_from(text.graphemes(true).count()).unwrap_or(u32::MAX)
}

fn byte_count(text: &str) -> u32 {
    u32::try_from(text.len()).unwrap_or(u32::MAX)
}

/// The length of `text` (with `spoiler`, on Mastodon) in the network's unit.
fn measure(network: NetworkKind, text: &str, spoiler: &str, limits: &Limits) -> u32 {
    match network {
        NetworkKind::Mastodon => mastodon_length(text, spoiler, limits.mastodon_url_weight),
        NetworkKind::X => x_weighted_length(text).weighted,
        NetworkKind::Threads => threads_length(text),
        NetworkKind::Tiktok => u32::try_from(text.encode_utf16().count()).unwrap_or(u32::MAX),
        _ => grapheme_count(text),
    }
}

/// Whether `text` is within the network's length limits (a thread part must be).
pub(crate) fn fits(network: NetworkKind, text: &str, limits: &Limits) -> bool {
    let rule = text_rule(network, limits);
    (rule.limit == 0 || measure(network, text, "", limits) <= rule.limit)
        && rule.byte_limit.is_none_or(|max| byte_count(text) <= max)
}

/// How full `text` makes a post, 0.0..: the larger of length/limit and bytes/byte limit.
pub(crate) fn fill(network: NetworkKind, text: &str, limits: &Limits) -> f64 {
    let rule = text_rule(network, limits);
    let mut f: f64 = 0.0;
    if rule.limit > 0 {
        f = f64::from(measure(network, text, "", limits)) / f64::from(rule.limit);
    }
    if let Some(max) = rule.byte_limit.filter(|m| *m > 0) {
        f = f.max(f64::from(byte_count(text)) / f64::from(max));
    }
    f
}

/// Whether the network limits text at all (as far as Postwerk knows).
pub(crate) fn has_text_limit(network: NetworkKind, limits: &Limits) -> bool {
    let rule = text_rule(network, limits);
    rule.limit > 0 || rule.byte_limit.is_some()
}

/// "12,345".
pub(crate) fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn too_many(length: u32, limit: u32, what: &str, network: NetworkKind) -> String {
    format!(
        "{} of {} {what}: {} too many for {}",
        group_thousands(length.into()),
        group_thousands(limit.into()),
        group_thousands((length - limit).into()),
        network.display_name()
    )
}

/// Checks `text` (and on Mastodon the content warning `spoiler`, which counts toward the
/// limit; other networks have no such field and ignore it) against the network's limits.
///
/// Mastodon and Bluesky count graphemes (Bluesky also bytes), X its weighted length.
/// Other networks use their documented limits (NETWORKS.md §0); a limit of 0 means none is
/// known and the text is always ok. An empty text is ok here: a post may be media only.
pub fn check_text(network: NetworkKind, text: &str, spoiler: &str, limits: &Limits) -> TextCheck {
    check_with(network, text, spoiler, limits, text_rule(network, limits))
}

/// A Bluesky chat message (`chat.bsky.convo.defs#messageInput`): at most 1,000 graphemes
/// and 10,000 UTF-8 bytes, more than a post allows.
pub fn check_bluesky_message(text: &str) -> TextCheck {
    let rule = TextRule {
        byte_limit: Some(bluesky::BLUESKY_MESSAGE_MAX_BYTES),
        ..graphemes(bluesky::BLUESKY_MESSAGE_MAX_GRAPHEMES)
    };
    check_with(NetworkKind::Bluesky, text, "", &Limits::default(), rule)
}

fn check_with(
    network: NetworkKind,
    text: &str,
    spoiler: &str,
    limits: &Limits,
    rule: TextRule,
) -> TextCheck {
    let length = measure(network, text, spoiler, limits);
    let over_by = if rule.limit > 0 {
        length.saturating_sub(rule.limit)
    } else {
        0
    };
    let bytes = rule.byte_limit.map(|_| byte_count(text));
    let bytes_over = match (bytes, rule.byte_limit) {
        (Some(b), Some(max)) => b.saturating_sub(max),
        _ => 0,
    };
    let refused = network == NetworkKind::X && x::has_invalid_chars(text);

    let mut problems = Vec::new();
    if over_by > 0 {
        problems.push(too_many(length, rule.limit, "characters", network));
    }
    if let (Some(b), Some(max)) = (bytes, rule.byte_limit)
        && bytes_over > 0
    {
        problems.push(too_many(b, max, "bytes", network));
    }
    if refused {
        problems
            .push("The text contains a character X refuses (U+FFFE, U+FEFF or U+FFFF)".to_string());
    }
    TextCheck {
        network,
        length,
        limit: rule.limit,
        ok: problems.is_empty(),
        over_by,
        unit: rule.unit,
        bytes,
        byte_limit: rule.byte_limit,
        message: (!problems.is_empty()).then(|| problems.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(network: NetworkKind, text: &str) -> TextCheck {
        check_text(network, text, "", &Limits::default())
    }

    #[test]
    fn thousands() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(3100), "3,100");
        assert_eq!(group_thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn a_bluesky_message_may_be_longer_than_a_post() {
        let c = check_bluesky_message(&"ä".repeat(1000));
        assert!(c.ok, "{c:?}");
        assert_eq!(
            (c.length, c.limit, c.bytes, c.byte_limit),
            (1000, 1000, Some(2000), Some(10_000))
        );
        let c = check_bluesky_message(&"a".repeat(1001));
        assert!(!c.ok);
        assert_eq!(c.over_by, 1);
        assert_eq!(
            c.message.as_deref(),
            Some("1,001 of 1,000 characters: 1 too many for Bluesky")
        );
    }

    #[test]
    fn bluesky_graphemes_over() {
        let c = check(NetworkKind::Bluesky, &"a".repeat(312));
        assert!(!c.ok);
        assert_eq!((c.length, c.limit, c.over_by), (312, 300, 12));
        assert_eq!(c.unit, LengthUnit::Graphemes);
        assert_eq!((c.bytes, c.byte_limit), (Some(312), Some(3000)));
        assert_eq!(
            c.message.as_deref(),
            Some("312 of 300 characters: 12 too many for Bluesky")
        );
    }

    #[test]
    fn bluesky_bytes_over() {
        // 100 graphemes of 31 bytes each ("e" and 15 combining accents): 3,100 bytes.
        let g = format!("e{}", "\u{301}".repeat(15));
        let c = check(NetworkKind::Bluesky, &g.repeat(100));
        assert_eq!((c.length, c.bytes), (100, Some(3100)));
        assert!(!c.ok);
        assert_eq!(c.over_by, 0, "the graphemes are within the limit");
        assert_eq!(
            c.message.as_deref(),
            Some("3,100 of 3,000 bytes: 100 too many for Bluesky")
        );
        // Over on both counts.
        let c = check(NetworkKind::Bluesky, &"é".repeat(1550));
        assert!(!c.ok);
        assert_eq!(c.over_by, 1250);
        assert_eq!(
            c.message.as_deref(),
            Some(
                "1,550 of 300 characters: 1,250 too many for Bluesky; 3,100 of 3,000 bytes: 100 too many for Bluesky"
            )
        );
    }

    #[test]
    fn bluesky_ok() {
        let c = check(NetworkKind::Bluesky, &"語".repeat(300));
        assert!(c.ok && c.message.is_none() && c.over_by == 0);
    }

    #[test]
    fn mastodon_uses_instance_limits_and_counts_cw() {
        let limits = Limits {
            mastodon_max_characters: 20,
            mastodon_url_weight: 23,
        };
        let c = check_text(NetworkKind::Mastodon, "0123456789", "0123456789", &limits);
        assert!(c.ok, "{c:?}");
        assert_eq!(c.length, 20);
        let c = check_text(NetworkKind::Mastodon, "0123456789", "0123456789!", &limits);
        assert!(!c.ok);
        assert_eq!(c.over_by, 1);
        assert_eq!(
            c.message.as_deref(),
            Some("21 of 20 characters: 1 too many for Mastodon")
        );
        let c = check(NetworkKind::Mastodon, &"a".repeat(500));
        assert!(c.ok);
        assert_eq!(c.limit, 500);
    }

    #[test]
    fn limits_from_instance() {
        let info = postwerk_networks::mastodon::InstanceInfo {
            domain: "example.social".into(),
            title: "Example".into(),
            version: "4.3.0".into(),
            max_characters: 5000,
            characters_reserved_per_url: 0,
            max_media_attachments: 4,
            image_size_limit: 16_777_216,
            video_size_limit: 103_809_024,
            supported_mime_types: vec![],
            description_limit: 1500,
        };
        assert_eq!(
            Limits::from_instance(&info),
            Limits {
                mastodon_max_characters: 5000,
                mastodon_url_weight: 23
            }
        );
    }

    #[test]
    fn x_weighted() {
        let c = check(NetworkKind::X, &"の".repeat(141));
        assert_eq!((c.length, c.limit, c.over_by), (282, 280, 2));
        assert_eq!(c.unit, LengthUnit::Weighted);
        assert_eq!(c.bytes, None);
        assert_eq!(
            c.message.as_deref(),
            Some("282 of 280 characters: 2 too many for X")
        );
        assert!(check(NetworkKind::X, "").ok, "media-only posts are fine");
        let c = check(NetworkKind::X, "a\u{FFFE}");
        assert!(!c.ok && c.over_by == 0);
        assert!(c.message.unwrap().contains("U+FFFE"));
    }

    #[test]
    fn other_networks() {
        let c = check(NetworkKind::Linkedin, &"a".repeat(3001));
        assert_eq!((c.limit, c.over_by, c.ok), (3000, 1, false));
        let c = check(NetworkKind::Telegram, &"a".repeat(4096));
        assert!(c.ok);
        let c = check(NetworkKind::Flickr, &"a".repeat(100_000));
        assert!(c.ok && c.limit == 0 && c.message.is_none());
        let c = check(NetworkKind::Xing, "anything");
        assert!(c.ok && c.limit == 0);
        // Threads: an emoji counts its UTF-8 bytes.
        let c = check(NetworkKind::Threads, &format!("{}👍", "a".repeat(496)));
        assert_eq!((c.length, c.ok), (500, true));
        let c = check(NetworkKind::Threads, &format!("{}👍", "a".repeat(497)));
        assert_eq!((c.length, c.over_by), (501, 1));
        // YouTube limits the description in bytes only.
        let c = check(NetworkKind::Youtube, &"ä".repeat(2501));
        assert_eq!(
            (c.limit, c.bytes, c.byte_limit, c.ok),
            (0, Some(5002), Some(5000), false)
        );
        assert_eq!(
            c.message.as_deref(),
            Some("5,002 of 5,000 bytes: 2 too many for YouTube")
        );
        // TikTok: UTF-16 code units.
        let c = check(NetworkKind::Tiktok, &"😀".repeat(1101));
        assert_eq!((c.length, c.over_by), (2202, 2));
    }

    #[test]
    fn serializes_camel_case() {
        let c = check(NetworkKind::Bluesky, &"a".repeat(301));
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["overBy"], 1);
        assert_eq!(json["byteLimit"], 3000);
        assert_eq!(json["unit"], "graphemes");
        assert_eq!(json["network"], "bluesky");
        let l: Limits = serde_json::from_str(r#"{"mastodonMaxCharacters": 1000}"#).unwrap();
        assert_eq!(l.mastodon_url_weight, 23);
    }
}
