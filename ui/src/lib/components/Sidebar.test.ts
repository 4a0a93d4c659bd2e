import { beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import { createMockApi } from "../../test/mockApi";
import { resetStores, workspace } from "../../test/fixtures";

const api = vi.hoisted(() => ({}) as ReturnType<typeof createMockApi>);
vi.mock("$lib/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("$lib/api")>();
  const { createMockApi } = await import("../../test/mockApi");
  Object.assign(api, createMockApi());
  return { ...actual, api };
});

import type { InboxEvent } from "$lib/api";
import { setLocale } from "$lib/i18n";
import { workspaces } from "$lib/stores/workspaces.svelte";
import Sidebar from "./Sidebar.svelte";

function emit(event: InboxEvent) {
  for (const [callback] of api.onInboxEvent.mock.calls) callback(event);
}

const inbox = () => screen.getByTestId("nav-inbox");
const badge = () => screen.queryByTestId("nav-inbox-badge");

beforeEach(() => {
  vi.clearAllMocks();
  resetStores([workspace(), workspace({ id: "ws-2", name: "Globex" })]);
  api.onInboxEvent.mockResolvedValue(() => {});
});

describe("inbox badge", () => {
  it("shows the current workspace's unread count and reads it again after inbox events", async () => {
    api.inboxSummary.mockResolvedValue({ unread: 12, labels: [] });
    render(Sidebar);
    await vi.waitFor(() => expect(badge()?.textContent).toBe("12"));
    expect(api.inboxSummary).toHaveBeenCalledWith("ws-1");
    expect(badge()!.getAttribute("aria-hidden")).toBe("true");
    expect(screen.getByRole("button", { name: "Inbox, 12 unread" })).toBe(inbox());

    // A burst of events is read once, after a pause; "changed" counts too.
    api.inboxSummary.mockClear();
    api.inboxSummary.mockResolvedValue({ unread: 13, labels: [] });
    emit({ kind: "arrived", workspaceId: "ws-1", count: 1 });
    emit({ kind: "changed" });
    expect(api.inboxSummary).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(badge()?.textContent).toBe("13"));
    expect(api.inboxSummary).toHaveBeenCalledTimes(1);

    // Nothing unread: no badge, the plain name.
    api.inboxSummary.mockResolvedValue({ unread: 0, labels: [] });
    emit({ kind: "changed" });
    await vi.waitFor(() => expect(badge()).toBeNull());
    expect(inbox().getAttribute("aria-label")).toBeNull();
    expect(inbox().textContent?.trim()).toBe("Inbox");
  });

  it("shows 99+ above 99 and follows the workspace switch", async () => {
    api.inboxSummary.mockImplementation(async (id: string) => ({ unread: id === "ws-1" ? 150 : 7, labels: [] }));
    render(Sidebar);
    await vi.waitFor(() => expect(badge()?.textContent).toBe("99+"));
    expect(inbox().getAttribute("aria-label")).toBe("Inbox, 150 unread");

    workspaces.currentId = "ws-2";
    await vi.waitFor(() => expect(badge()?.textContent).toBe("7"));
    expect(api.inboxSummary).toHaveBeenLastCalledWith("ws-2");
  });

  it("never shows another workspace's count while the new one loads", async () => {
    let answer!: (summary: { unread: number; labels: [] }) => void;
    api.inboxSummary.mockResolvedValueOnce({ unread: 4, labels: [] });
    render(Sidebar);
    await vi.waitFor(() => expect(badge()?.textContent).toBe("4"));
    api.inboxSummary.mockReturnValueOnce(new Promise((resolve) => (answer = resolve)));
    workspaces.currentId = "ws-2";
    await vi.waitFor(() => expect(api.inboxSummary).toHaveBeenLastCalledWith("ws-2"));
    expect(badge()).toBeNull();
    answer({ unread: 2, labels: [] });
    await vi.waitFor(() => expect(badge()?.textContent).toBe("2"));
  });

  it("says it in German and stops listening when gone", async () => {
    setLocale("de");
    const stop = vi.fn();
    api.onInboxEvent.mockResolvedValue(stop);
    api.inboxSummary.mockResolvedValue({ unread: 1, labels: [] });
    const { unmount } = render(Sidebar);
    await vi.waitFor(() => expect(badge()?.textContent).toBe("1"));
    expect(inbox().getAttribute("aria-label")).toBe("Posteingang, 1 ungelesener Eintrag");
    unmount();
    expect(stop).toHaveBeenCalledTimes(1);
  });
});
