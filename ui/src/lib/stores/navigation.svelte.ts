export const SCREENS = [
  "compose",
  "calendar",
  "inbox",
  "listening",
  "contacts",
  "analytics",
  "accounts",
  "settings",
] as const;

export type Screen = (typeof SCREENS)[number];

/** State-based routing: the screen shown in the main area. */
export const navigation = $state<{ screen: Screen }>({ screen: "compose" });

export function navigate(screen: Screen): void {
  navigation.screen = screen;
}
