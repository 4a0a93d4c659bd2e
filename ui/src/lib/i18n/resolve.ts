import type { Language } from "$lib/bindings";

export const LOCALES = ["en", "de"] as const;
export type Locale = (typeof LOCALES)[number];
export const DEFAULT_LOCALE: Locale = "en";

function isLocale(value: string): value is Locale {
  return (LOCALES as readonly string[]).includes(value);
}

/**
 * Maps a BCP 47 tag or a POSIX locale name to a supported locale, or `null`.
 * `de-DE`, `de_AT.UTF-8`, `de_CH@euro` -> `de`; `fr-FR`, `C`, `POSIX` -> `null`.
 */
export function matchLocale(tag: string | null | undefined): Locale | null {
  if (!tag) return null;
  const withoutEncoding = tag.trim().split(/[.@]/)[0] ?? "";
  const language = withoutEncoding.split(/[-_]/)[0]?.toLowerCase() ?? "";
  return isLocale(language) ? language : null;
}

/** A usable language tag from the system, ignoring the non-language `C` / `POSIX` locales. */
function meaningful(tag: string | null | undefined): string | null {
  if (!tag) return null;
  const base = tag.trim().split(/[.@]/)[0] ?? "";
  if (!base || base === "C" || base === "POSIX") return null;
  return tag;
}

/**
 * The locale to show for a language setting.
 * `system` looks at the OS locale reported by the core, then at the webview's
 * `navigator.language`; anything unsupported falls back to English.
 */
export function resolveLocale(
  setting: Language,
  systemLocale: string | null | undefined,
  navigatorLanguage: string | null | undefined = typeof navigator === "undefined" ? null : navigator.language,
): Locale {
  if (setting !== "system") return setting;
  const candidate = meaningful(systemLocale) ?? meaningful(navigatorLanguage);
  return matchLocale(candidate) ?? DEFAULT_LOCALE;
}
