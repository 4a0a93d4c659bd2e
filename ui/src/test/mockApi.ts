import { vi } from "vitest";
import type { Api } from "$lib/api";

/** A `vi.fn()` for every command of the API seam. */
export function createMockApi() {
  return {
    appInfo: vi.fn(),
    listTimeZones: vi.fn(),
    keychainStatus: vi.fn(),
    listWorkspaces: vi.fn(),
    createWorkspace: vi.fn(),
    updateWorkspace: vi.fn(),
    deleteWorkspace: vi.fn(),
    getSettings: vi.fn(),
    setLanguage: vi.fn(),
    setCurrentWorkspace: vi.fn(),
    openLogFolder: vi.fn(),
    networkCatalog: vi.fn(),
    listAccounts: vi.fn(),
    checkAccounts: vi.fn(),
    connectBluesky: vi.fn(),
    startMastodonSignIn: vi.fn(),
    finishMastodonSignIn: vi.fn(),
    cancelSignIn: vi.fn(),
    removeAccount: vi.fn(),
    getDraft: vi.fn(),
    saveDraft: vi.fn(),
    discardDraft: vi.fn(),
    importMedia: vi.fn(),
    checkPost: vi.fn(),
    splitThread: vi.fn(),
    publishNow: vi.fn(),
    retryFailed: vi.fn(),
    openExternal: vi.fn(),
  } satisfies Record<keyof Api, ReturnType<typeof vi.fn>>;
}
