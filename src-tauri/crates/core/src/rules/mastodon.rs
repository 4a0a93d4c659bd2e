//! Mastodon's text length: `StatusLengthValidator` (mastodon/mastodon,
//! app/validators/status_length_validator.rb) and the extractor it calls
//! (app/lib/extractor.rb, `Account::MENTION_RE`, config/initializers/twitter_regex.rb).

use std::ops::Range;

use unicode_properties::{GeneralCategory, GeneralCategoryGroup, UnicodeGeneralCategory};
use unicode_segmentation::UnicodeSegmentation;

use super::urls::{self, Flavor};

/// `configuration.statuses.max_characters` of a stock instance.
pub const MASTODON_DEFAULT_MAX_CHARACTERS: u32 = 500;
/// `configuration.statuses.characters_reserved_per_url` (`URL_PLACEHOLDER_CHARS`).
pub const MASTODON_DEFAULT_URL_WEIGHT: u32 = 23;

/// Onigmo's `[[:word:]]`: letters, marks, decimal digits, connector punctuation.
fn is_word(c: char) -> bool {
    matches!(
        c.general_category_group(),
        GeneralCategoryGroup::Letter | GeneralCategoryGroup::Mark
    ) || matches!(
        c.general_category(),
        GeneralCategory::DecimalNumber | GeneralCategory::ConnectorPunctuation
    )
}

fn is_username_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// twitter-text's `latin_accents` (part of `end_mention_match`).
fn is_latin_accent(c: char) -> bool {
    matches!(c,
        '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{FF}' | '\u{0100}'..='\u{024F}'
        | '\u{0253}' | '\u{0254}' | '\u{0256}' | '\u{0257}' | '\u{0259}' | '\u{025B}' | '\u{0263}'
        | '\u{0268}' | '\u{026F}' | '\u{0272}' | '\u{0289}' | '\u{028B}' | '\u{02BB}'
        | '\u{0300}'..='\u{036F}' | '\u{1E00}'..='\u{1EFF}')
}

/// Consumes `first+ ([.-]+ rest+)*` from `s[i..]`, the shape of both `USERNAME_RE`
/// (`[a-z0-9_]+([.-]+[a-z0-9_]+)*`) and the domain part of `MENTION_RE`
/// (`[[:word:]]+([.-]+[[:word:]]+)*`). Returns the end, or `i` when nothing matched.
fn dotted_run(s: &[char], i: usize, class: fn(char) -> bool) -> usize {
    let mut j = i;
    while j < s.len() && class(s[j]) {
        j += 1;
    }
    if j == i {
        return i;
    }
    loop {
        let mut k = j;
        while k < s.len() && matches!(s[k], '.' | '-') {
            k += 1;
        }
        if k == j || k >= s.len() || !class(s[k]) {
            return j;
        }
        while k < s.len() && class(s[k]) {
            k += 1;
        }
        j = k;
    }
}

/// A mention found by `extract_mentions_or_lists_with_indices`: the char range of
/// "@user@domain" and the end of "@user".
struct Mention {
    range: Range<usize>,
    user_end: usize,
}

/// `MENTION_RE = (?<![=/[:word:]])@((USERNAME_RE)(?:@[[:word:]]+([.-]+[[:word:]]+)*)?)`,
/// dropping matches followed by `@`, a Latin accent or `://` (`end_mention_match`).
fn mentions(s: &[char]) -> Vec<Mention> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] != '@' || (i > 0 && (matches!(s[i - 1], '=' | '/') || is_word(s[i - 1]))) {
            i += 1;
            continue;
        }
        let user_end = dotted_run(s, i + 1, is_username_char);
        if user_end == i + 1 {
            i += 1;
            continue;
        }
        let mut end = user_end;
        if s.get(user_end) == Some(&'@') {
            let domain_end = dotted_run(s, user_end + 1, is_word);
            if domain_end > user_end + 1 {
                end = domain_end;
            }
        }
        let rejected = match s.get(end) {
            Some(&c) if c == '@' || c == '＠' || is_latin_accent(c) => true,
            Some(':') => s.get(end + 1) == Some(&'/') && s.get(end + 2) == Some(&'/'),
            _ => false,
        };
        if !rejected {
            found.push(Mention {
                range: i..end,
                user_end,
            });
        }
        i = end;
    }
    found
}

/// What an entity is replaced with when counting.
enum Rewrite {
    Url,
    /// Keep chars `range.start..user_end` ("@user").
    Mention(usize),
}

/// `StatusLengthValidator#countable_text`: URLs become `url_weight` placeholder characters,
/// "@user@domain" becomes "@user"; a blank text counts as empty.
fn countable_text(text: &str, url_weight: u32) -> String {
    if text.trim().is_empty() {
        return String::new();
    }
    let s: Vec<char> = text.chars().collect();
    // Byte offsets to char indices for the URL ranges.
    let mut char_at = vec![0usize; text.len() + 1];
    for (n, (b, _)) in text.char_indices().enumerate() {
        char_at[b] = n;
    }
    char_at[text.len()] = s.len();

    let mut entities: Vec<(Range<usize>, Rewrite)> = urls::extract_urls(text, Flavor::Mastodon)
        .into_iter()
        .map(|r| (char_at[r.start]..char_at[r.end], Rewrite::Url))
        .chain(
            mentions(&s)
                .into_iter()
                .map(|m| (m.range, Rewrite::Mention(m.user_end))),
        )
        .collect();
    // `remove_overlapping_entities`: by start; drop any entity overlapping the one kept last.
    entities.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (range, rewrite) in entities {
        if range.start < last {
            continue;
        }
        out.extend(&s[last..range.start]);
        match rewrite {
            Rewrite::Url => out.extend(std::iter::repeat_n('x', url_weight as usize)),
            Rewrite::Mention(user_end) => out.extend(&s[range.start..user_end]),
        }
        last = range.end;
    }
    out.extend(&s[last..]);
    out
}

/// The length Mastodon checks against `max_characters`: grapheme clusters of the content
/// warning followed by the text, where every URL counts `url_weight` (the instance's
/// `characters_reserved_per_url`, 23) and a mention "@user@domain" counts as "@user".
pub fn mastodon_length(text: &str, spoiler_text: &str, url_weight: u32) -> u32 {
    let combined = format!("{spoiler_text}{}", countable_text(text, url_weight));
    u32::try_from(combined.graphemes(true).count()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn len(text: &str) -> u32 {
        mastodon_length(text, "", MASTODON_DEFAULT_URL_WEIGHT)
    }

    #[test]
    fn plain_text_counts_graphemes() {
        assert_eq!(len("Hello"), 5);
        assert_eq!(len("café"), 4);
        assert_eq!(len("cafe\u{301}"), 4);
        assert_eq!(
            len("\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}"),
            1
        );
        assert_eq!(len("日本語"), 3);
        assert_eq!(len(""), 0);
        assert_eq!(len("   \n "), 0, "a blank text counts as empty");
    }

    #[test]
    fn remote_mentions_count_as_local_part() {
        assert_eq!(len("@alice@example.com"), 6);
        assert_eq!(len("@alice"), 6);
        assert_eq!(len("hi @alice@mastodon.social!"), 3 + 6 + 1);
        assert_eq!(len("@Gargron@mastodon.social @alice@x.y.z"), 8 + 1 + 6);
        assert_eq!(len("@a.b-c@sub.example.org"), 6);
        // Not mentions: e-mail addresses and mentions glued to words.
        assert_eq!(len("mail@example.com"), 16);
        assert_eq!(len("a=@b@example.com"), 16);
        // A mention followed by another "@" is not a mention.
        assert_eq!(len("@alice@example.com@x"), 20);
        // The trailing dot is not part of the domain.
        assert_eq!(len("@alice@example.com."), 7);
    }

    #[test]
    fn urls_count_as_url_weight() {
        let url40 = "https://example.com/aaaaaaaaaaaaaaaaaaaa";
        assert_eq!(url40.chars().count(), 40);
        assert_eq!(len(url40), 23);
        assert_eq!(len("https://t.co"), 23, "short URLs are padded to 23 too");
        assert_eq!(len(&format!("see {url40} now")), 4 + 23 + 4);
        assert_eq!(mastodon_length(url40, "", 30), 30);
        // Scheme-less domains are plain text on Mastodon.
        assert_eq!(len("example.com"), 11);
        // Unknown TLDs are not URLs (twitter-text's list).
        assert_eq!(len("http://localhost:3000/"), 22);
        // A mention inside a URL is part of the URL.
        assert_eq!(len("https://mastodon.social/@alice@example.com"), 23);
        // Mastodon's path rules: non-ASCII paths belong to the URL, trailing dots do not.
        assert_eq!(len("https://example.com/日本語/ü."), 24);
    }

    #[test]
    fn content_warning_counts() {
        assert_eq!(mastodon_length("Hello", "CW: food", 23), 13);
        assert_eq!(mastodon_length("", "spoiler", 23), 7);
        let body = "a".repeat(495);
        assert_eq!(mastodon_length(&body, "12345", 23), 500);
        assert_eq!(mastodon_length(&body, "123456", 23), 501);
    }
}
