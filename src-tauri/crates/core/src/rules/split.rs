//! Splitting a long text into the parts of a thread, each within the network's limit.
//!
//! Greedy: each part takes as much as fits, cut at the best break before that point:
//! a paragraph break if the part is at least a third full, else a sentence end or line
//! break if it is at least half full, else the last word boundary. Only a single word
//! longer than a whole part is cut inside, at a grapheme boundary, and outside URLs when
//! possible. Parts are trimmed; no numbering is added.

use std::ops::Range;

use postwerk_networks::NetworkKind;
use unicode_segmentation::UnicodeSegmentation;

use super::urls::{self, Flavor};
use super::{Limits, fill, fits, has_text_limit};

/// A paragraph break wins if the part before it is at least this full.
const PARAGRAPH_MIN_FILL: f64 = 1.0 / 3.0;
/// A sentence end or line break wins over a later word boundary if at least this full.
const SENTENCE_MIN_FILL: f64 = 0.5;

const SENTENCE_ENDS: [char; 7] = ['.', '!', '?', '…', '。', '！', '？'];
/// Closing quotes and brackets that may follow a sentence end.
const CLOSERS: [char; 12] = [
    ')', ']', '"', '\'', '”', '’', '»', '›', '」', '』', '）', '】',
];

#[derive(Debug, Default)]
struct Candidates {
    /// The latest cut at a paragraph break.
    paragraph: Option<usize>,
    /// The latest cut at a sentence end, a line break or a paragraph break.
    sentence: Option<usize>,
    /// The latest cut at any whitespace.
    word: Option<usize>,
}

fn ends_sentence(prefix: &str) -> bool {
    let trimmed = prefix.trim_end_matches(CLOSERS);
    trimmed.ends_with(SENTENCE_ENDS)
}

fn inside(spans: &[Range<usize>], cut: usize) -> bool {
    spans.iter().any(|s| s.start < cut && cut < s.end)
}

/// Break candidates in `rest` at or before `max_fit` (byte offsets where a part may end).
fn candidates(rest: &str, max_fit: usize, urls: &[Range<usize>]) -> Candidates {
    let mut c = Candidates::default();
    let mut note = |cut: usize, paragraph: bool, sentence: bool| {
        if cut == 0 || cut > max_fit || inside(urls, cut) {
            return;
        }
        c.word = c.word.max(Some(cut));
        if sentence || paragraph {
            c.sentence = c.sentence.max(Some(cut));
        }
        if paragraph {
            c.paragraph = c.paragraph.max(Some(cut));
        }
    };
    let mut chars = rest.char_indices().peekable();
    while let Some((i, ch)) = chars.next() {
        if i > max_fit {
            break;
        }
        if ch.is_whitespace() {
            // A whole run of whitespace is one break, cut where it starts.
            let mut newlines = usize::from(ch == '\n');
            while let Some(&(_, next)) = chars.peek() {
                if !next.is_whitespace() {
                    break;
                }
                newlines += usize::from(next == '\n');
                chars.next();
            }
            let sentence = newlines == 1 || ends_sentence(&rest[..i]);
            note(i, newlines >= 2, sentence);
        } else if matches!(ch, '。' | '！' | '？') {
            // CJK sentence ends need no space after them.
            let mut end = i + ch.len_utf8();
            while let Some(&(j, next)) = chars.peek() {
                if !CLOSERS.contains(&next) {
                    break;
                }
                end = j + next.len_utf8();
                chars.next();
            }
            if end < rest.len() {
                note(end, false, true);
            }
        }
    }
    c
}

/// Grapheme ends of a text, read only as far as asked for.
struct Bounds<'a> {
    graphemes: unicode_segmentation::GraphemeIndices<'a>,
    ends: Vec<usize>,
}

impl<'a> Bounds<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            graphemes: text.grapheme_indices(true),
            ends: Vec::new(),
        }
    }

    /// Reads up to `n` ends; returns how many there are (fewer at the end of the text).
    fn read(&mut self, n: usize) -> usize {
        while self.ends.len() < n {
            match self.graphemes.next() {
                Some((i, g)) => self.ends.push(i + g.len()),
                None => break,
            }
        }
        self.ends.len().min(n)
    }
}

/// The longest prefix of `rest` that fits, as an index into `bounds.ends`: `None` when all
/// of `rest` fits, `Some(None)` when not even one grapheme does.
type MaxFit = Option<Option<usize>>;

/// For lengths that add up grapheme by grapheme: one pass.
fn max_fit_additive(
    network: NetworkKind,
    rest: &str,
    limits: &Limits,
    bounds: &mut Bounds,
) -> MaxFit {
    let (limit, byte_limit) = super::limit_numbers(network, limits);
    let mut total: u64 = 0;
    let mut pending: u64 = 0;
    let mut last = None;
    let mut k = 0;
    while bounds.read(k + 1) > k {
        let start = if k == 0 { 0 } else { bounds.ends[k - 1] };
        let end = bounds.ends[k];
        let g = &rest[start..end];
        let w = u64::from(super::grapheme_weight(network, g).unwrap_or(1));
        if g.trim().is_empty() {
            // Trailing whitespace is trimmed off a part: it fits if what came before did.
            pending += w;
        } else {
            total += pending + w;
            pending = 0;
            let over = (limit > 0 && total > u64::from(limit))
                || byte_limit.is_some_and(|max| end > max as usize);
            if over {
                return Some(last);
            }
        }
        last = Some(k);
        k += 1;
    }
    None
}

/// For lengths with look-ahead (URLs, mentions, emoji sequences): a search, outward from
/// about the previous part's size and then halving. Lengths grow with the prefix, but for
/// URLs and normalization only almost, so the result is checked and stepped back.
fn max_fit_search(
    network: NetworkKind,
    rest: &str,
    limits: &Limits,
    bounds: &mut Bounds,
    hint: usize,
) -> MaxFit {
    let ok = |end: usize| fits(network, rest[..end].trim_end(), limits);
    let mut lo = 0;
    let mut step = hint.max(16);
    let mut hi = loop {
        let probe = bounds.read(lo + step);
        if !ok(bounds.ends[probe - 1]) {
            break probe - 1;
        }
        if bounds.read(probe + 1) == probe {
            return None;
        }
        step = if lo == 0 { (step / 8).max(8) } else { step * 2 };
        lo = probe;
    };
    let ends = &bounds.ends;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if ok(ends[mid]) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let Some(mut k) = lo.checked_sub(1) else {
        return Some(None);
    };
    while k > 0 && !ok(ends[k]) {
        k -= 1;
    }
    Some(ok(ends[k]).then_some(k))
}

/// Where to end the next part of `rest` (trimmed at the start): a byte offset at least one
/// grapheme in and the number of graphemes up to the longest fitting prefix (a hint for
/// the next part), or `None` when all of `rest` fits.
fn find_cut(
    network: NetworkKind,
    rest: &str,
    limits: &Limits,
    hint: usize,
) -> Option<(usize, usize)> {
    let mut bounds = Bounds::new(rest);
    let found = if super::grapheme_weight(network, "a").is_some() {
        max_fit_additive(network, rest, limits, &mut bounds)
    } else {
        max_fit_search(network, rest, limits, &mut bounds, hint)
    }?;
    let Some(k) = found else {
        // Not even one grapheme fits: it goes alone, the network will refuse it.
        bounds.read(1);
        return Some((bounds.ends[0], 1));
    };
    let ends = &bounds.ends;
    let max_fit = ends[k];

    // URLs around the cut (a URL is at most 4096 chars).
    let window = rest.len().min(max_fit + 4100);
    let window = (window..=rest.len())
        .find(|&i| rest.is_char_boundary(i))
        .unwrap_or(rest.len());
    let around = &rest[..window];
    let mut url_spans = urls::extract_urls(around, Flavor::X);
    if network == NetworkKind::Mastodon {
        url_spans.extend(urls::extract_urls(around, Flavor::Mastodon));
    }
    let c = candidates(rest, max_fit, &url_spans);
    let fill_at = |cut: usize| fill(network, rest[..cut].trim_end(), limits);
    let cut = if let Some(cut) = c
        .paragraph
        .filter(|&cut| fill_at(cut) >= PARAGRAPH_MIN_FILL)
    {
        cut
    } else if let Some(cut) = c.sentence.filter(|&cut| fill_at(cut) >= SENTENCE_MIN_FILL) {
        cut
    } else if let Some(cut) = c.word {
        cut
    } else {
        // One word longer than a part: cut inside it, but not inside a URL if avoidable.
        ends[..=k]
            .iter()
            .rev()
            .copied()
            .find(|&b| !inside(&url_spans, b))
            .unwrap_or(max_fit)
    };
    Some((cut, k + 1))
}

/// Splits `text` into thread parts that each fit the network's text limit (see
/// [`super::check_text`]; a Mastodon content warning is not counted here). Prefers
/// paragraph breaks, then sentence ends (". ", "! ", "? ", "。") and line breaks, then word
/// boundaries; cuts inside a word only when one word is longer than a part, never inside a
/// grapheme cluster, and outside URLs when possible.
///
/// A text that fits, or a network without a known limit, gives one part. Parts are trimmed
/// and never empty; a blank text gives no parts. No numbering is added.
pub fn split_thread(network: NetworkKind, text: &str, limits: &Limits) -> Vec<String> {
    let mut parts = Vec::new();
    let mut rest = text.trim();
    if rest.is_empty() {
        return parts;
    }
    if !has_text_limit(network, limits) {
        parts.push(rest.to_string());
        return parts;
    }
    let mut hint = 64;
    while !rest.is_empty() {
        let Some((cut, graphemes)) = find_cut(network, rest, limits, hint) else {
            parts.push(rest.to_string());
            break;
        };
        let (head, tail) = rest.split_at(cut);
        let head = head.trim_end();
        if !head.is_empty() {
            parts.push(head.to_string());
        }
        rest = tail.trim_start();
        hint = graphemes;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::super::{check_text, x_weighted_length};
    use super::*;

    const FAMILY: &str = "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}\u{200D}\u{1F466}";

    fn split(network: NetworkKind, text: &str) -> Vec<String> {
        split_thread(network, text, &Limits::default())
    }

    fn small_mastodon() -> Limits {
        Limits {
            mastodon_max_characters: 60,
            mastodon_url_weight: 23,
        }
    }

    /// The invariants every split must keep.
    fn assert_valid(network: NetworkKind, text: &str, parts: &[String], limits: &Limits) {
        for p in parts {
            assert!(!p.is_empty(), "empty part in {parts:?}");
            assert_eq!(p.trim(), p, "untrimmed part {p:?}");
            let check = check_text(network, p, "", limits);
            let longest_grapheme = p.graphemes(true).count() == 1;
            assert!(
                (check.over_by == 0 && check.bytes <= check.byte_limit) || longest_grapheme,
                "part does not fit: {check:?} for {p:?}"
            );
        }
        // Nothing lost, nothing reordered.
        let squash = |s: &str| s.split_whitespace().collect::<String>();
        assert_eq!(squash(&parts.concat()), squash(text), "content changed");
        // Every word that fits a part on its own stays whole; longer words are cut into
        // consecutive pieces.
        let mut pieces = parts.iter().flat_map(|p| p.split_whitespace());
        for word in text.split_whitespace() {
            let mut joined = pieces.next().expect("a word is missing").to_string();
            if fits(network, word, limits) {
                assert_eq!(joined, word, "a fitting word was cut");
                continue;
            }
            while joined.len() < word.len() {
                joined.push_str(pieces.next().expect("a piece is missing"));
            }
            assert_eq!(joined, word);
        }
        assert!(pieces.next().is_none());
    }

    #[test]
    fn fitting_text_is_one_part() {
        assert_eq!(
            split(NetworkKind::Bluesky, "  Hello world  "),
            vec!["Hello world"]
        );
        let text = "a".repeat(300);
        assert_eq!(split(NetworkKind::Bluesky, &text), vec![text.clone()]);
        assert!(split(NetworkKind::Bluesky, " \n\t ").is_empty());
        let long = "word ".repeat(10_000);
        assert_eq!(split(NetworkKind::Flickr, &long).len(), 1, "no known limit");
    }

    #[test]
    fn prefers_paragraphs() {
        let p1 = format!("{}.", "First paragraph words ".repeat(8).trim_end());
        let p2 = format!("{}.", "Second paragraph here ".repeat(8).trim_end());
        let p3 = format!("{}.", "Third and last one ".repeat(8).trim_end());
        let text = format!("{p1}\n\n{p2}\n\n{p3}");
        let parts = split(NetworkKind::Bluesky, &text);
        assert_eq!(parts, vec![p1.clone(), p2, p3], "one paragraph per part");
        assert_valid(NetworkKind::Bluesky, &text, &parts, &Limits::default());
    }

    #[test]
    fn then_sentences() {
        let sentence = "This sentence has exactly some words in it and ends here. ";
        let text = sentence.repeat(12);
        let parts = split(NetworkKind::Bluesky, &text);
        assert!(parts.len() >= 3);
        for p in &parts {
            assert!(p.ends_with('.'), "{p:?}");
        }
        assert_valid(NetworkKind::Bluesky, &text, &parts, &Limits::default());
        // Question and exclamation marks, closing quotes.
        let text = "Is this a question? \"Yes!\" It is. ".repeat(20);
        let parts = split(NetworkKind::X, &text);
        for p in &parts {
            assert!(p.ends_with(['?', '"', '.']), "{p:?}");
        }
        assert_valid(NetworkKind::X, &text, &parts, &Limits::default());
    }

    #[test]
    fn then_words() {
        let text = "lorem ipsum dolor sit amet ".repeat(40);
        let parts = split(NetworkKind::Bluesky, &text);
        assert_eq!(parts.len(), 4);
        assert_valid(NetworkKind::Bluesky, &text, &parts, &Limits::default());
        assert!(parts[0].graphemes(true).count() > 280, "parts are filled");
    }

    #[test]
    fn long_words_are_cut_by_grapheme() {
        let text = "a".repeat(700);
        let parts = split(NetworkKind::Bluesky, &text);
        let lens: Vec<usize> = parts.iter().map(String::len).collect();
        assert_eq!(lens, vec![300, 300, 100]);
        let text = FAMILY.repeat(400);
        let parts = split(NetworkKind::Bluesky, &text);
        for p in &parts {
            assert!(p.len() <= 3000);
            assert_eq!(p.len() % FAMILY.len(), 0, "a family emoji was cut");
        }
        assert_valid(NetworkKind::Bluesky, &text, &parts, &Limits::default());
    }

    #[test]
    fn cjk_without_spaces() {
        let text = "故人西辞黄鹤楼，烟花三月下扬州。孤帆远影碧空尽，唯见长江天际流。".repeat(10);
        let parts = split(NetworkKind::X, &text);
        for p in &parts {
            assert!(x_weighted_length(p).weighted <= 280);
            assert!(p.ends_with('。'), "cut at a sentence end: {p:?}");
        }
        assert_valid(NetworkKind::X, &text, &parts, &Limits::default());
    }

    #[test]
    fn urls_are_not_cut_and_count_as_23() {
        let url = format!("https://example.com/{}", "p".repeat(80));
        // On Mastodon each URL counts 23, so many fit one part.
        let text = format!("{url} ").repeat(20);
        let parts = split(NetworkKind::Mastodon, &text);
        assert_eq!(parts.len(), 1, "20 URLs count 20*23+19 = 479 <= 500");
        let limits = small_mastodon();
        let parts = split_thread(NetworkKind::Mastodon, &text, &limits);
        assert_eq!(parts.len(), 10, "two URLs (23+1+23) per 60");
        assert_valid(NetworkKind::Mastodon, &text, &parts, &limits);
        // A URL glued to a long word: the cut goes before the URL.
        let text = format!("{}{url}", "語".repeat(250));
        let parts = split(NetworkKind::Bluesky, &text);
        assert_eq!(parts, vec!["語".repeat(250), url.clone()]);
    }

    #[test]
    fn small_paragraph_does_not_waste_a_part() {
        // The first paragraph is tiny: cutting there would leave a nearly empty part.
        let text = format!("Hi.\n\n{}", "more words here ".repeat(40));
        let parts = split(NetworkKind::Bluesky, &text);
        assert!(parts[0].starts_with("Hi.\n\nmore"), "{:?}", parts[0]);
        assert_valid(NetworkKind::Bluesky, &text, &parts, &Limits::default());
    }

    /// A small deterministic generator (xorshift) for the property test.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n as u64).unwrap_or(0)
        }
    }

    fn random_text(rng: &mut Rng) -> String {
        const WORDS: [&str; 24] = [
            "the",
            "quick",
            "brown",
            "fox",
            "jumps",
            "über",
            "naïve",
            "café",
            "Straße",
            "日本語のテキスト",
            "中文",
            "한국어",
            "👍🏽",
            "🇩🇪",
            FAMILY,
            "e\u{301}",
            "@alice@example.com",
            "https://example.com/some/path?q=1",
            "example.org",
            "x.com/a",
            "#tag",
            "—",
            "can't",
            "(yes)",
        ];
        const SEPARATORS: [&str; 8] = [" ", " ", " ", ". ", "! ", "? ", "\n", "\n\n"];
        let words = 1 + rng.below(300);
        let mut text = String::new();
        for _ in 0..words {
            match rng.below(40) {
                0 => text.push_str(&"a".repeat(1 + rng.below(700))),
                1 => text.push_str(&"語".repeat(1 + rng.below(400))),
                2 => text.push_str(&FAMILY.repeat(1 + rng.below(130))),
                3 => text.push_str(&format!(
                    "https://example.com/{}",
                    "p".repeat(rng.below(400))
                )),
                _ => text.push_str(WORDS[rng.below(WORDS.len())]),
            }
            text.push_str(SEPARATORS[rng.below(SEPARATORS.len())]);
        }
        text
    }

    #[test]
    fn property_parts_fit_and_keep_every_word() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let networks = [
            (NetworkKind::Bluesky, Limits::default()),
            (NetworkKind::X, Limits::default()),
            (NetworkKind::Mastodon, Limits::default()),
            (NetworkKind::Mastodon, small_mastodon()),
            (NetworkKind::Threads, Limits::default()),
            (NetworkKind::Pinterest, Limits::default()),
        ];
        for round in 0..50 {
            let text = random_text(&mut rng);
            for (network, limits) in &networks {
                let parts = split_thread(*network, &text, limits);
                assert!(!parts.is_empty(), "round {round}");
                assert_valid(*network, &text, &parts, limits);
                if fits(*network, text.trim(), limits) {
                    assert_eq!(parts.len(), 1);
                }
            }
        }
    }
}
