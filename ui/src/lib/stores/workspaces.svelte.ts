import { api, type NewWorkspace, type Workspace, type WorkspacePatch } from "$lib/api";

class WorkspaceStore {
  list = $state<Workspace[]>([]);
  currentId = $state<string | null>(null);
  /** The current workspace; falls back to the first one should the id be stale. */
  current = $derived<Workspace | null>(this.list.find((w) => w.id === this.currentId) ?? this.list[0] ?? null);

  /**
   * Applies a snapshot loaded at start. Falls back to the first workspace when the saved
   * one no longer exists, and persists that choice.
   */
  hydrate(list: Workspace[], savedCurrentId: string | null): void {
    this.list = list;
    const saved = list.find((w) => w.id === savedCurrentId);
    const fallback = saved ?? list[0] ?? null;
    this.currentId = fallback?.id ?? null;
    if ((fallback?.id ?? null) !== savedCurrentId) {
      api.setCurrentWorkspace(this.currentId).catch((error: unknown) => {
        console.warn("could not persist the current workspace", error);
      });
    }
  }

  async create(input: NewWorkspace): Promise<Workspace> {
    const created = await api.createWorkspace(input);
    this.list.push(created);
    return created;
  }

  async update(id: string, patch: WorkspacePatch): Promise<Workspace> {
    const updated = await api.updateWorkspace(id, patch);
    const index = this.list.findIndex((w) => w.id === id);
    if (index >= 0) this.list[index] = updated;
    return updated;
  }

  /** Deletes a workspace; if it was the current one, switches to another (or none). */
  async remove(id: string): Promise<void> {
    await api.deleteWorkspace(id);
    this.list = this.list.filter((w) => w.id !== id);
    if (this.currentId === id) await this.select(this.list[0]?.id ?? null);
  }

  /** Makes a workspace current and remembers it for the next start. */
  async select(id: string | null): Promise<void> {
    const previous = this.currentId;
    if (previous === id) return;
    this.currentId = id;
    try {
      await api.setCurrentWorkspace(id);
    } catch (error) {
      // Keep the UI truthful: switch back when the core could not store the choice,
      // unless the previous workspace is gone.
      if (previous === null || this.list.some((w) => w.id === previous)) this.currentId = previous;
      throw error;
    }
  }
}

export const workspaces = new WorkspaceStore();
