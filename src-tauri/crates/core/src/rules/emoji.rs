//! Emoji sequences as twemoji-parser (used by twitter-text v3) finds them: a base emoji with
//! its variation selector, skin tone, tag sequence and ZWJ-joined parts; flags; keycaps.
//! Built on the Unicode emoji properties from `unicode-properties`.

use unicode_properties::{EmojiStatus, UnicodeEmoji};

const ZWJ: char = '\u{200D}';
const VS16: char = '\u{FE0F}';
const KEYCAP: char = '\u{20E3}';
const CANCEL_TAG: char = '\u{E007F}';

fn is_regional_indicator(c: char) -> bool {
    matches!(c, '\u{1F1E6}'..='\u{1F1FF}')
}

fn is_skin_tone(c: char) -> bool {
    matches!(c, '\u{1F3FB}'..='\u{1F3FF}')
}

fn is_tag(c: char) -> bool {
    matches!(c, '\u{E0020}'..='\u{E007E}')
}

fn has_emoji_presentation(c: char) -> bool {
    matches!(
        c.emoji_status(),
        EmojiStatus::EmojiPresentation
            | EmojiStatus::EmojiPresentationAndModifierBase
            | EmojiStatus::EmojiPresentationAndEmojiComponent
            | EmojiStatus::EmojiPresentationAndModifierAndEmojiComponent
    )
}

/// Skips what may follow one emoji: VS16, a skin tone, a tag sequence.
fn extend(cs: &[char], mut i: usize) -> usize {
    if cs.get(i) == Some(&VS16) {
        i += 1;
    }
    if cs.get(i).copied().is_some_and(is_skin_tone) {
        i += 1;
    }
    let tags = cs[i.min(cs.len())..]
        .iter()
        .take_while(|c| is_tag(**c))
        .count();
    if tags > 0 && cs.get(i + tags) == Some(&CANCEL_TAG) {
        i += tags + 1;
    }
    if cs.get(i) == Some(&VS16) {
        i += 1;
    }
    i
}

/// If an emoji sequence starts at `cs[0]`, its length in chars.
///
/// Text-default symbols below U+1100 (©, ®, digits) count as emoji only with VS16 or as a
/// keycap, as in twemoji; every other emoji character starts a sequence.
pub(crate) fn sequence_len(cs: &[char]) -> Option<usize> {
    let &c0 = cs.first()?;
    if is_regional_indicator(c0) {
        let flag = cs.get(1).copied().is_some_and(is_regional_indicator);
        return Some(if flag { 2 } else { 1 });
    }
    if matches!(c0, '#' | '*' | '0'..='9') {
        let i = if cs.get(1) == Some(&VS16) { 2 } else { 1 };
        return (cs.get(i) == Some(&KEYCAP)).then_some(i + 1);
    }
    if !c0.is_emoji_char() {
        return None;
    }
    let mut i = extend(cs, 1);
    while cs.get(i) == Some(&ZWJ) && cs.get(i + 1).is_some_and(|c| c.is_emoji_char()) {
        i = extend(cs, i + 2);
    }
    let emoji = has_emoji_presentation(c0) || i > 1 || (c0 as u32) >= 0x1100;
    emoji.then_some(i)
}

/// Whether a grapheme cluster is (starts with) an emoji sequence.
pub(crate) fn is_emoji_grapheme(g: &str) -> bool {
    let cs: Vec<char> = g.chars().collect();
    sequence_len(&cs).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(s: &str) -> Option<usize> {
        sequence_len(&s.chars().collect::<Vec<_>>())
    }

    #[test]
    fn sequences() {
        // Family (ZWJ), skin tone, profession, flag, subdivision flag, keycap.
        assert_eq!(len("👨\u{200D}👩\u{200D}👧\u{200D}👦"), Some(7));
        assert_eq!(len("🙋🏽x"), Some(2));
        assert_eq!(len("👨\u{200D}🎤"), Some(3));
        assert_eq!(len("🇩🇪🇫🇷"), Some(2));
        assert_eq!(
            len("🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}"),
            Some(7)
        );
        assert_eq!(len("1\u{FE0F}\u{20E3}"), Some(3));
        assert_eq!(len("🏳\u{FE0F}\u{200D}🌈"), Some(4));
        assert_eq!(len("❤\u{FE0F}\u{200D}🔥"), Some(4));
    }

    #[test]
    fn not_emoji() {
        assert_eq!(len("1"), None);
        assert_eq!(len("#"), None);
        assert_eq!(len("©"), None);
        assert_eq!(len("©\u{FE0F}"), Some(2));
        assert_eq!(len("a"), None);
        assert_eq!(len("中\u{200D}文"), None);
        assert_eq!(len(""), None);
    }
}
