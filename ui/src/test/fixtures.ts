import type { Account, AppInfo, Capabilities, InboxItem, NetworkInfo, QueueItem, ThreadPost, Workspace } from "$lib/api";
import { setLocale } from "$lib/i18n";
import { settings } from "$lib/stores/settings.svelte";
import { workspaces } from "$lib/stores/workspaces.svelte";
import { navigate } from "$lib/stores/navigation.svelte";
import { toasts } from "$lib/stores/toasts.svelte";
import { calendarView, returnedPost } from "$lib/stores/calendar.svelte";
import { resetInboxView } from "$lib/stores/inbox.svelte";

export const appInfo: AppInfo = {
  version: "0.1.0",
  dataDir: "/home/test/.local/share/postwerk",
  logDir: "/home/test/.local/share/postwerk/logs",
  systemLocale: "en-US",
  systemTimeZone: "Europe/Berlin",
};

export const zones = ["America/New_York", "Asia/Kolkata", "Europe/Berlin", "Europe/Vienna", "UTC"];

export function workspace(overrides: Partial<Workspace> = {}): Workspace {
  return {
    id: "ws-1",
    name: "Acme",
    timeZone: "Europe/Berlin",
    color: "#4f46e5",
    createdAt: "2026-01-01T00:00:00Z",
    ...overrides,
  };
}

/** Puts the shared stores back into a known state between tests. */
export function resetStores(list: Workspace[] = []): void {
  calendarView.view = "month";
  calendarView.anchor = null;
  returnedPost.value = null;
  resetInboxView();
  settings.appInfo = appInfo;
  settings.timeZones = [...zones];
  settings.language = "system";
  setLocale("en");
  workspaces.list = list;
  workspaces.currentId = list[0]?.id ?? null;
  navigate("compose");
  toasts.items = [];
}

const NO_CAPABILITIES: Capabilities = {
  publishText: false,
  publishImages: false,
  publishVideo: false,
  threads: false,
  nativeScheduling: false,
  inbox: false,
  directMessages: false,
  search: false,
  metrics: false,
  reminderOnly: false,
};

export function capabilities(overrides: Partial<Capabilities> = {}): Capabilities {
  return { ...NO_CAPABILITIES, ...overrides };
}

/** A small network catalog: the two connectable networks first, then two for later. */
export function catalog(): NetworkInfo[] {
  return [
    {
      kind: "mastodon",
      displayName: "Mastodon",
      capabilities: capabilities({ publishText: true, publishImages: true, publishVideo: true, threads: true, nativeScheduling: true, inbox: true, directMessages: true, metrics: true }),
      connect: "instance_oauth",
      available: true,
    },
    {
      kind: "bluesky",
      displayName: "Bluesky",
      capabilities: capabilities({ publishText: true, publishImages: true, publishVideo: true, threads: true, inbox: true, directMessages: true, metrics: true }),
      connect: "app_password",
      available: true,
    },
    {
      kind: "linkedin",
      displayName: "LinkedIn",
      capabilities: capabilities({ publishText: true, publishImages: true, publishVideo: true, metrics: true }),
      connect: "developer_app",
      available: false,
    },
    {
      kind: "xing",
      displayName: "XING",
      capabilities: capabilities({ reminderOnly: true }),
      connect: "reminder",
      available: false,
    },
  ];
}

export function account(overrides: Partial<Account> = {}): Account {
  return {
    id: "acc-1",
    workspaceId: "ws-1",
    network: "bluesky",
    server: "https://bsky.social",
    remoteId: "did:plc:ada",
    handle: "@ada.bsky.social",
    displayName: "Ada Lovelace",
    profileUrl: "https://bsky.app/profile/ada.bsky.social",
    avatar: null,
    health: "ok",
    healthDetail: null,
    tokenExpiresAt: null,
    connectedAt: "2026-01-02T10:00:00Z",
    capabilities: capabilities({ publishText: true, publishImages: true }),
    ...overrides,
  };
}

/** One scheduled post on one account (a calendar item). */
export function queueItem(overrides: Partial<QueueItem> = {}): QueueItem {
  return {
    targetId: "t-1",
    postId: "post-1",
    accountId: "acc-1",
    workspaceId: "ws-1",
    network: "bluesky",
    handle: "ada.bsky.social",
    state: "scheduled",
    scheduledAt: "2026-12-09T08:00:00.000Z",
    scheduledLocal: "2026-12-09 09:00",
    scheduledZone: "Europe/Berlin",
    url: null,
    error: null,
    text: "Frische Brötchen ab 6 Uhr",
    localTime: "2026-12-09 09:00",
    heldBy: "postwerk",
    handOff: false,
    nextAttemptAt: null,
    queued: false,
    repeatDays: null,
    evergreenGapDays: null,
    ...overrides,
  };
}

/** A DataTransfer stand-in for drag events (jsdom has none). */
export function dataTransfer() {
  const data = new Map<string, string>();
  return {
    dropEffect: "none",
    effectAllowed: "all",
    get types() {
      return [...data.keys()];
    },
    setData: (type: string, value: string) => void data.set(type, value),
    getData: (type: string) => data.get(type) ?? "",
    clearData: () => data.clear(),
  };
}

/** One inbox item (a Mastodon mention, unread, five minutes old unless told otherwise). */
export function inboxItem(overrides: Partial<InboxItem> = {}): InboxItem {
  return {
    id: "100",
    accountId: "acc-2",
    network: "mastodon",
    kind: "mention",
    subjectUrl: "https://other.example/@bob/110",
    conversationId: null,
    authorHandle: "bob@other.example",
    authorName: "Bob Baker",
    authorAvatar: null,
    text: "@ada Habt ihr am Sonntag offen?",
    html: "<p>@ada Habt ihr am Sonntag offen?</p>",
    createdAt: new Date(Date.now() - 5 * 60_000).toISOString(),
    read: false,
    done: false,
    important: false,
    labels: [],
    ...overrides,
  };
}

/** One post of a conversation. */
export function threadPost(overrides: Partial<ThreadPost> = {}): ThreadPost {
  return {
    id: "s-1",
    authorHandle: "bob@other.example",
    authorName: "Bob Baker",
    text: "Hello",
    html: null,
    createdAt: new Date(Date.now() - 10 * 60_000).toISOString(),
    url: null,
    isSubject: false,
    depth: 0,
    cid: null,
    liked: false,
    reposted: false,
    ...overrides,
  };
}
