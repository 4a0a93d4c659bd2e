import { afterEach, describe, expect, it } from "vitest";
import { setLocale } from "$lib/i18n";
import { canLike, canRepost, defaultView, formatAge, initials, isNarrowed, newerThan, ruleError, safeAvatar, toFilter } from "./model";

afterEach(() => setLocale("en"));

describe("formatAge", () => {
  // Tuesday 2026-03-10, 14:30 in Berlin (13:30 UTC).
  const now = new Date("2026-03-10T13:30:00Z");
  const zone = "Europe/Berlin";

  it("says minutes for the last hour, the time for today, the weekday for this week, the date before", () => {
    expect(formatAge("2026-03-10T13:29:40Z", now, zone, "en")).toBe("now");
    expect(formatAge("2026-03-10T13:25:00Z", now, zone, "en")).toBe("5 min");
    expect(formatAge("2026-03-10T08:12:00Z", now, zone, "en")).toBe("9:12 AM");
    expect(formatAge("2026-03-09T08:12:00Z", now, zone, "en")).toBe("Mon 9:12 AM");
    expect(formatAge("2026-03-04T20:00:00Z", now, zone, "en")).toBe("Wed 9:00 PM");
    // A week ago is a date, not the same weekday again.
    expect(formatAge("2026-03-03T20:00:00Z", now, zone, "en")).toBe("Mar 3");
    expect(formatAge("2026-03-02T08:12:00Z", now, zone, "en")).toBe("Mar 2");
    expect(formatAge("2025-12-24T08:12:00Z", now, zone, "en")).toBe("Dec 24, 2025");
  });

  it("counts days in the workspace's zone, not UTC", () => {
    // 23:30 UTC on the 9th is already the 10th in Berlin: today.
    expect(formatAge("2026-03-09T23:30:00Z", now, zone, "en")).toBe("12:30 AM");
    expect(formatAge("2026-03-09T23:30:00Z", now, "UTC", "en")).toBe("Mon 11:30 PM");
  });

  it("speaks German", () => {
    setLocale("de");
    expect(formatAge("2026-03-10T13:25:00Z", now, zone, "de")).toBe("5 Min.");
    expect(formatAge("2026-03-10T08:12:00Z", now, zone, "de")).toBe("09:12");
    expect(formatAge("2026-03-09T08:12:00Z", now, zone, "de")).toMatch(/^Mo\.? 09:12$/);
  });
});

describe("filters", () => {
  it("shows what is not done by default and turns the view into the core's filter", () => {
    expect(toFilter(defaultView(), "ws-1")).toEqual({
      workspaceId: "ws-1",
      networks: [],
      accountIds: [],
      kinds: [],
      unread: null,
      done: false,
      important: null,
      label: null,
      query: null,
      after: null,
      limit: 200,
    });
    const view = { ...defaultView(), status: "all" as const, kind: "conversations" as const, query: "  bob  ", label: "Sales", unreadOnly: true };
    expect(toFilter(view, "ws-1", "42")).toMatchObject({ done: null, kinds: ["mention", "reply", "quote", "dm"], query: "bob", label: "Sales", unread: true, after: "42" });
    expect(isNarrowed(defaultView())).toBe(false);
    expect(isNarrowed({ ...defaultView(), status: "done" })).toBe(false);
    expect(isNarrowed(view)).toBe(true);
  });

  it("compares ids as numbers", () => {
    expect(newerThan("10", "9")).toBe(true);
    expect(newerThan("9", "10")).toBe(false);
  });
});

describe("small pieces", () => {
  it("makes initials and keeps only https avatars", () => {
    expect(initials("Bob Baker", "bob@x")).toBe("BB");
    expect(initials("", "@carla.bsky.social")).toBe("CB");
    expect(initials("ümit", "")).toBe("Ü");
    expect(initials("bob (fan)", "bob.test")).toBe("BF");
    expect(initials("", "")).toBe("?");
    expect(safeAvatar("https://cdn.example/a.png")).toBe("https://cdn.example/a.png");
    expect(safeAvatar("http://cdn.example/a.png")).toBeNull();
    expect(safeAvatar("javascript:alert(1)")).toBeNull();
    expect(safeAvatar(null)).toBeNull();
  });

  it("finds the field of a rule the core refused", () => {
    expect(ruleError('textMatches: "(" is not a pattern: unclosed group')).toEqual({ field: "textMatches", reason: '"(" is not a pattern: unclosed group' });
    expect(ruleError("actions: choose at least one action")).toEqual({ field: "actions", reason: "choose at least one action" });
    expect(ruleError("name: give the rule a name")).toEqual({ field: "name", reason: "give the rule a name" });
    expect(ruleError("something else broke")).toEqual({ field: "other", reason: "something else broke" });
  });

  it("likes Mastodon's direct messages but reposts only public posts", () => {
    expect(canLike({ kind: "dm", network: "mastodon" })).toBe(true);
    expect(canLike({ kind: "dm", network: "bluesky" })).toBe(false);
    expect(canLike({ kind: "mention", network: "bluesky" })).toBe(true);
    expect(canLike({ kind: "follow", network: "mastodon" })).toBe(false);
    expect(canRepost({ kind: "dm" })).toBe(false);
    expect(canRepost({ kind: "reply" })).toBe(true);
  });
});
