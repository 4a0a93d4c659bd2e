import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { createMockApi } from "../../test/mockApi";
import { account, capabilities, inboxItem, resetStores, threadPost, workspace } from "../../test/fixtures";

const api = vi.hoisted(() => ({}) as ReturnType<typeof createMockApi>);
vi.mock("$lib/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("$lib/api")>();
  const { createMockApi } = await import("../../test/mockApi");
  Object.assign(api, createMockApi());
  return { ...actual, api };
});

import { AppError, type InboxChange, type InboxEvent, type InboxFilter, type InboxItem, type InboxPage, type PostRef, type TextCheck } from "$lib/api";
import { setLocale } from "$lib/i18n";
import { inboxView } from "$lib/stores/inbox.svelte";
import { navigation } from "$lib/stores/navigation.svelte";
import { toasts } from "$lib/stores/toasts.svelte";
import InboxScreen from "./InboxScreen.svelte";

const INBOX = capabilities({ publishText: true, inbox: true, directMessages: true });
const ada = account({ id: "acc-1", network: "bluesky", handle: "ada.bsky.social", capabilities: INBOX });
const grace = account({ id: "acc-2", network: "mastodon", handle: "grace@mastodon.social", displayName: "Grace", capabilities: INBOX });

/** A stand-in for the core's inbox: filters, prefix search and pages (newest first by id). */
function serve(all: InboxItem[], options: { ignoreLimit?: boolean } = {}) {
  const sorted = [...all].sort((a, b) => Number(b.id) - Number(a.id));
  api.listInbox.mockImplementation(async (filter: InboxFilter): Promise<InboxPage> => {
    const words = (filter.query ?? "").toLowerCase().split(/\s+/).filter(Boolean);
    const matching = sorted.filter(
      (item) =>
        (!filter.networks?.length || filter.networks.includes(item.network)) &&
        (!filter.accountIds?.length || filter.accountIds.includes(item.accountId)) &&
        (!filter.kinds?.length || filter.kinds.includes(item.kind)) &&
        (filter.unread === null || item.read === !filter.unread) &&
        (filter.done === null || item.done === filter.done) &&
        (filter.important === null || item.important === filter.important) &&
        (filter.label === null || item.labels.includes(filter.label)) &&
        words.every((word) =>
          `${item.authorName} ${item.authorHandle} ${item.text}`
            .toLowerCase()
            .split(/[^\p{L}\p{N}@._]+/u)
            .some((w) => w.startsWith(word)),
        ) &&
        (filter.after === null || Number(item.id) < Number(filter.after)),
    );
    const limit = options.ignoreLimit ? matching.length : (filter.limit ?? 50);
    const items = matching.slice(0, limit);
    return { items, next: matching.length > limit ? (items[items.length - 1]?.id ?? null) : null };
  });
}

/** `count` mentions with ids count … 1 (newest first). */
function many(count: number): InboxItem[] {
  const base = Date.now();
  return Array.from({ length: count }, (_, i) =>
    inboxItem({
      id: String(count - i),
      authorHandle: `fan${count - i}@other.example`,
      authorName: `Fan ${count - i}`,
      text: `Message ${count - i}`,
      html: null,
      createdAt: new Date(base - (i + 1) * 60_000).toISOString(),
    }),
  );
}

const rows = () => screen.queryAllByTestId("inbox-row");
const row = (id: string) => rows().find((r) => r.dataset.id === id)!;
const currentId = () => rows().find((r) => r.getAttribute("aria-current") === "true")?.dataset.id ?? null;
const press = (key: string, init: KeyboardEventInit = {}) => fireEvent.keyDown(document.body, { key, ...init });
const lastFilter = (): InboxFilter => api.listInbox.mock.calls.at(-1)![0];

function textCheck(text: string, limit: number): TextCheck {
  const length = Array.from(text).length;
  return { network: "mastodon", length, limit, ok: length <= limit, overBy: Math.max(0, length - limit), unit: "graphemes", bytes: null, byteLimit: null, message: null };
}

function emit(event: InboxEvent) {
  for (const [callback] of api.onInboxEvent.mock.calls) callback(event);
}

beforeEach(() => {
  vi.clearAllMocks();
  resetStores([workspace()]);
  navigation.screen = "inbox";
  api.listAccounts.mockResolvedValue([ada, grace]);
  api.listInboxRules.mockResolvedValue([]);
  api.onInboxEvent.mockResolvedValue(() => {});
  api.changeInbox.mockImplementation(async (ids: string[]) => ids.length);
  api.inboxThread.mockResolvedValue([]);
  api.checkReply.mockImplementation(async (_itemId: string, text: string) => textCheck(text, 500));
  api.inboxSummary.mockResolvedValue({ unread: 0, labels: [] });
  serve([]);
});

describe("inbox list", () => {
  it("shows every kind with author, handle, network, kind, time, preview, unread dot, labels and flag", async () => {
    serve([
      inboxItem({ id: "7", kind: "mention", authorAvatar: "https://cdn.other.example/bob.png", labels: ["Order"], important: true }),
      inboxItem({ id: "6", kind: "reply", network: "bluesky", accountId: "acc-1", authorHandle: "carla.bsky.social", authorName: "Carla", text: "Gerne!", read: true }),
      inboxItem({ id: "5", kind: "dm", authorName: "Dora Diaz", authorHandle: "dora@other.example", text: "Private question", authorAvatar: "http://insecure.example/d.png" }),
      inboxItem({ id: "4", kind: "quote", text: "Look at this" }),
      inboxItem({ id: "3", kind: "like", text: "Frische Brötchen", read: true }),
      inboxItem({ id: "2", kind: "repost", text: "", read: true }),
      inboxItem({ id: "1", kind: "follow", text: "", read: true }),
    ]);
    render(InboxScreen);
    await screen.findAllByTestId("inbox-row");

    expect(rows().map((r) => r.dataset.id)).toEqual(["7", "6", "5", "4", "3", "2", "1"]);
    expect(rows().map((r) => within(r).getByTestId("inbox-kind").textContent?.trim())).toEqual(["Mention", "Reply", "DM", "Quote", "Like", "Repost", "Follow"]);
    expect(api.listInbox).toHaveBeenCalledWith({
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

    const bob = row("7");
    expect(within(bob).getByTestId("inbox-author").textContent).toBe("Bob Baker");
    expect(bob.textContent).toContain("@bob@other.example");
    expect(bob.textContent).toContain("Mastodon");
    expect(within(bob).getByTestId("inbox-time").textContent).toBe("5 min");
    expect(within(bob).getByTestId("inbox-preview").textContent).toBe("@ada Habt ihr am Sonntag offen?");
    expect(within(bob).getByTestId("inbox-unread")).toBeTruthy();
    expect(within(bob).getByTestId("inbox-label").textContent).toBe("Order");
    expect(bob.dataset.important).toBe("true");
    expect(within(bob).getByTestId("inbox-important").getAttribute("aria-pressed")).toBe("true");
    expect(within(bob).getByTestId<HTMLImageElement>("inbox-avatar").getAttribute("src")).toBe("https://cdn.other.example/bob.png");

    // No picture over plain http: initials instead.
    expect(within(row("5")).queryByTestId("inbox-avatar")).toBeNull();
    expect(within(row("5")).getByTestId("inbox-initials").textContent).toBe("DD");
    expect(within(row("6")).queryByTestId("inbox-unread")).toBeNull();
    expect(row("6").textContent).toContain("Bluesky");
    expect(within(row("3")).getByTestId("inbox-preview").textContent).toBe("liked your post: Frische Brötchen");
    expect(within(row("1")).getByTestId("inbox-preview").textContent).toBe("followed you");
    expect(screen.getByTestId("inbox-count").textContent?.trim()).toBe("7 items");
  });

  it("asks the core with the filters, and searches once typing pauses", async () => {
    serve([inboxItem({ id: "2", authorName: "Bob Baker" }), inboxItem({ id: "1", authorName: "Carla", authorHandle: "carla@x.example", text: "Preis?" })]);
    render(InboxScreen);
    await screen.findAllByTestId("inbox-row");

    await fireEvent.click(screen.getByTestId("inbox-status-done"));
    await vi.waitFor(() => expect(lastFilter()).toMatchObject({ done: true, after: null }));
    await fireEvent.click(screen.getByTestId("inbox-status-all"));
    await vi.waitFor(() => expect(lastFilter()).toMatchObject({ done: null }));
    await fireEvent.click(screen.getByTestId("inbox-unread-only"));
    await vi.waitFor(() => expect(lastFilter()).toMatchObject({ unread: true }));
    await fireEvent.click(screen.getByTestId("inbox-important-only"));
    await vi.waitFor(() => expect(lastFilter()).toMatchObject({ important: true }));

    const network = screen.getByTestId<HTMLSelectElement>("inbox-network");
    network.value = "mastodon";
    await fireEvent.change(network);
    await vi.waitFor(() => expect(lastFilter()).toMatchObject({ networks: ["mastodon"] }));
    const acc = screen.getByTestId<HTMLSelectElement>("inbox-account");
    acc.value = "acc-2";
    await fireEvent.change(acc);
    await vi.waitFor(() => expect(lastFilter()).toMatchObject({ accountIds: ["acc-2"] }));
    const kind = screen.getByTestId<HTMLSelectElement>("inbox-kind-filter");
    kind.value = "conversations";
    await fireEvent.change(kind);
    await vi.waitFor(() => expect(lastFilter()).toMatchObject({ kinds: ["mention", "reply", "quote", "dm"] }));
    kind.value = "dm";
    await fireEvent.change(kind);
    await vi.waitFor(() => expect(lastFilter()).toMatchObject({ kinds: ["dm"] }));

    await fireEvent.click(screen.getByTestId("inbox-clear-filters"));
    await vi.waitFor(() => expect(lastFilter()).toMatchObject({ kinds: [], networks: [], accountIds: [], unread: null, important: null, done: null }));

    // Typing fast asks once, with the whole word.
    api.listInbox.mockClear();
    const search = screen.getByTestId<HTMLInputElement>("inbox-search");
    for (const value of ["c", "ca", "car"]) await fireEvent.input(search, { target: { value } });
    await vi.waitFor(() => expect(api.listInbox).toHaveBeenCalledTimes(1));
    expect(lastFilter().query).toBe("car");
    await vi.waitFor(() => expect(rows().map((r) => r.dataset.id)).toEqual(["1"]));
    await new Promise((r) => setTimeout(r, 300));
    expect(api.listInbox).toHaveBeenCalledTimes(1);
  });

  it("fetches the next page with `after` as the user scrolls", async () => {
    serve(many(1000));
    render(InboxScreen);
    await screen.findAllByTestId("inbox-row");
    const list = screen.getByTestId("inbox-list");
    expect(list.dataset.count).toBe("200");
    expect(api.listInbox).toHaveBeenCalledTimes(1);
    expect(screen.getByTestId("inbox-count").textContent?.trim()).toBe("200 items loaded, more below");

    const viewport = screen.getByTestId("inbox-viewport");
    viewport.scrollTop = 150 * 68;
    await fireEvent.scroll(viewport);
    await vi.waitFor(() => expect(list.dataset.count).toBe("400"));
    expect(api.listInbox).toHaveBeenCalledTimes(2);
    // The last item of the first page: ids run 1000 … 801.
    expect(lastFilter()).toMatchObject({ after: "801", limit: 200 });
    expect(rows().map((r) => Number(r.dataset.index))).toContain(150);

    viewport.scrollTop = 360 * 68;
    await fireEvent.scroll(viewport);
    await vi.waitFor(() => expect(list.dataset.count).toBe("600"));
    expect(lastFilter()).toMatchObject({ after: "601" });
  });

  it("keeps only a window of rows in the DOM with 100,000 items", async () => {
    serve(many(100_000), { ignoreLimit: true });
    const started = performance.now();
    render(InboxScreen);
    await screen.findAllByTestId("inbox-row");
    const firstRender = performance.now() - started;
    const list = screen.getByTestId("inbox-list");
    expect(list.dataset.count).toBe("100000");
    expect(list.style.height).toBe(`${100_000 * 68}px`);
    expect(rows().length).toBeLessThanOrEqual(30);
    expect(document.querySelectorAll("[data-testid='inbox-row']").length).toBe(rows().length);

    const viewport = screen.getByTestId("inbox-viewport");
    const scrolled = performance.now();
    viewport.scrollTop = 50_000 * 68;
    await fireEvent.scroll(viewport);
    await vi.waitFor(() => expect(rows().map((r) => Number(r.dataset.index))).toContain(50_000));
    const scrollRender = performance.now() - scrolled;
    const indexes = rows().map((r) => Number(r.dataset.index));
    expect(rows().length).toBeLessThanOrEqual(30);
    expect(Math.min(...indexes)).toBeGreaterThanOrEqual(50_000 - 6);
    expect(Math.max(...indexes)).toBeLessThanOrEqual(50_000 + 20);
    expect(row(String(100_000 - 50_000)).style.top).toBe(`${50_000 * 68}px`);
    // Figures for a look by hand (jsdom, not the webview).
    console.info(`inbox list, 100,000 items: first render ${firstRender.toFixed(0)} ms, scroll to the middle ${scrollRender.toFixed(0)} ms, ${rows().length} rows in the DOM`);
  });

  it("leads to Accounts when nothing is connected, and says when all is done", async () => {
    api.listAccounts.mockResolvedValue([]);
    const { unmount } = render(InboxScreen);
    expect((await screen.findByText("Nothing here yet — connect an account")).tagName).toBe("H2");
    await fireEvent.click(screen.getByTestId("empty-action"));
    expect(navigation.screen).toBe("accounts");
    unmount();

    navigation.screen = "inbox";
    api.listAccounts.mockResolvedValue([ada]);
    render(InboxScreen);
    const empty = await screen.findByTestId("inbox-empty");
    expect(empty.dataset.empty).toBe("open");
    expect(empty.textContent).toContain("All done");
    await fireEvent.click(screen.getByTestId("inbox-empty-done"));
    await vi.waitFor(() => expect(lastFilter()).toMatchObject({ done: true }));
    await fireEvent.input(screen.getByTestId("inbox-search"), { target: { value: "zzz" } });
    await vi.waitFor(() => expect(screen.getByTestId("inbox-empty").dataset.empty).toBe("filtered"));
    expect(screen.getByTestId("inbox-empty").textContent).toContain("Nothing matches");
  });

  it("syncs now and shows each account's problem", async () => {
    serve([inboxItem({ id: "1" })]);
    render(InboxScreen);
    await screen.findAllByTestId("inbox-row");
    api.syncInbox.mockResolvedValue([
      { accountId: "acc-2", handle: "grace@mastodon.social", newItems: 1, problem: null },
      { accountId: "acc-1", handle: "ada.bsky.social", newItems: 0, problem: "The network could not be reached: bsky.social did not answer" },
    ]);
    serve([inboxItem({ id: "2", authorName: "Neu" }), inboxItem({ id: "1" })]);
    await fireEvent.click(screen.getByTestId("inbox-sync"));
    expect(api.syncInbox).toHaveBeenCalledWith("ws-1");
    const problem = await screen.findByTestId("inbox-sync-problem");
    expect(problem.dataset.accountId).toBe("acc-1");
    expect(problem.textContent).toBe("@ada.bsky.social: The network could not be reached: bsky.social did not answer");
    await vi.waitFor(() => expect(rows().map((r) => r.dataset.id)).toEqual(["2", "1"]));
  });

  it("puts new items on top when the core says they arrived, keeping the pages already loaded", async () => {
    serve(many(300));
    render(InboxScreen);
    await screen.findAllByTestId("inbox-row");
    const viewport = screen.getByTestId("inbox-viewport");
    viewport.scrollTop = 160 * 68;
    await fireEvent.scroll(viewport);
    await vi.waitFor(() => expect(screen.getByTestId("inbox-list").dataset.count).toBe("300"));

    serve([...many(300), inboxItem({ id: "301", authorName: "Newcomer", text: "Hallo!" })]);
    emit({ kind: "arrived", workspaceId: "other-ws", count: 1 });
    emit({ kind: "arrived", workspaceId: "ws-1", count: 1 });
    await vi.waitFor(() => expect(screen.getByTestId("inbox-list").dataset.count).toBe("301"));
    // The rows in view stay in view.
    expect(viewport.scrollTop).toBe(161 * 68);
    viewport.scrollTop = 0;
    await fireEvent.scroll(viewport);
    expect(rows()[0]!.dataset.id).toBe("301");
  });
});

describe("inbox summary", () => {
  it("offers the summary's labels with their counts, even when no loaded item carries them", async () => {
    api.inboxSummary.mockResolvedValue({ unread: 3, labels: [{ label: "Bestellung", count: 2 }, { label: "Reklamation", count: 4 }] });
    serve([inboxItem({ id: "2", labels: ["Bestellung"] }), inboxItem({ id: "1" })]);
    render(InboxScreen);
    await screen.findAllByTestId("inbox-row");
    expect(api.inboxSummary).toHaveBeenCalledWith("ws-1");
    const filter = await screen.findByTestId<HTMLSelectElement>("inbox-label-filter");
    await vi.waitFor(() => expect([...filter.options].map((o) => o.value)).toEqual(["", "Bestellung", "Reklamation"]));
    expect([...filter.options].map((o) => o.textContent?.trim())).toEqual(["Any label", "Bestellung (2)", "Reklamation (4)"]);

    filter.value = "Reklamation";
    await fireEvent.change(filter);
    await vi.waitFor(() => expect(lastFilter()).toMatchObject({ label: "Reklamation" }));
    // Still offered (and chosen) while the list shows nothing.
    await vi.waitFor(() => expect(screen.getByTestId("inbox-empty").dataset.empty).toBe("filtered"));
    expect(screen.getByTestId<HTMLSelectElement>("inbox-label-filter").value).toBe("Reklamation");
  });

  it("reads the list and the summary again when the core says the database changed", async () => {
    serve([inboxItem({ id: "1" })]);
    render(InboxScreen);
    await screen.findAllByTestId("inbox-row");
    await vi.waitFor(() => expect(api.inboxSummary).toHaveBeenCalledTimes(1));

    // The CLI marked item 1 read and a daemon synced item 2.
    serve([inboxItem({ id: "2", authorName: "Neu" }), inboxItem({ id: "1", read: true })]);
    api.inboxSummary.mockResolvedValue({ unread: 1, labels: [{ label: "Neu", count: 1 }] });
    emit({ kind: "changed" });
    await vi.waitFor(() => expect(rows().map((r) => r.dataset.id)).toEqual(["2", "1"]));
    expect(row("1").dataset.read).toBe("true");
    await vi.waitFor(() => expect(api.inboxSummary).toHaveBeenCalledTimes(2));
    await vi.waitFor(() => expect([...screen.getByTestId<HTMLSelectElement>("inbox-label-filter").options].map((o) => o.value)).toEqual(["", "Neu"]));
  });
});

describe("inbox actions", () => {
  it("moves with j and k, marks done with e and moves on, opens with Enter, replies with r, closes with Escape", async () => {
    serve([inboxItem({ id: "3", text: "Drei" }), inboxItem({ id: "2", text: "Zwei" }), inboxItem({ id: "1", text: "Eins" })]);
    render(InboxScreen);
    await screen.findAllByTestId("inbox-row");

    await press("j");
    expect(currentId()).toBe("3");
    await press("j");
    expect(currentId()).toBe("2");
    expect(document.activeElement).toBe(within(row("2")).getByTestId("inbox-open"));
    await press("k");
    expect(currentId()).toBe("3");
    await press("j");

    // Not while typing in a field.
    const search = screen.getByTestId("inbox-search");
    search.focus();
    await fireEvent.keyDown(search, { key: "j" });
    expect(currentId()).toBe("2");

    await press("e");
    await vi.waitFor(() => expect(api.changeInbox).toHaveBeenCalledWith(["2"], { done: true }));
    await vi.waitFor(() => expect(rows().map((r) => r.dataset.id)).toEqual(["3", "1"]));
    expect(currentId()).toBe("1");

    document.body.focus();
    await press("Enter");
    const panel = await screen.findByTestId("conversation");
    expect(panel.dataset.id).toBe("1");
    // Opening marks it read.
    await vi.waitFor(() => expect(api.changeInbox).toHaveBeenCalledWith(["1"], { read: true }));
    await vi.waitFor(() => expect(row("1").dataset.read).toBe("true"));

    await vi.waitFor(() => expect(api.inboxThread).toHaveBeenCalledWith("1"));
    api.inboxThread.mockClear();
    await press("k");
    await vi.waitFor(() => expect(screen.getByTestId("conversation").dataset.id).toBe("3"));
    // Passing through quickly, the conversation is asked for only where the cursor stays.
    await press("j");
    await press("k");
    await vi.waitFor(() => expect(api.inboxThread).toHaveBeenCalledWith("3"));
    await new Promise((r) => setTimeout(r, 200));
    expect(api.inboxThread.mock.calls).toEqual([["3"]]);
    await press("r");
    await vi.waitFor(() => expect(document.activeElement).toBe(screen.getByTestId("reply-text")));
    // r typed into the reply stays there.
    await fireEvent.keyDown(screen.getByTestId("reply-text"), { key: "Escape" });
    expect(screen.queryByTestId("conversation")).not.toBeNull();

    document.body.focus();
    await press("Escape");
    expect(screen.queryByTestId("conversation")).toBeNull();
    expect(document.activeElement).toBe(within(row("3")).getByTestId("inbox-open"));
  });

  it("acts on many: checkboxes, shift-click ranges, mark read, done and add a label", async () => {
    serve(many(6).map((item) => ({ ...item, read: false })));
    render(InboxScreen);
    await screen.findAllByTestId("inbox-row");
    const check = (id: string) => within(row(id)).getByTestId<HTMLInputElement>("inbox-check");

    await fireEvent.click(check("6"));
    await fireEvent.click(check("3"), { shiftKey: true });
    expect(screen.getByTestId("inbox-selected-count").textContent).toBe("4 selected");
    expect(["6", "5", "4", "3"].every((id) => check(id).checked)).toBe(true);
    expect(check("2").checked).toBe(false);

    await fireEvent.click(screen.getByTestId("bulk-read"));
    await vi.waitFor(() => expect(api.changeInbox).toHaveBeenCalledWith(["6", "5", "4", "3"], { read: true }));
    await vi.waitFor(() => expect(row("4").dataset.read).toBe("true"));
    expect(row("2").dataset.read).toBe("false");

    await fireEvent.click(screen.getByTestId("bulk-label"));
    const input = screen.getByTestId<HTMLInputElement>("bulk-label-adder-input");
    expect(document.activeElement).toBe(input);
    await fireEvent.input(input, { target: { value: "Bestellung" } });
    await fireEvent.submit(screen.getByTestId("bulk-label-adder"));
    await vi.waitFor(() => expect(api.changeInbox).toHaveBeenCalledWith(["6", "5", "4", "3"], { addLabel: "Bestellung" }));
    await vi.waitFor(() => expect(within(row("5")).getByTestId("inbox-label").textContent).toBe("Bestellung"));
    // The new label can be filtered by.
    expect([...screen.getByTestId<HTMLSelectElement>("inbox-label-filter").options].map((o) => o.value)).toEqual(["", "Bestellung"]);

    // Uncheck one with shift from the last click: 3 → 4 unchecked.
    await fireEvent.click(check("4"), { shiftKey: true });
    expect(screen.getByTestId("inbox-selected-count").textContent).toBe("2 selected");

    await fireEvent.click(screen.getByTestId("bulk-done"));
    await vi.waitFor(() => expect(api.changeInbox).toHaveBeenCalledWith(["6", "5"], { done: true }));
    await vi.waitFor(() => expect(rows().map((r) => r.dataset.id)).toEqual(["4", "3", "2", "1"]));
    expect(screen.queryByTestId("inbox-selected-count")).toBeNull();

    await fireEvent.click(screen.getByTestId("inbox-select-all"));
    expect(screen.getByTestId("inbox-selected-count").textContent).toBe("4 selected");
    await fireEvent.click(screen.getByTestId("bulk-clear"));
    expect(screen.queryByTestId("inbox-selected-count")).toBeNull();
  });

  it("flags, unflags and marks one item done from its row, and says when a change fails", async () => {
    serve([inboxItem({ id: "2" }), inboxItem({ id: "1" })]);
    render(InboxScreen);
    await screen.findAllByTestId("inbox-row");
    await fireEvent.click(within(row("2")).getByTestId("inbox-important"));
    await vi.waitFor(() => expect(row("2").dataset.important).toBe("true"));
    expect(api.changeInbox).toHaveBeenCalledWith(["2"], { important: true });

    api.changeInbox.mockRejectedValueOnce(new AppError("not_found", "inbox item 1 not found"));
    await fireEvent.click(within(row("1")).getByTestId("inbox-done"));
    await vi.waitFor(() => expect(toasts.items.at(-1)).toMatchObject({ tone: "error", title: "Couldn’t change the items", detail: "Not found: inbox item 1 not found" }));
    expect(row("1")).toBeTruthy();
  });
});

describe("conversation", () => {
  const THREAD = [
    threadPost({ id: "s-1", authorName: "Ada", authorHandle: "ada@mastodon.social", text: "Neue Brötchen!", html: "<p>Neue Brötchen!</p>", depth: 0 }),
    threadPost({
      id: "s-2",
      isSubject: true,
      depth: 1,
      text: "@ada Habt ihr offen? https://example.com/menu",
      html:
        '<p><span class="h-card"><a href="https://mastodon.social/@ada" class="u-url mention">@ada</a></span> Habt ihr offen? <a href="https://example.com/menu">example.com/menu</a> <a href="javascript:window.__pwned=1">x</a></p><script>window.__pwned=1</script><img src="x" onerror="window.__pwned=1"><svg onload="window.__pwned=1"></svg><iframe srcdoc="<script>parent.__pwned=1</script>"></iframe>',
      url: "https://other.example/@bob/110",
    }),
    threadPost({ id: "s-3", depth: 2, authorName: "Carla", text: "Ich auch <b>plain</b>", html: null }),
  ];

  async function openFirst(item: InboxItem = inboxItem({ id: "1" })) {
    serve([item]);
    render(InboxScreen);
    await fireEvent.click(within((await screen.findAllByTestId("inbox-row"))[0]!).getByTestId("inbox-open"));
    return screen.findByTestId("conversation");
  }

  it("keeps the open conversation when the list is refreshed with the same item", async () => {
    api.inboxThread.mockResolvedValue(THREAD);
    const panel = await openFirst(inboxItem({ id: "1", read: false }));
    const before = await within(panel).findAllByTestId("thread-post");
    expect(api.inboxThread).toHaveBeenCalledTimes(1);
    // Opening marked it read elsewhere in the core; the core says the database changed.
    serve([inboxItem({ id: "1", read: true })]);
    emit({ kind: "changed" });
    await vi.waitFor(() => expect(row("1").dataset.read).toBe("true"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(api.inboxThread).toHaveBeenCalledTimes(1);
    expect(within(panel).getAllByTestId("thread-post")[0]).toBe(before[0]);
  });

  it("shows the thread indented by depth with the item highlighted; links open in the browser, nothing active runs", async () => {
    api.inboxThread.mockResolvedValue(THREAD);
    const panel = await openFirst();
    await vi.waitFor(() => expect(api.inboxThread).toHaveBeenCalledWith("1"));
    const posts = await within(panel).findAllByTestId("thread-post");
    expect(posts.map((p) => [p.dataset.depth, p.dataset.subject])).toEqual([
      ["0", "false"],
      ["1", "true"],
      ["2", "false"],
    ]);
    expect(posts[1]!.getAttribute("aria-current")).toBe("true");
    expect(posts[1]!.style.getPropertyValue("--depth")).toBe("1");

    const content = within(posts[1]!).getByTestId("thread-content");
    expect(content.dataset.html).toBe("true");
    expect(content.querySelector("script, img, svg, iframe, [onerror], [onload]")).toBeNull();
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
    const links = [...content.querySelectorAll("a")];
    expect(links.map((a) => a.getAttribute("href"))).toEqual(["https://mastodon.social/@ada", "https://example.com/menu", null]);

    // A click opens the system browser; the webview stays where it is.
    const menu = links[1]!;
    expect(await fireEvent.click(menu)).toBe(false);
    expect(api.openExternal).toHaveBeenCalledWith("https://example.com/menu");
    expect(await fireEvent.click(links[2]!)).toBe(false);
    expect(api.openExternal).toHaveBeenCalledTimes(1);

    // Plain text stays text.
    const plain = within(posts[2]!).getByTestId("thread-content");
    expect(plain.dataset.html).toBe("false");
    expect(plain.textContent).toBe("Ich auch <b>plain</b>");
    expect(plain.querySelector("b")).toBeNull();

    // "Open on the web" and each post's link go to the browser too.
    expect(await fireEvent.click(within(panel).getByTestId("conversation-web"))).toBe(false);
    expect(api.openExternal).toHaveBeenLastCalledWith("https://other.example/@bob/110");
  });

  it("likes and reposts, and shows the item alone when it has no thread", async () => {
    api.inboxThread.mockRejectedValue(new AppError("invalid_input", "item: this item is not about a post"));
    api.reactInbox.mockResolvedValue(undefined);
    const panel = await openFirst();
    await vi.waitFor(() => expect(within(panel).getByTestId("thread").dataset.phase).toBe("error"));
    expect(within(panel).queryByTestId("thread-error")).toBeNull();
    expect(within(panel).getByTestId("thread-content").textContent).toBe("@ada Habt ihr am Sonntag offen?");

    await fireEvent.click(within(panel).getByTestId("conversation-like"));
    expect(api.reactInbox).toHaveBeenCalledWith("1", null, "like", true);
    await vi.waitFor(() => expect(within(panel).getByTestId("conversation-like").getAttribute("aria-pressed")).toBe("true"));
    expect(within(panel).getByTestId("conversation-like").textContent).toContain("Liked");
    // The item's own post shows the same.
    expect(within(panel).getByTestId("post-like").getAttribute("aria-pressed")).toBe("true");
    api.reactInbox.mockRejectedValueOnce(new AppError("network_unavailable", "other.example did not answer"));
    await fireEvent.click(within(panel).getByTestId("conversation-repost"));
    expect(api.reactInbox).toHaveBeenLastCalledWith("1", null, "repost", true);
    await vi.waitFor(() =>
      expect(toasts.items.at(-1)).toMatchObject({ tone: "error", title: "Couldn’t repost the post", detail: "The network could not be reached: other.example did not answer" }),
    );
    expect(within(panel).getByTestId("conversation-repost").getAttribute("aria-pressed")).toBe("false");

    // A second click takes the like back.
    await fireEvent.click(within(panel).getByTestId("conversation-like"));
    expect(api.reactInbox).toHaveBeenLastCalledWith("1", null, "like", false);
    await vi.waitFor(() => expect(within(panel).getByTestId("conversation-like").getAttribute("aria-pressed")).toBe("false"));
  });

  it("counts the reply as the core will send it, sends with Ctrl+Enter and says it is queued", async () => {
    const panel = await openFirst();
    const text = within(panel).getByTestId<HTMLTextAreaElement>("reply-text");
    await fireEvent.input(text, { target: { value: "Ja, von 8 bis 12 Uhr. Bis Sonntag!!!!" } });
    const counter = within(panel).getByTestId("reply-counter");
    await vi.waitFor(() => expect(counter.textContent?.trim()).toBe("37 / 500"));
    expect(api.checkReply).toHaveBeenLastCalledWith("1", "Ja, von 8 bis 12 Uhr. Bis Sonntag!!!!", null);
    expect(api.checkPost).not.toHaveBeenCalled();
    expect(counter.dataset.ok).toBe("true");

    // Too long: red, and Send waits.
    await fireEvent.input(text, { target: { value: "x".repeat(512) } });
    await vi.waitFor(() => expect(counter.dataset.ok).toBe("false"));
    expect(counter.classList.contains("over")).toBe(true);
    expect(counter.textContent).toContain("512 / 500");
    expect(counter.textContent).toContain("12 too many");
    expect(within(panel).getByTestId<HTMLButtonElement>("reply-send").disabled).toBe(true);

    await fireEvent.input(text, { target: { value: "Ja, bis Sonntag!" } });
    await vi.waitFor(() => expect(counter.dataset.ok).toBe("true"));
    api.replyInbox.mockResolvedValue({ outboxId: "o-1", state: "queued", url: null, error: "other.example did not answer" });
    await fireEvent.keyDown(text, { key: "Enter", ctrlKey: true });
    expect(api.replyInbox).toHaveBeenCalledWith("1", "Ja, bis Sonntag!", null);
    const result = await within(panel).findByTestId("reply-result");
    expect(result.dataset.state).toBe("queued");
    expect(result.textContent?.trim()).toBe("Saved — Postwerk sends it when Mastodon answers");
    expect(text.value).toBe("");
  });

  it("keeps the text when the reply fails or is refused, and links a sent one", async () => {
    const panel = await openFirst();
    const text = within(panel).getByTestId<HTMLTextAreaElement>("reply-text");
    await fireEvent.input(text, { target: { value: "Danke!" } });

    api.replyInbox.mockResolvedValueOnce({ outboxId: "o-1", state: "failed", url: null, error: "Validation failed: Text character limit of 500 exceeded" });
    await fireEvent.click(within(panel).getByTestId("reply-send"));
    let result = await within(panel).findByTestId("reply-result");
    expect(result.dataset.state).toBe("failed");
    expect(result.textContent).toContain("Not sent: Validation failed: Text character limit of 500 exceeded");
    expect(text.value).toBe("Danke!");

    api.replyInbox.mockRejectedValueOnce(new AppError("invalid_input", "text: 512 of 500 characters: 12 too many for Mastodon"));
    await fireEvent.click(within(panel).getByTestId("reply-send"));
    await vi.waitFor(() => expect(within(panel).getByTestId("reply-result").textContent).toContain("Invalid input: text: 512 of 500 characters"));
    expect(text.value).toBe("Danke!");

    api.replyInbox.mockResolvedValueOnce({ outboxId: "o-2", state: "sent", url: "https://mastodon.social/@ada/2", error: null });
    await fireEvent.click(within(panel).getByTestId("reply-send"));
    await vi.waitFor(() => expect(within(panel).getByTestId("reply-result").dataset.state).toBe("sent"));
    result = within(panel).getByTestId("reply-result");
    expect(text.value).toBe("");
    await fireEvent.click(within(result).getByTestId("reply-link"));
    expect(api.openExternal).toHaveBeenCalledWith("https://mastodon.social/@ada/2");
  });

  const BSKY_ITEM = inboxItem({ id: "1", network: "bluesky", accountId: "acc-1", authorHandle: "bob.test", authorName: "Bob", subjectUrl: null });
  const BSKY_THREAD = [
    threadPost({ id: "at://did:plc:ada/app.bsky.feed.post/1", cid: "bafy-ada", authorHandle: "ada.test", authorName: "Ada", text: "Neue Brötchen!", depth: 0 }),
    threadPost({ id: "at://did:plc:bob/app.bsky.feed.post/2", cid: "bafy-bob", authorHandle: "bob.test", text: "@ada.test Habt ihr offen?", isSubject: true, depth: 1 }),
    threadPost({ id: "at://did:plc:carla/app.bsky.feed.post/3", cid: "bafy-carla", authorHandle: "carla.test", authorName: "Carla", text: "Ich auch!", depth: 2, reposted: true }),
  ];
  const ADA: PostRef = { id: "at://did:plc:ada/app.bsky.feed.post/1", cid: "bafy-ada", authorHandle: "ada.test" };
  const CARLA: PostRef = { id: "at://did:plc:carla/app.bsky.feed.post/3", cid: "bafy-carla", authorHandle: "carla.test" };

  it("likes any post of the thread, and a second click takes the like back", async () => {
    api.inboxThread.mockResolvedValue(BSKY_THREAD);
    api.reactInbox.mockResolvedValue(undefined);
    const panel = await openFirst(BSKY_ITEM);
    const posts = await within(panel).findAllByTestId("thread-post");
    const like = within(posts[0]!).getByTestId("post-like");
    expect(like.getAttribute("aria-pressed")).toBe("false");
    expect(like.getAttribute("aria-label")).toBe("Like the post by @ada.test");

    await fireEvent.click(like);
    expect(api.reactInbox).toHaveBeenLastCalledWith("1", ADA, "like", true);
    expect(like.getAttribute("aria-pressed")).toBe("true");
    // Only that post: the item's own stays as it was.
    expect(within(posts[1]!).getByTestId("post-like").getAttribute("aria-pressed")).toBe("false");
    expect(within(panel).getByTestId("conversation-like").getAttribute("aria-pressed")).toBe("false");
    await vi.waitFor(() => expect(like.getAttribute("aria-busy")).toBe("false"));

    await fireEvent.click(like);
    expect(api.reactInbox).toHaveBeenLastCalledWith("1", ADA, "like", false);
    expect(like.getAttribute("aria-pressed")).toBe("false");
    await vi.waitFor(() => expect(like.getAttribute("aria-busy")).toBe("false"));

    // What the network says is shown: Carla's post is already reposted, so a click undoes it.
    const repost = within(posts[2]!).getByTestId("post-repost");
    expect(repost.getAttribute("aria-pressed")).toBe("true");
    await fireEvent.click(repost);
    expect(api.reactInbox).toHaveBeenLastCalledWith("1", CARLA, "repost", false);
    expect(repost.getAttribute("aria-pressed")).toBe("false");

    // The item's own post goes as `null`, and its button and the toolbar's agree.
    await fireEvent.click(within(posts[1]!).getByTestId("post-like"));
    expect(api.reactInbox).toHaveBeenLastCalledWith("1", null, "like", true);
    await vi.waitFor(() => expect(within(panel).getByTestId("conversation-like").getAttribute("aria-pressed")).toBe("true"));
    expect(api.reactInbox).toHaveBeenCalledTimes(4);
  });

  it("puts a like or repost back and says why when the network refuses it", async () => {
    api.inboxThread.mockResolvedValue(BSKY_THREAD);
    const panel = await openFirst(BSKY_ITEM);
    const posts = await within(panel).findAllByTestId("thread-post");
    const like = within(posts[0]!).getByTestId("post-like");

    let refuse!: (error: unknown) => void;
    api.reactInbox.mockReturnValueOnce(new Promise((_, reject) => (refuse = reject)));
    await fireEvent.click(like);
    expect(like.getAttribute("aria-pressed")).toBe("true");
    expect(like.getAttribute("aria-busy")).toBe("true");
    // A click while it is on its way does not send another.
    await fireEvent.click(like);
    expect(api.reactInbox).toHaveBeenCalledTimes(1);
    refuse(new AppError("network_unavailable", "bsky.social did not answer"));
    await vi.waitFor(() => expect(like.getAttribute("aria-pressed")).toBe("false"));
    expect(toasts.items.at(-1)).toMatchObject({ tone: "error", title: "Couldn’t like the post", detail: "The network could not be reached: bsky.social did not answer" });

    api.reactInbox.mockRejectedValueOnce(new AppError("network_unavailable", "bsky.social did not answer"));
    const repost = within(posts[2]!).getByTestId("post-repost");
    await fireEvent.click(repost);
    expect(api.reactInbox).toHaveBeenLastCalledWith("1", CARLA, "repost", false);
    await vi.waitFor(() => expect(toasts.items.at(-1)).toMatchObject({ tone: "error", title: "Couldn’t undo the repost" }));
    expect(repost.getAttribute("aria-pressed")).toBe("true");
  });

  it("answers another post of the thread: counted and sent for it, and back to the item", async () => {
    api.inboxThread.mockResolvedValue(BSKY_THREAD);
    // The core counts what goes out; here: the handle of the post answered, then the text.
    api.checkReply.mockImplementation(async (_itemId: string, text: string, to: PostRef | null) => textCheck(`@${to?.authorHandle ?? "bob.test"} ${text}`, 300));
    api.replyInbox.mockResolvedValue({ outboxId: "o-1", state: "queued", url: null, error: null });
    const panel = await openFirst(BSKY_ITEM);
    const posts = await within(panel).findAllByTestId("thread-post");
    const text = within(panel).getByTestId<HTMLTextAreaElement>("reply-text");
    const counter = within(panel).getByTestId("reply-counter");
    const label = within(panel).getByTestId("reply-label");
    expect(label.textContent?.trim()).toBe("Reply to @bob.test");
    expect(within(panel).queryByTestId("reply-target-clear")).toBeNull();

    await fireEvent.input(text, { target: { value: "Danke!" } });
    await vi.waitFor(() => expect(counter.textContent?.trim()).toBe("16 / 300"));
    expect(api.checkReply).toHaveBeenLastCalledWith("1", "Danke!", null);

    await fireEvent.click(within(posts[2]!).getByTestId("post-reply"));
    expect(label.textContent?.trim()).toBe("Replying to @carla.test");
    expect(posts[2]!.dataset.replyTarget).toBe("true");
    expect(document.activeElement).toBe(text);
    // Counted again for the post answered now.
    await vi.waitFor(() => expect(counter.textContent?.trim()).toBe("18 / 300"));
    expect(api.checkReply).toHaveBeenLastCalledWith("1", "Danke!", CARLA);

    await fireEvent.click(within(panel).getByTestId("reply-send"));
    expect(api.replyInbox).toHaveBeenLastCalledWith("1", "Danke!", CARLA);
    expect((await within(panel).findByTestId("reply-result")).dataset.state).toBe("queued");

    // Back to the item.
    const clear = within(panel).getByTestId("reply-target-clear");
    expect(clear.textContent?.trim()).toBe("Answer @bob.test instead");
    await fireEvent.click(clear);
    expect(label.textContent?.trim()).toBe("Reply to @bob.test");
    expect(within(panel).queryByTestId("reply-target-clear")).toBeNull();
    expect(posts[2]!.dataset.replyTarget).toBeUndefined();
    await fireEvent.input(text, { target: { value: "Bis bald" } });
    await vi.waitFor(() => expect(api.checkReply).toHaveBeenLastCalledWith("1", "Bis bald", null));
    await fireEvent.click(within(panel).getByTestId("reply-send"));
    expect(api.replyInbox).toHaveBeenLastCalledWith("1", "Bis bald", null);

    // Reply on a post picks it; on the item's own post, the item again.
    await fireEvent.click(within(posts[0]!).getByTestId("post-reply"));
    expect(label.textContent?.trim()).toBe("Replying to @ada.test");
    await fireEvent.click(within(posts[1]!).getByTestId("post-reply"));
    expect(label.textContent?.trim()).toBe("Reply to @bob.test");
  });

  it("drops a count that arrives after a newer one", async () => {
    const answers: Array<(check: TextCheck) => void> = [];
    api.checkReply.mockImplementation(() => new Promise<TextCheck>((resolve) => answers.push(resolve)));
    const panel = await openFirst();
    const text = within(panel).getByTestId<HTMLTextAreaElement>("reply-text");
    const counter = within(panel).getByTestId("reply-counter");
    await fireEvent.input(text, { target: { value: "Ja" } });
    await vi.waitFor(() => expect(answers).toHaveLength(1));
    await fireEvent.input(text, { target: { value: "Ja, gern" } });
    await vi.waitFor(() => expect(answers).toHaveLength(2));
    answers[1]!(textCheck("Ja, gern", 500));
    await vi.waitFor(() => expect(counter.textContent?.trim()).toBe("8 / 500"));
    answers[0]!(textCheck("Ja", 500));
    await new Promise((r) => setTimeout(r, 20));
    expect(counter.textContent?.trim()).toBe("8 / 500");
  });

  it("labels, flags, marks unread and done from the panel; follows cannot be answered", async () => {
    serve([inboxItem({ id: "2", kind: "follow", text: "" }), inboxItem({ id: "1", labels: ["Alt"] })]);
    render(InboxScreen);
    await fireEvent.click(within((await screen.findAllByTestId("inbox-row"))[0]!).getByTestId("inbox-open"));
    let panel = await screen.findByTestId("conversation");
    expect(within(panel).getByTestId("reply-unavailable")).toBeTruthy();
    expect(within(panel).queryByTestId("conversation-like")).toBeNull();
    expect(api.inboxThread).not.toHaveBeenCalled();

    await fireEvent.click(within(row("1")).getByTestId("inbox-open"));
    panel = await screen.findByTestId("conversation");
    expect(panel.dataset.id).toBe("1");
    await fireEvent.click(within(panel).getByTestId("conversation-add-label"));
    await fireEvent.input(within(panel).getByTestId("conversation-label-adder-input"), { target: { value: "Neu" } });
    await fireEvent.submit(within(panel).getByTestId("conversation-label-adder"));
    await vi.waitFor(() => expect(within(panel).getAllByTestId("conversation-label").map((l) => l.textContent?.trim())).toEqual(["Alt", "Neu"]));
    await fireEvent.click(within(panel).getByRole("button", { name: "Remove the label Alt" }));
    expect(api.changeInbox).toHaveBeenCalledWith(["1"], { removeLabel: "Alt" });
    await fireEvent.click(within(panel).getByTestId("conversation-important"));
    expect(api.changeInbox).toHaveBeenCalledWith(["1"], { important: true });
    await vi.waitFor(() => expect(within(panel).getByTestId("conversation-read").textContent).toContain("Mark unread"));
    await fireEvent.click(within(panel).getByTestId("conversation-read"));
    expect(api.changeInbox).toHaveBeenCalledWith(["1"], { read: false } satisfies Partial<InboxChange>);

    await fireEvent.click(within(panel).getByTestId("conversation-done"));
    await vi.waitFor(() => expect(rows().map((r) => r.dataset.id)).toEqual(["2"]));
    // Moved on to the one left.
    await vi.waitFor(() => expect(screen.getByTestId("conversation").dataset.id).toBe("2"));
  });
});

describe("rules", () => {
  it("shows the core's reasons next to the field, then saves, switches off and deletes", async () => {
    serve([inboxItem({ id: "1", labels: ["Bestellung"] })]);
    render(InboxScreen);
    await screen.findAllByTestId("inbox-row");
    await fireEvent.click(screen.getByTestId("inbox-rules"));
    const dialog = await screen.findByTestId("rules-dialog");
    expect(await within(dialog).findByTestId("rules-empty")).toBeTruthy();
    await fireEvent.click(within(dialog).getByTestId("rule-new"));

    await fireEvent.input(within(dialog).getByTestId("rule-name"), { target: { value: "Preise" } });
    await fireEvent.input(within(dialog).getByTestId("rule-pattern"), { target: { value: "(preis" } });
    await fireEvent.click(within(dialog).getAllByTestId("rule-kind").find((k) => k.dataset.kind === "dm")!);
    api.saveInboxRule.mockRejectedValueOnce(new AppError("invalid_input", 'textMatches: "(preis" is not a pattern: regex parse error: unclosed group'));
    await fireEvent.click(within(dialog).getByTestId("rule-save"));
    const patternError = await within(dialog).findByTestId("rule-error");
    expect(patternError.dataset.field).toBe("textMatches");
    expect(patternError.textContent?.trim()).toBe('"(preis" is not a pattern: regex parse error: unclosed group');
    const pattern = within(dialog).getByTestId("rule-pattern");
    expect(pattern.getAttribute("aria-invalid")).toBe("true");
    expect(pattern.getAttribute("aria-describedby")).toContain(patternError.id);
    expect(document.activeElement).toBe(pattern);
    expect(api.saveInboxRule).toHaveBeenLastCalledWith({
      id: null,
      workspaceId: "ws-1",
      name: "Preise",
      conditions: { networks: [], accountIds: [], kinds: ["dm"], textContains: null, textMatches: "(preis", author: null },
      actions: { label: null, markDone: false, markImportant: false, notify: false },
      enabled: true,
    });

    await fireEvent.input(pattern, { target: { value: "(preis|kosten)" } });
    expect(within(dialog).queryByTestId("rule-error")).toBeNull();
    api.saveInboxRule.mockRejectedValueOnce(new AppError("invalid_input", "actions: choose at least one action"));
    await fireEvent.click(within(dialog).getByTestId("rule-save"));
    const actionsError = await within(dialog).findByTestId("rule-error");
    expect(actionsError.dataset.field).toBe("actions");
    expect(actionsError.textContent?.trim()).toBe("choose at least one action");

    await fireEvent.input(within(dialog).getByTestId("rule-label"), { target: { value: "Preisfrage" } });
    await fireEvent.click(within(dialog).getByTestId("rule-notify"));
    const saved = {
      id: "r-1",
      workspaceId: "ws-1",
      name: "Preise",
      conditions: { networks: [], accountIds: [], kinds: ["dm" as const], textContains: null, textMatches: "(preis|kosten)", author: null },
      actions: { label: "Preisfrage", markDone: false, markImportant: false, notify: true },
      enabled: true,
    };
    api.saveInboxRule.mockResolvedValueOnce(saved);
    await fireEvent.click(within(dialog).getByTestId("rule-save"));
    const ruleRow = await within(dialog).findByTestId("rule-row");
    expect(ruleRow.textContent).toContain("Preise");
    expect(ruleRow.textContent).toContain("Direct messages · text matches (preis|kosten)");
    expect(ruleRow.textContent).toContain("label “Preisfrage”, notify me");
    // Its label is offered as a filter at once.
    expect([...screen.getByTestId<HTMLSelectElement>("inbox-label-filter").options].map((o) => o.value)).toEqual(["", "Bestellung", "Preisfrage"]);

    api.saveInboxRule.mockResolvedValueOnce({ ...saved, enabled: false });
    await fireEvent.click(within(ruleRow).getByTestId("rule-toggle"));
    expect(api.saveInboxRule).toHaveBeenLastCalledWith({ ...saved, enabled: false });
    await vi.waitFor(() => expect(within(dialog).getByTestId("rule-row").classList.contains("off")).toBe(true));

    api.deleteInboxRule.mockResolvedValue(undefined);
    await fireEvent.click(within(dialog).getByTestId("rule-delete"));
    await fireEvent.click(within(dialog).getByTestId("rule-delete-confirm"));
    expect(api.deleteInboxRule).toHaveBeenCalledWith("r-1");
    await within(dialog).findByTestId("rules-empty");
  });
});

describe("German", () => {
  it("speaks German", async () => {
    setLocale("de");
    serve([inboxItem({ id: "1" }), inboxItem({ id: "2", kind: "dm", createdAt: new Date(Date.now() - 20_000).toISOString() })]);
    render(InboxScreen);
    await screen.findAllByTestId("inbox-row");
    expect(screen.getByTestId("inbox-status-open").textContent?.trim()).toBe("Offen");
    expect(screen.getByTestId("inbox-status-done").textContent?.trim()).toBe("Erledigt");
    expect(screen.getByTestId("inbox-rules").textContent?.trim()).toBe("Regeln");
    expect(within(row("1")).getByTestId("inbox-kind").textContent?.trim()).toBe("Erwähnung");
    expect(within(row("1")).getByTestId("inbox-time").textContent).toBe("5 Min.");
    expect(within(row("2")).getByTestId("inbox-time").textContent).toBe("jetzt");
    await fireEvent.click(within(row("1")).getByTestId("inbox-open"));
    const panel = await screen.findByTestId("conversation");
    expect(within(panel).getByTestId("reply-send").textContent?.trim()).toBe("Senden");
    expect(within(panel).getByText("Antwort an @bob@other.example")).toBeTruthy();
    expect(inboxView.view.status).toBe("open");
  });
});
