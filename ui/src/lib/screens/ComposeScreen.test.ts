import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { createMockApi } from "../../test/mockApi";
import { account, capabilities, resetStores, workspace } from "../../test/fixtures";

const api = vi.hoisted(() => ({}) as ReturnType<typeof createMockApi>);
vi.mock("$lib/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("$lib/api")>();
  const { createMockApi } = await import("../../test/mockApi");
  Object.assign(api, createMockApi());
  return { ...actual, api };
});

import type { CheckInput, Draft, DraftInput, MediaInfo, TargetCheck, TargetOutcome, TextCheck } from "$lib/api";
import { setLocale } from "$lib/i18n";
import { toasts } from "$lib/stores/toasts.svelte";
import { workspaces } from "$lib/stores/workspaces.svelte";
import ComposeScreen from "./ComposeScreen.svelte";

const THREADS = capabilities({ publishText: true, publishImages: true, threads: true });
const ada = account({ id: "acc-1", network: "bluesky", handle: "@ada.bsky.social", displayName: "Ada Lovelace", capabilities: THREADS });
const grace = account({
  id: "acc-2",
  network: "mastodon",
  server: "https://mastodon.social",
  handle: "@grace@mastodon.social",
  displayName: "Grace Hopper",
  capabilities: THREADS,
});
const ACCOUNTS = [ada, grace];
const LIMITS: Record<string, number> = { bluesky: 300, mastodon: 500 };

function textCheck(text: string, limit: number, network: TextCheck["network"] = "bluesky"): TextCheck {
  const length = Array.from(text).length;
  return {
    network,
    length,
    limit,
    ok: length <= limit,
    overBy: Math.max(0, length - limit),
    unit: "graphemes",
    bytes: null,
    byteLimit: null,
    message: null,
  };
}

/** A stand-in for the core's rules: letters per network, and Bluesky takes four images. */
function fakeCheck(input: CheckInput): TargetCheck[] {
  return input.targets.map((target) => {
    const acc = ACCOUNTS.find((a) => a.id === target.accountId)!;
    const limit = LIMITS[acc.network] ?? 500;
    const texts = target.threadParts ?? [target.textOverride ?? input.text];
    const parts = texts.map((text) => textCheck(text, limit));
    const media: TargetCheck["media"] = [];
    if (acc.network === "bluesky" && input.media.length > 4) {
      media.push({ index: null, code: "tooMany", blocking: true, message: `${input.media.length} images attached, Bluesky takes 4` });
    }
    input.media.forEach((m, index) => {
      if (!m.alt.trim()) media.push({ index, code: "missingAlt", blocking: false, message: `Image ${index + 1} has no description` });
    });
    return { accountId: acc.id, network: acc.network, parts, media, ok: parts.every((p) => p.ok) && !media.some((m) => m.blocking) };
  });
}

function mediaInfo(overrides: Partial<MediaInfo> = {}): MediaInfo {
  return {
    id: "sha-1",
    mime: "image/png",
    bytes: 48_213,
    width: 800,
    height: 600,
    fileName: "cat.png",
    thumbnail: "data:image/jpeg;base64,/9j/AAAA",
    ...overrides,
  };
}

function draft(overrides: Partial<Draft> = {}): Draft {
  return {
    id: "draft-1",
    workspaceId: "ws-1",
    text: "",
    spoiler: "",
    media: [],
    targets: [],
    updatedAt: "2026-03-01T10:00:00Z",
    ...overrides,
  };
}

function outcome(overrides: Partial<TargetOutcome>): TargetOutcome {
  return {
    targetId: "t-1",
    accountId: "acc-1",
    network: "bluesky",
    handle: "ada.bsky.social",
    state: "published",
    url: null,
    errorCode: null,
    error: null,
    ...overrides,
  };
}

let savedCount = 0;

beforeEach(() => {
  vi.clearAllMocks();
  resetStores([workspace(), workspace({ id: "ws-2", name: "Globex" })]);
  savedCount = 0;
  api.listAccounts.mockResolvedValue(ACCOUNTS);
  api.getDraft.mockResolvedValue(null);
  api.checkPost.mockImplementation(async (input: CheckInput) => fakeCheck(input));
  api.saveDraft.mockImplementation(async (input: DraftInput) =>
    draft({ ...input, id: input.id ?? `draft-${++savedCount}`, media: [] }),
  );
  api.discardDraft.mockResolvedValue(undefined);
  api.openExternal.mockResolvedValue(undefined);
});

async function openComposer() {
  render(ComposeScreen);
  return (await screen.findByTestId("compose-text")) as HTMLTextAreaElement;
}

function chip(id: string) {
  return screen.getAllByTestId("compose-target").find((c) => c.dataset.accountId === id)!;
}

function counter(id: string) {
  return screen.getAllByTestId("compose-counter").find((c) => c.dataset.accountId === id)!;
}

function tab(id: string) {
  return screen.getAllByTestId("compose-tab").find((c) => c.dataset.accountId === id)!;
}

const publishButton = () => screen.getByTestId("compose-publish") as HTMLButtonElement;

describe("compose screen", () => {
  it("keeps the empty state for a workspace without accounts", async () => {
    api.listAccounts.mockResolvedValue([]);
    render(ComposeScreen);
    const action = await screen.findByTestId("empty-action");
    expect(action.textContent).toContain("Connect your first account");
    expect(screen.queryByTestId("compose-text")).toBeNull();
    expect(api.getDraft).not.toHaveBeenCalled();
  });

  it("picks accounts as chips and needs at least one to publish", async () => {
    const text = await openComposer();
    expect(api.listAccounts).toHaveBeenCalledWith("ws-1");
    expect(api.getDraft).toHaveBeenCalledWith("ws-1");
    expect(screen.getAllByTestId("compose-target").map((c) => c.textContent)).toEqual([
      expect.stringContaining("@ada.bsky.social"),
      expect.stringContaining("@grace@mastodon.social"),
    ]);
    await fireEvent.input(text, { target: { value: "Hello" } });
    expect(publishButton().disabled).toBe(true);
    expect(screen.getByTestId("compose-publish-hint").textContent).toBe("Pick at least one account.");

    await fireEvent.click(chip("acc-1"));
    expect(chip("acc-1").getAttribute("aria-pressed")).toBe("true");
    expect(chip("acc-2").getAttribute("aria-pressed")).toBe("false");
    await vi.waitFor(() => expect(counter("acc-1").textContent?.trim()).toBe("5 / 300"));
    expect(publishButton().disabled).toBe(false);
    expect(screen.getAllByTestId("compose-tab").map((t) => t.dataset.accountId ?? null)).toEqual([null, "acc-1"]);
  });

  it("turns a counter red with how many characters are too many", async () => {
    const text = await openComposer();
    await fireEvent.click(chip("acc-1"));
    await fireEvent.click(chip("acc-2"));
    await fireEvent.input(text, { target: { value: "x".repeat(312) } });

    await vi.waitFor(() => expect(counter("acc-1").dataset.ok).toBe("false"));
    expect(counter("acc-1").textContent?.trim()).toBe("12 too many");
    expect(counter("acc-1").classList.contains("over")).toBe(true);
    expect(counter("acc-2").dataset.ok).toBe("true");
    expect(counter("acc-2").textContent?.trim()).toBe("312 / 500");
    expect(publishButton().disabled).toBe(true);
    expect(screen.getByTestId("compose-publish-hint").textContent).toBe("Fix what is marked in red first.");
    expect(api.checkPost).toHaveBeenLastCalledWith({
      workspaceId: "ws-1",
      text: "x".repeat(312),
      spoiler: "",
      media: [],
      targets: [
        { accountId: "acc-1", textOverride: null, threadParts: null },
        { accountId: "acc-2", textOverride: null, threadParts: null },
      ],
    });

    setLocale("de");
    await vi.waitFor(() => expect(counter("acc-1").textContent?.trim()).toBe("12 zu viel"));
  });

  it("shows Bluesky's byte count when the bytes are over", async () => {
    api.checkPost.mockResolvedValue([
      {
        accountId: "acc-1",
        network: "bluesky",
        parts: [{ length: 290, limit: 300, ok: false, overBy: 0, unit: "graphemes", bytes: 3100, byteLimit: 3000, message: null }],
        media: [],
        ok: false,
      },
    ]);
    const text = await openComposer();
    await fireEvent.click(chip("acc-1"));
    await fireEvent.input(text, { target: { value: "🎉" } });
    await vi.waitFor(() => expect(counter("acc-1").textContent?.trim()).toBe("3,100 / 3,000 bytes"));
    expect(counter("acc-1").dataset.ok).toBe("false");
  });

  it("overrides the text for one account and resets it", async () => {
    const text = await openComposer();
    await fireEvent.click(chip("acc-1"));
    await fireEvent.click(chip("acc-2"));
    await fireEvent.input(text, { target: { value: "Main text" } });
    await fireEvent.click(tab("acc-2"));
    const override = screen.getByTestId("compose-override") as HTMLTextAreaElement;
    expect(override.value).toBe("Main text");
    await fireEvent.input(override, { target: { value: "Toot text, longer" } });
    await vi.waitFor(() => expect(counter("acc-2").textContent?.trim()).toBe("17 / 500"));
    expect(counter("acc-1").textContent?.trim()).toBe("9 / 300");
    expect(api.checkPost).toHaveBeenLastCalledWith(
      expect.objectContaining({
        targets: [
          { accountId: "acc-1", textOverride: null, threadParts: null },
          { accountId: "acc-2", textOverride: "Toot text, longer", threadParts: null },
        ],
      }),
    );
    const preview = screen.getAllByTestId("compose-preview").find((p) => p.dataset.network === "mastodon")!;
    expect(preview.textContent).toContain("Toot text, longer");

    await fireEvent.click(screen.getByTestId("compose-override-reset"));
    expect((screen.getByTestId("compose-override") as HTMLTextAreaElement).value).toBe("Main text");
    await vi.waitFor(() => expect(counter("acc-2").textContent?.trim()).toBe("9 / 500"));
  });

  it("splits a long text into a thread with a counter per part, and joins it again", async () => {
    const long = `${"a".repeat(200)} ${"b".repeat(150)}`;
    api.splitThread.mockResolvedValue(["a".repeat(200), "b".repeat(150)]);
    const text = await openComposer();
    await fireEvent.click(chip("acc-1"));
    await fireEvent.input(text, { target: { value: long } });
    const split = await screen.findByTestId("compose-split");
    expect(counter("acc-1").textContent?.trim()).toBe("51 too many");

    await fireEvent.click(split);
    expect(api.splitThread).toHaveBeenCalledWith("acc-1", long);
    const parts = (await screen.findAllByTestId("thread-part")) as HTMLTextAreaElement[];
    expect(parts.map((p) => p.value)).toEqual(["a".repeat(200), "b".repeat(150)]);
    expect(tab("acc-1").getAttribute("aria-selected")).toBe("true");

    await vi.waitFor(() => expect(counter("acc-1").dataset.ok).toBe("true"));
    expect(counter("acc-1").textContent?.trim()).toBe("Thread of 2 posts");
    expect(screen.getAllByTestId("thread-part-counter").map((c) => c.textContent?.trim())).toEqual(["200 / 300", "150 / 300"]);
    expect(screen.queryByTestId("compose-split")).toBeNull();

    await fireEvent.input(parts[1]!, { target: { value: "b".repeat(320) } });
    await vi.waitFor(() => expect(screen.getAllByTestId("thread-part-counter")[1]!.dataset.ok).toBe("false"));
    expect(screen.getAllByTestId("thread-part-counter")[1]!.textContent?.trim()).toBe("20 too many");
    expect(counter("acc-1").textContent?.trim()).toBe("Post 2: 20 too many");

    await vi.waitFor(() =>
      expect(api.saveDraft).toHaveBeenLastCalledWith(
        expect.objectContaining({
          targets: [{ accountId: "acc-1", textOverride: null, threadParts: ["a".repeat(200), "b".repeat(320)] }],
        }),
      ),
    );

    await fireEvent.click(screen.getByTestId("compose-join"));
    expect(screen.queryByTestId("thread-part")).toBeNull();
    expect((screen.getByTestId("compose-override") as HTMLTextAreaElement).value).toBe(
      `${"a".repeat(200)}\n\n${"b".repeat(320)}`,
    );
  });

  it("adds a picked image as a tile that asks for a description", async () => {
    api.importMedia.mockResolvedValue(mediaInfo());
    await openComposer();
    await fireEvent.click(chip("acc-1"));
    const input = screen.getByTestId("compose-file") as HTMLInputElement;
    expect(input.accept).toBe("image/png,image/jpeg,image/gif,image/webp");
    expect(input.multiple).toBe(true);
    const file = new File([new Uint8Array([137, 80, 78, 71])], "cat.png", { type: "image/png" });
    await fireEvent.change(input, { target: { files: [file] } });

    const tile = await screen.findByTestId("media-tile");
    expect(api.importMedia).toHaveBeenCalledWith("cat.png", "iVBORw==");
    expect(within(tile).getByTestId("media-alt-missing").textContent).toContain(
      "Add a description for people using screen readers",
    );
    await vi.waitFor(() =>
      expect(screen.getAllByTestId("media-problem").map((p) => [p.dataset.code, p.dataset.blocking])).toEqual([
        ["missingAlt", "false"],
      ]),
    );

    await fireEvent.input(within(tile).getByTestId("media-alt"), { target: { value: "A grey cat on a sofa" } });
    expect(within(tile).queryByTestId("media-alt-missing")).toBeNull();
    await vi.waitFor(() =>
      expect(api.saveDraft).toHaveBeenLastCalledWith(
        expect.objectContaining({ media: [{ mediaId: "sha-1", alt: "A grey cat on a sofa" }] }),
      ),
    );
    const preview = screen.getByTestId("compose-preview");
    expect(within(preview).getByRole("img").getAttribute("alt")).toBe("A grey cat on a sofa");

    await fireEvent.click(within(tile).getByTestId("media-remove"));
    expect(screen.queryByTestId("media-tile")).toBeNull();
  });

  it("takes images pasted from the clipboard and refuses other files", async () => {
    api.importMedia.mockResolvedValue(mediaInfo({ id: "sha-2", fileName: "image.png" }));
    const text = await openComposer();
    const image = new File([new Uint8Array([1, 2, 3])], "image.png", { type: "image/png" });
    await fireEvent.paste(text, { clipboardData: { files: [image], items: [], types: ["Files"] } });
    await screen.findByTestId("media-tile");
    expect(api.importMedia).toHaveBeenCalledWith("image.png", "AQID");

    const input = screen.getByTestId("compose-file") as HTMLInputElement;
    const pdf = new File(["%PDF"], "offer.pdf", { type: "application/pdf" });
    await fireEvent.change(input, { target: { files: [pdf] } });
    expect(api.importMedia).toHaveBeenCalledTimes(1);
    expect(toasts.items.at(-1)).toMatchObject({ tone: "warning", detail: "offer.pdf" });
  });

  it("shows blocking media problems in red and does not publish", async () => {
    let n = 0;
    api.importMedia.mockImplementation(async () => mediaInfo({ id: `sha-${++n}`, fileName: `p${n}.png` }));
    const text = await openComposer();
    await fireEvent.click(chip("acc-1"));
    await fireEvent.input(text, { target: { value: "Holiday pictures" } });
    const files = [1, 2, 3, 4, 5].map((i) => new File([new Uint8Array([i])], `p${i}.png`, { type: "image/png" }));
    await fireEvent.change(screen.getByTestId("compose-file"), { target: { files } });
    await vi.waitFor(() => expect(screen.getAllByTestId("media-tile")).toHaveLength(5));
    await vi.waitFor(() => {
      const blocking = screen.getAllByTestId("media-problem").filter((p) => p.dataset.blocking === "true");
      expect(blocking.map((p) => p.textContent?.trim())).toEqual(["5 images attached, Bluesky takes 4"]);
      expect(blocking[0]!.classList.contains("blocking")).toBe(true);
    });
    expect(publishButton().disabled).toBe(true);
  });

  it("autosaves the composer as a DraftInput and keeps the draft id", async () => {
    const text = await openComposer();
    expect(screen.getByTestId("compose-saved").dataset.state).toBe("idle");
    await fireEvent.click(chip("acc-2"));
    await fireEvent.input(text, { target: { value: "Hello #fediverse" } });
    expect(screen.getByTestId("compose-saved").textContent?.trim()).toBe("Saving…");

    await vi.waitFor(() => expect(screen.getByTestId("compose-saved").textContent?.trim()).toBe("Saved"));
    expect(api.saveDraft).toHaveBeenLastCalledWith({
      id: null,
      workspaceId: "ws-1",
      text: "Hello #fediverse",
      spoiler: "",
      media: [],
      targets: [{ accountId: "acc-2", textOverride: null, threadParts: null }],
    } satisfies DraftInput);
    const calls = api.saveDraft.mock.calls.length;

    await fireEvent.click(screen.getByTestId("compose-spoiler-toggle"));
    await fireEvent.input(screen.getByTestId("compose-spoiler"), { target: { value: "Politics" } });
    await vi.waitFor(() => expect(api.saveDraft).toHaveBeenCalledTimes(calls + 1));
    expect(api.saveDraft).toHaveBeenLastCalledWith(expect.objectContaining({ id: "draft-1", spoiler: "Politics" }));
    expect(savedCount).toBe(1);
  });

  it("restores the draft from getDraft", async () => {
    api.getDraft.mockResolvedValue(
      draft({
        text: "Restored text",
        spoiler: "Spoilers",
        media: [{ media: mediaInfo(), alt: "" }],
        targets: [
          { accountId: "acc-2", textOverride: "Only for Mastodon", threadParts: null },
          { accountId: "gone", textOverride: null, threadParts: null },
        ],
      }),
    );
    const text = await openComposer();
    expect(text.value).toBe("Restored text");
    expect((screen.getByTestId("compose-spoiler") as HTMLInputElement).value).toBe("Spoilers");
    expect(chip("acc-1").getAttribute("aria-pressed")).toBe("false");
    expect(chip("acc-2").getAttribute("aria-pressed")).toBe("true");
    expect(screen.getByTestId("media-tile")).toBeTruthy();
    expect(screen.getByTestId("media-alt-missing")).toBeTruthy();
    expect(screen.getByTestId("compose-saved").textContent?.trim()).toBe("Saved");

    await fireEvent.click(tab("acc-2"));
    expect((screen.getByTestId("compose-override") as HTMLTextAreaElement).value).toBe("Only for Mastodon");

    const preview = screen.getByTestId("compose-preview");
    expect(preview.dataset.network).toBe("mastodon");
    expect(within(preview).getByTestId("preview-cw").textContent).toBe("Spoilers");
    expect(within(preview).queryByTestId("preview-text")).toBeNull();
    await fireEvent.click(within(preview).getByRole("button", { name: "Show post" }));
    expect(within(preview).getByTestId("preview-text").textContent).toBe("Only for Mastodon");

    await vi.waitFor(() => expect(counter("acc-2").textContent?.trim()).toBe("17 / 500"));
    // Loading is not an edit: nothing is written back.
    await new Promise((resolve) => setTimeout(resolve, 450));
    expect(api.saveDraft).not.toHaveBeenCalled();
  });

  it("highlights links, hashtags and mentions in the preview as text", async () => {
    const text = await openComposer();
    await fireEvent.click(chip("acc-1"));
    await fireEvent.input(text, { target: { value: "<b>hi</b> #news via @ada.bsky.social https://example.org" } });
    const preview = screen.getByTestId("compose-preview");
    expect(preview.querySelector("b")).toBeNull();
    expect([...preview.querySelectorAll(".token")].map((t) => t.textContent)).toEqual([
      "#news",
      "@ada.bsky.social",
      "https://example.org",
    ]);
    expect(within(preview).getByTestId("preview-text").textContent).toBe(
      "<b>hi</b> #news via @ada.bsky.social https://example.org",
    );
  });

  it("discards the draft and empties the composer", async () => {
    api.getDraft.mockResolvedValue(
      draft({ text: "Old idea", targets: [{ accountId: "acc-1", textOverride: null, threadParts: null }] }),
    );
    const text = await openComposer();
    expect(text.value).toBe("Old idea");
    await fireEvent.click(screen.getByTestId("compose-discard"));
    await vi.waitFor(() => expect(api.discardDraft).toHaveBeenCalledWith("draft-1"));
    expect((screen.getByTestId("compose-text") as HTMLTextAreaElement).value).toBe("");
    expect(chip("acc-1").getAttribute("aria-pressed")).toBe("false");

    await fireEvent.click(chip("acc-1"));
    await vi.waitFor(() => expect(api.saveDraft).toHaveBeenCalled());
    expect(api.saveDraft).toHaveBeenLastCalledWith(expect.objectContaining({ id: null, text: "" }));
  });

  it("publishes, links each published post and retries the failed ones", async () => {
    api.getDraft.mockResolvedValue(
      draft({
        text: "Launch day!",
        targets: [
          { accountId: "acc-1", textOverride: null, threadParts: null },
          { accountId: "acc-2", textOverride: null, threadParts: null },
        ],
      }),
    );
    const adaUrl = "https://bsky.app/profile/ada.bsky.social/post/3kabc";
    const graceUrl = "https://mastodon.social/@grace/1123";
    api.publishNow.mockResolvedValue([
      outcome({ targetId: "t-1", accountId: "acc-1", state: "published", url: adaUrl }),
      outcome({
        targetId: "t-2",
        accountId: "acc-2",
        network: "mastodon",
        handle: "grace@mastodon.social",
        state: "failed",
        errorCode: "network_unavailable",
        error: "mastodon.social answered 503",
      }),
    ]);
    api.retryFailed.mockResolvedValue([
      outcome({ targetId: "t-2", accountId: "acc-2", network: "mastodon", handle: "grace@mastodon.social", state: "published", url: graceUrl }),
    ]);

    await openComposer();
    await vi.waitFor(() => expect(publishButton().disabled).toBe(false));
    await fireEvent.click(publishButton());

    const results = await screen.findByTestId("publish-results");
    expect(api.publishNow).toHaveBeenCalledWith("draft-1");
    expect(api.saveDraft).not.toHaveBeenCalled();
    const rows = within(results).getAllByTestId("publish-result");
    expect(rows.map((r) => [r.dataset.accountId, r.dataset.state])).toEqual([
      ["acc-1", "published"],
      ["acc-2", "failed"],
    ]);
    const link = within(rows[0]!).getByTestId("publish-link") as HTMLAnchorElement;
    expect(link.href).toBe(adaUrl);
    expect(link.target).toBe("_blank");
    expect(link.rel).toBe("noopener noreferrer");
    await fireEvent.click(link);
    expect(api.openExternal).toHaveBeenCalledWith(adaUrl);

    expect(within(rows[1]!).queryByTestId("publish-link")).toBeNull();
    expect(within(rows[1]!).getByTestId("publish-error").textContent).toBe(
      "The network could not be reached: mastodon.social answered 503",
    );
    expect(within(rows[1]!).getByTestId("publish-error-code").textContent?.trim()).toBe("Error code: network_unavailable");
    expect(screen.getByTestId("compose-text").matches(":disabled")).toBe(true);

    await fireEvent.click(within(results).getByTestId("publish-retry"));
    expect(api.retryFailed).toHaveBeenCalledWith("draft-1");
    await vi.waitFor(() =>
      expect(screen.getAllByTestId("publish-result").map((r) => r.dataset.state)).toEqual(["published", "published"]),
    );
    expect((screen.getAllByTestId("publish-link")[1] as HTMLAnchorElement).href).toBe(graceUrl);
    expect(screen.queryByTestId("publish-retry")).toBeNull();

    await fireEvent.click(screen.getByTestId("compose-new"));
    expect(screen.queryByTestId("publish-results")).toBeNull();
    const text = screen.getByTestId("compose-text") as HTMLTextAreaElement;
    expect(text.value).toBe("");
    expect(text.matches(":disabled")).toBe(false);
    await fireEvent.click(chip("acc-1"));
    await fireEvent.input(text, { target: { value: "Next one" } });
    await vi.waitFor(() => expect(api.saveDraft).toHaveBeenCalled());
    expect(api.saveDraft).toHaveBeenLastCalledWith(expect.objectContaining({ id: null, text: "Next one" }));
  });

  it("saves first, then publishes with Ctrl+Enter", async () => {
    api.publishNow.mockResolvedValue([outcome({ state: "published", url: "https://bsky.app/profile/ada/post/1" })]);
    const text = await openComposer();
    await fireEvent.click(chip("acc-1"));
    await fireEvent.input(text, { target: { value: "Quick one" } });
    await fireEvent.keyDown(text, { key: "Enter", ctrlKey: true });

    await screen.findByTestId("publish-results");
    expect(api.saveDraft).toHaveBeenCalledTimes(1);
    expect(api.saveDraft).toHaveBeenCalledWith(expect.objectContaining({ id: null, text: "Quick one" }));
    expect(api.publishNow).toHaveBeenCalledWith("draft-1");
    expect(screen.getByTestId("publish-results").dataset.outcome).toBe("done");
  });

  it("does not publish with Ctrl+Enter while a target is over its limit", async () => {
    const text = await openComposer();
    await fireEvent.click(chip("acc-1"));
    await fireEvent.input(text, { target: { value: "y".repeat(301) } });
    await fireEvent.keyDown(text, { key: "Enter", ctrlKey: true });
    await vi.waitFor(() => expect(counter("acc-1").dataset.ok).toBe("false"));
    await fireEvent.keyDown(text, { key: "Enter", ctrlKey: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(api.publishNow).not.toHaveBeenCalled();
  });

  it("loads the draft of the workspace switched to", async () => {
    api.getDraft.mockImplementation(async (id: string) =>
      id === "ws-2" ? draft({ id: "draft-ws2", workspaceId: "ws-2", text: "Globex news" }) : null,
    );
    await openComposer();
    workspaces.currentId = "ws-2";
    await vi.waitFor(() => expect((screen.getByTestId("compose-text") as HTMLTextAreaElement).value).toBe("Globex news"));
    expect(api.listAccounts).toHaveBeenLastCalledWith("ws-2");
    expect(api.getDraft).toHaveBeenLastCalledWith("ws-2");
  });
});
