import { describe, expect, it } from "vitest";
import { cleanHtml, safeHref } from "./safeHtml";

describe("cleanHtml", () => {
  it("keeps paragraphs, line breaks, emphasis and http(s) links", () => {
    expect(cleanHtml('<p>Hallo <strong>Welt</strong><br>neu <a href="https://example.com/a?b=1&amp;c=2">Link</a></p>')).toBe(
      '<p>Hallo <strong>Welt</strong><br>neu <a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer nofollow">Link</a></p>',
    );
    expect(cleanHtml('<span class="h-card evil"><a class="u-url mention" href="https://m.example/@ada">@ada</a></span>')).toBe(
      '<span class="h-card"><a href="https://m.example/@ada" rel="noopener noreferrer nofollow" class="u-url mention">@ada</a></span>',
    );
  });

  it("drops everything active", () => {
    const vectors = [
      "<script>window.__pwned=1</script>",
      '<img src=x onerror="window.__pwned=1">',
      '<a href="javascript:window.__pwned=1">x</a>',
      '<svg onload="window.__pwned=1"><circle/></svg>',
      '<iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
      '<p onclick="window.__pwned=1" style="color:red">Text</p>',
      '<a href="  JaVaScRiPt:alert(1)">y</a>',
      '<a href="data:text/html,<script>1</script>">z</a>',
      '<object data="x"></object><embed src="x"><form action="x"><input name="a"></form>',
      "<style>body{display:none}</style><math><mtext>m</mtext></math>",
    ].join("");
    const clean = cleanHtml(vectors);
    expect(clean).not.toMatch(/script|onerror|onload|onclick|javascript|iframe|svg|img|style|data:|object|embed|form|input|math/i);
    expect(clean).toBe('<a>x</a><p>Text</p><a>y</a><a>z</a>');
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it("keeps the text of unknown tags", () => {
    expect(cleanHtml("<div><h1>Titel</h1><marquee>lauf</marquee></div>")).toBe("Titellauf");
    expect(cleanHtml("a &lt;b&gt; c")).toBe("a &lt;b&gt; c");
  });
});

describe("safeHref", () => {
  it("takes only absolute http(s) URLs", () => {
    expect(safeHref("https://example.com")).toBe("https://example.com");
    expect(safeHref(" http://example.com/x ")).toBe("http://example.com/x");
    expect(safeHref("javascript:alert(1)")).toBeNull();
    expect(safeHref("/relative")).toBeNull();
    expect(safeHref("mailto:a@b.c")).toBeNull();
    expect(safeHref(null)).toBeNull();
  });
});
