import { describe, expect, it } from "vitest";
import { tokenize } from "./richtext";

const kinds = (text: string) => tokenize(text).map((t) => [t.kind, t.text]);

describe("tokenize", () => {
  it("finds links, hashtags and mentions", () => {
    expect(kinds("Fresh #Brötchen at https://baeckerei.example/menu. Thanks @ada@chaos.social and @bob.bsky.social!")).toEqual([
      ["text", "Fresh "],
      ["tag", "#Brötchen"],
      ["text", " at "],
      ["link", "https://baeckerei.example/menu"],
      ["text", ". Thanks "],
      ["mention", "@ada@chaos.social"],
      ["text", " and "],
      ["mention", "@bob.bsky.social"],
      ["text", "!"],
    ]);
  });

  it("keeps the text intact", () => {
    const text = "a#b mail@example.com #1 (see https://en.wikipedia.org/wiki/Bach_(disambiguation)) #ok_2, @x.";
    expect(tokenize(text).map((t) => t.text).join("")).toBe(text);
    expect(kinds(text).filter(([kind]) => kind !== "text")).toEqual([
      ["link", "https://en.wikipedia.org/wiki/Bach_(disambiguation)"],
      ["tag", "#ok_2"],
      ["mention", "@x"],
    ]);
  });

  it("returns plain text as one run", () => {
    expect(kinds("Hello\nworld")).toEqual([["text", "Hello\nworld"]]);
    expect(tokenize("")).toEqual([]);
  });
});
