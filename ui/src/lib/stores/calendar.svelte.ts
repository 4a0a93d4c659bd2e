import type { QueueItem, Repeat } from "$lib/api";
import type { DayKey } from "$lib/util/wallclock";

export type CalendarView = "month" | "week" | "queue";

/**
 * What the calendar shows; kept while the user visits other screens, so coming back lands on
 * the same month or week. `anchor` is a day of the workspace's wall clock, `null` for today.
 */
export const calendarView = $state<{ view: CalendarView; anchor: DayKey | null }>({ view: "month", anchor: null });

/** Opens the calendar on a view (and a day) the next time it is shown. */
export function showInCalendar(view: CalendarView, anchor: DayKey | null = calendarView.anchor): void {
  calendarView.view = view;
  calendarView.anchor = anchor;
}

/**
 * A scheduled post taken back to a draft to be edited ("Edit" in the calendar): the composer
 * offers to schedule it again at the same time with the same repeat.
 */
export type ReturnedPost = { postId: string; wallClock: string | null; repeat: Repeat };

export const returnedPost = $state<{ value: ReturnedPost | null }>({ value: null });

export function rememberReturned(item: QueueItem): void {
  returnedPost.value = {
    postId: item.postId,
    wallClock: item.localTime,
    repeat: { everyDays: item.repeatDays, evergreenGapDays: item.evergreenGapDays },
  };
}

/** The returned post if the composer opened it (once). */
export function takeReturned(postId: string | null): ReturnedPost | null {
  const value = returnedPost.value;
  if (!value || value.postId !== postId) return null;
  returnedPost.value = null;
  return value;
}
