import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { createMockApi } from "./test/mockApi";
import { appInfo, resetStores, workspace, zones } from "./test/fixtures";

const api = vi.hoisted(() => ({}) as ReturnType<typeof createMockApi>);
vi.mock("$lib/api", async (importOriginal) => {
  const actual = await importOriginal<typeof import("$lib/api")>();
  const { createMockApi } = await import("./test/mockApi");
  Object.assign(api, createMockApi());
  return { ...actual, api };
});

import type { Language } from "$lib/api";
import App from "./App.svelte";

function boot(options: { list?: ReturnType<typeof workspace>[]; language?: Language; systemLocale?: string | null }) {
  const list = options.list ?? [];
  api.appInfo.mockResolvedValue({ ...appInfo, systemLocale: options.systemLocale ?? "en-US" });
  api.getSettings.mockResolvedValue({ language: options.language ?? "system", currentWorkspaceId: list[0]?.id ?? null });
  api.listWorkspaces.mockResolvedValue(list);
  api.listTimeZones.mockResolvedValue(zones);
  api.keychainStatus.mockResolvedValue({ available: true, backend: "secret-service", problem: null });
  api.setLanguage.mockImplementation(async (language: Language) => ({ language, currentWorkspaceId: list[0]?.id ?? null }));
  api.setCurrentWorkspace.mockImplementation(async (id: string | null) => ({ language: "system", currentWorkspaceId: id }));
  api.listAccounts.mockResolvedValue([]);
  api.checkAccounts.mockResolvedValue([]);
  api.networkCatalog.mockResolvedValue([]);
  api.inboxSummary.mockResolvedValue({ unread: 0, labels: [] });
}

const label = (id: string) => screen.getByTestId(id).textContent?.trim();

beforeEach(() => {
  vi.clearAllMocks();
  resetStores();
  delete document.body.dataset.ready;
});

describe("App", () => {
  it("shows the welcome screen on first run and marks the body ready", async () => {
    boot({});
    render(App);
    await screen.findByTestId("screen-welcome");
    expect(document.body.dataset.ready).toBe("1");
    expect(screen.getByText("Welcome to Postwerk")).toBeTruthy();
    expect((screen.getByTestId("workspace-timezone") as HTMLInputElement).value).toBe("Europe/Berlin");
  });

  it("shows the shell with the current workspace", async () => {
    boot({ list: [workspace()] });
    render(App);
    await screen.findByTestId("screen-compose");
    expect(label("current-workspace-name")).toBe("Acme");
    expect(document.title).toBe("Compose · Postwerk");
  });

  it("follows a German system locale", async () => {
    boot({ list: [workspace()], systemLocale: "de_AT.UTF-8" });
    render(App);
    await screen.findByTestId("screen-compose");
    expect(label("nav-compose")).toBe("Verfassen");
    expect(document.documentElement.lang).toBe("de");
  });

  it("switches the nav labels to German when German is chosen in Settings", async () => {
    boot({ list: [workspace()] });
    render(App);
    await fireEvent.click(await screen.findByTestId("nav-settings"));
    await screen.findByTestId("screen-settings");
    expect(label("nav-settings")).toBe("Settings");

    const select = screen.getByTestId("settings-language") as HTMLSelectElement;
    select.value = "de";
    await fireEvent.change(select);

    await vi.waitFor(() => expect(label("nav-settings")).toBe("Einstellungen"));
    expect(api.setLanguage).toHaveBeenCalledWith("de");
    expect({
      compose: label("nav-compose"),
      calendar: label("nav-calendar"),
      inbox: label("nav-inbox"),
      contacts: label("nav-contacts"),
      analytics: label("nav-analytics"),
      accounts: label("nav-accounts"),
    }).toEqual({
      compose: "Verfassen",
      calendar: "Kalender",
      inbox: "Posteingang",
      contacts: "Kontakte",
      analytics: "Analysen",
      accounts: "Konten",
    });
    expect(label("nav-listening")).not.toBe("Listening");
    expect(document.documentElement.lang).toBe("de");
    expect(document.title).toBe("Einstellungen · Postwerk");
  });

  it("lists every workspace in the switcher and switches on click", async () => {
    boot({ list: [workspace(), workspace({ id: "ws-2", name: "Globex", timeZone: "Asia/Kolkata" })] });
    render(App);
    await fireEvent.click(await screen.findByTestId("workspace-switcher"));
    const options = screen.getAllByTestId("workspace-option");
    expect(options.map((o) => o.textContent)).toEqual([expect.stringContaining("Acme"), expect.stringContaining("Globex")]);
    expect(screen.getByTestId("workspace-new")).toBeTruthy();

    await fireEvent.click(options[1]!);
    await vi.waitFor(() => expect(label("current-workspace-name")).toBe("Globex"));
    expect(api.setCurrentWorkspace).toHaveBeenCalledWith("ws-2");
    expect(screen.queryByRole("menu")).toBeNull();
  });

  it("works the switcher menu with the keyboard", async () => {
    boot({ list: [workspace(), workspace({ id: "ws-2", name: "Globex" })] });
    render(App);
    const trigger = await screen.findByTestId("workspace-switcher");
    await fireEvent.keyDown(trigger, { key: "ArrowDown" });
    const menu = await screen.findByRole("menu");
    await vi.waitFor(() => expect(document.activeElement?.textContent).toContain("Acme"));

    await fireEvent.keyDown(menu, { key: "ArrowDown" });
    expect(document.activeElement?.textContent).toContain("Globex");
    await fireEvent.keyDown(menu, { key: "End" });
    expect(document.activeElement?.textContent).toContain("Manage workspaces");
    await fireEvent.keyDown(menu, { key: "ArrowDown" });
    expect(document.activeElement?.textContent).toContain("Acme");

    await fireEvent.keyDown(menu, { key: "Escape" });
    expect(screen.queryByRole("menu")).toBeNull();
    expect(document.activeElement).toBe(trigger);
  });

  it("opens the new workspace dialog from the switcher", async () => {
    boot({ list: [workspace()] });
    render(App);
    await fireEvent.click(await screen.findByTestId("workspace-switcher"));
    await fireEvent.click(screen.getByTestId("workspace-new"));
    const dialog = await screen.findByRole("dialog");
    expect(dialog.textContent).toContain("New workspace");
    expect(document.activeElement).toBe(screen.getByTestId("workspace-name"));
  });

  it("leads from an empty screen to Accounts", async () => {
    boot({ list: [workspace()] });
    render(App);
    await screen.findByTestId("screen-compose");
    await fireEvent.click(await screen.findByTestId("empty-action"));
    await screen.findByTestId("screen-accounts");
    await screen.findByTestId("accounts-empty");
    expect(api.listAccounts).toHaveBeenCalledWith("ws-1");
    expect(screen.getAllByTestId("account-add")).toHaveLength(1);
  });

  it("shows a load error with the reason", async () => {
    vi.spyOn(console, "error").mockImplementation(() => {});
    boot({});
    api.listWorkspaces.mockRejectedValue(
      new (await import("$lib/api")).AppError("database_incompatible", "written by Postwerk 9.0"),
    );
    render(App);
    await screen.findByTestId("screen-error");
    expect(document.body.dataset.ready).toBe("1");
    expect(label("error-detail")).toBe("The database can’t be used by this version of Postwerk: written by Postwerk 9.0");
  });
});
