//! URL extraction as twitter-text does it (`extractUrlsWithIndices` with the regexes under
//! `js/src/regexp/`), hand-written because the `regex` crate has no look-around. X counts
//! what this finds as 23 characters; Mastodon runs the same gem with wider path rules
//! (`config/initializers/twitter_regex.rb`) and without scheme-less URLs.
//!
//! The regex is `(precedingChar)((https?://)?(domain)(:port)?(/path)?(\?query)?)`; the
//! matcher below reproduces its greedy choices: the most subdomains that still leave a
//! domain name and a listed TLD, the longest path that ends in a path-ending character,
//! and a query that ends in a query-ending character.

use std::ops::Range;

use super::tlds::{TldKind, match_tld};

/// Which rules to extract with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// twitter-text as X counts: http(s) and scheme-less URLs.
    X,
    /// Mastodon's StatusLengthValidator: only URLs with a scheme, Mastodon's path rules.
    Mastodon,
}

const MAX_URL_LENGTH: usize = 4096;
const MAX_TCO_SLUG_LENGTH: usize = 40;
const MAX_DOMAIN_LABEL_LENGTH: usize = 63;
const MASTODON_SCHEMES: [&str; 8] = [
    "https", "http", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher",
];
const MASTODON_GEMINI: &str = "gemini";

/// `spacesGroup`.
fn is_space(c: char) -> bool {
    matches!(c,
        '\u{09}'..='\u{0D}' | '\u{20}' | '\u{85}' | '\u{A0}' | '\u{1680}' | '\u{180E}'
        | '\u{2000}'..='\u{200A}' | '\u{2028}' | '\u{2029}' | '\u{202F}' | '\u{205F}' | '\u{3000}')
}

/// `invalidCharsGroup`: characters a tweet must not contain.
pub(crate) fn is_invalid(c: char) -> bool {
    matches!(c, '\u{FFFE}' | '\u{FEFF}' | '\u{FFFF}')
}

/// `directionalMarkersGroup`.
fn is_directional(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2066}'..='\u{2069}')
}

/// `punct`.
fn is_punct(c: char) -> bool {
    matches!(
        c,
        '!' | '\''
            | '#'
            | '%'
            | '&'
            | '('
            | ')'
            | '*'
            | '+'
            | ','
            | '\\'
            | '-'
            | '.'
            | '/'
            | ':'
            | ';'
            | '<'
            | '='
            | '>'
            | '?'
            | '@'
            | '['
            | ']'
            | '^'
            | '_'
            | '{'
            | '|'
            | '}'
            | '~'
            | '$'
    )
}

/// `validDomainChars`: anything but punctuation, spaces, invalid and directional characters.
fn is_domain_char(c: char) -> bool {
    !(is_punct(c) || is_space(c) || is_invalid(c) || is_directional(c))
}

/// `validUrlPrecedingChars`.
fn may_precede_url(c: char) -> bool {
    is_directional(c)
        || !(c.is_ascii_alphanumeric()
            || matches!(c, '@' | '＠' | '$' | '#' | '＃')
            || is_invalid(c))
}

/// `latinAccentChars`.
fn is_latin_accent(c: char) -> bool {
    matches!(c,
        '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{FF}' | '\u{0100}'..='\u{024F}'
        | '\u{0253}' | '\u{0254}' | '\u{0256}' | '\u{0257}' | '\u{0259}' | '\u{025B}' | '\u{0263}'
        | '\u{0268}' | '\u{026F}' | '\u{0272}' | '\u{0289}' | '\u{028B}' | '\u{02BB}'
        | '\u{0300}'..='\u{036F}' | '\u{1E00}'..='\u{1EFF}')
}

fn is_cyrillic(c: char) -> bool {
    matches!(c, '\u{0400}'..='\u{04FF}')
}

/// Mastodon's `UCHARS` (IRI `ucschar` plus private use).
fn is_uchar(c: char) -> bool {
    let cp = c as u32;
    match cp {
        0xA0..=0xD7FF | 0xF900..=0xFDCF | 0xFDF0..=0xFFEF | 0xE000..=0xF8FF => true,
        0xE0000..=0xE0FFF => false,
        0x10000..=0x10FFFD => cp & 0xFFFF <= 0xFFFD,
        _ => false,
    }
}

impl Flavor {
    /// `validGeneralUrlPathChars`.
    fn path_char(self, c: char) -> bool {
        match self {
            Flavor::X => {
                c.is_ascii_alphanumeric()
                    || is_cyrillic(c)
                    || is_latin_accent(c)
                    || matches!(
                        c,
                        '!' | '*'
                            | '\''
                            | ';'
                            | ':'
                            | '='
                            | '+'
                            | ','
                            | '.'
                            | '$'
                            | '/'
                            | '%'
                            | '#'
                            | '['
                            | ']'
                            | '-'
                            | '\u{2013}'
                            | '_'
                            | '~'
                            | '@'
                            | '|'
                            | '&'
                    )
            }
            Flavor::Mastodon => !(c.is_whitespace() || matches!(c, '<' | '>' | '(' | ')' | '?')),
        }
    }

    /// `validUrlPathEndingChars` (without the balanced-parens alternative).
    fn path_end_char(self, c: char) -> bool {
        match self {
            Flavor::X => {
                c.is_ascii_alphanumeric()
                    || is_cyrillic(c)
                    || is_latin_accent(c)
                    || matches!(c, '+' | '-' | '=' | '_' | '#' | '/')
            }
            Flavor::Mastodon => {
                !(c.is_whitespace()
                    || matches!(
                        c,
                        '(' | ')'
                            | '?'
                            | '!'
                            | '*'
                            | '"'
                            | '\''
                            | '「'
                            | '」'
                            | '<'
                            | '>'
                            | ';'
                            | ':'
                            | '='
                            | ','
                            | '.'
                            | '$'
                            | '%'
                            | '['
                            | ']'
                            | '~'
                            | '&'
                            | '|'
                            | '@'
                    ))
            }
        }
    }

    /// `validUrlQueryChars`.
    fn query_char(self, c: char) -> bool {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                '!' | '?'
                    | '*'
                    | '\''
                    | '@'
                    | '('
                    | ')'
                    | ';'
                    | ':'
                    | '&'
                    | '='
                    | '+'
                    | '$'
                    | '/'
                    | '%'
                    | '#'
                    | '['
                    | ']'
                    | '-'
                    | '_'
                    | '.'
                    | ','
                    | '~'
                    | '|'
            )
            || (self == Flavor::Mastodon && (c == '^' || is_uchar(c)))
    }

    /// `validUrlQueryEndingChars`.
    fn query_end_char(self, c: char) -> bool {
        c.is_ascii_alphanumeric()
            || matches!(c, '-' | '_' | '&' | '=' | '#' | '/')
            || (self == Flavor::Mastodon && is_uchar(c))
    }

    /// Length in chars of the scheme plus "://" at the start of `s`, if any.
    fn scheme(self, s: &[char]) -> Option<usize> {
        // Cheap first: every scheme starts with one of these letters.
        let first = s.first()?.to_ascii_lowercase();
        let possible = match self {
            Flavor::X => first == 'h',
            Flavor::Mastodon => matches!(first, 'h' | 'd' | 'i' | 's' | 'g'),
        };
        if !possible {
            return None;
        }
        let starts = |word: &str| -> Option<usize> {
            let n = word.len();
            let matches = s.len() >= n + 3
                && s[..n]
                    .iter()
                    .zip(word.chars())
                    .all(|(a, b)| a.eq_ignore_ascii_case(&b))
                && s[n..n + 3] == [':', '/', '/'];
            matches.then_some(n + 3)
        };
        match self {
            Flavor::X => starts("https").or_else(|| starts("http")),
            Flavor::Mastodon => MASTODON_SCHEMES
                .iter()
                .chain(std::iter::once(&MASTODON_GEMINI))
                .find_map(|w| starts(w)),
        }
    }
}

/// One raw regex match, in char indices of the text.
struct RawMatch {
    /// Where the URL starts (after the preceding character).
    start: usize,
    end: usize,
    /// Length of "https://" etc., 0 without a scheme.
    scheme: usize,
    domain: Range<usize>,
    has_path: bool,
}

/// `validSubdomain` / `validDomainName` for one label (the chars between dots).
fn valid_label(label: &[char], allow_underscore: bool) -> bool {
    match (label.first(), label.last()) {
        (Some(&first), Some(&last)) => {
            is_domain_char(first)
                && is_domain_char(last)
                && label
                    .iter()
                    .all(|&c| is_domain_char(c) || c == '-' || (allow_underscore && c == '_'))
        }
        _ => false,
    }
}

/// `validDomain` at `at`: returns the end of the domain, or `Err(skip)` with a position
/// before which no other start can match either (a speed-up for long runs of letters).
fn match_domain(s: &[char], at: usize) -> Result<usize, usize> {
    // Labels: maximal runs of domain characters, '-' and '_' separated by single dots.
    let mut labels: Vec<Range<usize>> = Vec::new();
    let mut i = at;
    loop {
        let start = i;
        while i < s.len() && (is_domain_char(s[i]) || s[i] == '-' || s[i] == '_') {
            i += 1;
        }
        if i == start {
            break;
        }
        labels.push(start..i);
        if i < s.len() && s[i] == '.' {
            i += 1;
        } else {
            break;
        }
    }
    if labels.len() < 2 {
        return Err(labels.first().map_or(at + 1, |l| l.end.max(at + 1)));
    }
    // Greedy: as many subdomains as possible, then a domain name, then a TLD.
    let subdomains = labels
        .iter()
        .take_while(|l| valid_label(&s[(*l).clone()], true))
        .count()
        .min(labels.len() - 2);
    for j in (0..=subdomains).rev() {
        if !valid_label(&s[labels[j].clone()], false) {
            continue;
        }
        let tld = &labels[j + 1];
        if let Some((len, _)) = match_tld(&s[tld.start..]) {
            return Ok(tld.start + len);
        }
    }
    Err(at + 1)
}

/// `validUrlBalancedParens` at `at` (which must be '('): the end, if balanced.
fn balanced_parens(flavor: Flavor, s: &[char], at: usize) -> Option<usize> {
    if s.get(at) != Some(&'(') {
        return None;
    }
    let run = |from: usize| -> usize {
        let mut k = from;
        while k < s.len() && flavor.path_char(s[k]) {
            k += 1;
        }
        k
    };
    let j = run(at + 1);
    if j > at + 1 && s.get(j) == Some(&')') {
        return Some(j + 1);
    }
    // One nested level: general* '(' general+ ')' general* ')'.
    if s.get(j) == Some(&'(') {
        let k = run(j + 1);
        if k > j + 1 && s.get(k) == Some(&')') {
            let m = run(k + 1);
            if s.get(m) == Some(&')') {
                return Some(m + 1);
            }
        }
    }
    None
}

/// The regex match starting exactly at `at`, or where to try next.
fn match_at(flavor: Flavor, s: &[char], at: usize) -> Result<RawMatch, usize> {
    let scheme = flavor.scheme(&s[at..]).unwrap_or(0);
    if scheme == 0 && flavor == Flavor::Mastodon {
        // Mastodon counts only URLs with a scheme.
        return Err(at + 1);
    }
    let domain_start = at + scheme;
    let domain_end = match match_domain(s, domain_start) {
        Ok(end) => end,
        Err(_) if scheme > 0 => return Err(at + 1),
        // No start inside the same run of letters can match either, unless a scheme
        // starts there ("日本https://…").
        Err(skip) => {
            let next_h = (at + 1..skip).find(|&k| s[k].eq_ignore_ascii_case(&'h'));
            return Err(next_h.unwrap_or(skip));
        }
    };
    let mut i = domain_end;
    // Port.
    if s.get(i) == Some(&':') && s.get(i + 1).is_some_and(char::is_ascii_digit) {
        i += 1;
        while s.get(i).is_some_and(char::is_ascii_digit) {
            i += 1;
        }
    }
    // Path: the longest run of path characters and balanced parens that ends in a
    // path-ending character or balanced parens ("/" alone is a path too).
    let mut has_path = false;
    if s.get(i) == Some(&'/') {
        has_path = true;
        i += 1;
        let mut j = i;
        let mut end = i;
        loop {
            if j < s.len() && flavor.path_char(s[j]) {
                if flavor.path_end_char(s[j]) {
                    end = j + 1;
                }
                j += 1;
            } else if let Some(e) = balanced_parens(flavor, s, j) {
                j = e;
                end = e;
            } else {
                break;
            }
        }
        i = end;
    }
    // Query: '?' and query characters, ending in a query-ending character.
    if s.get(i) == Some(&'?') {
        let mut j = i + 1;
        let mut end = None;
        while j < s.len() && flavor.query_char(s[j]) {
            if flavor.query_end_char(s[j]) {
                end = Some(j + 1);
            }
            j += 1;
        }
        if let Some(end) = end {
            i = end;
        }
    }
    Ok(RawMatch {
        start: at,
        end: i,
        scheme,
        domain: domain_start..domain_end,
        has_path,
    })
}

/// Length of a label as punycode (`xn--…` for non-ASCII labels), as `punycode.toASCII`.
fn punycode_len(label: &str) -> Option<usize> {
    if label.is_ascii() {
        Some(label.len())
    } else {
        idna::punycode::encode_str(label).map(|p| p.len() + 4)
    }
}

/// `validAsciiDomain` matches inside a domain: `(?:[-a-z0-9À-ÿ…]+\.)+(?:TLD)`, in chars
/// relative to `d`.
fn ascii_domains(d: &[char]) -> Vec<(Range<usize>, TldKind)> {
    let label_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || is_latin_accent(c);
    let mut found = Vec::new();
    let mut p = 0;
    'outer: while p < d.len() {
        // Labels followed by dots, from p.
        let mut dots = Vec::new();
        let mut i = p;
        loop {
            let start = i;
            while i < d.len() && label_char(d[i]) {
                i += 1;
            }
            if i > start && i < d.len() && d[i] == '.' {
                i += 1;
                dots.push(i);
            } else {
                break;
            }
        }
        for &tld_start in dots.iter().rev() {
            if let Some((len, kind)) = match_tld(&d[tld_start..]) {
                found.push((p..tld_start + len, kind));
                p = tld_start + len;
                continue 'outer;
            }
        }
        p += 1;
    }
    found
}

/// twitter-text's `idna.toAscii` check: every label 1..=63 chars as punycode. Returns the
/// punycode length of the whole domain.
fn idna_length(domain: &[char]) -> Option<usize> {
    let text: String = domain.iter().collect();
    if text.to_ascii_lowercase().starts_with("xn--") && ascii_domains(domain).is_empty() {
        return None;
    }
    let mut total = 0;
    for label in text.split('.') {
        let len = punycode_len(label)?;
        if len == 0 || len > MAX_DOMAIN_LABEL_LENGTH {
            return None;
        }
        total += len + 1;
    }
    Some(total.saturating_sub(1))
}

/// `extractUrlsWithIndices`: the URLs in `text` as byte ranges, in order.
pub(crate) fn extract_urls(text: &str, flavor: Flavor) -> Vec<Range<usize>> {
    let quick = match flavor {
        Flavor::X => '.',
        Flavor::Mastodon => ':',
    };
    if !text.contains(quick) {
        return Vec::new();
    }
    let s: Vec<char> = text.chars().collect();
    let mut bytes = Vec::with_capacity(s.len() + 1);
    let mut b = 0;
    for c in &s {
        bytes.push(b);
        b += c.len_utf8();
    }
    bytes.push(b);

    let mut urls = Vec::new();
    let mut at = 0;
    while at < s.len() {
        if at > 0 && !may_precede_url(s[at - 1]) {
            at += 1;
            continue;
        }
        let m = match match_at(flavor, &s, at) {
            Ok(m) => m,
            Err(next) => {
                at = next.max(at + 1);
                continue;
            }
        };
        // The regex resumes after the whole match; the next URL needs its own preceding char.
        at = m.end + 1;
        for range in accept(flavor, &s, &m) {
            urls.push(bytes[range.start]..bytes[range.end]);
        }
    }
    urls
}

/// The checks `extractUrlsWithIndices` makes after the regex matched: the accepted URLs as
/// char ranges (several when a scheme-less match holds more than one ASCII domain).
fn accept(flavor: Flavor, s: &[char], m: &RawMatch) -> Vec<Range<usize>> {
    let domain = &s[m.domain.clone()];
    let Some(punycoded) = idna_length(domain) else {
        return Vec::new();
    };
    let scheme_len = if m.scheme > 0 {
        m.scheme
    } else {
        "https://".len()
    };
    let url_len = m.end - m.start - m.scheme;
    if scheme_len + url_len + punycoded.saturating_sub(domain.len()) > MAX_URL_LENGTH {
        return Vec::new();
    }
    if m.scheme > 0 {
        return tco_cut(s, m).map_or_else(Vec::new, |r| vec![r]);
    }
    if flavor == Flavor::Mastodon {
        return Vec::new();
    }
    // Without a scheme: not after "-_./", and only the ASCII domains inside count.
    if m.start > 0 && matches!(s[m.start - 1], '-' | '_' | '.' | '/') {
        return Vec::new();
    }
    let found = ascii_domains(domain);
    let mut urls = Vec::new();
    for (k, (range, kind)) in found.iter().enumerate() {
        let d = &domain[range.clone()];
        let mut labels = d.split(|&c| c == '.');
        let first = labels.next().unwrap_or_default();
        let tld: String = labels.next_back().unwrap_or_default().iter().collect();
        let two_labels = d.iter().filter(|&&c| c == '.').count() == 1;
        // `invalidShortDomain`: one label plus a ccTLD, e.g. "foo.jp"; "t.co" and "x.tv" are
        // the exceptions (`validSpecialShortDomain`).
        let short = two_labels && *kind == TldKind::Country && valid_label(first, false);
        let special = short && matches!(tld.to_ascii_lowercase().as_str(), "co" | "tv");
        if m.has_path || special || !short {
            let start = m.domain.start + range.start;
            let is_last = k + 1 == found.len();
            // The path (and query) belong to the last ASCII domain.
            let end = if m.has_path && is_last {
                m.end
            } else {
                m.domain.start + range.end
            };
            urls.push(start..end);
        }
    }
    urls
}

/// `validTcoUrl`: a t.co link ends after its slug; slugs over 40 chars are not links.
fn tco_cut(s: &[char], m: &RawMatch) -> Option<Range<usize>> {
    let url = &s[m.start..m.end];
    let http = m.scheme <= "https://".len() && url[0].eq_ignore_ascii_case(&'h');
    let host = ['t', '.', 'c', 'o', '/'];
    let rest = &url[m.scheme..];
    let is_tco = http
        && rest.len() > host.len()
        && rest[..host.len()]
            .iter()
            .zip(&host)
            .all(|(a, b)| a.eq_ignore_ascii_case(b));
    if !is_tco {
        return Some(m.start..m.end);
    }
    let slug = rest[host.len()..]
        .iter()
        .take_while(|c| c.is_ascii_alphanumeric())
        .count();
    match slug {
        0 => Some(m.start..m.end),
        n if n > MAX_TCO_SLUG_LENGTH => None,
        n => Some(m.start..m.start + m.scheme + host.len() + n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(text: &str) -> Vec<&str> {
        extract_urls(text, Flavor::X)
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    fn masto(text: &str) -> Vec<&str> {
        extract_urls(text, Flavor::Mastodon)
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    // Cases from twitter-text conformance/validate.yml (`urls`, `urls_without_protocol`)
    // as far as they concern extraction.
    #[test]
    fn conformance_urls() {
        for url in [
            "http://example.com",
            "https://example.com/path/to/resource?search=foo&lang=en",
            "http://twitter.com/#!/twitter",
            "HTTPS://www.ExaMPLE.COM/index.html",
            "http://user:PASSW0RD@example.com:8080/login.php"
                .split('@')
                .nth(1)
                .unwrap_or(""),
            "http://sports.yahoo.com/nfl/news;_ylt=Aom0;ylu=XyZ?slug=ap-superbowlnotebook",
            "http://test_underscore.twitter.com",
            "http://☃.net/",
            "http://example.com/Русские_слова",
            "https://www.youtube.com/playlist?list=PL0ZPu8XSRTB7wZzn0mLHMvyzVFeRxbWn-",
            "example.com",
            "www.example.com",
            "t.co",
            "foo.co.jp",
            "example.com/path/to/resource?search=foo&lang=en",
        ] {
            assert_eq!(x(url), vec![url], "{url}");
        }
        for not_url in [
            "ftp://www.example.com/",
            "http://www.-domain4352.com/",
            "http://www.domain4352-.com/",
            "http://☃-.net/",
            "http://%e2%98%83.net/",
            "http://test.-twitter.com",
        ] {
            assert!(
                x(not_url)
                    .iter()
                    .all(|u| !u.starts_with("http") && !u.starts_with("ftp")),
                "{not_url}: {:?}",
                x(not_url)
            );
        }
        assert_eq!(
            x("http://example.com/#anchor "),
            vec!["http://example.com/#anchor"]
        );
    }

    #[test]
    fn sentence_context() {
        assert_eq!(x("see example.com."), vec!["example.com"]);
        assert_eq!(x("(https://x.com/a)"), vec!["https://x.com/a"]);
        assert_eq!(
            x("wiki https://en.wikipedia.org/wiki/Primer_(film) ok"),
            vec!["https://en.wikipedia.org/wiki/Primer_(film)"]
        );
        assert_eq!(x("a.com,b.com"), vec!["a.com", "b.com"]);
        assert_eq!(
            x("foo.jp"),
            Vec::<&str>::new(),
            "short ccTLD domains need a path"
        );
        assert_eq!(x("foo.jp/bar"), vec!["foo.jp/bar"]);
        assert_eq!(x("bit.ly"), Vec::<&str>::new());
        assert_eq!(x("x.tv"), vec!["x.tv"]);
        assert_eq!(x("https://t.co/abc123/extra"), vec!["https://t.co/abc123"]);
        assert_eq!(x("email me at a@example.com"), Vec::<&str>::new());
        assert_eq!(x("no.such"), Vec::<&str>::new());
        assert_eq!(x("日本語example.com"), vec!["example.com"]);
        assert_eq!(x("http://あいう.com"), vec!["http://あいう.com"]);
        assert_eq!(x("あいう.com"), Vec::<&str>::new());
    }

    #[test]
    fn mastodon_rules() {
        assert_eq!(masto("example.com"), Vec::<&str>::new());
        assert_eq!(
            masto("see https://example.com/a."),
            vec!["https://example.com/a"]
        );
        assert_eq!(
            masto("gemini://example.org/日本 and ipfs://x.io"),
            vec!["gemini://example.org/日本", "ipfs://x.io"]
        );
        assert_eq!(
            masto("https://example.com/path?q=ü"),
            vec!["https://example.com/path?q=ü"]
        );
        assert_eq!(masto("http://localhost:3000/"), Vec::<&str>::new());
    }

    #[test]
    fn punycode_label_limit() {
        let ok = format!("http://{}.com", "あ".repeat(20));
        assert_eq!(x(&ok), vec![ok.as_str()]);
        let long = format!("http://{}.com", "a".repeat(64));
        assert!(x(&long).is_empty());
    }
}
