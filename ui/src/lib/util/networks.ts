import type { Capabilities, NetworkKind } from "$lib/api";
import type { MessageKey } from "$lib/i18n";

/**
 * The names people know the networks by (the core's `NetworkKind::display_name`), for places
 * that show an account without the catalog at hand. Brand names are not translated.
 */
export const NETWORK_NAMES: Record<NetworkKind, string> = {
  mastodon: "Mastodon",
  bluesky: "Bluesky",
  x: "X",
  linkedin: "LinkedIn",
  facebook_pages: "Facebook Pages",
  instagram: "Instagram",
  threads: "Threads",
  youtube: "YouTube",
  pinterest: "Pinterest",
  tiktok: "TikTok",
  google_business: "Google Business Profile",
  telegram: "Telegram",
  reddit: "Reddit",
  flickr: "Flickr",
  xing: "XING",
};

/** One solid brand colour per network (calendar chips); the name is always shown next to it. */
export const NETWORK_COLORS: Record<NetworkKind, string> = {
  mastodon: "#6364ff",
  bluesky: "#1185fe",
  x: "#14171a",
  linkedin: "#0a66c2",
  facebook_pages: "#1877f2",
  instagram: "#dd2a7b",
  threads: "#101010",
  youtube: "#e62117",
  pinterest: "#e60023",
  tiktok: "#111111",
  google_business: "#4285f4",
  telegram: "#229ed9",
  reddit: "#ff4500",
  flickr: "#0063dc",
  xing: "#026466",
};

export function networkColor(kind: NetworkKind): string {
  return NETWORK_COLORS[kind] ?? "#6b7280";
}

export function networkName(kind: NetworkKind): string {
  return NETWORK_NAMES[kind] ?? kind;
}

/** What a network can do, as message keys, in the order the picker lists them. */
const CAPABILITY_ORDER = [
  "publishText",
  "publishImages",
  "publishVideo",
  "threads",
  "nativeScheduling",
  "inbox",
  "directMessages",
  "reminderOnly",
] as const satisfies readonly (keyof Capabilities)[];

export type ShownCapability = (typeof CAPABILITY_ORDER)[number];

export function capabilityList(capabilities: Capabilities): ShownCapability[] {
  return CAPABILITY_ORDER.filter((key) => capabilities[key]);
}

export function capabilityLabel(key: ShownCapability): MessageKey {
  return `accounts.capabilities.${key}`;
}

/** `@ada.bsky.social` for display, whether or not the core's handle starts with `@`. */
export function atHandle(handle: string): string {
  const trimmed = handle.trim();
  return trimmed.startsWith("@") ? trimmed : `@${trimmed}`;
}

/** `ada.bsky.social`: the handle without its leading `@` (for the Bluesky identifier field). */
export function bareHandle(handle: string): string {
  return handle.trim().replace(/^@+/, "");
}
