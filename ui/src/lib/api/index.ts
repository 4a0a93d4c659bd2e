// The only door to the Rust core. Components and stores import from here, never from
// `$lib/bindings`: results are unwrapped and failures are thrown as `AppError`.
import {
  commands,
  type Account,
  type AppInfo,
  type ConnectBluesky,
  type KeychainStatus,
  type Language,
  type NetworkInfo,
  type NewWorkspace,
  type PendingSignIn,
  type Removal,
  type Settings,
  type StartMastodon,
  type Workspace,
  type WorkspacePatch,
} from "$lib/bindings";
import { AppError } from "./errors";
import { composeCommands, openExternal } from "./compose";
import type { CheckInput, Draft, DraftInput, MediaInfo, TargetCheck, TargetOutcome } from "./compose-types";

/** The shape tauri-specta gives every command's outcome. */
type Result<T, E> = { status: "ok"; data: T } | { status: "error"; error: E };

export { AppError, errorMessage, fromIpcError } from "./errors";
export type {
  Account,
  AppInfo,
  Capabilities,
  ConnectBluesky,
  ConnectMethod,
  ErrorCode,
  Health,
  KeychainStatus,
  Language,
  NetworkInfo,
  NetworkKind,
  NewWorkspace,
  PendingSignIn,
  Removal,
  Settings,
  StartMastodon,
  Workspace,
  WorkspacePatch,
} from "$lib/bindings";
// Hand-written until `bindings.ts` is regenerated (then they come from `$lib/bindings` above).
export type {
  CheckInput,
  Draft,
  DraftInput,
  DraftMedia,
  DraftMediaInput,
  DraftTarget,
  MediaInfo,
  MediaProblem,
  MediaProblemCode,
  TargetCheck,
  TargetOutcome,
  TargetState,
  TextCheck,
} from "./compose-types";

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
  /** Every network with what it can do and how it connects (for the network picker). */
  networkCatalog: (): Promise<NetworkInfo[]> => unwrap(() => commands.networkCatalog()),
  listAccounts: (workspaceId: string): Promise<Account[]> => unwrap(() => commands.listAccounts(workspaceId)),
  /** Asks each network whether the accounts still work (network calls: may be slow). */
  checkAccounts: (workspaceId: string): Promise<Account[]> => unwrap(() => commands.checkAccounts(workspaceId)),
  connectBluesky: (input: ConnectBluesky): Promise<Account> => unwrap(() => commands.connectBluesky(input)),
  /** Starts a Mastodon sign-in; the core opens the authorize page in the system browser. */
  startMastodonSignIn: (input: StartMastodon): Promise<PendingSignIn> =>
    unwrap(() => commands.startMastodonSignIn(input)),
  /** Resolves with the account once the browser comes back; rejects with `cancelled` on cancel. */
  finishMastodonSignIn: (flowId: string): Promise<Account> => unwrap(() => commands.finishMastodonSignIn(flowId)),
  cancelSignIn: async (flowId: string): Promise<void> => {
    await unwrap(() => commands.cancelSignIn(flowId));
  },
  removeAccount: (id: string): Promise<Removal> => unwrap(() => commands.removeAccount(id)),

  // Compose. `composeCommands` stands in for the generated `commands` until bindings.ts has them.
  /** The draft the composer was last working on in this workspace, or `null`. */
  getDraft: (workspaceId: string): Promise<Draft | null> => unwrap(() => composeCommands.getDraft(workspaceId)),
  /** Creates (`input.id === null`) or updates a draft. */
  saveDraft: (input: DraftInput): Promise<Draft> => unwrap(() => composeCommands.saveDraft(input)),
  discardDraft: async (id: string): Promise<void> => {
    await unwrap(() => composeCommands.discardDraft(id));
  },
  /** Takes an image into the media store; `dataBase64` is the file's bytes without a `data:` prefix. */
  importMedia: (fileName: string, dataBase64: string): Promise<MediaInfo> =>
    unwrap(() => composeCommands.importMedia(fileName, dataBase64)),
  /** Measures the post against each target's limits (cheap, local: called as the user types). */
  checkPost: (input: CheckInput): Promise<TargetCheck[]> => unwrap(() => composeCommands.checkPost(input)),
  /** Splits a text into thread parts that fit the account's limit. */
  splitThread: (accountId: string, text: string): Promise<string[]> =>
    unwrap(() => composeCommands.splitThread(accountId, text)),
  /** Publishes a saved draft to all its accounts now; one outcome per account. */
  publishNow: (postId: string): Promise<TargetOutcome[]> => unwrap(() => composeCommands.publishNow(postId)),
  /** Publishes again to the accounts that failed; returns their new outcomes. */
  retryFailed: (postId: string): Promise<TargetOutcome[]> => unwrap(() => composeCommands.retryFailed(postId)),
  /** Opens a page in the system browser (never in the webview). Never rejects. */
  openExternal: (url: string): Promise<void> => openExternal(url),
};

export type Api = typeof api;
