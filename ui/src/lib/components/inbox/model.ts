// Pure helpers of the inbox screen: kinds, the view (filters) and the filter sent to the core,
// times as the list shows them, avatars' initials, rule errors by field.
import type { InboxFilter, InboxItem, InboxKind, LabelCount, NetworkKind, PostRef, ThreadPost } from "$lib/api";
import { t } from "$lib/i18n";
import { dateTimeFormat, formatTime, splitWallClock, wallClockAt, weekday, weekdayName } from "$lib/util/wallclock";

export const KINDS: readonly InboxKind[] = ["mention", "reply", "dm", "quote", "like", "repost", "follow"];

/** What people write to the account: these can be answered. */
export const CONVERSATION_KINDS: readonly InboxKind[] = ["mention", "reply", "quote", "dm"];

/** Items about a post of someone else, which can be liked and reposted. */
const REACTABLE_KINDS: readonly InboxKind[] = ["mention", "reply", "quote"];

export function canReply(kind: InboxKind): boolean {
  return CONVERSATION_KINDS.includes(kind);
}

/** Posts can be liked; so can Mastodon's direct messages (they are statuses), not Bluesky's chat. */
export function canLike(item: Pick<InboxItem, "kind" | "network">): boolean {
  return REACTABLE_KINDS.includes(item.kind) || (item.kind === "dm" && item.network === "mastodon");
}

/** Only public posts can be reposted: Mastodon refuses to boost a direct message. */
export function canRepost(item: Pick<InboxItem, "kind">): boolean {
  return REACTABLE_KINDS.includes(item.kind);
}

/** How the core names a post of the conversation to answer or react to. */
export function postRef(post: Pick<ThreadPost, "id" | "cid" | "authorHandle">): PostRef {
  return { id: post.id, cid: post.cid, authorHandle: post.authorHandle };
}

/** Page size of the list: a page is fetched as the user scrolls near the end of what is loaded. */
export const PAGE_SIZE = 200;

/** Which part of the inbox: what still waits (default), what was dealt with, or everything. */
export type InboxStatus = "open" | "done" | "all";
/** `""`: every kind; `"conversations"`: what can be answered; else one kind. */
export type KindChoice = "" | "conversations" | InboxKind;

export type InboxView = {
  status: InboxStatus;
  unreadOnly: boolean;
  importantOnly: boolean;
  /** `""` for every network. */
  network: string;
  /** `""` for every account. */
  accountId: string;
  kind: KindChoice;
  /** `""` for any label. */
  label: string;
  /** The search box (debounced before it gets here). */
  query: string;
};

export function defaultView(): InboxView {
  return { status: "open", unreadOnly: false, importantOnly: false, network: "", accountId: "", kind: "", label: "", query: "" };
}

/** Whether anything narrows the list beyond the status (for "nothing matches" vs "all done"). */
export function isNarrowed(view: InboxView): boolean {
  return (
    view.unreadOnly ||
    view.importantOnly ||
    view.network !== "" ||
    view.accountId !== "" ||
    view.kind !== "" ||
    view.label !== "" ||
    view.query.trim() !== ""
  );
}

/** The core's filter for a view (one page, after `after`). */
export function toFilter(view: InboxView, workspaceId: string, after: string | null = null, limit = PAGE_SIZE): InboxFilter {
  const kinds: InboxKind[] = view.kind === "" ? [] : view.kind === "conversations" ? [...CONVERSATION_KINDS] : [view.kind];
  const query = view.query.trim();
  return {
    workspaceId,
    networks: view.network ? [view.network] : [],
    accountIds: view.accountId ? [view.accountId] : [],
    kinds,
    unread: view.unreadOnly ? true : null,
    done: view.status === "open" ? false : view.status === "done" ? true : null,
    important: view.importantOnly ? true : null,
    label: view.label || null,
    query: query || null,
    after,
    limit,
  };
}

/** Whether an item with this `done` still belongs in a list showing `status`. */
export function fitsStatus(status: InboxStatus, done: boolean): boolean {
  return status === "all" || (status === "done") === done;
}

/** Inbox item ids are the core's row ids: newer items have larger ones. */
export function newerThan(a: string, b: string): boolean {
  const x = Number(a);
  const y = Number(b);
  if (Number.isFinite(x) && Number.isFinite(y)) return x > y;
  return a > b;
}

/** `@bob@other.example` whether or not the network's handle starts with `@`. */
export function atAuthor(handle: string): string {
  const trimmed = handle.trim();
  return trimmed.startsWith("@") ? trimmed : `@${trimmed}`;
}

/** One or two letters for an avatar without a picture. */
export function initials(name: string, handle: string): string {
  const source = (name || handle).replace(/^@/, "").trim();
  const words = source.split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const letters = words.length > 1 ? [words[0], words[1]] : [words[0]];
  const out = letters.map((word) => Array.from(word ?? "")[0] ?? "").join("");
  return out.toUpperCase() || "?";
}

/** Only https pictures are shown (the core passes nothing else, this is a second fence). */
export function safeAvatar(url: string | null): string | null {
  return url && /^https:\/\//i.test(url) ? url : null;
}

/** A network as the core names it, for `NetworkMark` (unknown ones get a neutral mark). */
export function asNetwork(network: string): NetworkKind {
  return network as NetworkKind;
}

/**
 * How old an item is, short: "now", "5 min", "9:12 AM" (today), "Tue 9:12 AM" (this week),
 * "Mar 12" (this year), "Mar 12, 2025". Days are the workspace's (`zone`).
 */
export function formatAge(createdAt: string, now: Date, zone: string, locale: string): string {
  const at = new Date(createdAt);
  if (Number.isNaN(at.getTime())) return createdAt;
  const minutes = Math.floor((now.getTime() - at.getTime()) / 60_000);
  if (minutes < 1) return t("inbox.time.now");
  if (minutes < 60) return t("inbox.time.minutes", { count: minutes });
  const then = splitWallClock(wallClockAt(zone, at));
  const today = splitWallClock(wallClockAt(zone, now));
  if (!then || !today) return createdAt;
  if (then.day === today.day) return formatTime(then.time, locale);
  const days = Math.round((Date.parse(`${today.day}T00:00:00Z`) - Date.parse(`${then.day}T00:00:00Z`)) / 86_400_000);
  if (days > 0 && days < 7) return `${weekdayName(weekday(then.day), locale)} ${formatTime(then.time, locale)}`;
  const sameYear = then.day.slice(0, 4) === today.day.slice(0, 4);
  try {
    return dateTimeFormat(locale, {
      month: "short",
      day: "numeric",
      year: sameYear ? undefined : "numeric",
      timeZone: zone,
    }).format(at);
  } catch {
    return then.day;
  }
}

/** The full date and time in the workspace's zone (tooltips, the conversation). */
export function formatFull(createdAt: string, zone: string, locale: string): string {
  const at = new Date(createdAt);
  if (Number.isNaN(at.getTime())) return createdAt;
  try {
    return dateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short", timeZone: zone }).format(at);
  } catch {
    return at.toISOString();
  }
}

/** The fields of the rule form the core names in its refusals ("textMatches: ..."). */
export type RuleField = "name" | "textMatches" | "actions" | "other";

/** Splits the core's "field: reason" into the form field to show it at, and the reason. */
export function ruleError(message: string): { field: RuleField; reason: string } {
  const match = /^(\w+):\s*(.*)$/s.exec(message.trim());
  if (match) {
    const [, field, reason] = match;
    if (field === "name" || field === "textMatches" || field === "actions") return { field, reason: reason ?? "" };
  }
  return { field: "other", reason: message };
}

/** Every label among the items and `extra` (rules', the summary's), sorted. */
export function labelsOf(items: readonly InboxItem[], extra: readonly string[] = []): string[] {
  const seen = new Set<string>(extra.filter(Boolean));
  for (const item of items) for (const label of item.labels) seen.add(label);
  return [...seen].sort((a, b) => a.localeCompare(b));
}

/** The summary's counts by label (for the label filter). */
export function labelCounts(labels: readonly LabelCount[]): Map<string, number> {
  return new Map(labels.map((entry) => [entry.label, entry.count]));
}
