// The inbox list of one workspace: the items loaded so far (newest first, a page at a time as
// the user scrolls), the cursor and the checked items, and changes made from the list. All
// calls to the core go through `api`.
import { SvelteSet } from "svelte/reactivity";
import { api, errorMessage, type InboxChange, type InboxItem } from "$lib/api";
import { t } from "$lib/i18n";
import { inboxSummary } from "$lib/stores/inboxSummary.svelte";
import { showToast } from "$lib/stores/toasts.svelte";
import { fitsStatus, newerThan, PAGE_SIZE, toFilter, type InboxView } from "./model";

/** Ids per `changeInbox` call, so a "select all" over many pages stays a modest message. */
const CHANGE_CHUNK = 500;

export class InboxList {
  readonly workspaceId: string;
  readonly #view: () => InboxView;

  /** Everything loaded, newest first. Replaced (never mutated), so 100,000 items stay cheap. */
  items = $state.raw<InboxItem[]>([]);
  /** Where the next page starts; `null` when everything is loaded. */
  next = $state<string | null>(null);
  phase = $state<"loading" | "ready" | "error">("loading");
  loadError = $state("");
  loadingMore = $state(false);
  moreError = $state<string | null>(null);

  /** The item j/k move and e/r/Enter act on. */
  cursorId = $state<string | null>(null);
  /** Checked items (bulk actions). */
  readonly selected = new SvelteSet<string>();
  /** The last checkbox clicked, where a shift-click range starts. */
  anchorId: string | null = null;

  /** Bumped by every full load: answers for an older filter are dropped. */
  #generation = 0;

  constructor(workspaceId: string, view: () => InboxView) {
    this.workspaceId = workspaceId;
    this.#view = view;
  }

  get hasMore(): boolean {
    return this.next !== null;
  }

  indexOf(id: string | null): number {
    if (id === null) return -1;
    return this.items.findIndex((item) => item.id === id);
  }

  get(id: string | null): InboxItem | undefined {
    if (id === null) return undefined;
    return this.items.find((item) => item.id === id);
  }

  /** Loads the first page for the current filters (a new filter, the first visit). */
  async load(): Promise<void> {
    const generation = ++this.#generation;
    this.phase = this.items.length === 0 ? "loading" : this.phase;
    this.loadingMore = false;
    this.moreError = null;
    try {
      const page = await api.listInbox(toFilter(this.#view(), this.workspaceId));
      if (generation !== this.#generation) return;
      this.items = page.items;
      this.next = page.next;
      this.phase = "ready";
      this.loadError = "";
      this.#forgetMissing();
    } catch (error) {
      if (generation !== this.#generation) return;
      this.loadError = errorMessage(error);
      this.phase = "error";
    }
  }

  /** Fetches the page after what is loaded (called as the user scrolls near the end). */
  async loadMore(): Promise<void> {
    if (this.next === null || this.loadingMore || this.phase !== "ready") return;
    const generation = this.#generation;
    const after = this.next;
    this.loadingMore = true;
    this.moreError = null;
    try {
      const page = await api.listInbox(toFilter(this.#view(), this.workspaceId, after));
      if (generation !== this.#generation || after !== this.next) return;
      const known = new Set(this.items.map((item) => item.id));
      this.items = this.items.concat(page.items.filter((item) => !known.has(item.id)));
      this.next = page.next;
    } catch (error) {
      if (generation !== this.#generation) return;
      this.moreError = errorMessage(error);
    } finally {
      if (generation === this.#generation) this.loadingMore = false;
    }
  }

  /**
   * Brings the top of the list up to date (new items arrived, a sync ran) without dropping
   * the pages the user scrolled through. Resolves with how many items were added on top.
   */
  async refresh(): Promise<number> {
    if (this.phase !== "ready") {
      await this.load();
      return 0;
    }
    const generation = this.#generation;
    let page;
    try {
      page = await api.listInbox(toFilter(this.#view(), this.workspaceId));
    } catch (error) {
      console.warn("could not refresh the inbox", error);
      return 0;
    }
    if (generation !== this.#generation) return 0;
    const first = this.items[0];
    const fresh = first ? page.items.filter((item) => newerThan(item.id, first.id)) : page.items;
    if (!first || page.next === null || fresh.length === page.items.length) {
      // Everything fits in a page, or more arrived than a page holds: take the page as is.
      this.items = page.items;
      this.next = page.next;
      this.#forgetMissing();
      return fresh.length;
    }
    // The page covers everything from its last item up: what is loaded in that range but not
    // in the page no longer matches (marked done elsewhere, for example).
    const byId = new Map(page.items.map((item) => [item.id, item]));
    const last = page.items[page.items.length - 1];
    const covered = (id: string) => last !== undefined && !newerThan(last.id, id);
    const kept = this.items.filter((item) => byId.has(item.id) || !covered(item.id)).map((item) => byId.get(item.id) ?? item);
    this.items = fresh.concat(kept);
    this.#forgetMissing();
    return fresh.length;
  }

  /** Replaces items in place with what `update` makes of them (after a change). */
  patch(ids: ReadonlySet<string>, update: (item: InboxItem) => InboxItem): void {
    this.items = this.items.map((item) => (ids.has(item.id) ? update(item) : item));
  }

  /** Drops items from the list (they no longer belong to what it shows). */
  remove(ids: ReadonlySet<string>): void {
    this.items = this.items.filter((item) => !ids.has(item.id));
    this.#forgetMissing();
  }

  /**
   * Changes items in the core, then in the list. Items marked done (or not done) leave a list
   * that does not show them; other changes stay in place until the next load. Resolves with
   * whether it worked (a failure is shown as a toast).
   */
  async change(ids: readonly string[], change: Partial<InboxChange>): Promise<boolean> {
    if (ids.length === 0) return true;
    try {
      for (let start = 0; start < ids.length; start += CHANGE_CHUNK) {
        await api.changeInbox(ids.slice(start, start + CHANGE_CHUNK), change);
      }
    } catch (error) {
      showToast({ tone: "error", title: t("inbox.changeFailed"), detail: errorMessage(error) });
      return false;
    }
    // The badge and the label counts follow.
    inboxSummary.refreshSoon();
    const set = new Set(ids);
    this.patch(set, (item) => apply(item, change));
    if (change.done !== undefined && change.done !== null && !fitsStatus(this.#view().status, change.done)) {
      this.remove(set);
    }
    return true;
  }

  /** Moves the cursor by `step` rows (j/k); resolves with the new cursor's index. */
  move(step: number): number {
    if (this.items.length === 0) return -1;
    const at = this.indexOf(this.cursorId);
    const index = at < 0 ? (step > 0 ? 0 : this.items.length - 1) : Math.min(this.items.length - 1, Math.max(0, at + step));
    this.cursorId = this.items[index]?.id ?? null;
    return index;
  }

  /** Checks or unchecks one item; with `range`, every item from the last one clicked to it. */
  toggle(id: string, checked: boolean, range = false): void {
    const from = range ? this.indexOf(this.anchorId) : -1;
    const to = this.indexOf(id);
    if (from >= 0 && to >= 0) {
      const [low, high] = from < to ? [from, to] : [to, from];
      for (const item of this.items.slice(low, high + 1)) {
        if (checked) this.selected.add(item.id);
        else this.selected.delete(item.id);
      }
    } else if (checked) this.selected.add(id);
    else this.selected.delete(id);
    this.anchorId = id;
  }

  selectAll(): void {
    for (const item of this.items) this.selected.add(item.id);
  }

  clearSelection(): void {
    this.selected.clear();
    this.anchorId = null;
  }

  /** Checked ids in list order. */
  selectedIds(): string[] {
    return this.items.filter((item) => this.selected.has(item.id)).map((item) => item.id);
  }

  /** Forgets checks and a cursor on items that left the list. */
  #forgetMissing(): void {
    if (this.selected.size > 0) {
      const present = new Set(this.items.map((item) => item.id));
      for (const id of [...this.selected]) if (!present.has(id)) this.selected.delete(id);
    }
  }
}

/** An item with a change applied as the core applies it. */
export function apply(item: InboxItem, change: Partial<InboxChange>): InboxItem {
  let labels = item.labels;
  if (change.addLabel && !labels.includes(change.addLabel)) labels = [...labels, change.addLabel];
  if (change.removeLabel) labels = labels.filter((label) => label !== change.removeLabel);
  return {
    ...item,
    read: change.read ?? item.read,
    done: change.done ?? item.done,
    important: change.important ?? item.important,
    labels,
  };
}

export { PAGE_SIZE };
