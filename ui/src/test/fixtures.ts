import type { AppInfo, Workspace } from "$lib/api";
import { setLocale } from "$lib/i18n";
import { settings } from "$lib/stores/settings.svelte";
import { workspaces } from "$lib/stores/workspaces.svelte";
import { navigate } from "$lib/stores/navigation.svelte";

export const appInfo: AppInfo = {
  version: "0.1.0",
  dataDir: "/home/test/.local/share/postwerk",
  logDir: "/home/test/.local/share/postwerk/logs",
  systemLocale: "en-US",
  systemTimeZone: "Europe/Berlin",
};

export const zones = ["America/New_York", "Asia/Kolkata", "Europe/Berlin", "Europe/Vienna", "UTC"];

export function workspace(overrides: Partial<Workspace> = {}): Workspace {
  return {
    id: "ws-1",
    name: "Acme",
    timeZone: "Europe/Berlin",
    color: "#4f46e5",
    createdAt: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

/** Puts the shared stores back into a known state between tests. */
export function resetStores(list: Workspace[] = []): void {
  settings.appInfo = appInfo;
  settings.timeZones = [...zones];
  settings.language = "system";
  setLocale("en");
  workspaces.list = list;
  workspaces.currentId = list[0]?.id ?? null;
  navigate("compose");
}
