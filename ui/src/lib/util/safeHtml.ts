// A second fence behind the core's sanitiser (`html.rs`): remote HTML is parsed in an inert
// document (no scripts run, nothing loads), reduced to the same small set of tags, and only
// then handed to `{@html}`. The webview's CSP is the third.

const ALLOWED = new Set(["p", "br", "a", "span", "strong", "em", "b", "i", "u", "del", "s", "code", "pre", "blockquote", "ul", "ol", "li"]);
/** Dropped with everything inside them (the rest of unknown tags is unwrapped to its text). */
const DROPPED = new Set(["script", "style", "iframe", "frame", "frameset", "object", "embed", "svg", "math", "template", "noscript", "textarea", "title", "head", "img", "video", "audio", "picture", "source", "form", "input", "button", "select", "link", "meta", "base"]);
const CLASSES = new Set(["invisible", "ellipsis", "mention", "hashtag", "h-card", "u-url"]);

/** Only absolute http(s) links are kept. */
export function safeHref(href: string | null): string | null {
  if (!href) return null;
  const trimmed = href.trim();
  return /^https?:\/\/[^\s]+$/i.test(trimmed) ? trimmed : null;
}

function cleanNode(node: Node, into: Node, doc: Document): void {
  for (const child of Array.from(node.childNodes)) {
    if (child.nodeType === Node.TEXT_NODE) {
      into.appendChild(doc.createTextNode(child.textContent ?? ""));
      continue;
    }
    if (child.nodeType !== Node.ELEMENT_NODE) continue;
    const element = child as Element;
    const tag = element.localName.toLowerCase();
    if (DROPPED.has(tag)) continue;
    if (!ALLOWED.has(tag)) {
      cleanNode(element, into, doc);
      continue;
    }
    const copy = doc.createElement(tag);
    if (tag === "a") {
      const href = safeHref(element.getAttribute("href"));
      if (href) {
        copy.setAttribute("href", href);
        copy.setAttribute("rel", "noopener noreferrer nofollow");
      }
    }
    if (tag === "a" || tag === "span") {
      const classes = (element.getAttribute("class") ?? "").split(/\s+/).filter((name) => CLASSES.has(name));
      if (classes.length > 0) copy.setAttribute("class", classes.join(" "));
    }
    cleanNode(element, copy, doc);
    into.appendChild(copy);
  }
}

/** The safe subset of `html`, as a string for `{@html}`. */
export function cleanHtml(html: string): string {
  const parsed = new DOMParser().parseFromString(`<!doctype html><body>${html}`, "text/html");
  const out = document.implementation.createHTMLDocument("");
  const root = out.createElement("div");
  cleanNode(parsed.body, root, out);
  return root.innerHTML;
}
