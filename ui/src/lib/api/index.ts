// The only door to the Rust core. Components and stores import from here, never from
// `$lib/bindings`: results are unwrapped and failures are thrown as `AppError`.
import {
  commands,
  type Account,
  type AppInfo,
  type ConnectBluesky,
  type InboxChange,
  type InboxEvent,
  type InboxFilter,
  type InboxPage,
  type InboxRule,
  type InboxSummary,
  type KeychainStatus,
  type Language,
  type NetworkInfo,
  type NewRule,
  type NewWorkspace,
  type PendingSignIn,
  type PostRef,
  type PublishEvent,
  type QueueItem,
  type QueueSlot,
  type Reaction,
  type Removal,
  type Repeat,
  type ReplyOutcome,
  type ScheduleFilter,
  type Scheduling,
  type Settings,
  type StartMastodon,
  type SyncReport,
  type TextCheck,
  type ThreadPost,
  type TimeCheck,
  type Workspace,
  type WorkspacePatch,
} from "$lib/bindings";
import { AppError } from "./errors";
import { composeCommands, openExternal } from "./compose";
import { inboxCommands, onInboxEvent } from "./inbox";
import { onScheduleEvent, scheduleCommands } from "./schedule";
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
  HeldBy,
  InboxChange,
  InboxEvent,
  InboxFilter,
  InboxItem,
  InboxKind,
  InboxPage,
  InboxRule,
  InboxSummary,
  KeychainStatus,
  LabelCount,
  Language,
  NetworkInfo,
  NetworkKind,
  NewRule,
  NewWorkspace,
  PendingSignIn,
  PostRef,
  PublishEvent,
  QueueItem,
  QueueSlot,
  Reaction,
  Removal,
  Repeat,
  ReplyOutcome,
  ReplyState,
  RuleActions,
  RuleConditions,
  ScheduleFilter,
  Scheduling,
  Settings,
  StartMastodon,
  SyncReport,
  ThreadPost,
  TimeCheck,
  TimeChoice,
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

  // Scheduling.
  /** How scheduled posts are handled: grace window, paused, start at login. */
  getScheduling: (): Promise<Scheduling> => unwrap(() => scheduleCommands.getScheduling()),
  setScheduling: (scheduling: Scheduling): Promise<Scheduling> =>
    unwrap(() => scheduleCommands.setScheduling(scheduling)),
  /**
   * Checks a wall clock ("YYYY-MM-DD HH:MM") in the workspace's zone as the user picks it: the
   * instant, or the problem (daylight saving gap, repeated hour) and the valid choices.
   */
  checkTime: (workspaceId: string, wallClock: string): Promise<TimeCheck> =>
    unwrap(() => scheduleCommands.checkTime(workspaceId, wallClock)),
  /** Schedules a saved draft at a wall clock (or a choice's `local`) in its workspace's zone. */
  schedulePost: (postId: string, wallClock: string): Promise<TargetOutcome[]> =>
    unwrap(() => scheduleCommands.schedulePost(postId, wallClock)),
  /** Puts a saved draft into each account's next free queue time. */
  addToQueue: (postId: string): Promise<TargetOutcome[]> => unwrap(() => scheduleCommands.addToQueue(postId)),
  /** How the post comes back after it went out (at most one field set); call before scheduling. */
  setRepeat: (postId: string, repeat: Repeat): Promise<Repeat> => unwrap(() => scheduleCommands.setRepeat(postId, repeat)),
  /** Scheduled posts, one item per post and account, soonest first. */
  listSchedule: (filter: ScheduleFilter): Promise<QueueItem[]> => unwrap(() => scheduleCommands.listSchedule(filter)),
  rescheduleTarget: (targetId: string, wallClock: string): Promise<QueueItem> =>
    unwrap(() => scheduleCommands.rescheduleTarget(targetId, wallClock)),
  pauseTarget: (targetId: string): Promise<QueueItem> => unwrap(() => scheduleCommands.pauseTarget(targetId)),
  resumeTarget: (targetId: string): Promise<QueueItem> => unwrap(() => scheduleCommands.resumeTarget(targetId)),
  cancelTarget: (targetId: string): Promise<QueueItem> => unwrap(() => scheduleCommands.cancelTarget(targetId)),
  /** Sends a missed, paused or failed scheduled post now. */
  publishTargetNow: (targetId: string): Promise<TargetOutcome> =>
    unwrap(() => scheduleCommands.publishTargetNow(targetId)),
  /** Takes a scheduled post (all its accounts) back to a draft, to edit it in Compose. */
  unschedulePost: async (postId: string): Promise<void> => {
    await unwrap(() => scheduleCommands.unschedulePost(postId));
  },
  getQueueSlots: (accountId: string): Promise<QueueSlot[]> => unwrap(() => scheduleCommands.getQueueSlots(accountId)),
  /** Replaces an account's weekly queue times; returns them as stored (sorted). */
  setQueueSlots: (accountId: string, slots: QueueSlot[]): Promise<QueueSlot[]> =>
    unwrap(() => scheduleCommands.setQueueSlots(accountId, slots)),
  /** Listens to the scheduler (published, handed off, failed, missed, changed); resolves with a stop function. */
  onScheduleEvent: (callback: (event: PublishEvent) => void): Promise<() => void> => onScheduleEvent(callback),

  // Inbox.
  /** A page of the unified inbox, newest first; pass the page's `next` as `after` for more. */
  listInbox: (filter: InboxFilter): Promise<InboxPage> => unwrap(() => inboxCommands.listInbox(filter)),
  /** Marks items read / done / important or adds / removes a label; resolves with how many changed. */
  changeInbox: (ids: string[], change: Partial<InboxChange>): Promise<number> =>
    unwrap(() =>
      inboxCommands.changeInbox(ids, {
        read: change.read ?? null,
        done: change.done ?? null,
        important: change.important ?? null,
        addLabel: change.addLabel ?? null,
        removeLabel: change.removeLabel ?? null,
      }),
    ),
  /** Reads new notifications of the workspace's accounts now (network calls: may be slow). */
  syncInbox: (workspaceId: string): Promise<SyncReport[]> => unwrap(() => inboxCommands.syncInbox(workspaceId)),
  /**
   * Answers an item, or another post of its conversation (`to`): sent, queued (sent when the
   * network answers) or failed.
   */
  replyInbox: (itemId: string, text: string, to: PostRef | null): Promise<ReplyOutcome> =>
    unwrap(() => inboxCommands.replyInbox(itemId, text, to)),
  /** Measures a reply exactly as it will be sent (the handle Mastodon puts in front, a DM's limit). */
  checkReply: (itemId: string, text: string, to: PostRef | null): Promise<TextCheck> =>
    unwrap(() => inboxCommands.checkReply(itemId, text, to)),
  /** The workspace's unread count (items neither read nor done) and its labels with counts. */
  inboxSummary: (workspaceId: string): Promise<InboxSummary> => unwrap(() => inboxCommands.inboxSummary(workspaceId)),
  /** The conversation around an item, oldest first (asks the network). */
  inboxThread: (itemId: string): Promise<ThreadPost[]> => unwrap(() => inboxCommands.inboxThread(itemId)),
  /**
   * Likes or reposts the post an item is about, or another post of its conversation (`post`);
   * `on: false` takes the like or repost back.
   */
  reactInbox: async (itemId: string, post: PostRef | null, reaction: Reaction, on: boolean): Promise<void> => {
    await unwrap(() => inboxCommands.reactInbox(itemId, post, reaction, on));
  },
  listInboxRules: (workspaceId: string): Promise<InboxRule[]> => unwrap(() => inboxCommands.listInboxRules(workspaceId)),
  /** Adds (`id === null`) or changes a rule; refused with the field and reason when invalid. */
  saveInboxRule: (rule: NewRule): Promise<InboxRule> => unwrap(() => inboxCommands.saveInboxRule(rule)),
  deleteInboxRule: async (id: string): Promise<void> => {
    await unwrap(() => inboxCommands.deleteInboxRule(id));
  },
  /** Listens to the inbox (items arrived, a rule notified, the database changed); resolves with a stop function. */
  onInboxEvent: (callback: (event: InboxEvent) => void): Promise<() => void> => onInboxEvent(callback),
};

export type Api = typeof api;
