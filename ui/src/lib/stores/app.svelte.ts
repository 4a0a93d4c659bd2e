import { api, AppError } from "$lib/api";
import { settings } from "./settings.svelte";
import { workspaces } from "./workspaces.svelte";

type Status = { phase: "loading" } | { phase: "ready" } | { phase: "error"; error: AppError };

export const app = $state<{ status: Status }>({ status: { phase: "loading" } });

/** Time zones known to the webview, used only if the core's list can't be loaded. */
function platformTimeZones(): string[] {
  const intl = Intl as typeof Intl & { supportedValuesOf?: (key: "timeZone") => string[] };
  try {
    return intl.supportedValuesOf?.("timeZone") ?? [];
  } catch {
    return [];
  }
}

/** Loads the first snapshot from the core. Safe to call again to retry. */
export async function bootstrap(): Promise<void> {
  app.status = { phase: "loading" };
  try {
    const [appInfo, savedSettings, list, timeZones] = await Promise.all([
      api.appInfo(),
      api.getSettings(),
      api.listWorkspaces(),
      api.listTimeZones().catch((error: unknown) => {
        console.warn("could not load the time zone list; using the webview's", error);
        return platformTimeZones();
      }),
    ]);
    settings.hydrate({ settings: savedSettings, appInfo, timeZones });
    workspaces.hydrate(list, savedSettings.currentWorkspaceId);
    app.status = { phase: "ready" };
  } catch (error) {
    console.error("could not load the first snapshot", error);
    app.status = { phase: "error", error: AppError.from(error) };
  }
}
