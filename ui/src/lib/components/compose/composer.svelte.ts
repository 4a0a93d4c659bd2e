// The composer's state for one workspace: the post being written, its live checks against
// each account's limits, autosave, and publishing. The Composer component renders it; all
// calls to the core go through `api`.
import {
  api,
  AppError,
  errorMessage,
  type Account,
  type CheckInput,
  type Draft,
  type DraftInput,
  type DraftTarget,
  type MediaInfo,
  type Repeat,
  type TargetCheck,
  type TargetOutcome,
  type TargetState,
} from "$lib/api";
import { t } from "$lib/i18n";
import { showToast } from "$lib/stores/toasts.svelte";
import { isAcceptedImage, readAsBase64 } from "$lib/util/files";

/** Checks are cheap and local: run them shortly after the last keystroke. */
export const CHECK_DELAY_MS = 150;
/** Autosave waits a little longer, so a burst of typing is one write. */
export const SAVE_DELAY_MS = 400;

export type MediaItem = { key: number; media: MediaInfo; alt: string };
/** A post put on the schedule: at a wall-clock time, or into each account's queue. */
export type Scheduled = {
  mode: "at" | "queue";
  postId: string;
  /** What was sent ("YYYY-MM-DD HH:MM", or a daylight-saving choice with its offset). */
  wallClock: string | null;
  outcomes: TargetOutcome[];
  /** Accounts whose network will hold the post (Postwerk hands it over shortly). */
  handOff: Record<string, boolean>;
};

/** A network takes a post onto its own scheduler only this far ahead (the core's HAND_OFF_AHEAD). */
const HAND_OFF_AHEAD_MS = (5 * 60 + 30) * 1000;
export type SaveStatus = "idle" | "saving" | "saved" | "error";
/** Why publishing is not possible right now. */
export type BlockReason = "no_targets" | "importing" | "empty" | "problems";

/** Outcomes that need nothing more from the user. */
const DONE: readonly TargetState[] = ["published", "handed_off", "scheduled"];
/** Outcomes "Retry failed" picks up again. */
const RETRYABLE: readonly TargetState[] = ["failed", "needs_reconnect", "unconfirmed"];

let nextKey = 1;

export function isDone(state: TargetState): boolean {
  return DONE.includes(state);
}

export function isRetryable(state: TargetState): boolean {
  return RETRYABLE.includes(state);
}

/** Whether a check found something that stops publishing to that account. */
export function hasBlockingProblem(check: TargetCheck | undefined): boolean {
  if (!check) return false;
  return check.parts.some((part) => !part.ok) || check.media.some((problem) => problem.blocking);
}

export class Composer {
  readonly workspaceId: string;
  readonly accounts: Account[];

  phase = $state<"loading" | "ready" | "error">("loading");
  loadError = $state("");

  draftId = $state<string | null>(null);
  text = $state("");
  spoiler = $state("");
  media = $state<MediaItem[]>([]);
  targets = $state<DraftTarget[]>([]);
  /** The tab shown: `null` for all networks, else an account id. */
  activeTab = $state<string | null>(null);

  /** The latest check per account id. */
  checks = $state<Record<string, TargetCheck>>({});
  /** A check is on its way. */
  checkPending = $state(false);
  saveStatus = $state<SaveStatus>("idle");
  saveError = $state("");
  /** Files being read and taken in. */
  importing = $state(0);
  /** The account whose text is being split. */
  splitting = $state<string | null>(null);

  publishing = $state(false);
  retrying = $state(false);
  /** Outcomes of the last publish; while shown, the post can't be edited. */
  outcomes = $state<TargetOutcome[] | null>(null);
  /** The post the outcomes belong to. */
  postId = $state<string | null>(null);

  /** Scheduling (or adding to the queue) is on its way. */
  scheduling = $state<"at" | "queue" | null>(null);
  /** Why the last scheduling attempt failed (shown in the schedule panel). */
  scheduleError = $state<{ mode: "at" | "queue"; message: string; code: string } | null>(null);
  /** The post just scheduled; while shown, the post can't be edited. */
  scheduled = $state<Scheduled | null>(null);

  readonly locked = $derived(this.publishing || this.scheduling !== null || this.outcomes !== null || this.scheduled !== null);
  readonly blockReason = $derived.by((): BlockReason | null => this.#findBlockReason());
  readonly canPublish = $derived(this.phase === "ready" && !this.locked && this.blockReason === null);
  readonly succeeded = $derived(
    this.outcomes !== null && this.outcomes.length > 0 && this.outcomes.every((o) => isDone(o.state)),
  );
  /** Nothing written, picked or saved: there is nothing to discard. */
  readonly blank = $derived(
    this.draftId === null &&
      this.text === "" &&
      this.spoiler === "" &&
      this.media.length === 0 &&
      this.targets.length === 0,
  );
  readonly canRetry = $derived(this.outcomes?.some((o) => isRetryable(o.state)) ?? false);

  /** Targets the user unpicked, so picking the account again brings back its own text. */
  #stash = new Map<string, DraftTarget>();
  #disposed = false;
  /** Bumped when the composer starts over: answers for the old post are dropped. */
  #generation = 0;

  #checkTimer: ReturnType<typeof setTimeout> | undefined;
  #checkRequest = 0;
  #lastCheckedKey = "";
  #checking: Promise<void> = Promise.resolve();

  #saveTimer: ReturnType<typeof setTimeout> | undefined;
  #saving: Promise<void> | null = null;
  /** The content last written (or loaded); equal content is not saved again. */
  #lastSavedKey = "";

  constructor(workspaceId: string, accounts: Account[]) {
    this.workspaceId = workspaceId;
    this.accounts = accounts;
    this.#lastSavedKey = this.#contentKey();
  }

  // ---- Reading -------------------------------------------------------------------------

  account(id: string): Account | undefined {
    return this.accounts.find((a) => a.id === id);
  }

  target(accountId: string): DraftTarget | undefined {
    return this.targets.find((t) => t.accountId === accountId);
  }

  isPicked(accountId: string): boolean {
    return this.targets.some((t) => t.accountId === accountId);
  }

  /** The text an account posts (when it is not a thread). */
  textFor(target: DraftTarget): string {
    return target.textOverride ?? this.text;
  }

  isEmpty(target: DraftTarget): boolean {
    if (this.media.length > 0) return false;
    if (target.threadParts) return target.threadParts.every((part) => part.trim() === "");
    return this.textFor(target).trim() === "";
  }

  #findBlockReason(): BlockReason | null {
    if (this.targets.length === 0) return "no_targets";
    if (this.importing > 0) return "importing";
    if (this.targets.some((target) => this.isEmpty(target))) return "empty";
    if (this.targets.some((target) => hasBlockingProblem(this.checks[target.accountId]))) return "problems";
    return null;
  }

  #mediaInput() {
    return this.media.map((item) => ({ mediaId: item.media.id, alt: item.alt }));
  }

  checkInput(): CheckInput {
    return $state.snapshot({
      workspaceId: this.workspaceId,
      text: this.text,
      spoiler: this.spoiler,
      media: this.#mediaInput(),
      targets: this.targets,
    });
  }

  draftInput(): DraftInput {
    return $state.snapshot({
      id: this.draftId,
      workspaceId: this.workspaceId,
      text: this.text,
      spoiler: this.spoiler,
      media: this.#mediaInput(),
      targets: this.targets,
    });
  }

  #contentKey(): string {
    return JSON.stringify({
      text: this.text,
      spoiler: this.spoiler,
      media: this.#mediaInput(),
      targets: this.targets,
    });
  }

  // ---- Loading -------------------------------------------------------------------------

  async load(): Promise<void> {
    this.phase = "loading";
    const generation = this.#generation;
    try {
      const draft = await api.getDraft(this.workspaceId);
      if (this.#disposed || generation !== this.#generation) return;
      if (draft) this.#restore(draft);
      this.#lastSavedKey = this.#contentKey();
      this.saveStatus = draft ? "saved" : "idle";
      this.phase = "ready";
      void this.runCheck();
    } catch (error) {
      if (this.#disposed) return;
      console.error("could not load the draft", error);
      this.loadError = errorMessage(error);
      this.phase = "error";
    }
  }

  #restore(draft: Draft): void {
    const known = new Set(this.accounts.map((a) => a.id));
    this.draftId = draft.id;
    this.text = draft.text;
    this.spoiler = draft.spoiler;
    this.media = draft.media.map((item) => ({ key: nextKey++, media: item.media, alt: item.alt }));
    // Accounts removed since the draft was saved are left out.
    this.targets = this.#sorted(
      draft.targets
        .filter((target) => known.has(target.accountId))
        .map((target) => ({
          accountId: target.accountId,
          textOverride: target.textOverride,
          threadParts: target.threadParts ? [...target.threadParts] : null,
        })),
    );
  }

  // ---- Editing -------------------------------------------------------------------------

  /** Called after every edit: checks and saves follow shortly. */
  changed(): void {
    if (this.phase !== "ready" || this.locked) return;
    this.#scheduleCheck();
    this.#scheduleSave();
  }

  setText(value: string): void {
    if (value === this.text) return;
    this.text = value;
    this.changed();
  }

  setSpoiler(value: string): void {
    if (value === this.spoiler) return;
    this.spoiler = value;
    this.changed();
  }

  #sorted(targets: DraftTarget[]): DraftTarget[] {
    const order = new Map(this.accounts.map((a, index) => [a.id, index]));
    return [...targets].sort((a, b) => (order.get(a.accountId) ?? 0) - (order.get(b.accountId) ?? 0));
  }

  toggle(accountId: string): void {
    if (this.locked) return;
    const existing = this.target(accountId);
    if (existing) {
      this.#stash.set(accountId, $state.snapshot(existing));
      this.targets = this.targets.filter((t) => t.accountId !== accountId);
      if (this.activeTab === accountId) this.activeTab = null;
    } else {
      const target = this.#stash.get(accountId) ?? { accountId, textOverride: null, threadParts: null };
      this.#stash.delete(accountId);
      this.targets = this.#sorted([...this.targets, target]);
    }
    this.changed();
  }

  setOverride(accountId: string, value: string): void {
    const target = this.target(accountId);
    if (!target || target.textOverride === value) return;
    target.textOverride = value;
    this.changed();
  }

  resetOverride(accountId: string): void {
    const target = this.target(accountId);
    if (!target || target.textOverride === null) return;
    target.textOverride = null;
    this.changed();
  }

  setPart(accountId: string, index: number, value: string): void {
    const parts = this.target(accountId)?.threadParts;
    if (!parts || index < 0 || index >= parts.length || parts[index] === value) return;
    parts[index] = value;
    this.changed();
  }

  /** Asks the core to split the account's text into a thread that fits its limit. */
  async split(accountId: string): Promise<void> {
    const target = this.target(accountId);
    if (!target || this.locked || this.splitting) return;
    this.splitting = accountId;
    const generation = this.#generation;
    try {
      const parts = await api.splitThread(accountId, this.textFor(target));
      const current = this.target(accountId);
      if (this.#disposed || generation !== this.#generation || !current || this.locked) return;
      if (parts.length < 2) {
        showToast({ tone: "info", title: t("compose.splitNothing") });
        return;
      }
      current.threadParts = parts;
      this.activeTab = accountId;
      this.changed();
    } catch (error) {
      showToast({ tone: "error", title: t("compose.splitFailed"), detail: errorMessage(error) });
    } finally {
      this.splitting = null;
    }
  }

  /** Turns a thread back into one post; edits made to the parts are kept. */
  join(accountId: string): void {
    const target = this.target(accountId);
    if (!target?.threadParts) return;
    const joined = target.threadParts.map((part) => part.trim()).filter(Boolean).join("\n\n");
    target.threadParts = null;
    if (joined !== this.textFor(target)) target.textOverride = joined;
    this.changed();
  }

  setAlt(key: number, alt: string): void {
    const item = this.media.find((m) => m.key === key);
    if (!item || item.alt === alt) return;
    item.alt = alt;
    this.changed();
  }

  removeMedia(key: number): void {
    this.media = this.media.filter((m) => m.key !== key);
    this.changed();
  }

  /** Takes in dropped, pasted or picked files, one after the other, in their order. */
  async addFiles(files: File[]): Promise<void> {
    if (this.locked || this.phase !== "ready" || files.length === 0) return;
    const accepted = files.filter(isAcceptedImage);
    const refused = files.filter((file) => !isAcceptedImage(file));
    if (refused.length > 0) {
      showToast({
        tone: "warning",
        title: t("compose.media.unsupported"),
        detail: refused.map((file) => file.name).join(", "),
      });
    }
    const generation = this.#generation;
    this.importing += accepted.length;
    for (const file of accepted) {
      const name = file.name || "image";
      try {
        const data = await readAsBase64(file);
        const media = await api.importMedia(name, data);
        if (this.#disposed || generation !== this.#generation || this.locked) continue;
        this.media.push({ key: nextKey++, media, alt: "" });
        this.changed();
      } catch (error) {
        showToast({ tone: "error", title: t("compose.media.importFailed", { name }), detail: errorMessage(error) });
      } finally {
        this.importing--;
      }
    }
  }

  // ---- Checking ------------------------------------------------------------------------

  #scheduleCheck(): void {
    clearTimeout(this.#checkTimer);
    this.#checkTimer = setTimeout(() => void this.runCheck(), CHECK_DELAY_MS);
  }

  /** Checks now (dropping a pending timer); resolves once the answer for this content is in. */
  runCheck(): Promise<void> {
    clearTimeout(this.#checkTimer);
    this.#checkTimer = undefined;
    const input = this.checkInput();
    if (input.targets.length === 0) {
      this.#checkRequest++;
      this.#lastCheckedKey = "";
      this.checks = {};
      this.checkPending = false;
      return Promise.resolve();
    }
    const key = JSON.stringify(input);
    if (key === this.#lastCheckedKey) return this.#checking;
    const request = ++this.#checkRequest;
    this.#lastCheckedKey = key;
    this.checkPending = true;
    this.#checking = (async () => {
      try {
        const results = await api.checkPost(input);
        if (this.#disposed || request !== this.#checkRequest) return;
        this.checks = Object.fromEntries(results.map((check) => [check.accountId, check]));
      } catch (error) {
        // Publishing checks again on the core side; a failed live check only costs the hints.
        if (request === this.#checkRequest) this.#lastCheckedKey = "";
        console.warn("could not check the post", error);
      } finally {
        if (request === this.#checkRequest) this.checkPending = false;
      }
    })();
    return this.#checking;
  }

  // ---- Saving --------------------------------------------------------------------------

  #scheduleSave(): void {
    clearTimeout(this.#saveTimer);
    this.saveStatus = "saving";
    this.#saveTimer = setTimeout(() => {
      this.#saveTimer = undefined;
      this.flushSave().catch(() => {});
    }, SAVE_DELAY_MS);
  }

  /**
   * Writes unsaved changes now, after any save in flight. With `force`, writes even an
   * unchanged post that has never been saved (publishing needs its id). Rejects when the
   * write fails.
   */
  async flushSave(options: { force?: boolean } = {}): Promise<void> {
    clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    while (this.#saving) await this.#saving;
    const key = this.#contentKey();
    if (key === this.#lastSavedKey && (this.draftId !== null || !options.force)) {
      if (this.saveStatus === "saving") this.saveStatus = this.draftId ? "saved" : "idle";
      return;
    }
    const input = this.draftInput();
    const generation = this.#generation;
    this.saveStatus = "saving";
    const request = (async () => {
      try {
        const draft = await api.saveDraft(input);
        if (generation !== this.#generation) return;
        this.draftId = draft.id;
        this.#lastSavedKey = key;
        this.saveError = "";
        // More typing since this write started keeps the status at "Saving…".
        if (!this.#saveTimer) this.saveStatus = "saved";
      } catch (error) {
        if (generation !== this.#generation) return;
        console.warn("could not save the draft", error);
        this.saveStatus = "error";
        this.saveError = errorMessage(error);
        throw error;
      }
    })();
    this.#saving = request.then(
      () => {
        this.#saving = null;
      },
      () => {
        this.#saving = null;
      },
    );
    await request;
  }

  // ---- Starting over -------------------------------------------------------------------

  /** Empties the composer for a new post (the old one stays as it is in the core). */
  startNew(): void {
    this.#generation++;
    clearTimeout(this.#saveTimer);
    clearTimeout(this.#checkTimer);
    this.#saveTimer = undefined;
    this.#checkTimer = undefined;
    this.#checkRequest++;
    this.#lastCheckedKey = "";
    this.checkPending = false;
    this.#stash.clear();
    this.draftId = null;
    this.text = "";
    this.spoiler = "";
    this.media = [];
    this.targets = [];
    this.checks = {};
    this.activeTab = null;
    this.outcomes = null;
    this.postId = null;
    this.scheduled = null;
    this.scheduleError = null;
    this.saveStatus = "idle";
    this.saveError = "";
    this.#lastSavedKey = this.#contentKey();
  }

  /** Throws the draft away and empties the composer. */
  async discard(): Promise<void> {
    if (this.locked || this.phase !== "ready") return;
    clearTimeout(this.#saveTimer);
    this.#saveTimer = undefined;
    // A first save in flight is creating the draft: wait for its id so it goes too.
    while (this.#saving) await this.#saving;
    const id = this.draftId;
    this.startNew();
    if (!id) return;
    try {
      await api.discardDraft(id);
    } catch (error) {
      showToast({ tone: "error", title: t("compose.discardFailed"), detail: errorMessage(error) });
    }
  }

  // ---- Publishing ----------------------------------------------------------------------

  async publish(): Promise<void> {
    if (!this.canPublish) return;
    this.publishing = true;
    try {
      // Decide on the post as it is now, not as it was at the last debounce.
      await this.runCheck();
      if (this.#findBlockReason() !== null) return;
      await this.flushSave({ force: true });
      const postId = this.draftId;
      if (!postId) return;
      const outcomes = await api.publishNow(postId);
      if (this.#disposed) return;
      this.postId = postId;
      this.outcomes = outcomes;
    } catch (error) {
      if (this.#disposed) return;
      showToast({ tone: "error", title: t("compose.publishFailed"), detail: errorMessage(error) });
    } finally {
      this.publishing = false;
    }
  }

  // ---- Scheduling ----------------------------------------------------------------------

  /**
   * Saves the post, sets how it repeats, then schedules it at `wallClock` (the workspace's
   * zone) or, with `null`, puts it into each account's next free queue time. Returns whether
   * it worked; a failure is kept in `scheduleError` and nothing the user wrote is lost.
   */
  async schedule(wallClock: string | null, repeat: Repeat, utc: string | null = null): Promise<boolean> {
    if (!this.canPublish) return false;
    const mode = wallClock === null ? "queue" : "at";
    this.scheduling = mode;
    this.scheduleError = null;
    try {
      await this.runCheck();
      if (this.#findBlockReason() !== null) return false;
      await this.flushSave({ force: true });
      const postId = this.draftId;
      if (!postId) return false;
      // Whether each account's network will hold the post (decided now, as the core will).
      const soon = utc !== null && new Date(utc).getTime() - Date.now() < HAND_OFF_AHEAD_MS;
      const handOff = Object.fromEntries(
        this.targets.map((target) => [
          target.accountId,
          !soon &&
            (this.account(target.accountId)?.capabilities.nativeScheduling ?? false) &&
            (target.threadParts?.length ?? 1) <= 1,
        ]),
      );
      await api.setRepeat(postId, repeat);
      const outcomes = wallClock === null ? await api.addToQueue(postId) : await api.schedulePost(postId, wallClock);
      if (this.#disposed) return true;
      this.postId = postId;
      this.scheduled = { mode, postId, wallClock, outcomes, handOff };
      return true;
    } catch (error) {
      if (this.#disposed) return false;
      const appError = AppError.from(error);
      this.scheduleError = { mode, message: errorMessage(appError), code: appError.code };
      return false;
    } finally {
      this.scheduling = null;
    }
  }

  async retry(): Promise<void> {
    const postId = this.postId;
    if (!postId || !this.outcomes || this.retrying) return;
    this.retrying = true;
    try {
      const updated = await api.retryFailed(postId);
      if (this.#disposed || postId !== this.postId || !this.outcomes) return;
      const merged = [...this.outcomes];
      for (const outcome of updated) {
        const index = merged.findIndex((o) => o.targetId === outcome.targetId);
        if (index >= 0) merged[index] = outcome;
        else merged.push(outcome);
      }
      this.outcomes = merged;
    } catch (error) {
      showToast({ tone: "error", title: t("compose.results.retryFailed"), detail: errorMessage(error) });
    } finally {
      this.retrying = false;
    }
  }

  /** Stops timers; unsaved edits are still written (leaving the screen loses nothing). */
  dispose(): void {
    this.#disposed = true;
    clearTimeout(this.#checkTimer);
    if (this.phase === "ready" && !this.locked && this.#contentKey() !== this.#lastSavedKey) {
      this.flushSave().catch(() => {});
    } else {
      clearTimeout(this.#saveTimer);
    }
  }
}
