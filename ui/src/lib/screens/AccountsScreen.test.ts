import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { createMockApi } from "../../test/mockApi";
import { account, catalog, resetStores, workspace } from "../../test/fixtures";

const api = vi.hoisted(() => ({}) as ReturnType<typeof createMockApi>);
vi.mock("$lib/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("$lib/api")>();
  const { createMockApi } = await import("../../test/mockApi");
  Object.assign(api, createMockApi());
  return { ...actual, api };
});

import { AppError, type Account } from "$lib/api";
import { setLocale } from "$lib/i18n";
import { toasts } from "$lib/stores/toasts.svelte";
import { workspaces } from "$lib/stores/workspaces.svelte";
import AccountsScreen from "./AccountsScreen.svelte";

const AVATAR = "data:image/png;base64,iVBORw0KGgo=";

const ada = account({ id: "acc-1", displayName: "Ada Lovelace", handle: "@ada.bsky.social", avatar: AVATAR });
const grace = account({
  id: "acc-2",
  network: "mastodon",
  server: "https://mastodon.social",
  handle: "@grace@mastodon.social",
  displayName: "Grace Hopper",
  health: "expiring",
  tokenExpiresAt: "2026-03-05T12:00:00Z",
});
const alan = account({
  id: "acc-3",
  network: "mastodon",
  server: "https://chaos.social",
  handle: "@alan@chaos.social",
  displayName: "Alan Turing",
  health: "needs_reconnect",
  healthDetail: "The token was revoked on chaos.social",
});

function rows() {
  return screen.getAllByTestId("account-row");
}

function row(id: string): HTMLElement {
  const found = rows().find((r) => r.dataset.accountId === id);
  if (!found) throw new Error(`no row for ${id}`);
  return found;
}

function healthOf(id: string) {
  const badge = within(row(id)).getByTestId("account-health");
  return { health: badge.dataset.health, text: badge.textContent?.trim() };
}

beforeEach(() => {
  vi.clearAllMocks();
  resetStores([workspace(), workspace({ id: "ws-2", name: "Globex" })]);
  api.networkCatalog.mockResolvedValue(catalog());
  api.checkAccounts.mockImplementation(() => new Promise(() => {}));
});

describe("accounts list", () => {
  it("shows each account with its network, server and health", async () => {
    api.listAccounts.mockResolvedValue([ada, grace, alan]);
    render(AccountsScreen);

    await screen.findAllByTestId("account-row");
    expect(api.listAccounts).toHaveBeenCalledWith("ws-1");
    expect(rows().map((r) => [r.dataset.accountId, r.dataset.network])).toEqual([
      ["acc-1", "bluesky"],
      ["acc-2", "mastodon"],
      ["acc-3", "mastodon"],
    ]);

    const first = within(row("acc-1"));
    expect(first.getByTestId("account-name").textContent).toBe("Ada Lovelace");
    expect(first.getByTestId("account-handle").textContent).toBe("@ada.bsky.social");
    const avatar = first.getByTestId("account-avatar") as HTMLImageElement;
    expect(avatar.src).toBe(AVATAR);
    expect(avatar.alt).toBe("Ada Lovelace");
    expect(row("acc-1").textContent).toContain("Bluesky");
    expect(row("acc-1").textContent).toContain("bsky.social");

    expect(within(row("acc-2")).queryByTestId("account-avatar")).toBeNull();
    expect(row("acc-2").textContent).toContain("G");
    expect(row("acc-3").textContent).toContain("chaos.social");

    expect(healthOf("acc-1")).toEqual({ health: "ok", text: "Connected" });
    expect(healthOf("acc-2").health).toBe("expiring");
    expect(healthOf("acc-2").text).toMatch(/^Sign-in expires on .*2026/);
    expect(healthOf("acc-3")).toEqual({ health: "needs_reconnect", text: "Needs reconnecting" });
    expect(row("acc-3").textContent).toContain("The token was revoked on chaos.social");

    // Reconnecting is always offered, and stands out where it is needed.
    expect(within(row("acc-1")).getByTestId("account-reconnect").className).not.toContain("btn-primary");
    expect(within(row("acc-3")).getByTestId("account-reconnect").className).toContain("btn-primary");
    expect(screen.getAllByTestId("account-add")).toHaveLength(1);
    expect(screen.queryByTestId("accounts-empty")).toBeNull();
  });

  it("says when a sign-in expires soon without a date", async () => {
    api.listAccounts.mockResolvedValue([{ ...grace, tokenExpiresAt: null }]);
    render(AccountsScreen);
    await screen.findByTestId("account-row");
    expect(healthOf("acc-2").text).toBe("Sign-in expires soon");
  });

  it("refreshes health in the background", async () => {
    api.listAccounts.mockResolvedValue([ada, alan]);
    api.checkAccounts.mockResolvedValue([{ ...ada, health: "needs_reconnect", healthDetail: "expired" }, { ...alan, health: "ok", healthDetail: null }]);
    render(AccountsScreen);
    await screen.findAllByTestId("account-row");
    expect(api.checkAccounts).toHaveBeenCalledWith("ws-1");
    await vi.waitFor(() => expect(healthOf("acc-1").health).toBe("needs_reconnect"));
    expect(healthOf("acc-3").health).toBe("ok");
  });

  it("keeps the list and stays quiet when the health check fails", async () => {
    vi.spyOn(console, "warn").mockImplementation(() => {});
    api.listAccounts.mockResolvedValue([ada]);
    api.checkAccounts.mockRejectedValue(new AppError("network_unavailable", "offline"));
    render(AccountsScreen);
    await screen.findByTestId("account-row");
    await vi.waitFor(() => expect(screen.queryByTestId("accounts-checking")).toBeNull());
    expect(rows()).toHaveLength(1);
    expect(toasts.items).toEqual([]);
  });

  it("shows the empty state with one way to add an account", async () => {
    api.listAccounts.mockResolvedValue([]);
    render(AccountsScreen);
    const empty = await screen.findByTestId("accounts-empty");
    expect(empty.textContent).toContain("Connect your first account");
    expect(screen.getAllByTestId("account-add")).toHaveLength(1);
    expect(api.checkAccounts).not.toHaveBeenCalled();

    await fireEvent.click(screen.getByTestId("account-add"));
    expect(await screen.findAllByTestId("network-option")).toHaveLength(4);
  });

  it("shows a list that failed to load, with a retry", async () => {
    api.listAccounts.mockRejectedValueOnce(new AppError("io", "disk full")).mockResolvedValue([ada]);
    render(AccountsScreen);
    const error = await screen.findByTestId("accounts-error");
    expect(error.textContent).toContain("Couldn’t load the accounts");
    await fireEvent.click(within(error).getByText("Try again"));
    await screen.findByTestId("account-row");
  });

  it("loads the accounts of the workspace switched to", async () => {
    api.listAccounts.mockImplementation(async (id: string) => (id === "ws-1" ? [ada] : [alan]));
    render(AccountsScreen);
    await screen.findByTestId("account-row");
    expect(row("acc-1")).toBeTruthy();

    workspaces.currentId = "ws-2";
    await vi.waitFor(() => expect(rows().map((r) => r.dataset.accountId)).toEqual(["acc-3"]));
    expect(api.listAccounts).toHaveBeenLastCalledWith("ws-2");
  });

  it("is translated", async () => {
    setLocale("de");
    api.listAccounts.mockResolvedValue([ada, alan]);
    render(AccountsScreen);
    await screen.findAllByTestId("account-row");
    expect(healthOf("acc-1").text).toBe("Verbunden");
    expect(healthOf("acc-3").text).toBe("Muss neu verbunden werden");
    expect(screen.getByTestId("account-add").textContent).toContain("Konto hinzufügen");
  });
});

describe("connecting", () => {
  it("adds a connected account to the list and confirms it", async () => {
    const fresh = account({ id: "acc-new", handle: "@new.bsky.social", displayName: "New One" });
    api.listAccounts.mockResolvedValueOnce([ada]).mockResolvedValue([ada, fresh]);
    api.connectBluesky.mockResolvedValue(fresh);
    render(AccountsScreen);
    await screen.findByTestId("account-row");

    await fireEvent.click(screen.getByTestId("account-add"));
    const bluesky = (await screen.findAllByTestId("network-option")).find((o) => o.dataset.network === "bluesky");
    await fireEvent.click(bluesky!);
    await fireEvent.input(screen.getByTestId("bluesky-identifier"), { target: { value: "new.bsky.social" } });
    await fireEvent.input(screen.getByTestId("bluesky-password"), { target: { value: "app-pass" } });
    await fireEvent.click(screen.getByTestId("bluesky-submit"));

    await vi.waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(rows().map((r) => r.dataset.accountId)).toEqual(["acc-1", "acc-new"]);
    expect(toasts.items.map((t) => t.title)).toEqual(["Connected @new.bsky.social"]);
    await vi.waitFor(() => expect(api.listAccounts).toHaveBeenCalledTimes(2));
  });

  it("reconnects an account with its form prefilled", async () => {
    api.listAccounts.mockResolvedValue([ada, alan]);
    render(AccountsScreen);
    await screen.findAllByTestId("account-row");

    await fireEvent.click(within(row("acc-3")).getByTestId("account-reconnect"));
    const instance = (await screen.findByTestId("mastodon-instance")) as HTMLInputElement;
    expect(instance.value).toBe("https://chaos.social");
    expect(screen.queryByTestId("network-option")).toBeNull();

    await fireEvent.keyDown(instance, { key: "Escape" });
    await fireEvent.click(within(row("acc-1")).getByTestId("account-reconnect"));
    expect(((await screen.findByTestId("bluesky-identifier")) as HTMLInputElement).value).toBe("ada.bsky.social");
  });
});

describe("removing", () => {
  async function openRemove(target: Account) {
    api.listAccounts.mockResolvedValue([ada, target]);
    render(AccountsScreen);
    await screen.findAllByTestId("account-row");
    await fireEvent.click(within(row(target.id)).getByTestId("account-remove"));
    return screen.findByRole("dialog");
  }

  it("asks first, then removes the account", async () => {
    api.removeAccount.mockResolvedValue({ revoked: true, detail: null });
    const dialog = await openRemove(grace);
    expect(dialog.textContent).toContain("Remove @grace@mastodon.social from Postwerk?");
    expect(dialog.textContent).toContain(
      "Postwerk signs out on Mastodon and deletes the sign-in from your keychain. Scheduled posts for this account will not be sent.",
    );
    expect(api.removeAccount).not.toHaveBeenCalled();

    await fireEvent.click(screen.getByTestId("remove-confirm"));
    await vi.waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(api.removeAccount).toHaveBeenCalledWith("acc-2");
    expect(rows().map((r) => r.dataset.accountId)).toEqual(["acc-1"]);
    expect(toasts.items).toEqual([expect.objectContaining({ tone: "success", title: "Removed @grace@mastodon.social" })]);
  });

  it("does nothing when cancelled", async () => {
    await openRemove(grace);
    await fireEvent.click(screen.getByText("Cancel"));
    expect(screen.queryByRole("dialog")).toBeNull();
    expect(api.removeAccount).not.toHaveBeenCalled();
    expect(rows()).toHaveLength(2);
  });

  it("warns when the network could not be told", async () => {
    api.removeAccount.mockResolvedValue({ revoked: false, detail: "chaos.social did not answer" });
    await openRemove(alan);
    await fireEvent.click(screen.getByTestId("remove-confirm"));
    await vi.waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(toasts.items).toEqual([
      expect.objectContaining({
        tone: "warning",
        title: "Removed from Postwerk, but Mastodon could not be told",
        detail: "chaos.social did not answer",
      }),
    ]);
  });

  it("shows a failure in the dialog", async () => {
    api.removeAccount.mockRejectedValue(new AppError("keychain_unavailable", "Secret Service is not running"));
    await openRemove(grace);
    await fireEvent.click(screen.getByTestId("remove-confirm"));
    expect((await screen.findByTestId("remove-error")).textContent).toContain("Secret Service is not running");
    expect(rows()).toHaveLength(2);
  });
});
