export { t, getLocale, setLocale, entries, type MessageKey, type MessageParams } from "./translate.svelte";
export { resolveLocale, matchLocale, LOCALES, DEFAULT_LOCALE, type Locale } from "./resolve";
export type { Messages } from "./en";
