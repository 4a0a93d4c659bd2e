// What the calendar may do with a scheduled post in each state, and how posts are grouped.
import type { QueueItem, Repeat, TargetState } from "$lib/api";
import { splitWallClock, type DayKey } from "$lib/util/wallclock";

/** States the core can move (reschedule) and cancel. */
const MOVABLE: readonly TargetState[] = ["scheduled", "missed", "paused", "handed_off", "needs_reconnect", "failed"];
const PAUSABLE: readonly TargetState[] = ["scheduled", "handed_off", "missed", "needs_reconnect"];
const SEND_NOW: readonly TargetState[] = ["missed", "paused", "failed"];
/** Waiting to go out (or for the user to decide): what the queue lists show. */
const UPCOMING: readonly TargetState[] = ["scheduled", "handed_off", "publishing", "paused", "missed", "needs_reconnect", "unconfirmed"];
/** The post went out (at least for this account): it can no longer go back to a draft. */
const WENT_OUT: readonly TargetState[] = ["published", "publishing", "unconfirmed"];

export const canMove = (state: TargetState): boolean => MOVABLE.includes(state);
export const canPause = (state: TargetState): boolean => PAUSABLE.includes(state);
export const canResume = (state: TargetState): boolean => state === "paused";
export const canCancel = (state: TargetState): boolean => MOVABLE.includes(state);
export const canPublishNow = (state: TargetState): boolean => SEND_NOW.includes(state);
export const canEdit = (state: TargetState): boolean => !WENT_OUT.includes(state) && state !== "cancelled";
export const isUpcoming = (state: TargetState): boolean => UPCOMING.includes(state);
/** Needs the user: missed, failed, or waiting for a reconnect. */
export const needsAttention = (state: TargetState): boolean =>
  state === "missed" || state === "failed" || state === "needs_reconnect" || state === "unconfirmed";

/** Items by the day of their wall clock in the workspace's zone, in time order. */
export function byDay(items: readonly QueueItem[]): Map<DayKey, QueueItem[]> {
  const days = new Map<DayKey, QueueItem[]>();
  for (const item of items) {
    const when = splitWallClock(item.localTime);
    if (!when) continue;
    const list = days.get(when.day) ?? [];
    list.push(item);
    days.set(when.day, list);
  }
  for (const list of days.values()) list.sort(byTime);
  return days;
}

/** Items by "day hour" ("2026-03-03 09"). */
export function byHour(items: readonly QueueItem[]): Map<string, QueueItem[]> {
  const cells = new Map<string, QueueItem[]>();
  for (const item of items) {
    const when = splitWallClock(item.localTime);
    if (!when) continue;
    const key = `${when.day} ${when.time.slice(0, 2)}`;
    const list = cells.get(key) ?? [];
    list.push(item);
    cells.set(key, list);
  }
  for (const list of cells.values()) list.sort(byTime);
  return cells;
}

export function byTime(a: QueueItem, b: QueueItem): number {
  return (a.localTime ?? "").localeCompare(b.localTime ?? "") || a.handle.localeCompare(b.handle);
}

// ---- Repeat -------------------------------------------------------------------------------

export type RepeatMode = "none" | "days" | "weeks" | "evergreen";
export type RepeatForm = { mode: RepeatMode; count: number };

export const REPEAT_MODES: readonly RepeatMode[] = ["none", "days", "weeks", "evergreen"];
export const MAX_REPEAT_DAYS = 3650;

/** The form for a stored repeat (whole weeks show as weeks). */
export function repeatForm(repeat: Repeat | null | undefined): RepeatForm {
  if (repeat?.everyDays) {
    return repeat.everyDays % 7 === 0 ? { mode: "weeks", count: repeat.everyDays / 7 } : { mode: "days", count: repeat.everyDays };
  }
  if (repeat?.evergreenGapDays) return { mode: "evergreen", count: repeat.evergreenGapDays };
  return { mode: "none", count: 1 };
}

/** The repeat to store, or `null` when the count is not a whole number in range. */
export function repeatOf(form: RepeatForm): Repeat | null {
  if (form.mode === "none") return { everyDays: null, evergreenGapDays: null };
  const count = form.count;
  if (!Number.isInteger(count) || count < 1) return null;
  const days = form.mode === "weeks" ? count * 7 : count;
  if (days > MAX_REPEAT_DAYS) return null;
  return form.mode === "evergreen" ? { everyDays: null, evergreenGapDays: days } : { everyDays: days, evergreenGapDays: null };
}

// ---- Drag and drop ------------------------------------------------------------------------

/** The data type a dragged calendar item carries (its target id). */
export const DRAG_TYPE = "application/x-postwerk-target";

/**
 * The item being dragged. Kept here as well as in the DataTransfer: some drag sources
 * (synthetic events, older WebKit) hand the drop a DataTransfer that cannot be read.
 */
let dragged: string | null = null;

export function startDrag(event: DragEvent, targetId: string): void {
  dragged = targetId;
  const data = event.dataTransfer;
  if (!data) return;
  try {
    data.setData(DRAG_TYPE, targetId);
    data.setData("text/plain", targetId);
    data.effectAllowed = "move";
  } catch {
    // read-only DataTransfer: the module variable still knows
  }
}

export function endDrag(): void {
  dragged = null;
}

/** The target id a drop carries, if it is a calendar item. */
export function droppedTarget(event: DragEvent): string | null {
  let id = "";
  try {
    id = event.dataTransfer?.getData(DRAG_TYPE) ?? "";
  } catch {
    id = "";
  }
  return id || dragged;
}

/** Whether a drag over a cell is a calendar item (so the cell accepts it). */
export function isItemDrag(event: DragEvent): boolean {
  if (dragged) return true;
  const types = event.dataTransfer?.types;
  return !!types && Array.from(types).includes(DRAG_TYPE);
}
