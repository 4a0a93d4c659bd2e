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
