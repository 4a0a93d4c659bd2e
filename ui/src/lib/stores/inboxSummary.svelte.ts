import { untrack } from "svelte";
import { api, type LabelCount } from "$lib/api";
import { workspaces } from "./workspaces.svelte";

/** Inbox events come in bursts (a sync, a bulk change): read the summary once they settle. */
export const SUMMARY_DELAY_MS = 300;

/**
 * The current workspace's inbox in numbers: the unread count (the sidebar's badge) and every
 * label with how many items carry it (the label filter). Kept fresh while some component
 * shows it (`keepFresh`): read when the workspace changes and again after every inbox event.
 */
class InboxSummaryStore {
  /** The workspace the numbers are of; `null` before the first answer. */
  workspaceId = $state<string | null>(null);
  /** Items neither read nor done. */
  unread = $state(0);
  labels = $state<LabelCount[]>([]);

  #users = 0;
  #stop: (() => void) | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #request = 0;

  /** The numbers of `id`, or nothing while they are of another workspace. */
  of(id: string | null): { unread: number; labels: readonly LabelCount[] } {
    return id !== null && this.workspaceId === id ? { unread: this.unread, labels: this.labels } : { unread: 0, labels: [] };
  }

  /**
   * Follows the current workspace and the inbox events until the returned function is called
   * (call it from `onMount`). Several components may do so at once: one listener serves them.
   */
  keepFresh(): () => void {
    this.#users += 1;
    if (this.#users === 1) this.#start();
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.#users -= 1;
      if (this.#users === 0) this.#end();
    };
  }

  /** Reads the summary again shortly (after a burst of events or changes, once). */
  refreshSoon(): void {
    if (this.#users === 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.refresh(), SUMMARY_DELAY_MS);
  }

  /** Reads the summary of the current workspace now. */
  async refresh(): Promise<void> {
    clearTimeout(this.#timer);
    const id = workspaces.current?.id ?? null;
    const mine = ++this.#request;
    if (id === null) {
      this.#set(null, 0, []);
      return;
    }
    try {
      const summary = await api.inboxSummary(id);
      if (mine !== this.#request) return;
      this.#set(id, summary.unread, summary.labels);
    } catch (error) {
      if (mine !== this.#request) return;
      console.warn("could not read the inbox summary", error);
    }
  }

  #set(id: string | null, unread: number, labels: LabelCount[]): void {
    this.workspaceId = id;
    this.unread = unread;
    this.labels = labels;
  }

  #start(): void {
    let gone = false;
    let unlisten: (() => void) | null = null;
    void api
      .onInboxEvent(() => this.refreshSoon())
      .then((stop) => {
        if (gone) stop();
        else unlisten = stop;
      });
    const stopEffect = $effect.root(() => {
      $effect(() => {
        const id = workspaces.current?.id ?? null;
        untrack(() => {
          // Another workspace's numbers must not show, not even while the new ones load.
          if (this.workspaceId !== id) this.#set(null, 0, []);
          void this.refresh();
        });
      });
    });
    this.#stop = () => {
      gone = true;
      unlisten?.();
      stopEffect();
    };
  }

  #end(): void {
    clearTimeout(this.#timer);
    this.#request += 1;
    this.#stop?.();
    this.#stop = null;
  }
}

export const inboxSummary = new InboxSummaryStore();
