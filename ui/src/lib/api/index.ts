// The only door to the Rust core. Components and stores import from here, never from
// `$lib/bindings`: results are unwrapped and failures are thrown as `AppError`.
import {
  commands,
  type AppInfo,
  type KeychainStatus,
  type Language,
  type NewWorkspace,
  type Settings,
  type Workspace,
  type WorkspacePatch,
} from "$lib/bindings";
import { AppError } from "./errors";

/** The shape tauri-specta gives every command's outcome. */
type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

export { AppError, errorMessage, fromIpcError } from "./errors";
export type {
  AppInfo,
  ErrorCode,
  KeychainStatus,
  Language,
  NewWorkspace,
  Settings,
  Workspace,
  WorkspacePatch,
} from "$lib/bindings";

async function unwrap<T>(call: () => Promise<Result<T, unknown>>): Promise<T> {
  let result: Result<T, unknown>;
  try {
    result = await call();
  } catch (error) {
    // Thrown when the IPC bridge itself fails (e.g. no Tauri runtime, unknown command).
    throw AppError.from(error);
  }
  if (result.status === "ok") return result.data;
  throw AppError.from(result.error);
}

export const api = {
  appInfo: (): Promise<AppInfo> => unwrap(() => commands.appInfo()),
  listTimeZones: (): Promise<string[]> => unwrap(() => commands.listTimeZones()),
  keychainStatus: (): Promise<KeychainStatus> => unwrap(() => commands.keychainStatus()),
  listWorkspaces: (): Promise<Workspace[]> => unwrap(() => commands.listWorkspaces()),
  createWorkspace: (input: NewWorkspace): Promise<Workspace> => unwrap(() => commands.createWorkspace(input)),
  updateWorkspace: (id: string, patch: WorkspacePatch): Promise<Workspace> =>
    unwrap(() => commands.updateWorkspace(id, patch)),
  deleteWorkspace: async (id: string): Promise<void> => {
    await unwrap(() => commands.deleteWorkspace(id));
  },
  getSettings: (): Promise<Settings> => unwrap(() => commands.getSettings()),
  setLanguage: (language: Language): Promise<Settings> => unwrap(() => commands.setLanguage(language)),
  setCurrentWorkspace: (id: string | null): Promise<Settings> => unwrap(() => commands.setCurrentWorkspace(id)),
  openLogFolder: async (): Promise<void> => {
    await unwrap(() => commands.openLogFolder());
  },
};

export type Api = typeof api;
