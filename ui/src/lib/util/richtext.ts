// Splits post text into plain runs, links, hashtags and mentions for the preview.
// The result is rendered as text nodes: user text never goes through {@html}.

export type Token = { kind: "text" | "link" | "tag" | "mention"; text: string };

// 1: a link. 2: what precedes a hashtag or mention (start, space, punctuation). 3: `#` or `@`. 4: its body.
const PATTERN = /(https?:\/\/[^\s<>"]+|www\.[^\s<>"]+)|(^|[^\p{L}\p{N}_/.@#])([#@])([\p{L}\p{N}_][\p{L}\p{N}_.@-]*)/gu;
/** Punctuation that ends a sentence rather than a link, handle or tag. */
const TRAILING = /[.,:;!?'")\]}…-]+$/u;

function trimTrailing(text: string): string {
  const trimmed = text.replace(TRAILING, "");
  // Keep a closing parenthesis that belongs to the link: https://en.wikipedia.org/wiki/Bach_(disambiguation)
  const opens = (trimmed.match(/\(/g) ?? []).length;
  const closes = (trimmed.match(/\)/g) ?? []).length;
  if (opens > closes && text.charAt(trimmed.length) === ")") return trimmed + ")";
  return trimmed;
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let plain = "";
  let last = 0;
  const flush = () => {
    if (plain) tokens.push({ kind: "text", text: plain });
    plain = "";
  };
  const pattern = new RegExp(PATTERN.source, PATTERN.flags);
  let match: RegExpExecArray | null;
  while ((match = pattern.exec(text)) !== null) {
    const start = match.index;
    plain += text.slice(last, start);
    const [whole, link, before = "", sigil, body = ""] = match;
    let consumed: string;
    if (link) {
      consumed = trimTrailing(link);
      flush();
      tokens.push({ kind: "link", text: consumed });
    } else {
      // Hashtags are letters, digits and `_`; mentions may carry a server (`@ada@example.social`).
      const raw = sigil === "#" ? (body.match(/^[\p{L}\p{N}_]+/u)?.[0] ?? "") : body.replace(/[.@-]+$/u, "");
      plain += before;
      if (raw && !(sigil === "#" && /^\p{N}+$/u.test(raw))) {
        flush();
        tokens.push({ kind: sigil === "#" ? "tag" : "mention", text: sigil + raw });
        consumed = before + sigil + raw;
      } else {
        plain += sigil;
        consumed = before + sigil;
      }
    }
    last = start + consumed.length;
    // The regex moved past the whole match; give back what was not used (trailing punctuation).
    if (consumed.length < whole.length) pattern.lastIndex = last;
  }
  plain += text.slice(last);
  flush();
  return tokens;
}
