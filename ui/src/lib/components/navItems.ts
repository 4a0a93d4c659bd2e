import type { Component } from "svelte";
import type { LucideProps } from "@lucide/svelte";
import AtSign from "@lucide/svelte/icons/at-sign";
import CalendarDays from "@lucide/svelte/icons/calendar-days";
import ChartColumn from "@lucide/svelte/icons/chart-column";
import Inbox from "@lucide/svelte/icons/inbox";
import Radar from "@lucide/svelte/icons/radar";
import Settings from "@lucide/svelte/icons/settings";
import SquarePen from "@lucide/svelte/icons/square-pen";
import Users from "@lucide/svelte/icons/users";
import type { MessageKey } from "$lib/i18n";
import type { Screen } from "$lib/stores/navigation.svelte";

/** A number shown beside an entry: `inboxUnread` is the current workspace's unread items. */
export type NavBadge = "inboxUnread";

export type NavItem = { screen: Screen; label: MessageKey; icon: Component<LucideProps>; badge?: NavBadge };

export const MAIN_NAV: readonly NavItem[] = [
  { screen: "compose", label: "nav.compose", icon: SquarePen },
  { screen: "calendar", label: "nav.calendar", icon: CalendarDays },
  { screen: "inbox", label: "nav.inbox", icon: Inbox, badge: "inboxUnread" },
  { screen: "listening", label: "nav.listening", icon: Radar },
  { screen: "contacts", label: "nav.contacts", icon: Users },
  { screen: "analytics", label: "nav.analytics", icon: ChartColumn },
  { screen: "accounts", label: "nav.accounts", icon: AtSign },
];

export const SETTINGS_NAV: NavItem = { screen: "settings", label: "nav.settings", icon: Settings };

/** What a badge shows: the count up to 99, then "99+". */
export function badgeText(count: number): string {
  return count > 99 ? "99+" : String(count);
}

export const ALL_NAV: readonly NavItem[] = [...MAIN_NAV, SETTINGS_NAV];
