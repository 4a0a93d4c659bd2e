// Wall-clock dates and times of a workspace ("YYYY-MM-DD", "HH:MM", "YYYY-MM-DD HH:MM").
// Calendar arithmetic is done on the dates themselves (through UTC, which has no daylight
// saving), never in the computer's own zone: the workspace's zone is the one that counts, and
// turning a wall clock into an instant is the core's job (`checkTime`).

export type DayKey = string; // "YYYY-MM-DD"

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{1,2}):(\d{2})$/;
const WALL_RE = /^(\d{4}-\d{2}-\d{2})[ T](\d{1,2}:\d{2})(?::\d{2})?$/;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function toUtcDate(day: DayKey): Date {
  const m = DAY_RE.exec(day);
  if (!m) return new Date(NaN);
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
}

function fromUtcDate(date: Date): DayKey {
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`;
}

/** Whether `day` is a real calendar date written as YYYY-MM-DD. */
export function isDay(day: string): boolean {
  const date = toUtcDate(day);
  return !Number.isNaN(date.getTime()) && fromUtcDate(date) === day;
}

/** "9:05" or "09:05" as "09:05"; `null` when it is not a time of day. */
export function normalizeTime(time: string): string | null {
  const m = TIME_RE.exec(time.trim());
  if (!m) return null;
  const hours = Number(m[1]);
  const minutes = Number(m[2]);
  if (hours > 23 || minutes > 59) return null;
  return `${pad(hours)}:${pad(minutes)}`;
}

/** "YYYY-MM-DD HH:MM" split into day and time; `null` when unreadable. */
export function splitWallClock(wallClock: string | null | undefined): { day: DayKey; time: string } | null {
  if (!wallClock) return null;
  const m = WALL_RE.exec(wallClock.trim());
  if (!m) return null;
  const time = normalizeTime(m[2] ?? "");
  const day = m[1] ?? "";
  if (!time || !isDay(day)) return null;
  return { day, time };
}

export function joinWallClock(day: DayKey, time: string): string {
  return `${day} ${time}`;
}

export function addDays(day: DayKey, days: number): DayKey {
  const date = toUtcDate(day);
  date.setUTCDate(date.getUTCDate() + days);
  return fromUtcDate(date);
}

/** Adds months, keeping the day of the month where it exists (Jan 31 + 1 month = Feb 28/29). */
export function addMonths(day: DayKey, months: number): DayKey {
  const date = toUtcDate(day);
  const target = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));
  const last = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(date.getUTCDate(), last));
  return fromUtcDate(target);
}

/** 0 = Monday … 6 = Sunday (the core's queue slot weekdays). */
export function weekday(day: DayKey): number {
  return (toUtcDate(day).getUTCDay() + 6) % 7;
}

/** The Monday of the week `day` is in. */
export function startOfWeek(day: DayKey): DayKey {
  return addDays(day, -weekday(day));
}

export function startOfMonth(day: DayKey): DayKey {
  return `${day.slice(0, 7)}-01`;
}

export function sameMonth(a: DayKey, b: DayKey): boolean {
  return a.slice(0, 7) === b.slice(0, 7);
}

/** The seven days of the week of `day`, Monday first. */
export function weekDays(day: DayKey): DayKey[] {
  const start = startOfWeek(day);
  return Array.from({ length: 7 }, (_, i) => addDays(start, i));
}

/** Six weeks of days, Monday first, covering the month of `day`. */
export function monthGrid(day: DayKey): DayKey[] {
  const start = startOfWeek(startOfMonth(day));
  return Array.from({ length: 42 }, (_, i) => addDays(start, i));
}

/**
 * The instants to ask the core for when showing `first`…`last` (wall-clock days in any zone):
 * a day more on each side covers every UTC offset; items are then placed by their wall clock.
 */
export function queryRange(first: DayKey, last: DayKey): { from: string; to: string } {
  return {
    from: toUtcDate(addDays(first, -1)).toISOString(),
    to: toUtcDate(addDays(last, 2)).toISOString(),
  };
}

const zoneFormats = new Map<string, Intl.DateTimeFormat | null>();

function zoneFormat(zone: string): Intl.DateTimeFormat | null {
  let format = zoneFormats.get(zone);
  if (format === undefined) {
    try {
      format = new Intl.DateTimeFormat("en-CA", {
        timeZone: zone,
        year: "numeric",
        month: "2-digit",
        day: "2-digit",
        hour: "2-digit",
        minute: "2-digit",
        hourCycle: "h23",
      });
    } catch {
      format = null; // a zone this webview does not know
    }
    zoneFormats.set(zone, format);
  }
  return format;
}

/** The wall clock ("YYYY-MM-DD HH:MM") in `zone` at an instant; UTC when the zone is unknown. */
export function wallClockAt(zone: string, at: Date = new Date()): string {
  const format = zoneFormat(zone) ?? zoneFormat("UTC");
  if (!format) return at.toISOString().slice(0, 16).replace("T", " ");
  const parts = Object.fromEntries(format.formatToParts(at).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

/** Today in `zone`. */
export function todayIn(zone: string, at: Date = new Date()): DayKey {
  return wallClockAt(zone, at).slice(0, 10);
}

/** A wall clock as a Date whose UTC fields are the wall clock (for formatting only). */
function asUtc(day: DayKey, time = "00:00"): Date {
  const date = toUtcDate(day);
  const [h, m] = time.split(":").map(Number);
  date.setUTCHours(h ?? 0, m ?? 0);
  return date;
}

const twentyFourHours = new Map<string, boolean>();

/** Whether the locale writes times on a 24-hour clock (then hours get two digits: 09:00). */
function uses24Hours(locale: string): boolean {
  let known = twentyFourHours.get(locale);
  if (known === undefined) {
    const cycle = new Intl.DateTimeFormat(locale, { hour: "numeric" }).resolvedOptions().hourCycle;
    known = cycle === "h23" || cycle === "h24";
    twentyFourHours.set(locale, known);
  }
  return known;
}

const formats = new Map<string, Intl.DateTimeFormat>();

/**
 * An `Intl.DateTimeFormat`, made once per locale and options: making one costs far more than
 * formatting with it, and a scrolling list formats times for every row it draws. Throws as
 * the constructor does (an unknown zone).
 */
export function dateTimeFormat(locale: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let made = formats.get(key);
  if (made === undefined) {
    made = new Intl.DateTimeFormat(locale, options);
    formats.set(key, made);
  }
  return made;
}

function format(locale: string, options: Intl.DateTimeFormatOptions, date: Date): string {
  const hour = options.hour === "numeric" && uses24Hours(locale) ? "2-digit" : options.hour;
  return dateTimeFormat(locale, { ...options, hour, timeZone: "UTC" }).format(date);
}

/** "9:00 AM" / "09:00" for a wall-clock time in the UI's language. */
export function formatTime(time: string, locale: string): string {
  return format(locale, { hour: "numeric", minute: "2-digit" }, asUtc("2000-01-01", time));
}

/** "9 AM" / "09 Uhr" for the hour rows of a day. */
export function formatHour(hour: number, locale: string): string {
  return format(locale, { hour: "numeric" }, asUtc("2000-01-01", `${pad(hour)}:00`));
}

/** "Tue, Mar 3" style. */
export function formatDayShort(day: DayKey, locale: string): string {
  return format(locale, { weekday: "short", month: "short", day: "numeric" }, asUtc(day));
}

/** "Tuesday, March 3, 2026" style. */
export function formatDayLong(day: DayKey, locale: string): string {
  return format(locale, { weekday: "long", year: "numeric", month: "long", day: "numeric" }, asUtc(day));
}

/** "Tuesday, March 3, 2026 at 9:00 AM" style, for a "YYYY-MM-DD HH:MM" wall clock. */
export function formatWallClock(wallClock: string, locale: string): string {
  const parts = splitWallClock(wallClock);
  if (!parts) return wallClock;
  return format(
    locale,
    { weekday: "long", year: "numeric", month: "long", day: "numeric", hour: "numeric", minute: "2-digit" },
    asUtc(parts.day, parts.time),
  );
}

/** "Tue, Mar 3, 9:00 AM" style. */
export function formatWallClockShort(wallClock: string, locale: string): string {
  const parts = splitWallClock(wallClock);
  if (!parts) return wallClock;
  return format(
    locale,
    { weekday: "short", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" },
    asUtc(parts.day, parts.time),
  );
}

/** "March 2026". */
export function formatMonth(day: DayKey, locale: string): string {
  return format(locale, { month: "long", year: "numeric" }, asUtc(day));
}

/** "Mon" … "Sun" for weekday 0 … 6. */
export function weekdayName(index: number, locale: string, width: "short" | "long" = "short"): string {
  // 2024-01-01 was a Monday.
  return format(locale, { weekday: width }, asUtc(addDays("2024-01-01", index)));
}

/** An instant (RFC 3339) on the wall clock of `zone`, formatted like `formatWallClockShort`. */
export function formatInstantIn(instant: string, zone: string, locale: string): string {
  const at = new Date(instant);
  if (Number.isNaN(at.getTime())) return instant;
  return formatWallClockShort(wallClockAt(zone, at), locale);
}

/** Minutes after midnight as "HH:MM". */
export function minuteToTime(minute: number): string {
  return `${pad(Math.floor(minute / 60))}:${pad(minute % 60)}`;
}

/** "HH:MM" as minutes after midnight; `null` when it is not a time. */
export function timeToMinute(time: string): number | null {
  const normal = normalizeTime(time);
  if (!normal) return null;
  const [h, m] = normal.split(":").map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** "Mar 2 – 8, 2026" for a span of days. */
export function formatDayRange(first: DayKey, last: DayKey, locale: string): string {
  const options: Intl.DateTimeFormatOptions = { month: "short", day: "numeric", year: "numeric", timeZone: "UTC" };
  const format = new Intl.DateTimeFormat(locale, options);
  if (typeof format.formatRange === "function") return format.formatRange(asUtc(first), asUtc(last));
  return `${format.format(asUtc(first))} – ${format.format(asUtc(last))}`;
}
