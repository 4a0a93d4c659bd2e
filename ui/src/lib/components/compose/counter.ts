import type { TextCheck } from "$lib/api";
import { t } from "$lib/i18n";

/** Bluesky counts bytes too; true when those are over while the letters may not be. */
export function bytesOver(check: TextCheck): boolean {
  return check.bytes !== null && check.byteLimit !== null && check.bytes > check.byteLimit;
}

/** The text is longer than the account takes (splitting into a thread can help). */
export function isTooLong(check: TextCheck): boolean {
  return check.overBy > 0 || bytesOver(check);
}

/** "123 / 500"; when over: "12 too many" (and the bytes where those are over). */
export function counterLabel(check: TextCheck): string {
  if (check.ok) return t("compose.counter", { length: check.length, limit: check.limit });
  const pieces: string[] = [];
  if (check.overBy > 0) pieces.push(t("compose.tooMany", { count: check.overBy }));
  if (bytesOver(check)) pieces.push(t("compose.bytes", { bytes: check.bytes ?? 0, limit: check.byteLimit ?? 0 }));
  if (pieces.length === 0) pieces.push(check.message ?? t("compose.counter", { length: check.length, limit: check.limit }));
  return pieces.join(" · ");
}

/** The counter of a whole thread: its size, or the first post that is too long. */
export function threadLabel(parts: TextCheck[]): string {
  const bad = parts.findIndex((part) => !part.ok);
  const part = parts[bad];
  if (bad < 0 || !part) return t("compose.threadCount", { count: parts.length });
  if (part.overBy > 0) return t("compose.partTooMany", { part: bad + 1, count: part.overBy });
  return counterLabel(part);
}
