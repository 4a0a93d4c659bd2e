export type Toast = { id: number; title: string; detail?: string; tone: "error" | "warning" | "success" | "info" };

const DEFAULT_TIMEOUT_MS = 8000;
let nextId = 1;

/** Transient notifications: failures that have no form to show them in, and confirmations. */
export const toasts = $state<{ items: Toast[] }>({ items: [] });

export function showToast(toast: Omit<Toast, "id">, timeoutMs = DEFAULT_TIMEOUT_MS): number {
  const id = nextId++;
  toasts.items.push({ ...toast, id });
  if (timeoutMs > 0) setTimeout(() => dismissToast(id), timeoutMs);
  return id;
}

export function dismissToast(id: number): void {
  const index = toasts.items.findIndex((t) => t.id === id);
  if (index >= 0) toasts.items.splice(index, 1);
}
