import en, { type Messages } from "./en";
import de from "./de";
import { DEFAULT_LOCALE, type Locale } from "./resolve";

type PluralSuffix = `_${Intl.LDMLPluralRule}`;

/** Dotted paths of every string in the dictionary, e.g. `nav.compose`. */
type Leaves<T, Prefix extends string = ""> = {
  [K in keyof T & string]: T[K] extends string ? `${Prefix}${K}` : Leaves<T[K], `${Prefix}${K}.`>;
}[keyof T & string];

type LeafKey = Leaves<Messages>;
/** `switcher.count` for `switcher.count_one` / `switcher.count_other`. */
type PluralKey = LeafKey extends infer K ? (K extends `${infer Base}${PluralSuffix}` ? Base : never) : never;

export type MessageKey = LeafKey | PluralKey;
export type MessageParams = Record<string, string | number>;

function flatten(tree: object, prefix = "", into = new Map<string, string>()): Map<string, string> {
  for (const [key, value] of Object.entries(tree)) {
    if (typeof value === "string") into.set(prefix + key, value);
    else if (value && typeof value === "object") flatten(value, `${prefix}${key}.`, into);
  }
  return into;
}

const dictionaries: Record<Locale, Messages> = { en, de };
const flat = Object.fromEntries(
  Object.entries(dictionaries).map(([locale, messages]) => [locale, flatten(messages)]),
) as Record<Locale, Map<string, string>>;

/** Every message of a locale as `[dotted key, text]` pairs (used by tests). */
export function entries(locale: Locale): [string, string][] {
  return [...flat[locale].entries()];
}

const state = $state<{ locale: Locale }>({ locale: DEFAULT_LOCALE });

/** The current UI locale. Reading it inside a component makes that component re-render on change. */
export function getLocale(): Locale {
  return state.locale;
}

export function setLocale(locale: Locale): void {
  state.locale = locale;
  if (typeof document !== "undefined") document.documentElement.lang = locale;
}

const pluralRules = new Map<Locale, Intl.PluralRules>();
function pluralCategory(locale: Locale, count: number): Intl.LDMLPluralRule {
  let rules = pluralRules.get(locale);
  if (!rules) {
    rules = new Intl.PluralRules(locale);
    pluralRules.set(locale, rules);
  }
  return rules.select(count);
}

const numberFormats = new Map<Locale, Intl.NumberFormat>();
function formatNumber(locale: Locale, value: number): string {
  let format = numberFormats.get(locale);
  if (!format) {
    format = new Intl.NumberFormat(locale);
    numberFormats.set(locale, format);
  }
  return format.format(value);
}

function lookup(locale: Locale, key: string, count: number | undefined): string | undefined {
  const messages = flat[locale];
  if (typeof count === "number") {
    const plural = messages.get(`${key}_${pluralCategory(locale, count)}`) ?? messages.get(`${key}_other`);
    if (plural !== undefined) return plural;
  }
  return messages.get(key);
}

/**
 * Translates `key` into the current locale.
 * `{name}` placeholders are replaced from `params` (numbers are formatted for the locale);
 * a numeric `count` param picks the plural form `key_one`, `key_other`, ….
 */
export function t(key: MessageKey, params?: MessageParams): string {
  const locale = state.locale;
  const count = typeof params?.count === "number" ? params.count : undefined;
  const template = lookup(locale, key, count) ?? lookup(DEFAULT_LOCALE, key, count) ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (match, name: string) => {
    const value = params[name];
    if (value === undefined) return match;
    return typeof value === "number" ? formatNumber(locale, value) : value;
  });
}
