import { afterEach, describe, expect, it } from "vitest";
import { entries, getLocale, matchLocale, resolveLocale, setLocale, t, type Messages } from "$lib/i18n";
import de from "./de";
import en from "./en";

afterEach(() => setLocale("en"));

describe("t", () => {
  it("interpolates {name} parameters", () => {
    expect(t("workspace.nameTaken", { name: "Acme" })).toBe(
      "A workspace named “Acme” already exists. Choose a different name.",
    );
    setLocale("de");
    expect(t("workspace.nameTaken", { name: "Acme" })).toBe(
      "Es gibt bereits einen Arbeitsbereich namens „Acme“. Wähle einen anderen Namen.",
    );
  });

  it("leaves unknown placeholders alone and formats numbers for the locale", () => {
    expect(t("workspace.nameTooLong", {})).toBe("The name can be at most {max} characters long.");
    setLocale("de");
    expect(t("switcher.count", { count: 1200 })).toBe("1.200 Arbeitsbereiche");
  });

  it("picks plural forms with Intl.PluralRules", () => {
    expect(t("switcher.count", { count: 1 })).toBe("1 workspace");
    expect(t("switcher.count", { count: 0 })).toBe("0 workspaces");
    expect(t("switcher.count", { count: 2 })).toBe("2 workspaces");
    setLocale("de");
    expect(t("switcher.count", { count: 1 })).toBe("1 Arbeitsbereich");
    expect(t("switcher.count", { count: 5 })).toBe("5 Arbeitsbereiche");
  });

  it("switches language at run time and sets <html lang>", () => {
    expect(t("nav.compose")).toBe("Compose");
    setLocale("de");
    expect(getLocale()).toBe("de");
    expect(document.documentElement.lang).toBe("de");
    expect(t("nav.compose")).toBe("Verfassen");
    expect(t("nav.inbox")).toBe("Posteingang");
    expect(t("nav.settings")).toBe("Einstellungen");
  });
});

describe("locale resolution", () => {
  it("maps POSIX and BCP 47 tags to supported locales", () => {
    expect(matchLocale("de_AT.UTF-8")).toBe("de");
    expect(matchLocale("de-DE")).toBe("de");
    expect(matchLocale("de_CH@euro")).toBe("de");
    expect(matchLocale("en_GB.UTF-8")).toBe("en");
    expect(matchLocale("fr-FR")).toBeNull();
    expect(matchLocale("C")).toBeNull();
    expect(matchLocale(null)).toBeNull();
  });

  it("follows the system locale for `system`", () => {
    expect(resolveLocale("system", "de_AT.UTF-8", "en-US")).toBe("de");
    expect(resolveLocale("system", "de-DE", "en-US")).toBe("de");
  });

  it("falls back to English for unsupported languages", () => {
    expect(resolveLocale("system", "fr-FR", "fr-FR")).toBe("en");
    expect(resolveLocale("system", "fr-FR", "en-US")).toBe("en");
  });

  it("uses navigator.language when the core does not know the system locale", () => {
    expect(resolveLocale("system", null, "de-CH")).toBe("de");
    expect(resolveLocale("system", "C.UTF-8", "de-CH")).toBe("de");
    expect(resolveLocale("system", null, undefined)).toBe("en");
  });

  it("uses an explicit choice as is", () => {
    expect(resolveLocale("de", "en-US", "en-US")).toBe("de");
    expect(resolveLocale("en", "de-DE", "de-DE")).toBe("en");
  });
});

describe("dictionaries", () => {
  it("German has exactly the English keys", () => {
    const enKeys = entries("en").map(([key]) => key).sort();
    const deKeys = entries("de").map(([key]) => key).sort();
    expect(deKeys).toEqual(enKeys);
  });

  it("every German message is non-empty", () => {
    for (const [key, value] of entries("de")) {
      expect(value.trim(), key).not.toBe("");
    }
  });

  it("German keeps every placeholder of the English text", () => {
    const english = new Map(entries("en"));
    const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    for (const [key, value] of entries("de")) {
      expect(placeholders(value), key).toEqual(placeholders(english.get(key) ?? ""));
    }
  });

  it("a missing or an extra key does not type-check", () => {
    // These lines are checked by `npm run check` (svelte-check runs tsc over test files):
    // if `Messages` stopped catching the mistake, the @ts-expect-error would be unused and fail.
    const { nav, ...withoutNav } = de;
    // @ts-expect-error: `nav` is missing
    const missing: Messages = withoutNav;
    // @ts-expect-error: `extra` is not an English key
    const extra: Messages = { ...de, extra: "Zusatz" };
    // @ts-expect-error: `nav.extra` is not an English key
    const nestedExtra: Messages = { ...de, nav: { ...nav, extra: "Zusatz" } };
    expect([missing, extra, nestedExtra, en]).toHaveLength(4);
  });
});
