//! Status text the way Mastodon sees it: entity extraction (URLs with a scheme, mentions,
//! hashtags), the length StatusLengthValidator counts and the HTML TextFormatter renders.
//!
//! Length: graphemes of `spoiler_text` + text, after every http(s) URL is replaced by 23
//! characters and every `@user@domain` mention by `@user` (app/validators/
//! status_length_validator.rb). URL recognition follows twitter-text in spirit: a scheme,
//! a host with a dot and an alphabetic top-level label, an optional port and path, trailing
//! punctuation and unbalanced `)` left out.

use unicode_segmentation::UnicodeSegmentation;

use crate::common::html_escape;

/// Characters a URL counts as, whatever its length (`characters_reserved_per_url`).
pub(crate) const URL_LENGTH: usize = 23;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Url,
    /// `username` and the optional domain.
    Mention(String, Option<String>),
    Hashtag(String),
}

/// A recognised entity: byte range in the text and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entity {
    pub start: usize,
    pub end: usize,
    pub kind: Kind,
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn char_before(text: &str, at: usize) -> Option<char> {
    text[..at].chars().next_back()
}

fn starts_with_ignore_case(haystack: &str, needle: &str) -> bool {
    haystack
        .get(..needle.len())
        .is_some_and(|h| h.eq_ignore_ascii_case(needle))
}

/// The end of a URL starting at `start` (which begins with `http://` or `https://`), if a
/// valid one starts there.
fn url_end(text: &str, start: usize) -> Option<usize> {
    let rest = &text[start..];
    let scheme_len = if starts_with_ignore_case(rest, "https://") {
        8
    } else if starts_with_ignore_case(rest, "http://") {
        7
    } else {
        return None;
    };
    let host_start = start + scheme_len;
    let host_len: usize = text[host_start..]
        .chars()
        .take_while(|&c| c.is_alphanumeric() || c == '-' || c == '.' || c == '_')
        .map(char::len_utf8)
        .sum();
    let host = text[host_start..host_start + host_len].trim_end_matches('.');
    let labels: Vec<&str> = host.split('.').collect();
    let tld = labels.last()?;
    let valid_host = labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && !l.starts_with('-'))
        && tld.chars().count() >= 2
        && tld.chars().all(char::is_alphabetic);
    if !valid_host {
        return None;
    }
    let mut end = host_start + host.len();
    // Port.
    if text[end..].starts_with(':') {
        let digits = text[end + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        if digits > 0 {
            end += 1 + digits;
        }
    }
    // Path, query and fragment: everything up to whitespace or a character that cannot be in
    // a URL, then trailing punctuation and unbalanced parentheses are given back.
    if text[end..].starts_with(['/', '?', '#']) {
        let tail_len: usize = text[end..]
            .chars()
            .take_while(|&c| !c.is_whitespace() && !matches!(c, '<' | '>' | '"' | '`'))
            .map(char::len_utf8)
            .sum();
        let mut tail = &text[end..end + tail_len];
        while let Some(last) = tail.chars().next_back() {
            let unbalanced_close =
                last == ')' && tail.matches('(').count() < tail.matches(')').count();
            let punctuation = matches!(
                last,
                '.' | ',' | ':' | ';' | '!' | '?' | '\'' | '*' | '[' | ']' | '{' | '}' | '(' | '"'
            );
            if unbalanced_close || punctuation {
                tail = &tail[..tail.len() - last.len_utf8()];
            } else {
                break;
            }
        }
        end += tail.len();
    }
    Some(end)
}

fn mention_at(text: &str, at: usize) -> Option<Entity> {
    let preceding_ok =
        char_before(text, at).is_none_or(|c| !(c.is_alphanumeric() || "_!#$%&*@/".contains(c)));
    if !preceding_ok {
        return None;
    }
    let name_start = at + 1;
    let mut name_len: usize = text[name_start..]
        .chars()
        .take_while(|&c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        .map(char::len_utf8)
        .sum();
    // Dots and dashes only in the middle.
    while name_len > 0 && text[name_start..name_start + name_len].ends_with(['.', '-']) {
        name_len -= 1;
    }
    let name = &text[name_start..name_start + name_len];
    if name.is_empty() || name.starts_with(['.', '-']) {
        return None;
    }
    let mut end = name_start + name_len;
    let mut domain = None;
    if text[end..].starts_with('@') {
        let domain_start = end + 1;
        let mut domain_len: usize = text[domain_start..]
            .chars()
            .take_while(|&c| is_word(c) || matches!(c, '.' | '-'))
            .map(char::len_utf8)
            .sum();
        while domain_len > 0 && text[domain_start..domain_start + domain_len].ends_with(['.', '-'])
        {
            domain_len -= 1;
        }
        if domain_len > 0 {
            domain = Some(text[domain_start..domain_start + domain_len].to_owned());
            end = domain_start + domain_len;
        }
    }
    Some(Entity {
        start: at,
        end,
        kind: Kind::Mention(name.to_owned(), domain),
    })
}

fn hashtag_at(text: &str, at: usize) -> Option<Entity> {
    let preceding_ok = char_before(text, at).is_none_or(|c| !(is_word(c) || "/)&#".contains(c)));
    if !preceding_ok {
        return None;
    }
    let tag_len: usize = text[at + 1..]
        .chars()
        .take_while(|&c| is_word(c))
        .map(char::len_utf8)
        .sum();
    let tag = &text[at + 1..at + 1 + tag_len];
    // A tag needs one character that is not a digit.
    if tag.is_empty() || tag.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(Entity {
        start: at,
        end: at + 1 + tag_len,
        kind: Kind::Hashtag(tag.to_owned()),
    })
}

/// URLs, mentions and hashtags, sorted, overlapping ones removed (the earlier one wins, like
/// twitter-text's `remove_overlapping_entities`).
pub(crate) fn extract(text: &str) -> Vec<Entity> {
    let mut found = Vec::new();
    for (at, c) in text.char_indices() {
        match c {
            'h' | 'H' => {
                let preceded_ok = char_before(text, at)
                    .is_none_or(|p| !(p.is_alphanumeric() || "@$#".contains(p)));
                if preceded_ok && let Some(end) = url_end(text, at) {
                    found.push(Entity {
                        start: at,
                        end,
                        kind: Kind::Url,
                    });
                }
            }
            '@' => found.extend(mention_at(text, at)),
            '#' => found.extend(hashtag_at(text, at)),
            _ => {}
        }
    }
    found.sort_by_key(|e| e.start);
    let mut out: Vec<Entity> = Vec::with_capacity(found.len());
    for entity in found {
        if out.last().is_none_or(|prev| entity.start >= prev.end) {
            out.push(entity);
        }
    }
    out
}

/// The text StatusLengthValidator counts: URLs become 23 `x`, mentions lose their domain.
pub(crate) fn countable_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for entity in extract(text) {
        out.push_str(&text[at..entity.start]);
        match &entity.kind {
            Kind::Url => out.push_str(&"x".repeat(URL_LENGTH)),
            Kind::Mention(name, _) => {
                out.push('@');
                out.push_str(name);
            }
            Kind::Hashtag(_) => out.push_str(&text[entity.start..entity.end]),
        }
        at = entity.end;
    }
    out.push_str(&text[at..]);
    out
}

/// The length Mastodon checks against `max_characters`.
pub(crate) fn status_length(spoiler_text: &str, text: &str) -> usize {
    let combined = format!("{spoiler_text}{}", countable_text(text));
    combined.graphemes(true).count()
}

fn link_html(url: &str) -> String {
    let lower = url.to_ascii_lowercase();
    let mut prefix_len = if lower.starts_with("https://") { 8 } else { 7 };
    if lower[prefix_len..].starts_with("www.") {
        prefix_len += 4;
    }
    let (prefix, rest) = url.split_at(prefix_len);
    let display: String = rest.chars().take(30).collect();
    let suffix: String = rest.chars().skip(30).collect();
    let class = if rest.chars().count() > 30 {
        "ellipsis"
    } else {
        ""
    };
    format!(
        "<a href=\"{}\" target=\"_blank\" rel=\"nofollow noopener\" translate=\"no\"><span class=\"invisible\">{}</span><span class=\"{class}\">{}</span><span class=\"invisible\">{}</span></a>",
        html_escape(url),
        html_escape(prefix),
        html_escape(&display),
        html_escape(&suffix)
    )
}

/// Status `content` as Mastodon's TextFormatter renders a local plain-text status: escaped
/// text, links for URLs, hashtags and mentions of the local user, paragraphs on blank lines
/// and `<br />` on single line breaks.
pub(crate) fn to_html(text: &str, base: &str, local_username: &str, local_domain: &str) -> String {
    let mut html = String::with_capacity(text.len() + 16);
    let mut at = 0;
    for entity in extract(text) {
        html.push_str(&html_escape(&text[at..entity.start]));
        let raw = &text[entity.start..entity.end];
        match &entity.kind {
            Kind::Url => html.push_str(&link_html(raw)),
            Kind::Hashtag(tag) => html.push_str(&format!(
                "<a href=\"{base}tags/{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>",
                html_escape(&tag.to_lowercase()),
                html_escape(tag)
            )),
            Kind::Mention(name, domain)
                if name.eq_ignore_ascii_case(local_username)
                    && domain
                        .as_deref()
                        .is_none_or(|d| d.eq_ignore_ascii_case(local_domain)) =>
            {
                html.push_str(&format!(
                    "<span class=\"h-card\" translate=\"no\"><a href=\"{base}@{local_username}\" class=\"u-url mention\">@<span>{local_username}</span></a></span>"
                ));
            }
            Kind::Mention(..) => html.push_str(&html_escape(raw)),
        }
        at = entity.end;
    }
    html.push_str(&html_escape(&text[at..]));
    let trimmed = html.trim();
    let mut out = String::from("<p>");
    let mut newlines = 0;
    for c in trimmed.chars() {
        if c == '\n' {
            newlines += 1;
            continue;
        }
        match newlines {
            0 => {}
            1 => out.push_str("<br />"),
            _ => out.push_str("</p><p>"),
        }
        newlines = 0;
        out.push(c);
    }
    out.push_str("</p>");
    out
}

/// The hashtags of a text, in order, without duplicates (case-insensitive).
pub(crate) fn hashtags(text: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for entity in extract(text) {
        if let Kind::Hashtag(tag) = entity.kind
            && !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag))
        {
            tags.push(tag);
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_count_23_and_mentions_drop_the_domain() {
        assert_eq!(status_length("", "hello"), 5);
        let long_url = format!("https://example.com/{}", "a".repeat(100));
        assert_eq!(status_length("", &long_url), 23);
        assert_eq!(status_length("", &format!("see {long_url}.")), 4 + 23 + 1);
        assert_eq!(status_length("", "hi @ada@example.social"), 3 + 4);
        assert_eq!(status_length("CW ", "x"), 4);
        // Grapheme clusters: a family emoji and a flag count one each.
        assert_eq!(status_length("", "👨‍👩‍👧🇩🇪e\u{301}"), 3);
        // Not URLs: no scheme, no dot, a word character right before.
        assert_eq!(status_length("", "example.com"), 11);
        assert_eq!(status_length("", "http://localhost"), 16);
        assert_eq!(status_length("", "xhttp://example.com"), 19);
    }

    #[test]
    fn trailing_punctuation_and_parentheses() {
        let text = "(see https://en.wikipedia.org/wiki/Ada_(programming_language)) ok.";
        let urls: Vec<&str> = extract(text)
            .into_iter()
            .filter(|e| e.kind == Kind::Url)
            .map(|e| &text[e.start..e.end])
            .collect();
        assert_eq!(
            urls,
            ["https://en.wikipedia.org/wiki/Ada_(programming_language)"]
        );
        let text = "go to https://example.com/a?b=1#c, now";
        let url = extract(text).into_iter().next().unwrap();
        assert_eq!(&text[url.start..url.end], "https://example.com/a?b=1#c");
    }

    #[test]
    fn html_escapes_links_and_paragraphs() {
        let html = to_html(
            "Hi <b> & @ada\n\nhttps://example.com/x #Rust\nend",
            "http://h/",
            "ada",
            "h",
        );
        assert_eq!(
            html,
            "<p>Hi &lt;b&gt; &amp; <span class=\"h-card\" translate=\"no\"><a href=\"http://h/@ada\" class=\"u-url mention\">@<span>ada</span></a></span></p><p><a href=\"https://example.com/x\" target=\"_blank\" rel=\"nofollow noopener\" translate=\"no\"><span class=\"invisible\">https://</span><span class=\"\">example.com/x</span><span class=\"invisible\"></span></a> <a href=\"http://h/tags/rust\" class=\"mention hashtag\" rel=\"tag\">#<span>Rust</span></a><br />end</p>"
        );
        assert_eq!(hashtags("#a #A #1 #b2"), ["a", "b2"]);
    }
}
